/**
 * The model-free parts of annealed importance sampling (Neal 2001): inverse-temperature schedules and the estimate
 * of `log Z` from log importance weights. Model-specific AIS (e.g. `aisLogZ` for RBMs in src/models/rbm/ais.ts)
 * runs the annealing and hands its weights here.
 * @module
 */

import { InvalidArgumentError } from '../errors.js';

/** What {@link aisEstimate} returns: the `log Z` estimate from importance weights and its uncertainty. */
export interface AISEstimate {
  /** Estimate `log Z = logBase + log((1/R) Σ_r w_r)`. */
  logZ: number;
  /** Delta-method standard deviation of `logZ`: `s_w / (√R · w̄)`. */
  logZStd: number;
  /** `log Z` at `w̄ − 3 s_w/√R` (−∞ when that is ≤ 0). */
  logZLow: number;
  /** `log Z` at `w̄ + 3 s_w/√R`. */
  logZHigh: number;
  /** Effective sample size `(Σw)²/Σw²` ∈ [1, runs]. */
  ess: number;
}

/**
 * The inverse-temperature schedule of Salakhutdinov & Murray (2008): β from 0 to 0.5 in steps of 1e-3, 0.5 to 0.9 in
 * steps of 1e-4, 0.9 to 1 in steps of 1e-5 (14 500 intervals). `intervals` rescales all three step sizes to give that
 * many intervals with the same proportions (e.g. 3000 for tests).
 * @returns float64 array from 0 to 1 inclusive.
 * @example salakhutdinovBetas().length // 14 501
 */
export function salakhutdinovBetas(intervals = 14500): Float64Array {
  if (!Number.isInteger(intervals) || intervals < 29) throw new InvalidArgumentError(`salakhutdinovBetas: intervals must be an integer ≥ 29, got ${intervals}`);
  const n1 = Math.max(1, Math.round((intervals * 500) / 14500));
  const n2 = Math.max(1, Math.round((intervals * 4000) / 14500));
  const n3 = Math.max(1, intervals - n1 - n2);
  const out = new Float64Array(n1 + n2 + n3 + 1);
  let o = 0;
  for (let i = 0; i < n1; i++) out[o++] = (0.5 * i) / n1;
  for (let i = 0; i < n2; i++) out[o++] = 0.5 + (0.4 * i) / n2;
  for (let i = 0; i < n3; i++) out[o++] = 0.9 + (0.1 * i) / n3;
  out[o] = 1;
  return out;
}

/**
 * `n` equally spaced intervals from 0 to 1 (`n + 1` values).
 * @example linearBetas(4) // [0, 0.25, 0.5, 0.75, 1]
 */
export function linearBetas(n: number): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`linearBetas: n must be a positive integer, got ${n}`);
  return Float64Array.from({ length: n + 1 }, (_, i) => i / n);
}

/**
 * Validates an AIS schedule (starts at 0, ends at 1, non-decreasing, at least 2 values) and returns a float64 copy.
 * @example checkAisBetas(linearBetas(100))
 */
export function checkAisBetas(betas: ArrayLike<number>): Float64Array {
  const b = Float64Array.from(betas);
  if (b.length < 2 || b[0] !== 0 || b[b.length - 1] !== 1) throw new InvalidArgumentError('AIS: betas must start at 0, end at 1 and have at least 2 values');
  for (let i = 1; i < b.length; i++) if (!(b[i] >= b[i - 1])) throw new InvalidArgumentError(`AIS: betas must be non-decreasing (index ${i}: ${b[i - 1]} → ${b[i]})`);
  return b;
}

/**
 * The AIS estimate from `R` log importance weights `log w_r` and the base model's `logBase = log Z_A` (plus any
 * constant the annealing leaves out): `log Ẑ = logBase + m + log w̄`, with `w̄ = (1/R) Σ exp(log w_r − m)`,
 * `m = max log w_r` (so nothing overflows), the delta-method standard deviation `s_w/(√R w̄)` of the log mean weight
 * (sample standard deviation `s_w`), the ±3-standard-error bounds of Salakhutdinov & Murray, and the weights' ESS.
 * A weight of `−∞` (zero) is valid; `NaN`/`+∞` or all weights zero throw a `RangeError`.
 * @example aisEstimate(Float64Array.of(0, 0), 1.5).logZ // 1.5
 */
export function aisEstimate(logw: Float64Array, logBase: number): AISEstimate {
  const R = logw.length;
  if (R === 0) throw new InvalidArgumentError('AIS: no runs (empty log weights)');
  let m = -Infinity;
  for (let r = 0; r < R; r++) {
    // −∞ is a valid (zero) weight; NaN and +∞ mean non-finite parameters or energies.
    if (!(logw[r] < Infinity)) throw new InvalidArgumentError(`AIS: log weight of run ${r} is ${logw[r]} (non-finite parameters?)`);
    if (logw[r] > m) m = logw[r];
  }
  if (m === -Infinity) throw new InvalidArgumentError('AIS: every run has weight 0 (log weight −∞)');
  let s = 0, s2 = 0;
  for (let r = 0; r < R; r++) { const w = Math.exp(logw[r] - m); s += w; s2 += w * w; }
  const mean = s / R;
  const varW = R > 1 ? Math.max(0, (s2 - R * mean * mean) / (R - 1)) : 0;
  const se = Math.sqrt(varW / R);
  const logZ = logBase + m + Math.log(mean);
  return {
    logZ,
    logZStd: se / mean,
    logZLow: mean - 3 * se > 0 ? logBase + m + Math.log(mean - 3 * se) : -Infinity,
    logZHigh: logBase + m + Math.log(mean + 3 * se),
    ess: (s * s) / s2,
  };
}
