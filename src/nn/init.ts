/** Weight initialisers (variance-scaling rules) drawn from explicit random keys. */
import { normal, uniform } from '../random/index.js';
import type { Key } from '../random/index.js';
import type { DType, Shape, Tensor } from '../tensor/tensor.js';
import type { Activation } from './activations.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Initialisation rule for a weight with fan-in `fᵢ` and fan-out `fₒ`:
 * `kaiming` (He): `N(0, 2/fᵢ)`; `xavier` (Glorot): `U(−a, a)`, `a = √(6/(fᵢ + fₒ))`; `lecun`: `N(0, 1/fᵢ)`.
 */
export type InitScheme = 'kaiming' | 'xavier' | 'lecun';

/** The default scheme for an activation: `xavier` for the saturating `tanh`/`sigmoid`, `kaiming` otherwise. */
export function defaultInit(activation: Activation): InitScheme {
  return activation === 'tanh' || activation === 'sigmoid' ? 'xavier' : 'kaiming';
}

/**
 * A weight tensor of `shape` drawn by `scheme` with the given fans.
 * @example initWeight(k, [784, 500], 784, 500, 'xavier')
 */
export function initWeight(key: Key, shape: Shape, fanIn: number, fanOut: number, scheme: InitScheme, dtype: DType = 'float32'): Tensor {
  if (!(fanIn > 0) || !(fanOut > 0)) throw new InvalidArgumentError(`initWeight: fans must be positive, got fanIn=${fanIn}, fanOut=${fanOut}`);
  switch (scheme) {
    case 'kaiming':
      return normal(key, shape, { std: Math.sqrt(2 / fanIn), dtype });
    case 'lecun':
      return normal(key, shape, { std: Math.sqrt(1 / fanIn), dtype });
    case 'xavier': {
      const a = Math.sqrt(6 / (fanIn + fanOut));
      return uniform(key, shape, { low: -a, high: a, dtype });
    }
    default:
      throw new InvalidArgumentError(`unknown init scheme '${String(scheme)}' (expected kaiming, xavier or lecun)`);
  }
}
