/**
 * The `score-sde` kind in the model registry and its file codec: a model file holds the network tensors (names of
 * {@link scoreLayout}) and the JSON config of {@link ScoreSdeConfig} (`kind: "score-sde"`); files written by earlier
 * `ebm train score` runs read unchanged.
 */
import { Tensor } from '../../tensor/index.js';
import { key as makeKey } from '../../random/index.js';
import { DataError } from '../../io/errors.js';
import { checkTensorLayout, encodeModel, type ModelFile, type ModelProvenance } from '../../io/model.js';
import { heatmapPng } from '../../io/png.js';
import type { LoadedModel, ModelKindHandler } from '../kind.js';
import { SCORE_SDE_KIND, SCORE_SAMPLERS, checkScoreSdeConfig, describeScoreSde, type ScoreSdeConfig, type ScoreSampler } from './config.js';
import { scoreLayout, type ScoreParams } from './score.js';
import { sampleScoreSde } from './sample.js';
import { sampleScoreSdeGpu, scoreSdeSampleGpuUnsupported } from './gpu.js';
import { scoreSdeLogLik } from './evaluate.js';

/** A score-sde model in memory: config, network parameters and where it came from. */
export interface ScoreSdeModel {
  cfg: ScoreSdeConfig;
  params: ScoreParams;
  provenance: ModelProvenance;
}

/**
 * Encodes a model as `.safetensors` bytes in the model-file layout (readable by `ebm` and {@link scoreSdeKind}).
 * @example writeFileSync('m.safetensors', encodeScoreSdeModel({ cfg, params, provenance: { data: 'toy:moons' } }));
 */
export function encodeScoreSdeModel(m: ScoreSdeModel, version?: string): Uint8Array {
  return encodeModel({ kind: SCORE_SDE_KIND, ...(version !== undefined ? { version } : {}), config: m.cfg, provenance: m.provenance, tensors: m.params });
}

/** A loaded score-sde file: the registry's {@link LoadedModel} plus the config and parameters. */
export interface LoadedScoreSde extends LoadedModel {
  config: ScoreSdeConfig;
  params: ScoreParams;
}

/**
 * A heat map of the model density of a 2-D model on its box, `p(x)` from the ODE likelihood on a `res × res` grid
 * (exact trace), with optional samples drawn on top; PNG bytes.
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

/**
 * The registry entry of the kind: validates the config and tensor layout, samples with `opts.sampler`
 * (default {@link defaultSampler}) and `opts.steps`, evaluates the ODE log-likelihood (`opts.odeTol`), and plots 2-D
 * densities.
 */
export const scoreSdeKind: ModelKindHandler = {
  kind: SCORE_SDE_KIND,
  description: 'time-conditioned score network of a VE/VP/sub-VP SDE (continuous DSM); sampled by PC/EM/ODE/annealed Langevin',
  fromFile(file: ModelFile, path: string): LoadedScoreSde {
    const cfg = checkScoreSdeConfig(file.config, path);
    checkTensorLayout(file.tensors, scoreLayout(cfg), path);
    const params = file.tensors;
    const is2d = cfg.dim === 2 && cfg.bounds !== null;
    return {
      kind: SCORE_SDE_KIND,
      file,
      config: cfg,
      params,
      dim: cfg.dim,
      ...(cfg.imageShape ? { imageShape: [cfg.imageShape[0], cfg.imageShape[1]] as [number, number] } : {}),
      describe: () => describeScoreSde(cfg, file.provenance.data),
      sample: (o) => {
        if (o.sampler !== undefined && !(SCORE_SAMPLERS as readonly string[]).includes(o.sampler)) {
          throw new DataError(`score-sde models sample with ${SCORE_SAMPLERS.join(', ')}, not ${o.sampler}`, { flag: 'sampler' });
        }
        if (o.stepSize !== undefined) throw new DataError('does not apply to score-sde models (pc and annealed use the snr rule)', { flag: 'step-size' });
        return sampleScoreSde(params, cfg, o.key, o.n, {
          ...(o.sampler !== undefined ? { sampler: o.sampler as ScoreSampler } : {}),
          ...(o.steps !== undefined ? { steps: o.steps } : {}),
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        });
      },
      sampleGpu: (o) => {
        if (o.sampler !== undefined && !(SCORE_SAMPLERS as readonly string[]).includes(o.sampler)) return `unknown sampler ${o.sampler}`; // the CPU path reports it
        if (o.stepSize !== undefined) return '--step-size does not apply to score-sde models'; // the CPU path reports it
        const sampler = o.sampler as ScoreSampler | undefined;
        return scoreSdeSampleGpuUnsupported(cfg, sampler) ?? ((gpu) => sampleScoreSdeGpu(gpu, params, cfg, o.key, o.n, {
          ...(sampler !== undefined ? { sampler } : {}),
          ...(o.steps !== undefined ? { steps: o.steps } : {}),
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        }));
      },
      evaluate: (data, o) => {
        if (data.cols !== cfg.dim) throw new DataError(`data "${data.spec}" has ${data.cols} columns but the model takes ${cfg.dim}`, { flag: 'data' });
        if (o.nll !== undefined && o.nll !== 'ode') throw new DataError(`${o.nll}: score-sde models support ode`, { flag: 'nll' });
        const t0 = performance.now();
        const r = scoreSdeLogLik(params, cfg, data.x, o.key, { ...(o.odeTol !== undefined ? { tol: o.odeTol } : {}) });
        const out: Record<string, number> = { rows: data.rows, avgLogLik: r.avgLogLik, avgLogLikStdErr: r.stdErr, nll: -r.avgLogLik, nfe: r.nfe, seconds: (performance.now() - t0) / 1000 };
        if (r.bitsPerDim !== undefined) out.bitsPerDim = r.bitsPerDim;
        if (o.report) {
          o.report.nllMethod = `probability-flow ODE (RK45, rtol = atol = ${o.odeTol ?? 1e-5}, from t = ${cfg.eps}), divergence ${r.probe === 'exact' ? 'exact trace' : 'Hutchinson (1 Rademacher probe)'}`;
          if (r.dequantization) o.report.dequantization = `${r.dequantization}; avgLogLik is in nats per image of the dequantised data on [-1, 1]`;
          else o.report.units = 'avgLogLik in nats per row, data space';
        }
        return out;
      },
      ...(is2d ? { plot: (o: { samples?: Tensor; gridRes?: number }) => scoreSdeHeatmap(params, cfg, o.samples, Math.min(o.gridRes ?? 64, 128)) } : {}),
    };
  },
};
