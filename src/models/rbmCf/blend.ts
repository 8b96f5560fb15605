/**
 * Linear blending of rating predictors (as the Netflix-prize entries did, including Salakhutdinov et al.'s): weights
 * `w` and an intercept fitted by ridge-regularised least squares on a validation split,
 *
 *   min_{w0, w} Σ_q (y_q − w0 − Σ_m w_m ŷ_mq)² + λ Σ_m w_m²   (intercept not penalised),
 *
 * solved from the normal equations by Cholesky. Predictions are clipped to `[lo, hi]`.
 * @module
 */

import { InvalidArgumentError } from '../../errors.js';
import { choleskyLower, choleskySolve } from '../../tensor/linalg.js';

/** A fitted blend: `ŷ = clip(w0 + Σ_m w_m ŷ_m, lo, hi)`. */
export interface Blend {
  intercept: number;
  weights: number[];
  lo: number;
  hi: number;
}

/**
 * Fits a blend of `preds.length` predictors from their validation predictions `preds[m][q]` and the ratings `y`.
 * `ridge` is λ per validation rating (default 1e-3, so the penalty is `λ·n`). Throws a RangeError on mismatched
 * lengths, an empty set or a non-finite prediction.
 * @example const bl = fitBlend([mfVal, rbmVal], yVal); const yHat = applyBlend(bl, [mfTest, rbmTest]);
 */
export function fitBlend(preds: readonly ArrayLike<number>[], y: ArrayLike<number>, opts: { ridge?: number; lo?: number; hi?: number } = {}): Blend {
  const M = preds.length, n = y.length, lam = (opts.ridge ?? 1e-3) * n;
  if (M < 1) throw new InvalidArgumentError('fitBlend: needs at least one predictor');
  if (n < 1) throw new InvalidArgumentError('fitBlend: no validation ratings');
  if (!(lam >= 0)) throw new InvalidArgumentError(`fitBlend: ridge must be ≥ 0, got ${opts.ridge}`);
  for (let m = 0; m < M; m++) {
    if (preds[m].length !== n) throw new InvalidArgumentError(`fitBlend: predictor ${m} has ${preds[m].length} predictions for ${n} ratings`);
    for (let q = 0; q < n; q++) if (!Number.isFinite(preds[m][q])) throw new InvalidArgumentError(`fitBlend: predictor ${m}, prediction ${q} is ${preds[m][q]}`);
  }
  // centre: the intercept absorbs the means, so the ridge acts on the slopes only
  const P = M, mx = new Float64Array(P);
  let my = 0;
  for (let q = 0; q < n; q++) my += y[q];
  my /= n;
  for (let m = 0; m < P; m++) { let s = 0; for (let q = 0; q < n; q++) s += preds[m][q]; mx[m] = s / n; }
  const A = new Float64Array(P * P), rhs = new Float64Array(P);
  for (let a = 0; a < P; a++) {
    for (let b = a; b < P; b++) {
      let s = 0;
      for (let q = 0; q < n; q++) s += (preds[a][q] - mx[a]) * (preds[b][q] - mx[b]);
      A[a * P + b] = A[b * P + a] = s;
    }
    A[a * P + a] += lam + 1e-12 * n;
    let s = 0;
    for (let q = 0; q < n; q++) s += (preds[a][q] - mx[a]) * (y[q] - my);
    rhs[a] = s;
  }
  const L = choleskyLower(A, P, () => new InvalidArgumentError('fitBlend: the normal equations are singular (identical predictors?); raise ridge'));
  const w = choleskySolve(L, rhs, P);
  let w0 = my;
  for (let m = 0; m < P; m++) w0 -= w[m] * mx[m];
  let lo = opts.lo ?? Infinity, hi = opts.hi ?? -Infinity;
  if (opts.lo === undefined || opts.hi === undefined) for (let q = 0; q < n; q++) { if (opts.lo === undefined && y[q] < lo) lo = y[q]; if (opts.hi === undefined && y[q] > hi) hi = y[q]; }
  return { intercept: w0, weights: Array.from(w), lo, hi };
}

/** Applies a blend to aligned predictions `preds[m][q]`. */
export function applyBlend(bl: Blend, preds: readonly ArrayLike<number>[]): Float64Array {
  if (preds.length !== bl.weights.length) throw new InvalidArgumentError(`applyBlend: ${preds.length} predictors for ${bl.weights.length} weights`);
  const n = preds[0].length, out = new Float64Array(n);
  for (let q = 0; q < n; q++) {
    let v = bl.intercept;
    for (let m = 0; m < preds.length; m++) v += bl.weights[m] * preds[m][q];
    out[q] = v < bl.lo ? bl.lo : v > bl.hi ? bl.hi : v;
  }
  return out;
}
