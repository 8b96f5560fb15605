/** The affine layer `x·W + b` with parameters as a record of tensors. */
import type { Key } from '../random/index.js';
import { linear } from '../tensor/ops/linalg.js';
import { ShapeError, Tensor, zeros, type DType } from '../tensor/tensor.js';
import { initWeight, type InitScheme } from './init.js';
import { InvalidArgumentError } from '../errors.js';

/** Parameters of a linear layer: `w [in, out]`, optional `b [out]`. */
export type LinearParams = { readonly w: Tensor; readonly b?: Tensor };

/** Options of {@link initLinear} and the other initialisers. */
export interface LayerInitOptions {
  /** Weight initialisation (default `kaiming`). */
  readonly init?: InitScheme;
  /** Include a bias, initialised to zero (default true). */
  readonly bias?: boolean;
  /** Element type (default `float32`). */
  readonly dtype?: DType;
}

function checkDim(n: number, what: string, fn: string): void {
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${fn}: ${what} must be a positive integer, got ${n}`);
}

/**
 * A linear layer `{w [in, out], b [out]}`, `w` drawn by the init scheme (fans `in`, `out`), `b = 0`.
 * @example const p = initLinear(key(0), 784, 10, { init: 'xavier' }); applyLinear(p, x) // [n, 10]
 */
export function initLinear(key: Key, inFeatures: number, outFeatures: number, opts: LayerInitOptions = {}): LinearParams {
  checkDim(inFeatures, 'inFeatures', 'initLinear');
  checkDim(outFeatures, 'outFeatures', 'initLinear');
  const dtype = opts.dtype ?? 'float32';
  const w = initWeight(key, [inFeatures, outFeatures], inFeatures, outFeatures, opts.init ?? 'kaiming', dtype);
  return opts.bias === false ? { w } : { w, b: zeros([outFeatures], dtype) };
}

/**
 * Applies a linear layer: `x [..., in]` → `x·w + b` of shape `[..., out]`.
 * @example applyLinear({ w, b }, x)
 */
export function applyLinear(p: LinearParams, x: Tensor): Tensor {
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== p.w.shape[0]) {
    throw new ShapeError(`applyLinear: input [${x.shape.join(', ')}] does not end in ${p.w.shape[0]} features (weight [${p.w.shape.join(', ')}])`);
  }
  return linear(x, p.w, p.b);
}
