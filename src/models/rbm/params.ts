/**
 * Parameters of restricted Boltzmann machines as plain data, their initialisation and validation.
 *
 * All three model families share the bipartite energy
 *
 *   E(v, h) = E_vis(v) − cᵀh − v̂ᵀ W h,
 *
 * with `W` of shape `[nVisible, nHidden]`, visible bias `b` (`[nVisible]`), hidden bias `c` (`[nHidden]`) and binary
 * hidden units `h ∈ {0,1}^nHidden`:
 * - `bernoulli`: `v ∈ {0,1}^nv`, `E_vis = −bᵀv`, `v̂ = v`;
 * - `gaussian` (Gaussian–Bernoulli, the convention of Cho, Ilin & Raiko 2011): `v ∈ ℝ^nv`,
 *   `E_vis = Σ_i (v_i − b_i)² / (2σ_i²)`, `v̂_i = v_i / σ_i²`, with `σ_i² = exp(logVar_i)`;
 * - `softmax`: `G` categorical visible units with `K` states each, one-hot encoded into `nv = G·K` binary columns
 *   (group `g` owns columns `g·K … g·K+K−1`), `E_vis = −bᵀv`, `v̂ = v`.
 * @module
 */
import { ShapeError, Tensor, allocate, type DType, type TypedArray } from '../../tensor/tensor.js';
import { normalArray, type Key } from '../../random/index.js';
import { InvalidArgumentError, InvalidTypeError, EbmError, type EbmErrorCode } from '../../errors.js';

/** The visible-unit family of an RBM. */
export type VisibleType = 'bernoulli' | 'gaussian' | 'softmax';

/**
 * The parameters of an RBM, as plain data (tensors owned by the model; training updates them in place only when
 * asked to, see `cdStep`). Checkpoint by saving the four tensors plus `visible` and `categories`.
 */
export interface RBMParams {
  /** Visible-unit family. */
  readonly visible: VisibleType;
  /** `K`, the number of states per categorical visible unit (`softmax`); 1 for the other families. */
  readonly categories: number;
  /** Weights `W`, shape `[nVisible, nHidden]`. */
  readonly W: Tensor;
  /** Visible bias `b`, shape `[nVisible]`. */
  readonly b: Tensor;
  /** Hidden bias `c`, shape `[nHidden]`. */
  readonly c: Tensor;
  /** `gaussian` only: log-variances `log σ_i²`, shape `[nVisible]`; `null` for the other families. */
  readonly logVar: Tensor | null;
}

/** Thrown when an estimator is used (transform, sample, …) before `fit`/`partialFit`. */
export class NotFittedError extends EbmError {
  readonly code: EbmErrorCode = 'NOT_FITTED';
  override name = 'NotFittedError';
}

/** Number of visible columns (`G·K` for softmax). */
export function nVisibleOf(p: RBMParams): number {
  return p.W.shape[0];
}

/** Number of hidden units. */
export function nHiddenOf(p: RBMParams): number {
  return p.W.shape[1];
}

/** Options of {@link createRBM}. */
export interface CreateRBMOptions {
  /** Visible family (default `bernoulli`). */
  visible?: VisibleType;
  /** Number of visible columns (for `softmax`: groups × categories). */
  nVisible: number;
  /** Number of hidden units. */
  nHidden: number;
  /** `softmax`: states per visible unit `K ≥ 2` (must divide `nVisible`). */
  categories?: number;
  /** Element type (default `float32`). */
  dtype?: DType;
  /** Key for the weight initialisation; without it `W = 0`. */
  key?: Key;
  /** Standard deviation of the initial weights, `W_ij ~ N(0, weightScale²)` (default 0.01, Hinton's guide). */
  weightScale?: number;
  /** `gaussian`: initial σ, a number or one per visible column (default 1). */
  sigma?: number | ArrayLike<number>;
  /** Initial visible bias (default 0). */
  visibleBias?: ArrayLike<number>;
  /** Initial hidden bias (default 0). */
  hiddenBias?: ArrayLike<number>;
}

function checkPosInt(v: number, name: string, fn: string): void {
  if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(`${fn}: ${name} must be a positive integer, got ${v}`);
}

/**
 * Creates RBM parameters: `W ~ N(0, weightScale²)` when a key is given (else zeros), biases from the options
 * (default 0), and for Gaussian visible units `logVar = log σ²`.
 * @example
 * const p = createRBM({ nVisible: 784, nHidden: 500, key: key(0) });
 * const s = createRBM({ visible: 'softmax', nVisible: 3 * 4, categories: 4, nHidden: 5 });
 */
export function createRBM(opts: CreateRBMOptions): RBMParams {
  const fn = 'createRBM';
  const visible = opts.visible ?? 'bernoulli';
  if (visible !== 'bernoulli' && visible !== 'gaussian' && visible !== 'softmax') {
    throw new InvalidArgumentError(`${fn}: visible must be 'bernoulli', 'gaussian' or 'softmax', got '${String(visible)}'`);
  }
  const { nVisible: nv, nHidden: nh } = opts;
  checkPosInt(nv, 'nVisible', fn);
  checkPosInt(nh, 'nHidden', fn);
  const dtype = opts.dtype ?? 'float32';
  let categories = 1;
  if (visible === 'softmax') {
    categories = opts.categories ?? 0;
    if (!Number.isInteger(categories) || categories < 2) throw new InvalidArgumentError(`${fn}: softmax RBM needs categories ≥ 2, got ${opts.categories}`);
    if (nv % categories !== 0) throw new InvalidArgumentError(`${fn}: nVisible ${nv} is not a multiple of categories ${categories}`);
  } else if (opts.categories !== undefined && opts.categories !== 1) {
    throw new InvalidArgumentError(`${fn}: categories only applies to softmax RBMs`);
  }
  const scale = opts.weightScale ?? 0.01;
  if (!(scale >= 0) || !Number.isFinite(scale)) throw new InvalidArgumentError(`${fn}: weightScale must be a finite number ≥ 0, got ${scale}`);
  const w = opts.key ? normalArray(opts.key, nv * nh, dtype) : allocate(dtype, nv * nh);
  if (opts.key && scale !== 1) for (let i = 0; i < w.length; i++) w[i] *= scale;
  const fill = (n: number, src: ArrayLike<number> | undefined, name: string): TypedArray => {
    const a = allocate(dtype, n);
    if (src) {
      if (src.length !== n) throw new ShapeError(`${fn}: ${name} has ${src.length} entries, expected ${n}`);
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(src[i])) throw new InvalidArgumentError(`${fn}: ${name}[${i}] is ${src[i]}, not a finite number`);
        a[i] = src[i];
      }
    }
    return a;
  };
  const b = fill(nv, opts.visibleBias, 'visibleBias');
  const c = fill(nh, opts.hiddenBias, 'hiddenBias');
  let logVar: Tensor | null = null;
  if (visible === 'gaussian') {
    const s = opts.sigma ?? 1;
    const lv = allocate(dtype, nv);
    for (let i = 0; i < nv; i++) {
      const si = typeof s === 'number' ? s : s[i];
      if (!(si > 0) || !Number.isFinite(si)) throw new InvalidArgumentError(`${fn}: sigma${typeof s === 'number' ? '' : `[${i}]`} must be a finite number > 0, got ${si}`);
      lv[i] = 2 * Math.log(si);
    }
    if (typeof s !== 'number' && s.length !== nv) throw new ShapeError(`${fn}: sigma has ${s.length} entries, expected ${nv}`);
    logVar = new Tensor(lv, [nv]);
  } else if (opts.sigma !== undefined) {
    throw new InvalidArgumentError(`${fn}: sigma only applies to Gaussian visible units`);
  }
  return { visible, categories, W: new Tensor(w, [nv, nh]), b: new Tensor(b, [nv]), c: new Tensor(c, [nh]), logVar };
}

/** A deep copy of the parameters (new arrays). */
export function cloneParams(p: RBMParams): RBMParams {
  const cp = (t: Tensor): Tensor => new Tensor(t.data.slice(), t.shape);
  return { visible: p.visible, categories: p.categories, W: cp(p.W), b: cp(p.b), c: cp(p.c), logVar: p.logVar ? cp(p.logVar) : null };
}

/**
 * Checks that the parameters are consistent (shapes, one dtype, finite values, softmax grouping) and returns them;
 * throws a ShapeError/RangeError naming the offending field otherwise. `deep = false` skips the O(size) finiteness
 * scan (used by the training hot loop, which checks its own updates).
 */
export function validateParams(p: RBMParams, fn = 'rbm', deep = true): RBMParams {
  if (!p || !(p.W instanceof Tensor) || p.W.ndim !== 2) throw new ShapeError(`${fn}: params.W must be a 2-d tensor [nVisible, nHidden]`);
  const [nv, nh] = p.W.shape;
  if (!(p.b instanceof Tensor) || p.b.size !== nv) throw new ShapeError(`${fn}: params.b must have ${nv} entries (nVisible), got shape [${p.b?.shape?.join(', ')}]`);
  if (!(p.c instanceof Tensor) || p.c.size !== nh) throw new ShapeError(`${fn}: params.c must have ${nh} entries (nHidden), got shape [${p.c?.shape?.join(', ')}]`);
  const tensors: [string, Tensor][] = [['W', p.W], ['b', p.b], ['c', p.c]];
  if (p.visible === 'gaussian') {
    if (!(p.logVar instanceof Tensor) || p.logVar.size !== nv) throw new ShapeError(`${fn}: Gaussian RBM needs params.logVar with ${nv} entries`);
    tensors.push(['logVar', p.logVar]);
  } else if (p.visible === 'softmax') {
    if (!Number.isInteger(p.categories) || p.categories < 2 || nv % p.categories !== 0) {
      throw new InvalidArgumentError(`${fn}: softmax RBM has categories=${p.categories}, which must be ≥ 2 and divide nVisible=${nv}`);
    }
  } else if (p.visible !== 'bernoulli') {
    throw new InvalidArgumentError(`${fn}: params.visible must be 'bernoulli', 'gaussian' or 'softmax', got '${String(p.visible)}'`);
  }
  for (const [name, t] of tensors) {
    if (t.dtype !== p.W.dtype) throw new InvalidTypeError(`${fn}: params.${name} is ${t.dtype} but W is ${p.W.dtype}`);
    if (!deep) continue;
    const d = t.data;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) throw new InvalidArgumentError(`${fn}: params.${name}[${i}] is ${d[i]} (not finite)`);
  }
  return p;
}

/**
 * Returns the data of `x` (shape `[n, nVisible]`) in the params' dtype, checking shape, finiteness and the support of
 * the visible family (`bernoulli`: values in [0, 1]; `softmax`: each group of K columns is one-hot).
 * @returns `[data, n]`; the data is `x.data` itself when no conversion was needed.
 */
export function checkVisible(p: RBMParams, x: Tensor, fn: string): [TypedArray, number] {
  const nv = nVisibleOf(p);
  if (!(x instanceof Tensor)) throw new InvalidTypeError(`${fn}: data must be a Tensor of shape [n, ${nv}]`);
  if (x.ndim !== 2 || x.shape[1] !== nv) throw new ShapeError(`${fn}: data has shape [${x.shape.join(', ')}], expected [n, ${nv}]`);
  const n = x.shape[0];
  const dtype = p.W.dtype;
  const src = x.data;
  const out = x.dtype === dtype ? src : allocate(dtype, src.length);
  const K = p.categories;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < nv; i++) {
      const v = src[r * nv + i];
      if (!Number.isFinite(v)) throw new InvalidArgumentError(`${fn}: data row ${r}, column ${i} is ${v} (not finite)`);
      if (p.visible !== 'gaussian' && (v < 0 || v > 1)) throw new InvalidArgumentError(`${fn}: data row ${r}, column ${i} is ${v}; ${p.visible} visible units need values in [0, 1]`);
      if (out !== src) out[r * nv + i] = v;
    }
    if (p.visible === 'softmax') {
      for (let g = 0; g < nv; g += K) {
        let s = 0, ones = 0;
        for (let k = 0; k < K; k++) { const v = src[r * nv + g + k]; s += v; if (v === 1) ones++; }
        if (ones !== 1 || s !== 1) throw new InvalidArgumentError(`${fn}: data row ${r}, columns ${g}–${g + K - 1} (unit ${g / K}) are not one-hot`);
      }
    }
  }
  return [out, n];
}

/**
 * One-hot encodes categorical data for a softmax RBM: `x[r][g] ∈ {0…K−1}` becomes columns `g·K + x[r][g]`.
 * @param x integer matrix `[n, G]` (nested array or a Tensor of integral values).
 * @param K number of categories.
 * @returns a `[n, G·K]` tensor of 0/1.
 * @example oneHotCategories([[0, 2], [1, 1]], 3) // [[1,0,0, 0,0,1], [0,1,0, 0,1,0]]
 */
export function oneHotCategories(x: readonly (readonly number[])[] | Tensor, K: number, dtype: DType = 'float32'): Tensor {
  checkPosInt(K, 'K', 'oneHotCategories');
  const rows: number[][] = x instanceof Tensor
    ? (x.ndim === 2 ? (x.toNested() as number[][]) : (() => { throw new ShapeError(`oneHotCategories: expected a 2-d tensor, got [${x.shape.join(', ')}]`); })())
    : x.map((r) => Array.from(r));
  const n = rows.length;
  const G = n ? rows[0].length : 0;
  const out = allocate(dtype, n * G * K);
  for (let r = 0; r < n; r++) {
    if (rows[r].length !== G) throw new ShapeError(`oneHotCategories: row ${r} has ${rows[r].length} entries, expected ${G}`);
    for (let g = 0; g < G; g++) {
      const v = rows[r][g];
      if (!Number.isInteger(v) || v < 0 || v >= K) throw new InvalidArgumentError(`oneHotCategories: row ${r}, column ${g} is ${v}, not an integer in [0, ${K})`);
      out[(r * G + g) * K + v] = 1;
    }
  }
  return new Tensor(out, [n, G * K]);
}
