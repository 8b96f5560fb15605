/**
 * Training of the `mlp-energy` kind by score matching, as values: one {@link MlpEnergyTrainState} (parameters, Adam
 * state, step) and a pure {@link mlpEnergyTrainStep}; the losses are the library's (`src/losses/scoreMatching.ts`).
 */
import { TrainingDivergedError } from '../deepEbm/guard.js';
import { Tensor, valueAndGrad, noGrad, add, mul, mean } from '../../tensor/index.js';
import { createBufferPool, withBufferReuse, type BufferPoolOptions } from '../../tensor/bufferPool.js';
import { normal, type Key } from '../../random/index.js';
import type { MLPParams } from '../../nn/index.js';
import { adam, applyUpdates, cloneOptState, globalNorm, type OptState, type GradientTransformation } from '../../optim/index.js';
import { denoisingScoreMatching, slicedScoreMatching, type ScoreLoss } from '../../losses/scoreMatching.js';
import { cdValueAndGrad, type CDLoss, type CDState } from '../../losses/contrastiveDivergence.js';
import { initMlpEnergy, energyZ, type MlpEnergyConfig } from './model.js';
import type { GpuKernels } from '../../gpu/kernels.js';
import { gpuMlpUnsupported } from '../../gpu/mlpLangevin.js';
import { mlpDsmValueAndGradGpu } from '../../gpu/mlpDsm.js';
import { mlpSsmValueAndGradGpu } from './gpuSsm.js';
import { InvalidArgumentError } from '../../errors.js';

/**
 * The training loss of a config, on standardised rows `z [B, d]` (score `s(z) = −∇_z E`):
 * - `dsm`: the library's `denoisingScoreMatching` with `weighting: 'sigma2'`: `z̃ = z + σε`,
 *   `L = ½‖σ∇_zE(z̃) − ε‖²` averaged over the batch (the scale at which every σ contributes alike);
 * - `ssm`: the library's `slicedScoreMatching` with one Gaussian projection per row.
 * Both draw their noise as `normal(key, [B, d])`. Aux: `{ loss }` (and SSM's two terms).
 * @example const { loss } = mlpEnergyLoss(cfg)(params, zBatch, key(3));
 */
export function mlpEnergyLoss(cfg: MlpEnergyConfig): ScoreLoss<MLPParams> {
  const model = { energy: (p: MLPParams, z: Tensor) => energyZ(p, cfg, z) };
  if (cfg.loss === 'ssm') return slicedScoreMatching<MLPParams>(model, { projection: 'gaussian' });
  return denoisingScoreMatching<MLPParams>(model, { sigma: cfg.sigma, weighting: 'sigma2' });
}

/**
 * Energy gap `mean E(z + σε) − mean E(z)` of a batch with the noise `ε = normal(key, [B, d])` that the loss of the
 * same key draws: positive once the model has learnt that the data sit in low-energy regions (a training diagnostic).
 */
export function mlpEnergyGap(p: MLPParams, cfg: MlpEnergyConfig, z: Tensor, key: Key): number {
  return noGrad(() => {
    const zt = add(z, mul(normal(key, z.shape, { dtype: z.dtype }), cfg.sigma));
    return mean(energyZ(p, cfg, zt)).item() - mean(energyZ(p, cfg, z)).item();
  });
}

/** Optimiser settings of mlp-energy training. */
export interface MlpEnergyTrainOptions {
  /** Adam learning rate. */
  lr: number;
  /** Clip the gradient to this global norm before Adam (default: no clipping). */
  clipNorm?: number;
  /**
   * Reuse the buffers of each step's dead intermediates in the next step (default true; CPU steps only): the step
   * runs inside {@link withBufferReuse} with a pool owned by the step function. Results are identical either way;
   * `false` allocates every intermediate fresh.
   */
  reuseBuffers?: boolean | BufferPoolOptions;
}

/** The step run inside a buffer-reuse scope of its own pool (`o.reuseBuffers`, default on), or as it is. */
function reusing<A extends unknown[], R>(o: MlpEnergyTrainOptions, run: (...a: A) => R): (...a: A) => R {
  const reuse = o.reuseBuffers ?? true;
  if (reuse === false) return run;
  const pool = createBufferPool(reuse === true ? {} : reuse);
  // The steps are pure (they return a new state and numbers), so every intermediate they make is dead at return.
  return (...a) => withBufferReuse(pool, () => run(...a));
}

/** Everything training carries from one step to the next; a value (never mutated once returned). */
export interface MlpEnergyTrainState {
  /** Steps taken. */
  readonly step: number;
  readonly params: MLPParams;
  /** Adam state. */
  readonly opt: OptState[];
}

/** Diagnostics of one training step. */
export interface MlpEnergyStepInfo {
  /** Loss of the batch before the update. */
  readonly loss: number;
  /** Global norm of the gradient (before clipping). */
  readonly gradNorm: number;
}

function optimiser(o: MlpEnergyTrainOptions): GradientTransformation<OptState[]> {
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw new InvalidArgumentError(`mlp-energy training: lr must be a finite number > 0, got ${o.lr}`);
  return adam(o.lr, o.clipNorm !== undefined ? { clipNorm: o.clipNorm } : {});
}

/**
 * A fresh training state: `initMlpEnergy(key, cfg)` and the Adam state.
 * @example const s0 = initMlpEnergyState(cfg, key(0), { lr: 1e-3 });
 */
export function initMlpEnergyState(cfg: MlpEnergyConfig, key: Key, o: MlpEnergyTrainOptions): MlpEnergyTrainState {
  const params = initMlpEnergy(key, cfg);
  return { step: 0, params, opt: optimiser(o).init(params) };
}

/**
 * The training step of a config: `step(state, z [B, d], key) → [state', info]` — {@link mlpEnergyLoss} on the
 * standardised batch, its gradient by nested differentiation, one Adam update. Pure: the old state is left as it was
 * (the Adam moments are copied before the update consumes them). A non-finite loss throws, naming the step. Each step
 * reuses the previous steps' dead intermediate buffers (`reuseBuffers`, on by default; same results either way).
 * @example
 * const step = mlpEnergyTrainStep(cfg, { lr: 1e-3 });
 * let s = initMlpEnergyState(cfg, key(0), { lr: 1e-3 });
 * for (let t = 1; t <= 200; t++) [s] = step(s, standardize(cfg, x), foldIn(key(1), t));
 */
export function mlpEnergyTrainStep(cfg: MlpEnergyConfig, o: MlpEnergyTrainOptions): (state: MlpEnergyTrainState, batch: Tensor, key: Key) => readonly [MlpEnergyTrainState, MlpEnergyStepInfo] {
  const opt = optimiser(o);
  const loss = mlpEnergyLoss(cfg);
  return reusing(o, (s: MlpEnergyTrainState, batch: Tensor, key: Key): readonly [MlpEnergyTrainState, MlpEnergyStepInfo] => {
    const [lv, g] = valueAndGrad((p: MLPParams) => loss(p, batch, key).loss)(s.params);
    const l = lv.item();
    if (!Number.isFinite(l)) throw new TrainingDivergedError(`training diverged at step ${s.step + 1}: loss is ${l} (try a smaller --lr)`, []);
    const [u, nextOpt] = opt.update(g, cloneOptState(s.opt), s.params);
    return [{ step: s.step + 1, params: applyUpdates(s.params, u), opt: nextOpt }, { loss: l, gradNorm: globalNorm(g) }] as const;
  });
}

/**
 * Why {@link mlpEnergyTrainStepGpu} cannot train this config (`null` when it can): DSM (lowered by hand) and SSM (by
 * the traced `compile`) run on the GPU with an activation that has first- and second-derivative kernels.
 * @example mlpEnergyGpuUnsupported({ ...cfg, activation: 'elu' }) // "activation 'elu' has no WebGPU kernel (…)"
 */
export function mlpEnergyGpuUnsupported(cfg: MlpEnergyConfig): string | null {
  if (cfg.loss !== 'dsm' && cfg.loss !== 'ssm') return `loss '${String(cfg.loss)}' has no WebGPU training step (dsm and ssm only)`;
  return gpuMlpUnsupported(cfg.activation);
}

/**
 * {@link mlpEnergyTrainStep} with the loss and its parameter gradient computed on the WebGPU device (DSM:
 * `mlpDsmValueAndGradGpu`, the loss's gradient of a gradient lowered by hand; SSM: `mlpSsmValueAndGradGpu`, the
 * library's loss traced and compiled), then the same Adam update on the host. Asynchronous (the gradients are read
 * back once per step); the same keys, so the same noise, and the same states as the CPU step within float32 rounding.
 * Configs of {@link mlpEnergyGpuUnsupported} are refused.
 * @example
 * const gpu = await GpuKernels.create();
 * if (gpu instanceof GpuKernels) [s] = await mlpEnergyTrainStepGpu(gpu, cfg, { lr: 1e-3 })(s, zb, k);
 */
export function mlpEnergyTrainStepGpu(gpu: GpuKernels, cfg: MlpEnergyConfig, o: MlpEnergyTrainOptions): (state: MlpEnergyTrainState, batch: Tensor, key: Key) => Promise<readonly [MlpEnergyTrainState, MlpEnergyStepInfo]> {
  const why = mlpEnergyGpuUnsupported(cfg);
  if (why) throw new InvalidArgumentError(`mlpEnergyTrainStepGpu: ${why}`);
  const opt = optimiser(o);
  const ssm = cfg.loss === 'ssm' ? mlpSsmValueAndGradGpu(gpu, cfg) : null;
  return async (s, batch, key) => {
    const { loss: l, grads: g } = ssm ? await ssm(s.params, batch, key) : await mlpDsmValueAndGradGpu(gpu, s.params, cfg, batch, key);
    if (!Number.isFinite(l)) throw new TrainingDivergedError(`training diverged at step ${s.step + 1}: loss is ${l} (try a smaller --lr)`, []);
    const [u, nextOpt] = opt.update(g, cloneOptState(s.opt), s.params);
    return [{ step: s.step + 1, params: applyUpdates(s.params, u), opt: nextOpt }, { loss: l, gradNorm: globalNorm(g) }] as const;
  };
}

/** A training state of contrastive-divergence training: the score-matching state plus the CD state (buffer, step). */
export interface MlpEnergyCdTrainState extends MlpEnergyTrainState {
  readonly cd: CDState;
}

/** Diagnostics of one CD step: the loss, the gradient norm and the energy gap `E⁺ − E⁻`. */
export interface MlpEnergyCdStepInfo extends MlpEnergyStepInfo {
  readonly gap: number;
}

/**
 * The same model trained by contrastive divergence (the playground's `cd` objective): `cd` is a loss from
 * `contrastiveDivergence` over `energyZ` (its negatives and their buffer travel in `state.cd`), followed by one Adam
 * update. Pure: the Adam moments are copied before the update consumes them; a non-finite loss throws. Buffer reuse
 * as in {@link mlpEnergyTrainStep}.
 * @example
 * const cd = contrastiveDivergence<MLPParams>({ energy: (p) => ({ dim: 2, energy: (z) => energyZ(p, cfg, z) }), sampler: (E) => ula(E, { stepSize: 0.01 }), steps: 10, negatives: 'buffer' });
 * const step = mlpEnergyCdTrainStep(cd, { lr: 1e-2 });
 * let s = { ...initMlpEnergyState(cfg, key(0), { lr: 1e-2 }), cd: cd.initState(key(1), params, z) };
 * [s] = step(s, zBatch, key(2));
 */
export function mlpEnergyCdTrainStep(cd: CDLoss<MLPParams>, o: MlpEnergyTrainOptions): (state: MlpEnergyCdTrainState, batch: Tensor, key: Key) => readonly [MlpEnergyCdTrainState, MlpEnergyCdStepInfo] {
  const opt = optimiser(o);
  const vg = cdValueAndGrad(cd);
  return reusing(o, (s: MlpEnergyCdTrainState, batch: Tensor, key: Key): readonly [MlpEnergyCdTrainState, MlpEnergyCdStepInfo] => {
    const r = vg(s.params, batch, key, s.cd);
    if (!Number.isFinite(r.loss)) throw new TrainingDivergedError(`training diverged at step ${s.step + 1}: loss is ${r.loss} (lower the learning rate or step size)`, []);
    const [u, nextOpt] = opt.update(r.grads, cloneOptState(s.opt), s.params);
    return [
      { step: s.step + 1, params: applyUpdates(s.params, u), opt: nextOpt, cd: r.state },
      { loss: r.loss, gradNorm: globalNorm(r.grads), gap: r.aux.gap },
    ] as const;
  });
}
