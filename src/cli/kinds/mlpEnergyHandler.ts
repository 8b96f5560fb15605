/** Registers the `mlp-energy` kind with the CLI's model registry (sampling, energies, 2-D evaluation and plots). */
import { Tensor } from '../../tensor/tensor.js';
import { DataError } from '../../io/errors.js';
import { checkTensorLayout } from '../../io/model.js';
import { heatmapPng } from '../../io/png.js';
import { registerModelKind, type LoadedModel } from '../models.js';
import { MLP_ENERGY_KIND, checkMlpEnergyConfig, mlpEnergyLayout, mlpEnergySizes, energyOf, unstandardize, type MlpEnergyConfig } from '../../models/mlpEnergy.js';
import { langevinSample, gridLogZ2d } from './mlpEnergy.js';
import type { MLPParams } from '../../nn/index.js';
import { gpuMlpUnsupported, mlpLangevinChainGpu } from '../../gpu/mlpLangevin.js';

/**
 * Mean log-likelihood of rows `x` under a 2-D mlp-energy model: `mean(−E(x)) − log Z`, with `log Z` by grid
 * quadrature on `box` (default: the config's box).
 */
export function mlpEnergyAvgLogLik(p: MLPParams, cfg: MlpEnergyConfig, x: Tensor, res = 200, box = cfg.bounds): { avgLogLik: number; logZ: number; avgEnergy: number; outsideBox: number } {
  if (!box) throw new DataError('log-likelihood by grid quadrature needs a 2-D model');
  if (x.shape[1] !== cfg.dim) throw new DataError(`data has ${x.shape[1]} columns but the model takes ${cfg.dim}`, { flag: 'data' });
  const { logZ } = gridLogZ2d(p, cfg, box, res);
  const e = energyOf(p, cfg, x);
  let s = 0;
  let outside = 0;
  for (let i = 0; i < e.length; i++) {
    s += e[i];
    const a = x.data[2 * i], b = x.data[2 * i + 1];
    if (a < box[0] || a > box[1] || b < box[2] || b > box[3]) outside++;
  }
  const avgEnergy = s / e.length;
  return { avgLogLik: -avgEnergy - logZ, logZ, avgEnergy, outsideBox: outside };
}

/** The density heat map of a 2-D model, `p(x) = exp(−E(x) − log Z)` on its box, with optional samples drawn on top. */
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

registerModelKind({
  kind: MLP_ENERGY_KIND,
  description: 'MLP energy E(x) trained by score matching; sampled by Langevin dynamics',
  fromFile(file, path): LoadedModel {
    const cfg = checkMlpEnergyConfig(file.config, path);
    checkTensorLayout(file.tensors, mlpEnergyLayout(cfg), path);
    const params = file.tensors as MLPParams;
    return {
      kind: MLP_ENERGY_KIND,
      file,
      dim: cfg.dim,
      describe: () => `mlp-energy ${mlpEnergySizes(cfg).join('-')} (${cfg.activation}, ${cfg.loss}, σ=${cfg.sigma})` +
        (file.provenance.data ? ` trained on ${String(file.provenance.data)}` : ''),
      sample: (o) => {
        const steps = o.steps ?? 500;
        return langevinSample(params, cfg, o.key, o.n, { steps, ...(o.stepSize !== undefined ? { stepSize: o.stepSize } : {}), onProgress: (d) => o.onProgress?.(d, steps) });
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
});
