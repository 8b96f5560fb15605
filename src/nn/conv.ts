/** 2-D convolution layers (NCHW) with parameters as a record of tensors. */
import type { Key } from '../random/index.js';
import { conv2d, type Conv2dOptions } from '../tensor/ops/conv.js';
import { ShapeError, Tensor, zeros } from '../tensor/tensor.js';
import { initWeight } from './init.js';
import type { LayerInitOptions } from './linear.js';
import { InvalidArgumentError } from '../errors.js';

/** Parameters of a convolution: `w [outC, inC, k, k]`, optional `b [outC]`. */
export type Conv2dParams = { readonly w: Tensor; readonly b?: Tensor };

/**
 * A `k×k` convolution `{w [outC, inC, k, k], b [outC]}` with fans `fᵢ = inC·k²`, `fₒ = outC·k²`, bias zero.
 * @example const p = initConv2d(key(0), 1, 16, 3); applyConv2d(p, x, { stride: 2, padding: 1 })
 */
export function initConv2d(key: Key, inChannels: number, outChannels: number, kernel: number, opts: LayerInitOptions = {}): Conv2dParams {
  for (const [n, what] of [[inChannels, 'inChannels'], [outChannels, 'outChannels'], [kernel, 'kernel']] as const) {
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`initConv2d: ${what} must be a positive integer, got ${n}`);
  }
  const dtype = opts.dtype ?? 'float32';
  const k2 = kernel * kernel;
  const w = initWeight(key, [outChannels, inChannels, kernel, kernel], inChannels * k2, outChannels * k2, opts.init ?? 'kaiming', dtype);
  return opts.bias === false ? { w } : { w, b: zeros([outChannels], dtype) };
}

/**
 * Applies a convolution: `x [N, inC, H, W]` → `[N, outC, OH, OW]`, `OH = ⌊(H + 2p − k)/s⌋ + 1`.
 * @example applyConv2d(p, images, { stride: 2, padding: 1 }) // 28×28 → 14×14
 */
export function applyConv2d(p: Conv2dParams, x: Tensor, opts: Conv2dOptions = {}): Tensor {
  if (x.ndim !== 4 || x.shape[1] !== p.w.shape[1]) {
    throw new ShapeError(`applyConv2d: input [${x.shape.join(', ')}] is not [N, ${p.w.shape[1]}, H, W] (filter [${p.w.shape.join(', ')}])`);
  }
  return conv2d(x, p.w, p.b, opts);
}

/** Output length of a convolution along one axis: `⌊(n + 2·padding − kernel)/stride⌋ + 1`. */
export function convOutputSize(n: number, kernel: number, stride = 1, padding = 0): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}
