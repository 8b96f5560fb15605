/** Momentum (heavy-ball and Nesterov) as a gradient transformation. */
import type { Tensor } from '../tensor/tensor.js';
import { treeUnflatten, type Tree } from '../tensor/autodiff.js';
import { checkSameShape, leavesOf, outputFor, wrapOutput, zerosTree, type GradientTransformation } from './transform.js';

/** State of {@link trace}: the momentum buffer (structure of the parameters). */
export type TraceState = {
  readonly momentum: Tree;
};

/**
 * Momentum: `b_t = g_t + μ·b_{t−1}` (b_0 = 0); the update is `b_t`, or with Nesterov `g_t + μ·b_t`.
 * This is PyTorch's SGD momentum with zero dampening; chain with `scale(-lr)`. The buffer is updated in place
 * (the state is consumed); the update is a separate array.
 * @param momentum decay `μ ∈ [0, 1)`.
 * @example const sgdNesterov = chain(trace(0.9, true), scale(-0.1));
 */
export function trace(momentum: number, nesterov = false): GradientTransformation<TraceState> {
  if (!(momentum >= 0 && momentum < 1)) throw new RangeError(`trace: momentum must be in [0, 1), got ${momentum}`);
  return {
    init: (params) => ({ momentum: zerosTree(params) }),
    update(grads, state) {
      const bs = leavesOf(state.momentum, 'trace (state)');
      const gs = leavesOf(grads, 'trace (gradients)', bs.length);
      const ups: Tensor[] = new Array(gs.length);
      for (let k = 0; k < gs.length; k++) {
        checkSameShape(gs[k], bs[k], 'trace', k);
        const g = gs[k].data;
        const b = bs[k].data;
        const u = outputFor(gs[k]);
        if (nesterov) {
          for (let i = 0; i < g.length; i++) {
            const gi = g[i];
            const bi = gi + momentum * b[i];
            b[i] = bi;
            u[i] = gi + momentum * bi;
          }
        } else {
          for (let i = 0; i < g.length; i++) {
            const bi = g[i] + momentum * b[i];
            b[i] = bi;
            u[i] = bi;
          }
        }
        ups[k] = wrapOutput(gs[k], u);
      }
      return [treeUnflatten(grads, ups), { momentum: state.momentum }];
    },
  };
}
