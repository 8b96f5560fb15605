/**
 * Annealed importance sampling (AIS) estimates of RBM partition functions (Neal 2001; Salakhutdinov & Murray 2008,
 * "On the quantitative analysis of deep belief networks").
 *
 * Between a start model A and the target B (Bernoulli visible units, same `nVisible`), the unnormalised
 * intermediate marginals over `v` (hidden units of both summed out) are
 *
 *   p*_β(v) = exp((1−β) b_Aᵀv + β b_Bᵀv) · Π_j (1 + e^{(1−β)(c_A + W_Aᵀv)_j}) · Π_j (1 + e^{β(c_B + W_Bᵀv)_j}),
 *
 * so `Z_{β=0} = Z_A · 2^{nh_B}` and `Z_{β=1} = Z_B · 2^{nh_A}`. For the base-rate start, A has no hidden units and
 * visible biases `b_A` (from smoothed data marginals), `log Z_A = Σ_i softplus(b_{A,i})`, and exact samples
 * `v ~ Bernoulli(σ(b_A))` start the runs. Each run accumulates, in float64,
 *
 *   log w = Σ_{k=1}^{K} [log p*_{β_k}(v_k) − log p*_{β_{k−1}}(v_k)],   v_{k+1} ~ T_{β_k}(v_k | ·)
 *
 * where `T_β` is one block Gibbs sweep of the joint at β: `h_A ~ σ((1−β)(c_A + W_Aᵀv))`, `h_B ~ σ(β(c_B + W_Bᵀv))`,
 * `v ~ σ((1−β)(b_A + W_A h_A) + β(b_B + W_B h_B))`. All runs advance together: per β, two GEMMs per model with
 * hidden units (`v W` for the weights/hidden sample, `h Wᵀ` for the visible sample). Then
 *
 *   log Ẑ_B = log Z_A + (nh_B − nh_A) log 2 + log( (1/R) Σ_r w_r ).
 *
 * Uncertainty: `logZStd` is the delta-method standard deviation of the log of the mean weight,
 * `sd(log ŵ̄) ≈ s_w / (√R · w̄)` (sample standard deviation `s_w` of the weights, computed stably after
 * subtracting the largest log-weight); `logZLow/High` are `log(w̄ ∓ 3 s_w/√R)` as in Salakhutdinov & Murray.
 * `ess = (Σw)² / Σw²` is the effective sample size of the importance weights.
 * @module
 */
import { getBackend } from '../../tensor/backend.js';
import { softplusScalar } from '../../tensor/backend.js';
import { ShapeError, Tensor, allocate, type TypedArray } from '../../tensor/tensor.js';
import { split, uniformInto, type Key, keyData } from '../../random/index.js';
import { aisEstimate, checkAisBetas, salakhutdinovBetas, type AISEstimate } from '../../eval/annealedImportance.js';
import { nHiddenOf, nVisibleOf, validateParams, type RBMParams } from './params.js';
import { InvalidArgumentError, InvalidTypeError } from '../../errors.js';

// The β schedules are generic AIS and live in src/eval; re-exported here beside the RBM estimators that use them.
export { salakhutdinovBetas, linearBetas } from '../../eval/annealedImportance.js';

/** Options of {@link aisLogZ} and {@link aisLogZRatio}. */
export interface AISOptions {
  /** Inverse temperatures, increasing from 0 to 1 (default {@link salakhutdinovBetas}`()`, 14 501 values). */
  betas?: ArrayLike<number>;
  /** Number of independent runs (default 100). */
  runs?: number;
}

/** Options of {@link aisLogZ}. */
export interface AISLogZOptions extends AISOptions {
  /** Data `[n, nVisible]` for the base-rate visible biases (see {@link baseRateBias}); without it `b_A = 0`. */
  data?: Tensor;
  /** Base-rate visible biases `b_A` given directly (overrides `data`). */
  baseBias?: ArrayLike<number>;
  /** Pseudo-count α for the base rates: `p_i = (Σ_n v_ni + α) / (n + 2α)` (default 1). */
  smoothing?: number;
}

/** Options of {@link aisLogZRatio}. */
export interface AISRatioOptions extends AISOptions {
  /** Gibbs sweeps of model A used to draw the (approximate) starting samples (default 1000). */
  burnIn?: number;
}

/** Result of an AIS run: the estimate (for {@link aisLogZRatio}, `logZ` is `log Z_B − log Z_A`) and its record. */
export interface AISResult extends AISEstimate {
  /** Log importance weights per run (float64, `[runs]`). */
  logWeights: Float64Array;
  /** `log Z_A` of the start model (0 for ratios). */
  logZBase: number;
  /** Protocol record. */
  protocol: { runs: number; betas: number; key: [number, number]; base: string; smoothing?: number };
}

/**
 * Base-rate visible biases from data: `b_i = log(p_i / (1 − p_i))`, `p_i = (Σ_n v_ni + α)/(n + 2α)`.
 * @param data `[n, nVisible]` with values in [0, 1]. @param smoothing α (default 1).
 */
export function baseRateBias(data: Tensor, smoothing = 1): Float64Array {
  if (!(data instanceof Tensor) || data.ndim !== 2) throw new ShapeError('baseRateBias: data must be a 2-d tensor [n, nVisible]');
  if (!(smoothing >= 0)) throw new InvalidArgumentError(`baseRateBias: smoothing must be ≥ 0, got ${smoothing}`);
  const [n, nv] = data.shape;
  const s = new Float64Array(nv);
  const d = data.data;
  for (let r = 0; r < n; r++) for (let i = 0; i < nv; i++) {
    const v = d[r * nv + i];
    if (!(v >= 0 && v <= 1)) throw new InvalidArgumentError(`baseRateBias: data row ${r}, column ${i} is ${v}, expected a value in [0, 1]`);
    s[i] += v;
  }
  return s.map((x) => {
    const p = (x + smoothing) / (n + 2 * smoothing);
    if (p <= 0 || p >= 1) throw new InvalidArgumentError('baseRateBias: a marginal is exactly 0 or 1; use smoothing > 0');
    return Math.log(p / (1 - p));
  });
}

/** One model inside the annealing: its parameters and per-run buffers. */
interface Side {
  W: TypedArray; b: Float64Array; c: TypedArray; nh: number;
  x32: TypedArray; x64: Float64Array; s1: Float64Array; s0: Float64Array; prob: TypedArray; u: TypedArray; h: TypedArray;
}

function makeSide(p: RBMParams | null, nv: number, R: number, dt: 'float32' | 'float64', bias: Float64Array): Side {
  const nh = p ? nHiddenOf(p) : 0;
  return {
    W: p ? p.W.data : allocate(dt, 0), b: bias, c: p ? p.c.data : allocate(dt, 0), nh,
    x32: allocate(dt, R * nh), x64: new Float64Array(R * nh), s1: new Float64Array(R * nh), s0: new Float64Array(R * nh),
    prob: allocate(dt, R * nh), u: allocate(dt, R * nh), h: allocate(dt, R * nh),
  };
}

/** x = c + v W for all runs (GEMM), kept in float64 too. */
function preact(s: Side, v: TypedArray, R: number, nv: number): void {
  if (s.nh === 0) return;
  getBackend().gemm(false, false, R, s.nh, nv, 1, v, 0, nv, s.W, 0, s.nh, 0, s.x32, 0, s.nh);
  const { x32, x64, c, nh } = s;
  for (let r = 0, q = 0; r < R; r++) for (let j = 0; j < nh; j++, q++) { const x = x32[q] + c[j]; x32[q] = x; x64[q] = x; }
}

/** Adds Σ_j softplus(t1·x) − softplus(t0·x) per run to `acc` (float64 throughout). */
function softplusDiff(s: Side, t1: number, t0: number, R: number, acc: Float64Array): void {
  if (s.nh === 0 || t1 === t0) return;
  const { x64, s1, s0, nh } = s;
  const be = getBackend();
  be.binary('mul', x64, Float64Array.of(t1), s1);
  be.binary('mul', x64, Float64Array.of(t0), s0);
  be.unary('softplus', s1, s1);
  be.unary('softplus', s0, s0);
  for (let r = 0, q = 0; r < R; r++) {
    let d = 0;
    for (let j = 0; j < nh; j++, q++) d += s1[q] - s0[q];
    acc[r] += d;
  }
}

/** h ~ σ(t·x) for all runs. */
function sampleH(s: Side, t: number, key: Key): void {
  if (s.nh === 0) return;
  const { x32, prob, u, h } = s;
  const tt = x32 instanceof Float64Array ? Float64Array.of(t) : Float32Array.of(t);
  getBackend().binary('mul', x32, tt, prob);
  uniformInto(key, u);
  getBackend().sigmoidBernoulli(prob, null, s.nh, prob, u, h);
}

/**
 * Runs the annealing chain from start samples `v` (modified) and returns the log weights.
 * The start model A is `sideA` (may have no hidden units), the target is `sideB`.
 */
function anneal(sideA: Side, sideB: Side, v: TypedArray, R: number, nv: number, betas: Float64Array, key: Key, dt: 'float32' | 'float64'): Float64Array {
  const logw = new Float64Array(R);
  const dB = new Float64Array(nv);
  for (let i = 0; i < nv; i++) dB[i] = sideB.b[i] - sideA.b[i];
  const bdot = new Float64Array(R);
  const vpre = allocate(dt, R * nv), vprob = allocate(dt, R * nv), uv = allocate(dt, R * nv), biasMix = allocate(dt, nv);
  const be = getBackend();
  const refresh = (): void => {
    preact(sideA, v, R, nv);
    preact(sideB, v, R, nv);
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let i = 0, q = r * nv; i < nv; i++, q++) s += dB[i] * v[q];
      bdot[r] = s;
    }
  };
  refresh();
  const K = betas.length - 1;
  const keys = split(key, K);
  for (let k = 1; k <= K; k++) {
    const b1 = betas[k], b0 = betas[k - 1];
    // log p*_{β_k}(v) − log p*_{β_{k−1}}(v)
    const db = b1 - b0;
    for (let r = 0; r < R; r++) logw[r] += db * bdot[r];
    softplusDiff(sideB, b1, b0, R, logw);
    softplusDiff(sideA, 1 - b1, 1 - b0, R, logw);
    if (k === K) break;
    // Transition T_{β_k}: one block Gibbs sweep of the joint at β_k.
    const [kh, kv] = split(keys[k - 1], 2);
    const [khA, khB] = split(kh, 2);
    sampleH(sideA, 1 - b1, khA);
    sampleH(sideB, b1, khB);
    // v ~ σ((1−β) b_A + β b_B + (1−β) h_A W_Aᵀ + β h_B W_Bᵀ): GEMMs into vpre, mixed bias fused into the sampler.
    for (let i = 0; i < nv; i++) biasMix[i] = (1 - b1) * sideA.b[i] + b1 * sideB.b[i];
    let beta = 0;
    if (sideA.nh > 0 && b1 < 1) { be.gemm(false, true, R, nv, sideA.nh, 1 - b1, sideA.h, 0, sideA.nh, sideA.W, 0, sideA.nh, 0, vpre, 0, nv); beta = 1; }
    if (sideB.nh > 0 && b1 > 0) { be.gemm(false, true, R, nv, sideB.nh, b1, sideB.h, 0, sideB.nh, sideB.W, 0, sideB.nh, beta, vpre, 0, nv); beta = 1; }
    if (beta === 0) vpre.fill(0);
    uniformInto(kv, uv);
    be.sigmoidBernoulli(vpre, biasMix, nv, vprob, uv, v);
    refresh();
  }
  return logw;
}

function checkBernoulli(p: RBMParams, fn: string): void {
  validateParams(p, fn);
  if (p.visible !== 'bernoulli') throw new InvalidArgumentError(`${fn}: AIS is implemented for Bernoulli-visible RBMs, got '${p.visible}'`);
}

/**
 * AIS estimate of `log Z` of a Bernoulli RBM, starting from the base-rate model (see module docs).
 * @param p the RBM. @param key randomness. @param opts schedule, runs, base rates.
 * @example
 * const r = aisLogZ(params, key(0), { data: xTrain }); // 100 runs, 14 501 βs
 * const ll = averageLogLikelihood(params, xTest, r.logZ);
 */
export function aisLogZ(p: RBMParams, key: Key, opts: AISLogZOptions = {}): AISResult {
  checkBernoulli(p, 'aisLogZ');
  const nv = nVisibleOf(p), dt = p.W.dtype;
  const R = opts.runs ?? 100;
  if (!Number.isInteger(R) || R < 1) throw new InvalidArgumentError(`aisLogZ: runs must be a positive integer, got ${R}`);
  const betas = checkAisBetas(opts.betas ?? salakhutdinovBetas());
  const smoothing = opts.smoothing ?? 1;
  let bA: Float64Array;
  let base: string;
  if (opts.baseBias) {
    if (opts.baseBias.length !== nv) throw new ShapeError(`aisLogZ: baseBias has ${opts.baseBias.length} entries, expected ${nv}`);
    bA = Float64Array.from(opts.baseBias);
    for (let i = 0; i < nv; i++) if (!Number.isFinite(bA[i])) throw new InvalidArgumentError(`aisLogZ: baseBias[${i}] is ${bA[i]}`);
    base = 'given base-rate biases';
  } else if (opts.data) {
    if (opts.data.ndim !== 2 || opts.data.shape[1] !== nv) throw new ShapeError(`aisLogZ: data has shape [${opts.data.shape.join(', ')}], expected [n, ${nv}]`);
    bA = baseRateBias(opts.data, smoothing);
    base = `base rates of ${opts.data.shape[0]} rows, smoothing ${smoothing}`;
  } else {
    bA = new Float64Array(nv);
    base = 'uniform (b_A = 0)';
  }
  let logZA = 0;
  for (let i = 0; i < nv; i++) logZA += softplusScalar(bA[i]);
  const [k0, k1] = split(key, 2);
  // Exact start samples v ~ Bernoulli(σ(b_A)).
  const v = allocate(dt, R * nv);
  const u = uniformInto(k0, allocate(dt, R * nv));
  for (let r = 0, q = 0; r < R; r++) for (let i = 0; i < nv; i++, q++) v[q] = u[q] < 1 / (1 + Math.exp(-bA[i])) ? 1 : 0;
  const sideA = makeSide(null, nv, R, dt, bA);
  const sideB = makeSide(p, nv, R, dt, Float64Array.from(p.b.data));
  const logw = anneal(sideA, sideB, v, R, nv, betas, k1, dt);
  const logBase = logZA + nHiddenOf(p) * Math.LN2;
  const proto: AISResult['protocol'] = { runs: R, betas: betas.length, key: keyData(key), base };
  if (opts.data && !opts.baseBias) proto.smoothing = smoothing;
  return { ...aisEstimate(logw, logBase), logWeights: logw, logZBase: logZA, protocol: proto };
}

/**
 * AIS estimate of `log Z_B − log Z_A` for two Bernoulli RBMs with the same visible layer, annealing through the
 * joint intermediate distributions of the module docs. Start samples of A are approximate: `burnIn` block Gibbs
 * sweeps of A from `v ~ Bernoulli(σ(b_A))` (A with fewer hidden units, or a base-rate-like A, mixes fastest).
 * @returns an {@link AISResult} whose `logZ` is the log ratio.
 */
export function aisLogZRatio(a: RBMParams, b: RBMParams, key: Key, opts: AISRatioOptions = {}): AISResult {
  checkBernoulli(a, 'aisLogZRatio');
  checkBernoulli(b, 'aisLogZRatio');
  const nv = nVisibleOf(a);
  if (nVisibleOf(b) !== nv) throw new ShapeError(`aisLogZRatio: models have ${nv} and ${nVisibleOf(b)} visible units`);
  if (a.W.dtype !== b.W.dtype) throw new InvalidTypeError(`aisLogZRatio: models have dtypes ${a.W.dtype} and ${b.W.dtype}`);
  const dt = a.W.dtype;
  const R = opts.runs ?? 100;
  if (!Number.isInteger(R) || R < 1) throw new InvalidArgumentError(`aisLogZRatio: runs must be a positive integer, got ${R}`);
  const burnIn = opts.burnIn ?? 1000;
  if (!Number.isInteger(burnIn) || burnIn < 0) throw new InvalidArgumentError(`aisLogZRatio: burnIn must be an integer ≥ 0, got ${burnIn}`);
  const betas = checkAisBetas(opts.betas ?? salakhutdinovBetas());
  const [k0, k1, k2] = split(key, 3);
  const v = allocate(dt, R * nv);
  const u = uniformInto(k0, allocate(dt, R * nv));
  const ab = a.b.data;
  for (let r = 0, q = 0; r < R; r++) for (let i = 0; i < nv; i++, q++) v[q] = u[q] < 1 / (1 + Math.exp(-ab[i])) ? 1 : 0;
  // Burn-in: block Gibbs of A alone (= the joint at β = 0 restricted to v, h_A).
  const sideA = makeSide(a, nv, R, dt, Float64Array.from(a.b.data));
  const sideB = makeSide(b, nv, R, dt, Float64Array.from(b.b.data));
  if (burnIn > 0) gibbsBurnIn(sideA, v, R, nv, burnIn, k1, dt);
  const logw = anneal(sideA, sideB, v, R, nv, betas, k2, dt);
  const logBase = (nHiddenOf(b) - nHiddenOf(a)) * Math.LN2;
  return {
    ...aisEstimate(logw, logBase), logWeights: logw, logZBase: 0,
    protocol: { runs: R, betas: betas.length, key: keyData(key), base: `RBM A (${nHiddenOf(a)} hidden), ${burnIn} burn-in sweeps` },
  };
}

/** `steps` block Gibbs sweeps of model A alone (β = 0), used as burn-in. */
function gibbsBurnIn(sideA: Side, v: TypedArray, R: number, nv: number, steps: number, key: Key, dt: 'float32' | 'float64'): void {
  const vpre = allocate(dt, R * nv), vprob = allocate(dt, R * nv), uv = allocate(dt, R * nv);
  const be = getBackend();
  const keys = split(key, steps);
  for (let t = 0; t < steps; t++) {
    const [kh, kv] = split(keys[t], 2);
    preact(sideA, v, R, nv);
    sampleH(sideA, 1, kh);
    for (let r = 0, q = 0; r < R; r++) for (let i = 0; i < nv; i++, q++) vpre[q] = sideA.b[i];
    if (sideA.nh > 0) be.gemm(false, true, R, nv, sideA.nh, 1, sideA.h, 0, sideA.nh, sideA.W, 0, sideA.nh, 1, vpre, 0, nv);
    uniformInto(kv, uv);
    be.sigmoidBernoulli(vpre, null, nv, vprob, uv, v);
  }
}
