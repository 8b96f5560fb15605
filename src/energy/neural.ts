/** Neural energies: an MLP `E(x)` on vectors and a small convolutional `E(x)` on images, with explicit parameters. */
import {
  Tensor, ShapeError, matmul, add, reshape, conv2d, mean, silu, tanh, softplus, relu, elu, type DType,
} from '../tensor/index.js';
import { normal, split, type Key } from '../random/index.js';
import type { Energy } from './types.js';
import { checkBatch } from './types.js';
import { InvalidArgumentError } from '../errors.js';

/** A smooth activation for neural energies (smoothness matters: samplers follow ∇ₓE). */
export type EnergyActivation = 'silu' | 'tanh' | 'softplus' | 'elu' | 'relu';

function activate(x: Tensor, a: EnergyActivation): Tensor {
  switch (a) {
    case 'silu': return silu(x);
    case 'tanh': return tanh(x);
    case 'softplus': return softplus(x);
    case 'elu': return elu(x);
    case 'relu': return relu(x);
    default: throw new InvalidArgumentError(`unknown activation "${String(a)}" (use silu, tanh, softplus, elu or relu)`);
  }
}

/** One dense layer `y = x·W + b`, `W [in, out]`, `b [out]`. */
export interface DenseParams {
  readonly [k: string]: Tensor;
  readonly w: Tensor;
  readonly b: Tensor;
}

/** Parameters of an MLP energy: dense layers, the last with one output. A pytree, so `grad` can differentiate it. */
export interface MlpEnergyParams {
  readonly [k: string]: readonly DenseParams[];
  readonly layers: readonly DenseParams[];
}

/** Options of {@link initMlpEnergy}. */
export interface MlpEnergyInit {
  /** Input dimension `d`. */
  readonly dim: number;
  /** Hidden widths, e.g. `[64, 64]`. */
  readonly hidden: readonly number[];
  readonly dtype?: DType;
}

function dense(key: Key, fanIn: number, fanOut: number, dtype: DType): DenseParams {
  // LeCun-normal weights N(0, 1/fanIn) keep pre-activations O(1); zero biases.
  return { w: normal(key, [fanIn, fanOut], { std: 1 / Math.sqrt(fanIn), dtype }), b: new Tensor(dtype === 'float64' ? new Float64Array(fanOut) : new Float32Array(fanOut), [fanOut]) };
}

function checkWidth(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got ${v}`);
}

/**
 * Random parameters for an MLP energy `d → hidden… → 1` (LeCun-normal weights, zero biases).
 * @example const p = initMlpEnergy(key(0), { dim: 2, hidden: [64, 64] });
 */
export function initMlpEnergy(key: Key, opts: MlpEnergyInit): MlpEnergyParams {
  checkWidth(opts.dim, 'initMlpEnergy: dim');
  opts.hidden.forEach((h, i) => checkWidth(h, `initMlpEnergy: hidden[${i}]`));
  const sizes = [opts.dim, ...opts.hidden, 1];
  const keys = split(key, sizes.length - 1);
  return { layers: keys.map((k, i) => dense(k, sizes[i], sizes[i + 1], opts.dtype ?? 'float32')) };
}

/**
 * MLP energy `E(x) = W_L·σ(… σ(x·W₁ + b₁) …) + b_L`, a scalar per row. Shapes: `x [n, d]` → `[n]`.
 * Build it inside a loss to differentiate w.r.t. the parameters: `valueAndGrad((p) => sum(mlpEnergy(p).energy(x)))(params)`.
 * @param activation default `'silu'` (smooth, as JEM/IGEBM recommend for Langevin sampling).
 * @example const E = mlpEnergy(initMlpEnergy(key(0), { dim: 2, hidden: [32] })); E.energy(x) // [n]
 */
export function mlpEnergy(params: MlpEnergyParams, activation: EnergyActivation = 'silu'): Energy {
  const layers = params.layers;
  if (!layers.length) throw new ShapeError('mlpEnergy: no layers');
  const dim = layers[0].w.shape[0];
  const last = layers[layers.length - 1].w;
  if (last.shape[1] !== 1) throw new ShapeError(`mlpEnergy: last layer must have 1 output, has weight [${last.shape.join(', ')}]`);
  const self: Energy = {
    dim,
    energy(x: Tensor): Tensor {
      const n = checkBatch(self, x, 'mlpEnergy');
      let h = x;
      layers.forEach((l, i) => {
        h = add(matmul(h, l.w), l.b);
        if (i < layers.length - 1) h = activate(h, activation);
      });
      return reshape(h, [n]);
    },
  };
  return self;
}

/** Parameters of a conv energy: 3×3 conv layers (stride 2, padding 1) and a dense head to one output. */
export interface ConvEnergyParams {
  readonly [k: string]: readonly DenseParams[] | DenseParams;
  readonly convs: readonly DenseParams[];
  readonly head: DenseParams;
}

/** Options of {@link initConvEnergy}. */
export interface ConvEnergyInit {
  /** Image shape `[C, H, W]`. */
  readonly shape: readonly [number, number, number];
  /** Output channels of each conv layer, e.g. `[8, 16]`. */
  readonly filters: readonly number[];
  readonly dtype?: DType;
}

/**
 * Random parameters for {@link convEnergy}: conv filters `[O, C, 3, 3]` with N(0, 1/(9C)) weights, zero biases, and a
 * dense head `[filters.at(-1), 1]`.
 */
export function initConvEnergy(key: Key, opts: ConvEnergyInit): ConvEnergyParams {
  const [C] = opts.shape;
  opts.shape.forEach((v, i) => checkWidth(v, `initConvEnergy: shape[${i}]`));
  if (!opts.filters.length) throw new InvalidArgumentError('initConvEnergy: need at least one conv layer in "filters"');
  opts.filters.forEach((f, i) => checkWidth(f, `initConvEnergy: filters[${i}]`));
  const dtype = opts.dtype ?? 'float32';
  const keys = split(key, opts.filters.length + 1);
  let cin = C;
  const convs = opts.filters.map((o, i) => {
    const p = {
      w: normal(keys[i], [o, cin, 3, 3], { std: 1 / Math.sqrt(9 * cin), dtype }),
      b: new Tensor(dtype === 'float64' ? new Float64Array(o) : new Float32Array(o), [o]),
    };
    cin = o;
    return p;
  });
  return { convs, head: dense(keys[opts.filters.length], cin, 1, dtype) };
}

/**
 * Small convolutional energy on images: each layer is a 3×3 conv (stride 2, padding 1) then the activation; then a
 * global average pool and a dense head to a scalar. Shapes: `x [n, C, H, W]` → `[n]`.
 * @example const E = convEnergy(initConvEnergy(key(0), { shape: [1, 8, 8], filters: [4, 8] }), [1, 8, 8]);
 */
export function convEnergy(params: ConvEnergyParams, shape: readonly [number, number, number], activation: EnergyActivation = 'silu'): Energy {
  if (!params.convs.length) throw new ShapeError('convEnergy: no conv layers');
  if (params.convs[0].w.shape[1] !== shape[0]) {
    throw new ShapeError(`convEnergy: first filter [${params.convs[0].w.shape.join(', ')}] does not take ${shape[0]} channels`);
  }
  const self: Energy = {
    dim: shape,
    energy(x: Tensor): Tensor {
      const n = checkBatch(self, x, 'convEnergy');
      let h = x;
      for (const c of params.convs) h = activate(conv2d(h, c.w, c.b, { stride: 2, padding: 1 }), activation);
      const pooled = mean(h, [2, 3]); // [n, O]
      return reshape(add(matmul(pooled, params.head.w), params.head.b), [n]);
    },
  };
  return self;
}
