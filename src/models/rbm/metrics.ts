/**
 * Evaluation metrics for RBMs: average log-likelihood with a protocol record, pseudo-log-likelihood (exact per
 * dimension, and scikit-learn's stochastic one-bit-flip convention), reconstruction error and the free-energy gap
 * between training and held-out data (Hinton's overfitting monitor).
 * @module
 */
import { Tensor, allocate } from '../../tensor/tensor.js';
import { softplusScalar } from '../../tensor/backend.js';
import { randintArray, split, uniformInto, type Key } from '../../random/index.js';
import { freeEnergyRaw, hiddenPreactivation, hiddenProbsRaw, scaledVisible, visibleMeanRaw } from './core.js';
import { checkVisible, nHiddenOf, nVisibleOf, validateParams, type RBMParams } from './params.js';
import { InvalidArgumentError } from '../../errors.js';

/** How a log-likelihood number was obtained; stored next to the number so tables are comparable. */
export interface LikelihoodProtocol {
  /** How the data were binarised (e.g. `'stochastic, seed 1'`, `'threshold 0.5'`). */
  binarisation?: string;
  /** `'exact'` or `'ais'`. */
  logZMethod?: 'exact' | 'ais';
  /** AIS: number of βs. */
  betas?: number;
  /** AIS: number of runs. */
  runs?: number;
  /** Seed / key words used. */
  seed?: number | [number, number];
  /** Anything else worth recording. */
  notes?: string;
}

/** Result of {@link averageLogLikelihood}. */
export interface LogLikelihoodResult {
  /** Mean of `−F(v) − log Z` over the rows (nats). */
  mean: number;
  /** Standard error of the mean over rows (does not include the uncertainty of log Z). */
  stderr: number;
  /** Number of rows. */
  n: number;
  /** The log Z used. */
  logZ: number;
  /** Protocol record. */
  protocol: LikelihoodProtocol;
}

/**
 * Average log-likelihood `(1/n) Σ_r [−F(v_r) − log Z]` (for Gaussian units this is a log density).
 * @param x `[n, nVisible]` evaluation data. @param logZ exact or AIS estimate. @param protocol record to stamp.
 * @example averageLogLikelihood(params, xTest, aisLogZ(params, key(0), { data: xTrain }).logZ, { logZMethod: 'ais' })
 */
export function averageLogLikelihood(p: RBMParams, x: Tensor, logZ: number, protocol: LikelihoodProtocol = {}): LogLikelihoodResult {
  validateParams(p, 'averageLogLikelihood');
  if (!Number.isFinite(logZ)) throw new InvalidArgumentError(`averageLogLikelihood: logZ is ${logZ}`);
  const [d, n] = checkVisible(p, x, 'averageLogLikelihood');
  if (n === 0) throw new InvalidArgumentError('averageLogLikelihood: no rows');
  const f = freeEnergyRaw(p, d, n);
  let s = 0, s2 = 0;
  for (let r = 0; r < n; r++) { const l = -f[r] - logZ; s += l; s2 += l * l; }
  const mean = s / n;
  const v = n > 1 ? Math.max(0, (s2 - n * mean * mean) / (n - 1)) : 0;
  return { mean, stderr: Math.sqrt(v / n), n, logZ, protocol: { ...protocol } };
}

/** Options of {@link pseudoLogLikelihood}. */
export interface PLLOptions {
  /**
   * `'exact'` (default): `Σ_i log p(v_i | v_{−i})` over every visible unit (softmax: every group), reported per
   * row and per dimension. `'sklearn'`: scikit-learn's `score_samples` — flip one random bit `i` per row and
   * report `nVisible · log σ(F(ṽ) − F(v))`, a stochastic estimate of the same sum.
   */
  mode?: 'exact' | 'sklearn';
  /** Randomness for `'sklearn'` mode. */
  key?: Key;
}

/** Result of {@link pseudoLogLikelihood}. */
export interface PLLResult {
  /** Mean over rows of the pseudo-log-likelihood `Σ_i log p(v_i | v_{−i})` (or its sklearn estimate). */
  mean: number;
  /** `mean / number of dimensions` (units for Bernoulli, groups for softmax). */
  perDimension: number;
  /** Per-row values, float64 `[n]`. */
  perRow: Float64Array;
}

/**
 * Pseudo-log-likelihood of binary (Bernoulli) or one-hot (softmax) data. With `F` the free energy and `ṽ⁽ⁱ⁾` the row
 * with bit `i` flipped, `log p(v_i | v_{−i}) = log σ(F(ṽ⁽ⁱ⁾) − F(v))`; for softmax group `g`,
 * `log p(v_g | v_{−g}) = −F(v) − LSE_k(−F(v with g = k))`. The exact mode updates the hidden pre-activation per
 * flip (`x ± W_i`), costing `O(n · nVisible · nHidden)`.
 */
export function pseudoLogLikelihood(p: RBMParams, x: Tensor, opts: PLLOptions = {}): PLLResult {
  validateParams(p, 'pseudoLogLikelihood');
  if (p.visible === 'gaussian') throw new InvalidArgumentError('pseudoLogLikelihood: defined here for discrete (Bernoulli/softmax) visible units only');
  const [d, n] = checkVisible(p, x, 'pseudoLogLikelihood');
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  const mode = opts.mode ?? 'exact';
  const perRow = new Float64Array(n);
  if (p.visible === 'bernoulli') {
    for (let r = 0; r < n * nv; r++) if (d[r] !== 0 && d[r] !== 1) throw new InvalidArgumentError(`pseudoLogLikelihood: row ${Math.floor(r / nv)}, column ${r % nv} is ${d[r]}; PLL needs binary data`);
  }
  const W = p.W.data, b = p.b.data, c = p.c.data;
  if (mode === 'sklearn') {
    if (p.visible !== 'bernoulli') throw new InvalidArgumentError("pseudoLogLikelihood: mode 'sklearn' is for Bernoulli RBMs");
    if (!opts.key) throw new InvalidArgumentError("pseudoLogLikelihood: mode 'sklearn' needs opts.key");
    const idx = randintArray(opts.key, 0, nv, n);
    const flipped = d.slice();
    for (let r = 0; r < n; r++) { const q = r * nv + idx[r]; flipped[q] = 1 - flipped[q]; }
    const f = freeEnergyRaw(p, d, n), ff = freeEnergyRaw(p, flipped, n);
    let s = 0;
    for (let r = 0; r < n; r++) { perRow[r] = -nv * softplusScalar(-(ff[r] - f[r])); s += perRow[r]; }
    return { mean: s / n, perDimension: s / n / nv, perRow };
  }
  if (mode !== 'exact') throw new InvalidArgumentError(`pseudoLogLikelihood: mode must be 'exact' or 'sklearn', got '${String(mode)}'`);
  // Hidden pre-activations x = c + vW for all rows.
  const pre = allocate(p.W.dtype, n * nh);
  hiddenPreactivation(p, d, n, pre);
  const x64 = new Float64Array(nh);
  let total = 0;
  const K = p.categories;
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < nh; j++) x64[j] = pre[r * nh + j] + c[j];
    let base = 0; // −F(v) up to the visible-bias term
    for (let j = 0; j < nh; j++) base += softplusScalar(x64[j]);
    let pll = 0;
    if (p.visible === 'bernoulli') {
      for (let i = 0; i < nv; i++) {
        const vi = d[r * nv + i];
        const sgn = vi === 1 ? -1 : 1; // flipping changes v_i by sgn
        let sf = 0;
        for (let j = 0, o = i * nh; j < nh; j++) sf += softplusScalar(x64[j] + sgn * W[o + j]);
        // −F(ṽ) + F(v) = sgn·b_i + sf − base
        const negDelta = sgn * b[i] + sf - base; // log p*(ṽ) − log p*(v)
        pll += -softplusScalar(negDelta); // log σ(F(ṽ) − F(v)) = −softplus(−(F(ṽ) − F(v)))
      }
    } else {
      for (let g = 0; g < nv; g += K) {
        let cur = -1;
        for (let k = 0; k < K; k++) if (d[r * nv + g + k] === 1) cur = k;
        // log p*(v with group g = k), relative to the current state.
        const lp = new Float64Array(K);
        for (let k = 0; k < K; k++) {
          if (k === cur) { lp[k] = 0; continue; }
          let sf = 0;
          const oNew = (g + k) * nh, oOld = (g + cur) * nh;
          for (let j = 0; j < nh; j++) sf += softplusScalar(x64[j] + W[oNew + j] - W[oOld + j]);
          lp[k] = b[g + k] - b[g + cur] + sf - base;
        }
        let m = -Infinity;
        for (let k = 0; k < K; k++) m = Math.max(m, lp[k]);
        let s = 0;
        for (let k = 0; k < K; k++) s += Math.exp(lp[k] - m);
        pll += -(m + Math.log(s));
      }
    }
    perRow[r] = pll;
    total += pll;
  }
  const dims = p.visible === 'softmax' ? nv / K : nv;
  return { mean: total / n, perDimension: total / n / dims, perRow };
}

/** Options of {@link reconstructionError}. */
export interface ReconstructionOptions {
  /** With a key, `h` is sampled (`h ~ p(h|v)`, as in CD-1 monitoring); without one the mean field `P(h|v)` is used. */
  key?: Key;
}

/**
 * Mean squared reconstruction error `(1/(n·nv)) Σ (v − E[v | h])²` with `h = P(h|v)` (or a sample of it).
 */
export function reconstructionError(p: RBMParams, x: Tensor, opts: ReconstructionOptions = {}): number {
  validateParams(p, 'reconstructionError');
  const [d, n] = checkVisible(p, x, 'reconstructionError');
  const nv = nVisibleOf(p), nh = nHiddenOf(p), dt = p.W.dtype;
  const ph = allocate(dt, n * nh);
  let h = ph;
  if (opts.key) {
    const [ku] = split(opts.key, 1);
    h = allocate(dt, n * nh);
    hiddenProbsRaw(p, scaledVisible(p, d, n), n, ph, uniformInto(ku, allocate(dt, n * nh)), h);
  } else hiddenProbsRaw(p, scaledVisible(p, d, n), n, ph, null, null);
  const m = allocate(dt, n * nv);
  visibleMeanRaw(p, h, n, m);
  let s = 0;
  for (let i = 0; i < n * nv; i++) { const e = d[i] - m[i]; s += e * e; }
  return s / (n * nv);
}

/** Result of {@link freeEnergyGap}. */
export interface FreeEnergyGapResult {
  /** Mean free energy of the training rows. */
  train: number;
  /** Mean free energy of the held-out rows. */
  heldOut: number;
  /** `heldOut − train`; growing values signal over-fitting (Hinton's guide §6). */
  gap: number;
}

/**
 * Free-energy gap between held-out and training data, `mean F(held-out) − mean F(train)`; `log Z` cancels, so this
 * is the log-likelihood ratio of the two sets' averages.
 */
export function freeEnergyGap(p: RBMParams, train: Tensor, heldOut: Tensor): FreeEnergyGapResult {
  validateParams(p, 'freeEnergyGap');
  const mean = (t: Tensor, what: string): number => {
    const [d, n] = checkVisible(p, t, `freeEnergyGap (${what})`);
    if (n === 0) throw new InvalidArgumentError(`freeEnergyGap: ${what} data has no rows`);
    const f = freeEnergyRaw(p, d, n);
    let s = 0;
    for (let r = 0; r < n; r++) s += f[r];
    return s / n;
  };
  const tr = mean(train, 'train'), ho = mean(heldOut, 'held-out');
  return { train: tr, heldOut: ho, gap: ho - tr };
}
