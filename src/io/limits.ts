/**
 * Resource limits shared by the readers and the CLI: the largest input file read into memory and the memory budget a
 * command may plan to allocate. Both default to values derived from the machine and can be raised (or lowered) with
 * environment variables, so a small malformed input can never make the process allocate gigabytes before failing.
 *
 * - `EBM_MAX_INPUT_BYTES`: largest input file (default 1 GiB). Accepts a byte count or a size such as `512M`, `4G`.
 * - `EBM_MAX_MEMORY`: memory budget of one command (default 75% of the memory the OS reports available, at least
 *   256 MiB). Same syntax.
 */
import type { EbmErrorCode } from '../errors.js';
import { DataError } from './errors.js';

const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, KB: 2 ** 10, M: 2 ** 20, MB: 2 ** 20, G: 2 ** 30, GB: 2 ** 30, T: 2 ** 40, TB: 2 ** 40 };

/**
 * Parses a size such as `1024`, `64K`, `512M`, `1.5G` (binary units) into bytes; `undefined` when malformed.
 * @example parseSize('2G') // 2147483648
 */
export function parseSize(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?B?)\s*$/i.exec(s);
  if (!m) return undefined;
  const unit = UNITS[m[2].toUpperCase()];
  if (unit === undefined) return undefined;
  const v = Number(m[1]) * unit;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : undefined;
}

/** Formats a byte count for messages: `1.5 GiB`, `12 MiB`, `900 B`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[i]}`;
}

function envSize(name: string): number | undefined {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = parseSize(raw);
  if (v === undefined) throw new DataError(`${name}="${raw.slice(0, 40)}" is not a size (use e.g. 512M or 4G)`);
  return v;
}

/** Default largest input file: 1 GiB. */
export const DEFAULT_MAX_INPUT_BYTES = 2 ** 30;

/** The largest input file read into memory: `EBM_MAX_INPUT_BYTES` or {@link DEFAULT_MAX_INPUT_BYTES}. */
export function maxInputBytes(): number {
  return envSize('EBM_MAX_INPUT_BYTES') ?? DEFAULT_MAX_INPUT_BYTES;
}

/** Memory the OS reports available (`os.freemem()`, looked up lazily so browser bundles need no `node:os`); 4 GiB when unknown. */
function availableMemory(): number {
  const p = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  const os = p?.getBuiltinModule?.('node:os') as { freemem?(): number } | undefined;
  const v = os?.freemem?.();
  return typeof v === 'number' && v > 0 ? v : 2 ** 32;
}

/** The memory budget of one command: `EBM_MAX_MEMORY`, else 75% of available memory (at least 256 MiB). */
export function memoryBudget(): number {
  return envSize('EBM_MAX_MEMORY') ?? Math.max(2 ** 28, Math.floor(0.75 * availableMemory()));
}

/**
 * A planned allocation that exceeds the memory budget. `flag` names the setting that drives it (`--hidden`,
 * `--grid`, or a file); `estimate` is the estimated size in bytes.
 */
export class BudgetError extends DataError {
  override readonly code: EbmErrorCode = 'RESOURCE';
  override name = 'BudgetError';
  readonly estimate: number;
  readonly budget: number;
  constructor(what: string, estimate: number, budget: number, where: { flag?: string; file?: string } = {}) {
    super(
      `${what} needs about ${formatBytes(estimate)} of memory, over the budget of ${formatBytes(budget)}` +
        ` (raise it with EBM_MAX_MEMORY=SIZE, e.g. EBM_MAX_MEMORY=${Number.isFinite(estimate) ? Math.ceil(estimate / 2 ** 30) + 1 : 'N'}G, if the machine has the memory)`,
      where,
    );
    this.estimate = estimate;
    this.budget = budget;
  }
}

/**
 * Refuses a planned allocation of `bytes` (an estimate, computed from flags or file headers before allocating) that
 * exceeds {@link memoryBudget}. Non-finite or unsafe estimates are refused too.
 * @example checkBudget(4 * h * h, 'the hidden layers', { flag: '--hidden' })
 */
export function checkBudget(bytes: number, what: string, where: { flag?: string; file?: string } = {}): void {
  const budget = memoryBudget();
  if (!(bytes <= budget)) throw new BudgetError(what, bytes, budget, where);
}

/**
 * True for the engine's failures to allocate a typed array or buffer (a size no budget estimate caught): the CLI
 * reports them as one `error:` line with exit 2 instead of V8's `Invalid typed array length`.
 */
export function isAllocationFailure(err: unknown): boolean {
  return err instanceof RangeError && /Invalid typed array length|Array buffer allocation failed|Invalid array length|Invalid string length/.test(err.message);
}
