/** Multi-layer perceptrons with parameters in a flat record whose keys are the safetensors tensor names. */
import { split, type Key } from '../random/index.js';
import { linear } from '../tensor/ops/linalg.js';
import { ShapeError, Tensor, zeros, type DType } from '../tensor/tensor.js';
import { activationFn, isActivation, type Activation, ACTIVATIONS } from './activations.js';
import { defaultInit, initWeight, type InitScheme } from './init.js';
import { InvalidArgumentError } from '../errors.js';

/** An MLP architecture: layer widths `[in, h₁, …, out]` and the activation between layers. */
export interface MLP {
  readonly sizes: readonly number[];
  readonly activation: Activation;
}

/**
 * MLP parameters as a flat record: layer `i` (0-based) has weight `l{i}.w` of shape `[sizes[i], sizes[i+1]]` and bias
 * `l{i}.b` of shape `[sizes[i+1]]`. These keys are used verbatim as tensor names in safetensors checkpoints, e.g. a
 * 2-64-1 MLP has `l0.w [2,64]`, `l0.b [64]`, `l1.w [64,1]`, `l1.b [1]`.
 */
export type MLPParams = Record<string, Tensor>;

/** Options of {@link initMLP}. */
export interface MLPInitOptions {
  /** Activation; only used to pick the default init (default `silu`). */
  readonly activation?: Activation;
  /** Weight init (default: {@link defaultInit} of the activation). */
  readonly init?: InitScheme;
  /** Element type (default `float32`). */
  readonly dtype?: DType;
  /** Biases (zero-initialised) on every layer (default true). */
  readonly bias?: boolean;
}

/**
 * Initialises an MLP with layer widths `sizes = [in, h₁, …, out]` (at least two entries), one key per layer split
 * from `key`. See {@link MLPParams} for the naming scheme. Also accepts an {@link MLP} config in place of `sizes`.
 * @example const p = initMLP(key(0), [2, 64, 64, 1], { activation: 'silu' }); applyMLP(p, x, 'silu') // [n, 1]
 */
export function initMLP(key: Key, sizes: readonly number[] | MLP, opts: MLPInitOptions = {}): MLPParams {
  const cfgSizes = Array.isArray(sizes) ? (sizes as readonly number[]) : (sizes as MLP).sizes;
  const act = opts.activation ?? (Array.isArray(sizes) ? 'silu' : (sizes as MLP).activation);
  if (!isActivation(act)) throw new InvalidArgumentError(`initMLP: unknown activation '${String(act)}' (expected one of ${ACTIVATIONS.join(', ')})`);
  if (cfgSizes.length < 2) throw new InvalidArgumentError(`initMLP: sizes needs at least [in, out], got [${cfgSizes.join(', ')}]`);
  for (const n of cfgSizes) {
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`initMLP: layer sizes must be positive integers, got [${cfgSizes.join(', ')}]`);
  }
  const dtype = opts.dtype ?? 'float32';
  const scheme = opts.init ?? defaultInit(act);
  const L = cfgSizes.length - 1;
  const keys = split(key, L);
  const p: MLPParams = {};
  for (let i = 0; i < L; i++) {
    const a = cfgSizes[i];
    const b = cfgSizes[i + 1];
    p[`l${i}.w`] = initWeight(keys[i], [a, b], a, b, scheme, dtype);
    if (opts.bias !== false) p[`l${i}.b`] = zeros([b], dtype);
  }
  return p;
}

/**
 * The layer widths `[in, h₁, …, out]` of MLP parameters, validating the naming scheme and that shapes chain.
 * @example mlpSizes(initMLP(k, [2, 64, 1])) // [2, 64, 1]
 */
export function mlpSizes(params: MLPParams): number[] {
  const w0 = params['l0.w'];
  if (!(w0 instanceof Tensor)) throw new ShapeError(`MLP parameters: no 'l0.w' entry (keys: ${Object.keys(params).join(', ') || 'none'})`);
  const sizes = [w0.shape[0]];
  for (let i = 0; ; i++) {
    const w = params[`l${i}.w`];
    if (!(w instanceof Tensor)) break;
    if (w.ndim !== 2 || w.shape[0] !== sizes[i]) {
      throw new ShapeError(`MLP parameters: 'l${i}.w' has shape [${w.shape.join(', ')}], expected [${sizes[i]}, *]`);
    }
    const b = params[`l${i}.b`];
    if (b !== undefined && (b.ndim !== 1 || b.shape[0] !== w.shape[1])) {
      throw new ShapeError(`MLP parameters: 'l${i}.b' has shape [${b.shape.join(', ')}], expected [${w.shape[1]}]`);
    }
    sizes.push(w.shape[1]);
  }
  return sizes;
}

/**
 * Applies an MLP: `h₀ = x`, `h_{i+1} = act(h_i·W_i + b_i)` for hidden layers and no activation after the last:
 * `x [..., in]` → `[..., out]`. `activation` is a name or an {@link MLP} config. Differentiable to any order.
 * @example const e = applyMLP(p, x, 'silu'); // energy, shape [n, 1]
 */
export function applyMLP(params: MLPParams, x: Tensor, activation: Activation | MLP = 'silu'): Tensor {
  return mlpLayers(params, x, activation, false, 'applyMLP');
}

/**
 * The MLP's penultimate activations: everything {@link applyMLP} computes except the last layer,
 * `x [..., in]` → `[..., hidden[last]]` (the features of FID-style scores). Needs at least one hidden layer.
 * @example const f = mlpFeatures(p, x, 'silu'); // [n, 128] for sizes [784, 128, 10]
 */
export function mlpFeatures(params: MLPParams, x: Tensor, activation: Activation | MLP = 'silu'): Tensor {
  if (!(params['l1.w'] instanceof Tensor)) throw new ShapeError('mlpFeatures: the MLP has no hidden layer (no \'l1.w\')');
  return mlpLayers(params, x, activation, true, 'mlpFeatures');
}

function mlpLayers(params: MLPParams, x: Tensor, activation: Activation | MLP, features: boolean, fn: string): Tensor {
  const act = activationFn(typeof activation === 'string' ? activation : activation.activation);
  const w0 = params['l0.w'];
  if (!(w0 instanceof Tensor)) throw new ShapeError(`${fn}: parameters have no 'l0.w' (keys: ${Object.keys(params).join(', ') || 'none'})`);
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== w0.shape[0]) {
    throw new ShapeError(`${fn}: input [${x.shape.join(', ')}] has ${x.shape[x.ndim - 1]} features but layer l0 expects ${w0.shape[0]}`);
  }
  let h = x;
  for (let i = 0; ; i++) {
    const last = !(params[`l${i + 1}.w`] instanceof Tensor);
    if (features && last) break;
    h = linear(h, params[`l${i}.w`], params[`l${i}.b`]);
    if (last) break;
    h = act(h);
  }
  return h;
}
