/**
 * The error hierarchy of ebm-ts: every error the library or the CLI throws on purpose is an {@link EbmError} with a
 * stable {@link EbmError.code}. Callers tell errors apart by class (`instanceof`) or by `code`, never by message text;
 * messages are for people and may change between versions.
 *
 * This module sits below every other one (it imports nothing), so any layer may throw these errors.
 *
 * @example
 * ```ts
 * import { EbmError, InvalidArgumentError } from 'ebm-ts';
 * try { gridLogZ(E, { box: [[1, 0]] }); }
 * catch (e) { if (e instanceof EbmError && e.code === 'INVALID_ARGUMENT') console.error(e.message); }
 * ```
 */

/**
 * The stable codes of {@link EbmError}. One per error class:
 * - `INVALID_ARGUMENT`: an argument has a value outside what the function accepts ({@link InvalidArgumentError});
 * - `INVALID_TYPE`: an argument has the wrong kind of value, e.g. a number where a function is needed ({@link InvalidTypeError});
 * - `NON_FINITE`: a value that must be finite is NaN or infinite ({@link NonFiniteError});
 * - `SHAPE`, `DTYPE`: tensor shapes or dtypes do not fit an op;
 * - `DATA`: bad input data or a bad file; `USAGE`: bad command-line usage;
 * - `ENERGY_PARAMS`, `SAMPLER_OPTIONS`, `ARCH_SPEC`, `SUDOKU_FORMAT`: malformed parameters of those kinds;
 * - `NOT_FITTED`: an estimator used before `fit`; `NODE_ONLY`: a file function called outside Node.js;
 * - `RESOURCE`: a command would need more memory or a bigger input than allowed; `INTERRUPTED`: SIGINT/SIGTERM;
 * - `DIVERGED`: a sampler chain went non-finite; `CD_DIVERGED`: a CD sampler cannot start on a non-finite energy;
 *   `TRAINING_DIVERGED`: training kept diverging after every allowed rollback.
 */
export type EbmErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_TYPE'
  | 'NON_FINITE'
  | 'SHAPE'
  | 'DTYPE'
  | 'DATA'
  | 'USAGE'
  | 'ENERGY_PARAMS'
  | 'SAMPLER_OPTIONS'
  | 'ARCH_SPEC'
  | 'SUDOKU_FORMAT'
  | 'NOT_FITTED'
  | 'DIVERGED'
  | 'CD_DIVERGED'
  | 'TRAINING_DIVERGED'
  | 'RESOURCE'
  | 'LOCKED'
  | 'INTERRUPTED'
  | 'BACKEND'
  | 'NODE_ONLY'
  | 'ZERO_VARIANCE';

/**
 * The base class of every error ebm-ts throws on purpose. `code` is stable across versions (see
 * {@link EbmErrorCode}); `name` is the subclass name. Subclasses set `code` once, as a class field.
 */
export abstract class EbmError extends Error {
  /** Stable machine-readable code; match on this (or on the class), not on the message. */
  abstract readonly code: EbmErrorCode;
  override name = 'EbmError';
}

/**
 * An argument value outside what a function accepts: a non-positive step count, an out-of-range probability, an
 * empty list. The message names the function, the argument and the value it got.
 * @example throw new InvalidArgumentError(`mala: stepSize must be > 0, got ${stepSize}`);
 */
export class InvalidArgumentError extends EbmError {
  readonly code = 'INVALID_ARGUMENT' as const;
  override name = 'InvalidArgumentError';
}

/**
 * An argument of the wrong kind (a number where a function or a tensor is needed). The message names the
 * function and the argument.
 * @example throw new InvalidTypeError('contrastiveDivergence: "energy" must be a function params → Energy');
 */
export class InvalidTypeError extends EbmError {
  readonly code = 'INVALID_TYPE' as const;
  override name = 'InvalidTypeError';
}

/**
 * A value that must be finite is NaN or ±∞ (an energy at a chain's start, a loss, a parameter read from a file).
 * The message names what went non-finite and where.
 * @example throw new NonFiniteError('mala: the energy at the initial position is not finite (chains 3, 7)');
 */
export class NonFiniteError extends EbmError {
  readonly code = 'NON_FINITE' as const;
  override name = 'NonFiniteError';
}

/**
 * A diagnostic (ESS, R̂) is undefined because the chains never moved: their variance is zero.
 * @example try { ess(chain) } catch (e) { if (e instanceof ZeroVarianceError) report(null); else throw e; }
 */
export class ZeroVarianceError extends EbmError {
  readonly code = 'ZERO_VARIANCE' as const;
  override name = 'ZeroVarianceError';
}
