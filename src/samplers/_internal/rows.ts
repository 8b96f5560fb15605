/** Row-wise helpers shared by the samplers: evaluation, clipping, boxes and per-row parameters. */
import { Tensor, allFinite, type TypedArray } from '../../tensor/index.js';
import { energyAndGrad, eventSize, type Energy } from '../../energy/index.js';
import type { EnergyState, PerRow, Safeguards } from '../types.js';
import { InvalidArgumentError, NonFiniteError } from '../../errors.js';

/** Value of a per-row parameter at row `i`. */
export function at(p: PerRow, i: number): number {
  return typeof p === 'number' ? p : p[i];
}

/** Validates a per-row parameter: finite and > 0, with `n` entries if an array. */
export function checkPositive(p: PerRow, n: number, what: string): void {
  if (typeof p === 'number') {
    if (!(p > 0) || !Number.isFinite(p)) throw new InvalidArgumentError(`${what} must be a finite number > 0, got ${p}`);
    return;
  }
  if (p.length !== n) throw new InvalidArgumentError(`${what} has ${p.length} entries for ${n} rows`);
  for (let i = 0; i < n; i++) if (!(p[i] > 0) || !Number.isFinite(p[i])) throw new InvalidArgumentError(`${what}[${i}] must be a finite number > 0, got ${p[i]}`);
}

/** Validates the safeguards. */
export function checkSafeguards(s: Safeguards, who: string): void {
  if (s.maxGradNorm !== undefined && !(s.maxGradNorm > 0)) throw new InvalidArgumentError(`${who}: maxGradNorm must be > 0, got ${s.maxGradNorm}`);
  if (s.box !== undefined && !(s.box[0] < s.box[1])) throw new InvalidArgumentError(`${who}: box must be [lo, hi] with lo < hi, got [${s.box}]`);
}

/** Evaluates energy and gradient at `x`, first order, all rows in one batch. */
export function evaluate(energy: Energy, x: Tensor): EnergyState {
  const { energy: e, grad } = energyAndGrad(energy, x);
  return { position: x, energy: e, grad };
}

/** Row `i`'s gradient scale after clipping to `maxNorm` (1 when unclipped). */
export function clipFactor(g: TypedArray, i: number, D: number, maxNorm: number | undefined): number {
  if (maxNorm === undefined) return 1;
  let s = 0;
  for (let j = i * D; j < (i + 1) * D; j++) s += g[j] * g[j];
  const nrm = Math.sqrt(s);
  return nrm > maxNorm ? maxNorm / nrm : 1;
}

/** True when every coordinate of row `i` is finite and inside the box (if any). */
export function rowInside(x: TypedArray, i: number, D: number, box: readonly [number, number] | undefined): boolean {
  for (let j = i * D; j < (i + 1) * D; j++) {
    const v = x[j];
    if (box && (v < box[0] || v > box[1])) return false;
  }
  return true;
}

/** True when row `i` of `x` and `e[i]` are all finite. */
export function rowFinite(x: TypedArray, e: TypedArray, i: number, D: number): boolean {
  if (!Number.isFinite(e[i])) return false;
  for (let j = i * D; j < (i + 1) * D; j++) if (!Number.isFinite(x[j])) return false;
  return true;
}

/**
 * Per-row choice between two states: row `i` comes from `a` where `takeA[i]`, else from `b`. Returns `a` or `b`
 * itself when one side wins everywhere (no copy).
 */
export function selectRows(takeA: Uint8Array, a: EnergyState, b: EnergyState): EnergyState {
  let all = true;
  let none = true;
  for (let i = 0; i < takeA.length; i++) {
    if (takeA[i]) none = false;
    else all = false;
  }
  if (all) return a;
  if (none) return b;
  const pick = (ta: Tensor, tb: Tensor): Tensor => {
    const D = ta.size / takeA.length;
    const out = ta.dtype === 'float64' ? new Float64Array(ta.size) : new Float32Array(ta.size);
    for (let i = 0; i < takeA.length; i++) out.set((takeA[i] ? ta : tb).data.subarray(i * D, (i + 1) * D), i * D);
    return new Tensor(out, ta.shape);
  };
  return { position: pick(a.position, b.position), energy: pick(a.energy, b.energy), grad: pick(a.grad, b.grad) };
}

/** Number of scalars per row of an energy. */
export function rowSize(energy: Energy): number {
  return eventSize(energy);
}

/** Throws when the starting points are not finite, naming the sampler. */
export function checkInit(x: Tensor, who: string): void {
  if (!allFinite(x)) throw new NonFiniteError(`${who}.init: starting positions contain non-finite values`);
}

/** Allocates a typed array of the tensor's dtype. */
export function like(x: Tensor): Float32Array | Float64Array {
  return x.dtype === 'float64' ? new Float64Array(x.size) : new Float32Array(x.size);
}
