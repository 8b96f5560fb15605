import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/index.js';
import { key, split, normalArray } from '../../src/random/index.js';
import { frechetDistance, gaussianFrechetDistance, gaussianStats, inceptionScore, symmetricEigen, type GaussianStats } from '../../src/eval/sampleQuality.js';
import { InvalidArgumentError, NonFiniteError } from '../../src/errors.js';
import { ShapeError } from '../../src/tensor/index.js';

/** A random symmetric d×d matrix (float64, row-major). */
function randomSymmetric(seed: number, d: number): Float64Array {
  const g = normalArray(key(seed), d * d, 'float64');
  return Float64Array.from({ length: d * d }, (_, i) => g[i] + g[(i % d) * d + Math.floor(i / d)]);
}
/** Q diag(lam) Qᵀ. */
function fromEigen(q: Float64Array, lam: readonly number[]): Float64Array {
  const d = lam.length;
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) out[i * d + j] += q[i * d + k] * lam[k] * q[j * d + k];
  return out;
}
const stats = (mean: readonly number[], cov: ArrayLike<number>): GaussianStats => ({ mean: Float64Array.from(mean), cov: Float64Array.from(cov), d: mean.length });

describe('symmetricEigen', () => {
  it('finds the eigenvalues of a 2×2 and a diagonal matrix with repeated values', () => {
    expect(Array.from(symmetricEigen(Float64Array.of(2, 1, 1, 2), 2).values).map((v) => +v.toFixed(12))).toEqual([1, 3]);
    const e = symmetricEigen(Float64Array.of(5, 0, 0, 0, 1, 0, 0, 0, 5), 3);
    expect(Array.from(e.values)).toEqual([1, 5, 5]);
  });
  it.each([1, 2, 3])('reconstructs a random symmetric 40×40 matrix with orthonormal vectors (seed %i)', (seed) => {
    const d = 40;
    const a = randomSymmetric(seed, d);
    const { values, vectors } = symmetricEigen(a, d);
    const back = fromEigen(vectors, Array.from(values));
    let err = 0, orth = 0;
    for (let i = 0; i < d * d; i++) err = Math.max(err, Math.abs(back[i] - a[i]));
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += vectors[k * d + i] * vectors[k * d + j];
      orth = Math.max(orth, Math.abs(s - (i === j ? 1 : 0)));
    }
    expect(err).toBeLessThan(1e-11);
    expect(orth).toBeLessThan(1e-12);
    for (let j = 1; j < d; j++) expect(values[j]).toBeGreaterThanOrEqual(values[j - 1]);
    let tr = 0, sum = 0;
    for (let i = 0; i < d; i++) { tr += a[i * d + i]; sum += values[i]; }
    expect(sum).toBeCloseTo(tr, 10);
  });
  it('rejects bad input', () => {
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(ShapeError);
    expect(() => symmetricEigen([1, NaN, NaN, 1], 2)).toThrow(NonFiniteError);
  });
});

describe('gaussianFrechetDistance', () => {
  it('diagonal covariances: ‖μa − μb‖² + Σ (σa − σb)²', () => {
    const va = [1, 4, 0.25, 9], vb = [2, 1, 1, 0.5];
    const a = stats([0, 1, 2, 3], fromEigen(Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0)), va));
    const b = stats([1, 1, -1, 3], fromEigen(Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0)), vb));
    let want = 1 + 9;
    for (let j = 0; j < 4; j++) want += (Math.sqrt(va[j]) - Math.sqrt(vb[j])) ** 2;
    expect(gaussianFrechetDistance(a, b)).toBeCloseTo(want, 10);
    expect(gaussianFrechetDistance(b, a)).toBeCloseTo(want, 10);
    expect(gaussianFrechetDistance(a, a)).toBeLessThan(1e-10);
  });
  it.each([4, 5])('commuting covariances Q Λa Qᵀ, Q Λb Qᵀ: Σ (√λa − √λb)² (seed %i)', (seed) => {
    const d = 12;
    const q = symmetricEigen(randomSymmetric(seed, d), d).vectors;
    const la = Array.from({ length: d }, (_, i) => 0.1 + i), lb = Array.from({ length: d }, (_, i) => 3 + ((i * 7) % 5));
    let want = 0;
    for (let j = 0; j < d; j++) want += (Math.sqrt(la[j]) - Math.sqrt(lb[j])) ** 2;
    const z = new Array(d).fill(0);
    expect(gaussianFrechetDistance(stats(z, fromEigen(q, la)), stats(z, fromEigen(q, lb)))).toBeCloseTo(want, 9);
  });
  it('non-commuting 2×2: Tr(A + B) − 2√(Tr(AB) + 2√(det A det B))', () => {
    const A = [2, 0.7, 0.7, 1], B = [0.5, -0.3, -0.3, 3];
    const trAB = A[0] * B[0] + A[1] * B[2] + A[2] * B[1] + A[3] * B[3];
    const det = (m: number[]): number => m[0] * m[3] - m[1] * m[2];
    const want = 4 /* ‖μa − μb‖² = 2 + 2 */ + (A[0] + A[3] + B[0] + B[3]) - 2 * Math.sqrt(trAB + 2 * Math.sqrt(det(A) * det(B)));
    expect(gaussianFrechetDistance(stats([1, 1], A), stats([1 - Math.SQRT2, 1 + Math.SQRT2], B))).toBeCloseTo(want, 10);
  });
  it('rejects mismatched dimensions', () => {
    expect(() => gaussianFrechetDistance(stats([0], [1]), stats([0, 0], [1, 0, 0, 1]))).toThrow(ShapeError);
  });
});

describe('frechetDistance on feature sets', () => {
  const [k1, k2] = split(key(7), 2);
  const n = 500, d = 6;
  const x = new Tensor(normalArray(k1, n * d, 'float32'), [n, d]);
  it('is 0 for a set against itself, ‖c‖² against a shifted copy, and ‖μ‖² + Tr Σ against the doubled copy', () => {
    expect(frechetDistance(x, x)).toBeLessThan(1e-9);
    const c = [1, -2, 0.5, 0, 3, 0.25];
    const shifted = new Tensor(Float64Array.from(x.data, (v, i) => v + c[i % d]), [n, d]);
    expect(frechetDistance(x, shifted)).toBeCloseTo(c.reduce((s, v) => s + v * v, 0), 8);
    const { mean, cov } = gaussianStats(x);
    let want = 0;
    for (let j = 0; j < d; j++) want += mean[j] ** 2 + cov[j * d + j];
    const doubled = new Tensor(Float64Array.from(x.data, (v) => 2 * v), [n, d]);
    expect(frechetDistance(x, doubled)).toBeCloseTo(want, 8);
    expect(frechetDistance(doubled, x)).toBeCloseTo(want, 8);
  });
  it('converges to the closed form for samples of two Gaussians (sampling error well inside 0.1)', () => {
    // N(0, I) vs N(m, diag(4)) in d = 6: FD = ‖m‖² + d(2 − 1)² = 1 + 6.
    const m = 8000;
    const a = new Tensor(normalArray(k2, m * d, 'float64'), [m, d]);
    const b = new Tensor(Float64Array.from(normalArray(split(k2, 3)[2], m * d, 'float64'), (v, i) => 2 * v + (i % d === 0 ? 1 : 0)), [m, d]);
    expect(Math.abs(frechetDistance(a, b) - 7)).toBeLessThan(0.1);
  });
  it('rejects bad input with clear errors', () => {
    expect(() => frechetDistance(x, new Tensor(new Float32Array(10), [5, 2]))).toThrow(ShapeError);
    expect(() => frechetDistance(new Tensor(new Float32Array(6), [1, 6]), x)).toThrow(InvalidArgumentError);
    expect(() => frechetDistance(x, new Tensor(Float32Array.of(NaN, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1), [2, 6]))).toThrow(NonFiniteError);
  });
});

describe('inceptionScore', () => {
  it('is K for balanced one-hot rows and 1 for identical rows', () => {
    const K = 10, n = 50;
    const oneHot = new Tensor(Float64Array.from({ length: n * K }, (_, i) => (i % K === Math.floor(i / K) % K ? 1 : 0)), [n, K]);
    expect(inceptionScore(oneHot)).toBeCloseTo(K, 12);
    const same = new Tensor(Float64Array.from({ length: n * K }, (_, i) => [0.5, 0.2, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.01][i % K]), [n, K]);
    expect(inceptionScore(same)).toBeCloseTo(1, 12);
  });
  it('is exp(H(p(y))) for one-hot rows with unbalanced classes, and matches a hand-computed mixed case', () => {
    // Classes 0, 0, 0, 1: marginal (3/4, 1/4).
    const oh = new Tensor(Float64Array.of(1, 0, 1, 0, 1, 0, 0, 1), [4, 2]);
    expect(inceptionScore(oh)).toBeCloseTo(Math.exp(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))), 12);
    // Rows (½, ½, 0) and (0, ½, ½): marginal (¼, ½, ¼); each KL = ½ ln 2 + ½ ln 1 = ½ ln 2 → IS = √2.
    const mixed = new Tensor(Float64Array.of(0.5, 0.5, 0, 0, 0.5, 0.5), [2, 3]);
    expect(inceptionScore(mixed)).toBeCloseTo(Math.SQRT2, 12);
  });
  it('rejects rows that are not probability vectors', () => {
    expect(() => inceptionScore(new Tensor(Float64Array.of(0.5, 0.6), [1, 2]))).toThrow(InvalidArgumentError);
    expect(() => inceptionScore(new Tensor(Float64Array.of(1.5, -0.5), [1, 2]))).toThrow(InvalidArgumentError);
    expect(() => inceptionScore(new Tensor(Float64Array.of(1, 0), [2]))).toThrow(ShapeError);
  });
});
