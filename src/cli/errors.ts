/**
 * Error classes and exit-code mapping of the `ebm` CLI: bad usage or bad input → exit 2 with one `error: …` line;
 * anything else → exit 1 with the message (and the stack when `EBM_DEBUG=1`).
 */
import { DataError } from '../io/errors.js';
import { DTypeError, ShapeError } from '../tensor/tensor.js';

/**
 * Bad command-line usage: an invalid flag value, a missing required flag, an incompatible combination. Its message
 * names the flag (e.g. `--steps must be a positive integer, got "0"`). Mapped to exit code 2.
 * @example throw new UsageError('--hidden must be a list of positive integers, got "64,x"')
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit code for success. */
export const EXIT_OK = 0;
/** Exit code for an unexpected failure (a bug, an I/O error on output). */
export const EXIT_FAILURE = 1;
/** Exit code for bad usage or bad input data. */
export const EXIT_USAGE = 2;

/**
 * The exit code an error maps to: 2 for {@link UsageError}, {@link DataError}, `ShapeError`, `DTypeError` (the user
 * gave something that does not fit), 1 otherwise.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof DataError || err instanceof ShapeError || err instanceof DTypeError) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/**
 * The one-line message printed for an error: `error: <message>` with newlines folded to spaces. With `debug` the
 * stack follows on further lines (only for exit-1 errors, i.e. unexpected ones, or always when debugging).
 */
export function formatError(err: unknown, debug = false): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = `error: ${msg.replace(/\s*\n\s*/g, ' ').trim()}`;
  if (debug && err instanceof Error && err.stack) return `${line}\n${err.stack}`;
  return line;
}

/** True when the environment asks for stack traces (`EBM_DEBUG=1`). */
export function debugEnabled(): boolean {
  const v = process.env.EBM_DEBUG;
  return v !== undefined && v !== '' && v !== '0';
}
