/** Adam's moment estimates as a gradient transformation (Kingma & Ba 2015). */
import { Tensor, allocate } from '../tensor/tensor.js';
import { treeUnflatten, type Tree } from '../tensor/autodiff.js';
import { checkSameShape, leavesOf, outputFor, wrapOutput, zerosTree, type GradientTransformation } from './transform.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link scaleByAdam}. */
export interface AdamOptions {
  /** Decay of the first-moment estimate (default 0.9). */
  readonly b1?: number;
  /** Decay of the second-moment estimate (default 0.999). */
  readonly b2?: number;
  /** Added to `√v̂` in the denominator (default 1e-8). */
  readonly eps?: number;
  /** Added to `v̂` inside the square root (default 0); useful when differentiating through the optimiser. */
  readonly epsRoot?: number;
}

/** State of {@link scaleByAdam}: update count and the two moment trees (structure of the parameters). */
export type AdamState = {
  readonly count: number;
  readonly mu: Tree;
  readonly nu: Tree;
};

/**
 * Rescales gradients by Adam's bias-corrected moment estimates. With `t` the 1-based step:
 * `m_t = b1·m_{t−1} + (1−b1)·g`, `v_t = b2·v_{t−1} + (1−b2)·g²`, `m̂ = m_t/(1−b1^t)`, `v̂ = v_t/(1−b2^t)`,
 * `u = m̂ / (√(v̂ + epsRoot) + eps)`. The update is not yet scaled by the learning rate (chain with `scale(-lr)`).
 * One fused typed-array loop per tensor writing fresh moment arrays: the input state is never modified, so an old state
 * stays valid (a rollback or a snapshot is just keeping it).
 * @example const adam = chain(scaleByAdam({ b1: 0.9, b2: 0.999 }), scale(-1e-3));
 */
export function scaleByAdam(opts: AdamOptions = {}): GradientTransformation<AdamState> {
  const b1 = opts.b1 ?? 0.9;
  const b2 = opts.b2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  const epsRoot = opts.epsRoot ?? 0;
  if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) throw new InvalidArgumentError(`scaleByAdam: b1 and b2 must be in [0, 1), got ${b1}, ${b2}`);
  if (!(eps >= 0) || !(epsRoot >= 0)) throw new InvalidArgumentError(`scaleByAdam: eps and epsRoot must be ≥ 0, got ${eps}, ${epsRoot}`);
  return {
    init: (params) => ({ count: 0, mu: zerosTree(params), nu: zerosTree(params) }),
    update(grads, state) {
      const mus = leavesOf(state.mu, 'scaleByAdam (mu)');
      const nus = leavesOf(state.nu, 'scaleByAdam (nu)', mus.length);
      const gs = leavesOf(grads, 'scaleByAdam (gradients)', mus.length);
      const t = state.count + 1;
      const bc1 = 1 - Math.pow(b1, t);
      const bc2 = 1 - Math.pow(b2, t);
      const c1 = 1 - b1;
      const c2 = 1 - b2;
      const a1 = 1 / bc1;
      const a2 = 1 / Math.sqrt(bc2);
      const ups: Tensor[] = new Array(gs.length);
      const mNext: Tensor[] = new Array(gs.length);
      const vNext: Tensor[] = new Array(gs.length);
      for (let k = 0; k < gs.length; k++) {
        const gT = gs[k];
        checkSameShape(gT, mus[k], 'scaleByAdam', k);
        const g = gT.data;
        const m0 = mus[k].data; // the old state: read only
        const v0 = nus[k].data;
        const m = allocate(mus[k].dtype, m0.length);
        const v = allocate(nus[k].dtype, v0.length);
        const u = outputFor(gT);
        if (epsRoot === 0) {
          // m̂/(√v̂ + ε) = (m/bc1)/(√v/√bc2 + ε): one sqrt and one division per element (they bound the loop's speed).
          for (let i = 0; i < g.length; i++) {
            const gi = g[i];
            const mi = b1 * m0[i] + c1 * gi;
            const vi = b2 * v0[i] + c2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            u[i] = (a1 * mi) / (a2 * Math.sqrt(vi) + eps);
          }
        } else {
          for (let i = 0; i < g.length; i++) {
            const gi = g[i];
            const mi = b1 * m0[i] + c1 * gi;
            const vi = b2 * v0[i] + c2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            u[i] = (a1 * mi) / (Math.sqrt(vi / bc2 + epsRoot) + eps);
          }
        }
        ups[k] = wrapOutput(gT, u);
        mNext[k] = new Tensor(m, mus[k].shape);
        vNext[k] = new Tensor(v, nus[k].shape);
      }
      return [treeUnflatten(grads, ups), { count: t, mu: treeUnflatten(state.mu, mNext), nu: treeUnflatten(state.nu, vNext) }];
    },
  };
}
