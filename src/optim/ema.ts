/** Exponential moving averages of parameter trees (the "EMA weights" saved by training loops). */
import { Tensor, treeLeaves, treeUnflatten, type Tree } from '../tensor/index.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * One update of a **debiased** exponential moving average of parameters: after the `t`-th update (`t = 1, 2, …`)
 * `ē_t = ē_{t−1} + w_t·(θ_t − ē_{t−1})` with `w_t = (1 − d)/(1 − dᵗ)`, which equals
 * `Σ_{i≤t} (1 − d)·d^{t−i}·θ_i / (1 − dᵗ)` — a weighted average of the iterates `θ_1 … θ_t` alone. The first update
 * returns `θ_1` whatever `ema` holds, so the initial parameters get no weight (a plain EMA started at the initial
 * parameters keeps `dᵗ` of them: 37 % after 1000 steps at `d = 0.999`, enough to ruin a short run's saved model). For
 * `t ≫ 1/(1 − d)`, `w_t → 1 − d` (the usual EMA). Leaves are combined in float64 and stored in each leaf's dtype.
 * Pure: returns a new tree; `ema` and `params` (same structure and shapes) are not modified.
 * @example let ema = params; for (let t = 1; t <= steps; t++) { params = step(params); ema = emaUpdate(ema, params, 0.999, t); }
 */
export function emaUpdate<P extends Tree>(ema: P, params: P, decay: number, t: number): P {
  if (!(decay >= 0 && decay < 1)) throw new InvalidArgumentError(`emaUpdate: decay must be in [0, 1), got ${decay}`);
  if (!Number.isSafeInteger(t) || t < 1) throw new InvalidArgumentError(`emaUpdate: t must be the 1-based update count, got ${t}`);
  const w = (1 - decay) / (1 - Math.pow(decay, t));
  const la = treeLeaves(ema), lp = treeLeaves(params);
  if (la.length !== lp.length) throw new InvalidArgumentError(`emaUpdate: the average has ${la.length} leaves but the parameters ${lp.length}`);
  return treeUnflatten(ema, la.map((e, i) => {
    const p = lp[i];
    if (e.size !== p.size) throw new InvalidArgumentError(`emaUpdate: leaf ${i} has ${e.size} values in the average but ${p.size} in the parameters`);
    const out = new (e.dtype === 'float64' ? Float64Array : Float32Array)(e.size);
    const a = e.data, b = p.data;
    const v = 1 - w; // 0 at t = 1: the first update returns θ₁ exactly
    for (let j = 0; j < out.length; j++) out[j] = v * a[j] + w * b[j];
    return new Tensor(out, e.shape);
  })) as P;
}
