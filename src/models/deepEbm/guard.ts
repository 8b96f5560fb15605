/**
 * Divergence detection for MCMC-trained EBMs: NaN/∞ anywhere, an exploding energy gap or gradient norm, or sampler
 * divergences. The trainer rolls back to the last good snapshot, changes the random stream and lowers the learning
 * rate when {@link DivergenceGuard.check} reports trouble, and stops with {@link TrainingDivergedError} after
 * `maxRollbacks` rollbacks. Nothing is masked: a NaN is a reason for a rollback, never replaced by a number.
 * @module
 */

import { InvalidArgumentError, EbmError, type EbmErrorCode } from '../../errors.js';

/** Options of {@link DivergenceGuard} (and of the trainer's rollback policy). */
export interface GuardOptions {
  /** Rollbacks allowed before training stops (default 5). */
  readonly maxRollbacks?: number;
  /** Learning-rate multiplier applied at each rollback (default 0.5). */
  readonly lrDecay?: number;
  /** Take a "last good" snapshot every this many healthy steps (default 25). */
  readonly snapshotEvery?: number;
  /** Absolute bound on `|E⁺ − E⁻|` (default 1e4). */
  readonly maxAbsGap?: number;
  /** Absolute bound on the mean |energy| of positives and negatives (default 1e6). */
  readonly maxAbsEnergy?: number;
  /** Relative bound: trouble when `|gap| > gapFactor·(EMA of |gap| + gapFloor)` after warm-up (default 50). */
  readonly gapFactor?: number;
  /** Floor added to the gap EMA in the relative test (default 1). */
  readonly gapFloor?: number;
  /** Relative bound: trouble when the pre-clip gradient norm exceeds `gradFactor·EMA` after warm-up (default 100). */
  readonly gradFactor?: number;
  /** Absolute bound on the pre-clip gradient norm (default ∞). */
  readonly maxGradNorm?: number;
  /** Sampler divergences (step·chain pairs) tolerated per training step (default 0). */
  readonly maxSamplerDivergent?: number;
  /** Healthy steps before the relative tests start (default 20). */
  readonly warmup?: number;
  /** Decay of the exponential moving averages (default 0.95). */
  readonly emaDecay?: number;
}

/** The numbers of one training step the guard looks at. */
export interface GuardInput {
  readonly loss: number;
  readonly gap: number;
  readonly ePos: number;
  readonly eNeg: number;
  /** Pre-clip global gradient norm. */
  readonly gradNorm: number;
  readonly samplerDivergent: number;
}

/** Plain-data state of the guard (restored on rollback). */
export interface GuardState {
  readonly emaGap: number;
  readonly emaGrad: number;
  readonly healthy: number;
}

/** One rollback, as logged by the trainer. */
export interface GuardEvent {
  /** Step at which trouble was detected. */
  readonly step: number;
  readonly reason: string;
  /** Step of the snapshot restored. */
  readonly rolledBackTo: number;
  /** Learning-rate multiplier after the rollback. */
  readonly lrScale: number;
  /** Random-stream index after the rollback. */
  readonly stream: number;
  /** Rollbacks so far (including this one). */
  readonly rollbacks: number;
}

/** Thrown when training keeps diverging after the allowed number of rollbacks; carries the events. */
export class TrainingDivergedError extends EbmError {
  readonly code: EbmErrorCode = 'TRAINING_DIVERGED';
  override name = 'TrainingDivergedError';
  constructor(message: string, readonly events: readonly GuardEvent[]) {
    super(message);
  }
}

/** Resolved guard options with defaults. */
export type ResolvedGuardOptions = Required<GuardOptions>;

/** Fills in defaults and validates guard options. */
export function resolveGuardOptions(o: GuardOptions = {}): ResolvedGuardOptions {
  const r: ResolvedGuardOptions = {
    maxRollbacks: o.maxRollbacks ?? 5,
    lrDecay: o.lrDecay ?? 0.5,
    snapshotEvery: o.snapshotEvery ?? 25,
    maxAbsGap: o.maxAbsGap ?? 1e4,
    maxAbsEnergy: o.maxAbsEnergy ?? 1e6,
    gapFactor: o.gapFactor ?? 50,
    gapFloor: o.gapFloor ?? 1,
    gradFactor: o.gradFactor ?? 100,
    maxGradNorm: o.maxGradNorm ?? Infinity,
    maxSamplerDivergent: o.maxSamplerDivergent ?? 0,
    warmup: o.warmup ?? 20,
    emaDecay: o.emaDecay ?? 0.95,
  };
  if (!Number.isInteger(r.maxRollbacks) || r.maxRollbacks < 0) throw new InvalidArgumentError(`guard: maxRollbacks must be an integer ≥ 0, got ${r.maxRollbacks}`);
  if (!(r.lrDecay > 0 && r.lrDecay <= 1)) throw new InvalidArgumentError(`guard: lrDecay must be in (0, 1], got ${r.lrDecay}`);
  if (!Number.isInteger(r.snapshotEvery) || r.snapshotEvery < 1) throw new InvalidArgumentError(`guard: snapshotEvery must be a positive integer, got ${r.snapshotEvery}`);
  for (const k of ['maxAbsGap', 'maxAbsEnergy', 'gapFactor', 'gradFactor', 'maxGradNorm'] as const) {
    if (!(r[k] > 0)) throw new InvalidArgumentError(`guard: ${k} must be > 0, got ${r[k]}`);
  }
  if (!(r.emaDecay >= 0 && r.emaDecay < 1)) throw new InvalidArgumentError(`guard: emaDecay must be in [0, 1), got ${r.emaDecay}`);
  return r;
}

/**
 * Watches training numbers for divergence. `check` returns a reason string when the step must not be applied
 * (and the trainer should roll back), else `null`; `accept` feeds a healthy step into the moving averages.
 * @example
 * const g = new DivergenceGuard({ maxAbsGap: 100 });
 * const why = g.check({ loss, gap, ePos, eNeg, gradNorm, samplerDivergent: 0 });
 * if (why) rollback(why); else g.accept(...);
 */
export class DivergenceGuard {
  readonly options: ResolvedGuardOptions;
  state: GuardState = { emaGap: 0, emaGrad: 0, healthy: 0 };

  constructor(opts: GuardOptions = {}) {
    this.options = resolveGuardOptions(opts);
  }

  /** The reason this step is unhealthy, or `null`. */
  check(m: GuardInput): string | null {
    const o = this.options;
    for (const k of ['loss', 'gap', 'ePos', 'eNeg', 'gradNorm'] as const) {
      if (!Number.isFinite(m[k])) return `${k} is ${m[k]}`;
    }
    if (m.samplerDivergent > o.maxSamplerDivergent) return `sampler flagged ${m.samplerDivergent} non-finite proposals`;
    if (Math.abs(m.gap) > o.maxAbsGap) return `energy gap |${m.gap.toPrecision(4)}| exceeds ${o.maxAbsGap}`;
    const eMax = Math.max(Math.abs(m.ePos), Math.abs(m.eNeg));
    if (eMax > o.maxAbsEnergy) return `energy magnitude ${eMax.toPrecision(4)} exceeds ${o.maxAbsEnergy}`;
    if (m.gradNorm > o.maxGradNorm) return `gradient norm ${m.gradNorm.toPrecision(4)} exceeds ${o.maxGradNorm}`;
    const s = this.state;
    if (s.healthy >= o.warmup) {
      const gapLim = o.gapFactor * (s.emaGap + o.gapFloor);
      if (Math.abs(m.gap) > gapLim) return `energy gap |${m.gap.toPrecision(4)}| exploded (> ${gapLim.toPrecision(4)} = ${o.gapFactor}×(recent ${s.emaGap.toPrecision(3)} + ${o.gapFloor}))`;
      const gradLim = o.gradFactor * s.emaGrad;
      if (s.emaGrad > 0 && m.gradNorm > gradLim) return `gradient norm ${m.gradNorm.toPrecision(4)} exploded (> ${o.gradFactor}× recent ${s.emaGrad.toPrecision(3)})`;
    }
    return null;
  }

  /** Records a healthy step in the moving averages. */
  accept(m: GuardInput): void {
    const d = this.options.emaDecay;
    const s = this.state;
    const first = s.healthy === 0;
    this.state = {
      emaGap: first ? Math.abs(m.gap) : d * s.emaGap + (1 - d) * Math.abs(m.gap),
      emaGrad: first ? m.gradNorm : d * s.emaGrad + (1 - d) * m.gradNorm,
      healthy: s.healthy + 1,
    };
  }
}
