/**
 * The `deep-ebm` kind's file config, sampling from noise and registry entry (MLP or conv energies trained by
 * contrastive divergence or score matching; the trainer is `trainer.ts`).
 */
import { Tensor } from '../../tensor/tensor.js';
import { key as makeKey, split, type Key } from '../../random/index.js';
import { ula, mala } from '../../samplers/index.js';
import type { Energy } from '../../energy/index.js';
import { checkTensorLayout, layoutOf, type ModelFile } from '../../io/model.js';
import { DataError } from '../../io/errors.js';
import { InvalidArgumentError } from '../../errors.js';
import { heatmapPng } from '../../io/png.js';
import { runChains, freshChains } from '../../losses/contrastiveDivergence.js';
import { gridLogZ } from '../../eval/gridLogZ.js';
import type { LoadedModel, ModelKindHandler } from '../kind.js';
import { sampleDeepEbmGpu, deepEbmGpuUnsupported } from './gpu.js';
import { formatArch, archInputSize, checkDeepEbmConfig, initDeepEbm, deepEbmEnergy, deepEbmEnergies, type DeepEbmConfig } from './index.js';

/** The model-file kind string of deep EBMs. */
export const DEEP_EBM_KIND = 'deep-ebm';

/** Config stored in a `deep-ebm` model file: the estimator config plus sampling defaults. */
export interface DeepEbmFileConfig extends DeepEbmConfig {
  readonly sampler: 'ula' | 'mala';
  readonly stepSize: number;
  /**
   * Sampler temperature `T` (ULA: `x ← x − (η/T)∇E + √(2η)ξ`, stationary law `exp(−E/T)`); absent means 1. A small
   * `T` is the IGEBM/JEM "decoupled" update with gradient step `η/T` and noise `√(2η)`.
   */
  readonly temperature?: number;
  readonly mcmcSteps: number;
  /** Box `[lo, hi]` per coordinate for noise starts (and `[xmin, xmax, ymin, ymax]`-style quadrature in 2-D). */
  readonly initLow: readonly number[];
  readonly initHigh: readonly number[];
  /** Coordinate clamp `[lo, hi]` of the sampler (images: `[0, 1]`), or null. */
  readonly clamp: readonly [number, number] | null;
  /** `[h, w]` for image rows, else null. */
  readonly imageShape: readonly [number, number] | null;
}

/** The MCMC kernel of a file config (`ula` or `mala` at the config's temperature, with its clamp box and optional gradient clip). */
export function deepEbmSamplerFor(cfg: Pick<DeepEbmFileConfig, 'sampler' | 'stepSize' | 'clamp' | 'temperature'>, stepSize = cfg.stepSize, maxGradNorm?: number) {
  const T = cfg.temperature ?? 1;
  if (!(T > 0) || !Number.isFinite(T)) throw new InvalidArgumentError(`deep-ebm config field "temperature" must be a finite number > 0, got ${T}`);
  const safe = { temperature: T, ...(cfg.clamp ? { box: [cfg.clamp[0], cfg.clamp[1]] as [number, number] } : {}), ...(maxGradNorm ? { maxGradNorm } : {}) };
  return (E: Energy) => (cfg.sampler === 'mala' ? mala(E, { stepSize, ...safe }) : ula(E, { stepSize, ...safe }));
}

/**
 * Model samples: `steps` steps of the config's sampler from uniform noise on the init box (`[k0, k1] = split(key, 2)`:
 * `k0` the starts, `k1` the chains). Shapes: `[n, D]`.
 * @example const x = sampleDeepEbmFromNoise(params, cfg, key(3), 100, 500);
 */
export function sampleDeepEbmFromNoise(params: Record<string, Tensor>, cfg: DeepEbmFileConfig, k: Key, n: number, steps: number, stepSize?: number): Tensor {
  const [k0, k1] = split(k, 2);
  const x0 = freshChains(k0, { kind: 'uniform', low: cfg.initLow, high: cfg.initHigh }, n, [archInputSize(cfg.arch)], 'float32');
  return runChains(deepEbmSamplerFor(cfg, stepSize), deepEbmEnergy(params, cfg), x0, k1, steps).x;
}

/** A 2-D model's unnormalised density `exp(−(E − min E))` on its init box as a PNG heat map, optional samples on top. */
export function deepEbmDensityPng(params: Record<string, Tensor>, cfg: DeepEbmFileConfig, samples?: Tensor, res = 160): Uint8Array {
  const [x0, y0] = cfg.initLow, [x1, y1] = cfg.initHigh;
  const pts = new Float32Array(res * res * 2);
  for (let i = 0; i < res; i++) for (let j = 0; j < res; j++) {
    pts[2 * (i * res + j)] = x0 + ((j + 0.5) / res) * (x1 - x0);
    pts[2 * (i * res + j) + 1] = y1 - ((i + 0.5) / res) * (y1 - y0);
  }
  const e = deepEbmEnergies(params, cfg, new Tensor(pts, [res * res, 2]));
  let mn = Infinity;
  for (const v of e) mn = Math.min(mn, v);
  const dens = Float32Array.from(e, (v) => Math.exp(-(v - mn)));
  return heatmapPng(new Tensor(dens, [res, res]), {
    extent: [x0, x1, y0, y1], scale: 3, colormap: 'viridis',
    ...(samples ? { points: { x: samples, color: [255, 80, 60] as const, radius: 1 } } : {}),
  });
}

/** The registry entry of the kind: Langevin sampling from noise, energies, 2-D grid log-likelihood and heat map. */
export const deepEbmKind: ModelKindHandler = {
  kind: DEEP_EBM_KIND,
  description: 'deep EBM (MLP or conv energy) trained by contrastive divergence; sampled by Langevin dynamics',
  fromFile(file: ModelFile, path: string): LoadedModel {
    let cfg: DeepEbmFileConfig;
    try {
      cfg = checkDeepEbmConfig(file.config) as DeepEbmFileConfig;
    } catch (e) {
      throw new DataError((e as Error).message, { file: path });
    }
    const D = archInputSize(cfg.arch);
    const { buffer, ...params } = file.tensors;
    const template = initDeepEbm(makeKey(0), cfg);
    checkTensorLayout(params, layoutOf(template), path);
    if (buffer && (buffer.ndim !== 2 || buffer.shape[1] !== D)) throw new DataError(`tensor "buffer" has shape [${buffer.shape.join(', ')}], expected [n, ${D}]`, { file: path });
    const is2d = cfg.arch.kind === 'mlp' && D === 2;
    const box2 = (): [[number, number], [number, number]] => {
      const [x0, y0] = cfg.initLow, [x1, y1] = cfg.initHigh;
      const px = 0.25 * (x1 - x0), py = 0.25 * (y1 - y0);
      return [[x0 - px, x1 + px], [y0 - py, y1 + py]];
    };
    return {
      kind: DEEP_EBM_KIND,
      file,
      dim: D,
      ...(cfg.imageShape ? { imageShape: [cfg.imageShape[0], cfg.imageShape[1]] as [number, number] } : {}),
      describe: () => `deep-ebm ${formatArch(cfg.arch)}${cfg.fourier ? ` on ${cfg.fourier.features} Fourier features (scale ${cfg.fourier.scale})` : ''} (${cfg.activation}, cd, ${cfg.sampler} η=${cfg.stepSize})` + (file.provenance.data ? ` trained on ${String(file.provenance.data)}` : ''),
      sample: (o) => {
        const steps = o.steps ?? Math.max(cfg.mcmcSteps * 5, 200);
        const x = sampleDeepEbmFromNoise(params, cfg, o.key, o.n, steps, o.stepSize);
        o.onProgress?.(steps, steps);
        return x;
      },
      sampleGpu: (o) => {
        const steps = o.steps ?? Math.max(cfg.mcmcSteps * 5, 200);
        const T = cfg.temperature ?? 1;
        return deepEbmGpuUnsupported(cfg) ?? (async (gpu) => {
          const x = await sampleDeepEbmGpu(gpu, params, cfg, o.key, o.n, steps, { sampler: cfg.sampler, stepSize: o.stepSize ?? cfg.stepSize, temperature: T, box: cfg.clamp }, (d) => o.onProgress?.(d, steps));
          o.onProgress?.(steps, steps);
          return x;
        });
      },
      energy: (x) => {
        if (x.ndim !== 2 || x.shape[1] !== D) throw new DataError(`data has shape [${x.shape.join(', ')}] but the model takes rows of ${D}`, { flag: 'data' });
        return deepEbmEnergies(params, cfg, x);
      },
      evaluate: (data, o) => {
        if (data.cols !== D) throw new DataError(`data "${data.spec}" has ${data.cols} columns but the model takes ${D}`, { flag: 'data' });
        const e = deepEbmEnergies(params, cfg, data.x);
        let s = 0;
        for (const v of e) s += v;
        const out: Record<string, number> = { rows: data.rows, avgEnergy: s / e.length };
        if (is2d) {
          const pts = Math.max(16, 2 * Math.round((o.gridRes ?? 512) / 2));
          const z = gridLogZ(deepEbmEnergy(params, cfg), { box: box2(), points: pts });
          Object.assign(out, { avgLogLik: -s / e.length - z.logZ, logZ: z.logZ, logZError: z.errorEstimate, boundaryRatio: z.boundaryRatio, gridPoints: pts });
        }
        return out;
      },
      ...(is2d ? { plot: (o: { samples?: Tensor }) => deepEbmDensityPng(params, cfg, o.samples) } : {}),
    };
  },
};
