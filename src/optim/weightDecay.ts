/** Decoupled / L2 weight decay as a gradient transformation. */
import type { Tensor } from '../tensor/tensor.js';
import { treeUnflatten } from '../tensor/autodiff.js';
import { checkSameShape, leavesOf, outputFor, wrapOutput, type GradientTransformation } from './transform.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

/** Options of {@link addDecayedWeights}. */
export interface WeightDecayOptions {
  /**
   * Which parameters decay: called with each parameter tensor and its leaf index (tree order); `false` leaves it
   * alone. Default: every parameter. A common choice is `(p) => p.ndim > 1` (weights, not biases).
   */
  readonly mask?: (param: Tensor, index: number) => boolean;
}

/**
 * Adds decayed weights to the updates: `u = g + λ·p`. Placed before the learning-rate scale this is weight decay
 * proper (`p ← p − lr·(g + λp)`); placed after Adam's rescaling it is AdamW's decoupled decay. Needs `params`.
 * @example const adamw = chain(scaleByAdam(), addDecayedWeights(1e-2), scale(-1e-3));
 */
export function addDecayedWeights(weightDecay: number, opts: WeightDecayOptions = {}): GradientTransformation<Record<string, never>> {
  if (!Number.isFinite(weightDecay) || weightDecay < 0) throw new InvalidArgumentError(`addDecayedWeights: weight decay must be ≥ 0, got ${weightDecay}`);
  const mask = opts.mask;
  return {
    init: () => ({}),
    update(grads, state, params) {
      if (weightDecay === 0) return [grads, {}];
      if (params === undefined) throw new InvalidTypeError('addDecayedWeights: update() needs the current params');
      const gs = leavesOf(grads, 'addDecayedWeights (gradients)');
      const ps = leavesOf(params, 'addDecayedWeights (params)', gs.length);
      const ups = gs.map((gT, k) => {
        const p = ps[k];
        checkSameShape(gT, p, 'addDecayedWeights', k);
        if (mask && !mask(p, k)) return gT;
        const g = gT.data;
        const pd = p.data;
        const u = outputFor(gT);
        for (let i = 0; i < g.length; i++) u[i] = g[i] + weightDecay * pd[i];
        return wrapOutput(gT, u);
      });
      void state;
      return [treeUnflatten(grads, ups), {}];
    },
  };
}
