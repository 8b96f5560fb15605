/**
 * A cheap check, after contrastive-divergence training, that the energy is a density and not just a good sampler:
 * the negatives (buffer rows or `T = 1` chains) are run for many more MALA steps under the trained energy. If
 * `exp(−E)` is the density the negatives came from, longer chains leave their distribution unchanged; short-run
 * training often yields an energy whose negatives look right but whose long chains drift to spurious low-energy
 * regions (Nijkamp et al. 2019).
 * @module
 */
import { Tensor } from '../../tensor/index.js';
import { split, randintArray, type Key } from '../../random/index.js';
import { mala } from '../../samplers/index.js';
import { runChains } from '../../losses/contrastiveDivergence.js';
import { mmd } from '../../eval/mmd.js';
import { deepEbmEnergy, deepEbmEnergies, type DeepEbmConfig } from './estimator.js';
import { InvalidArgumentError } from '../../errors.js';

/** Options of {@link densityHealthCheck}. */
export interface DensityHealthOptions {
  /** MALA steps of the longer chains (default 200). */
  readonly steps?: number;
  /** MALA step size in data units (default: the training sampler's). */
  readonly stepSize: number;
  /** Chains (negatives used, default at most 500). */
  readonly chains?: number;
  /**
   * Warn when the drift MMD² exceeds `factor ×` (negatives vs data MMD²) + `floor` (defaults 3 and `10/m` for `m`
   * chains: twice the kernel sum's `k(x, x)` over `m`, the scale of the unbiased estimator's noise).
   */
  readonly factor?: number;
  readonly floor?: number;
}

/** Result of {@link densityHealthCheck}. */
export interface DensityHealth {
  /** Unbiased MMD² (RBF bandwidths 0.1…2 in standardised units) between the negatives and the same chains after `steps` more MALA steps. */
  readonly driftMmd: number;
  /** The same between the negatives and data rows (how far the negatives already are from the data). */
  readonly dataMmd: number;
  /** Mean energy after minus before the longer chains (≈ 0 for a stationary sample; very negative: spurious low-energy regions). */
  readonly energyDrift: number;
  /** MALA steps and chains used. */
  readonly steps: number;
  readonly chains: number;
  /** False when the drift is large: the energy is probably not the density its negatives suggest. */
  readonly ok: boolean;
  /** Human-readable verdict. */
  readonly message: string;
}

function rowsOf(x: Tensor, idx: ArrayLike<number>): Tensor {
  const D = x.size / x.shape[0];
  const out = new Float32Array(idx.length * D);
  for (let i = 0; i < idx.length; i++) for (let j = 0; j < D; j++) out[i * D + j] = x.data[idx[i] * D + j];
  return new Tensor(out, [idx.length, D]);
}

function standardise(x: Tensor, cfg: DeepEbmConfig): Tensor {
  const D = x.shape[1];
  const out = new Float64Array(x.size);
  for (let i = 0; i < x.shape[0]; i++) for (let j = 0; j < D; j++) {
    const sh = cfg.shift.length === 1 ? cfg.shift[0] : cfg.shift[j], sc = cfg.scale.length === 1 ? cfg.scale[0] : cfg.scale[j];
    out[i * D + j] = (x.data[i * D + j] - sh) / sc;
  }
  return new Tensor(out, x.shape);
}

/**
 * Runs `steps` MALA steps from (up to `chains` of) the negatives `neg [m, D]` under the model and compares, by MMD² in
 * standardised units, where they end with where they started, next to the negatives' distance from data rows
 * `data [n, D]`; `ok` is false when `driftMmd > factor·max(dataMmd, 0) + floor`. Deterministic given the key.
 * @example const h = densityHealthCheck(params, cfg, buffer, x, key(1), { stepSize: 1e-3 }); if (!h.ok) console.warn(h.message);
 */
export function densityHealthCheck(params: Record<string, Tensor>, cfg: DeepEbmConfig, neg: Tensor, data: Tensor, key: Key, o: DensityHealthOptions): DensityHealth {
  const steps = o.steps ?? 200;
  const factor = o.factor ?? 3;
  if (neg.ndim !== 2 || data.ndim !== 2 || neg.shape[1] !== data.shape[1]) throw new InvalidArgumentError('densityHealthCheck: negatives and data must be [m, D] and [n, D]');
  const [kNeg, kData, kRun] = split(key, 3);
  const m = Math.min(o.chains ?? 500, neg.shape[0]);
  const x0 = m === neg.shape[0] ? neg : rowsOf(neg, randintArray(kNeg, 0, neg.shape[0], m));
  const xd = rowsOf(data, randintArray(kData, 0, data.shape[0], Math.min(m, data.shape[0])));
  const xK = runChains((E) => mala(E, { stepSize: o.stepSize }), deepEbmEnergy(params, cfg), x0, kRun, steps).x;
  const bw = [0.1, 0.2, 0.5, 1, 2];
  const floor = o.floor ?? (2 * bw.length) / m;
  const z0 = standardise(x0, cfg);
  const driftMmd = mmd(z0, standardise(xK, cfg), bw);
  const dataMmd = mmd(z0, standardise(xd, cfg), bw);
  const mean = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  const energyDrift = mean(deepEbmEnergies(params, cfg, xK)) - mean(deepEbmEnergies(params, cfg, x0));
  const ok = Number.isFinite(driftMmd) && driftMmd <= factor * Math.max(dataMmd, 0) + floor;
  const f = (v: number): string => v.toPrecision(3);
  const message = ok
    ? `density check passed: ${steps} more MALA steps from ${m} negatives moved them by MMD² ${f(driftMmd)} (negatives vs data ${f(dataMmd)}), mean energy ${energyDrift >= 0 ? '+' : ''}${f(energyDrift)}`
    : `density check failed: ${steps} more MALA steps from ${m} negatives moved them by MMD² ${f(driftMmd)} (negatives vs data ${f(dataMmd)}), mean energy ${energyDrift >= 0 ? '+' : ''}${f(energyDrift)}: ` +
      'the energy is probably not a density (short-run chains learnt a sampler); train with the defaults (--negatives tempered --sampler mala), longer chains or more steps';
  return { driftMmd, dataMmd, energyDrift, steps, chains: m, ok, message };
}
