/** Learning-rate schedules: pure functions from the update number (0-based) to a value. */
import type { Schedule } from './transform.js';
import { InvalidArgumentError } from '../errors.js';

function finite(name: string, v: number, what: string): void {
  if (!Number.isFinite(v)) throw new InvalidArgumentError(`${name}: ${what} must be finite, got ${v}`);
}
function positiveInt(name: string, v: number, what: string): void {
  if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(`${name}: ${what} must be a positive integer, got ${v}`);
}

/**
 * The same value at every step.
 * @example constant(1e-3)(500) // 1e-3
 */
export function constant(value: number): Schedule {
  finite('constant', value, 'value');
  return () => value;
}

/** Options of {@link exponentialDecay}. */
export interface ExponentialDecayOptions {
  /** Decay in whole periods (`⌊t/T⌋` instead of `t/T`). Default false. */
  readonly staircase?: boolean;
  /** Steps before decay starts (the value is `init` until then). Default 0. */
  readonly transitionBegin?: number;
  /** A floor (when decaying) or ceiling (when growing) on the value. */
  readonly endValue?: number;
}

/**
 * Exponential decay: `v(t) = init · rate^((t − t0)/T)` for `t ≥ t0` (`init` before), optionally staircase and bounded
 * by `endValue`.
 * @param transitionSteps `T`, the number of steps over which the value is multiplied by `rate`.
 * @example exponentialDecay(0.1, 0.5, 100)(200) // 0.025
 */
export function exponentialDecay(initValue: number, decayRate: number, transitionSteps: number, opts: ExponentialDecayOptions = {}): Schedule {
  finite('exponentialDecay', initValue, 'initValue');
  if (!(decayRate > 0) || !Number.isFinite(decayRate)) throw new InvalidArgumentError(`exponentialDecay: decayRate must be > 0, got ${decayRate}`);
  positiveInt('exponentialDecay', transitionSteps, 'transitionSteps');
  const t0 = opts.transitionBegin ?? 0;
  if (!Number.isInteger(t0) || t0 < 0) throw new InvalidArgumentError(`exponentialDecay: transitionBegin must be a non-negative integer, got ${t0}`);
  const end = opts.endValue;
  return (t) => {
    let p = Math.max(0, t - t0) / transitionSteps;
    if (opts.staircase) p = Math.floor(p);
    let v = initValue * Math.pow(decayRate, p);
    if (end !== undefined) v = decayRate < 1 ? Math.max(v, end) : Math.min(v, end);
    return v;
  };
}

/**
 * Cosine decay from `init` to `alpha·init` over `decaySteps`, constant afterwards:
 * `v(t) = init · ((1 − α)·½(1 + cos(π·min(t, T)/T)) + α)`.
 * @example cosineDecay(1, 100)(50) // 0.5
 */
export function cosineDecay(initValue: number, decaySteps: number, alpha = 0): Schedule {
  finite('cosineDecay', initValue, 'initValue');
  positiveInt('cosineDecay', decaySteps, 'decaySteps');
  finite('cosineDecay', alpha, 'alpha');
  return (t) => {
    const c = 0.5 * (1 + Math.cos((Math.PI * Math.min(Math.max(t, 0), decaySteps)) / decaySteps));
    return initValue * ((1 - alpha) * c + alpha);
  };
}

/**
 * Linear interpolation from `initValue` at step `begin` to `endValue` at step `begin + steps`, constant outside.
 * @example linearSchedule(0, 1, 10)(5) // 0.5
 */
export function linearSchedule(initValue: number, endValue: number, steps: number, begin = 0): Schedule {
  finite('linearSchedule', initValue, 'initValue');
  finite('linearSchedule', endValue, 'endValue');
  positiveInt('linearSchedule', steps, 'steps');
  return (t) => {
    const f = Math.min(Math.max((t - begin) / steps, 0), 1);
    return initValue + (endValue - initValue) * f;
  };
}

/**
 * Linear warm-up from `initValue` (default 0) to `peak` over `warmupSteps`, then `after(t − warmupSteps)` if given,
 * else constant `peak`: `v(t) = init + (peak − init)·t/W` for `t < W`.
 * @example linearWarmup(1e-3, 100)(50) // 5e-4
 * @example linearWarmup(1e-3, 100, cosineDecay(1e-3, 900)) // warm up, then cosine
 */
export function linearWarmup(peak: number, warmupSteps: number, after?: Schedule, initValue = 0): Schedule {
  finite('linearWarmup', peak, 'peak');
  finite('linearWarmup', initValue, 'initValue');
  positiveInt('linearWarmup', warmupSteps, 'warmupSteps');
  return (t) => (t < warmupSteps ? initValue + ((peak - initValue) * Math.max(t, 0)) / warmupSteps : after ? after(t - warmupSteps) : peak);
}

/**
 * Linear warm-up to `peak` over `warmupSteps`, then cosine decay to `endValue` at step `decaySteps` (which counts the
 * warm-up, as in optax's `warmup_cosine_decay_schedule`), constant `endValue` afterwards.
 * @example warmupCosine(0, 1e-3, 100, 1000)(100) // 1e-3 (the peak)
 */
export function warmupCosine(initValue: number, peak: number, warmupSteps: number, decaySteps: number, endValue = 0): Schedule {
  finite('warmupCosine', endValue, 'endValue');
  if (!Number.isInteger(decaySteps) || decaySteps <= warmupSteps) {
    throw new InvalidArgumentError(`warmupCosine: decaySteps (${decaySteps}) must be an integer greater than warmupSteps (${warmupSteps})`);
  }
  const T = decaySteps - warmupSteps;
  const cos: Schedule = (s) => endValue + (peak - endValue) * 0.5 * (1 + Math.cos((Math.PI * Math.min(s, T)) / T));
  return linearWarmup(peak, warmupSteps, cos, initValue);
}

/**
 * Piecewise-constant values: `values[0]` for `t < boundaries[0]`, `values[i]` for `boundaries[i−1] ≤ t < boundaries[i]`,
 * and `values[n]` from the last boundary on. Boundaries must be increasing integers; `values.length = boundaries.length + 1`.
 * @example piecewiseConstant([100, 200], [1e-2, 1e-3, 1e-4])(150) // 1e-3
 */
export function piecewiseConstant(boundaries: readonly number[], values: readonly number[]): Schedule {
  if (values.length !== boundaries.length + 1) {
    throw new InvalidArgumentError(`piecewiseConstant: need ${boundaries.length + 1} values for ${boundaries.length} boundaries, got ${values.length}`);
  }
  for (let i = 0; i < boundaries.length; i++) {
    if (!Number.isInteger(boundaries[i]) || (i > 0 && boundaries[i] <= boundaries[i - 1])) {
      throw new InvalidArgumentError(`piecewiseConstant: boundaries must be increasing integers, got [${boundaries.join(', ')}]`);
    }
  }
  values.forEach((v, i) => finite('piecewiseConstant', v, `values[${i}]`));
  const bs = boundaries.slice();
  const vs = values.slice();
  return (t) => {
    let i = 0;
    while (i < bs.length && t >= bs[i]) i++;
    return vs[i];
  };
}
