/**
 * Deep EBMs trained by score matching (`ebm train ebm --loss dsm|ssm|ssm-vr|sm`), as values: one
 * {@link DeepEbmScoreState} (parameters, Adam state, step) and a pure {@link deepEbmScoreTrainStep}; the losses are
 * the library's (`src/losses/scoreMatching.ts`) applied to the energy `E(x)` of the deep-EBM config.
 */
import { TrainingDivergedError } from './guard.js';
import { Tensor, valueAndGrad } from '../../tensor/index.js';
import type { Key } from '../../random/index.js';
import { adam, applyUpdates, cloneOptState, globalNorm, type LearningRate, type OptState } from '../../optim/index.js';
import { denoisingScoreMatching, slicedScoreMatching, exactScoreMatching, noiseConditionalDenoisingScoreMatching, type ScoreLoss } from '../../losses/scoreMatching.js';
import { deepEbmEnergy, deepEbmNoiseEnergy, initDeepEbm, type DeepEbmConfig } from './estimator.js';
import { InvalidArgumentError } from '../../errors.js';

/** Score-matching losses of a deep EBM. */
export const EBM_SCORE_LOSSES = ['dsm', 'ssm', 'ssm-vr', 'sm'] as const;
/** One of {@link EBM_SCORE_LOSSES}. */
export type EbmScoreLoss = (typeof EBM_SCORE_LOSSES)[number];

/**
 * The score-matching loss of a deep EBM: `dsm` (noise σ in data units), `ssm` (Rademacher probes), `ssm-vr`
 * (variance-reduced) or `sm` (exact, cost linear in the dimension) applied to `{ energy: (p, x) → E(x) }`.
 * For a noise-conditional config (`cfg.noise`), `dsm` is {@link noiseConditionalDenoisingScoreMatching} over
 * `[cfg.noise.sigmaMin, cfg.noise.sigmaMax]` with heat-equation weight `heat` (default 1), and `sigma` is not used.
 * @example ebmScoreLoss('dsm', cfg, 0.1)(params, batch, key(0)).loss
 */
export function ebmScoreLoss(loss: EbmScoreLoss, cfg: DeepEbmConfig, sigma: number, heat = 1): ScoreLoss<Record<string, Tensor>> {
  if (cfg.noise && loss !== 'dsm') throw new InvalidArgumentError(`ebmScoreLoss: a noise-conditional energy (cfg.noise) is trained by dsm, not ${String(loss)}`);
  if (cfg.noise) {
    return noiseConditionalDenoisingScoreMatching((p: Record<string, Tensor>, x: Tensor, ls: Tensor) => deepEbmNoiseEnergy(p, cfg)(x, ls), {
      sigmaMin: cfg.noise.sigmaMin, sigmaMax: cfg.noise.sigmaMax, pMin: DSM_SIGMA_MIN_FRACTION, heat,
    });
  }
  const model = { energy: (p: Record<string, Tensor>, x: Tensor) => deepEbmEnergy(p, cfg).energy(x) };
  if (loss === 'dsm') return denoisingScoreMatching(model, { sigma });
  if (loss === 'ssm') return slicedScoreMatching(model, { projection: 'rademacher' });
  if (loss === 'ssm-vr') return slicedScoreMatching(model, { projection: 'rademacher', varianceReduction: true });
  if (loss === 'sm') return exactScoreMatching(model);
  throw new InvalidArgumentError(`ebmScoreLoss: loss must be one of ${EBM_SCORE_LOSSES.join(', ')}, got ${String(loss)}`);
}

/** Fraction of the rows of a noise-conditional DSM batch drawn at `σ_min` (the rest log-uniform up to `σ_max`). */
export const DSM_SIGMA_MIN_FRACTION = 0.5;

/** Settings of deep-EBM score-matching training. */
export interface DeepEbmScoreOptions {
  loss: EbmScoreLoss;
  /** DSM noise σ in data units (ignored by the other losses, and by a noise-conditional config, which has its levels). */
  sigma: number;
  /** Noise-conditional DSM (`cfg.noise`): weight of the heat-equation term (default 1; 0: none). */
  heat?: number;
  /** Adam learning rate, constant or a schedule of the step. */
  lr: LearningRate;
  /** Clip the gradient to this global norm before Adam (default: none). */
  clipNorm?: number;
}

/** Everything training carries from one step to the next; a value (never mutated once returned). */
export interface DeepEbmScoreState {
  /** Steps taken. */
  readonly step: number;
  readonly params: Record<string, Tensor>;
  readonly opt: OptState[];
}

/** Diagnostics of one step. */
export interface DeepEbmScoreInfo {
  readonly loss: number;
  readonly gradNorm: number;
  /** Learning rate of this step. */
  readonly lr: number;
}

function optimiser(o: DeepEbmScoreOptions) {
  return adam(o.lr, o.clipNorm !== undefined ? { clipNorm: o.clipNorm } : {});
}

/**
 * A fresh state: `initDeepEbm(key, cfg)` and the Adam state.
 * @example const s0 = initDeepEbmScoreState(cfg, key(0), { loss: 'dsm', sigma: 0.1, lr: 1e-3 });
 */
export function initDeepEbmScoreState(cfg: DeepEbmConfig, key: Key, o: DeepEbmScoreOptions): DeepEbmScoreState {
  const params = initDeepEbm(key, cfg);
  return { step: 0, params, opt: optimiser(o).init(params) };
}

/**
 * The training step: `step(state, x [B, …], key) → [state', info]`, the loss of {@link ebmScoreLoss} on the batch
 * (data units), its gradient and one Adam update. Pure: the Adam moments are copied before the update consumes them.
 * A non-finite loss throws, naming the step.
 * @example
 * const step = deepEbmScoreTrainStep(cfg, { loss: 'ssm-vr', sigma: 0.1, lr: 1e-3 });
 * let s = initDeepEbmScoreState(cfg, key(0), { loss: 'ssm-vr', sigma: 0.1, lr: 1e-3 });
 * for (let t = 1; t <= 100; t++) [s] = step(s, batchOf(t), foldIn(key(1), t));
 */
export function deepEbmScoreTrainStep(cfg: DeepEbmConfig, o: DeepEbmScoreOptions): (state: DeepEbmScoreState, batch: Tensor, key: Key) => readonly [DeepEbmScoreState, DeepEbmScoreInfo] {
  const loss = ebmScoreLoss(o.loss, cfg, o.sigma, o.heat ?? 1);
  const update = deepEbmScoreUpdate(o);
  return (s, batch, key) => {
    const [l, g] = valueAndGrad((p: Record<string, Tensor>) => loss(p, batch, key).loss)(s.params);
    return update(s, l.item(), g);
  };
}

/**
 * The update half of {@link deepEbmScoreTrainStep}: given a step's loss value and gradient (computed here or on a
 * device), one Adam update of the state. Pure: the Adam moments are copied before the update consumes them. A
 * non-finite loss throws, naming the step.
 * @example const [next, info] = deepEbmScoreUpdate(o)(s, loss, grads);
 */
export function deepEbmScoreUpdate(o: DeepEbmScoreOptions): (s: DeepEbmScoreState, loss: number, grads: Record<string, Tensor>) => readonly [DeepEbmScoreState, DeepEbmScoreInfo] {
  const opt = optimiser(o);
  return (s, lv, g) => {
    if (!Number.isFinite(lv)) throw new TrainingDivergedError(`training diverged at step ${s.step + 1}: loss is ${lv} (try a smaller --lr${o.loss === 'dsm' ? ' or a larger --sigma' : ''})`, []);
    const [u, nextOpt] = opt.update(g, cloneOptState(s.opt), s.params);
    const lr = typeof o.lr === 'number' ? o.lr : o.lr(s.step);
    return [{ step: s.step + 1, params: applyUpdates(s.params, u), opt: nextOpt }, { loss: lv, gradNorm: globalNorm(g), lr }] as const;
  };
}
