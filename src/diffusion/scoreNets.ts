/** Time-conditioned score networks: an MLP with a sinusoidal time embedding, and a small U-Net-like conv net for 28×28 images. */
import {
  Tensor, ShapeError, add, concat, reshape, sin, cos, mul, div, silu, linear, tensor, squeeze,
  conv2d, upsampleConcat2d, type DType,
} from '../tensor/index.js';
import { split, type Key } from '../random/index.js';
import { initMLP, applyMLP, type MLPParams } from '../nn/mlp.js';
import type { Activation } from '../nn/activations.js';
import { initWeight } from '../nn/init.js';
import type { SDE } from './sde.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * A time-conditioned score `(params, x [n, ...dim], t [n]) → s(x, t) [n, ...dim]`; `t` holds one diffusion time per row.
 */
export type TimeScoreFn<P> = (params: P, x: Tensor, t: Tensor) => Tensor;
/** A time-conditioned energy `(params, x [n, ...dim], t [n]) → E(x, t) [n]`; its score is `−∇ₓE`. */
export type TimeEnergyFn<P> = (params: P, x: Tensor, t: Tensor) => Tensor;

/**
 * Sinusoidal embedding of times: `emb(t) = [sin(ω₁t), …, sin(ω_k t), cos(ω₁t), …, cos(ω_k t)]` with `k = dim/2`
 * frequencies spaced geometrically from `1` to `maxFreq` (default 100, suited to `t ∈ [0, 1]`).
 * Shapes: `t [n]` → `[n, dim]` (`dim` even). Not trainable.
 * @example timeEmbedding(tensor([0, 0.5, 1]), 16) // [3, 16]
 */
export function timeEmbedding(t: Tensor, dim: number, maxFreq = 100): Tensor {
  if (t.ndim !== 1) throw new ShapeError(`timeEmbedding: t must be [n], got [${t.shape.join(', ')}]`);
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) throw new InvalidArgumentError(`timeEmbedding: dim must be an even integer ≥ 2, got ${dim}`);
  const k = dim / 2;
  const w = new Float64Array(k);
  for (let i = 0; i < k; i++) w[i] = k === 1 ? 1 : Math.exp((Math.log(maxFreq) * i) / (k - 1));
  const arg = mul(reshape(t, [t.shape[0], 1]), tensor(w, [1, k], t.dtype));
  return concat([sin(arg), cos(arg)], 1);
}

/** Options of {@link initTimeMLP}. */
export interface TimeMLPOptions {
  /** Data dimension `d` (input `x [n, d]`). */
  readonly dim: number;
  /** Hidden widths (default `[64, 64]`). */
  readonly hidden?: readonly number[];
  /** Time-embedding width (even, default 16). */
  readonly embedDim?: number;
  /** Output width: `d` for a score network (default), 1 for an energy network. */
  readonly out?: number;
  /** Activation (default `silu`). */
  readonly activation?: Activation;
  readonly dtype?: DType;
}

/** Parameters of a time-conditioned MLP: an {@link MLPParams} record whose first layer takes `[x, emb(t)]`. */
export type TimeMLPParams = MLPParams;

/**
 * Initialises a time-conditioned MLP `[d + embedDim, …hidden, out]` (see {@link applyTimeMLP}).
 * @example const p = initTimeMLP(key(0), { dim: 2 }); // 18-64-64-2
 */
export function initTimeMLP(key: Key, opts: TimeMLPOptions): TimeMLPParams {
  const e = opts.embedDim ?? 16;
  const sizes = [opts.dim + e, ...(opts.hidden ?? [64, 64]), opts.out ?? opts.dim];
  return initMLP(key, sizes, { activation: opts.activation ?? 'silu', dtype: opts.dtype });
}

/**
 * Applies a time-conditioned MLP: `net(x, t) = MLP([x, emb(t)])`, `x [n, d]`, `t [n]` → `[n, out]`. The embedding
 * width is read from the first layer (`in − d`).
 * @example applyTimeMLP(p, x, t) // [n, 2]
 */
export function applyTimeMLP(params: TimeMLPParams, x: Tensor, t: Tensor, activation: Activation = 'silu'): Tensor {
  if (x.ndim !== 2) throw new ShapeError(`applyTimeMLP: x must be [n, d], got [${x.shape.join(', ')}]`);
  if (t.ndim !== 1 || t.shape[0] !== x.shape[0]) throw new ShapeError(`applyTimeMLP: t must be [${x.shape[0]}], got [${t.shape.join(', ')}]`);
  const w0 = params['l0.w'];
  if (!(w0 instanceof Tensor)) throw new ShapeError('applyTimeMLP: parameters have no l0.w');
  const e = w0.shape[0] - x.shape[1];
  if (e < 2 || e % 2 !== 0) throw new ShapeError(`applyTimeMLP: first layer takes ${w0.shape[0]} inputs, which does not fit x with ${x.shape[1]} features plus an even embedding`);
  return applyMLP(params, concat([x, timeEmbedding(t, e)], 1), activation);
}

function stdColumn(sde: SDE, t: Tensor, ndim: number, dtype: DType): Tensor {
  const n = t.shape[0];
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = sde.std(t.data[i]);
    if (!(s[i] > 0)) throw new InvalidArgumentError(`score network: σ(t) = ${s[i]} at t = ${t.data[i]} (row ${i}); use times t ≥ eps > 0`);
  }
  return reshape(tensor(s, [n], dtype), [n, ...new Array<number>(ndim - 1).fill(1)]);
}

/**
 * A score network from a time-conditioned MLP, noise-scaled as in Song et al.: `s(x, t) = net(x, t)/σ(t)`, so the
 * net predicts `−z` (the scaled noise) and its output stays O(1) at every `t`. Needs `σ(t) > 0` (train and sample on
 * `t ≥ eps`).
 * @example const score = mlpScore(vpSDE()); score(params, x, t) // [n, d]
 */
export function mlpScore(sde: SDE, activation: Activation = 'silu'): TimeScoreFn<TimeMLPParams> {
  return (params, x, t) => div(applyTimeMLP(params, x, t, activation), stdColumn(sde, t, 2, x.dtype));
}

/**
 * An energy network from a time-conditioned MLP with output width 1: `E(x, t) = net(x, t)/σ(t)`, so that the score
 * `−∇ₓE = −∇ₓnet/σ(t)` has the same scaling as {@link mlpScore}. Shapes: `x [n, d]`, `t [n]` → `[n]`.
 * @example const E = mlpTimeEnergy(vpSDE()); // use with energyToScore for training and likelihoods
 */
export function mlpTimeEnergy(sde: SDE, activation: Activation = 'silu'): TimeEnergyFn<TimeMLPParams> {
  return (params, x, t) => squeeze(div(applyTimeMLP(params, x, t, activation), stdColumn(sde, t, 2, x.dtype)), 1);
}

// ---------------------------------------------------------------------------------------------------------------
// U-Net-like convolutional score network for 28×28 images.

/** Options of {@link initUNet}. */
export interface UNetOptions {
  /** Image channels `C` (default 1). */
  readonly channels?: number;
  /** Base width `c` (default 16); the 14×14 and 7×7 levels use `2c`. */
  readonly base?: number;
  /** Time-embedding width (even, default 32). */
  readonly embedDim?: number;
  /**
   * Residual 3×3 blocks at the 7×7 level, `h ← h + SiLU(conv(h) + b + W_t·emb(t))` (default 0). Without them an
   * output pixel sees input pixels at most 8 rows/columns away (a 17×17 window); each block adds 4, so with 4 blocks
   * (24 away) every pixel of the central 22×22 region sees the whole 28×28 image, which global shape (a digit's
   * identity) needs.
   */
  readonly mid?: number;
  readonly dtype?: DType;
}

/** Parameters of {@link applyUNet}: conv filters `[O, I, 3, 3]` with biases, and per-block time projections. */
export type UNetParams = Record<string, Tensor>;

/**
 * Initialises a small U-Net for `[N, C, 28, 28]` images: encoder 28→14→7 (3×3 convs, stride 2 to downsample),
 * `mid` residual blocks at 7×7, decoder with nearest-neighbour upsampling and skip connections (channel
 * concatenation), each block adding a linear projection of the time embedding per channel. About
 * `(153 + 36·mid)·c² + (8 + 2·mid)·e·c` weights for one image channel and embedding width `e` (44 k for `c = 16`,
 * `mid = 0`; 166 k for `c = 32`, `mid = 0`; 322 k for `c = 32`, `mid = 4`).
 * @example const p = initUNet(key(0), { base: 8 }); applyUNet(p, x, t) // x [N, 1, 28, 28]
 */
export function initUNet(key: Key, opts: UNetOptions = {}): UNetParams {
  const C = opts.channels ?? 1;
  const c = opts.base ?? 16;
  const e = opts.embedDim ?? 32;
  const mid = opts.mid ?? 0;
  const dtype = opts.dtype ?? 'float32';
  if (!Number.isInteger(C) || C < 1 || !Number.isInteger(c) || c < 1) throw new InvalidArgumentError(`initUNet: channels and base must be positive integers, got ${C}, ${c}`);
  if (!Number.isInteger(e) || e < 2 || e % 2 !== 0) throw new InvalidArgumentError(`initUNet: embedDim must be an even integer ≥ 2, got ${e}`);
  if (!Number.isInteger(mid) || mid < 0 || mid > 16) throw new InvalidArgumentError(`initUNet: mid must be an integer in [0, 16], got ${mid}`);
  const blocks: [string, number, number][] = [
    ['enc1', C, c], ['enc2', c, 2 * c], ['enc3', 2 * c, 2 * c],
    ...Array.from({ length: mid }, (_, m): [string, number, number] => [`mid${m + 1}`, 2 * c, 2 * c]),
    ['dec2', 4 * c, 2 * c], ['dec1', 3 * c, c], ['out', c, C],
  ];
  const keys = split(key, 2 * blocks.length);
  const p: UNetParams = {};
  blocks.forEach(([name, i, o], b) => {
    const w = initWeight(keys[2 * b], [o, i, 3, 3], 9 * i, 9 * o, 'kaiming', dtype);
    // The output conv starts small so the initial score is ≈ 0 (stable first steps).
    p[`${name}.w`] = name === 'out' ? mul(w, 0.01) : w;
    p[`${name}.b`] = tensor(new Float64Array(o), [o], dtype);
    if (name !== 'out') p[`${name}.temb`] = initWeight(keys[2 * b + 1], [e, o], e, o, 'xavier', dtype);
  });
  return p;
}

/**
 * Applies the U-Net of {@link initUNet}: `x [N, C, 28, 28]`, `t [N]` → `[N, C, 28, 28]` (the raw network output;
 * divide by `σ(t)` for a noise-scaled score, see {@link unetScore}). The 7×7 residual blocks are those present in
 * `params` (`mid1`, `mid2`, …).
 */
export function applyUNet(params: UNetParams, x: Tensor, t: Tensor): Tensor {
  const w1 = params['enc1.w'];
  if (!(w1 instanceof Tensor)) throw new ShapeError('applyUNet: parameters have no enc1.w');
  if (x.ndim !== 4 || x.shape[1] !== w1.shape[1] || x.shape[2] !== 28 || x.shape[3] !== 28) {
    throw new ShapeError(`applyUNet: x must be [N, ${w1.shape[1]}, 28, 28], got [${x.shape.join(', ')}]`);
  }
  if (t.ndim !== 1 || t.shape[0] !== x.shape[0]) throw new ShapeError(`applyUNet: t must be [${x.shape[0]}], got [${t.shape.join(', ')}]`);
  const emb = timeEmbedding(t, params['enc1.temb'].shape[0]);
  // silu(conv(h) + b + W_t·emb(t)): the time projection joins the conv bias as one per-image bias row [N, O].
  const block = (name: string, h: Tensor, stride: number): Tensor =>
    silu(conv2d(h, params[`${name}.w`], linear(emb, params[`${name}.temb`], params[`${name}.b`]), { stride, padding: 1 }));
  const h1 = block('enc1', x, 1); // [N, c, 28, 28]
  const h2 = block('enc2', h1, 2); // [N, 2c, 14, 14]
  let h3 = block('enc3', h2, 2); // [N, 2c, 7, 7]
  for (let m = 1; params[`mid${m}.w`] !== undefined; m++) h3 = add(h3, block(`mid${m}`, h3, 1)); // residual, 7×7
  const u2 = block('dec2', upsampleConcat2d(h3, h2, 2), 1); // [N, 2c, 14, 14]: concat([upsample(h3), h2]) in one pass
  const u1 = block('dec1', upsampleConcat2d(u2, h1, 2), 1); // [N, c, 28, 28]
  return conv2d(u1, params['out.w'], params['out.b'], { padding: 1 });
}

/**
 * The U-Net as a noise-scaled score: `s(x, t) = UNet(x, t)/σ(t)`. Shapes `x [N, C, 28, 28]`, `t [N]`.
 * @example const score = unetScore(vpSDE()); continuousDSM(vpSDE(), { score }) // train on images in [−1, 1]
 */
export function unetScore(sde: SDE): TimeScoreFn<UNetParams> {
  return (params, x, t) => div(applyUNet(params, x, t), stdColumn(sde, t, 4, x.dtype));
}

/** `[n]` tensor holding one time `t` for every row (helper for binding a time-conditioned score at a fixed time). */
export function timeColumn(t: number, n: number, dtype: DType = 'float32'): Tensor {
  return tensor(new Float64Array(n).fill(t), [n], dtype);
}

