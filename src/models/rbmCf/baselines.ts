/**
 * Rating-prediction baselines and the RMSE metric, for reporting next to RBM-CF:
 * - global mean `r̂ = μ`;
 * - user + item biases `r̂ = μ + b_u + b_i`, fitted by alternating ridge regression
 *   (`b_i = Σ_u (r − μ − b_u)/(λ + n_i)`, `b_u = Σ_i (r − μ − b_i)/(λ + n_u)`);
 * - biased matrix factorisation `r̂ = μ + b_u + b_i + p_uᵀq_i` fitted by SGD on the squared error with L2
 *   regularisation (Koren, Bell & Volinsky 2009).
 * Predictions are clipped to the range of the training ratings.
 * @module
 */
import { foldIn, normalArray, permutation, type Key } from '../../random/index.js';
import type { Ratings } from '../../data/movielens.js';
import { InvalidArgumentError } from '../../errors.js';

/** Root mean squared error `√(mean (p − y)²)`. Throws on length mismatch, empty input or a non-finite value. */
export function rmse(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (pred.length !== truth.length) throw new InvalidArgumentError(`rmse: ${pred.length} predictions for ${truth.length} ratings`);
  if (pred.length === 0) throw new InvalidArgumentError('rmse: no ratings');
  let s = 0;
  for (let q = 0; q < pred.length; q++) {
    if (!Number.isFinite(pred[q])) throw new InvalidArgumentError(`rmse: prediction ${q} is ${pred[q]}`);
    const d = pred[q] - truth[q];
    s += d * d;
  }
  return Math.sqrt(s / pred.length);
}

function range(r: Ratings): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of r.rating) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

const clip = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** A fitted rating predictor. */
export interface RatingPredictor {
  /** Predicts `(user, item)` pairs (dense indices). */
  predict(queries: { user: ArrayLike<number>; item: ArrayLike<number> }): Float64Array;
}

/** The global-mean baseline `r̂ = μ`. */
export function fitGlobalMean(train: Ratings): RatingPredictor & { mu: number } {
  let s = 0;
  for (const v of train.rating) s += v;
  const mu = s / train.rating.length;
  return { mu, predict: (q) => new Float64Array(q.user.length).fill(mu) };
}

/** Options of {@link fitBiases}. */
export interface BiasOptions {
  /** Ridge penalty λ (default 5). */
  lambda?: number;
  /** Alternating passes (default 10). */
  iters?: number;
}

/** The user + item bias baseline `r̂ = μ + b_u + b_i` (alternating ridge regression). */
export function fitBiases(train: Ratings, opts: BiasOptions = {}): RatingPredictor & { mu: number; userBias: Float64Array; itemBias: Float64Array } {
  const lam = opts.lambda ?? 5, iters = opts.iters ?? 10;
  const { mu } = fitGlobalMean(train);
  const bu = new Float64Array(train.nUsers), bi = new Float64Array(train.nItems);
  const su = new Float64Array(train.nUsers), nu = new Float64Array(train.nUsers);
  const si = new Float64Array(train.nItems), ni = new Float64Array(train.nItems);
  const n = train.rating.length;
  for (let q = 0; q < n; q++) { nu[train.user[q]]++; ni[train.item[q]]++; }
  for (let it = 0; it < iters; it++) {
    si.fill(0);
    for (let q = 0; q < n; q++) si[train.item[q]] += train.rating[q] - mu - bu[train.user[q]];
    for (let i = 0; i < train.nItems; i++) bi[i] = si[i] / (lam + ni[i]);
    su.fill(0);
    for (let q = 0; q < n; q++) su[train.user[q]] += train.rating[q] - mu - bi[train.item[q]];
    for (let u = 0; u < train.nUsers; u++) bu[u] = su[u] / (lam + nu[u]);
  }
  const [lo, hi] = range(train);
  return {
    mu, userBias: bu, itemBias: bi,
    predict: (qs) => {
      const out = new Float64Array(qs.user.length);
      for (let q = 0; q < out.length; q++) out[q] = clip(mu + (bu[qs.user[q]] ?? 0) + (bi[qs.item[q]] ?? 0), lo, hi);
      return out;
    },
  };
}

/** Options of {@link fitMatrixFactorization}. */
export interface MFOptions {
  /** Latent dimension (default 10). */
  rank?: number;
  /** SGD epochs (default 40). */
  epochs?: number;
  /** Step size (default 0.01). */
  lr?: number;
  /** L2 penalty on factors and biases (default 0.05). */
  reg?: number;
  /** Initial factor scale (default 0.1). */
  initScale?: number;
}

/**
 * Biased matrix factorisation fitted by SGD over the ratings in a fresh random order each epoch (from `key`):
 * `e = r − r̂; b_u += η(e − λb_u); b_i += η(e − λb_i); p_u += η(e q_i − λp_u); q_i += η(e p_u − λq_i)`.
 */
export function fitMatrixFactorization(train: Ratings, k: Key, opts: MFOptions = {}): RatingPredictor & { rank: number } {
  const R = opts.rank ?? 10, epochs = opts.epochs ?? 40, eta = opts.lr ?? 0.01, lam = opts.reg ?? 0.05, s0 = opts.initScale ?? 0.1;
  const { mu } = fitGlobalMean(train);
  const P = normalArray(foldIn(k, 1), train.nUsers * R, 'float64').map((z) => z * s0);
  const Q = normalArray(foldIn(k, 2), train.nItems * R, 'float64').map((z) => z * s0);
  const bu = new Float64Array(train.nUsers), bi = new Float64Array(train.nItems);
  const n = train.rating.length;
  for (let ep = 0; ep < epochs; ep++) {
    const order = permutation(foldIn(k, 100 + ep), n);
    for (let t = 0; t < n; t++) {
      const q = order[t];
      const u = train.user[q], i = train.item[q];
      let pred = mu + bu[u] + bi[i];
      for (let r = 0; r < R; r++) pred += P[u * R + r] * Q[i * R + r];
      const e = train.rating[q] - pred;
      bu[u] += eta * (e - lam * bu[u]);
      bi[i] += eta * (e - lam * bi[i]);
      for (let r = 0; r < R; r++) {
        const pu = P[u * R + r], qi = Q[i * R + r];
        P[u * R + r] += eta * (e * qi - lam * pu);
        Q[i * R + r] += eta * (e * pu - lam * qi);
      }
    }
  }
  const [lo, hi] = range(train);
  return {
    rank: R,
    predict: (qs) => {
      const out = new Float64Array(qs.user.length);
      for (let q = 0; q < out.length; q++) {
        const u = qs.user[q], i = qs.item[q];
        let v = mu + bu[u] + bi[i];
        for (let r = 0; r < R; r++) v += P[u * R + r] * Q[i * R + r];
        out[q] = clip(v, lo, hi);
      }
      return out;
    },
  };
}
