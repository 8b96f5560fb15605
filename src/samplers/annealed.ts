/** Annealed Langevin dynamics (NCSN): Langevin steps through a decreasing schedule of noise levels σ. */
import { Tensor, allFinite } from '../tensor/index.js';
import type { Key } from '../random/index.js';
import { checkBatch, type Energy } from '../energy/index.js';
import type { BaseInfo, EnergyState, Safeguards, SamplingAlgorithm } from './types.js';
import { checkInit, checkSafeguards, evaluate } from './_internal/rows.js';
import { ulaKernel } from './ula.js';

/**
 * A noise-conditional energy family `σ ↦ E_σ`, where `exp(−E_σ)` is the target convolved with `N(0, σ²I)`
 * (e.g. `gmm.smoothed(σ)`, or a learned noise-conditional network).
 */
export type NoiseConditionalEnergy = (sigma: number) => Energy;

/** State of annealed Langevin: the point, its energy/gradient under the current level, and the step counter. */
export interface AnnealedState extends EnergyState {
  /** Number of steps taken so far; the level of the next step is `min(⌊step / stepsPerLevel⌋, L − 1)`. */
  readonly step: number;
}

/** Per-step diagnostics of annealed Langevin. */
export interface AnnealedInfo extends BaseInfo {
  /** Index of the noise level used by this step. */
  readonly level: number;
  readonly sigma: number;
  readonly stepSize: number;
}

/** Options of {@link annealedLangevin}. */
export interface AnnealedOptions extends Safeguards {
  /** Decreasing noise levels σ₁ > … > σ_L > 0 (see {@link geometricSigmas}). */
  readonly sigmas: readonly number[];
  /** Langevin steps per level (NCSN: 100). */
  readonly stepsPerLevel: number;
  /** Base step ε: level i uses `αᵢ = ε·σᵢ²/σ_L²` (Song & Ermon 2019, Alg. 1). */
  readonly eps: number;
  /** Temperature of every level, default 1. */
  readonly temperature?: number;
}

/**
 * `L` noise levels spaced geometrically from `sigmaMax` down to `sigmaMin`.
 * @example geometricSigmas(10, 0.1, 10) // [10, 5.99, …, 0.1]
 */
export function geometricSigmas(sigmaMax: number, sigmaMin: number, L: number): number[] {
  if (!(sigmaMax >= sigmaMin) || !(sigmaMin > 0)) throw new RangeError(`geometricSigmas: need sigmaMax ≥ sigmaMin > 0, got ${sigmaMax}, ${sigmaMin}`);
  if (!Number.isInteger(L) || L < 1) throw new RangeError(`geometricSigmas: L must be an integer ≥ 1, got ${L}`);
  if (L === 1) return [sigmaMin];
  const r = Math.log(sigmaMin / sigmaMax) / (L - 1);
  return Array.from({ length: L }, (_, i) => sigmaMax * Math.exp(r * i));
}

/**
 * Annealed Langevin dynamics (Song & Ermon 2019): for each level `i = 1…L`, `stepsPerLevel` ULA steps
 * `x ← x − αᵢ∇E_{σᵢ}(x)/T + √(2αᵢ)·ξ` with `αᵢ = ε·σᵢ²/σ_L²`. After the schedule it keeps stepping at the last
 * level, so a run of `sigmas.length·stepsPerLevel` steps is one full anneal and later steps are plain ULA on `E_{σ_L}`.
 * Large σ smooths the barriers so chains first spread over the modes in proportion to their mass.
 * One energy+gradient evaluation per step (one more at each level change, under the new level).
 * @example const alg = annealedLangevin((s) => mix.smoothed(s), { sigmas: geometricSigmas(10, 0.1, 10), stepsPerLevel: 100, eps: 2e-5 });
 */
export function annealedLangevin(family: NoiseConditionalEnergy, opts: AnnealedOptions): SamplingAlgorithm<AnnealedState, AnnealedInfo> {
  const { sigmas, stepsPerLevel, eps } = opts;
  if (!sigmas.length) throw new RangeError('annealedLangevin: sigmas must not be empty');
  for (let i = 0; i < sigmas.length; i++) {
    if (!(sigmas[i] > 0) || !Number.isFinite(sigmas[i])) throw new RangeError(`annealedLangevin: sigmas[${i}] must be a finite number > 0, got ${sigmas[i]}`);
    if (i > 0 && !(sigmas[i] <= sigmas[i - 1])) throw new RangeError(`annealedLangevin: sigmas must be non-increasing (sigmas[${i}] = ${sigmas[i]} > ${sigmas[i - 1]})`);
  }
  if (!Number.isInteger(stepsPerLevel) || stepsPerLevel < 1) throw new RangeError(`annealedLangevin: stepsPerLevel must be an integer ≥ 1, got ${stepsPerLevel}`);
  if (!(eps > 0)) throw new RangeError(`annealedLangevin: eps must be > 0, got ${eps}`);
  checkSafeguards(opts, 'annealedLangevin');
  const T = opts.temperature ?? 1;
  const L = sigmas.length;
  const sL = sigmas[L - 1];
  const energies = sigmas.map((s) => family(s));
  const levelOf = (step: number): number => Math.min(Math.floor(step / stepsPerLevel), L - 1);
  return {
    name: 'annealed',
    rejectsDivergent: false,
    init(position: Tensor): AnnealedState {
      checkBatch(energies[0], position, 'annealed.init');
      checkInit(position, 'annealed');
      const s = evaluate(energies[0], position);
      if (!allFinite(s.energy)) throw new RangeError('annealed.init: energy is not finite at some starting positions');
      return { ...s, step: 0 };
    },
    step(key: Key, state: AnnealedState): readonly [AnnealedState, AnnealedInfo] {
      const level = levelOf(state.step);
      const sigma = sigmas[level];
      const stepSize = (eps * sigma * sigma) / (sL * sL);
      const [next, info] = ulaKernel(energies[level], key, state, { stepSize, temperature: T, maxGradNorm: opts.maxGradNorm, box: opts.box });
      const nextLevel = levelOf(state.step + 1);
      // The cached energy/gradient must belong to the level of the next step.
      const cached = nextLevel === level ? next : evaluate(energies[nextLevel], next.position);
      return [{ ...cached, step: state.step + 1 }, { divergent: info.divergent, level, sigma, stepSize }];
    },
    observe: (s) => s.position,
    energyOf: (s) => s.energy,
  };
}
