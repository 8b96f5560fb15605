/**
 * Sample-quality scores in a classifier's feature space: the Fréchet distance between Gaussian fits of two feature
 * sets (FID-style) and the inception-style score of class probabilities, with the symmetric eigendecomposition
 * (cyclic Jacobi) they need.
 * @module
 */
import { Tensor, ShapeError, matmul, noGrad } from '../tensor/index.js';
import { InvalidArgumentError, NonFiniteError } from '../errors.js';

/** Eigenvalues (ascending) and orthonormal eigenvectors (columns of the row-major `d×d` `vectors`) of a symmetric matrix. */
export interface SymmetricEigen {
  readonly values: Float64Array;
  /** Row-major `d×d`; column `j` is the unit eigenvector of `values[j]`. */
  readonly vectors: Float64Array;
}

/**
 * Eigendecomposition `A = V diag(λ) Vᵀ` of a symmetric matrix `A` (row-major `d×d`, float64) by cyclic Jacobi
 * rotations (each rotation zeroes one off-diagonal pair; sweeps until the off-diagonal mass is below
 * `1e-14·‖A‖_F` or `maxSweeps`). Only the upper triangle is read (`A` is symmetrised as `(A + Aᵀ)/2`). `O(d³)` per
 * sweep, typically 6–10 sweeps; meant for `d ≤ a few hundred`.
 * @example const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2); // values [1, 3]
 */
export function symmetricEigen(a: ArrayLike<number>, d: number, maxSweeps = 60): SymmetricEigen {
  if (!Number.isInteger(d) || d < 1) throw new InvalidArgumentError(`symmetricEigen: d must be an integer ≥ 1, got ${d}`);
  if (a.length !== d * d) throw new ShapeError(`symmetricEigen: a has ${a.length} values, expected d·d = ${d * d}`);
  const m = new Float64Array(d * d);
  let fro = 0;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = i === j ? a[i * d + i] : 0.5 * (a[i * d + j] + a[j * d + i]);
      if (!Number.isFinite(v)) throw new NonFiniteError(`symmetricEigen: a has a non-finite value at (${i}, ${j})`);
      m[i * d + j] = v;
      m[j * d + i] = v;
      fro += (i === j ? 1 : 2) * v * v;
    }
  }
  const vec = new Float64Array(d * d);
  for (let i = 0; i < d; i++) vec[i * d + i] = 1;
  const tol = 1e-14 * Math.sqrt(fro);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) off += m[i * d + j] * m[i * d + j];
    if (Math.sqrt(2 * off) <= tol) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (apq === 0) continue;
        const app = m[p * d + p], aqq = m[q * d + q];
        // Rotation angle θ with tan 2θ = 2a_pq / (a_qq − a_pp); t = tan θ, the smaller root (stable form).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < d; k++) {
          const mkp = m[k * d + p], mkq = m[k * d + q];
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const mpk = m[p * d + k], mqk = m[q * d + k];
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        m[p * d + q] = 0;
        m[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          const vkp = vec[k * d + p], vkq = vec[k * d + q];
          vec[k * d + p] = c * vkp - s * vkq;
          vec[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => m[i * d + i] - m[j * d + j]);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((src, j) => {
    values[j] = m[src * d + src];
    for (let k = 0; k < d; k++) vectors[k * d + j] = vec[k * d + src];
  });
  return { values, vectors };
}

/** Mean `[d]` and covariance `[d×d]` (row-major, divisor `n − 1`) of a Gaussian fit to rows, float64. */
export interface GaussianStats {
  readonly mean: Float64Array;
  readonly cov: Float64Array;
  readonly d: number;
}

function checkRows(name: string, x: Tensor, fn: string): void {
  if (!(x instanceof Tensor) || x.ndim !== 2) throw new ShapeError(`${fn}: ${name} must be a tensor [n, d], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  if (x.shape[0] < 2) throw new InvalidArgumentError(`${fn}: ${name} needs at least 2 rows, got ${x.shape[0]}`);
  const d = x.shape[1];
  for (let i = 0; i < x.size; i++) if (!Number.isFinite(x.data[i])) throw new NonFiniteError(`${fn}: ${name} has a non-finite value at row ${Math.floor(i / d)}, column ${i % d}`);
}

/**
 * Sample mean and unbiased covariance `Σ = 1/(n−1) Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ` of the rows of `x [n, d]` (float64,
 * two passes: the mean, then one GEMM of the centred rows).
 * @example const { mean, cov } = gaussianStats(features);
 */
export function gaussianStats(x: Tensor): GaussianStats {
  checkRows('x', x, 'gaussianStats');
  const [n, d] = x.shape;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x.data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  // Σ = X̃ᵀX̃/(n − 1) with X̃ the centred rows: one float64 GEMM (the backend's); its upper triangle is mirrored so
  // that Σ is exactly symmetric whatever the GEMM's summation order.
  const xc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xc[i * d + j] = x.data[i * d + j] - mean[j];
  const Xc = new Tensor(xc, [n, d]);
  const cov = Float64Array.from(noGrad(() => matmul(Xc, Xc, { transA: true })).data, (v) => v / (n - 1));
  for (let j = 0; j < d; j++) for (let k = j + 1; k < d; k++) cov[k * d + j] = cov[j * d + k];
  return { mean, cov, d };
}

/**
 * Fréchet (2-Wasserstein²) distance between the Gaussians `N(μa, Σa)` and `N(μb, Σb)`:
 * `‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa^{1/2} Σb Σa^{1/2})^{1/2})`. The matrix square roots come from symmetric
 * eigendecompositions ({@link symmetricEigen}); eigenvalues below zero (round-off of a PSD matrix) are clipped to 0.
 * The result is clipped at 0 from below.
 * @example gaussianFrechetDistance(statsA, statsB) // 0 when the two fits are equal
 */
export function gaussianFrechetDistance(a: GaussianStats, b: GaussianStats): number {
  const d = a.d;
  if (b.d !== d || a.mean.length !== d || b.mean.length !== d || a.cov.length !== d * d || b.cov.length !== d * d) {
    throw new ShapeError(`gaussianFrechetDistance: dimensions differ (${a.d} and ${b.d}) or stats are malformed`);
  }
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (a.mean[j] - b.mean[j]) ** 2;
  let tr = 0;
  for (let j = 0; j < d; j++) tr += a.cov[j * d + j] + b.cov[j * d + j];
  // S = Σa^{1/2} = V diag(√λ) Vᵀ.
  const ea = symmetricEigen(a.cov, d);
  const s = new Float64Array(d * d);
  const sq = Float64Array.from(ea.values, (v) => Math.sqrt(Math.max(v, 0)));
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += ea.vectors[i * d + k] * sq[k] * ea.vectors[j * d + k];
      s[i * d + j] = v;
      s[j * d + i] = v;
    }
  }
  // M = S Σb S (symmetric PSD); Tr M^{1/2} = Σ √λ(M).
  const t = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const sik = s[i * d + k];
      if (sik === 0) continue;
      for (let j = 0; j < d; j++) t[i * d + j] += sik * b.cov[k * d + j];
    }
  }
  const mm = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const tik = t[i * d + k];
      if (tik === 0) continue;
      for (let j = 0; j < d; j++) mm[i * d + j] += tik * s[k * d + j];
    }
  }
  const em = symmetricEigen(mm, d);
  let trSqrt = 0;
  for (const v of em.values) trSqrt += Math.sqrt(Math.max(v, 0));
  return Math.max(0, meanTerm + tr - 2 * trSqrt);
}

/**
 * Fréchet distance between Gaussian fits (mean, unbiased covariance) of two feature sets `a [n, d]` and `b [m, d]`
 * — the FID recipe when the features are a classifier's penultimate activations:
 * `FD = ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa^{1/2} Σb Σa^{1/2})^{1/2})`. Symmetric in `a` and `b`; biased upwards for
 * small `n` (compare sets of equal size). Float64 throughout.
 * @example frechetDistance(featuresOf(samples), featuresOf(testImages)) // 0 for identical sets
 */
export function frechetDistance(a: Tensor, b: Tensor): number {
  checkRows('a', a, 'frechetDistance');
  checkRows('b', b, 'frechetDistance');
  if (a.shape[1] !== b.shape[1]) throw new ShapeError(`frechetDistance: a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] have different feature dimensions`);
  return gaussianFrechetDistance(gaussianStats(a), gaussianStats(b));
}

/**
 * Inception-style score of class probabilities `probs [n, K]` (rows ≥ 0 summing to 1 within 1e-3):
 * `IS = exp(1/n Σᵢ KL(p(y|xᵢ) ‖ p(y)))` with the marginal `p(y) = 1/n Σᵢ p(y|xᵢ)` (one split; `0 log 0 = 0`).
 * It lies in `[1, K]`: 1 when every row is the same, `K` when the rows are one-hot and the classes balanced.
 * @example inceptionScore(classifierProbs) // ≈ 9.9 for the MNIST test set and a good classifier
 */
export function inceptionScore(probs: Tensor): number {
  if (!(probs instanceof Tensor) || probs.ndim !== 2) throw new ShapeError(`inceptionScore: probs must be a tensor [n, K], got ${probs instanceof Tensor ? `[${probs.shape.join(', ')}]` : typeof probs}`);
  const [n, K] = probs.shape;
  if (n < 1 || K < 1) throw new InvalidArgumentError(`inceptionScore: probs [${n}, ${K}] is empty`);
  const marg = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const p = probs.data[i * K + k];
      if (!(p >= 0) || !Number.isFinite(p)) throw new InvalidArgumentError(`inceptionScore: probs[${i}, ${k}] = ${p} is not a probability`);
      s += p;
      marg[k] += p;
    }
    if (Math.abs(s - 1) > 1e-3) throw new InvalidArgumentError(`inceptionScore: row ${i} sums to ${s}, not 1`);
  }
  for (let k = 0; k < K; k++) marg[k] /= n;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      const p = probs.data[i * K + k];
      if (p > 0) kl += p * (Math.log(p) - Math.log(marg[k]));
    }
  }
  return Math.exp(Math.max(0, kl / n));
}
