/**
 * Error classes and exit-code mapping of the `ebm` CLI: bad usage or bad input → exit 2 with one `error: …` line;
 * anything else → exit 1 with the message (and the stack when `EBM_DEBUG=1`).
 */
import { isAllocationFailure } from '../io/limits.js';
import { EbmError, type EbmErrorCode } from '../errors.js';

/**
 * Bad command-line usage: an invalid flag value, a missing required flag, an incompatible combination. Its message
 * names the flag (e.g. `--steps must be a positive integer, got "0"`). Mapped to exit code 2.
 * @example throw new UsageError('--hidden must be a list of positive integers, got "64,x"')
 */
export class UsageError extends EbmError {
  readonly code: EbmErrorCode = 'USAGE';
  override name = 'UsageError';
}

/**
 * The run was stopped by SIGINT or SIGTERM. `message` is the one line printed (what was done, where the final
 * checkpoint went); the exit code is 130 for SIGINT and 143 for SIGTERM.
 */
export class InterruptedError extends EbmError {
  readonly code: EbmErrorCode = 'INTERRUPTED';
  override name = 'InterruptedError';
  readonly signal: 'SIGINT' | 'SIGTERM';
  constructor(signal: 'SIGINT' | 'SIGTERM', message: string) {
    super(message);
    this.signal = signal;
  }
}

/** A result about to be printed or written is NaN or infinite; the message says what and where. Exit 2. */
export class NonFiniteResultError extends EbmError {
  readonly code: EbmErrorCode = 'NON_FINITE';
  override name = 'NonFiniteResultError';
}

/** Exit code for SIGINT (128 + 2). */
export const EXIT_SIGINT = 130;
/** Exit code for SIGTERM (128 + 15). */
export const EXIT_SIGTERM = 143;

/** Exit code for success. */
export const EXIT_OK = 0;
/** Exit code for an unexpected failure (a bug, an I/O error on output). */
export const EXIT_FAILURE = 1;
/** Exit code for bad usage or bad input data. */
export const EXIT_USAGE = 2;

/**
 * The {@link EbmError} codes that mean "what the user gave does not fit" — a flag, a file, a value, settings under
 * which training or sampling diverged, a size over the budget — and map to exit code 2.
 */
export const USAGE_ERROR_CODES: ReadonlySet<EbmErrorCode> = new Set<EbmErrorCode>([
  'USAGE', 'DATA', 'SHAPE', 'DTYPE', 'INVALID_ARGUMENT', 'INVALID_TYPE', 'NON_FINITE', 'ENERGY_PARAMS', 'SAMPLER_OPTIONS',
  'ARCH_SPEC', 'SUDOKU_FORMAT', 'DIVERGED', 'CD_DIVERGED', 'TRAINING_DIVERGED', 'RESOURCE', 'LOCKED',
]);

/**
 * The exit code an error maps to, by its {@link EbmError.code}: 130/143 for an {@link InterruptedError} (SIGINT /
 * SIGTERM), 2 for {@link USAGE_ERROR_CODES} and for a failed allocation (a size no budget estimate caught), 1 for
 * anything else (a bug, an I/O error on output).
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof InterruptedError) return err.signal === 'SIGINT' ? EXIT_SIGINT : EXIT_SIGTERM;
  if (isAllocationFailure(err)) return EXIT_USAGE;
  return err instanceof EbmError && USAGE_ERROR_CODES.has(err.code) ? EXIT_USAGE : EXIT_FAILURE;
}


/** Longest message printed: longer ones (e.g. echoing a huge input cell) are cut with a note. */
export const MAX_ERROR_CHARS = 1000;

/**
 * The one-line message printed for an error: `error: <message>` with newlines folded to spaces and the message cut to
 * {@link MAX_ERROR_CHARS}. With `debug` the stack follows on further lines (only for exit-1 errors, i.e. unexpected
 * ones, or always when debugging).
 */
export function formatError(err: unknown, debug = false): string {
  let msg = err instanceof Error ? err.message : String(err);
  if (isAllocationFailure(err)) {
    msg = `out of memory: an array too large to allocate was requested (${msg}); reduce the sizes given by the flags or the input, or raise EBM_MAX_MEMORY`;
  }
  if (msg.length > MAX_ERROR_CHARS) msg = `${msg.slice(0, MAX_ERROR_CHARS)}… (${msg.length - MAX_ERROR_CHARS} more characters)`;
  const line = `error: ${msg.replace(/\s*\n\s*/g, ' ').trim()}`;
  if (debug && err instanceof Error && err.stack) return `${line}\n${err.stack}`;
  return line;
}

/** True when the environment asks for stack traces (`EBM_DEBUG=1`). */
export function debugEnabled(): boolean {
  const v = process.env.EBM_DEBUG;
  return v !== undefined && v !== '' && v !== '0';
}

export { isAllocationFailure };
