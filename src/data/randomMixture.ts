/**
 * Random Gaussian-mixture parameters, for testing density estimators on densities nobody tuned for (build the
 * density with `gaussianMixture` from `src/energy`).
 * @module
 */
import { normalArray, split, uniformArray, type Key } from '../random/index.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link randomGaussianMixtureParams}. */
export interface RandomMixtureOptions {
  /** Number of components `K` (default 6). */
  readonly components?: number;
  /** Dimension `d` (default 2). */
  readonly dim?: number;
  /** Means uniform in `[−spread, spread]^d` (default 4). */
  readonly spread?: number;
  /** Component standard deviations (per principal axis) uniform in `[lo, hi]` (default `[0.2, 0.8]`). */
  readonly stdRange?: readonly [number, number];
}

/**
 * Draws mixture parameters from `key`: `K` means uniform in the box, covariances `R·diag(s²)·Rᵀ` with axis standard
 * deviations `s` uniform in `stdRange` and a random rotation `R` (2-D; axis-aligned in other dimensions), weights
 * `∝ exp(0.7·ξ)`, `ξ ~ N(0, 1)` (unequal, none negligible). Deterministic given the key.
 * @example const g = gaussianMixture(randomGaussianMixtureParams(key(7)));
 */
export function randomGaussianMixtureParams(key: Key, o: RandomMixtureOptions = {}): {
  means: number[][]; covs: number[][][]; weights: number[];
} {
  const K = o.components ?? 6, d = o.dim ?? 2, spread = o.spread ?? 4;
  const [lo, hi] = o.stdRange ?? [0.2, 0.8];
  if (!Number.isInteger(K) || K < 1 || !Number.isInteger(d) || d < 1) throw new InvalidArgumentError(`randomGaussianMixtureParams: components and dim must be positive integers, got ${K}, ${d}`);
  if (!(spread > 0) || !(lo > 0 && hi >= lo)) throw new InvalidArgumentError(`randomGaussianMixtureParams: need spread > 0 and 0 < lo ≤ hi, got ${spread}, [${lo}, ${hi}]`);
  const [kM, kS, kR, kW] = split(key, 4);
  const um = uniformArray(kM, K * d, 'float64');
  const us = uniformArray(kS, K * d, 'float64');
  const ur = uniformArray(kR, K, 'float64');
  const zw = normalArray(kW, K, 'float64');
  const means: number[][] = [], covs: number[][][] = [];
  for (let k = 0; k < K; k++) {
    means.push(Array.from({ length: d }, (_, j) => spread * (2 * um[k * d + j] - 1)));
    const s = Array.from({ length: d }, (_, j) => lo + (hi - lo) * us[k * d + j]);
    const c = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? s[i] * s[i] : 0)));
    if (d === 2) {
      const th = Math.PI * ur[k], cs = Math.cos(th), sn = Math.sin(th);
      const a = s[0] * s[0], b = s[1] * s[1];
      c[0][0] = cs * cs * a + sn * sn * b;
      c[1][1] = sn * sn * a + cs * cs * b;
      c[0][1] = c[1][0] = cs * sn * (a - b);
    }
    covs.push(c);
  }
  const w = Array.from(zw, (z) => Math.exp(0.7 * z));
  const tot = w.reduce((x, y) => x + y, 0);
  return { means, covs, weights: w.map((v) => v / tot) };
}
