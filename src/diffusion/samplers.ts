/** Reverse-time samplers of score-based diffusion as kernels on the sampler interface: Euler–Maruyama, predictor–corrector, probability-flow ODE. */
import { Tensor, ShapeError, noGrad, detach, allFinite, tensor, type DType } from '../tensor/index.js';
import { normal, split, type Key } from '../random/index.js';
import type { BaseInfo, SamplingAlgorithm } from '../samplers/types.js';
import { annealedSnrStepSize } from '../samplers/annealed.js';
import { energyToScore, type Energy } from '../energy/index.js';
import type { SDE } from './sde.js';
import type { TimeEnergyFn, TimeScoreFn } from './scoreNets.js';
import { heunStep, rk45Attempt, rk45Factor, type OdeFn, type Rk45Tolerances } from './ode.js';
import { InvalidArgumentError } from '../errors.js';

/** A score at a given time shared by all rows: `(x [n, ...dim], t) → [n, ...dim]`. */
export type BoundScore = (x: Tensor, t: number) => Tensor;

/**
 * Binds parameters to a time-conditioned score network, giving a {@link BoundScore}. Outside any `grad`/`vjp` nothing
 * is recorded (the parameters are not traced); inside one — as in the ODE likelihood's divergence — the dependence on
 * `x` is recorded, so the Jacobian of the score is available.
 * @example const s = bindScore(mlpScore(sde), params); s(x, 0.5)
 */
export function bindScore<P>(fn: TimeScoreFn<P>, params: P): BoundScore {
  return (x, t) => fn(params, x, tensor(new Float64Array(x.shape[0]).fill(t), [x.shape[0]], x.dtype));
}

/**
 * Binds parameters to a time-conditioned energy, giving its score `−∇ₓE(x, t)` as a {@link BoundScore}. Inside
 * `vjp`/`grad` (as in likelihood computations) the inner gradient is recorded so it can be differentiated again.
 * @example const s = bindEnergyScore(mlpTimeEnergy(sde), params);
 */
export function bindEnergyScore<P>(fn: TimeEnergyFn<P>, params: P): BoundScore {
  const score = energyToScore(fn);
  return (x, t) => score(params, x, tensor(new Float64Array(x.shape[0]).fill(t), [x.shape[0]], x.dtype));
}

/**
 * Adapts a σ-conditioned energy network `E(params, x, σ [n])` to the noise-conditional family `σ ↦ Energy` taken by
 * `annealedLangevin` in `src/samplers` (NCSN sampling of a model trained with multi-σ DSM).
 * @example annealedLangevin(noiseConditionalEnergy(E, params, 2), { sigmas, stepsPerLevel: 100, stepSize: 2e-5 })
 */
export function noiseConditionalEnergy<P>(fn: (params: P, x: Tensor, sigma: Tensor) => Tensor, params: P, dim: number | readonly number[]): (sigma: number) => Energy {
  return (sigma) => ({
    dim,
    energy: (x) => fn(params, x, tensor(new Float64Array(x.shape[0]).fill(sigma), [x.shape[0]], x.dtype)),
  });
}

/** State of the diffusion samplers: the current point, its time, and how many steps have been taken. */
export interface DiffusionState {
  /** `[n, ...dim]`. */
  readonly position: Tensor;
  /** Current diffusion time (starts at `T`, ends at `eps`). */
  readonly t: number;
  /** Steps taken. */
  readonly step: number;
  /** True once `t` has reached `eps`; further steps leave the state unchanged. */
  readonly done: boolean;
  /** Next step size (adaptive RK45 only). */
  readonly h?: number;
}

/** Per-step diagnostics. */
export interface DiffusionInfo extends BaseInfo {
  /** Time at the start of the step. */
  readonly t: number;
  /** Signed time increment of the step (negative: reverse time). */
  readonly dt: number;
  /** Langevin corrector step size (predictor–corrector only; 0 otherwise). */
  readonly correctorStepSize: number;
  /** Rejected RK45 attempts during this step. */
  readonly rejected: number;
}

/** Options shared by the fixed-grid samplers. */
export interface ReverseOptions {
  /** Number of steps from `T` to `eps` (default 500). */
  readonly steps?: number;
  /** End time (default 1e-3). */
  readonly eps?: number;
}

function grid(sde: SDE, opts: ReverseOptions, fn: string): { N: number; eps: number; dt: number } {
  const N = opts.steps ?? 500;
  const eps = opts.eps ?? 1e-3;
  if (!Number.isInteger(N) || N < 1) throw new InvalidArgumentError(`${fn}: steps must be a positive integer, got ${N}`);
  if (!(eps > 0 && eps < sde.T)) throw new InvalidArgumentError(`${fn}: eps must be in (0, ${sde.T}), got ${eps}`);
  return { N, eps, dt: (sde.T - eps) / N };
}

function initState(position: Tensor, sde: SDE, fn: string): DiffusionState {
  if (!(position instanceof Tensor) || position.ndim < 2) throw new ShapeError(`${fn}: init position must be [n, ...dim], got ${position instanceof Tensor ? `[${position.shape.join(', ')}]` : typeof position}`);
  return { position: detach(position), t: sde.T, step: 0, done: false };
}

/** Per-row finiteness check: returns the new point with divergent rows reset to the old one, and the flags. */
function guard(next: Float64Array | Tensor, prev: Tensor): [Tensor, Uint8Array] {
  const n = prev.shape[0];
  const D = prev.size / n;
  const src = next instanceof Tensor ? next.data : next;
  const out = new (prev.dtype === 'float64' ? Float64Array : Float32Array)(prev.size);
  const bad = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (let j = 0; j < D; j++) if (!Number.isFinite(src[i * D + j])) ok = false;
    bad[i] = ok ? 0 : 1;
    for (let j = 0; j < D; j++) out[i * D + j] = ok ? src[i * D + j] : prev.data[i * D + j];
  }
  return [new Tensor(out, prev.shape), bad];
}

function doneStep(state: DiffusionState): readonly [DiffusionState, DiffusionInfo] {
  return [state, { divergent: new Uint8Array(state.position.shape[0]), t: state.t, dt: 0, correctorStepSize: 0, rejected: 0 }];
}

function evalScore(score: BoundScore, x: Tensor, t: number, fn: string): Float64Array {
  const s = noGrad(() => detach(score(x, t)));
  if (s.shape.length !== x.shape.length || s.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`${fn}: score returned [${s.shape.join(', ')}] for x [${x.shape.join(', ')}]`);
  }
  return Float64Array.from(s.data);
}

/** Options of {@link eulerMaruyama}. */
export interface EulerMaruyamaOptions extends ReverseOptions {
  /** Omit the noise on the last step (Song et al.'s "denoise"), default true. */
  readonly denoise?: boolean;
}

/**
 * Reverse-SDE Euler–Maruyama (Song et al. 2021): on the grid `tᵢ = T − iΔt`, `Δt = (T − eps)/N`,
 * `x ← x − [f(tᵢ)x − g(tᵢ)² s(x, tᵢ)]Δt + g(tᵢ)√Δt z`, `z ~ N(0, I)`; no noise on the last step when `denoise`.
 * One score evaluation per step; `N` steps reach `eps` (`done`). Start from `sde.priorSample`.
 * @example const alg = eulerMaruyama(vpSDE(), bindScore(mlpScore(sde), p), { steps: 500 });
 * const x = generate(alg, key(0), sde.priorSample(key(1), [1000, 2]));
 */
export function eulerMaruyama(sde: SDE, score: BoundScore, opts: EulerMaruyamaOptions = {}): SamplingAlgorithm<DiffusionState, DiffusionInfo> {
  const { N, dt } = grid(sde, opts, 'eulerMaruyama');
  const denoise = opts.denoise ?? true;
  return {
    name: 'euler-maruyama',
    rejectsDivergent: false,
    init: (x) => initState(x, sde, 'eulerMaruyama'),
    observe: (s) => s.position,
    step(key: Key, state) {
      if (state.done) return doneStep(state);
      const x = state.position;
      const t = sde.T - state.step * dt;
      const s = evalScore(score, x, t, 'eulerMaruyama');
      const last = state.step === N - 1;
      const f = sde.driftCoef(t);
      const g2 = sde.g2(t);
      const noise = denoise && last ? null : normal(key, x.shape, { dtype: 'float64' }).data;
      const gs = Math.sqrt(g2 * dt);
      const out = new Float64Array(x.size);
      for (let i = 0; i < x.size; i++) out[i] = x.data[i] - (f * x.data[i] - g2 * s[i]) * dt + (noise ? gs * noise[i] : 0);
      const [position, divergent] = guard(out, x);
      const next = state.step + 1;
      return [{ position, t: sde.T - next * dt, step: next, done: next >= N }, { divergent, t, dt: -dt, correctorStepSize: 0, rejected: 0 }];
    },
  };
}

/** Options of {@link predictorCorrector}. */
export interface PredictorCorrectorOptions extends EulerMaruyamaOptions {
  /** Signal-to-noise ratio `r` of the Langevin corrector (default 0.16). */
  readonly snr?: number;
  /** Corrector steps per time (default 1). */
  readonly correctorSteps?: number;
}

/**
 * Predictor–corrector sampling (Song et al. 2021, Alg. 4/5): at each `tᵢ`, `M` Langevin corrector steps
 * `x ← x + ε s + √(2ε) z` with `ε = 2α (r‖z‖/‖s‖)²` (`annealedSnrStepSize` of src/samplers times α; norms averaged over rows), then
 * one Euler–Maruyama predictor step. `α = 1` for VE; for VP/sub-VP it is DDPM's `αᵢ = 1 − βᵢ = ᾱᵢ/ᾱᵢ₋₁` taken
 * exactly from the continuous schedule, `α = (m(tᵢ)/m(tᵢ − Δt))² = exp(−∫_{tᵢ−Δt}^{tᵢ} β(s) ds)` — Song et al.'s
 * `1 − β(tᵢ)Δt` to first order, but in `(0, 1]` on any grid (the first-order form is ≤ 0 once `β(t)Δt ≥ 1`, e.g.
 * `β_max = 20` on 10 steps, where the corrector's step size turns negative and the chain diverges). `M + 1` score evaluations per step.
 * @example predictorCorrector(veSDE({ sigmaMax: 10 }), score, { steps: 500, snr: 0.16 })
 */
export function predictorCorrector(sde: SDE, score: BoundScore, opts: PredictorCorrectorOptions = {}): SamplingAlgorithm<DiffusionState, DiffusionInfo> {
  const snr = opts.snr ?? 0.16;
  const M = opts.correctorSteps ?? 1;
  if (!(snr > 0) || !Number.isFinite(snr)) throw new InvalidArgumentError(`predictorCorrector: snr must be a finite number > 0, got ${snr}`);
  if (!Number.isInteger(M) || M < 0) throw new InvalidArgumentError(`predictorCorrector: correctorSteps must be an integer ≥ 0, got ${M}`);
  const predictor = eulerMaruyama(sde, score, opts);
  const { dt } = grid(sde, opts, 'predictorCorrector');
  return {
    name: 'predictor-corrector',
    rejectsDivergent: false,
    init: (x) => initState(x, sde, 'predictorCorrector'),
    observe: (s) => s.position,
    step(key: Key, state) {
      if (state.done) return doneStep(state);
      const t = state.t;
      const keys = split(key, M + 1);
      let x = state.position;
      const n = x.shape[0];
      // DDPM's αᵢ = ᾱᵢ/ᾱᵢ₋₁ with ᾱ(t) = m(t)²: the exact α = exp(−∫_{t−Δt}^{t} β(s) ds) for VP and sub-VP. It is in (0, 1]
      // for any grid; the first-order 1 − β(t)Δt it replaces is ≤ 0 once β(t)Δt ≥ 1 (β_max = 20 on 10 steps).
      const alpha = sde.kind === 've' ? 1 : (sde.meanCoef(t) / sde.meanCoef(Math.max(t - dt, 0))) ** 2;
      let lastEps = 0;
      const bad = new Uint8Array(n);
      for (let m = 0; m < M; m++) {
        const s = evalScore(score, x, t, 'predictorCorrector');
        const z = normal(keys[m], x.shape, { dtype: 'float64' }).data;
        const eps = alpha * annealedSnrStepSize(s, z, n, snr);
        lastEps = eps;
        const out = new Float64Array(x.size);
        const c = Math.sqrt(2 * eps);
        for (let i = 0; i < x.size; i++) out[i] = x.data[i] + eps * s[i] + c * z[i];
        const [pos, dv] = guard(out, x);
        for (let i = 0; i < n; i++) bad[i] |= dv[i];
        x = pos;
      }
      const [next, info] = predictor.step(keys[M], { ...state, position: x });
      for (let i = 0; i < n; i++) bad[i] |= info.divergent[i];
      return [next, { divergent: bad, t, dt: info.dt, correctorStepSize: lastEps, rejected: 0 }];
    },
  };
}

/** The probability-flow drift `f(t)x − ½g(t)² s(x, t)` on a flat float64 state of shape `shape`. */
export function probabilityFlowDrift(sde: SDE, score: BoundScore, shape: readonly number[], dtype: DType): OdeFn {
  return (t, y) => {
    const x = tensor(y, shape, dtype);
    const s = evalScore(score, x, t, 'probabilityFlow');
    const f = sde.driftCoef(t);
    const h = 0.5 * sde.g2(t);
    const out = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++) out[i] = f * y[i] - h * s[i];
    return out;
  };
}

/** Options of {@link probabilityFlow}. */
export interface ProbabilityFlowOptions extends ReverseOptions, Rk45Tolerances {
  /** `'heun'` (fixed grid of `steps`, default) or `'rk45'` (adaptive; each kernel step is one accepted step). */
  readonly method?: 'heun' | 'rk45';
}

/**
 * Deterministic sampling by the probability-flow ODE `dx/dt = f(t)x − ½g(t)² s(x, t)` from `T` to `eps`
 * (Song et al. 2021): Heun on a fixed grid (2 score evaluations per step), or adaptive Dormand–Prince RK45 where one
 * kernel step is one accepted step (7 evaluations per attempt; `done` when `t` reaches `eps`). The key is unused.
 * @example const x = generate(probabilityFlow(sde, score, { method: 'rk45', rtol: 1e-4 }), key(0), prior)
 */
export function probabilityFlow(sde: SDE, score: BoundScore, opts: ProbabilityFlowOptions = {}): SamplingAlgorithm<DiffusionState, DiffusionInfo> {
  const method = opts.method ?? 'heun';
  if (method !== 'heun' && method !== 'rk45') throw new InvalidArgumentError(`probabilityFlow: method must be 'heun' or 'rk45', got '${String(method)}'`);
  const { N, eps, dt } = grid(sde, opts, 'probabilityFlow');
  return {
    name: `probability-flow-${method}`,
    rejectsDivergent: false,
    init: (x) => ({ ...initState(x, sde, 'probabilityFlow'), h: -(sde.T - eps) / 50 }),
    observe: (s) => s.position,
    step(_key: Key, state) {
      if (state.done) return doneStep(state);
      const x = state.position;
      const f = probabilityFlowDrift(sde, score, x.shape, x.dtype);
      const y = Float64Array.from(x.data);
      if (method === 'heun') {
        const t = sde.T - state.step * dt;
        const [position, divergent] = guard(heunStep(f, t, y, -dt), x);
        const next = state.step + 1;
        return [{ position, t: sde.T - next * dt, step: next, done: next >= N }, { divergent, t, dt: -dt, correctorStepSize: 0, rejected: 0 }];
      }
      let h = state.h ?? -(sde.T - eps) / 50;
      let rejected = 0;
      for (;;) {
        if (state.t + h < eps) h = eps - state.t;
        const a = rk45Attempt(f, state.t, y, h, opts);
        const hNext = h * rk45Factor(a.errNorm);
        if (a.errNorm <= 1) {
          const [position, divergent] = guard(a.y, x);
          const tNew = state.t + h;
          const done = tNew <= eps + 1e-12;
          return [{ position, t: done ? eps : tNew, step: state.step + 1, done, h: hNext }, { divergent, t: state.t, dt: h, correctorStepSize: 0, rejected }];
        }
        rejected++;
        if (rejected > 100) throw new InvalidArgumentError(`probabilityFlow(rk45): 100 rejected attempts at t = ${state.t}; loosen rtol/atol`);
        h = hNext;
      }
    },
  };
}

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** Safety cap on kernel steps (default 100 000). */
  readonly maxSteps?: number;
}

/**
 * Runs a diffusion sampler from `xT` (e.g. `sde.priorSample(key, [n, d])`) until its state is `done`, with step `i`
 * using `split`-derived keys, and returns the final samples `[n, ...dim]`. Throws if a step produced non-finite
 * values (naming the step and rows).
 * @example const x = generate(eulerMaruyama(sde, score), key(0), sde.priorSample(key(1), [500, 2]));
 */
export function generate(alg: SamplingAlgorithm<DiffusionState, DiffusionInfo>, key: Key, xT: Tensor, opts: GenerateOptions = {}): Tensor {
  const maxSteps = opts.maxSteps ?? 100_000;
  let state = alg.init(xT);
  let k = key;
  for (let i = 0; !state.done; i++) {
    if (i >= maxSteps) throw new InvalidArgumentError(`generate: ${alg.name} did not finish within ${maxSteps} steps`);
    const [kNext, kStep] = split(k, 2);
    k = kNext;
    const [next, info] = alg.step(kStep, state);
    const bad: number[] = [];
    for (let r = 0; r < info.divergent.length; r++) if (info.divergent[r]) bad.push(r);
    if (bad.length) throw new InvalidArgumentError(`generate: ${alg.name} produced non-finite values at step ${i + 1} (t = ${info.t}) in rows ${bad.slice(0, 10).join(', ')}`);
    state = next;
  }
  if (!allFinite(state.position)) throw new InvalidArgumentError(`generate: ${alg.name} ended with non-finite samples`);
  return state.position;
}
