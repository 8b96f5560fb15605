/** Gradient clipping by the global L2 norm. */
import { Tensor } from '../tensor/tensor.js';
import { treeLeaves, type Tree } from '../tensor/autodiff.js';
import { type GradientTransformation, scaleLeaves, type OptState } from './transform.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * The global L2 norm of a tree: `‖g‖ = √(Σ_leaves Σ_i g_i²)`, accumulated in float64.
 * NaN or ∞ entries give a NaN/∞ norm (never hidden).
 * @example globalNorm({ w: tensor([3]), b: tensor([4]) }) // 5
 */
export function globalNorm(tree: Tree): number {
  let s = 0;
  for (const x of treeLeaves(tree)) {
    const d = x.data;
    for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  }
  return Math.sqrt(s);
}

/** State of {@link clipByGlobalNorm}: the pre-clip global norm of the latest gradients (NaN before the first update). */
export type ClipState = {
  readonly gradNorm: number;
};

/**
 * Clips gradients by their global norm: `u = g · min(1, maxNorm/‖g‖)`. The pre-clip norm is kept in the state as
 * `gradNorm` (read it back from a chained state with {@link lastGradNorm}). Gradients with a non-finite norm are passed through
 * unchanged (so the NaN/∞ reaches the parameters): detect it with `lastGradNorm` rather than letting it be hidden.
 * @example const opt = chain(clipByGlobalNorm(1), scaleByAdam(), scale(-1e-3));
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<ClipState> {
  if (!(maxNorm > 0)) throw new InvalidArgumentError(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  return {
    init: () => ({ gradNorm: NaN }),
    update(grads) {
      const n = globalNorm(grads);
      const u = Number.isFinite(n) && n > maxNorm ? scaleLeaves(grads, maxNorm / n) : grads;
      return [u, { gradNorm: n }];
    },
  };
}

/**
 * The pre-clip gradient norm recorded by the first {@link clipByGlobalNorm} found in an optimiser state (searching
 * arrays and records depth-first), or `undefined` when the optimiser has no clipping.
 * @example const [u, s] = opt.update(g, state); console.log(lastGradNorm(s));
 */
export function lastGradNorm(state: OptState): number | undefined {
  if (typeof state === 'number' || state === null || typeof state !== 'object') return undefined;
  if (Array.isArray(state)) {
    for (const s of state) {
      const r = lastGradNorm(s);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  const rec = state as Record<string, OptState>;
  if ('gradNorm' in rec && typeof rec.gradNorm === 'number') return rec.gradNorm;
  for (const k of Object.keys(rec)) {
    const v = rec[k];
    if (typeof v === 'object' && v !== null && !(v instanceof Tensor)) {
      const r = lastGradNorm(v);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}
