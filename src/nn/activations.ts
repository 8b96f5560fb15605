/** Named activation functions, so that configs and checkpoints can refer to them by string. */
import { elu, leakyRelu, relu, sigmoid, silu, softplus, tanh } from '../tensor/ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { InvalidArgumentError } from '../errors.js';

/** The activation names understood by {@link activationFn}, {@link applyMLP} and {@link applyConvNet}. */
export const ACTIVATIONS = ['silu', 'relu', 'tanh', 'softplus', 'elu', 'leakyRelu', 'sigmoid'] as const;

/** An activation name: `silu` (x·σ(x)), `relu`, `tanh`, `softplus` (log(1+eˣ)), `elu` (α=1), `leakyRelu` (slope 0.01), `sigmoid`. */
export type Activation = (typeof ACTIVATIONS)[number];

/** True when `s` names an activation. */
export function isActivation(s: unknown): s is Activation {
  return typeof s === 'string' && (ACTIVATIONS as readonly string[]).includes(s);
}

/**
 * The elementwise function named `name` (differentiable to any order).
 * @example activationFn('silu')(x) // x·σ(x)
 */
export function activationFn(name: Activation): (x: Tensor) => Tensor {
  switch (name) {
    case 'silu':
      return silu;
    case 'relu':
      return relu;
    case 'tanh':
      return tanh;
    case 'softplus':
      return softplus;
    case 'elu':
      return (x) => elu(x);
    case 'leakyRelu':
      return (x) => leakyRelu(x);
    case 'sigmoid':
      return sigmoid;
    default:
      throw new InvalidArgumentError(`unknown activation '${String(name)}' (expected one of ${ACTIVATIONS.join(', ')})`);
  }
}
