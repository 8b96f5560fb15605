/**
 * The `rbm` kind's file codec and registry entry: restricted Boltzmann machines (Bernoulli, Gaussian–Bernoulli or
 * softmax visible units, binary hidden units) stored as one model file, sampled by block Gibbs sampling and evaluated
 * with an exact or AIS estimate of `log Z`. Training is {@link cdStep} (`train.ts`), started by {@link initRbmForData}.
 *
 * Model file: kind `rbm`; tensors `W [nVisible, nHidden]`, `b [nVisible]`, `c [nHidden]` (and `logVar [nVisible]`,
 * `log σᵢ²`, for Gaussian visible units), float32; config `{visible, categories, nVisible, nHidden, imageShape}`.
 * The energy is `E(v, h) = E_vis(v) − cᵀh − v̂ᵀWh` (see `params.ts`), the free energy
 * `F(v) = E_vis(v) − Σⱼ softplus(cⱼ + (v̂W)ⱼ)` and `log p(v) = −F(v) − log Z`.
 */
import { Tensor } from '../../tensor/tensor.js';
import { split, type Key } from '../../random/index.js';
import { aisLogZ, salakhutdinovBetas } from './ais.js';
import { averageLogLikelihood, pseudoLogLikelihood, reconstructionError } from './metrics.js';
import { imageGridPng } from '../../io/png.js';
import { DataError } from '../../io/errors.js';
import { checkTensorLayout, encodeModel, type TensorLayout, type ModelFile, type ModelProvenance } from '../../io/model.js';
import type { LoadedModel, ModelKindHandler } from '../kind.js';
import { nHiddenOf, nVisibleOf, validateParams, type RBMParams, type VisibleType } from './params.js';
import { freeEnergyRaw, gibbsBuffers, gibbsRaw, rbmChainStart, rbmGibbsChunks } from './core.js';
export { initRbmForData } from './initForData.js';
import { exactLogZ } from './exact.js';
import type { cdStep } from './train.js';

import { rbmStandardization, rbmApplyStandardization } from './standardize.js';
import { gpuRbmUnsupported } from '../../gpu/rbmGibbs.js';
import { rbmGibbsSampleGpu } from './gpu.js';

export { rbmStandardization, rbmApplyStandardization };

/** The model-file kind string of RBMs. */
export const RBM_KIND = 'rbm';

/** Largest layer size (in binary units) that `--logz exact` enumerates. */
export const EXACT_MAX_UNITS = 25;

/** Configuration of an `rbm` model file. */
export interface RbmConfig {
  /** Visible family. */
  visible: VisibleType;
  /** States per categorical visible unit (`softmax`); 1 otherwise. */
  categories: number;
  /** Visible columns (for softmax: groups × categories). */
  nVisible: number;
  /** Hidden units. */
  nHidden: number;
  /** `[h, w]` when visible rows are images (from the training data), else null. */
  imageShape: [number, number] | null;
  /**
   * Gaussian units trained by `ebm train rbm`: the standardisation `z = (x − shift)/scale` (per column, the training
   * data's mean and standard deviation) under which the RBM was trained. The file's RBM is a model of `z`; sampling
   * maps back to `x`, free energies and log-likelihoods are of `x` (they include the Jacobian `Σᵢ log scaleᵢ`).
   * Absent in files written before it existed (then the RBM models `x` directly).
   */
  shift?: number[];
  scale?: number[];
}


/** Validates a config read from a model file; throws a DataError naming `file` and the field. */
export function checkRbmConfig(c: Record<string, unknown>, file: string): RbmConfig {
  const bad = (f: string): never => {
    throw new DataError(`rbm config field "${f}" is missing or invalid`, { file });
  };
  const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  if (c.visible !== 'bernoulli' && c.visible !== 'gaussian' && c.visible !== 'softmax') bad('visible');
  if (!isPosInt(c.categories) || (c.visible === 'softmax' ? c.categories < 2 : c.categories !== 1)) bad('categories');
  if (!isPosInt(c.nVisible) || (c.nVisible as number) % (c.categories as number) !== 0) bad('nVisible');
  if (!isPosInt(c.nHidden)) bad('nHidden');
  const im = c.imageShape;
  if (im !== null && im !== undefined) {
    if (!Array.isArray(im) || im.length !== 2 || !im.every(isPosInt) || im[0] * im[1] !== c.nVisible) bad('imageShape');
  }
  if ((c.shift === undefined) !== (c.scale === undefined)) bad(c.shift === undefined ? 'shift' : 'scale');
  if (c.shift !== undefined) {
    if (c.visible !== 'gaussian') bad('shift');
    const vec = (v: unknown, pos: boolean): boolean => Array.isArray(v) && v.length === c.nVisible &&
      v.every((e) => typeof e === 'number' && Number.isFinite(e) && (!pos || e > 0));
    if (!vec(c.shift, false)) bad('shift');
    if (!vec(c.scale, true)) bad('scale');
  }
  return { ...(c as unknown as RbmConfig), imageShape: (im ?? null) as [number, number] | null };
}

/** Tensor layout of an `rbm` model file: `W [nv, nh]`, `b [nv]`, `c [nh]`, and `logVar [nv]` for Gaussian units. */
export function rbmLayout(cfg: RbmConfig): TensorLayout {
  const out: TensorLayout = {
    W: { shape: [cfg.nVisible, cfg.nHidden], dtype: 'float32' },
    b: { shape: [cfg.nVisible], dtype: 'float32' },
    c: { shape: [cfg.nHidden], dtype: 'float32' },
  };
  if (cfg.visible === 'gaussian') out.logVar = { shape: [cfg.nVisible], dtype: 'float32' };
  return out;
}

/** The parameters as the model file's tensors (`W`, `b`, `c`, `logVar`). */
export function rbmTensors(p: RBMParams): Record<string, Tensor> {
  const t: Record<string, Tensor> = { W: p.W, b: p.b, c: p.c };
  if (p.logVar) t.logVar = p.logVar;
  return t;
}

/** RBM parameters from a model file's config and (layout-checked) tensors. */
export function rbmParamsOf(cfg: RbmConfig, tensors: Record<string, Tensor>): RBMParams {
  return validateParams({
    visible: cfg.visible, categories: cfg.categories, W: tensors.W, b: tensors.b, c: tensors.c, logVar: tensors.logVar ?? null,
  }, 'rbm');
}

/**
 * The image shape used to draw visible rows: the stored one, else `[s, s]` when `nVisible = s²` (non-softmax).
 * @returns `undefined` when the rows are not images.
 */
export function rbmImageShape(cfg: RbmConfig): [number, number] | undefined {
  if (cfg.imageShape) return cfg.imageShape;
  if (cfg.visible === 'softmax') return undefined;
  const s = Math.round(Math.sqrt(cfg.nVisible));
  return s * s === cfg.nVisible && s > 1 ? [s, s] : undefined;
}

/**
 * Checks that data fits the visible family before any training or evaluation: `bernoulli` needs every value to be
 * exactly 0 or 1; `softmax:K` needs a multiple of K columns, each group of K one-hot; `gaussian` takes any finite
 * value. Throws a {@link DataError} naming `--data SPEC`, the first offending (1-based) row and column, and the value.
 */
export function checkRbmData(x: Tensor, visible: VisibleType, categories: number, spec: string): void {
  const [n, d] = x.shape;
  const a = x.data;
  if (visible === 'bernoulli') {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v !== 0 && v !== 1) {
        throw new DataError(
          `row ${Math.floor(i / d) + 1}, column ${(i % d) + 1} is ${v}: a bernoulli RBM needs binary (0/1) data ` +
            '(binarise image sets with --binarize threshold|stochastic, or use --visible gaussian)',
          { flag: `data ${spec}` },
        );
      }
    }
  } else if (visible === 'softmax') {
    const K = categories;
    if (d % K !== 0) throw new DataError(`has ${d} columns, not a multiple of the ${K} categories of --visible softmax:${K}`, { flag: `data ${spec}` });
    for (let r = 0; r < n; r++) {
      for (let g = 0; g < d; g += K) {
        let ones = 0, zeros = 0;
        for (let k = 0; k < K; k++) {
          const v = a[r * d + g + k];
          if (v === 1) ones++;
          else if (v === 0) zeros++;
        }
        if (ones !== 1 || zeros !== K - 1) {
          throw new DataError(`row ${r + 1}, columns ${g + 1}–${g + K} are not one-hot (softmax:${K} needs exactly one 1 per group of ${K})`, { flag: `data ${spec}` });
        }
      }
    }
  }
}


/**
 * Draws `n` samples by block Gibbs sampling: chains start from independent random visible states
 * ({@link rbmChainStart} with `split(key)[0]`) and run `steps` sweeps `h ~ p(h|v)`, `v ~ p(v|h)` in the chunks of
 * {@link rbmGibbsChunks} (sweeps `100c+1 … 100c+100` draw from `foldIn(split(key)[1], c)`). Returns the final visible
 * states `[n, nVisible]`. `rbmGibbsSampleGpu` is the same draw on the GPU.
 */
export function rbmGibbsSample(p: RBMParams, key: Key, n: number, steps: number, onProgress?: (done: number) => void): Tensor {
  const [k0, k1] = split(key, 2);
  const v = rbmChainStart(p, k0, n);
  const buf = gibbsBuffers(p, n);
  for (const { key: kc, sweeps, done } of rbmGibbsChunks(k1, steps)) {
    gibbsRaw(p, v, n, kc, sweeps, buf);
    onProgress?.(done);
  }
  return new Tensor(v, [n, nVisibleOf(p)]);
}

/** Free energy `F(v)` per row, float64. */
export function rbmFreeEnergy(p: RBMParams, x: Tensor): Float64Array {
  const nv = nVisibleOf(p);
  if (x.ndim !== 2 || x.shape[1] !== nv) throw new DataError(`data has shape [${x.shape.join(', ')}] but the model takes rows of ${nv}`, { flag: 'data' });
  return freeEnergyRaw(p, x.dtype === p.W.dtype ? x.data : Float32Array.from(x.data), x.shape[0]);
}

/** `log₂` of the number of configurations of the visible layer (`nv`, or `G·log₂K` for softmax). */
function visibleBits(p: RBMParams): number {
  return p.visible === 'softmax' ? (nVisibleOf(p) / p.categories) * Math.log2(p.categories) : nVisibleOf(p);
}

/** Options of {@link rbmEvaluate}. */
export interface RbmEvalOptions {
  key: Key;
  /** `exact`, `ais`, or undefined for exact when one layer has ≤ {@link EXACT_MAX_UNITS} units, else AIS. */
  logz?: 'exact' | 'ais';
  /** AIS β intervals (default 14 500, the Salakhutdinov–Murray schedule). */
  aisBetas?: number;
  /** AIS runs (default 100). */
  aisRuns?: number;
  /** Describes how the data was binarised, for the protocol record. */
  binarisation?: string;
  /** Seed, for the protocol record. */
  seed?: number;
}

/** Result of {@link rbmEvaluate}. */
export interface RbmEvalResult {
  figures: Record<string, number>;
  protocol: Record<string, unknown>;
}

/**
 * Evaluates an RBM on data `x [n, nVisible]`: `log Z` (exact enumeration of the smaller layer, or AIS from the data's
 * base-rate model with `aisRuns` runs over the Salakhutdinov–Murray schedule rescaled to `aisBetas` intervals), the
 * average log-likelihood `mean(−F(v)) − log Z` with its standard error over rows, the exact pseudo-log-likelihood
 * `Σᵢ log p(vᵢ | v₋ᵢ)` (discrete units), the mean-field reconstruction error and the mean free energy.
 * @throws DataError for `logz: 'exact'` when both layers have more than {@link EXACT_MAX_UNITS} units, or AIS on a
 *   non-Bernoulli RBM.
 */
export function rbmEvaluate(p: RBMParams, x: Tensor, o: RbmEvalOptions): RbmEvalResult {
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  const vBits = visibleBits(p);
  const exactOk = nh <= EXACT_MAX_UNITS || (p.visible !== 'gaussian' && vBits <= EXACT_MAX_UNITS);
  const method = o.logz ?? (exactOk ? 'exact' : 'ais');
  let logZ: number, logZStd = 0;
  const protocol: Record<string, unknown> = { logZMethod: method };
  const extra: Record<string, number> = {};
  if (method === 'exact') {
    if (!exactOk) {
      throw new DataError(
        `this RBM has ${nv} visible and ${nh} hidden units; exact enumeration needs one layer with at most ` +
          `${EXACT_MAX_UNITS} binary units${p.visible === 'gaussian' ? ' (the hidden layer, for Gaussian visible units)' : ''} (use --logz ais)`,
        { flag: 'logz exact' },
      );
    }
    const layer = p.visible === 'gaussian' || nh <= vBits ? 'hidden' : 'visible';
    logZ = exactLogZ(p, { enumerate: layer, maxConfigs: 2 ** EXACT_MAX_UNITS });
    protocol.enumerated = `${layer} layer, 2^${layer === 'hidden' ? nh : Number(vBits.toFixed(3))} configurations`;
  } else {
    if (p.visible !== 'bernoulli') throw new DataError(`AIS is implemented for bernoulli RBMs only; this one has ${p.visible} visible units (use --logz exact)`, { flag: 'logz ais' });
    const intervals = o.aisBetas ?? 14500;
    if (!Number.isInteger(intervals) || intervals < 29) throw new DataError(`must be an integer ≥ 29, got ${intervals}`, { flag: 'ais-betas' });
    const runs = o.aisRuns ?? 100;
    const r = aisLogZ(p, o.key, { betas: salakhutdinovBetas(intervals), runs, data: x });
    logZ = r.logZ;
    logZStd = r.logZStd;
    Object.assign(protocol, { betas: r.protocol.betas, runs: r.protocol.runs, base: r.protocol.base, key: r.protocol.key });
    Object.assign(extra, { logZLow: r.logZLow, logZHigh: r.logZHigh, aisEss: r.ess });
  }
  if (o.binarisation) protocol.binarisation = o.binarisation;
  if (o.seed !== undefined) protocol.seed = o.seed;
  const ll = averageLogLikelihood(p, x, logZ);
  const f = rbmFreeEnergy(p, x);
  let fs = 0;
  for (const v of f) fs += v;
  const figures: Record<string, number> = {
    n: ll.n, logZ, logZStd, ...extra, avgLogLik: ll.mean, avgLogLikStderr: ll.stderr, avgFreeEnergy: fs / f.length,
  };
  if (p.visible !== 'gaussian') {
    const pll = pseudoLogLikelihood(p, x);
    figures.pseudoLogLik = pll.mean;
    figures.pseudoLogLikPerDim = pll.perDimension;
  }
  figures.reconstructionError = reconstructionError(p, x);
  return { figures, protocol };
}

/**
 * The RBM's filters as one PNG grid: column `j` of `W` (the weights into hidden unit `j`) drawn as an image of
 * `imageShape` (or a `1 × nVisible` strip), each filter min–max normalised on its own to [0, 1].
 * @param max draw at most this many filters (default all).
 */
export function rbmFiltersPng(p: RBMParams, imageShape: [number, number] | undefined, max = Infinity, scale?: number): Uint8Array {
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  const m = Math.min(nh, max);
  const out = new Float32Array(m * nv);
  const W = p.W.data;
  for (let j = 0; j < m; j++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < nv; i++) { const w = W[i * nh + j]; if (w < lo) lo = w; if (w > hi) hi = w; }
    const span = hi - lo;
    for (let i = 0; i < nv; i++) out[j * nv + i] = span > 0 ? (W[i * nh + j] - lo) / span : 0.5;
  }
  const [h, w] = imageShape ?? [1, nv];
  const s = scale ?? (Math.max(h, w) <= 8 ? 8 : Math.max(h, w) <= 32 ? 2 : 1);
  return imageGridPng(new Tensor(out, [m, nv]), { height: h, width: w, scale: s, normalize: 'clip01' });
}

/** A loaded `rbm` model: the generic {@link LoadedModel} plus its parameters and config. */
export interface LoadedRbm extends LoadedModel {
  params: RBMParams;
  config: RbmConfig;
}

/** Default number of Gibbs sweeps when sampling an RBM file. */
export const RBM_DEFAULT_GIBBS_STEPS = 1000;

/**
 * Encodes an RBM as `.safetensors` bytes in the model-file layout (readable by `ebm` and {@link rbmKind}).
 * @example writeFileSync('m.safetensors', encodeRbmModel(cfg, params, { data: 'mnist' }));
 */
export function encodeRbmModel(cfg: RbmConfig, p: RBMParams, provenance: ModelProvenance = {}, version?: string): Uint8Array {
  return encodeModel({ kind: RBM_KIND, ...(version !== undefined ? { version } : {}), config: cfg, provenance, tensors: rbmTensors(p) });
}

/** The registry entry of the kind: block Gibbs sampling (`steps` sweeps), free energies, exact/AIS evaluation. */
export const rbmKind: ModelKindHandler = {
  kind: RBM_KIND,
  description: 'restricted Boltzmann machine (bernoulli / gaussian / softmax visible units), CD-k or PCD trained; sampled by block Gibbs',
  fromFile(file: ModelFile, path: string): LoadedRbm {
    const cfg = checkRbmConfig(file.config, path);
    checkTensorLayout(file.tensors, rbmLayout(cfg), path);
    let params: RBMParams;
    try {
      params = rbmParamsOf(cfg, file.tensors);
    } catch (e) {
      throw new DataError((e as Error).message, { file: path });
    }
    const imageShape = rbmImageShape(cfg);
    const vis = cfg.visible === 'softmax' ? `softmax:${cfg.categories}` : cfg.visible;
    // Standardised Gaussian files: the RBM models z = (x − shift)/scale; p(x) = p(z) / Π scaleᵢ.
    const std = cfg.shift && cfg.scale ? { shift: cfg.shift, scale: cfg.scale } : null;
    const logJac = std ? std.scale.reduce((a, v) => a + Math.log(v), 0) : 0;
    const toZ = (x: Tensor): Tensor => (std ? rbmApplyStandardization(x, std.shift, std.scale, 1) : x);
    return {
      kind: RBM_KIND,
      file,
      params,
      config: cfg,
      dim: cfg.nVisible,
      ...(imageShape ? { imageShape } : {}),
      describe: () => `rbm ${cfg.nVisible}-${cfg.nHidden} (${vis} visible)` +
        (file.provenance.data ? ` trained on ${String(file.provenance.data)}` : ''),
      sample: (o) => {
        const steps = o.steps ?? RBM_DEFAULT_GIBBS_STEPS;
        const z = rbmGibbsSample(params, o.key, o.n, steps, (d) => o.onProgress?.(d, steps));
        return std ? rbmApplyStandardization(z, std.shift, std.scale, -1) : z;
      },
      sampleGpu: (o) => {
        const steps = o.steps ?? RBM_DEFAULT_GIBBS_STEPS;
        return gpuRbmUnsupported(params) ?? (async (gpu) => {
          const z = await rbmGibbsSampleGpu(gpu, params, o.key, o.n, steps, (d) => o.onProgress?.(d, steps));
          return std ? rbmApplyStandardization(z, std.shift, std.scale, -1) : z;
        });
      },
      energy: (x) => {
        const f = rbmFreeEnergy(params, toZ(x));
        if (logJac !== 0) for (let i = 0; i < f.length; i++) f[i] += logJac;
        return f;
      },
      evaluate: (data, o) => {
        if (data.cols !== cfg.nVisible) throw new DataError(`has ${data.cols} columns but the model takes ${cfg.nVisible}`, { flag: `data ${data.spec}` });
        checkRbmData(data.x, cfg.visible, cfg.categories, data.spec);
        const r = rbmEvaluate(params, toZ(data.x), {
          key: o.key,
          ...(o.logz ? { logz: o.logz } : {}),
          ...(o.aisBetas !== undefined ? { aisBetas: o.aisBetas } : {}),
          ...(o.aisRuns !== undefined ? { aisRuns: o.aisRuns } : {}),
        });
        if (std) {
          // Log-likelihood and free energy of x, not z (Jacobian Σ log scaleᵢ); the reconstruction error stays in z units.
          r.figures.avgLogLik -= logJac;
          r.figures.avgFreeEnergy += logJac;
        }
        const protocol: Record<string, unknown> = { ...r.protocol, data: data.spec, rows: data.rows, ...(std ? { standardized: 'z = (x − shift)/scale from the training data; reconstructionError in z units' } : {}) };
        if (o.report) o.report.protocol = protocol;
        return r.figures;
      },
    };
  },
};
