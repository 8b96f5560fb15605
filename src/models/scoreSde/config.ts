/** Configuration of the `score-sde` kind: the validated config, its construction from data, and the coordinate maps. */
import { Tensor } from '../../tensor/index.js';
import { isActivation, checkFourierFeatures, type Activation, type FourierFeatures } from '../../nn/index.js';
import { DataError } from '../../io/errors.js';
import { columnMoments } from '../../data/columns.js';
import { vpSDE, veSDE, subVpSDE, type SDE } from '../../diffusion/index.js';
import { InvalidArgumentError } from '../../errors.js';

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
  | { kind: 'unet'; base: number; embedDim: number; /** Residual 7×7 blocks (absent in older files: 0). */ mid?: number };

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
  /**
   * Whether training batches of 8-bit images are uniformly dequantised, `k/255 ↦ y = −1 + 2(k + u)/256` with
   * `u ~ U(0, 1)` drawn per step (the data the dequantised likelihood is evaluated on), instead of the levels `2k/255 − 1`
   * themselves. Default for 8-bit images (absent in older model files: off).
   */
  dequantize?: boolean;
  /**
   * Images: bound `L` on the score network's scaled input, which reads `clamp(c_in·z, −L, L)` (see `scoreFn`);
   * {@link IMAGE_INPUT_CLIP} for new image configs. Absent (older files) or null: no clip.
   */
  inputClip?: number | null;
}

/** Bound on the score network's scaled input `c_in·z` of new image configs (see `scoreFn`). */
export const IMAGE_INPUT_CLIP = 5;

/** `mlp:128,128` / `unet:16,2` (base width, 7×7 residual blocks). */
export function formatScoreArch(a: ScoreArch): string {
  return a.kind === 'mlp' ? `mlp:${a.hidden.join(',')}${a.fourier ? ` + Fourier features ${a.fourier.features}:${a.fourier.scale}` : ''}` : `unet:${a.base},${a.mid ?? 0}`;
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
    if (a!.mid !== undefined && !(Number.isInteger(a!.mid) && (a!.mid as number) >= 0 && (a!.mid as number) <= 16)) bad('arch.mid', 'must be an integer in [0, 16]');
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
  if (c.dequantize !== undefined && typeof c.dequantize !== 'boolean') bad('dequantize', 'must be true or false');
  if (c.dequantize === true && c.bins === null) bad('dequantize', 'needs 8-bit data (bins)');
  if (c.inputClip !== undefined && c.inputClip !== null && !(isNum(c.inputClip) && (c.inputClip as number) > 0)) bad('inputClip', 'must be null or a positive number');
  return c as unknown as ScoreSdeConfig;
}

/** Shape of a batch of `n` rows as the network sees it: `[n, D]` (MLP) or `[n, 1, 28, 28]` (U-Net). */
export function netShape(cfg: ScoreSdeConfig, n: number): number[] {
  return cfg.arch.kind === 'unet' ? [n, 1, 28, 28] : [n, cfg.dim];
}

/** User choices of {@link makeScoreSdeConfig}; the rest (standardisation, box, 8-bit levels) comes from the data. */
export interface ScoreSdeConfigOptions {
  sde: ScoreSdeConfig['sde'];
  arch: ScoreArch;
  /** Smallest diffusion time (default 1e-3). */
  eps?: number;
  /** DSM weighting (default `sigma2`). */
  weighting?: ScoreSdeConfig['weighting'];
  /** Training-time distribution (default `mixed`). */
  tSampling?: ScoreSdeConfig['tSampling'];
  /** `[h, w]` when the rows are images with values in `[0, 1]` (modelled on `2x − 1`). */
  imageShape?: [number, number] | null;
  /** 2-D plotting box (default: the data's range widened by 10% per side). */
  bounds?: [number, number, number, number] | null;
  /** Overrides of the SDE parameters (`sigmaMin`, `sigmaMax` or `betaMin`, `betaMax`). */
  sdeParams?: Record<string, number | undefined>;
  /** 8-bit images: dequantise training batches (default true; ignored for other data). */
  dequantize?: boolean;
}

/**
 * Builds a config from training data and options: standardisation per column (images: `z = 2x − 1`), the 2-D plot
 * box, 8-bit detection, and default SDE parameters (VE: `σmax` = the largest distance between standardised rows of
 * a 2 000-row subsample, Song & Ermon's rule; `σmin = 0.01`; VP/sub-VP: `β ∈ [0.1, 20]`).
 */
export function makeScoreSdeConfig(x: Tensor, o: ScoreSdeConfigOptions): ScoreSdeConfig {
  if (x.ndim !== 2 || x.shape[0] < 2) throw new DataError(`score-sde needs at least 2 rows of data, got shape [${x.shape.join(', ')}]`, { flag: 'data' });
  const [n, D] = x.shape;
  const image = o.imageShape ?? null;
  if (o.arch.kind === 'unet' && (!image || image[0] !== 28 || image[1] !== 28)) {
    throw new DataError(`unet needs 28×28 image data (rows of 784 values from an image source), got rows of ${D} values`, { flag: 'arch' });
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
    const { mean, sd } = columnMoments(x);
    shift = [];
    scale = [];
    for (let j = 0; j < D; j++) {
      if (!(sd[j] > 0)) throw new DataError(`column ${j + 1} is constant (${mean[j]}): a score model cannot be fitted`, { flag: 'data' });
      shift.push(Math.fround(mean[j]));
      scale.push(Math.fround(sd[j]));
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
    ...(bins !== null ? { dequantize: o.dequantize ?? true } : {}),
    ...(image ? { inputClip: IMAGE_INPUT_CLIP } : {}),
  };
  try {
    const sde = sdeOf(cfg);
    if (!(sde.std(cfg.eps) > 0)) throw new InvalidArgumentError(`σ(eps) = ${sde.std(cfg.eps)} at eps = ${cfg.eps}`);
  } catch (e) {
    throw new DataError(`bad SDE settings: ${(e as Error).message}`);
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

/** One-line description of a model. */
export function describeScoreSde(cfg: ScoreSdeConfig, data?: unknown): string {
  return `score-sde ${sdeOf(cfg).description} ${formatScoreArch(cfg.arch)}` + (data ? ` trained on ${String(data)}` : '');
}

/**
 * Defaults of `ebm train score` (vector data): on a held-out random 2-D mixture the default run's PC samples sit
 * 1.4× as far (MMD, RBF kernels on standardised data) from fresh data as a second true sample does (the earlier
 * 2000 steps × 128 rows, lr 1e-3, no features, no EMA: 5.3×); see bench/RESULTS.md "Score-SDE defaults".
 */
export const SCORE_SDE_DEFAULTS = Object.freeze({
  steps: 5000, batch: 512, lr: 2e-3, ema: 0.999,
  /** MLP on vector data with at most `fourierMaxDim` columns. */
  fourier: Object.freeze({ features: 64, scale: 0.5 }), fourierMaxDim: 4,
});
