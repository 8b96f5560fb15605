/**
 * Contrastive divergence (CD) for any {@link Energy}: maximum-likelihood training of `p_θ(x) ∝ exp(−E_θ(x))` with
 * negatives drawn by MCMC.
 *
 * The log-likelihood gradient is `∇θ log p_θ(x⁺) = −∇θE_θ(x⁺) + E_{x⁻∼p_θ}[∇θE_θ(x⁻)]`, so minimising
 *
 *   `L(θ) = mean_i E_θ(x⁺_i) − mean_j E_θ(x⁻_j) + α·(mean_i E_θ(x⁺_i)² + mean_j E_θ(x⁻_j)²)`
 *
 * with the negatives `x⁻` held fixed (no gradient flows through the sampler) follows the likelihood gradient when the
 * negatives are samples of the model. The `α` term (Du & Mordatch 2019) keeps energies near 0 (a small bias).
 *
 * Negatives come from `K` steps of any sampling kernel (`SamplingAlgorithm`: ULA, MALA, …) started
 * - at the data batch (`negatives: 'data'`, CD-k, Hinton 2002),
 * - at persistent chains (`'persistent'`, PCD, Tieleman 2008: one chain per batch row, carried from step to step),
 * - at rows drawn from a replay buffer (`'buffer'`, Du & Mordatch 2019), a fraction `reinit` of which is restarted
 *   from noise (uniform on a box, or normal) or from data each step; the chains' end points are written back.
 *
 * The loss is a pure function `(params, batch, key, state) → {loss, aux, state}`; the state (buffer, persistent
 * chains, spectral-norm vectors) is plain tensors and numbers, so it can be checkpointed. Sampling evaluates the
 * energy with detached parameters (first order, gradient w.r.t. `x` only).
 * @module
 */
import {
  Tensor, add, mul, mean, square, sum, detach, noGrad, treeLeaves, treeUnflatten, reshape, div, allFinite, valueAndGrad,
  type Tree, type DType,
} from '../tensor/index.js';
import { reuseIfActive } from '../tensor/bufferPool.js';
import { split, normalArray, uniformArray, randintArray, permutation, type Key } from '../random/index.js';
import { eventShape, type Energy } from '../energy/index.js';
import { parallelTempering, ptStepSizes, ulaInit, type BaseInfo, type SamplingAlgorithm, type PtLocalKernel, type PtState } from '../samplers/index.js';
import { InvalidArgumentError, InvalidTypeError, EbmError, type EbmErrorCode, NonFiniteError } from '../errors.js';

/** Builds the sampler used for negatives from the (detached) model energy, e.g. `(E) => ula(E, { stepSize: 1e-3 })`. */
export type NegativeSampler = (energy: Energy) => SamplingAlgorithm<any, BaseInfo>;

/**
 * Parallel-tempering negatives (`negatives: 'tempered'`): `C` persistent chains at each of the temperatures
 * `1 = T₁ < … < T_K`, all kept in the state (`buffer [K·C, ...dim]`, row `k·C + c` is chain `c` at `T_k`). Each CD
 * step runs `steps` PT transitions (local move at every temperature, then neighbour swaps) under the current model and
 * uses the `C` chains at `T₁` as negatives. Hot replicas cross the barriers between modes and swaps carry them down,
 * so the negatives' mode proportions follow the model's and the CD gradient corrects the modes' relative energies.
 */
export interface TemperingOptions {
  /** Increasing temperatures starting at 1 (see `geometricTemperatures`). */
  readonly temperatures: readonly number[];
  /** Local step size at `T₁` (scaled by `T_k` at temperature k) or one per temperature. */
  readonly stepSize: number | readonly number[];
  /** Local kernel (default `'mala'`, exact for `exp(−E/T_k)`). */
  readonly local?: PtLocalKernel;
  /** Per-chain gradient clipping in the local kernel. */
  readonly maxGradNorm?: number;
  /** Box on every coordinate (MALA/HMC reject moves that leave it). */
  readonly box?: readonly [number, number];
}

/** Where fresh chains come from when the buffer is filled or a fraction is re-initialised. */
export type ReinitSource =
  /** Uniform on the box `[low, high]` per coordinate (numbers apply to every coordinate, arrays are per coordinate). */
  | { readonly kind: 'uniform'; readonly low: number | readonly number[]; readonly high: number | readonly number[] }
  /** `N(mean, std²)` per coordinate. */
  | { readonly kind: 'normal'; readonly mean?: number; readonly std?: number }
  /** Random rows of the current data batch, plus `N(0, noise²)` jitter (default 0). */
  | { readonly kind: 'data'; readonly noise?: number };

/** Options of {@link contrastiveDivergence}. */
export interface CDOptions<P extends Tree> {
  /** The model: parameters → energy (`x [n, ...dim]` → `[n]`), e.g. `(p) => ({ dim: 2, energy: (x) => … })`. */
  readonly energy: (params: P) => Energy;
  /**
   * The MCMC kernel for negatives (any `SamplingAlgorithm`). Its `maxGradNorm` safeguard clips the sampler's gradient.
   * Required except for `negatives: 'tempered'` (which uses `tempering`).
   */
  readonly sampler?: NegativeSampler;
  /** Sampler steps `K` per training step (≥ 1). */
  readonly steps: number;
  /**
   * Chain initialisation: `'data'` (CD-k), `'persistent'` (PCD), `'buffer'` (replay buffer) or `'tempered'`
   * (persistent parallel-tempering chains, see {@link TemperingOptions}). Default `'buffer'`.
   */
  readonly negatives?: 'data' | 'persistent' | 'buffer' | 'tempered';
  /** Parallel tempering of the negatives (required for, and only used by, `negatives: 'tempered'`). */
  readonly tempering?: TemperingOptions;
  /** Replay-buffer size (for `'buffer'`; default 10 000). */
  readonly bufferSize?: number;
  /**
   * Fraction of chains restarted from `reinitFrom` each step (default 0.05 for `'buffer'`, 0 for `'persistent'` and
   * `'tempered'`; for `'tempered'` only the hottest replicas are restarted).
   */
  readonly reinit?: number;
  /** Source of fresh chains (default: uniform on [−1, 1]). */
  readonly reinitFrom?: ReinitSource;
  /** Weight `α ≥ 0` of the energy-magnitude regulariser `α·(E⁺² + E⁻²)` (default 0). */
  readonly alpha?: number;
  /** Standard deviation of Gaussian noise added to the data batch (default 0). */
  readonly dataNoise?: number;
  /**
   * Spectral normalisation: every parameter leaf with ≥ 2 axes (weights; a conv weight `[O, …]` is read as
   * `[O, rest]`) is divided by its largest singular value, estimated by `iterations` power-iteration steps per
   * training step (vectors kept in the state). Default off.
   */
  readonly spectralNorm?: boolean | { readonly iterations?: number };
  /** Number of negative chains per step (default: the batch size). */
  readonly chains?: number;
}

/** State carried between CD steps (plain tensors and numbers: checkpointable). */
export interface CDState {
  /** Replay buffer or persistent chains `[N, ...dim]`, or `null` for CD-k from data. */
  readonly buffer: Tensor | null;
  /** Power-iteration vectors `u` for spectral normalisation, by parameter-leaf index (empty when off). */
  readonly sn: { readonly [leaf: string]: Tensor };
  /** Number of CD steps taken with this state. */
  readonly step: number;
}

/** Diagnostics of one CD step (plain numbers, no graph). */
export interface CDAux {
  /** `mean E(x⁺)`. */
  readonly ePos: number;
  /** `mean E(x⁻)`. */
  readonly eNeg: number;
  /** Energy gap `mean E(x⁺) − mean E(x⁻)` (the CD part of the loss). */
  readonly gap: number;
  /** The regulariser `α·(mean E⁺² + mean E⁻²)`. */
  readonly reg: number;
  /** (step, chain) pairs the sampler flagged as divergent (non-finite proposals, old point kept). */
  readonly samplerDivergent: number;
  /** The negatives `[m, ...dim]` used in this step. */
  readonly negatives: Tensor;
}

/** Output of a CD loss evaluation. */
export interface CDOutput {
  /** The scalar loss, differentiable w.r.t. the parameters. */
  readonly loss: Tensor;
  readonly aux: CDAux;
  /** The next state. */
  readonly state: CDState;
}

/** A CD loss: a pure function of parameters, positive batch `[B, ...dim]`, key and state. */
export type CDLoss<P extends Tree> = ((params: P, batch: Tensor, key: Key, state: CDState) => CDOutput) & {
  /** The options it was built with. */
  readonly options: CDOptions<P>;
  /** Fresh state: fills the buffer from `reinitFrom` (or `data` rows for the `'data'` source). */
  initState(key: Key, params: P, data: Tensor): CDState;
  /**
   * One step's positives, chain starts, sampler key and state update, for chains run elsewhere (present on the losses
   * of {@link contrastiveDivergence}); with spectral normalisation pass `params` to get the normalised model.
   */
  prepare?(batch: Tensor, key: Key, state: CDState, params?: P): CDPrepared<P>;
};

/**
 * The parallel-tempering plan of one CD step with `negatives: 'tempered'` ({@link CDPrepared.tempered}): what
 * `runTempered` runs, for a caller that runs it elsewhere. PT step `t` of the step (`0 ≤ t < steps`) uses the key
 * `split(kChain, steps)[t]`, split into `[kLocal, kSwap]`; the local kernel is `ulaKernel`/`malaKernel` with row
 * `k·C + c` at `temperatures[k]` and `stepSizes[k]`; swaps are tried on the pairs `(k, k+1)` with
 * `k ≡ step0 + t (mod 2)`, chain by chain, with the uniforms `uniformArray(kSwap, K·C, 'float64')` (the lower row's).
 */
export interface CDTemperedPlan {
  /** `1 = T₁ < … < T_K`. */
  readonly temperatures: readonly number[];
  /** Local step size per temperature (`ptStepSizes`). */
  readonly stepSizes: readonly number[];
  readonly local: PtLocalKernel;
  /** Chains per temperature `C` (the negatives are rows `0 … C−1` of the replicas after the PT steps). */
  readonly chains: number;
  /** Swap parity offset: the PT state's step count at the start (the CD state's `step`). */
  readonly step0: number;
  readonly maxGradNorm?: number;
  readonly box?: readonly [number, number];
}

/** What {@link CDLoss.prepare} gives: the step's positives and chain starts, and the next state from the negatives. */
export interface CDPrepared<P extends Tree = Tree> {
  /** The positives (the batch plus the data noise). */
  readonly xPos: Tensor;
  /**
   * The chain starts `[m, ...dim]`; with `negatives: 'tempered'` all the replicas `[K·C, ...dim]` (the hottest
   * already restarted where `reinit` asks).
   */
  readonly x0: Tensor;
  /** The key of the `steps` sampler steps (`split(kChain, steps)[t]` for step `t`). */
  readonly kChain: Key;
  /** `negatives: 'tempered'`: how to run the replicas (else absent). */
  readonly tempered?: CDTemperedPlan;
  /**
   * With spectral normalisation and `params` given to `prepare`: the normalised parameters `W/σ(W)` (plain values)
   * that the sampler and the loss use (and `finish` then carries the updated power-iteration vectors); the gradient of
   * the loss w.r.t. them goes back to the parameters by {@link spectralNormPullback} with `snBefore`. Absent otherwise
   * (without `params`, `finish` keeps the state's vectors: the caller normalises and updates them itself).
   */
  readonly model?: P;
  /** The power-iteration vectors the step started from (for {@link spectralNormPullback}). */
  readonly snBefore: { readonly [leaf: string]: Tensor };
  /**
   * The next state: with `negatives: 'tempered'` pass the replicas after the PT steps `[K·C, ...dim]`, else the
   * negatives, which are written back into the buffer.
   */
  finish(xNeg: Tensor): CDState;
}

/** Thrown when the sampler cannot run because the model energy is not finite (a training divergence). */
export class CDDivergenceError extends EbmError {
  readonly code: EbmErrorCode = 'CD_DIVERGED';
  override name = 'CDDivergenceError';
}

function checkOpts<P extends Tree>(o: CDOptions<P>): void {
  if (typeof o.energy !== 'function') throw new InvalidTypeError('contrastiveDivergence: "energy" must be a function params → Energy');
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new InvalidArgumentError(`contrastiveDivergence: steps must be an integer ≥ 1, got ${o.steps}`);
  const neg = o.negatives ?? 'buffer';
  if (neg !== 'data' && neg !== 'persistent' && neg !== 'buffer' && neg !== 'tempered') throw new InvalidArgumentError(`contrastiveDivergence: negatives must be 'data', 'persistent', 'buffer' or 'tempered', got '${String(neg)}'`);
  if (neg === 'tempered') {
    const t = o.tempering;
    if (!t) throw new InvalidArgumentError("contrastiveDivergence: negatives 'tempered' needs the tempering option (temperatures, stepSize)");
    if (!Array.isArray(t.temperatures) || t.temperatures.length < 2) throw new InvalidArgumentError('contrastiveDivergence: tempering.temperatures needs at least 2 temperatures');
    if (t.temperatures[0] !== 1) throw new InvalidArgumentError(`contrastiveDivergence: tempering.temperatures must start at 1 (the model's temperature), got ${t.temperatures[0]}`);
  } else if (typeof o.sampler !== 'function') throw new InvalidTypeError('contrastiveDivergence: "sampler" must be a function Energy → SamplingAlgorithm');
  if (o.bufferSize !== undefined && (!Number.isInteger(o.bufferSize) || o.bufferSize < 1)) throw new InvalidArgumentError(`contrastiveDivergence: bufferSize must be a positive integer, got ${o.bufferSize}`);
  if (o.reinit !== undefined && !(o.reinit >= 0 && o.reinit <= 1)) throw new InvalidArgumentError(`contrastiveDivergence: reinit must be in [0, 1], got ${o.reinit}`);
  if (o.alpha !== undefined && !(o.alpha >= 0)) throw new InvalidArgumentError(`contrastiveDivergence: alpha must be ≥ 0, got ${o.alpha}`);
  if (o.dataNoise !== undefined && !(o.dataNoise >= 0)) throw new InvalidArgumentError(`contrastiveDivergence: dataNoise must be ≥ 0, got ${o.dataNoise}`);
  if (o.chains !== undefined && (!Number.isInteger(o.chains) || o.chains < 1)) throw new InvalidArgumentError(`contrastiveDivergence: chains must be a positive integer, got ${o.chains}`);
  const r = o.reinitFrom;
  if (r) {
    if (r.kind === 'uniform') {
      const lo = typeof r.low === 'number' ? [r.low] : r.low;
      const hi = typeof r.high === 'number' ? [r.high] : r.high;
      if (lo.length !== hi.length && typeof r.low !== 'number' && typeof r.high !== 'number') throw new InvalidArgumentError('contrastiveDivergence: reinitFrom low and high must have the same length');
      for (let i = 0; i < Math.max(lo.length, hi.length); i++) {
        const a = lo[Math.min(i, lo.length - 1)], b = hi[Math.min(i, hi.length - 1)];
        if (!(a < b) || !Number.isFinite(a) || !Number.isFinite(b)) throw new InvalidArgumentError(`contrastiveDivergence: reinitFrom uniform box needs finite low < high, got [${a}, ${b}] at coordinate ${i}`);
      }
    } else if (r.kind === 'normal') {
      if (r.std !== undefined && !(r.std > 0)) throw new InvalidArgumentError(`contrastiveDivergence: reinitFrom normal std must be > 0, got ${r.std}`);
    } else if (r.kind === 'data') {
      if (r.noise !== undefined && !(r.noise >= 0)) throw new InvalidArgumentError(`contrastiveDivergence: reinitFrom data noise must be ≥ 0, got ${r.noise}`);
    } else throw new InvalidArgumentError(`contrastiveDivergence: unknown reinitFrom kind '${String((r as { kind: unknown }).kind)}' (use uniform, normal or data)`);
  }
}

/**
 * Draws `m` fresh chain starts `[m, ...event]` from a {@link ReinitSource}; `data` rows come from `pool [n, ...event]`.
 * @example freshChains(key(0), { kind: 'uniform', low: -4, high: 4 }, 100, [2], 'float32', data)
 */
export function freshChains(k: Key, src: ReinitSource, m: number, event: readonly number[], dtype: DType, pool?: Tensor): Tensor {
  const D = event.reduce((a, b) => a * b, 1);
  const out = dtype === 'float64' ? new Float64Array(m * D) : new Float32Array(m * D);
  if (src.kind === 'uniform') {
    const u = uniformArray(k, m * D, 'float64');
    const at = (v: number | readonly number[], j: number): number => (typeof v === 'number' ? v : v[v.length === 1 ? 0 : j]);
    for (let i = 0; i < m * D; i++) {
      const j = i % D;
      const lo = at(src.low, j), hi = at(src.high, j);
      out[i] = lo + (hi - lo) * u[i];
    }
  } else if (src.kind === 'normal') {
    const z = normalArray(k, m * D, 'float64');
    const mu = src.mean ?? 0, sd = src.std ?? 1;
    for (let i = 0; i < m * D; i++) out[i] = mu + sd * z[i];
  } else {
    if (!pool || pool.shape[0] < 1) throw new InvalidArgumentError('freshChains: the data source needs data rows');
    const n = pool.shape[0];
    const [kr, kz] = split(k, 2);
    const rows = randintArray(kr, 0, n, m);
    const noise = src.noise ?? 0;
    const z = noise > 0 ? normalArray(kz, m * D, 'float64') : null;
    for (let i = 0; i < m; i++) {
      const r = rows[i];
      for (let j = 0; j < D; j++) out[i * D + j] = pool.data[r * D + j] + (z ? noise * z[i * D + j] : 0);
    }
  }
  return new Tensor(out, [m, ...event]);
}

/** Reshapes a weight leaf to a matrix `[rows, cols]`: linear `[in, out]` as is, conv `[O, C, k, k]` → `[O, C·k·k]`. */
function matShape(t: Tensor): [number, number] {
  return t.ndim === 2 ? [t.shape[0], t.shape[1]] : [t.shape[0], t.size / t.shape[0]];
}

/**
 * One or more power-iteration steps for the top singular pair of `W [r, c]` (untraced, float64):
 * `v ← Wᵀu/‖Wᵀu‖`, `u ← Wv/‖Wv‖`. Returns the new `u [r]` and `v [c]`.
 */
function powerIteration(W: Tensor, u0: Float64Array, iters: number): { u: Float64Array; v: Float64Array } {
  const [r, c] = matShape(W);
  const w = W.data;
  let u = u0;
  let v = new Float64Array(c);
  for (let it = 0; it < iters; it++) {
    v = new Float64Array(c);
    for (let i = 0; i < r; i++) {
      const ui = u[i];
      for (let j = 0; j < c; j++) v[j] += w[i * c + j] * ui;
    }
    let nv = 0;
    for (let j = 0; j < c; j++) nv += v[j] * v[j];
    nv = Math.sqrt(nv) || 1;
    for (let j = 0; j < c; j++) v[j] /= nv;
    const un = new Float64Array(r);
    for (let i = 0; i < r; i++) {
      let s = 0;
      for (let j = 0; j < c; j++) s += w[i * c + j] * v[j];
      un[i] = s;
    }
    let nu = 0;
    for (let i = 0; i < r; i++) nu += un[i] * un[i];
    nu = Math.sqrt(nu) || 1;
    for (let i = 0; i < r; i++) un[i] /= nu;
    u = un;
  }
  return { u, v };
}

/**
 * Spectral normalisation of every weight leaf (≥ 2 axes) of a parameter tree: `W_sn = W/σ(W)` with
 * `σ(W) ≈ uᵀWv` from power iteration (`u`, `v` constants, so `∇θ` flows through `W` in both numerator and `σ`).
 * Returns the normalised tree (traced when `params` is) and the updated vectors.
 * @example const { params: pSn, sn } = spectralNormalize(params, state.sn, 1);
 */
export function spectralNormalize<P extends Tree>(params: P, sn: { readonly [leaf: string]: Tensor }, iterations = 1): { params: P; sn: Record<string, Tensor> } {
  const leaves = treeLeaves(params);
  const nextSn: Record<string, Tensor> = {};
  const out = leaves.map((W, i) => {
    if (W.ndim < 2) return W;
    const [r, c] = matShape(W);
    const prev = sn[String(i)];
    let u0: Float64Array;
    if (prev && prev.size === r) u0 = Float64Array.from(prev.data);
    else {
      u0 = new Float64Array(r).fill(1 / Math.sqrt(r));
    }
    const { u, v } = powerIteration(W, u0, Math.max(1, iterations));
    nextSn[String(i)] = new Tensor(Float64Array.from(u), [r]);
    const uv = W.dtype === 'float64' ? new Float64Array(r * c) : new Float32Array(r * c);
    for (let a = 0; a < r; a++) for (let b = 0; b < c; b++) uv[a * c + b] = u[a] * v[b];
    const sigma = sum(mul(W, new Tensor(uv, W.shape)));
    return div(W, reshape(sigma, []));
  });
  return { params: treeUnflatten(params, out), sn: nextSn };
}

function addNoise(k: Key, x: Tensor, sd: number): Tensor {
  if (!(sd > 0)) return x;
  const z = normalArray(k, x.size, 'float64');
  const out = x.dtype === 'float64' ? new Float64Array(x.size) : new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) out[i] = x.data[i] + sd * z[i];
  return new Tensor(out, x.shape);
}

function gather(buf: Tensor, idx: Int32Array): Tensor {
  const D = buf.size / buf.shape[0];
  const out = buf.dtype === 'float64' ? new Float64Array(idx.length * D) : new Float32Array(idx.length * D);
  for (let i = 0; i < idx.length; i++) out.set(buf.data.subarray(idx[i] * D, (idx[i] + 1) * D), i * D);
  return new Tensor(out, [idx.length, ...buf.shape.slice(1)]);
}

/**
 * Runs `K` steps of the sampler from `x0` under the (already detached) energy and returns the end points and the
 * number of flagged divergences. A non-finite energy at the start (the model blew up) is a {@link CDDivergenceError}.
 * @example const { x, divergent } = runChains((E) => ula(E, { stepSize: 1e-3 }), E, x0, key(0), 20);
 */
export function runChains(sampler: NegativeSampler, energy: Energy, x0: Tensor, k: Key, steps: number): { x: Tensor; divergent: number } {
  return noGrad(() => {
    const alg = sampler(energy);
    let s: unknown;
    try {
      s = alg.init(x0);
    } catch (e) {
      if (e instanceof NonFiniteError) throw new CDDivergenceError(`contrastive divergence: cannot start the sampler (${e.message})`);
      throw e;
    }
    let divergent = 0;
    const keys = split(k, steps);
    for (let t = 0; t < steps; t++) {
      // Inside a training step's buffer-reuse scope, each sampler step gives its dead buffers back at once.
      const [next, info] = reuseIfActive(() => alg.step(keys[t], s));
      s = next;
      for (const d of info.divergent) divergent += d;
    }
    return { x: alg.observe(s), divergent };
  });
}

/**
 * Builds a contrastive-divergence loss (see the module doc). Call `loss.initState(key, params, data)` once, then
 * per step `loss(params, batch, key, state)`; differentiate with `valueAndGrad(..., { hasAux: true })` or use
 * {@link cdValueAndGrad}.
 * @example
 * const cd = contrastiveDivergence({
 *   energy: (p) => ({ dim: 2, energy: (x) => reshape(applyMLP(p, x), [x.shape[0]]) }),
 *   sampler: (E) => ula(E, { stepSize: 1e-3 }), steps: 20, negatives: 'buffer', bufferSize: 10000, reinit: 0.05,
 *   reinitFrom: { kind: 'uniform', low: -4, high: 4 },
 * });
 * let st = cd.initState(key(0), params, data);
 * const r = cdValueAndGrad(cd)(params, batch, key(1), st); st = r.state;
 */
export function contrastiveDivergence<P extends Tree>(opts: CDOptions<P>): CDLoss<P> {
  checkOpts(opts);
  const mode = opts.negatives ?? 'buffer';
  const alpha = opts.alpha ?? 0;
  const reinit = opts.reinit ?? (mode === 'buffer' ? 0.05 : 0);
  const src: ReinitSource = opts.reinitFrom ?? { kind: 'uniform', low: -1, high: 1 };
  const snIters = opts.spectralNorm ? (typeof opts.spectralNorm === 'object' ? opts.spectralNorm.iterations ?? 1 : 1) : 0;

  const fn = (params: P, batch: Tensor, k: Key, state: CDState): CDOutput => {
    if (!(batch instanceof Tensor) || batch.ndim < 2 || batch.shape[0] < 1) throw new InvalidArgumentError(`contrastiveDivergence: batch must be a tensor [B ≥ 1, ...dim], got ${batch instanceof Tensor ? `[${batch.shape.join(', ')}]` : typeof batch}`);
    const [kNoise, kIdx, kRe, kReSrc, kChain] = split(k, 5);
    const event = batch.shape.slice(1);
    const xPos = addNoise(kNoise, batch, opts.dataNoise ?? 0);

    // Parameters used by the model: spectrally normalised if asked (traced), and a detached copy for sampling.
    let model = params;
    let sn = state.sn;
    if (snIters > 0) {
      const r = spectralNormalize(params, state.sn, snIters);
      model = r.params;
      sn = r.sn;
    }
    const frozen = noGrad(() => treeUnflatten(model, treeLeaves(model).map((t) => detach(t))));
    const eSample = opts.energy(frozen);
    const ev = eventShape(eSample);
    if (ev.length !== event.length || ev.some((d, i) => d !== event[i])) {
      throw new InvalidArgumentError(`contrastiveDivergence: batch rows have shape [${event.join(', ')}] but the energy takes [${ev.join(', ')}]`);
    }

    // Chain starts.
    let buffer = state.buffer;
    if (mode === 'tempered') {
      if (!buffer) throw new InvalidArgumentError("contrastiveDivergence: negatives 'tempered' need the replicas in the state (use loss.initState)");
      const r = runTempered(opts.tempering!, eSample, buffer, kChain, opts.steps, state.step, reinit, src, kRe, kReSrc, xPos);
      buffer = r.replicas;
      return finish(params, model, xPos, r.x, r.divergent, buffer, sn, state);
    }
    const { x0, idx } = chainStarts(xPos, [kIdx, kRe, kReSrc], buffer);

    const { x: xNeg, divergent } = runChains(opts.sampler!, eSample, x0, kChain, opts.steps);

    return finish(params, model, xPos, xNeg, divergent, writeBack(buffer, idx, xNeg), sn, state);
  };

  // The starts of the non-tempered chains: the batch (CD-k), the persistent chains, or buffer rows with a fraction
  // restarted from the reinit source; `idx` says which buffer rows they came from.
  const chainStarts = (xPos: Tensor, [kIdx, kRe, kReSrc]: Key[], buffer: Tensor | null): { x0: Tensor; idx: Int32Array | null } => {
    const B = xPos.shape[0];
    const event = xPos.shape.slice(1);
    const m = opts.chains ?? B;
    let x0: Tensor;
    let idx: Int32Array | null = null;
    if (mode === 'data') {
      x0 = m === B ? xPos : gather(xPos, randintArray(kIdx, 0, B, m));
    } else {
      if (!buffer) throw new InvalidArgumentError(`contrastiveDivergence: negatives '${mode}' need a buffer in the state (use loss.initState)`);
      const N = buffer.shape[0];
      if (mode === 'persistent') {
        if (N !== m) throw new InvalidArgumentError(`contrastiveDivergence: persistent chains: state has ${N} chains but ${m} negatives are needed per step`);
        idx = Int32Array.from({ length: N }, (_, i) => i);
      } else idx = m <= N ? permutation(kIdx, N).subarray(0, m) : randintArray(kIdx, 0, N, m);
      x0 = gather(buffer, idx);
      if (reinit > 0) {
        const u = uniformArray(kRe, m, 'float64');
        const fresh = freshChains(kReSrc, src, m, event, x0.dtype, xPos);
        const D = x0.size / m;
        for (let i = 0; i < m; i++) if (u[i] < reinit) x0.data.set(fresh.data.subarray(i * D, (i + 1) * D), i * D);
      }
    }
    return { x0, idx };
  };

  // The chains' end points written back into the buffer rows they started from (a new tensor).
  const writeBack = (buffer: Tensor | null, idx: Int32Array | null, xNeg: Tensor): Tensor | null => {
    if (!idx || !buffer) return buffer;
    const D = buffer.size / buffer.shape[0];
    const nb = buffer.data.slice();
    for (let i = 0; i < idx.length; i++) nb.set(xNeg.data.subarray(i * D, (i + 1) * D), idx[i] * D);
    return new Tensor(nb, buffer.shape);
  };

  /**
   * The parts of one step other than the sampler and the loss, for a caller that runs the chains elsewhere (the
   * WebGPU CD steps of models/deepEbm/gpu.ts): the positives `xPos` (data noise added), the chain starts `x0`, the
   * sampler's key `kChain`, `finish(xNeg)`, the next state with the negatives written back; with
   * `negatives: 'tempered'` the replicas and the {@link CDTemperedPlan}; with spectral normalisation the normalised
   * `model` (needs `params`). The same keys and values as the loss itself.
   */
  const prepare = (batch: Tensor, k: Key, state: CDState, params?: P): CDPrepared<P> => {
    if (!(batch instanceof Tensor) || batch.ndim < 2 || batch.shape[0] < 1) throw new InvalidArgumentError(`contrastiveDivergence: batch must be a tensor [B ≥ 1, ...dim], got ${batch instanceof Tensor ? `[${batch.shape.join(', ')}]` : typeof batch}`);
    const [kNoise, kIdx, kRe, kReSrc, kChain] = split(k, 5);
    const xPos = addNoise(kNoise, batch, opts.dataNoise ?? 0);
    let sn = state.sn;
    let model: P | undefined;
    if (snIters > 0 && params !== undefined) {
      const r = noGrad(() => spectralNormalize(params, state.sn, snIters));
      model = treeUnflatten(params, treeLeaves(r.params).map((t) => detach(t))) as P;
      sn = r.sn;
    }
    const common = { xPos, kChain, snBefore: state.sn, ...(model !== undefined ? { model } : {}) };
    if (mode === 'tempered') {
      if (!state.buffer) throw new InvalidArgumentError("contrastiveDivergence: negatives 'tempered' need the replicas in the state (use loss.initState)");
      const t = opts.tempering!;
      const x0 = temperedStart(t, state.buffer, reinit, src, kRe, kReSrc, xPos);
      const tempered: CDTemperedPlan = {
        temperatures: t.temperatures.slice(), stepSizes: ptStepSizes(t.temperatures, t.stepSize), local: t.local ?? 'mala',
        chains: x0.shape[0] / t.temperatures.length, step0: state.step,
        ...(t.maxGradNorm !== undefined ? { maxGradNorm: t.maxGradNorm } : {}), ...(t.box ? { box: t.box } : {}),
      };
      return { ...common, x0, tempered, finish: (replicas) => ({ buffer: replicas, sn, step: state.step + 1 }) };
    }
    const { x0, idx } = chainStarts(xPos, [kIdx, kRe, kReSrc], state.buffer);
    return { ...common, x0, finish: (xNeg) => ({ buffer: writeBack(state.buffer, idx, xNeg), sn, step: state.step + 1 }) };
  };

  const finish = (params: P, model: P, xPos: Tensor, xNeg: Tensor, divergent: number, buffer: Tensor | null, sn: { readonly [leaf: string]: Tensor }, state: CDState): CDOutput => {
    void params;
    // The loss, traced w.r.t. the parameters.
    const E = opts.energy(model);
    const ePos = E.energy(xPos);
    const eNeg = E.energy(xNeg);
    const mPos = mean(ePos);
    const mNeg = mean(eNeg);
    let loss = add(mPos, mul(mNeg, -1));
    let regV = 0;
    if (alpha > 0) {
      const reg = mul(add(mean(square(ePos)), mean(square(eNeg))), alpha);
      regV = reg.item();
      loss = add(loss, reg);
    }
    const ep = mPos.item(), en = mNeg.item();
    return {
      loss,
      aux: { ePos: ep, eNeg: en, gap: ep - en, reg: regV, samplerDivergent: divergent, negatives: xNeg },
      state: { buffer, sn, step: state.step + 1 },
    };
  };

  const initState = (k: Key, params: P, data: Tensor): CDState => {
    if (!(data instanceof Tensor) || data.ndim < 2 || data.shape[0] < 1) throw new InvalidArgumentError('contrastiveDivergence.initState: data must be a tensor [n ≥ 1, ...dim]');
    const event = data.shape.slice(1);
    let buffer: Tensor | null = null;
    if (mode === 'tempered') {
      const C = opts.chains ?? opts.bufferSize;
      if (C === undefined) throw new InvalidArgumentError("contrastiveDivergence: negatives 'tempered' need chains (chains per temperature)");
      buffer = freshChains(k, src, C * opts.tempering!.temperatures.length, event, data.dtype, data);
    } else if (mode !== 'data') {
      const N = mode === 'persistent' ? opts.chains ?? opts.bufferSize : opts.bufferSize ?? 10_000;
      if (N === undefined) throw new InvalidArgumentError('contrastiveDivergence: persistent chains need chains (or bufferSize) equal to the number of chains per step');
      buffer = freshChains(k, src, N, event, data.dtype, data);
    }
    void params;
    return { buffer, sn: {}, step: 0 };
  };

  return Object.assign(fn, { options: opts, initState, prepare });
}

/**
 * `steps` parallel-tempering transitions of the persistent replicas `[K·C, ...dim]` under `energy`; the hottest
 * replicas are first restarted from `src` with probability `reinit`. Returns the new replicas, the `T₁` chains
 * `[C, ...dim]` and the number of flagged (rejected) non-finite proposals.
 */
function runTempered(
  t: TemperingOptions, energy: Energy, replicas: Tensor, k: Key, steps: number, step0: number, reinit: number,
  src: ReinitSource, kRe: Key, kReSrc: Key, pool: Tensor,
): { replicas: Tensor; x: Tensor; divergent: number } {
  const start = temperedStart(t, replicas, reinit, src, kRe, kReSrc, pool);
  const C = replicas.shape[0] / t.temperatures.length;
  return noGrad(() => {
    const alg = parallelTempering(energy, {
      temperatures: t.temperatures, stepSize: t.stepSize, local: t.local ?? 'mala',
      ...(t.maxGradNorm !== undefined ? { maxGradNorm: t.maxGradNorm } : {}), ...(t.box ? { box: t.box } : {}),
    });
    let s: PtState;
    try {
      s = { replicas: ulaInit(energy, start), chains: C, step: step0 };
    } catch (e) {
      if (e instanceof NonFiniteError) throw new CDDivergenceError(`contrastive divergence: cannot start the sampler (${e.message})`);
      throw e;
    }
    let divergent = 0;
    const keys = split(k, steps);
    for (let i = 0; i < steps; i++) {
      const [next, info] = reuseIfActive(() => alg.step(keys[i], s));
      s = next;
      for (const v of info.divergent) divergent += v;
    }
    return { replicas: s.replicas.position, x: alg.observe(s), divergent };
  });
}

/** The replicas a tempered step starts from: the state's, with the hottest restarted from `src` with probability `reinit`. */
function temperedStart(t: TemperingOptions, replicas: Tensor, reinit: number, src: ReinitSource, kRe: Key, kReSrc: Key, pool: Tensor): Tensor {
  const K = t.temperatures.length;
  const n = replicas.shape[0];
  if (n % K !== 0) throw new InvalidArgumentError(`contrastiveDivergence: tempered state has ${n} rows, not a multiple of ${K} temperatures`);
  const C = n / K;
  if (!(reinit > 0)) return replicas;
  const D = replicas.size / n;
  const u = uniformArray(kRe, C, 'float64');
  const fresh = freshChains(kReSrc, src, C, replicas.shape.slice(1), replicas.dtype, pool);
  const d = replicas.data.slice();
  for (let c = 0; c < C; c++) if (u[c] < reinit) d.set(fresh.data.subarray(c * D, (c + 1) * D), ((K - 1) * C + c) * D);
  return new Tensor(d, replicas.shape);
}

/**
 * The chain rule through spectral normalisation: given `g = ∂L/∂W_sn` for `W_sn = W/σ(W)` (the `model` of
 * {@link CDLoss.prepare}, normalised from `params` with the vectors `sn` and `iterations` power-iteration steps),
 * returns `∂L/∂W = g/σ − (⟨g, W⟩/σ²)·uvᵀ` for every weight leaf (`u`, `v` constants, as in {@link spectralNormalize})
 * and `g` itself for the other leaves. Shapes: those of `params`.
 * @example const gParams = spectralNormPullback(params, state.sn, 1, gModel);
 */
export function spectralNormPullback<P extends Tree>(params: P, sn: { readonly [leaf: string]: Tensor }, iterations: number, gModel: P): P {
  const gl = treeLeaves(gModel);
  const [, g] = valueAndGrad((p: P) => {
    const out = treeLeaves(spectralNormalize(p, sn, iterations).params);
    let tot: Tensor | null = null;
    out.forEach((w, i) => {
      const term = sum(mul(w, detach(gl[i])));
      tot = tot === null ? term : add(tot, term);
    });
    return tot!;
  })(params);
  return g as P;
}

/** Result of {@link cdValueAndGrad}. */
export interface CDValueAndGrad<P extends Tree> {
  /** Loss value. */
  readonly loss: number;
  /** `∇θ L`, structure of the parameters. */
  readonly grads: P;
  readonly aux: CDAux;
  readonly state: CDState;
}

/**
 * Loss value, parameter gradient, diagnostics and next state of a CD loss in one call.
 * @example const { loss, grads, state } = cdValueAndGrad(cd)(params, batch, key(1), state);
 */
export function cdValueAndGrad<P extends Tree>(loss: CDLoss<P>): (params: P, batch: Tensor, key: Key, state: CDState) => CDValueAndGrad<P> {
  return (params, batch, k, state) => {
    let out: CDOutput | undefined;
    const [lv, grads] = valueAndGradAux(params, (p) => {
      out = loss(p, batch, k, state);
      return out.loss;
    });
    return { loss: lv, grads, aux: out!.aux, state: out!.state };
  };
}

function valueAndGradAux<P extends Tree>(params: P, f: (p: P) => Tensor): [number, P] {
  const [v, g] = valueAndGrad(f)(params);
  return [v.item(), g];
}

/** True when every leaf of a tree is finite (no NaN/±∞). */
export function treeAllFinite(t: Tree): boolean {
  return treeLeaves(t).every((x) => allFinite(x));
}
