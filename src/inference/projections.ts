/** Projections onto constraint sets used by projected-gradient MAP: boxes and probability simplices. */
import { Tensor } from '../tensor/index.js';
import { InvalidArgumentError } from '../errors.js';

/** A projection `x [n, ...dim] → [n, ...dim]` onto a convex set, applied after each optimiser step. */
export type Projection = (x: Tensor) => Tensor;

/**
 * Projection onto the box `[lo, hi]` in every coordinate (elementwise clamp).
 * @example projectBox(0, 1)(x)
 */
export function projectBox(lo: number, hi: number): Projection {
  if (!(lo < hi)) throw new InvalidArgumentError(`projectBox: need lo < hi, got [${lo}, ${hi}]`);
  return (x) => {
    const out = x.data.slice();
    for (let i = 0; i < out.length; i++) out[i] = out[i] < lo ? lo : out[i] > hi ? hi : out[i];
    return new Tensor(out, x.shape);
  };
}

/**
 * Euclidean projection of each row onto the probability simplex `{p ≥ 0, Σp = 1}` (Held, Wolfe & Crowder 1974;
 * Duchi et al. 2008): sort descending, find the largest `k` with `u_k − (Σ_{j≤k} u_j − 1)/k > 0`, subtract that
 * threshold and clip at 0. O(d log d) per row.
 * @example projectSimplex()(tensor([[0.5, 0.9]])) // [[0.3, 0.7]]
 */
export function projectSimplex(): Projection {
  return (x) => {
    const n = x.shape[0];
    const d = x.size / Math.max(n, 1);
    const out = x.data.slice();
    const u = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) u[j] = x.data[i * d + j];
      u.sort().reverse();
      let cum = 0;
      let theta = 0;
      for (let k = 0; k < d; k++) {
        cum += u[k];
        const t = (cum - 1) / (k + 1);
        if (u[k] - t > 0) theta = t;
      }
      for (let j = 0; j < d; j++) out[i * d + j] = Math.max(x.data[i * d + j] - theta, 0);
    }
    return new Tensor(out, x.shape);
  };
}
