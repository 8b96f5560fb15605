/**
 * Restricted Boltzmann machines for collaborative filtering (Salakhutdinov, Mnih & Hinton, ICML 2007). Each user is
 * one RBM whose visible units are *only the items that user rated*, each a softmax over `K` rating levels; all users
 * share the weights. With `V` the user's one-hot ratings (`v_i^k = 1` when item `i` got level `k`) and `F` binary
 * hidden units:
 *
 *   E(V, h) = −Σ_{i rated} Σ_k Σ_j W_ikj h_j v_i^k − Σ_{i rated} Σ_k b_ik v_i^k − Σ_j c_j h_j
 *   p(h_j = 1 | V) = σ(c_j + Σ_{i rated} Σ_k v_i^k W_ikj)
 *   p(v_i^k = 1 | h) = softmax_k(b_ik + Σ_j h_j W_ikj)
 *
 * Missing ratings are simply absent (masked): they add no visible unit and no gradient. Training is CD-T with `T`
 * increasing during training (as in the paper: `T = 1` first, then 3, 5, …), momentum and weight decay.
 * Prediction of a held-out rating `q` uses the exact conditional given the rated items,
 *
 *   p(v_q = k | V) ∝ exp(b_qk) Π_j (1 + exp(a_j + W_qkj)),   a_j = c_j + Σ_{i rated} W_{i r_i j},
 *
 * and the expected value `Σ_k p(v_q = k | V)·level_k`.
 * @module
 */
import { foldIn, permutation, uniformArray, normalArray, type Key } from '../../random/index.js';
import { ratingLevels, type Ratings } from '../../data/movielens.js';

/** RBM-CF parameters. Weights are float64, item-major: `W[((i·K + k)·F + j)]`. */
export interface RbmCfParams {
  nItems: number;
  /** Number of rating levels `K`. */
  K: number;
  /** Hidden units `F`. */
  nHidden: number;
  /** The rating value of each level, ascending (length K). */
  levels: number[];
  /** `W [nItems·K, F]`. */
  W: Float64Array;
  /** `b [nItems·K]`. */
  b: Float64Array;
  /** `c [F]`. */
  c: Float64Array;
}

/** Ratings grouped by user: items and level indices of user `u` are `item/level[start[u] … start[u+1])`. */
export interface UserRatings {
  nUsers: number;
  start: Int32Array;
  item: Int32Array;
  level: Int32Array;
}

/**
 * Maps each rating to its level index in `levels` and groups ratings by user. Throws a RangeError naming the rating
 * when a value is not one of the levels.
 */
export function groupByUser(r: Ratings, levels: readonly number[]): UserRatings {
  const lv = new Map(levels.map((v, k) => [v, k]));
  const n = r.rating.length;
  const count = new Int32Array(r.nUsers + 1);
  for (let q = 0; q < n; q++) count[r.user[q] + 1]++;
  for (let u = 0; u < r.nUsers; u++) count[u + 1] += count[u];
  const fill = count.slice(0, r.nUsers);
  const item = new Int32Array(n), level = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    const k = lv.get(r.rating[q]);
    if (k === undefined) throw new RangeError(`rbm-cf: rating ${q} (user ${r.userIds[r.user[q]]}, item ${r.itemIds[r.item[q]]}) is ${r.rating[q]}, not one of the model's levels [${levels.join(', ')}]`);
    const p = fill[r.user[q]]++;
    item[p] = r.item[q];
    level[p] = k;
  }
  return { nUsers: r.nUsers, start: count, item, level };
}

/** Options of {@link createRbmCf}. */
export interface CreateRbmCfOptions {
  nItems: number;
  /** Rating values, ascending (e.g. `[1, 2, 3, 4, 5]`). */
  levels: readonly number[];
  /** Hidden units (default 20). */
  nHidden?: number;
  /** Key for `W ~ N(0, weightScale²)`. */
  key: Key;
  /** Default 0.1 (larger than the usual 0.01: it shortens the symmetric plateau at the start of CD). */
  weightScale?: number;
  /** Training ratings used to set `b_ik = log((n_ik + 1)/(n_i + K))` (smoothed item level frequencies). */
  ratings?: Ratings;
}

/** Initialises RBM-CF parameters. @example const p = createRbmCf({ nItems: 300, levels: [1,2,3,4,5], key: key(0) }); */
export function createRbmCf(opts: CreateRbmCfOptions): RbmCfParams {
  const F = opts.nHidden ?? 20, I = opts.nItems, levels = [...opts.levels], K = levels.length;
  if (!Number.isInteger(I) || I < 1) throw new RangeError(`createRbmCf: nItems must be a positive integer, got ${I}`);
  if (!Number.isInteger(F) || F < 1) throw new RangeError(`createRbmCf: nHidden must be a positive integer, got ${F}`);
  if (K < 2) throw new RangeError(`createRbmCf: need at least 2 rating levels, got [${levels.join(', ')}]`);
  for (let k = 1; k < K; k++) if (!(levels[k] > levels[k - 1])) throw new RangeError(`createRbmCf: levels must be strictly increasing, got [${levels.join(', ')}]`);
  const scale = opts.weightScale ?? 0.1;
  const W = normalArray(opts.key, I * K * F, 'float64');
  for (let q = 0; q < W.length; q++) W[q] *= scale;
  const b = new Float64Array(I * K);
  if (opts.ratings) {
    const r = opts.ratings;
    if (r.nItems !== I) throw new RangeError(`createRbmCf: ratings have ${r.nItems} items but nItems is ${I}`);
    const lv = new Map(levels.map((v, k) => [v, k]));
    const cnt = new Float64Array(I * K), tot = new Float64Array(I);
    for (let q = 0; q < r.rating.length; q++) {
      const k = lv.get(r.rating[q]);
      if (k === undefined) continue;
      cnt[r.item[q] * K + k]++;
      tot[r.item[q]]++;
    }
    for (let i = 0; i < I; i++) for (let k = 0; k < K; k++) b[i * K + k] = Math.log((cnt[i * K + k] + 1) / (tot[i] + K));
  }
  return { nItems: I, K, nHidden: F, levels, W, b, c: new Float64Array(F) };
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Hidden pre-activations `a_j = c_j + Σ_{rated} W_{i r_i j}` of one user into `out` (length F). */
export function hiddenInput(p: RbmCfParams, items: ArrayLike<number>, levels: ArrayLike<number>, out: Float64Array, from = 0, to = items.length): void {
  const F = p.nHidden, K = p.K, W = p.W;
  out.set(p.c);
  for (let q = from; q < to; q++) {
    const o = (items[q] * K + levels[q]) * F;
    for (let j = 0; j < F; j++) out[j] += W[o + j];
  }
}

/**
 * `p(v_q = k | V)` for item `q` given hidden pre-activations `a` (from {@link hiddenInput}), exact:
 * `∝ exp(b_qk + Σ_j softplus(a_j + W_qkj))`. Writes K probabilities into `out`.
 */
export function predictDistribution(p: RbmCfParams, a: Float64Array, q: number, out: Float64Array): void {
  const F = p.nHidden, K = p.K;
  let mx = -Infinity;
  for (let k = 0; k < K; k++) {
    const o = (q * K + k) * F;
    let s = p.b[q * K + k];
    for (let j = 0; j < F; j++) s += softplus(a[j] + p.W[o + j]);
    out[k] = s;
    if (s > mx) mx = s;
  }
  let z = 0;
  for (let k = 0; k < K; k++) { out[k] = Math.exp(out[k] - mx); z += out[k]; }
  for (let k = 0; k < K; k++) out[k] /= z;
}

/**
 * Predicts the ratings of `(user, item)` pairs by the expected value `Σ_k p(v = k | V_user)·level_k`, with `V_user`
 * the user's ratings in `known` (the training set).
 * @returns one prediction per query, aligned with `queries`.
 */
export function predictRatings(p: RbmCfParams, known: Ratings, queries: { user: ArrayLike<number>; item: ArrayLike<number> }): Float64Array {
  const g = groupByUser(known, p.levels);
  const n = queries.user.length;
  const out = new Float64Array(n);
  const byUser = new Map<number, number[]>();
  for (let q = 0; q < n; q++) {
    const u = queries.user[q], i = queries.item[q];
    if (!(u >= 0 && u < g.nUsers)) throw new RangeError(`predictRatings: query ${q} has user index ${u}, outside [0, ${g.nUsers})`);
    if (!(i >= 0 && i < p.nItems)) throw new RangeError(`predictRatings: query ${q} has item index ${i}, outside [0, ${p.nItems})`);
    let l = byUser.get(u);
    if (!l) byUser.set(u, (l = []));
    l.push(q);
  }
  const a = new Float64Array(p.nHidden), pr = new Float64Array(p.K);
  for (const [u, qs] of byUser) {
    hiddenInput(p, g.item, g.level, a, g.start[u], g.start[u + 1]);
    for (const q of qs) {
      predictDistribution(p, a, queries.item[q], pr);
      let e = 0;
      for (let k = 0; k < p.K; k++) e += pr[k] * p.levels[k];
      out[q] = e;
    }
  }
  return out;
}

/** Options of {@link trainRbmCf}. */
export interface TrainRbmCfOptions {
  /** Epochs over the users (default 20). */
  epochs?: number;
  /** Users per mini-batch (default 20). */
  batchSize?: number;
  /** Learning rate for W, b, c (per-user averaged gradient; default 0.1). */
  learningRate?: number;
  /** Momentum: `momentum` after the first 5 epochs, 0.5 before (default 0.9). */
  momentum?: number;
  /** L2 weight decay on W (default 0.001). */
  weightDecay?: number;
  /**
   * CD steps `T` per phase: the epochs are split into `cdSteps.length` equal phases using `T = cdSteps[phase]`
   * (default `[1, 3, 5]`, "CD with increasing T"). A number gives a fixed T.
   */
  cdSteps?: number | readonly number[];
  /** Called after each epoch. */
  onEpoch?(info: { epoch: number; T: number; reconError: number }): void;
}

/** CD steps `T` used in `epoch` (0-based) of `epochs`. */
export function cdStepsAt(cd: number | readonly number[], epoch: number, epochs: number): number {
  if (typeof cd === 'number') return cd;
  const phase = Math.min(cd.length - 1, Math.floor((epoch * cd.length) / epochs));
  return cd[phase];
}

/**
 * Trains RBM-CF parameters in place by CD-T on the users' rated items only. For each user the positive statistics
 * are `p(h|V)` with the data `V`; the negative ones come from `T` block-Gibbs steps `h ~ p(h|V), V ~ p(V|h)` that
 * resample only the rated items (hidden *samples* drive the chain, the last step uses probabilities). Updates are
 * the batch-averaged `⟨v h⟩_data − ⟨v h⟩_T` with momentum and weight decay; randomness is `foldIn` of `key` by
 * epoch and user.
 * @returns per-epoch reconstruction error (fraction of rated items whose one-step reconstruction sample differs).
 */
export function trainRbmCf(p: RbmCfParams, train: Ratings, k: Key, opts: TrainRbmCfOptions = {}): { reconError: number[] } {
  const epochs = opts.epochs ?? 20, B = opts.batchSize ?? 20, lr = opts.learningRate ?? 0.1;
  const mom = opts.momentum ?? 0.9, wd = opts.weightDecay ?? 0.001, cd = opts.cdSteps ?? [1, 3, 5];
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`trainRbmCf: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`trainRbmCf: batchSize must be a positive integer, got ${B}`);
  if (!(lr > 0)) throw new RangeError(`trainRbmCf: learningRate must be > 0, got ${lr}`);
  for (const t of typeof cd === 'number' ? [cd] : cd) if (!Number.isInteger(t) || t < 1) throw new RangeError(`trainRbmCf: cdSteps must be positive integers, got ${String(cd)}`);
  if (train.nItems !== p.nItems) throw new RangeError(`trainRbmCf: ratings have ${train.nItems} items but the model has ${p.nItems}`);
  const g = groupByUser(train, p.levels);
  const F = p.nHidden, K = p.K;
  const dW = new Float64Array(p.W.length), db = new Float64Array(p.b.length), dc = new Float64Array(F);
  const vW = new Float64Array(p.W.length), vb = new Float64Array(p.b.length), vc = new Float64Array(F);
  const a = new Float64Array(F), ph0 = new Float64Array(F), h = new Float64Array(F), phT = new Float64Array(F);
  const logits = new Float64Array(K);
  const act = new Int32Array(F);
  let neg = new Int32Array(16);
  const recon: number[] = [];
  for (let ep = 0; ep < epochs; ep++) {
    const T = cdStepsAt(cd, ep, epochs);
    const m = ep < 5 ? 0.5 : mom;
    const ke = foldIn(k, ep);
    const order = permutation(foldIn(ke, 0x5eed), g.nUsers);
    let wrong = 0, total = 0;
    for (let b0 = 0; b0 < g.nUsers; b0 += B) {
      const b1 = Math.min(g.nUsers, b0 + B);
      dW.fill(0); db.fill(0); dc.fill(0);
      let nb = 0;
      // all uniforms of the batch at once: T·(F + n_u) per user, in batch order
      let need = 0;
      for (let bi = b0; bi < b1; bi++) { const u = order[bi]; need += T * (F + g.start[u + 1] - g.start[u]); }
      const rnd = uniformArray(foldIn(ke, 1 + b0), need, 'float64');
      let r = 0;
      for (let bi = b0; bi < b1; bi++) {
        const u = order[bi];
        const s = g.start[u], e = g.start[u + 1], n = e - s;
        if (n === 0) continue;
        nb++;
        const r0 = r;
        if (neg.length < n) neg = new Int32Array(2 * n);
        hiddenInput(p, g.item, g.level, a, s, e);
        for (let j = 0; j < F; j++) ph0[j] = sigmoid(a[j]);
        for (let j = 0; j < F; j++) h[j] = rnd[r++] < ph0[j] ? 1 : 0;
        for (let t = 0; t < T; t++) {
          // V ~ p(V | h) on the rated items
          let na = 0;
          for (let j = 0; j < F; j++) if (h[j]) act[na++] = j;
          for (let q = 0; q < n; q++) {
            const i = g.item[s + q];
            let mx = -Infinity;
            for (let kk = 0; kk < K; kk++) {
              const o = (i * K + kk) * F;
              let z = p.b[i * K + kk];
              for (let t2 = 0; t2 < na; t2++) z += p.W[o + act[t2]];
              logits[kk] = z;
              if (z > mx) mx = z;
            }
            let sum = 0;
            for (let kk = 0; kk < K; kk++) { logits[kk] = Math.exp(logits[kk] - mx); sum += logits[kk]; }
            const target = rnd[r++] * sum;
            let acc = 0, pick = K - 1;
            for (let kk = 0; kk < K; kk++) { acc += logits[kk]; if (target < acc) { pick = kk; break; } }
            neg[q] = pick;
          }
          if (t === 0) for (let q = 0; q < n; q++) { total++; if (neg[q] !== g.level[s + q]) wrong++; }
          // p(h | V_neg)
          phT.set(p.c);
          for (let q = 0; q < n; q++) {
            const o = (g.item[s + q] * K + neg[q]) * F;
            for (let j = 0; j < F; j++) phT[j] += p.W[o + j];
          }
          for (let j = 0; j < F; j++) phT[j] = sigmoid(phT[j]);
          if (t + 1 < T) for (let j = 0; j < F; j++) h[j] = rnd[r++] < phT[j] ? 1 : 0;
        }
        for (let q = 0; q < n; q++) {
          const i = g.item[s + q];
          const op = (i * K + g.level[s + q]) * F, on = (i * K + neg[q]) * F;
          for (let j = 0; j < F; j++) { dW[op + j] += ph0[j]; dW[on + j] -= phT[j]; }
          db[i * K + g.level[s + q]] += 1;
          db[i * K + neg[q]] -= 1;
        }
        for (let j = 0; j < F; j++) dc[j] += ph0[j] - phT[j];
        r = r0 + T * (F + n);
      }
      if (nb === 0) continue;
      const st = lr / nb;
      // momentum updates; W rows of items nobody in the batch rated get only momentum and decay
      for (let q = 0; q < p.W.length; q++) {
        vW[q] = m * vW[q] + st * dW[q] - lr * wd * p.W[q];
        p.W[q] += vW[q];
      }
      for (let q = 0; q < p.b.length; q++) { vb[q] = m * vb[q] + st * db[q]; p.b[q] += vb[q]; }
      for (let j = 0; j < F; j++) { vc[j] = m * vc[j] + st * dc[j]; p.c[j] += vc[j]; }
    }
    for (const [name, arr] of [['W', p.W], ['b', p.b], ['c', p.c]] as const) {
      for (let q = 0; q < arr.length; q++) {
        if (!Number.isFinite(arr[q])) throw new RangeError(`trainRbmCf: ${name}[${q}] became ${arr[q]} in epoch ${ep + 1}; lower the learning rate`);
      }
    }
    const re = total ? wrong / total : NaN; // no rating reconstructed this epoch: undefined, not 0
    recon.push(re);
    opts.onEpoch?.({ epoch: ep + 1, T, reconError: re });
  }
  return { reconError: recon };
}

/**
 * Top-`n` recommendations for one user: the items the user has not rated in `known`, ranked by expected rating
 * (ties by item index). @returns `{item, expected}` pairs, best first.
 */
export function recommendForUser(p: RbmCfParams, known: Ratings, user: number, n: number): { item: number; expected: number }[] {
  if (!(user >= 0 && user < known.nUsers)) throw new RangeError(`recommendForUser: user index ${user} outside [0, ${known.nUsers})`);
  const g = groupByUser(known, p.levels);
  const a = new Float64Array(p.nHidden), pr = new Float64Array(p.K);
  hiddenInput(p, g.item, g.level, a, g.start[user], g.start[user + 1]);
  const rated = new Set<number>();
  for (let q = g.start[user]; q < g.start[user + 1]; q++) rated.add(g.item[q]);
  const out: { item: number; expected: number }[] = [];
  for (let i = 0; i < p.nItems; i++) {
    if (rated.has(i)) continue;
    predictDistribution(p, a, i, pr);
    let e = 0;
    for (let k = 0; k < p.K; k++) e += pr[k] * p.levels[k];
    out.push({ item: i, expected: e });
  }
  out.sort((x, y) => y.expected - x.expected || x.item - y.item);
  return out.slice(0, n);
}

/** Levels of a rating set, ready for {@link createRbmCf}. */
export { ratingLevels };
