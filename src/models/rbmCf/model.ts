/**
 * Restricted Boltzmann machines for collaborative filtering (Salakhutdinov, Mnih & Hinton, ICML 2007). Each user is
 * one RBM whose visible units are *only the items that user rated*, each a softmax over `K` rating levels; all users
 * share the weights. With `V` the user's one-hot ratings (`v_i^k = 1` when item `i` got level `k`) and `F` binary
 * hidden units, the plain model is
 *
 *   E(V, h) = −Σ_{i rated} Σ_k Σ_j W_ikj h_j v_i^k − Σ_{i rated} Σ_k b_ik v_i^k − Σ_j c_j h_j.
 *
 * Three optional extensions, each one a conditioning term that is fixed for a user (never sampled):
 * - **conditional** (implicit feedback, the paper's §5): the binary vector `r` of the items the user rated — including
 *   items whose rating is held out or unknown — adds `s_r Σ_i r_i D_ij` to the hidden input (`D [nItems, F]`), with
 *   `s_r = 1` as in the paper or, with `implicitNorm: 'sqrt'`, `s_r = |r|^{-1/2}` as in Koren's SVD++ (the input's
 *   scale then does not grow with the number of items a user rated; bench/RESULTS.md compares the two);
 * - **user features** `x_u` (length `Du`) add `Σ_d x_ud U_dj` to the hidden input (`U [Du, F]`);
 * - **item features** `y_i` (length `Di`) add `Σ_d y_id G_dk` to the visible bias of item `i`, level `k` (`G [Di, K]`);
 * and **factored** weights (the paper's §6): `W = A·B` with `A [nItems·K, R]` and `B [R, F]` (per rating level, one
 * shared `B`), trained through the chain rule. So, with `a_j = c_j + s_r Σ_i r_i D_ij + Σ_d x_ud U_dj` and
 * `b̃_ik = b_ik + Σ_d y_id G_dk`,
 *
 *   p(h_j = 1 | V) = σ(a_j + Σ_{i rated} Σ_k v_i^k W_ikj),   p(v_i = k | h) = softmax_k(b̃_ik + Σ_j h_j W_ikj),
 *   p(v_q = k | V) ∝ exp(b̃_qk) Π_j (1 + exp(a_j + Σ_{i rated} W_{i r_i j} + W_qkj))   (exact, used for prediction).
 *
 * Missing ratings are absent (masked). Training is CD-T with `T` increasing during training (as in the paper:
 * `T = 1` first, then 3, 5, …), momentum and weight decay; the update of every parameter is its positive statistic
 * minus its CD statistic, which is the gradient of `log p(V | r, x, y)` with the model expectation replaced by the
 * CD sample (`test/rbmCf` checks the exact version against finite differences).
 * @module
 */
import { foldIn, permutation, uniformArray, normalArray, type Key } from '../../random/index.js';
import { ratingLevels, type Ratings } from '../../data/movielens.js';
import { InvalidArgumentError } from '../../errors.js';
import { settlePending } from '../pending.js';

/** Factored weights `W = A·B` (row-major `A [nItems·K, rank]`, `B [rank, F]`). */
export interface RbmCfFactors {
  rank: number;
  A: Float64Array;
  B: Float64Array;
}

/**
 * RBM-CF parameters. Weights are float64, item-major: `W[((i·K + k)·F + j)]`. When `factors` is present, `W` is the
 * product `A·B` (kept in step by {@link trainRbmCf}; recompute with {@link syncFactoredWeights} after editing A or B).
 */
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
  /** Factored model: `W = A·B`. */
  factors?: RbmCfFactors;
  /** Conditional model: implicit-feedback weights `D [nItems, F]`. */
  D?: Float64Array;
  /** Scaling `s_r` of the implicit input: `'none'` (1, the paper's; default) or `'sqrt'` (`|r|^{-1/2}`). */
  implicitNorm?: 'none' | 'sqrt';
  /** User-feature weights `U [Du, F]` (with `userFeatureDim = Du`). */
  U?: Float64Array;
  userFeatureDim?: number;
  /** Item-feature weights `G [Di, K]` (with `itemFeatureDim = Di`). */
  G?: Float64Array;
  itemFeatureDim?: number;
}

/** A dense row-major feature matrix `x [rows, dim]` (row = dense user or item index). */
export interface FeatureMatrix {
  rows: number;
  dim: number;
  x: Float64Array;
}

/** Per-user item sets in CSR form: the items of user `u` are `item[start[u] … start[u+1])`. */
export interface UserItems {
  nUsers: number;
  start: Int32Array;
  item: Int32Array;
}

/**
 * What the model conditions on besides the ratings: the implicit rated-item sets `r` (conditional model), user
 * features (rows = users) and item features (rows = items). Each is required exactly when the model has the
 * corresponding weights.
 */
export interface CfSideInfo {
  implicit?: UserItems;
  userFeatures?: FeatureMatrix;
  itemFeatures?: FeatureMatrix;
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
    if (k === undefined) throw new InvalidArgumentError(`rbm-cf: rating ${q} (user ${r.userIds[r.user[q]]}, item ${r.itemIds[r.item[q]]}) is ${r.rating[q]}, not one of the model's levels [${levels.join(', ')}]`);
    const p = fill[r.user[q]]++;
    item[p] = r.item[q];
    level[p] = k;
  }
  return { nUsers: r.nUsers, start: count, item, level };
}

/**
 * The implicit-feedback sets `r_u`: the distinct items each user appears with in any of `sets` (e.g. the training
 * ratings and the held-out pairs whose values are unknown). All sets must share one user/item numbering.
 * @example const implicit = implicitFeedback(train, test); // the test pairs are known to be rated
 */
export function implicitFeedback(...sets: readonly { user: ArrayLike<number>; item: ArrayLike<number>; nUsers: number; nItems: number }[]): UserItems {
  if (sets.length === 0) throw new InvalidArgumentError('implicitFeedback: needs at least one set of (user, item) pairs');
  const nU = sets[0].nUsers, nI = sets[0].nItems;
  for (const s of sets) if (s.nUsers !== nU || s.nItems !== nI) throw new InvalidArgumentError(`implicitFeedback: sets disagree on the numbering (${s.nUsers}×${s.nItems} vs ${nU}×${nI})`);
  const per: Set<number>[] = Array.from({ length: nU }, () => new Set<number>());
  for (const s of sets) for (let q = 0; q < s.user.length; q++) per[s.user[q]].add(s.item[q]);
  const start = new Int32Array(nU + 1);
  for (let u = 0; u < nU; u++) start[u + 1] = start[u] + per[u].size;
  const item = new Int32Array(start[nU]);
  for (let u = 0; u < nU; u++) item.set([...per[u]].sort((a, b) => a - b), start[u]);
  return { nUsers: nU, start, item };
}

/** Options of {@link createRbmCf}. */
export interface CreateRbmCfOptions {
  nItems: number;
  /** Rating values, ascending (e.g. `[1, 2, 3, 4, 5]`). */
  levels: readonly number[];
  /** Hidden units (default 20). */
  nHidden?: number;
  /** Key for the weights `~ N(0, weightScale²)`. */
  key: Key;
  /** Default 0.1 (larger than the usual 0.01: it shortens the symmetric plateau at the start of CD). */
  weightScale?: number;
  /** Training ratings used to set `b_ik = log((n_ik + 1)/(n_i + K))` (smoothed item level frequencies). */
  ratings?: Ratings;
  /** Conditional model: add the implicit-feedback weights `D` (initialised to 0). */
  conditional?: boolean;
  /** Scaling of the implicit input (conditional model): `'none'` (default, the paper's) or `'sqrt'` (`|r|^{-1/2}`). */
  implicitNorm?: 'none' | 'sqrt';
  /** Factored model of this rank: `W = A·B`, `A, B ~ N(0, weightScale/√rank)` so that `sd(W) ≈ weightScale`. */
  factorRank?: number;
  /** Width of the user features (adds `U`, zero-initialised). */
  userFeatureDim?: number;
  /** Width of the item features (adds `G`, zero-initialised). */
  itemFeatureDim?: number;
}

/**
 * Initialises RBM-CF parameters.
 * @example const p = createRbmCf({ nItems: 300, levels: [1,2,3,4,5], key: key(0), conditional: true, factorRank: 5 });
 */
export function createRbmCf(opts: CreateRbmCfOptions): RbmCfParams {
  const F = opts.nHidden ?? 20, I = opts.nItems, levels = [...opts.levels], K = levels.length;
  if (!Number.isInteger(I) || I < 1) throw new InvalidArgumentError(`createRbmCf: nItems must be a positive integer, got ${I}`);
  if (!Number.isInteger(F) || F < 1) throw new InvalidArgumentError(`createRbmCf: nHidden must be a positive integer, got ${F}`);
  if (K < 2) throw new InvalidArgumentError(`createRbmCf: need at least 2 rating levels, got [${levels.join(', ')}]`);
  for (let k = 1; k < K; k++) if (!(levels[k] > levels[k - 1])) throw new InvalidArgumentError(`createRbmCf: levels must be strictly increasing, got [${levels.join(', ')}]`);
  for (const [name, v] of [['factorRank', opts.factorRank], ['userFeatureDim', opts.userFeatureDim], ['itemFeatureDim', opts.itemFeatureDim]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new InvalidArgumentError(`createRbmCf: ${name} must be a positive integer, got ${v}`);
  }
  const scale = opts.weightScale ?? 0.1;
  const b = new Float64Array(I * K);
  if (opts.ratings) {
    const r = opts.ratings;
    if (r.nItems !== I) throw new InvalidArgumentError(`createRbmCf: ratings have ${r.nItems} items but nItems is ${I}`);
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
  const p: RbmCfParams = { nItems: I, K, nHidden: F, levels, W: new Float64Array(I * K * F), b, c: new Float64Array(F) };
  if (opts.factorRank !== undefined) {
    const R = opts.factorRank, s = Math.sqrt(scale / Math.sqrt(R));
    const A = normalArray(opts.key, I * K * R, 'float64').map((z) => z * s);
    const B = normalArray(foldIn(opts.key, 1), R * F, 'float64').map((z) => z * s);
    p.factors = { rank: R, A, B };
    syncFactoredWeights(p);
  } else {
    const W = normalArray(opts.key, I * K * F, 'float64');
    for (let q = 0; q < W.length; q++) W[q] *= scale;
    p.W = W;
  }
  if (opts.implicitNorm !== undefined && opts.implicitNorm !== 'none' && opts.implicitNorm !== 'sqrt') throw new InvalidArgumentError(`createRbmCf: implicitNorm must be 'none' or 'sqrt', got ${String(opts.implicitNorm)}`);
  if (opts.conditional) { p.D = new Float64Array(I * F); if (opts.implicitNorm === 'sqrt') p.implicitNorm = 'sqrt'; }
  if (opts.userFeatureDim !== undefined) { p.userFeatureDim = opts.userFeatureDim; p.U = new Float64Array(opts.userFeatureDim * F); }
  if (opts.itemFeatureDim !== undefined) { p.itemFeatureDim = opts.itemFeatureDim; p.G = new Float64Array(opts.itemFeatureDim * K); }
  return p;
}

/** Sets `W = A·B` of a factored model in place (no-op for a full-rank one). */
export function syncFactoredWeights(p: RbmCfParams): void {
  if (!p.factors) return;
  const { rank: R, A, B } = p.factors, F = p.nHidden, rows = p.nItems * p.K, W = p.W;
  W.fill(0);
  for (let r0 = 0; r0 < rows; r0++) {
    for (let t = 0; t < R; t++) {
      const a = A[r0 * R + t];
      if (a === 0) continue;
      const o = r0 * F, ob = t * F;
      for (let j = 0; j < F; j++) W[o + j] += a * B[ob + j];
    }
  }
}

/**
 * Chain rule through `W = A·B`: given `dW = ∂L/∂W [rows, F]`, returns `dA = dW·Bᵀ [rows, R]` and `dB = Aᵀ·dW [R, F]`.
 * @example const { dA, dB } = factorGradients(p.factors, dW, p.nHidden);
 */
export function factorGradients(f: RbmCfFactors, dW: Float64Array, F: number): { dA: Float64Array; dB: Float64Array } {
  const R = f.rank, rows = f.A.length / R;
  const dA = new Float64Array(f.A.length), dB = new Float64Array(f.B.length);
  for (let r0 = 0; r0 < rows; r0++) {
    const o = r0 * F;
    let nz = false;
    for (let j = 0; j < F; j++) if (dW[o + j] !== 0) { nz = true; break; }
    if (!nz) continue;
    for (let t = 0; t < R; t++) {
      const ob = t * F, a = f.A[r0 * R + t];
      let s = 0;
      for (let j = 0; j < F; j++) { s += dW[o + j] * f.B[ob + j]; dB[ob + j] += a * dW[o + j]; }
      dA[r0 * R + t] = s;
    }
  }
  return { dA, dB };
}

/** A deep copy of the parameters (training returns new parameters and never mutates its input). */
export function cloneRbmCf(p: RbmCfParams): RbmCfParams {
  const q: RbmCfParams = { nItems: p.nItems, K: p.K, nHidden: p.nHidden, levels: [...p.levels], W: p.W.slice(), b: p.b.slice(), c: p.c.slice() };
  if (p.factors) q.factors = { rank: p.factors.rank, A: p.factors.A.slice(), B: p.factors.B.slice() };
  if (p.D) q.D = p.D.slice();
  if (p.implicitNorm) q.implicitNorm = p.implicitNorm;
  if (p.U) { q.U = p.U.slice(); q.userFeatureDim = p.userFeatureDim; }
  if (p.G) { q.G = p.G.slice(); q.itemFeatureDim = p.itemFeatureDim; }
  return q;
}

/**
 * Checks that `side` supplies exactly what the model conditions on, with matching sizes; throws a RangeError naming
 * the mismatch. `nUsers` is the number of users predictions or training will index.
 */
export function checkSideInfo(p: RbmCfParams, side: CfSideInfo | undefined, nUsers: number, where: string): void {
  const s = side ?? {};
  if (p.D && !s.implicit) throw new InvalidArgumentError(`${where}: the model is conditional; pass side.implicit (the rated-item sets)`);
  if (p.D && s.implicit && s.implicit.nUsers !== nUsers) throw new InvalidArgumentError(`${where}: implicit feedback covers ${s.implicit.nUsers} users, the ratings ${nUsers}`);
  if (p.U) {
    if (!s.userFeatures) throw new InvalidArgumentError(`${where}: the model has user-feature weights; pass side.userFeatures`);
    if (s.userFeatures.dim !== p.userFeatureDim || s.userFeatures.rows !== nUsers) throw new InvalidArgumentError(`${where}: user features are ${s.userFeatures.rows}×${s.userFeatures.dim}, expected ${nUsers}×${p.userFeatureDim}`);
  }
  if (p.G) {
    if (!s.itemFeatures) throw new InvalidArgumentError(`${where}: the model has item-feature weights; pass side.itemFeatures`);
    if (s.itemFeatures.dim !== p.itemFeatureDim || s.itemFeatures.rows !== p.nItems) throw new InvalidArgumentError(`${where}: item features are ${s.itemFeatures.rows}×${s.itemFeatures.dim}, expected ${p.nItems}×${p.itemFeatureDim}`);
  }
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/**
 * Effective visible biases `b̃_ik = b_ik + Σ_d y_id G_dk` (`[nItems·K]`); `p.b` itself when the model has no item
 * features.
 */
export function visibleBias(p: RbmCfParams, side?: CfSideInfo): Float64Array {
  if (!p.G) return p.b;
  const y = side?.itemFeatures;
  if (!y) throw new InvalidArgumentError('visibleBias: the model has item-feature weights; pass side.itemFeatures');
  const K = p.K, Di = p.itemFeatureDim ?? 0, out = p.b.slice();
  for (let i = 0; i < p.nItems; i++) {
    for (let d = 0; d < Di; d++) {
      const v = y.x[i * Di + d];
      if (v === 0) continue;
      for (let k = 0; k < K; k++) out[i * K + k] += v * p.G[d * K + k];
    }
  }
  return out;
}

/** The scaling `s_r` of user `u`'s implicit-feedback input: 1, or `|r_u|^{-1/2}` with `implicitNorm: 'sqrt'` (0 for no items). */
export function implicitScale(p: RbmCfParams, r: UserItems, u: number): number {
  if (p.implicitNorm !== 'sqrt') return 1;
  const n = r.start[u + 1] - r.start[u];
  return n > 0 ? 1 / Math.sqrt(n) : 0;
}

/** The fixed part of user `u`'s hidden input, `c_j + s_r Σ_i r_ui D_ij + Σ_d x_ud U_dj`, into `out` (length F). */
export function conditioningInput(p: RbmCfParams, side: CfSideInfo | undefined, u: number, out: Float64Array): void {
  const F = p.nHidden;
  out.set(p.c);
  if (p.D) {
    const r = side?.implicit;
    if (!r) throw new InvalidArgumentError('conditioningInput: the model is conditional; pass side.implicit');
    const sc = implicitScale(p, r, u);
    for (let q = r.start[u]; q < r.start[u + 1]; q++) {
      const o = r.item[q] * F;
      for (let j = 0; j < F; j++) out[j] += sc * p.D[o + j];
    }
  }
  if (p.U) {
    const x = side?.userFeatures;
    if (!x) throw new InvalidArgumentError('conditioningInput: the model has user-feature weights; pass side.userFeatures');
    const Du = p.userFeatureDim ?? 0;
    for (let d = 0; d < Du; d++) {
      const v = x.x[u * Du + d];
      if (v === 0) continue;
      for (let j = 0; j < F; j++) out[j] += v * p.U[d * F + j];
    }
  }
}

/**
 * Hidden pre-activations `a_j = base_j + Σ_{rated} W_{i r_i j}` of one user into `out` (length F); `base` defaults to
 * `c` (the plain model; pass {@link conditioningInput}'s result for the conditional/feature terms).
 */
export function hiddenInput(p: RbmCfParams, items: ArrayLike<number>, levels: ArrayLike<number>, out: Float64Array, from = 0, to = items.length, base: Float64Array = p.c): void {
  const F = p.nHidden, K = p.K, W = p.W;
  out.set(base);
  for (let q = from; q < to; q++) {
    const o = (items[q] * K + levels[q]) * F;
    for (let j = 0; j < F; j++) out[j] += W[o + j];
  }
}

/**
 * `p(v_q = k | V)` for item `q` given hidden pre-activations `a` (from {@link hiddenInput}), exact:
 * `∝ exp(b̃_qk + Σ_j softplus(a_j + W_qkj))`. Writes K probabilities into `out`. `bias` is `b̃` (default `p.b`).
 */
export function predictDistribution(p: RbmCfParams, a: Float64Array, q: number, out: Float64Array, bias: Float64Array = p.b): void {
  const F = p.nHidden, K = p.K;
  let mx = -Infinity;
  for (let k = 0; k < K; k++) {
    const o = (q * K + k) * F;
    let s = bias[q * K + k];
    for (let j = 0; j < F; j++) s += softplus(a[j] + p.W[o + j]);
    out[k] = s;
    if (s > mx) mx = s;
  }
  let z = 0;
  for (let k = 0; k < K; k++) { out[k] = Math.exp(out[k] - mx); z += out[k]; }
  for (let k = 0; k < K; k++) out[k] /= z;
}

/**
 * Free energy of one user's ratings, `F(V) = −Σ_q b̃_{i_q v_q} − Σ_j softplus(a_j(V))`, so that
 * `p(V | r, x, y) = exp(−F(V)) / Σ_{V'} exp(−F(V'))` over the level assignments `V'` of the same items.
 */
export function userFreeEnergy(p: RbmCfParams, side: CfSideInfo | undefined, u: number, items: ArrayLike<number>, levels: ArrayLike<number>): number {
  const F = p.nHidden, base = new Float64Array(F), a = new Float64Array(F), bias = visibleBias(p, side);
  conditioningInput(p, side, u, base);
  hiddenInput(p, items, levels, a, 0, items.length, base);
  let s = 0;
  for (let q = 0; q < items.length; q++) s -= bias[items[q] * p.K + levels[q]];
  for (let j = 0; j < F; j++) s -= softplus(a[j]);
  return s;
}

/** Gradient buffers of every parameter (the shape of {@link RbmCfParams}' arrays; `W` even when factored). */
export interface RbmCfGradients {
  W: Float64Array;
  b: Float64Array;
  c: Float64Array;
  D?: Float64Array;
  U?: Float64Array;
  G?: Float64Array;
}

/** Zero gradient buffers for `p`. */
export function zeroGradients(p: RbmCfParams): RbmCfGradients {
  const g: RbmCfGradients = { W: new Float64Array(p.W.length), b: new Float64Array(p.b.length), c: new Float64Array(p.nHidden) };
  if (p.D) g.D = new Float64Array(p.D.length);
  if (p.U) g.U = new Float64Array(p.U.length);
  if (p.G) g.G = new Float64Array(p.G.length);
  return g;
}

/**
 * Adds `weight ×` the sufficient statistics of one configuration to `g`: `−∂E/∂θ` averaged over `h ~ p(h | V)`, i.e.
 * `v_i^k·ph_j` for W, `v_i^k` for b, `ph_j` for c, `s_r·r_i·ph_j` for D, `x_ud·ph_j` for U and `y_id·v_i^k` for G, where
 * `ph = p(h = 1 | V)` and `levels[q]` is the level of `items[q]`. CD adds the data's statistics with weight +1 and
 * the chain's with −1; the exact log-likelihood gradient uses the model expectation instead.
 */
export function accumulateStatistics(p: RbmCfParams, side: CfSideInfo | undefined, u: number, items: ArrayLike<number>, levels: ArrayLike<number>, ph: ArrayLike<number>, weight: number, g: RbmCfGradients, from = 0, to = items.length): void {
  const F = p.nHidden, K = p.K;
  for (let q = from; q < to; q++) {
    const i = items[q], o = (i * K + levels[q]) * F;
    for (let j = 0; j < F; j++) g.W[o + j] += weight * ph[j];
    g.b[i * K + levels[q]] += weight;
    if (g.G) {
      const y = side!.itemFeatures!, Di = p.itemFeatureDim!;
      for (let d = 0; d < Di; d++) g.G[d * K + levels[q]] += weight * y.x[i * Di + d];
    }
  }
  for (let j = 0; j < F; j++) g.c[j] += weight * ph[j];
  if (g.D) {
    const r = side!.implicit!, w = weight * implicitScale(p, r, u);
    for (let q = r.start[u]; q < r.start[u + 1]; q++) {
      const o = r.item[q] * F;
      for (let j = 0; j < F; j++) g.D[o + j] += w * ph[j];
    }
  }
  if (g.U) {
    const x = side!.userFeatures!, Du = p.userFeatureDim!;
    for (let d = 0; d < Du; d++) {
      const v = x.x[u * Du + d];
      if (v === 0) continue;
      for (let j = 0; j < F; j++) g.U[d * F + j] += weight * v * ph[j];
    }
  }
}

/**
 * Predicts the ratings of `(user, item)` pairs by the expected value `Σ_k p(v = k | V_user, r, x, y)·level_k`, with
 * `V_user` the user's ratings in `known` (the training set) and `side` what the model conditions on.
 * @returns one prediction per query, aligned with `queries`.
 */
export function predictRatings(p: RbmCfParams, known: Ratings, queries: { user: ArrayLike<number>; item: ArrayLike<number> }, side?: CfSideInfo): Float64Array {
  checkSideInfo(p, side, known.nUsers, 'predictRatings');
  const g = groupByUser(known, p.levels);
  const n = queries.user.length;
  const out = new Float64Array(n);
  const byUser = new Map<number, number[]>();
  for (let q = 0; q < n; q++) {
    const u = queries.user[q], i = queries.item[q];
    if (!(u >= 0 && u < g.nUsers)) throw new InvalidArgumentError(`predictRatings: query ${q} has user index ${u}, outside [0, ${g.nUsers})`);
    if (!(i >= 0 && i < p.nItems)) throw new InvalidArgumentError(`predictRatings: query ${q} has item index ${i}, outside [0, ${p.nItems})`);
    let l = byUser.get(u);
    if (!l) byUser.set(u, (l = []));
    l.push(q);
  }
  const a = new Float64Array(p.nHidden), base = new Float64Array(p.nHidden), pr = new Float64Array(p.K);
  const bias = visibleBias(p, side);
  for (const [u, qs] of byUser) {
    conditioningInput(p, side, u, base);
    hiddenInput(p, g.item, g.level, a, g.start[u], g.start[u + 1], base);
    for (const q of qs) {
      predictDistribution(p, a, queries.item[q], pr, bias);
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
  /** Learning rate for every parameter (per-user averaged update; default 0.1). */
  lr?: number;
  /** Momentum: `momentum` after the first 5 epochs, 0.5 before (default 0.9). */
  momentum?: number;
  /** L2 weight decay on the weights W (or A, B) and D — not the biases (default 0.001). */
  weightDecay?: number;
  /** L2 weight decay on the side-feature weights U and G (default: `weightDecay`). */
  featureDecay?: number;
  /**
   * CD steps `T` per phase: the epochs are split into `cdSteps.length` equal phases using `T = cdSteps[phase]`
   * (default `[1, 3, 5]`, "CD with increasing T"). A number gives a fixed T.
   */
  cdSteps?: number | readonly number[];
  /** What the model conditions on (required when it has D, U or G). */
  side?: CfSideInfo;
  /** Called after each epoch. */
  onEpoch?: (info: { epoch: number; T: number; reconError: number }) => void;
  /**
   * The CD statistics of a mini-batch computed elsewhere (default: {@link rbmCfBatchStatistics} on the host), e.g. on
   * the WebGPU device (`rbmCfBatchStatisticsGpu` of `models/rbmCf/gpu.ts`); asynchronous ones need
   * {@link trainRbmCfAsync} or `compareCfAsync`. The same uniforms, so the same draws.
   */
  statistics?: RbmCfStatistics;
}

/** What a mini-batch's CD pass needs: the parameters, the users (in batch order), `T`, the batch's uniforms and `b̃`. */
export interface RbmCfBatchInput {
  readonly p: RbmCfParams;
  readonly side: CfSideInfo | undefined;
  readonly ratings: UserRatings;
  /** Users of the batch, in the order they draw their uniforms. */
  readonly users: ArrayLike<number>;
  readonly T: number;
  /** The batch's uniforms: per user with ratings, `F` (first hidden draw), then per step `n_u` (visible) and `F` (hidden, not after the last). */
  readonly rnd: Float64Array;
  /** Effective visible biases `b̃` ({@link visibleBias}). */
  readonly bias: Float64Array;
}

/** Counts of a mini-batch's CD pass: users and ratings that took part, and one-step reconstructions that differ. */
export interface RbmCfBatchCounts {
  readonly users: number;
  readonly ratings: number;
  readonly wrong: number;
  readonly total: number;
}

/** Adds a mini-batch's CD statistics (data minus chain, summed over users) to `grads` and returns its counts. */
export type RbmCfStatistics = (input: RbmCfBatchInput, grads: RbmCfGradients) => RbmCfBatchCounts | Promise<RbmCfBatchCounts>;

/** @internal An asynchronous statistics result the driver awaits and sends back (`next(value)`, or `throw(error)`). */
export interface RbmCfPending {
  readonly pending: Promise<unknown>;
}

/** CD steps `T` used in `epoch` (0-based) of `epochs`. */
export function cdStepsAt(cd: number | readonly number[], epoch: number, epochs: number): number {
  if (typeof cd === 'number') return cd;
  const phase = Math.min(cd.length - 1, Math.floor((epoch * cd.length) / epochs));
  return cd[phase];
}

/**
 * The CD statistics of one mini-batch on the host (the default of `TrainRbmCfOptions.statistics`): for each user with
 * ratings, `ph0 = p(h|V)`, `T` block-Gibbs steps on the rated items with the batch's uniforms (hidden samples drive
 * the chain, the last step keeps probabilities), then the data's statistics added with weight +1 and the chain's
 * with −1 ({@link accumulateStatistics}).
 * @example const counts = rbmCfBatchStatistics(input, grads);
 */
export function rbmCfBatchStatistics(input: RbmCfBatchInput, grads: RbmCfGradients): RbmCfBatchCounts {
  const { p, side, ratings: g, users, T, rnd, bias } = input;
  const F = p.nHidden, K = p.K;
  const base = new Float64Array(F), a = new Float64Array(F), ph0 = new Float64Array(F), h = new Float64Array(F), phT = new Float64Array(F);
  const logits = new Float64Array(K);
  const act = new Int32Array(F);
  let neg = new Int32Array(16);
  let nb = 0, nr = 0, wrong = 0, total = 0;
  let r = 0;
  for (let bi = 0; bi < users.length; bi++) {
    const u = users[bi];
    const s = g.start[u], e = g.start[u + 1], n = e - s;
    if (n === 0) continue;
    nb++;
    nr += n;
    const r0 = r;
    if (neg.length < n) neg = new Int32Array(2 * n);
    conditioningInput(p, side, u, base);
    hiddenInput(p, g.item, g.level, a, s, e, base);
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
          let z = bias[i * K + kk];
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
      // p(h | V_neg), the conditioning terms unchanged
      hiddenInput(p, g.item.subarray(s, e), neg, phT, 0, n, base);
      for (let j = 0; j < F; j++) phT[j] = sigmoid(phT[j]);
      if (t + 1 < T) for (let j = 0; j < F; j++) h[j] = rnd[r++] < phT[j] ? 1 : 0;
    }
    accumulateStatistics(p, side, u, g.item, g.level, ph0, 1, grads, s, e);
    accumulateStatistics(p, side, u, g.item.subarray(s, e), neg, phT, -1, grads, 0, n);
    r = r0 + T * (F + n);
  }
  return { users: nb, ratings: nr, wrong, total };
}

/**
 * Trains RBM-CF parameters by CD-T on the users' rated items only and returns new parameters (`p0` is not changed).
 * For each user the positive statistics use `p(h|V)` with the data `V`; the negative ones come from `T` block-Gibbs
 * steps `h ~ p(h|V), V ~ p(V|h)` that resample only the rated items (hidden *samples* drive the chain, the last step
 * uses probabilities); the conditioning terms (`r`, user and item features) are held fixed. Updates are the
 * batch-averaged statistics differences (see {@link accumulateStatistics}; per user, and per rating for the weights
 * every rating touches: the item-feature weights G and a factored model's B) with momentum and weight decay; a factored
 * model maps the W update through {@link factorGradients}. Randomness is `foldIn` of `key` by epoch and batch.
 * @returns the trained parameters and the per-epoch reconstruction error (fraction of rated items whose one-step
 * reconstruction sample differs).
 * @example const { params } = trainRbmCf(createRbmCf({ nItems, levels, key: key(0) }), train, key(1), { epochs: 20 });
 */
export function trainRbmCf(p0: RbmCfParams, train: Ratings, k: Key, opts: TrainRbmCfOptions = {}): { params: RbmCfParams; reconError: number[] } {
  return runRbmCfSteps(rbmCfBatches(p0, train, k, opts));
}

/** Runs a generator of RBM-CF mini-batches to its end synchronously (its statistics must be synchronous). @internal */
export function runRbmCfSteps<R>(it: Generator<RbmCfBatchPoint | RbmCfPending, R, unknown>): R {
  for (let r = it.next(); ; r = it.next()) {
    if (r.done) return r.value;
    if ('pending' in r.value) {
      r.value.pending.catch(() => undefined); // not awaited: its rejection must not surface as an unhandled one
      throw new InvalidArgumentError('trainRbmCf: asynchronous statistics need trainRbmCfAsync / compareCfAsync');
    }
  }
}

/**
 * {@link trainRbmCf} that hands control to the event loop at most every `run.yieldMs` milliseconds (default 50) and
 * stops after the mini-batch in progress once `run.signal` is aborted (`stoppedIn`: the 1-based epoch it stopped in;
 * `params` then hold the partly trained weights). Bit-identical to {@link trainRbmCf} when not stopped.
 * @example const { params, stoppedIn } = await trainRbmCfAsync(p0, train, key(1), { epochs: 20 }, { signal });
 */
export async function trainRbmCfAsync(
  p0: RbmCfParams, train: Ratings, k: Key, opts: TrainRbmCfOptions = {}, run: { signal?: AbortSignal; yieldMs?: number } = {},
): Promise<{ params: RbmCfParams; reconError: number[]; stoppedIn?: number }> {
  const r = await driveRbmCfSteps(rbmCfBatches(p0, train, k, opts), run);
  return 'stoppedIn' in r ? { params: r.at.params, reconError: r.at.reconError, stoppedIn: r.stoppedIn } : r.value;
}

/** Where a stopped RBM-CF run was: the 1-based epoch and the current weights and reconstruction errors. */
export interface RbmCfBatchPoint {
  readonly epoch: number;
  readonly params: RbmCfParams;
  readonly reconError: number[];
}

/**
 * Runs a generator of RBM-CF mini-batches ({@link trainRbmCf}'s loop, or `compareCf`'s) to its end, handing control to
 * the event loop at most every `run.yieldMs` ms (default 50) and stopping after the batch in progress once `run.signal`
 * is aborted. @internal
 */
export async function driveRbmCfSteps<R>(
  it: Generator<RbmCfBatchPoint | RbmCfPending, R, unknown>, run: { signal?: AbortSignal; yieldMs?: number },
): Promise<{ value: R } | { stoppedIn: number; at: RbmCfBatchPoint }> {
  const every = run.yieldMs ?? 50;
  let last = performance.now();
  for (;;) {
    // Asynchronous statistics: their result (or error) goes back to the loop.
    const r = await settlePending(it, it.next());
    if (r.done) return { value: r.value };
    const at = r.value as RbmCfBatchPoint;
    if (performance.now() - last >= every) {
      await new Promise<void>((res) => setTimeout(res, 0));
      last = performance.now();
    }
    if (run.signal?.aborted) return { stoppedIn: at.epoch, at };
  }
}

/** The loop of {@link trainRbmCf} as a generator: yields after every mini-batch (1-based epoch, current weights). @internal */
export function* rbmCfBatches(p0: RbmCfParams, train: Ratings, k: Key, opts: TrainRbmCfOptions): Generator<RbmCfBatchPoint | RbmCfPending, { params: RbmCfParams; reconError: number[] }, unknown> {
  const epochs = opts.epochs ?? 20, B = opts.batchSize ?? 20, lr = opts.lr ?? 0.1;
  const mom = opts.momentum ?? 0.9, wd = opts.weightDecay ?? 0.001, fwd = opts.featureDecay ?? wd, cd = opts.cdSteps ?? [1, 3, 5];
  if (!(wd >= 0) || !(fwd >= 0)) throw new InvalidArgumentError(`trainRbmCf: weightDecay and featureDecay must be ≥ 0, got ${wd}, ${fwd}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new InvalidArgumentError(`trainRbmCf: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(B) || B < 1) throw new InvalidArgumentError(`trainRbmCf: batchSize must be a positive integer, got ${B}`);
  if (!(lr > 0)) throw new InvalidArgumentError(`trainRbmCf: lr must be > 0, got ${lr}`);
  for (const t of typeof cd === 'number' ? [cd] : cd) if (!Number.isInteger(t) || t < 1) throw new InvalidArgumentError(`trainRbmCf: cdSteps must be positive integers, got ${String(cd)}`);
  if (train.nItems !== p0.nItems) throw new InvalidArgumentError(`trainRbmCf: ratings have ${train.nItems} items but the model has ${p0.nItems}`);
  const side = opts.side;
  checkSideInfo(p0, side, train.nUsers, 'trainRbmCf');
  const p = cloneRbmCf(p0);
  const g = groupByUser(train, p.levels);
  const F = p.nHidden, K = p.K;
  const grads = zeroGradients(p);
  // (parameter, gradient, velocity, decayed) blocks; a factored W's block is filled from factorGradients per batch
  const blocks: { x: Float64Array; g: () => Float64Array; v: Float64Array; decay: number; perRating?: boolean }[] = [];
  let fg: { dA: Float64Array; dB: Float64Array } | undefined;
  if (p.factors) {
    const f = p.factors;
    blocks.push({ x: f.A, g: () => fg!.dA, v: new Float64Array(f.A.length), decay: wd });
    // B is shared by every item row of W, so (like G) its statistic sums over all ratings of the batch: average it per
    // rating (per user it moved far faster than A and the factored model underfitted: validation RMSE 0.743 → 0.700)
    blocks.push({ x: f.B, g: () => fg!.dB, v: new Float64Array(f.B.length), decay: wd, perRating: true });
  } else blocks.push({ x: p.W, g: () => grads.W, v: new Float64Array(p.W.length), decay: wd });
  blocks.push({ x: p.b, g: () => grads.b, v: new Float64Array(p.b.length), decay: 0 });
  blocks.push({ x: p.c, g: () => grads.c, v: new Float64Array(F), decay: 0 });
  if (p.D) blocks.push({ x: p.D, g: () => grads.D!, v: new Float64Array(p.D.length), decay: wd });
  if (p.U) blocks.push({ x: p.U, g: () => grads.U!, v: new Float64Array(p.U.length), decay: fwd });
  // G is shared by every rated item, so its statistic sums over all ratings of the batch: average it per rating (per
  // user it took steps ~n_u times larger than any other weight's and cost RMSE even with uninformative features)
  if (p.G) blocks.push({ x: p.G, g: () => grads.G!, v: new Float64Array(p.G.length), decay: fwd, perRating: true });
  const stats = opts.statistics ?? rbmCfBatchStatistics;
  const recon: number[] = [];
  for (let ep = 0; ep < epochs; ep++) {
    const T = cdStepsAt(cd, ep, epochs);
    const m = ep < 5 ? 0.5 : mom;
    const ke = foldIn(k, ep);
    const order = permutation(foldIn(ke, 0x5eed), g.nUsers);
    let wrong = 0, total = 0;
    for (let b0 = 0; b0 < g.nUsers; b0 += B) {
      const b1 = Math.min(g.nUsers, b0 + B);
      for (const arr of Object.values(grads) as Float64Array[]) arr.fill(0);
      const bias = visibleBias(p, side);
      // all uniforms of the batch at once: T·(F + n_u) per user, in batch order
      let need = 0;
      for (let bi = b0; bi < b1; bi++) { const u = order[bi]; need += T * (F + g.start[u + 1] - g.start[u]); }
      const rnd = uniformArray(foldIn(ke, 1 + b0), need, 'float64');
      const input: RbmCfBatchInput = { p, side, ratings: g, users: order.subarray(b0, b1), T, rnd, bias };
      const out = stats(input, grads);
      const counts = out instanceof Promise ? ((yield { pending: out }) as RbmCfBatchCounts) : out;
      const nb = counts.users, nr = counts.ratings;
      wrong += counts.wrong;
      total += counts.total;
      if (nb === 0) continue;
      const st = lr / nb;
      if (p.factors) fg = factorGradients(p.factors, grads.W, F);
      // momentum updates; weights no user in the batch touched get only momentum and decay
      for (const bl of blocks) {
        const x = bl.x, gr = bl.g(), v = bl.v, dec = lr * bl.decay, sb = bl.perRating ? lr / nr : st;
        for (let q = 0; q < x.length; q++) { v[q] = m * v[q] + sb * gr[q] - dec * x[q]; x[q] += v[q]; }
      }
      if (p.factors) syncFactoredWeights(p);
      yield { epoch: ep + 1, params: p, reconError: recon };
    }
    const named: [string, Float64Array | undefined][] = [['W', p.W], ['b', p.b], ['c', p.c], ['D', p.D], ['U', p.U], ['G', p.G], ['A', p.factors?.A], ['B', p.factors?.B]];
    for (const [name, arr] of named) {
      if (!arr) continue;
      for (let q = 0; q < arr.length; q++) {
        if (!Number.isFinite(arr[q])) throw new InvalidArgumentError(`trainRbmCf: ${name}[${q}] became ${arr[q]} in epoch ${ep + 1}; lower the learning rate`);
      }
    }
    const re = total ? wrong / total : NaN; // no rating reconstructed this epoch: undefined, not 0
    recon.push(re);
    opts.onEpoch?.({ epoch: ep + 1, T, reconError: re });
  }
  return { params: p, reconError: recon };
}

/**
 * Top-`n` recommendations for one user: the items the user has not rated in `known`, ranked by expected rating
 * (ties by item index). @returns `{item, expected}` pairs, best first.
 */
export function recommendForUser(p: RbmCfParams, known: Ratings, user: number, n: number, side?: CfSideInfo): { item: number; expected: number }[] {
  if (!(user >= 0 && user < known.nUsers)) throw new InvalidArgumentError(`recommendForUser: user index ${user} outside [0, ${known.nUsers})`);
  checkSideInfo(p, side, known.nUsers, 'recommendForUser');
  const g = groupByUser(known, p.levels);
  const a = new Float64Array(p.nHidden), base = new Float64Array(p.nHidden), pr = new Float64Array(p.K);
  conditioningInput(p, side, user, base);
  hiddenInput(p, g.item, g.level, a, g.start[user], g.start[user + 1], base);
  const bias = visibleBias(p, side);
  const rated = new Set<number>();
  for (let q = g.start[user]; q < g.start[user + 1]; q++) rated.add(g.item[q]);
  const out: { item: number; expected: number }[] = [];
  for (let i = 0; i < p.nItems; i++) {
    if (rated.has(i)) continue;
    predictDistribution(p, a, i, pr, bias);
    let e = 0;
    for (let k = 0; k < p.K; k++) e += pr[k] * p.levels[k];
    out.push({ item: i, expected: e });
  }
  out.sort((x, y) => y.expected - x.expected || x.item - y.item);
  return out.slice(0, n);
}

/** Levels of a rating set, ready for {@link createRbmCf}. */
export { ratingLevels };
