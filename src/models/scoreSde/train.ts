/**
 * Training of the `score-sde` kind as values: one {@link ScoreSdeTrainState} (parameters, Adam state, EMA, step) and
 * a pure {@link scoreSdeTrainStep} that returns a new state and never touches the old one.
 */
import { TrainingDivergedError } from '../deepEbm/guard.js';
import { Tensor, valueAndGrad, allFinite } from '../../tensor/index.js';
import { createBufferPool, withBufferReuse, type BufferPoolOptions } from '../../tensor/bufferPool.js';
import { split, uniformArray, type Key } from '../../random/index.js';
import { adam, applyUpdates, cloneOptState, globalNorm, emaUpdate, type OptState, type GradientTransformation } from '../../optim/index.js';
import { continuousDSM } from '../../diffusion/index.js';
import { sdeOf, type ScoreSdeConfig } from './config.js';
import { initScoreParams, scoreFn, type ScoreParams } from './score.js';
import { logSigmaDSM } from './loss.js';
import { InvalidArgumentError } from '../../errors.js';

/** Optimiser settings of score-sde training. */
export interface ScoreSdeTrainOptions {
  /** Adam learning rate. */
  lr: number;
  /** EMA decay `d ∈ [0, 1)` of the parameters to save (0: no EMA, the last iterate is saved). Default 0. */
  ema?: number;
  /**
   * Reuse the buffers of each step's dead intermediates in the next step (default true): the step runs inside
   * {@link withBufferReuse} with a pool owned by the step function (at most `maxBytes` of free buffers, 256 MiB by
   * default). Results are identical either way; `false` allocates every intermediate fresh.
   */
  reuseBuffers?: boolean | BufferPoolOptions;
}

/** Everything training carries from one step to the next; a value (never mutated once returned). */
export interface ScoreSdeTrainState {
  /** Steps taken. */
  readonly step: number;
  readonly params: ScoreParams;
  /** Adam state (a list of moment trees, as `adam(lr).init` builds it). */
  readonly opt: OptState[];
  /** EMA of the parameters, or null when the EMA is off. */
  readonly ema: ScoreParams | null;
}

/** Diagnostics of one training step. */
export interface ScoreSdeStepInfo {
  /** The DSM loss of the batch (before the update). */
  readonly loss: number;
  /** Mean diffusion time of the batch's rows. */
  readonly meanT: number;
  /** Global norm of the gradient. */
  readonly gradNorm: number;
}

/**
 * The loss of a config: `continuousDSM` of `src/diffusion` when `tSampling` is `uniform`, else {@link logSigmaDSM}.
 * `(params, z [B, …], key) → { loss [], aux }` on standardised rows in the network's shape.
 */
export function scoreSdeLoss(cfg: ScoreSdeConfig): (p: ScoreParams, batch: Tensor, k: Key) => { loss: Tensor; aux: Readonly<Record<string, number>> } {
  const sde = sdeOf(cfg);
  return cfg.tSampling === 'uniform'
    ? continuousDSM(sde, { score: scoreFn(cfg, sde) }, { eps: cfg.eps, weighting: cfg.weighting })
    : logSigmaDSM(cfg, sde);
}

function checkOptions(o: ScoreSdeTrainOptions): number {
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw new InvalidArgumentError(`score-sde training: lr must be a finite number > 0, got ${o.lr}`);
  const ema = o.ema ?? 0;
  if (!(ema >= 0 && ema < 1)) throw new InvalidArgumentError(`score-sde training: ema must be in [0, 1), got ${ema}`);
  return ema;
}

/**
 * A fresh training state: parameters from `initScoreParams(key, cfg)`, Adam state, and the EMA started at the
 * parameters when `ema > 0`.
 * @example const s0 = initScoreSdeState(cfg, key(0), { lr: 2e-3, ema: 0.999 });
 */
export function initScoreSdeState(cfg: ScoreSdeConfig, key: Key, o: ScoreSdeTrainOptions): ScoreSdeTrainState {
  const ema = checkOptions(o);
  const params = initScoreParams(key, cfg);
  return { step: 0, params, opt: adam(o.lr).init(params), ema: ema > 0 ? params : null };
}

/**
 * Uniform dequantisation of a training batch of 8-bit images in model space: each level `z = 2k/(L − 1) − 1`
 * (`L = cfg.bins`) becomes `y = −1 + 2(k + u)/L` with `u ~ U(0, 1)` from `key` — the same map the dequantised
 * likelihood ({@link scoreSdeLogLik}) applies to test images, so the model is fitted to the density it is scored on.
 * Shapes: `batch [B, …]` → same shape and dtype. Throws when the config has no 8-bit levels.
 * @example const y = dequantizeBatch(cfg, reshape(gatherRows(z, idx), netShape(cfg, B)), foldIn(kDq, t));
 */
export function dequantizeBatch(cfg: ScoreSdeConfig, batch: Tensor, key: Key): Tensor {
  const L = cfg.bins;
  if (L === null) throw new InvalidArgumentError('dequantizeBatch: the config has no 8-bit levels (bins is null)');
  const u = uniformArray(key, batch.size, 'float64');
  const out = new (batch.dtype === 'float64' ? Float64Array : Float32Array)(batch.size);
  const d = batch.data;
  for (let i = 0; i < out.length; i++) {
    const k = Math.min(L - 1, Math.max(0, Math.round(((d[i] + 1) * (L - 1)) / 2)));
    out[i] = -1 + (2 * (k + u[i])) / L;
  }
  return new Tensor(out, batch.shape);
}

/**
 * The training step of a config: `step(state, batch, key) → [state', info]` with
 * `J(θ) = E_t E_z[λ(t)·½‖s_θ(m(t)z₀ + σ(t)ε, t) + ε/σ(t)‖²]` on the standardised batch `z [B, …]` (network shape,
 * see {@link toModelSpace}; 8-bit images with `cfg.dequantize` are first dequantised by {@link dequantizeBatch} with
 * the first half of `split(key, 2)`, the loss using the second), one Adam update, and the debiased EMA `θ̄ ← θ̄ + w_t(θ − θ̄)`, `w_t = (1 − d)/(1 − dᵗ)` when the EMA is on (optim's
 * `emaUpdate`: an average of the iterates alone, the initial parameters get no weight). Pure: the old state is
 * left as it was (the Adam moments are copied before the update consumes them), so a kept state is a snapshot. A
 * non-finite loss throws (naming the step). Same state, batch and key → the same new state, bit for bit. Each step
 * reuses the previous steps' dead intermediate buffers (`reuseBuffers`, on by default; see {@link withBufferReuse}).
 * @example
 * const step = scoreSdeTrainStep(cfg, { lr: 2e-3 });
 * let s = initScoreSdeState(cfg, key(0), { lr: 2e-3 });
 * for (let t = 1; t <= 100; t++) [s] = step(s, batchOf(t), foldIn(key(1), t));
 */
export function scoreSdeTrainStep(cfg: ScoreSdeConfig, o: ScoreSdeTrainOptions): (state: ScoreSdeTrainState, batch: Tensor, key: Key) => readonly [ScoreSdeTrainState, ScoreSdeStepInfo] {
  const ema = checkOptions(o);
  const loss = scoreSdeLoss(cfg);
  const opt: GradientTransformation<OptState[]> = adam(o.lr);
  const dq = cfg.dequantize === true;
  const reuse = o.reuseBuffers ?? true;
  const pool = reuse === false ? null : createBufferPool(reuse === true ? {} : reuse);
  const run = (s: ScoreSdeTrainState, batch: Tensor, key: Key): readonly [ScoreSdeTrainState, ScoreSdeStepInfo] => {
    let aux: Readonly<Record<string, number>> = {};
    const [kDq, kLoss] = dq ? split(key, 2) : [key, key];
    const b = dq ? dequantizeBatch(cfg, batch, kDq) : batch;
    const [lv, g] = valueAndGrad((p: ScoreParams) => {
      const r = loss(p, b, kLoss);
      aux = r.aux;
      return r.loss;
    })(s.params);
    return scoreSdeUpdate(s, g, lv.item(), aux.meanT ?? NaN, opt, ema);
  };
  // The step is pure (it returns a new state and numbers), so every intermediate it makes is dead when it returns.
  return pool === null ? run : (s, batch, key) => withBufferReuse(pool, () => run(s, batch, key));
}

/**
 * The update half of {@link scoreSdeTrainStep}, shared with its WebGPU twin (`scoreSdeTrainStepGpu`): a non-finite
 * loss throws (naming the step); else one Adam update of `s.params` by the gradient `g` (the moments copied first) and
 * the debiased EMA (optim's `emaUpdate`) when `ema > 0`.
 */
export function scoreSdeUpdate(s: ScoreSdeTrainState, g: ScoreParams, l: number, meanT: number, opt: GradientTransformation<OptState[]>, ema: number): readonly [ScoreSdeTrainState, ScoreSdeStepInfo] {
  if (!Number.isFinite(l)) throw new TrainingDivergedError(`training diverged at step ${s.step + 1}: loss is ${l} (try a smaller --lr)`, []);
  const [u, nextOpt] = opt.update(g, cloneOptState(s.opt), s.params);
  const params = applyUpdates(s.params, u);
  const nextEma = ema > 0 ? emaUpdate(s.ema ?? s.params, params, ema, s.step + 1) : null;
  return [{ step: s.step + 1, params, opt: nextOpt, ema: nextEma }, { loss: l, meanT, gradNorm: globalNorm(g) }] as const;
}

/** Checks the options of a training step and returns the EMA decay (0: none); shared with the WebGPU step. */
export function scoreSdeTrainSettings(o: ScoreSdeTrainOptions): number {
  return checkOptions(o);
}

/**
 * The parameters to keep after training: the EMA when on, else the last iterate; non-finite values throw.
 */
export function finalScoreParams(s: ScoreSdeTrainState): ScoreParams {
  const out = s.ema ?? s.params;
  if (!Object.values(out).every(allFinite)) throw new TrainingDivergedError('training produced non-finite parameters (try a smaller --lr)', []);
  return out;
}
