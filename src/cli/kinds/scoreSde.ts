/**
 * The `score-sde` model kind: a time-conditioned score network `s_θ(z, t) ≈ ∇_z log p_t(z)` of a forward SDE
 * (VE, VP or sub-VP; Song et al. 2021) on standardised data `z = (x − shift)/scale`, trained by continuous-time
 * denoising score matching, sampled by reverse-time samplers (predictor–corrector, Euler–Maruyama, probability-flow
 * ODE, annealed Langevin) and evaluated by the exact ODE log-likelihood.
 *
 * Data-space densities: `log p_x(x) = log p_z(z) − Σ_j log scale_j`. Images (values `k/255`) are modelled on
 * `z = 2x − 1 ∈ [−1, 1]`; their likelihood is reported for uniformly dequantised data (`y = −1 + 2(k + u)/256`) in
 * nats per image and as bits/dim (an upper bound on the discrete model's bits/dim).
 *
 * Importing this module registers the kind with the model registry (`ebm sample`, `ebm eval`).
 */
import { Tensor, valueAndGrad, noGrad, reshape, gatherRows, allFinite, tensor, mul, add, sub, div, sum, square, concat } from '../../tensor/index.js';
import { TrainingDivergedError } from '../../models/deepEbm/guard.js';
import { key as makeKey, split, normal, uniform, foldIn, type Key } from '../../random/index.js';
import { isActivation, checkFourierFeatures, fourierFeatureFn, type Activation, type FourierFeatures } from '../../nn/index.js';
import { adam, applyUpdates, globalNorm, type OptState, type GradientTransformation } from '../../optim/index.js';
import { DataError } from '../../io/errors.js';
import { checkTensorLayout, layoutOf, type TensorLayout } from '../../io/model.js';
import { checkCheckpointParams, type StateTree } from '../../io/checkpoint.js';
import { heatmapPng } from '../../io/png.js';
import {
  vpSDE, veSDE, subVpSDE, initTimeMLP, applyTimeMLP, initUNet, applyUNet, continuousDSM, perturb, bindScore, eulerMaruyama,
  predictorCorrector, probabilityFlow, odeLogLikelihood, dequantize, bitsPerDim, type SDE, type BoundScore,
  type DiffusionState, type DiffusionInfo,
} from '../../diffusion/index.js';
import type { SamplingAlgorithm } from '../../samplers/types.js';
import { trainLoop, type TrainerRunOptions } from '../trainLoop.js';
import { registerModelKind, type LoadedModel } from '../models.js';
import { UsageError } from '../errors.js';
import { scoreRequest } from './scoreOptions.js';
import { epochBatchIndices } from '../../data/batches.js';

/** The model-file kind string. */
export const SCORE_SDE_KIND = 'score-sde';

/** Samplers of a score-sde model. */
export const SCORE_SAMPLERS = ['pc', 'ode', 'em', 'annealed'] as const;
/** One of {@link SCORE_SAMPLERS}. */
export type ScoreSampler = (typeof SCORE_SAMPLERS)[number];

/** SDE families. */
export const SDE_KINDS = ['ve', 'vp', 'subvp'] as const;

/** Network architecture of a score-sde model. */
export type ScoreArch =
  /** `fourier`: the MLP also reads random Fourier features `[sin 2πzB, cos 2πzB]` of its (scaled) input. */
  | { kind: 'mlp'; hidden: number[]; embedDim: number; activation: Activation; fourier?: FourierFeatures | null }
  | { kind: 'unet'; base: number; embedDim: number };

/** Configuration stored in a `score-sde` model file. */
export interface ScoreSdeConfig {
  /** Data dimension `D` (columns of a data row). */
  dim: number;
  sde: (typeof SDE_KINDS)[number];
  /** VP/sub-VP: `betaMin`, `betaMax`; VE: `sigmaMin`, `sigmaMax` (standardised units). */
  sdeParams: Record<string, number>;
  arch: ScoreArch;
  /** Standardisation `z = (x − shift)/scale`, per column (length `D`). */
  shift: number[];
  scale: number[];
  /** Smallest diffusion time (training `t ~ U(eps, 1)`, sampling ends and likelihoods start there). */
  eps: number;
  /** DSM weighting `λ(t)`: `sigma2` or `likelihood` (`g(t)²`). */
  weighting: 'sigma2' | 'likelihood';
  /**
   * Training-time distribution: `uniform` (`t ~ U(eps, 1)`, Song et al.), `log-sigma` (`ln σ(t)` uniform between
   * `ln σ(eps)` and `ln σ(1)`: far more weight on the small-noise region) or `mixed` (each row one or the other with
   * probability ½; large VP times, where errors are amplified along the flow, stay well trained).
   */
  tSampling: 'uniform' | 'log-sigma' | 'mixed';
  /** `[h, w]` when rows are images, else null. */
  imageShape: [number, number] | null;
  /** Clamp of samples in data space (images: `[0, 1]`), or null. */
  clamp: [number, number] | null;
  /** 2-D only: plotting box `[xmin, xmax, ymin, ymax]`, else null. */
  bounds: [number, number, number, number] | null;
  /** Levels of 8-bit data (`256` for images with values `k/255`), used for dequantised likelihoods; else null. */
  bins: number | null;
}

/**
 * Parses `--arch`: `mlp:H1,H2,…` (time-conditioned MLP, sinusoidal time embedding of width 16, SiLU) or `unet[:C]`
 * (the small U-Net for 28×28 images, base width `C`, default 16).
 * @example parseScoreArch('mlp:128,128') // { kind: 'mlp', hidden: [128, 128], embedDim: 16, activation: 'silu' }
 */
export function parseScoreArch(spec: string, activation: Activation = 'silu'): ScoreArch {
  const m = /^mlp:(\d+(?:,\d+)*)$/.exec(spec.trim());
  if (m) {
    const hidden = m[1].split(',').map(Number);
    if (hidden.some((h) => !(h >= 1) || !Number.isSafeInteger(h))) throw new UsageError(`--arch ${spec}: hidden widths must be positive integers`);
    return { kind: 'mlp', hidden, embedDim: 16, activation };
  }
  const u = /^unet(?::(\d+))?$/.exec(spec.trim());
  if (u) {
    const base = u[1] === undefined ? 16 : Number(u[1]);
    if (!(base >= 1)) throw new UsageError(`--arch ${spec}: the U-Net base width must be a positive integer`);
    return { kind: 'unet', base, embedDim: 32 };
  }
  throw new UsageError(`--arch "${spec}" is not mlp:H1,H2,… (e.g. mlp:128,128) or unet[:C] (e.g. unet:16)`);
}

/** `mlp:128,128` / `unet:16`. */
export function formatScoreArch(a: ScoreArch): string {
  return a.kind === 'mlp' ? `mlp:${a.hidden.join(',')}${a.fourier ? ` + Fourier features ${a.fourier.features}:${a.fourier.scale}` : ''}` : `unet:${a.base}`;
}

/** The forward SDE of a config. */
export function sdeOf(cfg: Pick<ScoreSdeConfig, 'sde' | 'sdeParams'>): SDE {
  const p = cfg.sdeParams;
  if (cfg.sde === 've') return veSDE({ sigmaMin: p.sigmaMin, sigmaMax: p.sigmaMax });
  if (cfg.sde === 'vp') return vpSDE({ betaMin: p.betaMin, betaMax: p.betaMax });
  return subVpSDE({ betaMin: p.betaMin, betaMax: p.betaMax });
}

/** Validates a config read from a model file; throws a DataError naming `file` and the bad field. */
export function checkScoreSdeConfig(c: Record<string, unknown>, file: string): ScoreSdeConfig {
  const bad = (f: string, why = 'is missing or invalid'): never => {
    throw new DataError(`score-sde config field "${f}" ${why}`, { file });
  };
  const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!isPosInt(c.dim)) bad('dim');
  const D = c.dim as number;
  if (!(SDE_KINDS as readonly unknown[]).includes(c.sde)) bad('sde');
  const sp = c.sdeParams as Record<string, unknown> | undefined;
  if (!sp || typeof sp !== 'object') bad('sdeParams');
  const need = c.sde === 've' ? ['sigmaMin', 'sigmaMax'] : ['betaMin', 'betaMax'];
  for (const k of need) if (!isNum(sp![k]) || !((sp![k] as number) > 0)) bad(`sdeParams.${k}`);
  const a = c.arch as Record<string, unknown> | undefined;
  if (!a || typeof a !== 'object') bad('arch');
  if (a!.kind === 'mlp') {
    if (!Array.isArray(a!.hidden) || a!.hidden.length === 0 || !a!.hidden.every(isPosInt)) bad('arch.hidden');
    if (!isActivation(a!.activation)) bad('arch.activation');
    if (a!.fourier !== undefined && a!.fourier !== null) {
      try {
        checkFourierFeatures(a!.fourier, D, 'score-sde config field "arch.fourier');
      } catch (e) {
        throw new DataError((e as Error).message);
      }
    }
  } else if (a!.kind === 'unet') {
    if (!isPosInt(a!.base)) bad('arch.base');
  } else bad('arch.kind');
  if (!isPosInt(a!.embedDim) || (a!.embedDim as number) % 2 !== 0) bad('arch.embedDim');
  for (const f of ['shift', 'scale'] as const) {
    const v = c[f];
    if (!Array.isArray(v) || v.length !== D || !v.every(isNum)) bad(f, `must be ${D} finite numbers`);
  }
  if (!(c.scale as number[]).every((s) => s > 0)) bad('scale', 'must be positive');
  if (!isNum(c.eps) || !((c.eps as number) > 0 && (c.eps as number) < 1)) bad('eps');
  if (c.weighting !== 'sigma2' && c.weighting !== 'likelihood') bad('weighting');
  if (c.tSampling !== 'uniform' && c.tSampling !== 'log-sigma' && c.tSampling !== 'mixed') bad('tSampling');
  const img = c.imageShape;
  if (img !== null && (!Array.isArray(img) || img.length !== 2 || !img.every(isPosInt) || img[0] * img[1] !== D)) bad('imageShape', `must be null or [h, w] with h·w = ${D}`);
  if (a!.kind === 'unet' && (!Array.isArray(img) || img[0] !== 28 || img[1] !== 28)) bad('imageShape', 'must be [28, 28] for the U-Net');
  if (c.clamp !== null && (!Array.isArray(c.clamp) || c.clamp.length !== 2 || !c.clamp.every(isNum))) bad('clamp');
  if (c.bounds !== null && (!Array.isArray(c.bounds) || c.bounds.length !== 4 || !c.bounds.every(isNum))) bad('bounds');
  if (c.bins !== null && !isPosInt(c.bins)) bad('bins');
  return c as unknown as ScoreSdeConfig;
}

/** Network parameters of a score-sde model (MLP or U-Net tensors by name). */
export type ScoreParams = Record<string, Tensor>;

/** Fresh parameters for a config. */
export function initScoreParams(k: Key, cfg: ScoreSdeConfig): ScoreParams {
  if (cfg.arch.kind === 'mlp') {
    const ff = cfg.arch.fourier;
    return initTimeMLP(k, { dim: cfg.dim + (ff ? 2 * ff.features : 0), out: cfg.dim, hidden: cfg.arch.hidden, embedDim: cfg.arch.embedDim, activation: cfg.arch.activation }) as ScoreParams;
  }
  return initUNet(k, { base: cfg.arch.base, embedDim: cfg.arch.embedDim });
}

/** Tensor layout (names, shapes, dtypes) a model file of this config must hold. */
export function scoreLayout(cfg: ScoreSdeConfig): TensorLayout {
  return layoutOf(initScoreParams(makeKey(0), cfg));
}

/** Shape of a batch of `n` rows as the network sees it: `[n, D]` (MLP) or `[n, 1, 28, 28]` (U-Net). */
export function netShape(cfg: ScoreSdeConfig, n: number): number[] {
  return cfg.arch.kind === 'unet' ? [n, 1, 28, 28] : [n, cfg.dim];
}

/**
 * The network's time input: `τ(t) = ½[(t − eps)/(T − eps) + (ln σ(t) − ln σ(eps))/(ln σ(T) − ln σ(eps))] ∈ [0, 1]`.
 * The log-σ half spreads the small-noise region, where the score is sharp, over the embedding range (as in Karras
 * et al. 2022); the linear half keeps large times apart where σ(t) saturates (VP).
 */
export function noiseLevelInput(sde: SDE, eps: number): (t: number) => number {
  const a = Math.log(sde.std(eps));
  const b = Math.log(sde.std(sde.T));
  return (t) => 0.5 * ((t - eps) / (sde.T - eps) + (Math.log(sde.std(t)) - a) / (b - a));
}

/**
 * The time-conditioned score `(params, z, t [n]) → [n, …]` in standardised coordinates:
 * `s(z, t) = net(c_in(t)·z, τ(t)) / σ(t) − c_in(t)²·z` with `c_in = 1/√(m(t)²σ_d² + σ(t)²)` (unit-variance inputs
 * at every `t`; `σ_d² = 1` for standardised vectors, 0.25 for images on `[−1, 1]`) and the noise-level input `τ` of
 * {@link noiseLevelInput}. The second term is the exact score of `N(0, σ_d²)` data, so the net learns a residual.
 */
export function scoreFn(cfg: ScoreSdeConfig, sde = sdeOf(cfg)): (p: ScoreParams, z: Tensor, t: Tensor) => Tensor {
  const tau = noiseLevelInput(sde, cfg.eps);
  const act = cfg.arch.kind === 'mlp' ? cfg.arch.activation : 'silu';
  // Variance of the standardised data per coordinate: 1 for vectors; images on [−1, 1] have about 0.5² (EDM's σ_data).
  const dataVar = cfg.imageShape ? 0.25 : 1;
  const ff = cfg.arch.kind === 'mlp' ? cfg.arch.fourier ?? null : null;
  const phi = ff ? { float32: fourierFeatureFn(ff, cfg.dim, 'float32'), float64: fourierFeatureFn(ff, cfg.dim, 'float64') } : null;
  return (p, z, t) => {
    const n = t.shape[0];
    const cin = new Float64Array(n), cin2 = new Float64Array(n), inv = new Float64Array(n), tt = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const ti = t.data[i];
      const s = sde.std(ti);
      if (!(s > 0)) throw new RangeError(`score network: σ(t) = ${s} at t = ${ti} (row ${i + 1}); use times t ≥ eps > 0`);
      cin2[i] = 1 / (sde.meanCoef(ti) ** 2 * dataVar + s * s);
      cin[i] = Math.sqrt(cin2[i]);
      inv[i] = 1 / s;
      tt[i] = tau(ti);
    }
    const col = [n, ...z.shape.slice(1).map(() => 1)];
    const zin = mul(z, reshape(tensor(cin, [n], z.dtype), col));
    const tin = tensor(tt, [n], z.dtype);
    const netIn = phi ? concat([zin, phi[zin.dtype === 'float64' ? 'float64' : 'float32'](zin)], 1) : zin;
    const out = cfg.arch.kind === 'mlp' ? applyTimeMLP(p, netIn, tin, act) : applyUNet(p, zin, tin);
    // Gaussian baseline −c_in²·z: the exact score when the data are N(0, I) (standardised), so the net learns a
    // residual that stays bounded far from the data, where the baseline keeps the flow contracting.
    return sub(mul(out, reshape(tensor(inv, [n], z.dtype), col)), mul(z, reshape(tensor(cin2, [n], z.dtype), col)));
  };
}

/**
 * Builds a config from training data and options: standardisation per column (images: `z = 2x − 1`), the 2-D plot
 * box, 8-bit detection, and default SDE parameters (VE: `σmax` = the largest distance between standardised rows of
 * a 2 000-row subsample, Song & Ermon's rule; `σmin = 0.01`; VP/sub-VP: `β ∈ [0.1, 20]`).
 */
export function makeScoreSdeConfig(
  x: Tensor,
  o: {
    sde: ScoreSdeConfig['sde']; arch: ScoreArch; eps?: number; weighting?: ScoreSdeConfig['weighting']; tSampling?: ScoreSdeConfig['tSampling'];
    imageShape?: [number, number] | null;
    bounds?: [number, number, number, number] | null; sdeParams?: Record<string, number | undefined>;
  },
): ScoreSdeConfig {
  if (x.ndim !== 2 || x.shape[0] < 2) throw new DataError(`score-sde needs at least 2 rows of data, got shape [${x.shape.join(', ')}]`, { flag: 'data' });
  const [n, D] = x.shape;
  const image = o.imageShape ?? null;
  if (o.arch.kind === 'unet' && (!image || image[0] !== 28 || image[1] !== 28)) {
    throw new UsageError(`--arch unet needs 28×28 image data (rows of 784 values from an image source), got rows of ${D} values`);
  }
  for (let i = 0; i < x.size; i++) {
    if (!Number.isFinite(x.data[i])) throw new DataError(`value at row ${Math.floor(i / D) + 1}, column ${(i % D) + 1} is ${x.data[i]}`, { flag: 'data' });
  }
  let shift: number[], scale: number[];
  let bins: number | null = null;
  if (image) {
    shift = new Array<number>(D).fill(0.5);
    scale = new Array<number>(D).fill(0.5);
    let q = true;
    for (let i = 0; i < x.size && q; i++) {
      const k = x.data[i] * 255;
      if (Math.abs(k - Math.round(k)) > 1e-3 || k < -1e-3 || k > 255 + 1e-3) q = false;
    }
    bins = q ? 256 : null;
  } else {
    shift = [];
    scale = [];
    for (let j = 0; j < D; j++) {
      let s = 0, s2 = 0;
      for (let i = 0; i < n; i++) {
        const v = x.data[i * D + j];
        s += v;
        s2 += v * v;
      }
      const m = s / n;
      const sd = Math.sqrt(Math.max(0, s2 / n - m * m));
      if (!(sd > 0)) throw new DataError(`column ${j + 1} is constant (${m}): a score model cannot be fitted`, { flag: 'data' });
      shift.push(Math.fround(m));
      scale.push(Math.fround(sd));
    }
  }
  let bounds: ScoreSdeConfig['bounds'] = null;
  if (D === 2 && !image) {
    if (o.bounds) bounds = [...o.bounds];
    else {
      const lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
      for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) {
        lo[j] = Math.min(lo[j], x.data[2 * i + j]);
        hi[j] = Math.max(hi[j], x.data[2 * i + j]);
      }
      const px = 0.1 * (hi[0] - lo[0]), py = 0.1 * (hi[1] - lo[1]);
      bounds = [lo[0] - px, hi[0] + px, lo[1] - py, hi[1] + py];
    }
  }
  const sp = o.sdeParams ?? {};
  let sdeParams: Record<string, number>;
  if (o.sde === 've') {
    let smax = sp.sigmaMax;
    if (smax === undefined) {
      const m = Math.min(n, 2000);
      let best = 0;
      for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) {
        let d2 = 0;
        for (let j = 0; j < D; j++) d2 += ((x.data[a * D + j] - x.data[b * D + j]) / scale[j]) ** 2;
        if (d2 > best) best = d2;
      }
      smax = Math.max(1, Number(Math.sqrt(best).toPrecision(3)));
    }
    sdeParams = { sigmaMin: sp.sigmaMin ?? 0.01, sigmaMax: smax };
  } else {
    sdeParams = { betaMin: sp.betaMin ?? 0.1, betaMax: sp.betaMax ?? 20 };
  }
  const cfg: ScoreSdeConfig = {
    dim: D, sde: o.sde, sdeParams, arch: o.arch, shift, scale, eps: o.eps ?? 1e-3, weighting: o.weighting ?? 'sigma2',
    tSampling: o.tSampling ?? 'mixed',
    imageShape: image, clamp: image ? [0, 1] : null, bounds, bins,
  };
  try {
    const sde = sdeOf(cfg);
    if (!(sde.std(cfg.eps) > 0)) throw new RangeError(`σ(eps) = ${sde.std(cfg.eps)} at eps = ${cfg.eps}`);
  } catch (e) {
    throw new UsageError(`bad SDE settings: ${(e as Error).message}`);
  }
  return cfg;
}

/** `z = (x − shift)/scale` for rows `x [n, D]`, in the network's shape. */
export function toModelSpace(cfg: ScoreSdeConfig, x: Tensor): Tensor {
  const [n, D] = x.shape;
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) out[i * D + j] = (x.data[i * D + j] - cfg.shift[j]) / cfg.scale[j];
  return new Tensor(out, netShape(cfg, n));
}

/** `x = shift + scale·z` as rows `[n, D]`, clamped to `cfg.clamp` when set. */
export function toDataSpace(cfg: ScoreSdeConfig, z: Tensor): Tensor {
  const n = z.shape[0];
  const D = cfg.dim;
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) {
    let v = cfg.shift[j] + cfg.scale[j] * z.data[i * D + j];
    if (cfg.clamp) v = Math.min(cfg.clamp[1], Math.max(cfg.clamp[0], v));
    out[i * D + j] = v;
  }
  return new Tensor(out, [n, D]);
}

/** `t` with `σ(t) = s` by bisection on `[eps, T]` (σ increases with t). */
function timeOfStd(sde: SDE, s: number, eps: number): number {
  let lo = eps, hi = sde.T;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (sde.std(mid) < s) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * DSM with log-σ-uniform times `ln σ(tᵢ) ~ U(ln σ(eps), ln σ(T))` (`mixed`: with probability ½ instead
 * `tᵢ ~ U(eps, T)`), `x_t = m(t)z₀ + σ(t)ε`, and
 * `J = (1/n) Σᵢ λ(tᵢ)·½‖s(x_t, tᵢ) + εᵢ/σ(tᵢ)‖²` (`λ = σ²`: noise-prediction error; `likelihood`: `λ = g²`).
 * Aux: `{ loss, meanT }`.
 */
export function logSigmaDSM(cfg: ScoreSdeConfig, sde = sdeOf(cfg)): (p: ScoreParams, batch: Tensor, k: Key) => { loss: Tensor; aux: Record<string, number> } {
  const score = scoreFn(cfg, sde);
  const a = Math.log(sde.std(cfg.eps));
  const b = Math.log(sde.std(sde.T));
  return (p, batch, k) => {
    const n = batch.shape[0];
    const [kt, kz] = split(k, 2);
    const u = uniform(kt, [2 * n], { dtype: 'float64' }).data;
    const t = new Float64Array(n);
    const w = new Float64Array(n);
    let meanT = 0;
    for (let i = 0; i < n; i++) {
      t[i] = cfg.tSampling === 'mixed' && u[n + i] < 0.5 ? cfg.eps + (sde.T - cfg.eps) * u[i] : timeOfStd(sde, Math.exp(a + (b - a) * u[i]), cfg.eps);
      meanT += t[i] / n;
      const s = sde.std(t[i]);
      w[i] = cfg.weighting === 'likelihood' ? Math.sqrt(sde.g2(t[i])) : s;
    }
    const { xt, z, std } = perturb(sde, batch, t, kz);
    const sc = score(p, xt, tensor(t, [n], batch.dtype));
    const col = std.shape;
    // λ·½‖s + ε/σ‖² = ½‖w·(s + ε/σ)‖² with w = σ (sigma2) or g (likelihood).
    const r = mul(add(sc, div(z, std)), reshape(tensor(w, [n], batch.dtype), col));
    const loss = mul(sum(square(r)), 0.5 / n);
    return { loss, aux: { loss: loss.data[0], meanT } };
  };
}

/** Options of {@link trainScoreSde}. */
export interface TrainScoreSdeOptions extends TrainerRunOptions {
  /** Training data in data space `[n, D]`. */
  x: Tensor;
  cfg: ScoreSdeConfig;
  steps: number;
  lr: number;
  batch: number;
  seed: number;
  /** EMA decay of the saved parameters (0 or undefined: no EMA, the last iterate is saved). */
  ema?: number;
}

interface TrainState {
  params: ScoreParams;
  opt: OptState;
  ema: ScoreParams | null;
}

/** Result of {@link trainScoreSde}: the parameters to save (the EMA when enabled) and the last logged metrics. */
export interface TrainedScoreSde {
  params: ScoreParams;
  last: Record<string, number>;
}

function emaUpdate(ema: ScoreParams, p: ScoreParams, d: number): ScoreParams {
  const out: ScoreParams = {};
  for (const [k, e] of Object.entries(ema)) {
    const v = p[k];
    const a = new (e.dtype === 'float64' ? Float64Array : Float32Array)(e.size);
    for (let i = 0; i < a.length; i++) a[i] = d * e.data[i] + (1 - d) * v.data[i];
    out[k] = new Tensor(a, e.shape);
  }
  return out;
}

/**
 * Trains a score-sde model with Adam on the continuous DSM objective
 * `J(θ) = E_{t~U(eps,1)} E_z[λ(t)·½‖s_θ(m(t)z₀ + σ(t)ε, t) + ε/σ(t)‖²]` (`λ = σ²` or `g²`).
 * Keys: `[kInit, kTrain, kData] = split(key(seed), 3)`; step `t` uses `foldIn(kTrain, t)` for times and noise, and
 * the mini-batch of step `t` is positions `(t−1)B … tB−1` of the concatenated epoch permutations
 * `permutation(foldIn(kData, e), n)` — so a resumed run reproduces an uninterrupted one bit for bit.
 * Optional EMA: `θ̄ ← d·θ̄ + (1 − d)·θ` after every step.
 */
export async function trainScoreSde(o: TrainScoreSdeOptions): Promise<TrainedScoreSde> {
  const { cfg } = o;
  const z = toModelSpace(cfg, o.x);
  const n = z.shape[0];
  const sde = sdeOf(cfg);
  const loss = cfg.tSampling === 'uniform'
    ? continuousDSM(sde, { score: scoreFn(cfg, sde) }, { eps: cfg.eps, weighting: cfg.weighting })
    : logSigmaDSM(cfg, sde);
  const [kInit, kTrain, kData] = split(makeKey(o.seed), 3);
  const opt: GradientTransformation<OptState[]> = adam(o.lr);
  const ema = o.ema ?? 0;
  if (!(ema >= 0 && ema < 1)) throw new UsageError(`--ema must be in [0, 1), got ${ema}`);
  let state: TrainState;
  let start = 0;
  if (o.resume) {
    const s = o.resume.state as unknown as TrainState;
    checkCheckpointParams(s.params, scoreLayout(cfg));
    state = { params: s.params, opt: s.opt, ema: ema > 0 ? (s.ema ?? null) : null };
    if (ema > 0 && !state.ema) throw new DataError('the checkpoint has no EMA parameters but --ema is set', { flag: 'checkpoint' });
    start = o.resume.step;
  } else {
    const params = initScoreParams(kInit, cfg);
    state = { params, opt: opt.init(params), ema: ema > 0 ? params : null };
  }
  const B = Math.min(o.batch, n);
  const batchIdx = epochBatchIndices(kData, n, B);
  const D = cfg.dim;
  const flat = new Tensor(z.data, [n, D]);
  let last: Record<string, number> = {};
  const final = await trainLoop<TrainState>({
    state,
    startStep: start,
    steps: o.steps,
    key: kTrain,
    step: (s, k, t, want) => {
      const zb = reshape(gatherRows(flat, batchIdx(t)), netShape(cfg, B));
      let aux: Readonly<Record<string, number>> = {};
      const [lv, g] = valueAndGrad((p: ScoreParams) => {
        const r = loss(p, zb, k);
        aux = r.aux;
        return r.loss;
      })(s.params);
      const l = lv.item();
      if (!Number.isFinite(l)) throw new TrainingDivergedError(`training diverged at step ${t}: loss is ${l} (try a smaller --lr)`, []);
      const [u, nextOpt] = opt.update(g, s.opt as OptState[], s.params);
      const params = applyUpdates(s.params, u);
      const nextEma = s.ema ? emaUpdate(s.ema, params, ema) : null;
      let metrics: Record<string, number> | undefined;
      if (want) {
        metrics = { loss: l, meanT: aux.meanT ?? NaN, gradNorm: globalNorm(g), lr: o.lr };
        last = metrics;
      }
      return { state: { params, opt: nextOpt, ema: nextEma }, metrics };
    },
    checkpointEvery: o.checkpointEvery,
    checkpointPath: o.checkpointPath,
    checkpointKind: SCORE_SDE_KIND,
    checkpointMeta: { ...(o.meta ?? {}), config: cfg },
    toCheckpoint: (s) => ({ params: s.params, opt: s.opt as StateTree, ema: s.ema }),
    logEvery: o.logEvery,
    onLog: o.onLog,
    onProgress: o.onProgress,
  });
  const out = final.ema ?? final.params;
  if (!Object.values(out).every(allFinite)) throw new Error('training produced non-finite parameters (try a smaller --lr)');
  return { params: out, last };
}

/** Options of {@link sampleScoreSde}. */
export interface ScoreSampleOptions {
  sampler?: ScoreSampler;
  /** Reverse-time steps (pc/em/annealed: grid size, default 500; ode: Heun steps, default adaptive RK45). */
  steps?: number;
  /** pc: corrector signal-to-noise ratio (default 0.16); annealed: same rule for its Langevin steps. */
  snr?: number;
  onProgress?(done: number, total: number): void;
}

/** The sampler used when none is named: `pc` for VE, `em` for VP and sub-VP (as in Song et al. 2021). */
export function defaultSampler(cfg: ScoreSdeConfig): ScoreSampler {
  return cfg.sde === 've' ? 'pc' : 'em';
}

function runAlg(alg: SamplingAlgorithm<DiffusionState, DiffusionInfo>, k: Key, xT: Tensor, total: number, onProgress?: (d: number, t: number) => void): Tensor {
  let state = alg.init(xT);
  let kk = k;
  for (let i = 0; !state.done; i++) {
    if (i >= 100_000) throw new RangeError(`${alg.name} did not finish within 100 000 steps`);
    const [kNext, kStep] = split(kk, 2);
    kk = kNext;
    const [next, info] = alg.step(kStep, state);
    for (let r = 0; r < info.divergent.length; r++) {
      if (info.divergent[r]) throw new Error(`sampling diverged: ${alg.name} produced non-finite values at step ${i + 1} (t = ${info.t}), row ${r + 1}`);
    }
    state = next;
    onProgress?.(Math.min(i + 1, total), total);
  }
  return state.position;
}

/**
 * Annealed Langevin dynamics with the model's time-conditioned score (corrector-only sampling, Song et al. 2021):
 * on the grid `tᵢ = 1 − iΔt`, `Δt = (1 − eps)/(N − 1)`, one Langevin step `z ← z + εᵢ s(z, tᵢ) + √(2εᵢ) ξ` with
 * `εᵢ = 2(r‖ξ‖/‖s‖)²` (row-averaged norms), then a Tweedie denoising step at `eps`:
 * `ẑ = (z + σ(eps)² s(z, eps))/m(eps)`.
 */
function annealedLangevin(sde: SDE, score: BoundScore, zT: Tensor, k: Key, N: number, eps: number, snr: number, onProgress?: (d: number, t: number) => void): Tensor {
  let z = Float64Array.from(zT.data);
  const shape = zT.shape;
  const n = shape[0];
  const D = zT.size / n;
  const keys = split(k, N);
  for (let i = 0; i < N; i++) {
    const t = N === 1 ? eps : sde.T - (i * (sde.T - eps)) / (N - 1);
    const s = noGrad(() => score(tensor(z, shape, 'float32'), t)).data;
    const xi = normal(keys[i], [n * D], { dtype: 'float64' }).data;
    let sn = 0, xn = 0;
    for (let r = 0; r < n; r++) {
      let a = 0, b = 0;
      for (let j = 0; j < D; j++) {
        a += s[r * D + j] ** 2;
        b += xi[r * D + j] ** 2;
      }
      sn += Math.sqrt(a) / n;
      xn += Math.sqrt(b) / n;
    }
    const e = sn > 0 ? 2 * ((snr * xn) / sn) ** 2 : 0;
    const c = Math.sqrt(2 * e);
    const next = new Float64Array(z.length);
    for (let q = 0; q < z.length; q++) next[q] = z[q] + e * s[q] + c * xi[q];
    for (let q = 0; q < next.length; q++) {
      if (!Number.isFinite(next[q])) throw new Error(`sampling diverged: annealed Langevin produced non-finite values at level ${i + 1} (t = ${t}), row ${Math.floor(q / D) + 1}`);
    }
    z = next;
    onProgress?.(i + 1, N);
  }
  const s = noGrad(() => score(tensor(z, shape, 'float32'), eps)).data;
  const v = sde.std(eps) ** 2;
  const m = sde.meanCoef(eps);
  const out = new Float32Array(z.length);
  for (let q = 0; q < z.length; q++) out[q] = (z[q] + v * s[q]) / m;
  return new Tensor(out, shape);
}

/**
 * Draws `n` samples (data space `[n, D]`) from a trained model, starting from the prior `N(0, σ_T² I)`:
 * - `pc`: reverse-diffusion (Euler–Maruyama) predictor + one Langevin corrector per step (`snr`), `steps` times;
 * - `em`: reverse-SDE Euler–Maruyama with `steps` steps;
 * - `ode`: probability-flow ODE (adaptive RK45, `rtol = atol = 1e-4`; Heun with `steps` steps when given);
 * - `annealed`: annealed Langevin over `steps` noise levels, then Tweedie denoising.
 * All end at `t = eps` and map back with `x = shift + scale·z` (clamped for images).
 */
export function sampleScoreSde(p: ScoreParams, cfg: ScoreSdeConfig, k: Key, n: number, o: ScoreSampleOptions = {}): Tensor {
  const sde = sdeOf(cfg);
  const score = bindScore(scoreFn(cfg, sde), p);
  const sampler = o.sampler ?? defaultSampler(cfg);
  const snr = o.snr ?? 0.16;
  const [kPrior, kRun] = split(k, 2);
  const zT = sde.priorSample(kPrior, netShape(cfg, n), 'float32');
  let z: Tensor;
  if (sampler === 'annealed') {
    z = annealedLangevin(sde, score, zT, kRun, o.steps ?? 500, cfg.eps, snr, o.onProgress);
  } else {
    const N = o.steps ?? (sampler === 'ode' ? undefined : 500);
    let alg: SamplingAlgorithm<DiffusionState, DiffusionInfo>;
    if (sampler === 'em') alg = eulerMaruyama(sde, score, { nSteps: N, eps: cfg.eps });
    else if (sampler === 'pc') alg = predictorCorrector(sde, score, { nSteps: N, eps: cfg.eps, snr });
    else if (sampler === 'ode') alg = N === undefined ? probabilityFlow(sde, score, { method: 'rk45', rtol: 1e-4, atol: 1e-4, eps: cfg.eps }) : probabilityFlow(sde, score, { method: 'heun', nSteps: N, eps: cfg.eps });
    else throw new UsageError(`--sampler ${String(sampler)}: score-sde models sample with ${SCORE_SAMPLERS.join(', ')}`);
    z = runAlg(alg, kRun, zT, N ?? 100, o.onProgress);
  }
  return toDataSpace(cfg, z);
}

/** Options of {@link scoreSdeLogLik}. */
export interface ScoreLogLikOptions {
  /** RK45 tolerance (`rtol = atol`, default 1e-5). */
  tol?: number;
  /** Rows per ODE solve (default: about 2·10⁵ values per solve). */
  chunk?: number;
  /** Divergence: exact trace (default for D ≤ 16) or Rademacher Hutchinson probes. */
  probe?: 'exact' | 'rademacher';
  onProgress?(done: number, total: number): void;
}

/** Result of {@link scoreSdeLogLik}. */
export interface ScoreLogLik {
  /** Per-row log density in nats: data space for vectors; dequantised data on `[−1, 1]` for 8-bit images. */
  logp: Float64Array;
  /** Mean of `logp`. */
  avgLogLik: number;
  /** Standard error of `avgLogLik` over rows. */
  stdErr: number;
  /** Images only: bits/dim (upper bound on the discrete model's). */
  bitsPerDim?: number;
  /** How image data were dequantised (images only). */
  dequantization?: string;
  /** Score evaluations of the augmented ODE, summed over chunks. */
  nfe: number;
  probe: 'exact' | 'rademacher';
}

/**
 * Exact log-likelihoods by the probability-flow ODE (`odeLogLikelihood`, RK45 from `eps` to 1). Vectors:
 * `log p_x(x) = log p_z(z) − Σ_j log scale_j`. 8-bit images: values `k/255` become `k`, are uniformly dequantised to
 * `y = −1 + 2(k + u)/256` (key `key`), and `log p(y)` is reported with `bitsPerDim` (256 bins, range `[−1, 1]`).
 */
export function scoreSdeLogLik(p: ScoreParams, cfg: ScoreSdeConfig, x: Tensor, key: Key, o: ScoreLogLikOptions = {}): ScoreLogLik {
  if (x.ndim !== 2 || x.shape[1] !== cfg.dim) throw new DataError(`data has shape [${x.shape.join(', ')}] but the model takes rows of ${cfg.dim}`, { flag: 'data' });
  const n = x.shape[0];
  const D = cfg.dim;
  const sde = sdeOf(cfg);
  // Not bindScore: that evaluates under noGrad, and the divergence needs vector–Jacobian products through the net.
  const net = scoreFn(cfg, sde);
  const score: BoundScore = (z, t) => net(p, z, tensor(new Float64Array(z.shape[0]).fill(t), [z.shape[0]], z.dtype));
  const [kDq, kProbe] = split(key, 2);
  let z: Tensor;
  let logJac = 0;
  let image = false;
  if (cfg.imageShape) {
    if (cfg.bins === null) throw new DataError('the model was trained on images that are not 8-bit (values k/255): no dequantised likelihood', { flag: 'data' });
    image = true;
    const k = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i] * 255;
      const r = Math.round(v);
      if (Math.abs(v - r) > 1e-3 || r < 0 || r > 255) throw new DataError(`value ${x.data[i]} at row ${Math.floor(i / D) + 1}, column ${(i % D) + 1} is not an 8-bit level k/255`, { flag: 'data' });
      k[i] = r;
    }
    const y = dequantize(kDq, new Tensor(k, [n, D]), { bins: 256, range: [-1, 1] });
    z = new Tensor(y.data as Float32Array, netShape(cfg, n));
  } else {
    z = toModelSpace(cfg, x);
    for (const s of cfg.scale) logJac += Math.log(s);
  }
  const probe = o.probe ?? (D <= 16 ? 'exact' : 'rademacher');
  const tol = o.tol ?? 1e-5;
  const chunk = Math.max(1, o.chunk ?? Math.floor(200_000 / D));
  const logp = new Float64Array(n);
  let nfe = 0;
  for (let a = 0; a < n; a += chunk) {
    const b = Math.min(n, a + chunk);
    const rows = new Tensor((z.data as Float32Array).slice(a * D, b * D), netShape(cfg, b - a));
    const r = odeLogLikelihood(sde, score, rows, foldIn(kProbe, a), { probe, rtol: tol, atol: tol, eps: cfg.eps });
    for (let i = 0; i < b - a; i++) logp[a + i] = r.logp[i] - logJac;
    nfe += r.nfe;
    o.onProgress?.(b, n);
  }
  let s = 0, s2 = 0;
  for (const v of logp) {
    if (!Number.isFinite(v)) throw new Error('the ODE likelihood is not finite for some rows');
    s += v;
    s2 += v * v;
  }
  const avg = s / n;
  const stdErr = n > 1 ? Math.sqrt(Math.max(0, s2 / n - avg * avg) / (n - 1)) : NaN;
  const out: ScoreLogLik = { logp, avgLogLik: avg, stdErr, nfe, probe };
  if (image) {
    const bpd = bitsPerDim(logp, D, { bins: 256, range: [-1, 1] });
    out.bitsPerDim = bpd.bitsPerDim;
    out.dequantization = bpd.dequantization;
  }
  return out;
}

/**
 * A heat map of the model density of a 2-D model on its box, `p(x)` from the ODE likelihood on a `res × res` grid
 * (Rademacher-free exact trace), with optional samples drawn on top.
 */
export function scoreSdeHeatmap(p: ScoreParams, cfg: ScoreSdeConfig, samples?: Tensor, res = 64): Uint8Array {
  if (!cfg.bounds) throw new DataError('a heat map needs a 2-D model');
  const [x0, x1, y0, y1] = cfg.bounds;
  const pts = new Float32Array(res * res * 2);
  for (let i = 0; i < res; i++) for (let j = 0; j < res; j++) {
    pts[2 * (i * res + j)] = x0 + ((j + 0.5) / res) * (x1 - x0);
    pts[2 * (i * res + j) + 1] = y1 - ((i + 0.5) / res) * (y1 - y0);
  }
  const r = scoreSdeLogLik(p, cfg, new Tensor(pts, [res * res, 2]), makeKey(0), { tol: 1e-4 });
  const dens = Float32Array.from(r.logp, (v) => Math.exp(v));
  return heatmapPng(new Tensor(dens, [res, res]), {
    extent: cfg.bounds, scale: Math.max(1, Math.round(480 / res)), colormap: 'viridis',
    ...(samples ? { points: { x: samples, color: [255, 80, 60] as const, radius: 1 } } : {}),
  });
}

/** One-line description of a model. */
export function describeScoreSde(cfg: ScoreSdeConfig, data?: unknown): string {
  return `score-sde ${sdeOf(cfg).description} ${formatScoreArch(cfg.arch)}` + (data ? ` trained on ${String(data)}` : '');
}

registerModelKind({
  kind: SCORE_SDE_KIND,
  description: 'time-conditioned score network of a VE/VP/sub-VP SDE (continuous DSM); sampled by PC/EM/ODE/annealed Langevin',
  fromFile(file, path): LoadedModel {
    const cfg = checkScoreSdeConfig(file.config, path);
    checkTensorLayout(file.tensors, scoreLayout(cfg), path);
    const params = file.tensors;
    const is2d = cfg.dim === 2 && cfg.bounds !== null;
    return {
      kind: SCORE_SDE_KIND,
      file,
      dim: cfg.dim,
      ...(cfg.imageShape ? { imageShape: [cfg.imageShape[0], cfg.imageShape[1]] as [number, number] } : {}),
      describe: () => describeScoreSde(cfg, file.provenance.data),
      sample: (o) => {
        const req = scoreRequest();
        let sampler: ScoreSampler | undefined;
        if (req.sampler !== undefined) {
          if (!(SCORE_SAMPLERS as readonly string[]).includes(req.sampler)) throw new UsageError(`--sampler ${req.sampler}: score-sde models sample with ${SCORE_SAMPLERS.join(', ')}`);
          sampler = req.sampler as ScoreSampler;
        }
        if (o.stepSize !== undefined) throw new UsageError('--step-size does not apply to score-sde models (pc and annealed use the snr rule)');
        return sampleScoreSde(params, cfg, o.key, o.n, {
          ...(sampler ? { sampler } : {}), ...(o.steps !== undefined ? { steps: o.steps } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        });
      },
      evaluate: (data, o) => {
        if (data.cols !== cfg.dim) throw new DataError(`data "${data.spec}" has ${data.cols} columns but the model takes ${cfg.dim}`, { flag: 'data' });
        const req = scoreRequest();
        if (req.nll !== undefined && req.nll !== 'ode') throw new UsageError(`--nll ${req.nll}: score-sde models support --nll ode`);
        const t0 = performance.now();
        const r = scoreSdeLogLik(params, cfg, data.x, o.key, { ...(req.odeTol !== undefined ? { tol: req.odeTol } : {}) });
        const out: Record<string, number> = { rows: data.rows, avgLogLik: r.avgLogLik, avgLogLikStdErr: r.stdErr, nll: -r.avgLogLik, nfe: r.nfe, seconds: (performance.now() - t0) / 1000 };
        if (r.bitsPerDim !== undefined) out.bitsPerDim = r.bitsPerDim;
        if (o.report) {
          o.report.nllMethod = `probability-flow ODE (RK45, rtol = atol = ${req.odeTol ?? 1e-5}, from t = ${cfg.eps}), divergence ${r.probe === 'exact' ? 'exact trace' : 'Hutchinson (1 Rademacher probe)'}`;
          if (r.dequantization) o.report.dequantization = `${r.dequantization}; avgLogLik is in nats per image of the dequantised data on [-1, 1]`;
          else o.report.units = 'avgLogLik in nats per row, data space';
        }
        return out;
      },
      ...(is2d ? { plot: (o: { samples?: Tensor; gridRes?: number }) => scoreSdeHeatmap(params, cfg, o.samples, Math.min(o.gridRes ?? 64, 128)) } : {}),
    };
  },
});
