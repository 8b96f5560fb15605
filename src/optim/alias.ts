/** Ready-made optimisers (recipes chaining the transforms): SGD, Adam, AdamW. */
import { scaleByAdam } from './adam.js';
import { clipByGlobalNorm } from './clip.js';
import { trace } from './trace.js';
import { chain, scale, scaleBySchedule, type GradientTransformation, type OptState, type Schedule } from './transform.js';
import { addDecayedWeights, type WeightDecayOptions } from './weightDecay.js';
import { InvalidArgumentError } from '../errors.js';

/** A learning rate: a constant or a {@link Schedule} of the update number. */
export type LearningRate = number | Schedule;

/** `u = −lr·g` for a constant or scheduled learning rate. */
export function scaleByLearningRate(lr: LearningRate): GradientTransformation<OptState> {
  if (typeof lr === 'number') {
    if (!(lr > 0) || !Number.isFinite(lr)) throw new InvalidArgumentError(`learning rate must be a positive number, got ${lr}`);
    return scale(-lr) as GradientTransformation<OptState>;
  }
  return scaleBySchedule((t) => -lr(t)) as unknown as GradientTransformation<OptState>;
}

/** Options shared by the recipes. */
export interface CommonOptions extends WeightDecayOptions {
  /** Clip gradients to this global L2 norm before anything else (see {@link clipByGlobalNorm}). */
  readonly clipNorm?: number;
}

/** Options of {@link sgd}. */
export interface SgdOptions extends CommonOptions {
  /** Momentum `μ` (default 0: plain SGD). */
  readonly momentum?: number;
  /** Nesterov momentum (default false). */
  readonly nesterov?: boolean;
  /** L2 weight decay `λ` added to the gradient before momentum, as in PyTorch's SGD (default 0). */
  readonly weightDecay?: number;
}

/**
 * Stochastic gradient descent: `chain([clip], addDecayedWeights(λ), trace(μ, nesterov), scale(−lr))`, i.e.
 * `b ← (g + λp) + μb`, `p ← p − lr·b` (PyTorch SGD with zero dampening). Stages that are off are omitted.
 * @example const opt = sgd(0.1, { momentum: 0.9 });
 */
export function sgd(lr: LearningRate, opts: SgdOptions = {}): GradientTransformation<OptState[]> {
  const ts: GradientTransformation<any>[] = [];
  if (opts.clipNorm !== undefined) ts.push(clipByGlobalNorm(opts.clipNorm));
  if (opts.weightDecay) ts.push(addDecayedWeights(opts.weightDecay, opts));
  if (opts.momentum) ts.push(trace(opts.momentum, opts.nesterov ?? false));
  else if (opts.nesterov) throw new InvalidArgumentError('sgd: nesterov needs a momentum > 0');
  ts.push(scaleByLearningRate(lr));
  return chain(...ts);
}

/** Options of {@link adam} and {@link adamw}. */
export interface AdamRecipeOptions extends CommonOptions {
  readonly b1?: number;
  readonly b2?: number;
  readonly eps?: number;
  /**
   * Weight decay `λ`. For {@link adam}: L2, added to the gradient before the moments (PyTorch `Adam`, default 0).
   * For {@link adamw}: decoupled, `p ← p − lr·(û + λp)` (PyTorch `AdamW`, default 1e-2).
   */
  readonly weightDecay?: number;
}

/**
 * Adam: `chain([clip], [addDecayedWeights(λ)], scaleByAdam({b1, b2, eps}), scale(−lr))`.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-8`.
 * @example const opt = adam(1e-3); let st = opt.init(params);
 */
export function adam(lr: LearningRate, opts: AdamRecipeOptions = {}): GradientTransformation<OptState[]> {
  const ts: GradientTransformation<any>[] = [];
  if (opts.clipNorm !== undefined) ts.push(clipByGlobalNorm(opts.clipNorm));
  if (opts.weightDecay) ts.push(addDecayedWeights(opts.weightDecay, opts));
  ts.push(scaleByAdam(opts));
  ts.push(scaleByLearningRate(lr));
  return chain(...ts);
}

/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter 2019): `chain([clip], scaleByAdam, addDecayedWeights(λ), scale(−lr))`,
 * so `p ← p − lr·(m̂/(√v̂ + ε) + λp)`. Default `λ = 1e-2`; with a schedule the decay follows the schedule too.
 * @example const opt = adamw(1e-3, { weightDecay: 1e-4, mask: (p) => p.ndim > 1 });
 */
export function adamw(lr: LearningRate, opts: AdamRecipeOptions = {}): GradientTransformation<OptState[]> {
  const ts: GradientTransformation<any>[] = [];
  if (opts.clipNorm !== undefined) ts.push(clipByGlobalNorm(opts.clipNorm));
  ts.push(scaleByAdam(opts));
  ts.push(addDecayedWeights(opts.weightDecay ?? 1e-2, opts));
  ts.push(scaleByLearningRate(lr));
  return chain(...ts);
}
