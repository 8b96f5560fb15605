/** Sampling of the `score-sde` kind: reverse-time SDE/ODE samplers and annealed Langevin, from the prior to data space. */
import { Tensor, cast } from '../../tensor/index.js';
import { split, type Key } from '../../random/index.js';
import { annealedLangevin, tweedieDenoise } from '../../samplers/annealed.js';
import {
  bindScore, eulerMaruyama, predictorCorrector, probabilityFlow, type SDE, type BoundScore, type DiffusionState, type DiffusionInfo,
} from '../../diffusion/index.js';
import { DivergenceError, type SamplingAlgorithm } from '../../samplers/types.js';
import { SCORE_SAMPLERS, sdeOf, netShape, toDataSpace, type ScoreSdeConfig, type ScoreSampler } from './config.js';
import { scoreFn, type ScoreParams } from './score.js';
import { InvalidArgumentError } from '../../errors.js';

/** Options of {@link sampleScoreSde}. */
export interface ScoreSampleOptions {
  sampler?: ScoreSampler;
  /** Reverse-time steps (pc/em/annealed: grid size, default 500; ode: Heun steps, default adaptive RK45). */
  steps?: number;
  /** pc: corrector signal-to-noise ratio (default 0.16); annealed: same rule for its Langevin steps. */
  snr?: number;
  /** Called after each reverse-time step: `done` of `total` steps. */
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
    if (i >= 100_000) throw new InvalidArgumentError(`${alg.name} did not finish within 100 000 steps`);
    const [kNext, kStep] = split(kk, 2);
    kk = kNext;
    const [next, info] = alg.step(kStep, state);
    for (let r = 0; r < info.divergent.length; r++) {
      if (info.divergent[r]) throw new DivergenceError(`sampling diverged: ${alg.name} produced non-finite values at step ${i + 1} (t = ${info.t}), row ${r + 1}`, i + 1, [r]);
    }
    state = next;
    onProgress?.(Math.min(i + 1, total), total);
  }
  return state.position;
}

/**
 * Annealed Langevin dynamics with the model's time-conditioned score (corrector-only sampling, Song et al. 2021),
 * through the library's {@link annealedLangevin} on a score family: on the grid `tᵢ = T − iΔt`, `Δt = (T − eps)/(N − 1)`,
 * level `i` has `σᵢ = σ(tᵢ)` and the network's score at `tᵢ`; one Langevin step per level with the snr rule, the chain
 * kept in float64 (the network reads it in float32), step `i` driven by `split(k, N)[i]`; then a Tweedie denoising
 * step at `eps`: `ẑ = (z + σ(eps)² s(z, eps))/m(eps)`, returned in float32. A divergent row throws a DivergenceError.
 */
function annealedScoreSde(sde: SDE, score: BoundScore, zT: Tensor, k: Key, N: number, eps: number, snr: number, onProgress?: (d: number, t: number) => void): Tensor {
  const ts = Array.from({ length: N }, (_, i) => (N === 1 ? eps : sde.T - (i * (sde.T - eps)) / (N - 1)));
  const alg = annealedLangevin({ score: (_sigma, i) => (x) => score(cast(x, 'float32'), ts[i]) }, { sigmas: ts.map((t) => sde.std(t)), stepsPerLevel: 1, snr });
  const keys = split(k, N);
  let state = alg.init(cast(zT, 'float64'));
  for (let i = 0; i < N; i++) {
    const [next, info] = alg.step(keys[i], state);
    const r = info.divergent.indexOf(1);
    if (r >= 0) throw new DivergenceError(`sampling diverged: annealed Langevin produced non-finite values at level ${i + 1} (t = ${ts[i]}), row ${r + 1}`, i + 1, [r]);
    state = next;
    onProgress?.(i + 1, N);
  }
  // After the last step the state's score is the one at the last level, tₙ₋₁ = eps: the score Tweedie needs.
  return cast(tweedieDenoise(state.position, state.score, sde.std(eps), sde.meanCoef(eps)), 'float32');
}

/**
 * The reverse-time sampler of a trained model as a stepping algorithm, for callers that animate or inspect the chain
 * (the playground): `pc`, `em` or `ode` with the same settings as {@link sampleScoreSde} (`steps` default 500; `ode`
 * without `steps` is adaptive RK45), in model space, from `t = T` to `t = eps`. Start it from the prior,
 * `sdeOf(cfg).priorSample(key, netShape(cfg, n), 'float32')`, step until `state.done`, and map the positions back with
 * {@link toDataSpace}. (`annealed` is not a diffusion sampler: use {@link sampleScoreSde}.)
 * @example
 * const alg = scoreSdeSampler(params, cfg, { sampler: 'em', steps: 200 });
 * let s = alg.init(sdeOf(cfg).priorSample(key(1), netShape(cfg, 500), 'float32'));
 * while (!s.done) [s] = alg.step(foldIn(key(2), s.step), s);
 */
export function scoreSdeSampler(p: ScoreParams, cfg: ScoreSdeConfig, o: Omit<ScoreSampleOptions, 'onProgress'> = {}): SamplingAlgorithm<DiffusionState, DiffusionInfo> {
  const sde = sdeOf(cfg);
  const score = bindScore(scoreFn(cfg, sde), p);
  const sampler = o.sampler ?? defaultSampler(cfg);
  const snr = o.snr ?? 0.16;
  const N = o.steps ?? (sampler === 'ode' ? undefined : 500);
  if (sampler === 'em') return eulerMaruyama(sde, score, { steps: N, eps: cfg.eps });
  if (sampler === 'pc') return predictorCorrector(sde, score, { steps: N, eps: cfg.eps, snr });
  if (sampler === 'ode') return N === undefined ? probabilityFlow(sde, score, { method: 'rk45', rtol: 1e-4, atol: 1e-4, eps: cfg.eps }) : probabilityFlow(sde, score, { method: 'heun', steps: N, eps: cfg.eps });
  throw new InvalidArgumentError(`scoreSdeSampler: sampler must be one of pc, em, ode (annealed runs through sampleScoreSde), got ${String(sampler)}`);
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
  const sampler = o.sampler ?? defaultSampler(cfg);
  if (!SCORE_SAMPLERS.includes(sampler)) throw new InvalidArgumentError(`sampleScoreSde: sampler must be one of ${SCORE_SAMPLERS.join(', ')}, got ${String(sampler)}`);
  const snr = o.snr ?? 0.16;
  const [kPrior, kRun] = split(k, 2);
  const zT = sde.priorSample(kPrior, netShape(cfg, n), 'float32');
  let z: Tensor;
  if (sampler === 'annealed') {
    z = annealedScoreSde(sde, bindScore(scoreFn(cfg, sde), p), zT, kRun, o.steps ?? 500, cfg.eps, snr, o.onProgress);
  } else {
    const N = o.steps ?? (sampler === 'ode' ? undefined : 500);
    const alg = scoreSdeSampler(p, cfg, { sampler, ...(N !== undefined ? { steps: N } : {}), snr });
    z = runAlg(alg, kRun, zT, N ?? 100, o.onProgress);
  }
  return toDataSpace(cfg, z);
}

