/**
 * Option-value parsers for commander: each rejects NaN, non-numbers and out-of-range values with an
 * `InvalidArgumentError`, which commander reports naming the flag (`option '--steps <n>' argument '0' is invalid. …`);
 * the CLI maps that to exit 2.
 */
import { InvalidArgumentError } from 'commander';

function num(raw: string): number {
  const s = raw.trim();
  // Number('') is 0 and Number('0x10') is 16: accept only plain decimal notation.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new InvalidArgumentError(`expected a number, got "${raw}"`);
  const v = Number(s);
  if (!Number.isFinite(v)) throw new InvalidArgumentError(`expected a finite number, got "${raw}"`);
  return v;
}

/**
 * A positive integer `n ≥ 1` (sizes, step counts).
 * @example parsePositiveInt('100') // 100; parsePositiveInt('0') throws
 */
export function parsePositiveInt(raw: string): number {
  const v = num(raw);
  if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`must be a positive integer, got "${raw}"`);
  return v;
}

/** A non-negative integer `n ≥ 0` (seeds, counts that may be zero). */
export function parseNonNegativeInt(raw: string): number {
  const v = num(raw);
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`must be a non-negative integer, got "${raw}"`);
  return v;
}

/** A seed: an integer in `[0, 2⁵³)`. */
export function parseSeed(raw: string): number {
  const v = num(raw);
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`must be an integer seed ≥ 0, got "${raw}"`);
  return v;
}

/** A finite number `x > 0` (learning rates, step sizes, noise levels). */
export function parsePositiveFloat(raw: string): number {
  const v = num(raw);
  if (!(v > 0)) throw new InvalidArgumentError(`must be a positive number, got "${raw}"`);
  return v;
}

/** Any finite number. */
export function parseFloatValue(raw: string): number {
  return num(raw);
}

/** A number in `[0, 1]` (thresholds, probabilities). */
export function parseUnitInterval(raw: string): number {
  const v = num(raw);
  if (v < 0 || v > 1) throw new InvalidArgumentError(`must be a number in [0, 1], got "${raw}"`);
  return v;
}

/**
 * `--fourier m:scale`: number of random Fourier frequencies and their standard deviation.
 * @example parseFourierSpec('64:0.5') // { features: 64, scale: 0.5 }
 */
export function parseFourierSpec(raw: string): { features: number; scale: number } {
  const m = /^\s*(\d+)\s*:\s*([0-9.eE+-]+)\s*$/.exec(raw);
  const features = m ? Number(m[1]) : NaN, scale = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(features) || features < 1 || !(scale > 0) || !Number.isFinite(scale)) {
    throw new InvalidArgumentError(`expected m:scale with a positive integer m and a number scale > 0 (e.g. 64:0.5), got "${raw}"`);
  }
  return { features, scale };
}

/**
 * A comma-separated list of positive integers, e.g. layer widths `64,64`.
 * @example parseIntList('64,64') // [64, 64]
 */
export function parseIntList(raw: string): number[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new InvalidArgumentError(`must be a comma-separated list of positive integers, got "${raw}"`);
  return parts.map((p) => {
    const v = Number(p);
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(v) || v < 1) {
      throw new InvalidArgumentError(`must be a comma-separated list of positive integers, got "${raw}"`);
    }
    return v;
  });
}

/** A parser accepting one of `choices`. */
export function parseChoice<T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw: string) => {
    if (!(choices as readonly string[]).includes(raw)) throw new InvalidArgumentError(`must be one of ${choices.join(', ')}; got "${raw}"`);
    return raw as T;
  };
}
