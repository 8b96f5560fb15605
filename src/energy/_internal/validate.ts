/** Runtime validation of JSON-like energy parameters, each failure naming the energy and the offending field. */

import { EbmError, type EbmErrorCode } from '../../errors.js';

/** Thrown when the parameters of an energy are malformed; the message names the energy, the field and the problem. */
export class EnergyParamsError extends EbmError {
  readonly code: EbmErrorCode = 'ENERGY_PARAMS';
  override name = 'EnergyParamsError';
}

/** A plain object (not an array, not null) or a thrown {@link EnergyParamsError}. */
export function asRecord(params: unknown, energy: string, allowed: readonly string[]): Record<string, unknown> {
  if (params === undefined) return {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new EnergyParamsError(`${energy}: parameters must be a JSON object, got ${params === null ? 'null' : Array.isArray(params) ? 'an array' : typeof params}`);
  }
  const rec = params as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    if (!allowed.includes(k)) throw new EnergyParamsError(`${energy}: unknown parameter "${k}" (allowed: ${allowed.join(', ')})`);
  }
  return rec;
}

/** A finite number field (with optional default, positivity and integrality checks). */
export function numberField(
  rec: Record<string, unknown>, field: string, energy: string,
  opts: { default?: number; positive?: boolean; integer?: boolean; min?: number } = {},
): number {
  const v = rec[field];
  if (v === undefined) {
    if (opts.default === undefined) throw new EnergyParamsError(`${energy}: missing required parameter "${field}"`);
    return opts.default;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EnergyParamsError(`${energy}: "${field}" must be a finite number, got ${JSON.stringify(v)}`);
  if (opts.positive && !(v > 0)) throw new EnergyParamsError(`${energy}: "${field}" must be > 0, got ${v}`);
  if (opts.integer && !Number.isInteger(v)) throw new EnergyParamsError(`${energy}: "${field}" must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new EnergyParamsError(`${energy}: "${field}" must be ≥ ${opts.min}, got ${v}`);
  return v;
}

/** A vector of finite numbers, optionally of a required length. */
export function vectorOf(v: unknown, what: string, energy: string, length?: number): Float64Array {
  if (!Array.isArray(v)) throw new EnergyParamsError(`${energy}: ${what} must be an array of numbers, got ${JSON.stringify(v)}`);
  if (length !== undefined && v.length !== length) throw new EnergyParamsError(`${energy}: ${what} must have ${length} entries, got ${v.length}`);
  if (v.length === 0) throw new EnergyParamsError(`${energy}: ${what} must not be empty`);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    if (typeof e !== 'number' || !Number.isFinite(e)) throw new EnergyParamsError(`${energy}: ${what}[${i}] must be a finite number, got ${JSON.stringify(e)}`);
    out[i] = e;
  }
  return out;
}

/** A `d×d` matrix of finite numbers, stored row-major. */
export function matrixOf(v: unknown, what: string, energy: string, d: number): Float64Array {
  if (!Array.isArray(v) || v.length !== d) {
    throw new EnergyParamsError(`${energy}: ${what} must be a ${d}×${d} matrix (array of ${d} rows), got ${Array.isArray(v) ? `${v.length} rows` : JSON.stringify(v)}`);
  }
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) out.set(vectorOf(v[i], `${what} row ${i}`, energy, d), i * d);
  return out;
}
