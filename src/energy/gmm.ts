/**
 * Gaussian mixture energy with exact log Z, analytic score, direct sampler and Gaussian smoothing (for annealed
 * Langevin); the one Gaussian-mixture implementation (the 2-D toy data sets of src/data/toy.ts are built on it).
 */
import { Tensor, matmul, mul, sub, sum, neg, add, stack, logsumexp, softmax, sliceAxis, addN } from '../tensor/index.js';
import { normalArray, randintArray, split, uniformArray, type Key } from '../random/index.js';
import type { AnalyticEnergy } from './types.js';
import { checkBatch } from './types.js';
import { Const, fromRows } from './_internal/consts.js';
import { cholesky, inverseFromCholesky, logDetFromCholesky } from './_internal/linalg.js';
import { asRecord, matrixOf, numberField, vectorOf, EnergyParamsError } from './_internal/validate.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Parameters of {@link gaussianMixture} (JSON): `means` is `K` vectors of length `d`; give either `covs` (`K`
 * symmetric positive-definite `d×d` matrices) or `std` (one number: isotropic components `std²·I`; default 1);
 * `weights` (`K` positive numbers, normalised to sum 1; default uniform).
 */
export interface GaussianMixtureParams {
  readonly means: readonly (readonly number[])[];
  readonly covs?: readonly (readonly (readonly number[])[])[];
  readonly std?: number;
  readonly weights?: readonly number[];
}

/** A Gaussian mixture energy; exposes its components and its Gaussian-smoothed versions. */
export interface GaussianMixtureEnergy extends AnalyticEnergy {
  /** Normalised weights, length `K`. */
  readonly weights: Float64Array;
  /** Component means, `K` arrays of length `d`. */
  readonly means: readonly Float64Array[];
  /** Component covariances, `K` row-major `d×d` arrays. */
  readonly covs: readonly Float64Array[];
  /**
   * The density of `x + σ·ε`, `ε ~ N(0, I)`: the same mixture with covariances `Σₖ + σ²I`. Its score is the exact
   * noise-conditional score used by annealed Langevin (NCSN).
   */
  smoothed(sigma: number): GaussianMixtureEnergy;
}

/**
 * Mixture `p(x) = Σₖ wₖ N(x; μₖ, Σₖ)` as an energy. To keep `log Z` informative the energy drops the Gaussian
 * constant: `E(x) = −log Σₖ wₖ |Σₖ|^{−½} exp(−½ (x − μₖ)ᵀ Σₖ⁻¹ (x − μₖ))`, so `log Z = (d/2) log 2π` exactly.
 * Score: `Σₖ rₖ(x) · (−Σₖ⁻¹(x − μₖ))` with responsibilities `rₖ = softmax(log wₖ − ½ log|Σₖ| − ½ qₖ(x))`.
 * Shapes: `x [n, d]` → `[n]`.
 * @example gaussianMixture({ means: [[-5], [5]], std: 1, weights: [0.2, 0.8] })
 */
export function gaussianMixture(params: GaussianMixtureParams): GaussianMixtureEnergy {
  const rec = asRecord(params, 'gmm', ['means', 'covs', 'std', 'weights']);
  if (!Array.isArray(rec.means) || rec.means.length === 0) {
    throw new EnergyParamsError(`gmm: "means" must be a non-empty array of vectors, got ${JSON.stringify(rec.means)}`);
  }
  const means = rec.means.map((m, k) => vectorOf(m, `"means"[${k}]`, 'gmm', k === 0 ? undefined : (rec.means as unknown[][])[0].length));
  const d = means[0].length;
  const K = means.length;
  if (rec.covs !== undefined && rec.std !== undefined) throw new EnergyParamsError('gmm: give either "covs" or "std", not both');
  let covs: Float64Array[];
  let chols: Float64Array[] | undefined;
  if (rec.covs !== undefined) {
    if (!Array.isArray(rec.covs) || rec.covs.length !== K) {
      throw new EnergyParamsError(`gmm: "covs" must hold ${K} matrices (one per mean), got ${Array.isArray(rec.covs) ? rec.covs.length : JSON.stringify(rec.covs)}`);
    }
    covs = rec.covs.map((c, k) => matrixOf(c, `"covs"[${k}]`, 'gmm', d));
  } else {
    const s = numberField(rec, 'std', 'gmm', { default: 1, positive: true });
    covs = means.map(() => {
      const c = new Float64Array(d * d);
      for (let i = 0; i < d; i++) c[i * d + i] = s * s;
      return c;
    });
    // The Cholesky factor of s²I is sI exactly (a factorisation could round √(s²) away from s).
    chols = means.map(() => {
      const l = new Float64Array(d * d);
      for (let i = 0; i < d; i++) l[i * d + i] = s;
      return l;
    });
  }
  let w: Float64Array;
  if (rec.weights === undefined) w = new Float64Array(K).fill(1 / K);
  else {
    w = vectorOf(rec.weights, '"weights"', 'gmm', K);
    let tot = 0;
    for (let k = 0; k < K; k++) {
      if (!(w[k] > 0)) throw new EnergyParamsError(`gmm: "weights"[${k}] must be > 0, got ${w[k]}`);
      tot += w[k];
    }
    for (let k = 0; k < K; k++) w[k] /= tot;
  }
  return mixtureFromArrays(means, covs, w, chols);
}

function mixtureFromArrays(means: Float64Array[], covs: Float64Array[], w: Float64Array, given?: Float64Array[]): GaussianMixtureEnergy {
  const d = means[0].length;
  const K = means.length;
  const chols = given ?? covs.map((c, k) => cholesky(c, d, `"covs"[${k}]`, 'gmm'));
  const equalWeights = w.every((v) => v === w[0]);
  const precs = chols.map((l) => new Const(inverseFromCholesky(l, d), [d, d]));
  const mus = means.map((m) => new Const(m, [d]));
  const a = new Float64Array(K);
  for (let k = 0; k < K; k++) a[k] = Math.log(w[k]) - 0.5 * logDetFromCholesky(chols[k], d);
  const offsets = new Const(a, [K]);
  const logZ = 0.5 * d * Math.log(2 * Math.PI);

  // Per-component log terms [n, K] and the whitened differences used by the score.
  const terms = (x: Tensor): { logits: Tensor; diffs: Tensor[] } => {
    const diffs = mus.map((m) => sub(x, m.as(x.dtype)));
    const qs = diffs.map((df, k) => sum(mul(matmul(df, precs[k].as(x.dtype)), df), 1));
    return { logits: add(mul(stack(qs, 1), -0.5), offsets.as(x.dtype)), diffs };
  };

  const self: GaussianMixtureEnergy = {
    dim: d,
    name: 'gmm',
    weights: w,
    means,
    covs,
    energy(x: Tensor): Tensor {
      checkBatch(self, x, 'gmm.energy');
      return neg(logsumexp(terms(x).logits, 1));
    },
    logZ: () => logZ,
    score(x: Tensor): Tensor {
      checkBatch(self, x, 'gmm.score');
      const { logits, diffs } = terms(x);
      const r = softmax(logits, 1);
      const parts = diffs.map((df, k) => mul(sliceAxis(r, 1, k, k + 1), neg(matmul(df, precs[k].as(x.dtype)))));
      return addN(parts);
    },
    sample(key: Key, n: number, dtype = 'float32'): Tensor {
      const [kc, kz] = split(key, 2);
      // Components: uniform integers when the weights are equal, else inverse CDF on 53-bit uniforms.
      const comp = equalWeights ? randintArray(kc, 0, K, n) : null;
      const u = comp ? null : uniformArray(kc, n, 'float64');
      const z = normalArray(kz, n * d, 'float64');
      const out = new Float64Array(n * d);
      for (let r = 0; r < n; r++) {
        let k = 0;
        if (comp) k = comp[r];
        else {
          let c = w[0];
          while (u![r] >= c && k < K - 1) c += w[++k];
        }
        const l = chols[k];
        for (let i = 0; i < d; i++) {
          let s = means[k][i];
          for (let j = 0; j <= i; j++) s += l[i * d + j] * z[r * d + j];
          out[r * d + i] = s;
        }
      }
      return fromRows(out, n, d, dtype);
    },
    mean(): Float64Array {
      const m = new Float64Array(d);
      for (let k = 0; k < K; k++) for (let i = 0; i < d; i++) m[i] += w[k] * means[k][i];
      return m;
    },
    covariance(): Float64Array {
      const m = self.mean!();
      const c = new Float64Array(d * d);
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < d; j++) c[i * d + j] += w[k] * (covs[k][i * d + j] + (means[k][i] - m[i]) * (means[k][j] - m[j]));
        }
      }
      return c;
    },
    smoothed(sigma: number): GaussianMixtureEnergy {
      if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new InvalidArgumentError(`gmm.smoothed: sigma must be a finite number ≥ 0, got ${sigma}`);
      return mixtureFromArrays(means, covs.map((c) => {
        const s = new Float64Array(c);
        for (let i = 0; i < d; i++) s[i * d + i] += sigma * sigma;
        return s;
      }), w);
    },
  };
  return self;
}

/**
 * The mixture benchmark of NCSN (Song & Ermon 2019): weights 0.8/0.2 with unit-variance components at ±5
 * (major mode at +5). In 1-D the means are `+5` and `−5`; in 2-D they lie on the diagonal at `±(5, 5)`.
 * Local samplers started anywhere cannot move mass between the modes, so the 0.8 weight tests mode mixing.
 * @example const e = gmm08(); // 1-D
 */
export function gmm08(dim: 1 | 2 = 1): GaussianMixtureEnergy {
  if (dim !== 1 && dim !== 2) throw new InvalidArgumentError(`gmm08: dim must be 1 or 2, got ${dim}`);
  const m = dim === 1 ? [[5], [-5]] : [[5, 5], [-5, -5]];
  return gaussianMixture({ means: m, std: 1, weights: [0.8, 0.2] });
}
