/**
 * The one set of defaults for deep EBMs, read by the library ({@link deepEbmSetup}) and by `ebm train ebm`, so that a
 * run with no tuning flags and a library call with no options train the same model.
 *
 * What the defaults are tuned for: low-dimensional vector data (2-D mixtures with random means, covariances and
 * weights never seen during tuning, see bench/RESULTS.md "Deep-EBM defaults"). Short-run Langevin chains from a replay
 * buffer learn a sampler rather than a density (the modes' relative weights are never corrected), so contrastive
 * divergence uses persistent parallel-tempering negatives with MALA moves; coordinate MLPs learn sharp structure
 * slowly, so low-dimensional vectors get random Fourier features; everything works on standardised inputs
 * `z = (x − shift)/scale`, and the sampler step size is given in `z` units and converted to data units with the
 * data's scale (so the defaults do not depend on the units of the data).
 * @module
 */
import { Tensor } from '../../tensor/index.js';
import { foldIn, type Key } from '../../random/index.js';
import { initFourierFeatures, type Activation } from '../../nn/index.js';
import { geometricTemperatures, mala, ula } from '../../samplers/index.js';
import { cosineDecay, type Schedule } from '../../optim/index.js';
import { contrastiveDivergence, type CDLoss } from '../../losses/contrastiveDivergence.js';
import { deepEbmEnergy, standardization, type DeepEbmArch, type DeepEbmConfig } from './estimator.js';
import { InvalidArgumentError } from '../../errors.js';

/**
 * Default settings of a deep EBM on vector data trained by contrastive divergence (`loss: 'cd'`) or denoising score
 * matching (`loss: 'dsm'`). Step sizes and noise levels are in standardised units (multiplied by the data's scale).
 */
export const DEEP_EBM_DEFAULTS = Object.freeze({
  /** Hidden widths of the MLP `D-128-128-1`. */
  hidden: Object.freeze([128, 128]) as readonly number[],
  activation: 'silu' as Activation,
  /** Random Fourier features `m:scale` for vector data with at most `fourierMaxDim` columns. */
  fourier: Object.freeze({ features: 64, scale: 0.5 }),
  fourierMaxDim: 4,
  /** Confining term `½c‖z‖²` (vectors). */
  confine: 1e-2,
  loss: 'cd' as 'cd' | 'dsm',
  /**
   * Training steps of contrastive divergence (1500 with 64 chains × 4 temperatures: 0.03–0.06 nat on four held-out
   * mixtures at about a third of the cost of the first defaults, 2000 steps with 128 × 6; bench/RESULTS.md).
   */
  steps: 1500,
  batch: 256,
  lr: 2e-3,
  lrDecay: 'cosine' as 'none' | 'cosine',
  /** Parameter EMA decay (the EMA is what is saved). */
  ema: 0.99,
  // Contrastive divergence.
  negatives: 'tempered' as 'buffer' | 'tempered',
  sampler: 'mala' as 'ula' | 'mala',
  /** Sampler transitions per training step. */
  mcmcSteps: 2,
  /** Sampler step size at T = 1 in standardised units (data units: × mean of scale²). */
  stepSizeZ: 5e-4,
  tMax: 10,
  temps: 4,
  /** Persistent chains per temperature. */
  chains: 64,
  // Denoising score matching.
  /** DSM noise σ (noise-conditional DSM: the smallest level σ_min) in standardised units (data units: × rms scale). */
  sigmaZ: 0.05,
  /**
   * Noise-conditional DSM (vectors with at most `fourierMaxDim` columns): the largest noise level σ_max in standardised
   * units. The energy `E(x, σ)` reads log σ, trains on σ ∈ [σ_min, σ_max] with a heat-equation term that carries the
   * modes' weights (seen at large σ) down to σ_min, and the model is `E(x, σ_min)`: 0.07–0.11 nat from the true test
   * NLL on six held-out 2-D mixtures, against 0.16–0.35 for single-σ DSM (bench/RESULTS.md "Deep-EBM defaults").
   */
  sigmaMaxZ: 0.5,
  /** Weight of the heat-equation term of noise-conditional DSM. */
  heat: 1,
  /**
   * Confining term of noise-conditional DSM (tuned on mixtures 106, 7, 101, 102 with a quadrature box that holds the
   * tails: 0.3 / 0.5 / 1 gave 0.13–0.17 / 0.06–0.14 / 0.03–0.33 nat).
   */
  dsmConfine: 0.5,
  /** Noise-conditional DSM: steps, batch and learning rate (a step costs about 2D network passes of a DSM step). */
  dsmSteps: 1000,
  dsmBatch: 128,
  dsmLr: 5e-3,
  /**
   * Score matching (ssm, sm, single-σ dsm; noise-conditional dsm has `dsmConfine`): the same Fourier features and a
   * stronger confining term — score matching sees no
   * data far from the data, so nothing else stops the periodic features from putting mass there (tuned on random
   * mixtures 101 and 102: confining 0.01 → 0.1 → 0.3 → 1 gave gaps 0.49 → 0.30 → 0.18 → 0.32 nat on 101).
   */
  scoreMatchingFourier: Object.freeze({ features: 64, scale: 0.5 }),
  scoreMatchingConfine: 0.3,
  /** Training steps of score matching (no sampler in the loop, so longer runs are cheap). */
  scoreMatchingSteps: 2000,
});

/**
 * Defaults for image data (rows of pixels in [0, 1], conv or MLP energies): the replay-buffer recipe of Du & Mordatch
 * (short-run ULA from a buffer with 5 % restarts); no standardisation, no confining term.
 */
export const DEEP_EBM_IMAGE_DEFAULTS = Object.freeze({
  negatives: 'buffer' as 'buffer' | 'tempered',
  sampler: 'ula' as 'ula' | 'mala',
  mcmcSteps: 20,
  /** Sampler step size (pixel units). */
  stepSize: 1e-3,
  batch: 128,
  lr: 1e-3,
  lrDecay: 'none' as 'none' | 'cosine',
  confine: 0,
  /** DSM noise σ (pixel units). */
  sigma: 0.1,
  steps: 2000,
});

/** Settings of a deep-EBM run on vector data, every field resolved (the defaults unless overridden). */
export interface DeepEbmSettings {
  readonly arch: DeepEbmArch;
  readonly activation: Activation;
  readonly fourier: { readonly features: number; readonly scale: number } | null;
  readonly confine: number;
  readonly loss: 'cd' | 'dsm';
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly lrDecay: 'none' | 'cosine';
  readonly ema: number | null;
  readonly negatives: 'buffer' | 'tempered';
  readonly sampler: 'ula' | 'mala';
  readonly mcmcSteps: number;
  /** Sampler step size in data units. */
  readonly stepSize: number;
  readonly tMax: number;
  readonly temps: number;
  readonly chains: number;
  /** DSM noise σ in data units (noise-conditional DSM: the smallest level, whose energy is the model). */
  readonly sigma: number;
  /** `loss: 'dsm'`: the largest noise level of a noise-conditional energy (data units), or null for single-σ DSM. */
  readonly sigmaMax: number | null;
  /** Noise-conditional DSM: weight of the heat-equation term. */
  readonly heat: number;
  /** Standardisation of the data (`z = (x − shift)/scale`). */
  readonly shift: readonly number[];
  readonly scale: readonly number[];
}

/** The defaults of {@link deepEbmLossDefaults}. */
export interface DeepEbmLossDefaults {
  readonly fourier: { features: number; scale: number } | null;
  readonly confine: number;
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  /** `dsm` on low-dimensional vectors: σ_max of the noise-conditional energy in standardised units; else null. */
  readonly sigmaMaxZ: number | null;
}

/**
 * The defaults that depend on the loss for vector data with `D` columns: Fourier features (none above
 * `fourierMaxDim` columns), the confining term, steps, batch and lr; contrastive divergence vs score matching (`'dsm'`,
 * `'ssm'`, …); `dsm` on at most `fourierMaxDim` columns trains a noise-conditional energy (`sigmaMaxZ`).
 * `noiseConditional` (default: `dsm` on at most `fourierMaxDim` columns) picks the steps, batch and lr of
 * noise-conditional DSM (`true`, e.g. a `sigmaMax` given on wider data) or of single-σ DSM (`false`).
 * @example deepEbmLossDefaults('dsm', 2) // { fourier: { features: 64, scale: 0.5 }, confine: 0.5, steps: 1000, batch: 128, lr: 0.005, sigmaMaxZ: 0.5 }
 */
export function deepEbmLossDefaults(loss: string, D: number, noiseConditional?: boolean): DeepEbmLossDefaults {
  const d = DEEP_EBM_DEFAULTS;
  const cd = loss === 'cd';
  const lowDim = D <= d.fourierMaxDim;
  const nc = loss === 'dsm' && (noiseConditional ?? lowDim);
  return {
    fourier: lowDim ? (cd ? d.fourier : d.scoreMatchingFourier) : null,
    confine: cd ? d.confine : nc ? d.dsmConfine : d.scoreMatchingConfine,
    steps: cd ? d.steps : nc ? d.dsmSteps : d.scoreMatchingSteps,
    batch: nc ? d.dsmBatch : d.batch,
    lr: nc ? d.dsmLr : d.lr,
    sigmaMaxZ: loss === 'dsm' && lowDim ? d.sigmaMaxZ : null,
  };
}

/** Mean of `scale²` (the factor from standardised to data units for step sizes). */
function meanSq(scale: readonly number[]): number {
  let s = 0;
  for (const v of scale) s += v * v;
  return s / scale.length;
}

/**
 * Resolves the settings of a run on vector data `x [n, D]`: the data's standardisation, then every field from
 * `overrides` or {@link DEEP_EBM_DEFAULTS} (step size and σ converted to data units with the data's scale:
 * `stepSize = stepSizeZ · mean(scale²)`, `σ = σ_z · √mean(scale²)`, the same for `σ_max`).
 * @example const s = deepEbmSettings(x); s.arch // { kind: 'mlp', sizes: [2, 128, 128, 1] }
 */
export function deepEbmSettings(x: Tensor, overrides: Partial<DeepEbmSettings> = {}): DeepEbmSettings {
  if (!(x instanceof Tensor) || x.ndim !== 2) throw new InvalidArgumentError('deepEbmSettings: x must be a tensor [n, D]');
  const D = x.shape[1];
  const d = DEEP_EBM_DEFAULTS;
  const std = overrides.shift && overrides.scale ? { shift: overrides.shift, scale: overrides.scale } : standardization(x);
  const s2 = meanSq(std.scale);
  const loss = overrides.loss ?? d.loss;
  const byD = deepEbmLossDefaults(loss, D);
  const sigmaMax = loss !== 'dsm' ? null : overrides.sigmaMax !== undefined ? overrides.sigmaMax : byD.sigmaMaxZ !== null ? byD.sigmaMaxZ * Math.sqrt(s2) : null;
  const byLoss = deepEbmLossDefaults(loss, D, sigmaMax !== null);
  return {
    arch: overrides.arch ?? { kind: 'mlp', sizes: [D, ...d.hidden, 1] },
    activation: overrides.activation ?? d.activation,
    fourier: overrides.fourier !== undefined ? overrides.fourier : byLoss.fourier,
    confine: overrides.confine ?? byLoss.confine,
    loss,
    steps: overrides.steps ?? byLoss.steps,
    batch: overrides.batch ?? byLoss.batch,
    lr: overrides.lr ?? byLoss.lr,
    lrDecay: overrides.lrDecay ?? d.lrDecay,
    ema: overrides.ema !== undefined ? overrides.ema : d.ema,
    negatives: overrides.negatives ?? d.negatives,
    sampler: overrides.sampler ?? d.sampler,
    mcmcSteps: overrides.mcmcSteps ?? d.mcmcSteps,
    stepSize: overrides.stepSize ?? d.stepSizeZ * s2,
    tMax: overrides.tMax ?? d.tMax,
    temps: overrides.temps ?? d.temps,
    chains: overrides.chains ?? d.chains,
    sigma: overrides.sigma ?? d.sigmaZ * Math.sqrt(s2),
    sigmaMax,
    heat: overrides.heat ?? d.heat,
    shift: std.shift,
    scale: std.scale,
  };
}

/** The model config, CD loss (for `loss: 'cd'`) and learning-rate schedule of a run, built from its settings. */
export interface DeepEbmSetup {
  readonly cfg: DeepEbmConfig;
  /** The contrastive-divergence loss with the settings' negatives (tempered or replay buffer). */
  readonly cd: CDLoss<Record<string, Tensor>>;
  readonly lr: number | Schedule;
}

/**
 * Builds the model config (Fourier features drawn from `foldIn(fourierKey, 0xf0)`; noise levels `[σ, σ_max]` for
 * `loss: 'dsm'` with a `sigmaMax`), the CD loss and the learning rate of a run from {@link deepEbmSettings};
 * restarted chains start uniformly on the data box `[low, high]`.
 * @example
 * const s = deepEbmSettings(x); const { cfg, cd, lr } = deepEbmSetup(s, key(0), low, high);
 * const res = trainDeepEbm({ params: initDeepEbm(k, cfg), loss: cd, data: x, steps: s.steps, batchSize: s.batch, key: k2, lr, emaDecay: s.ema ?? undefined });
 */
export function deepEbmSetup(s: DeepEbmSettings, fourierKey: Key, low: readonly number[], high: readonly number[]): DeepEbmSetup {
  const D = s.arch.kind === 'mlp' ? s.arch.sizes[0] : s.arch.shape[0] * s.arch.shape[1] * s.arch.shape[2];
  const cfg: DeepEbmConfig = {
    arch: s.arch, activation: s.activation, shift: s.shift, scale: s.scale, confine: s.confine,
    ...(s.fourier ? { fourier: initFourierFeatures(foldIn(fourierKey, 0xf0), D, s.fourier.features, s.fourier.scale) } : {}),
    ...(s.loss === 'dsm' && s.sigmaMax !== null ? { noise: { sigmaMin: s.sigma, sigmaMax: s.sigmaMax } } : {}),
  };
  const tempered = s.negatives === 'tempered';
  const cd = contrastiveDivergence({
    energy: (p: Record<string, Tensor>) => deepEbmEnergy(p, cfg),
    steps: s.mcmcSteps,
    negatives: s.negatives,
    ...(tempered ? {
      tempering: { temperatures: geometricTemperatures(s.tMax, s.temps), stepSize: s.stepSize, local: s.sampler },
      chains: s.chains,
      reinit: 0,
    } : { sampler: (E) => (s.sampler === 'mala' ? mala(E, { stepSize: s.stepSize }) : ula(E, { stepSize: s.stepSize })) }),
    reinitFrom: { kind: 'uniform', low, high },
  });
  return { cfg, cd, lr: s.lrDecay === 'cosine' ? cosineDecay(s.lr, s.steps, 0.05) : s.lr };
}
