/** Annealed Langevin dynamics (NCSN): Langevin steps through a decreasing schedule of noise levels σ, on an energy or a score family. */
import { Tensor, ShapeError, allFinite, cast, detach, noGrad } from '../tensor/index.js';
import { normalArray, type Key } from '../random/index.js';
import { checkBatch, type Energy } from '../energy/index.js';
import type { BaseInfo, EnergyState, Safeguards, SamplingAlgorithm } from './types.js';
import { checkInit, checkSafeguards, clipFactor, evaluate, like } from './_internal/rows.js';
import { ulaKernel } from './ula.js';
import { InvalidArgumentError, InvalidTypeError, NonFiniteError } from '../errors.js';

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

/** Options of {@link annealedLangevin}: a noise schedule and one step-size rule (`stepSize` or `snr`). */
export interface AnnealedOptions extends Safeguards {
  /** Decreasing noise levels σ₁ ≥ … ≥ σ_L > 0, the noise-scale schedule (see {@link geometricSigmas}). */
  readonly sigmas: readonly number[];
  /** Langevin steps per level (NCSN: 100; one step per level is the corrector-only sampler of score SDEs). */
  readonly stepsPerLevel: number;
  /** Base step size ε of the NCSN rule: level i uses `αᵢ = ε·σᵢ²/σ_L²` (Song & Ermon 2019, Alg. 1). */
  readonly stepSize?: number;
  /**
   * Signal-to-noise rule instead of `stepSize` (Song et al. 2021, the Langevin corrector): every step uses
   * `α = 2(r·‖ξ‖/‖s‖)²`, with `‖·‖` the Euclidean norm of each row averaged over rows, `ξ` this step's noise and `s`
   * the score at the current point (`α = 0` when every score is 0). Typical `r`: 0.16 (VE), 0.01 (VP).
   */
  readonly snr?: number;
  /** Temperature of every level, default 1. */
  readonly temperature?: number;
}

/**
 * `L` noise levels spaced geometrically from `sigmaMax` down to `sigmaMin`.
 * @example geometricSigmas(10, 0.1, 10) // [10, 5.99, …, 0.1]
 */
export function geometricSigmas(sigmaMax: number, sigmaMin: number, L: number): number[] {
  if (!(sigmaMax >= sigmaMin) || !(sigmaMin > 0)) throw new InvalidArgumentError(`geometricSigmas: need sigmaMax ≥ sigmaMin > 0, got ${sigmaMax}, ${sigmaMin}`);
  if (!Number.isInteger(L) || L < 1) throw new InvalidArgumentError(`geometricSigmas: L must be an integer ≥ 1, got ${L}`);
  if (L === 1) return [sigmaMin];
  const r = Math.log(sigmaMin / sigmaMax) / (L - 1);
  return Array.from({ length: L }, (_, i) => sigmaMax * Math.exp(r * i));
}

/**
 * A noise-conditional score family `(σ, level) ↦ s_σ`, where `s_σ(x) = ∇ₓ log (p ∗ N(0, σ²I))(x)` for
 * `x [n, ...dim]` → `[n, ...dim]`. `level` is the index of `σ` in the schedule, for models conditioned on something
 * else (e.g. the time `tᵢ` of a score SDE, with `σ = σ(tᵢ)`).
 * @example const family: NoiseConditionalScore = (sigma, i) => (x) => scoreNet(params, x, ts[i]);
 */
export type NoiseConditionalScore = (sigma: number, level: number) => (x: Tensor) => Tensor;

/** What annealed Langevin samples: an energy family (a bare function, or `{ energy }`) or a score family `{ score }`. */
export type AnnealedTarget = NoiseConditionalEnergy | { readonly energy: NoiseConditionalEnergy } | { readonly score: NoiseConditionalScore };

/** State of annealed Langevin on a score family: the point, the score there under the next step's level, the step counter. */
export interface AnnealedScoreState {
  /** `[n, ...dim]`. */
  readonly position: Tensor;
  /** `s_σ(position)` for the level of the next step, `[n, ...dim]`. */
  readonly score: Tensor;
  /** Number of steps taken so far; the level of the next step is `min(⌊step / stepsPerLevel⌋, L − 1)`. */
  readonly step: number;
}

/**
 * The step size of the signal-to-noise rule (Song et al. 2021): `α = 2(r·‖ξ‖/‖s‖)²` with row norms averaged over the
 * `rows` rows of the flat arrays `score` and `noise` (same length); 0 when every score row is 0.
 * @example annealedSnrStepSize(s.data, xi, n, 0.16)
 */
export function annealedSnrStepSize(score: ArrayLike<number>, noise: ArrayLike<number>, rows: number, snr: number): number {
  const D = score.length / rows;
  let sn = 0, zn = 0;
  for (let i = 0; i < rows; i++) {
    let a = 0, b = 0;
    for (let j = 0; j < D; j++) {
      a += score[i * D + j] ** 2;
      b += noise[i * D + j] ** 2;
    }
    sn += Math.sqrt(a) / rows;
    zn += Math.sqrt(b) / rows;
  }
  return sn > 0 ? 2 * ((snr * zn) / sn) ** 2 : 0;
}

/**
 * Tweedie's denoising step at the end of an annealed (or reverse-diffusion) run: for `x = m·x₀ + σε`, the posterior
 * mean is `E[x₀ | x] = (x + σ²·s_σ(x)) / m` (`m = 1` for pure noise, `m = m(t)` for a VP-type SDE). Computed in
 * float64; the result has the dtype and shape of `x`.
 * @example const x0 = tweedieDenoise(x, score(x), sigmas[sigmas.length - 1]);
 */
export function tweedieDenoise(x: Tensor, score: Tensor, sigma: number, meanCoef = 1): Tensor {
  if (score.size !== x.size) throw new InvalidArgumentError(`tweedieDenoise: score has ${score.size} values for x of ${x.size}`);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new InvalidArgumentError(`tweedieDenoise: sigma must be a finite number ≥ 0, got ${sigma}`);
  if (!(meanCoef > 0) || !Number.isFinite(meanCoef)) throw new InvalidArgumentError(`tweedieDenoise: meanCoef must be a finite number > 0, got ${meanCoef}`);
  const v = sigma * sigma;
  const out = like(x);
  for (let i = 0; i < out.length; i++) out[i] = (x.data[i] + v * score.data[i]) / meanCoef;
  return new Tensor(out, x.shape);
}

/**
 * Annealed Langevin dynamics (Song & Ermon 2019): for each level `i = 1…L`, `stepsPerLevel` Langevin steps
 * `x ← x + αᵢ·s_{σᵢ}(x)/T + √(2αᵢ)·ξ` (for an energy family `s = −∇E_σ`: ULA on `E_{σᵢ}`), with `αᵢ = ε·σᵢ²/σ_L²`
 * (`stepSize: ε`) or the signal-to-noise rule (`snr`, see {@link annealedSnrStepSize}). After the schedule it keeps
 * stepping at the last level, so a run of `sigmas.length·stepsPerLevel` steps is one full anneal and later steps are
 * plain Langevin at `σ_L`. Large σ smooths the barriers so chains first spread over the modes in proportion to their
 * mass. Energy family: one energy+gradient evaluation per step (one more at each level change); score family: one
 * score evaluation per step. Rows that turn non-finite keep their old point and are flagged in `info.divergent`.
 * The noise of a step is `normalArray(key, x.size, x.dtype)`, so a caller that steps the kernel with its own keys
 * reproduces any run. Finish with {@link tweedieDenoise} for the NCSN / corrector-only "denoise" output.
 * @example
 * const alg = annealedLangevin((s) => mix.smoothed(s), { sigmas: geometricSigmas(10, 0.1, 10), stepsPerLevel: 100, stepSize: 2e-5 });
 * const byScore = annealedLangevin({ score: (s) => (x) => mix.smoothed(s).score(x) }, { sigmas, stepsPerLevel: 1, snr: 0.16 });
 */
export function annealedLangevin(family: NoiseConditionalEnergy | { readonly energy: NoiseConditionalEnergy }, opts: AnnealedOptions): SamplingAlgorithm<AnnealedState, AnnealedInfo>;
export function annealedLangevin(family: { readonly score: NoiseConditionalScore }, opts: AnnealedOptions): SamplingAlgorithm<AnnealedScoreState, AnnealedInfo>;
export function annealedLangevin(family: AnnealedTarget, opts: AnnealedOptions): SamplingAlgorithm<AnnealedState, AnnealedInfo> | SamplingAlgorithm<AnnealedScoreState, AnnealedInfo> {
  const { sigmas, stepsPerLevel } = opts;
  if (!Array.isArray(sigmas) || !sigmas.length) throw new InvalidArgumentError('annealedLangevin: sigmas must be a non-empty array');
  for (let i = 0; i < sigmas.length; i++) {
    if (!(sigmas[i] > 0) || !Number.isFinite(sigmas[i])) throw new InvalidArgumentError(`annealedLangevin: sigmas[${i}] must be a finite number > 0, got ${sigmas[i]}`);
    if (i > 0 && !(sigmas[i] <= sigmas[i - 1])) throw new InvalidArgumentError(`annealedLangevin: sigmas must be non-increasing (sigmas[${i}] = ${sigmas[i]} > ${sigmas[i - 1]})`);
  }
  if (!Number.isInteger(stepsPerLevel) || stepsPerLevel < 1) throw new InvalidArgumentError(`annealedLangevin: stepsPerLevel must be an integer ≥ 1, got ${stepsPerLevel}`);
  const base = opts.stepSize;
  const snr = opts.snr;
  if ((base === undefined) === (snr === undefined)) throw new InvalidArgumentError('annealedLangevin: give exactly one step-size rule, stepSize or snr');
  if (base !== undefined && (!(base > 0) || !Number.isFinite(base))) throw new InvalidArgumentError(`annealedLangevin: stepSize must be a finite number > 0, got ${base}`);
  if (snr !== undefined && (!(snr > 0) || !Number.isFinite(snr))) throw new InvalidArgumentError(`annealedLangevin: snr must be a finite number > 0, got ${snr}`);
  checkSafeguards(opts, 'annealedLangevin');
  const T = opts.temperature ?? 1;
  if (!(T > 0) || !Number.isFinite(T)) throw new InvalidArgumentError(`annealedLangevin: temperature must be a finite number > 0, got ${T}`);
  const L = sigmas.length;
  const sL = sigmas[L - 1];
  const levelOf = (step: number): number => Math.min(Math.floor(step / stepsPerLevel), L - 1);
  const scheduled = (level: number): number => (base! * sigmas[level] * sigmas[level]) / (sL * sL);
  if (typeof family === 'object' && family !== null && 'score' in family) return scoreAnnealed(family.score, opts, T, levelOf, snr === undefined ? scheduled : null);
  const fam = typeof family === 'function' ? family : family.energy;
  if (typeof fam !== 'function') throw new InvalidTypeError('annealedLangevin: expected a noise-conditional energy σ ↦ Energy, { energy } or { score }');
  const energies = sigmas.map((s) => fam(s));
  const alg: SamplingAlgorithm<AnnealedState, AnnealedInfo> = {
    name: 'annealed',
    rejectsDivergent: false,
    init(position: Tensor): AnnealedState {
      checkBatch(energies[0], position, 'annealed.init');
      checkInit(position, 'annealed');
      const s = evaluate(energies[0], position);
      if (!allFinite(s.energy)) throw new NonFiniteError('annealed.init: energy is not finite at some starting positions');
      return { ...s, step: 0 };
    },
    step(key: Key, state: AnnealedState): readonly [AnnealedState, AnnealedInfo] {
      const level = levelOf(state.step);
      const sigma = sigmas[level];
      const x = state.position;
      // The snr rule needs this step's noise: the same draw ulaKernel makes from `key`.
      const stepSize = snr === undefined ? scheduled(level) : annealedSnrStepSize(state.grad.data, normalArray(key, x.size, x.dtype), x.shape[0], snr);
      // A zero score everywhere gives α = 0 under the snr rule: the point stays (as in the score-family kernel).
      const [next, info] = stepSize === 0
        ? [state, { divergent: new Uint8Array(x.shape[0]) }]
        : ulaKernel(energies[level], key, state, { stepSize, temperature: T, maxGradNorm: opts.maxGradNorm, box: opts.box });
      const nextLevel = levelOf(state.step + 1);
      // The cached energy/gradient must belong to the level of the next step.
      const cached = nextLevel === level ? next : evaluate(energies[nextLevel], next.position);
      return [{ ...cached, step: state.step + 1 }, { divergent: info.divergent, level, sigma, stepSize }];
    },
    observe: (s) => s.position,
    energyOf: (s) => s.energy,
  };
  return alg;
}

function scoreAnnealed(
  family: NoiseConditionalScore, opts: AnnealedOptions, T: number, levelOf: (step: number) => number, scheduled: ((level: number) => number) | null,
): SamplingAlgorithm<AnnealedScoreState, AnnealedInfo> {
  const { sigmas } = opts;
  const scoreAt = (level: number, x: Tensor): Tensor => {
    const s = noGrad(() => detach(family(sigmas[level], level)(x)));
    if (s.shape.length !== x.shape.length || s.shape.some((d, i) => d !== x.shape[i])) {
      throw new ShapeError(`annealedLangevin: the score returned [${s.shape.join(', ')}] for x [${x.shape.join(', ')}]`);
    }
    return s.dtype === x.dtype ? s : cast(s, x.dtype);
  };
  return {
    name: 'annealed',
    rejectsDivergent: false,
    init(position: Tensor): AnnealedScoreState {
      if (!(position instanceof Tensor) || position.ndim < 2) throw new ShapeError('annealed.init: position must be a tensor [n, ...dim]');
      checkInit(position, 'annealed');
      const score = scoreAt(0, position);
      if (!allFinite(score)) throw new InvalidArgumentError('annealed.init: score is not finite at some starting positions');
      return { position, score, step: 0 };
    },
    step(key: Key, state: AnnealedScoreState): readonly [AnnealedScoreState, AnnealedInfo] {
      const level = levelOf(state.step);
      const sigma = sigmas[level];
      const x = state.position;
      const n = x.shape[0];
      const D = x.size / n;
      const xi = normalArray(key, x.size, x.dtype);
      const s = state.score.data;
      const stepSize = scheduled ? scheduled(level) : annealedSnrStepSize(s, xi, n, opts.snr!);
      const noise = Math.sqrt(2 * stepSize);
      const out = like(x);
      for (let i = 0; i < n; i++) {
        const drift = (stepSize * clipFactor(s, i, D, opts.maxGradNorm)) / T;
        for (let j = i * D; j < (i + 1) * D; j++) {
          let v = x.data[j] + drift * s[j] + noise * xi[j];
          if (opts.box) v = v < opts.box[0] ? opts.box[0] : v > opts.box[1] ? opts.box[1] : v;
          out[j] = v;
        }
      }
      const position = new Tensor(out, x.shape);
      const score = scoreAt(levelOf(state.step + 1), position);
      const divergent = new Uint8Array(n);
      let bad = false;
      for (let i = 0; i < n; i++) {
        for (let j = i * D; j < (i + 1) * D; j++) if (!Number.isFinite(out[j]) || !Number.isFinite(score.data[j])) divergent[i] = 1;
        if (divergent[i]) bad = true;
      }
      const next: AnnealedScoreState = bad ? keepRows(divergent, state, position, score) : { position, score, step: state.step };
      return [{ ...next, step: state.step + 1 }, { divergent, level, sigma, stepSize }];
    },
    observe: (s) => s.position,
  };
}

/** The new point and score, except on divergent rows, which keep the old ones. */
function keepRows(divergent: Uint8Array, old: AnnealedScoreState, position: Tensor, score: Tensor): AnnealedScoreState {
  const n = divergent.length;
  const D = position.size / n;
  const p = like(position), s = like(score);
  for (let i = 0; i < n; i++) {
    const [srcP, srcS] = divergent[i] ? [old.position.data, old.score.data] : [position.data, score.data];
    p.set(srcP.subarray(i * D, (i + 1) * D), i * D);
    s.set(srcS.subarray(i * D, (i + 1) * D), i * D);
  }
  return { position: new Tensor(p, position.shape), score: new Tensor(s, score.shape), step: old.step };
}
