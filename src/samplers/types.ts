/** Shared contract of samplers: algorithm = init + step over an immutable State, diagnostics in a separate Info. */
import type { Tensor } from '../tensor/index.js';
import type { Key } from '../random/index.js';
import { EbmError, type EbmErrorCode } from '../errors.js';

/**
 * A sampling algorithm with its parameters bound: `init` builds the state from starting points, `step` advances all
 * chains by one transition (one batch), `observe` gives the chain positions `[chains, ...dim]` that the driver records.
 * @typeParam S the state; @typeParam I per-step diagnostics; @typeParam P what `init` takes (a position tensor by default).
 */
export interface SamplingAlgorithm<S, I extends BaseInfo, P = Tensor> {
  /** Name used in messages, e.g. `'mala'`. */
  readonly name: string;
  /**
   * True when a non-finite proposal is handled by rejecting it (MALA, HMC, PT); false when the chain has no accept
   * step to fall back on (ULA, annealed Langevin, Gibbs) — then the driver throws a {@link DivergenceError} by default.
   */
  readonly rejectsDivergent: boolean;
  /** The initial state at `position` (`[chains, ...dim]` for gradient samplers); computes what the kernel caches. */
  init(position: P): S;
  /** One transition: a new state (the input is not mutated) and the step's diagnostics, from an explicit key. */
  step(key: Key, state: S): readonly [S, I];
  /** The recorded sample `[chains, ...dim]` of a state. */
  observe(state: S): Tensor;
  /** The energies `[chains]` of the recorded sample, when the state caches them (for energy traces). */
  energyOf?(state: S): Tensor;
}

/** Fields every Info has. */
export interface BaseInfo {
  /**
   * Per chain (per row for tempered states): 1 where the proposal or update was non-finite. Samplers with an accept
   * step rejected it and kept the old point; ULA/annealed/Gibbs also kept the old point, and the driver throws.
   */
  readonly divergent: Uint8Array;
}

/** State of gradient-based samplers: the position and the energy and gradient cached there. */
export interface EnergyState {
  /** `[n, ...dim]`. */
  readonly position: Tensor;
  /** `E(position)`, `[n]`. */
  readonly energy: Tensor;
  /** `∇E(position)`, `[n, ...dim]`. */
  readonly grad: Tensor;
}

/** A value shared by all rows or one value per row (`Float64Array` of length n), e.g. per-replica temperatures. */
export type PerRow = number | Float64Array;

/** Optional safeguards common to gradient samplers. */
export interface Safeguards {
  /**
   * Clip each row's gradient to this Euclidean norm before use (`g ← g·min(1, c/‖g‖)`). In MALA/HMC the clipped
   * drift is used consistently in the proposal density / leapfrog, so the chain stays exact for `exp(−E/T)`.
   */
  readonly maxGradNorm?: number;
  /**
   * Box `[lo, hi]` applied to every coordinate. ULA and annealed Langevin project (clamp) onto the box; MALA, HMC and
   * PT reject proposals that leave it, which samples the target restricted to the box exactly.
   */
  readonly box?: readonly [number, number];
}

/** Thrown by the driver when a chain produced a non-finite energy or position; names the sampler, step and chains. */
export class DivergenceError extends EbmError {
  readonly code: EbmErrorCode = 'DIVERGED';
  override name = 'DivergenceError';
  constructor(message: string, readonly step: number, readonly chains: readonly number[]) {
    super(message);
  }
}
