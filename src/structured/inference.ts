/**
 * Inference in discrete pairwise energies ({@link DiscreteMRF}):
 * - {@link icm}: iterated conditional modes, coordinate descent `x_i ← argmin_k E(x with x_i = k)` (Besag 1986);
 *   monotone in `E`, stops at a local minimum.
 * - {@link gibbsAnneal}: single-site Gibbs sampling from `p_T(x) ∝ exp(−E(x)/T)` with a temperature schedule
 *   (simulated annealing, Geman & Geman 1984); a constant `T` gives a plain Gibbs sampler.
 * - {@link meanField}: naive mean field, `q(x) = Π_i q_i(x_i)` minimising the variational free energy
 *   `F(q) = E_q[E(x)] − T·H(q)` by sequential coordinate updates `q_i(k) ∝ exp(−E_q[E | x_i = k]/T)` (each update
 *   lowers `F`).
 * @module
 */
import { foldIn, uniformArray, type Key } from '../random/index.js';
import { checkConfig, energyRaw, localEnergies, localMeanEnergies, type DiscreteMRF } from './mrf.js';
import { InvalidArgumentError } from '../errors.js';

/** A configuration found by inference. */
export interface InferenceResult {
  /** States `[n]`. */
  x: Int32Array;
  /** `E(x)`. */
  energy: number;
}

/** Options of {@link icm}. */
export interface ICMOptions {
  /** Initial configuration (default: the unary argmin of each variable). */
  init?: ArrayLike<number>;
  /** Maximum number of sweeps (default 100). */
  maxSweeps?: number;
}

/** Per-variable argmin of the unary terms (first minimum). */
export function unaryArgmin(m: DiscreteMRF): Int32Array {
  const x = new Int32Array(m.n);
  for (let i = 0; i < m.n; i++) {
    let best = 0;
    for (let k = 1; k < m.K; k++) if (m.unary[i * m.K + k] < m.unary[i * m.K + best]) best = k;
    x[i] = best;
  }
  return x;
}

/**
 * Iterated conditional modes: sweeps over the variables in index order, setting each to the state of lowest local
 * energy (keeping the current state on ties), until a sweep changes nothing (`converged`) or `maxSweeps`.
 * @returns the local minimum `x`, `E(x)`, and the number of sweeps.
 * @example const { x, energy } = icm(model, { init: noisyLabels });
 */
export function icm(m: DiscreteMRF, opts: ICMOptions = {}): InferenceResult & { sweeps: number; converged: boolean } {
  const x = opts.init ? checkConfig(m, opts.init, 'icm') : unaryArgmin(m);
  const maxSweeps = opts.maxSweeps ?? 100;
  if (!Number.isInteger(maxSweeps) || maxSweeps < 1) throw new InvalidArgumentError(`icm: maxSweeps must be a positive integer, got ${maxSweeps}`);
  const le = new Float64Array(m.K);
  let sweeps = 0, converged = false;
  while (sweeps < maxSweeps) {
    sweeps++;
    let changed = 0;
    for (let i = 0; i < m.n; i++) {
      localEnergies(m, x, i, le);
      let best = x[i];
      for (let k = 0; k < m.K; k++) if (le[k] < le[best]) best = k;
      if (best !== x[i]) { x[i] = best; changed++; }
    }
    if (changed === 0) { converged = true; break; }
  }
  return { x, energy: energyRaw(m, x), sweeps, converged };
}

/** Options of {@link gibbsAnneal}. */
export interface GibbsAnnealOptions {
  /** Number of sweeps (each updates every variable once, in index order). Default 1000. */
  sweeps?: number;
  /** Temperature at the first sweep (default 2). */
  tStart?: number;
  /** Temperature at the last sweep (default 0.05). Equal to `tStart` for a fixed-temperature Gibbs sampler. */
  tEnd?: number;
  /** `geometric` (default): `T_t = tStart·(tEnd/tStart)^(t/(S−1))`; `linear`: straight line. */
  schedule?: 'geometric' | 'linear';
  /** Initial configuration (default: uniform over the allowed states of each variable, drawn from the key). */
  init?: ArrayLike<number>;
  /** Stop as soon as the energy is ≤ this value (e.g. 0 for a constraint problem). */
  stopAtEnergy?: number;
  /** Variables to leave untouched (e.g. observed or clamped). */
  frozen?: ArrayLike<boolean | number>;
}

/** Result of {@link gibbsAnneal}. */
export interface GibbsAnnealResult extends InferenceResult {
  /** Lowest-energy configuration visited and its energy. */
  best: Int32Array;
  bestEnergy: number;
  /** Sweeps actually run. */
  sweeps: number;
}

/** Temperature of sweep `t` of `S`. */
export function annealTemperature(t: number, S: number, tStart: number, tEnd: number, schedule: 'geometric' | 'linear' = 'geometric'): number {
  if (S <= 1) return tEnd;
  const f = t / (S - 1);
  return schedule === 'linear' ? tStart + (tEnd - tStart) * f : tStart * Math.pow(tEnd / tStart, f);
}

/**
 * Single-site Gibbs sampling with simulated annealing: at sweep `t` each variable in turn is redrawn from
 * `p(x_i = k | x_rest) ∝ exp(−(local energy k)/T_t)`, by inverse CDF on one uniform from
 * `uniformArray(foldIn(key, t), n)`. Forbidden (`+Infinity`) states get probability 0. Tracks the best state seen
 * (the energy is updated incrementally and recomputed exactly at the end).
 * @example const r = gibbsAnneal(model, key(0), { sweeps: 2000, tStart: 2, tEnd: 0.05, stopAtEnergy: 0 });
 */
export function gibbsAnneal(m: DiscreteMRF, k: Key, opts: GibbsAnnealOptions = {}): GibbsAnnealResult {
  const fn = 'gibbsAnneal';
  const S = opts.sweeps ?? 1000, t0 = opts.tStart ?? 2, t1 = opts.tEnd ?? 0.05;
  if (!Number.isInteger(S) || S < 1) throw new InvalidArgumentError(`${fn}: sweeps must be a positive integer, got ${S}`);
  if (!(t0 > 0) || !(t1 > 0) || !Number.isFinite(t0) || !Number.isFinite(t1)) throw new InvalidArgumentError(`${fn}: temperatures must be finite and > 0, got tStart=${t0}, tEnd=${t1}`);
  const K = m.K, n = m.n;
  let x: Int32Array;
  if (opts.init) x = checkConfig(m, opts.init, fn);
  else {
    x = new Int32Array(n);
    const u = uniformArray(foldIn(k, 0x1a17), n, 'float64');
    for (let i = 0; i < n; i++) {
      let allowed = 0;
      for (let s = 0; s < K; s++) if (m.unary[i * K + s] !== Infinity) allowed++;
      let pick = Math.min(allowed - 1, Math.floor(u[i] * allowed));
      x[i] = 0;
      for (let s = 0; s < K; s++) if (m.unary[i * K + s] !== Infinity && pick-- === 0) { x[i] = s; break; }
    }
  }
  let frozen: Uint8Array | null = null;
  if (opts.frozen) {
    if (opts.frozen.length !== n) throw new InvalidArgumentError(`${fn}: frozen has ${opts.frozen.length} entries, expected ${n}`);
    frozen = new Uint8Array(n);
    for (let i = 0; i < n; i++) frozen[i] = opts.frozen[i] ? 1 : 0;
  }
  const le = new Float64Array(K), p = new Float64Array(K);
  let e = energyRaw(m, x);
  const best = x.slice();
  let bestE = e, sweeps = 0;
  const stop = opts.stopAtEnergy;
  if (stop !== undefined && e <= stop) return { x, energy: e, best, bestEnergy: e, sweeps: 0 };
  for (let t = 0; t < S; t++) {
    const T = annealTemperature(t, S, t0, t1, opts.schedule);
    const u = uniformArray(foldIn(k, t), n, 'float64');
    sweeps++;
    for (let i = 0; i < n; i++) {
      if (frozen && frozen[i]) continue;
      localEnergies(m, x, i, le);
      let mn = Infinity;
      for (let s = 0; s < K; s++) if (le[s] < mn) mn = le[s];
      if (mn === Infinity) continue;
      let z = 0;
      for (let s = 0; s < K; s++) { p[s] = le[s] === Infinity ? 0 : Math.exp(-(le[s] - mn) / T); z += p[s]; }
      let acc = 0, chosen = x[i];
      const target = u[i] * z;
      for (let s = 0; s < K; s++) { acc += p[s]; if (p[s] > 0 && target < acc) { chosen = s; break; } }
      if (chosen !== x[i]) { e += le[chosen] - le[x[i]]; x[i] = chosen; }
    }
    if (e < bestE) { bestE = e; best.set(x); }
    if (stop !== undefined && bestE <= stop) break;
  }
  // exact recomputation (no drift from incremental updates)
  e = energyRaw(m, x);
  bestE = energyRaw(m, best);
  return { x, energy: e, best, bestEnergy: bestE, sweeps };
}

/** Options of {@link meanField}. */
export interface MeanFieldOptions {
  /** Temperature `T > 0` (default 1). */
  temperature?: number;
  /** Maximum sweeps (default 100). */
  maxIters?: number;
  /** Stop when no marginal moves by more than this in a sweep (default 1e-6). */
  tol?: number;
  /** Initial marginals `[n·K]` (default: `q_i ∝ exp(−θ_i/T)`). */
  init?: ArrayLike<number>;
}

/** Result of {@link meanField}. */
export interface MeanFieldResult extends InferenceResult {
  /** Marginals `q_i(k)` at `[i·K + k]`. */
  q: Float64Array;
  /** Variational free energy `F(q) = E_q[E] − T·H(q)` (an upper bound on `−T log Z`). */
  freeEnergy: number;
  iters: number;
  converged: boolean;
}

function normaliseInto(le: Float64Array, T: number, q: Float64Array, o: number): number {
  const K = le.length;
  let mn = Infinity;
  for (let s = 0; s < K; s++) if (le[s] < mn) mn = le[s];
  if (mn === Infinity) throw new InvalidArgumentError(`meanField: variable ${o / K} has every state forbidden`);
  let z = 0;
  const tmp = new Float64Array(K);
  for (let s = 0; s < K; s++) { tmp[s] = le[s] === Infinity ? 0 : Math.exp(-(le[s] - mn) / T); z += tmp[s]; }
  let delta = 0;
  for (let s = 0; s < K; s++) { const v = tmp[s] / z; delta = Math.max(delta, Math.abs(v - q[o + s])); q[o + s] = v; }
  return delta;
}

/** `F(q) = Σ_i Σ_k q_ik θ_i(k) + Σ_e Σ_ab q_ia q_jb θ_e(a,b) + T Σ_i Σ_k q_ik log q_ik` (0·∞ = 0). */
export function meanFieldFreeEnergy(m: DiscreteMRF, q: Float64Array, T: number): number {
  const K = m.K;
  let f = 0;
  for (let q0 = 0; q0 < m.n * K; q0++) if (q[q0] > 0) f += q[q0] * (m.unary[q0] + T * Math.log(q[q0]));
  for (let e = 0; e < m.edgeI.length; e++) {
    const oi = m.edgeI[e] * K, oj = m.edgeJ[e] * K, oe = e * K * K;
    for (let a = 0; a < K; a++) {
      const qa = q[oi + a];
      if (qa === 0) continue;
      for (let b = 0; b < K; b++) f += qa * q[oj + b] * m.pair[oe + a * K + b];
    }
  }
  return f;
}

/**
 * Naive mean-field inference with sequential (Gauss–Seidel) updates, which decrease `F(q)` monotonically; the MAP
 * guess `x_i = argmax_k q_i(k)` is returned with its energy.
 * @example const { q, x } = meanField(model, { temperature: 1, maxIters: 50 });
 */
export function meanField(m: DiscreteMRF, opts: MeanFieldOptions = {}): MeanFieldResult {
  const T = opts.temperature ?? 1, maxIters = opts.maxIters ?? 100, tol = opts.tol ?? 1e-6;
  if (!(T > 0) || !Number.isFinite(T)) throw new InvalidArgumentError(`meanField: temperature must be finite and > 0, got ${T}`);
  if (!Number.isInteger(maxIters) || maxIters < 1) throw new InvalidArgumentError(`meanField: maxIters must be a positive integer, got ${maxIters}`);
  const K = m.K, n = m.n;
  const q = new Float64Array(n * K);
  const le = new Float64Array(K);
  if (opts.init) {
    if (opts.init.length !== n * K) throw new InvalidArgumentError(`meanField: init has ${opts.init.length} entries, expected ${n * K}`);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const v = opts.init[i * K + k];
        if (!(v >= 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`meanField: init[${i * K + k}] is ${v}, expected a probability`);
        s += v;
      }
      if (!(Math.abs(s - 1) < 1e-6)) throw new InvalidArgumentError(`meanField: init for variable ${i} sums to ${s}, not 1`);
      for (let k = 0; k < K; k++) q[i * K + k] = opts.init[i * K + k];
    }
  } else {
    for (let i = 0; i < n; i++) { for (let k = 0; k < K; k++) le[k] = m.unary[i * K + k]; normaliseInto(le, T, q, i * K); }
  }
  let iters = 0, converged = false;
  while (iters < maxIters) {
    iters++;
    let delta = 0;
    for (let i = 0; i < n; i++) { localMeanEnergies(m, q, i, le); delta = Math.max(delta, normaliseInto(le, T, q, i * K)); }
    if (delta < tol) { converged = true; break; }
  }
  const x = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let k = 1; k < K; k++) if (q[i * K + k] > q[i * K + b]) b = k;
    x[i] = b;
  }
  return { q, x, energy: energyRaw(m, x), freeEnergy: meanFieldFreeEnergy(m, q, T), iters, converged };
}
