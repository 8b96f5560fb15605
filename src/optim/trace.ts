/** Momentum (heavy-ball and Nesterov) as a gradient transformation. */
import { Tensor, allocate } from '../tensor/tensor.js';
import { treeUnflatten, type Tree } from '../tensor/autodiff.js';
import { checkSameShape, leavesOf, outputFor, wrapOutput, zerosTree, type GradientTransformation } from './transform.js';
import { InvalidArgumentError } from '../errors.js';

/** State of {@link trace}: the momentum buffer (structure of the parameters). */
export type TraceState = {
  readonly momentum: Tree;
};

/**
 * Momentum: `b_t = g_t + μ·b_{t−1}` (b_0 = 0); the update is `b_t`, or with Nesterov `g_t + μ·b_t`.
 * This is PyTorch's SGD momentum with zero dampening; chain with `scale(-lr)`. The new buffer is a fresh array
 * (the input state is never modified); the update is a separate array.
 * @param momentum decay `μ ∈ [0, 1)`.
 * @example const sgdNesterov = chain(trace(0.9, true), scale(-0.1));
 */
export function trace(momentum: number, nesterov = false): GradientTransformation<TraceState> {
  if (!(momentum >= 0 && momentum < 1)) throw new InvalidArgumentError(`trace: momentum must be in [0, 1), got ${momentum}`);
  return {
    init: (params) => ({ momentum: zerosTree(params) }),
    update(grads, state) {
      const bs = leavesOf(state.momentum, 'trace (state)');
      const gs = leavesOf(grads, 'trace (gradients)', bs.length);
      const ups: Tensor[] = new Array(gs.length);
      const bNext: Tensor[] = new Array(gs.length);
      for (let k = 0; k < gs.length; k++) {
        checkSameShape(gs[k], bs[k], 'trace', k);
        const g = gs[k].data;
        const b0 = bs[k].data; // the old state: read only
        const b = allocate(bs[k].dtype, b0.length);
        const u = outputFor(gs[k]);
        if (nesterov) {
          for (let i = 0; i < g.length; i++) {
            const gi = g[i];
            const bi = gi + momentum * b0[i];
            b[i] = bi;
            u[i] = gi + momentum * bi;
          }
        } else {
          for (let i = 0; i < g.length; i++) {
            const bi = g[i] + momentum * b0[i];
            b[i] = bi;
            u[i] = bi;
          }
        }
        ups[k] = wrapOutput(gs[k], u);
        bNext[k] = new Tensor(b, bs[k].shape);
      }
      return [treeUnflatten(grads, ups), { momentum: treeUnflatten(state.momentum, bNext) }];
    },
  };
}
