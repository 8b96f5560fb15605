/** The `mlp-energy` kind in the model registry (sampling, energies, 2-D evaluation and density plots). */
import { Tensor } from '../../tensor/index.js';
import type { MLPParams } from '../../nn/index.js';
import { DataError } from '../../io/errors.js';
import { checkTensorLayout, encodeModel, type ModelFile } from '../../io/model.js';
import { heatmapPng } from '../../io/png.js';
import type { LoadedModel, ModelKindHandler } from '../kind.js';
import { MLP_ENERGY_KIND, checkMlpEnergyConfig, mlpEnergyLayout, mlpEnergySizes, energyOf, unstandardize, type MlpEnergyConfig, type MlpEnergyModel } from './model.js';
import { sampleMlpEnergy } from './sample.js';
import { gridLogZ2d, mlpEnergyAvgLogLik } from './evaluate.js';
import { gpuMlpUnsupported, mlpLangevinChainGpu } from '../../gpu/mlpLangevin.js';

/**
 * Encodes a model as `.safetensors` bytes in the model-file layout (readable by `ebm` and the registry), with the
 * library's codec (Node; the browser-safe variant taking the codec as an argument is `encodeMlpEnergyModel`).
 * @example writeFileSync('m.safetensors', saveMlpEnergyBytes({ cfg, params, provenance: {} }));
 */
export function saveMlpEnergyBytes(m: MlpEnergyModel, version?: string): Uint8Array {
  return encodeModel({ kind: MLP_ENERGY_KIND, ...(version !== undefined ? { version } : {}), config: m.cfg, provenance: m.provenance, tensors: m.params });
}

/** The density heat map of a 2-D model, `p(x) = exp(−E(x) − log Z)` on its box, with optional samples drawn on top (PNG bytes). */
export function mlpEnergyHeatmap(p: MLPParams, cfg: MlpEnergyConfig, samples?: Tensor, res = 160, scale = 3): Uint8Array {
  if (!cfg.bounds) throw new DataError('a heat map needs a 2-D model');
  const g = gridLogZ2d(p, cfg, cfg.bounds, res);
  const dens = new Float32Array(g.energy.size);
  for (let i = 0; i < dens.length; i++) dens[i] = Math.exp(-g.energy.data[i] - g.logZ);
  return heatmapPng(new Tensor(dens, [res, res]), {
    extent: cfg.bounds,
    scale,
    colormap: 'viridis',
    ...(samples ? { points: { x: samples, color: [255, 80, 60] as const, radius: 1 } } : {}),
  });
}

/** A loaded mlp-energy file: the registry's {@link LoadedModel} plus the config and parameters. */
export interface LoadedMlpEnergy extends LoadedModel {
  config: MlpEnergyConfig;
  params: MLPParams;
}

/** The registry entry of the kind: ULA sampling (`steps`, `stepSize`), energies, 2-D log-likelihood and heat map. */
export const mlpEnergyKind: ModelKindHandler = {
  kind: MLP_ENERGY_KIND,
  description: 'MLP energy E(x) trained by score matching; sampled by Langevin dynamics',
  fromFile(file: ModelFile, path: string): LoadedMlpEnergy {
    const cfg = checkMlpEnergyConfig(file.config, path);
    checkTensorLayout(file.tensors, mlpEnergyLayout(cfg), path);
    const params = file.tensors as MLPParams;
    return {
      kind: MLP_ENERGY_KIND,
      file,
      config: cfg,
      params,
      dim: cfg.dim,
      describe: () => `mlp-energy ${mlpEnergySizes(cfg).join('-')} (${cfg.activation}, ${cfg.loss}, σ=${cfg.sigma})` +
        (file.provenance.data ? ` trained on ${String(file.provenance.data)}` : ''),
      sample: (o) => {
        const steps = o.steps ?? 500;
        return sampleMlpEnergy(params, cfg, o.key, o.n, { steps, ...(o.stepSize !== undefined ? { stepSize: o.stepSize } : {}), onProgress: (d) => o.onProgress?.(d, steps) });
      },
      sampleGpu: (o) => {
        const steps = o.steps ?? 500;
        return gpuMlpUnsupported(cfg.activation, params) ?? (async (gpu) => unstandardize(cfg,
          await mlpLangevinChainGpu(gpu, params, cfg.activation, cfg.confine, o.key, o.n, { steps, stepSize: o.stepSize ?? 0.01, onProgress: (d) => o.onProgress?.(d, steps) })));
      },
      energy: (x) => {
        if (x.ndim !== 2 || x.shape[1] !== cfg.dim) throw new DataError(`data has shape [${x.shape.join(', ')}] but the model takes rows of ${cfg.dim}`, { flag: 'data' });
        return energyOf(params, cfg, x);
      },
      evaluate: (data, o) => {
        if (data.cols !== cfg.dim) throw new DataError(`data "${data.spec}" has ${data.cols} columns but the model takes ${cfg.dim}`, { flag: 'data' });
        const e = energyOf(params, cfg, data.x);
        let s = 0;
        for (const v of e) s += v;
        const out: Record<string, number> = { rows: data.rows, avgEnergy: s / e.length };
        if (cfg.dim === 2) Object.assign(out, mlpEnergyAvgLogLik(params, cfg, data.x, o.gridRes ?? 200));
        return out;
      },
      plot: (o) => mlpEnergyHeatmap(params, cfg, o.samples, o.gridRes ?? 160, o.scale ?? 3),
    };
  },
};
