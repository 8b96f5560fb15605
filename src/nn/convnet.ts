/** A small convolutional network (strided 3×3 convolutions → flatten → dense layers) for 28×28 and 8×8 images. */
import { split, type Key } from '../random/index.js';
import { conv2d } from '../tensor/ops/conv.js';
import { linear } from '../tensor/ops/linalg.js';
import { reshape } from '../tensor/ops/shape.js';
import { ShapeError, Tensor, zeros, type DType } from '../tensor/tensor.js';
import { activationFn, isActivation, ACTIVATIONS, type Activation } from './activations.js';
import { convOutputSize } from './conv.js';
import { defaultInit, initWeight, type InitScheme } from './init.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Architecture of {@link initConvNet}: for each entry of `channels` a `kernel×kernel` convolution with `stride` and
 * `padding` followed by the activation; then the feature map is flattened (channel-major) and passed through dense
 * layers of widths `hidden` (each followed by the activation) and a final dense layer to `out` (no activation).
 * With the defaults (k = 3, stride 2, padding 1) each convolution halves the side, rounding up: 28 → 14 → 7 → 4,
 * 8 → 4 → 2 → 1.
 */
export interface ConvNetConfig {
  readonly inChannels: number;
  readonly height: number;
  readonly width: number;
  /** Output channels of each convolution (at least one). */
  readonly channels: readonly number[];
  /** Width(s) of the hidden dense layer(s); 0 or `[]` for none. */
  readonly hidden: number | readonly number[];
  /** Output width (e.g. 1 for an energy, 10 for class logits). */
  readonly out: number;
  readonly activation: Activation;
  /** Kernel side (default 3). */
  readonly kernel?: number;
  /** Convolution stride (default 2). */
  readonly stride?: number;
  /** Zero padding (default 1). */
  readonly padding?: number;
}

/** Options of {@link initConvNet}. */
export interface ConvNetInitOptions {
  readonly init?: InitScheme;
  readonly dtype?: DType;
}

/**
 * ConvNet parameters as a flat record (keys are safetensors tensor names): convolution `i` has `conv{i}.w
 * [C_{i+1}, C_i, k, k]` and `conv{i}.b [C_{i+1}]`; dense layer `j` has `fc{j}.w [in, out]` and `fc{j}.b [out]`, the
 * last dense layer mapping to `out`.
 */
export type ConvNetParams = Record<string, Tensor>;

function hiddenList(h: number | readonly number[]): number[] {
  if (typeof h === 'number') return h === 0 ? [] : [h];
  return h.slice();
}

/** Spatial sizes after each convolution and the flattened feature count fed to the first dense layer. */
export function convNetShapes(cfg: ConvNetConfig): { spatial: [number, number][]; flat: number } {
  const k = cfg.kernel ?? 3;
  const s = cfg.stride ?? 2;
  const p = cfg.padding ?? 1;
  let h = cfg.height;
  let w = cfg.width;
  const spatial: [number, number][] = [];
  for (let i = 0; i < cfg.channels.length; i++) {
    h = convOutputSize(h, k, s, p);
    w = convOutputSize(w, k, s, p);
    if (h <= 0 || w <= 0) throw new ShapeError(`convNet: convolution ${i} leaves no pixels (input ${cfg.height}×${cfg.width}, kernel ${k}, stride ${s}, padding ${p})`);
    spatial.push([h, w]);
  }
  const c = cfg.channels.length ? cfg.channels[cfg.channels.length - 1] : cfg.inChannels;
  return { spatial, flat: c * h * w };
}

function validate(cfg: ConvNetConfig): void {
  const ints: [number, string][] = [[cfg.inChannels, 'inChannels'], [cfg.height, 'height'], [cfg.width, 'width'], [cfg.out, 'out']];
  cfg.channels.forEach((c, i) => ints.push([c, `channels[${i}]`]));
  hiddenList(cfg.hidden).forEach((c, i) => ints.push([c, `hidden[${i}]`]));
  for (const [n, what] of ints) if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`convNet: ${what} must be a positive integer, got ${n}`);
  if (cfg.channels.length === 0) throw new InvalidArgumentError('convNet: channels needs at least one convolution');
  if (!isActivation(cfg.activation)) throw new InvalidArgumentError(`convNet: unknown activation '${String(cfg.activation)}' (expected one of ${ACTIVATIONS.join(', ')})`);
}

/**
 * Initialises a {@link ConvNetConfig} network; see {@link ConvNetParams} for the names.
 * @example
 * const cfg = { inChannels: 1, height: 28, width: 28, channels: [16, 32], hidden: 64, out: 10, activation: 'silu' } as const;
 * const p = initConvNet(key(0), cfg); applyConvNet(p, x, cfg) // x [n, 784] or [n, 1, 28, 28] → [n, 10]
 */
export function initConvNet(key: Key, cfg: ConvNetConfig, opts: ConvNetInitOptions = {}): ConvNetParams {
  validate(cfg);
  const dtype = opts.dtype ?? 'float32';
  const scheme = opts.init ?? defaultInit(cfg.activation);
  const k = cfg.kernel ?? 3;
  const dense = [convNetShapes(cfg).flat, ...hiddenList(cfg.hidden), cfg.out];
  const keys = split(key, cfg.channels.length + dense.length - 1);
  const p: ConvNetParams = {};
  let cin = cfg.inChannels;
  cfg.channels.forEach((cout, i) => {
    p[`conv${i}.w`] = initWeight(keys[i], [cout, cin, k, k], cin * k * k, cout * k * k, scheme, dtype);
    p[`conv${i}.b`] = zeros([cout], dtype);
    cin = cout;
  });
  for (let j = 0; j + 1 < dense.length; j++) {
    p[`fc${j}.w`] = initWeight(keys[cfg.channels.length + j], [dense[j], dense[j + 1]], dense[j], dense[j + 1], scheme, dtype);
    p[`fc${j}.b`] = zeros([dense[j + 1]], dtype);
  }
  return p;
}

/**
 * Applies the network: `x [N, C·H·W]` (flat images, row-major C, H, W) or `[N, C, H, W]` → `[N, out]`.
 * Differentiable to any order in both the parameters and the input.
 * @example applyConvNet(p, batch, cfg)
 */
export function applyConvNet(params: ConvNetParams, x: Tensor, cfg: ConvNetConfig): Tensor {
  return convNetLayers(params, x, cfg, false);
}

/**
 * The network's penultimate activations: everything {@link applyConvNet} computes except the last dense layer,
 * `[N, hidden[last]]` (or the flattened last convolution's output `[N, convNetShapes(cfg).flat]` when `hidden` is
 * empty). These are the features of FID-style sample-quality scores. Differentiable like {@link applyConvNet}.
 * @example const f = convNetFeatures(p, images, cfg); // [N, 128] for hidden [128]
 */
export function convNetFeatures(params: ConvNetParams, x: Tensor, cfg: ConvNetConfig): Tensor {
  return convNetLayers(params, x, cfg, true);
}

function convNetLayers(params: ConvNetParams, x: Tensor, cfg: ConvNetConfig, features: boolean): Tensor {
  const { inChannels: C, height: H, width: W } = cfg;
  const N = x.shape[0];
  if (x.ndim === 2 && x.shape[1] === C * H * W) x = reshape(x, [N, C, H, W]);
  else if (!(x.ndim === 4 && x.shape[1] === C && x.shape[2] === H && x.shape[3] === W)) {
    throw new ShapeError(`applyConvNet: input [${x.shape.join(', ')}] is neither [N, ${C * H * W}] nor [N, ${C}, ${H}, ${W}]`);
  }
  const act = activationFn(cfg.activation);
  const opts = { stride: cfg.stride ?? 2, padding: cfg.padding ?? 1 };
  let h = x;
  for (let i = 0; i < cfg.channels.length; i++) {
    const w = params[`conv${i}.w`];
    if (!(w instanceof Tensor)) throw new ShapeError(`applyConvNet: parameters have no 'conv${i}.w'`);
    h = act(conv2d(h, w, params[`conv${i}.b`], opts));
  }
  h = reshape(h, [N, h.size / Math.max(N, 1)]);
  const nDense = hiddenList(cfg.hidden).length + 1;
  for (let j = 0; j < (features ? nDense - 1 : nDense); j++) {
    const w = params[`fc${j}.w`];
    if (!(w instanceof Tensor)) throw new ShapeError(`applyConvNet: parameters have no 'fc${j}.w'`);
    if (w.shape[0] !== h.shape[1]) throw new ShapeError(`applyConvNet: 'fc${j}.w' is [${w.shape.join(', ')}] but its input has ${h.shape[1]} features`);
    h = linear(h, w, params[`fc${j}.b`]);
    if (j + 1 < nDense) h = act(h);
  }
  return h;
}
