/**
 * RBM conditionals, energies and block Gibbs sampling, written on raw typed arrays and the backend kernels
 * (`gemm`, `sigmoidBernoulli`, `unary`), plus Tensor-level wrappers.
 *
 * Conditionals (see `params.ts` for the energy):
 * - `p(h_j = 1 | v) = σ(c_j + Σ_i v̂_i W_ij)` for every family;
 * - `bernoulli`: `p(v_i = 1 | h) = σ(b_i + Σ_j W_ij h_j)`;
 * - `gaussian`:  `v_i | h ~ N(b_i + Σ_j W_ij h_j, σ_i²)`;
 * - `softmax`:   `p(v_g = k | h) = softmax_k(b_{gk} + Σ_j W_{gk,j} h_j)` within each group `g`.
 * Free energy `F(v) = −log Σ_h exp(−E(v, h)) = E_vis(v) − Σ_j softplus(c_j + (v̂W)_j)`.
 * @module
 */
import { getBackend } from '../../tensor/backend.js';
import { ShapeError, Tensor, allocate, type TypedArray } from '../../tensor/tensor.js';
import { foldIn, normalInto, uniformInto, split, type Key } from '../../random/index.js';
import { checkVisible, nHiddenOf, nVisibleOf, validateParams, type RBMParams } from './params.js';
import { InvalidArgumentError } from '../../errors.js';

/**
 * `v̂ = v / σ²` (per column) for Gaussian visible units; the input itself for the other families.
 * @param v `[rows, nv]` visible data. @param out optional destination for the Gaussian case.
 */
export function scaledVisible(p: RBMParams, v: TypedArray, rows: number, out?: TypedArray): TypedArray {
  if (p.visible !== 'gaussian') return v;
  const nv = nVisibleOf(p);
  const lv = p.logVar!.data;
  const o = out ?? allocate(p.W.dtype, rows * nv);
  const inv = new Float64Array(nv);
  for (let i = 0; i < nv; i++) inv[i] = Math.exp(-lv[i]);
  for (let r = 0, q = 0; r < rows; r++) for (let i = 0; i < nv; i++, q++) o[q] = v[q] * inv[i];
  return o;
}

/** `out = v̂ W` (`[rows, nh]`, no bias) with one GEMM. `vhat` must already be scaled (see {@link scaledVisible}). */
export function hiddenPreactivation(p: RBMParams, vhat: TypedArray, rows: number, out: TypedArray): void {
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  getBackend().gemm(false, false, rows, nh, nv, 1, vhat, 0, nv, p.W.data, 0, nh, 0, out, 0, nh);
}

/**
 * `prob = σ(c + v̂W)` and, when `u`/`sample` are given, `sample = 1[u < prob]`: one GEMM and one fused
 * sigmoid–Bernoulli kernel. `vhat` is `[rows, nv]` (already scaled for Gaussian units).
 */
export function hiddenProbsRaw(p: RBMParams, vhat: TypedArray, rows: number, prob: TypedArray, u: TypedArray | null, sample: TypedArray | null): void {
  hiddenPreactivation(p, vhat, rows, prob);
  getBackend().sigmoidBernoulli(prob, p.c.data, nHiddenOf(p), prob, u, sample);
}

/** `out = b + h Wᵀ` (`[rows, nv]`), the visible pre-activation (the Gaussian mean). */
export function visiblePreactivation(p: RBMParams, h: TypedArray, rows: number, out: TypedArray): void {
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  const b = p.b.data;
  for (let r = 0, q = 0; r < rows; r++) for (let i = 0; i < nv; i++, q++) out[q] = b[i];
  getBackend().gemm(false, true, rows, nv, nh, 1, h, 0, nh, p.W.data, 0, nh, 1, out, 0, nv);
}

/** In-place softmax over each group of `K` consecutive entries of `x` (length a multiple of `K`). */
export function groupSoftmaxInPlace(x: TypedArray, K: number): void {
  for (let g = 0; g < x.length; g += K) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) if (x[g + k] > m) m = x[g + k];
    let s = 0;
    for (let k = 0; k < K; k++) { const e = Math.exp(x[g + k] - m); x[g + k] = e; s += e; }
    const inv = 1 / s;
    for (let k = 0; k < K; k++) x[g + k] *= inv;
  }
}

/** `mean = E[v | h]` (`[rows, nv]`): sigmoid, identity or group softmax of the visible pre-activation. */
export function visibleMeanRaw(p: RBMParams, h: TypedArray, rows: number, mean: TypedArray): void {
  if (p.visible === 'bernoulli') {
    const nv = nVisibleOf(p), nh = nHiddenOf(p);
    getBackend().gemm(false, true, rows, nv, nh, 1, h, 0, nh, p.W.data, 0, nh, 0, mean, 0, nv);
    getBackend().sigmoidBernoulli(mean, p.b.data, nv, mean, null, null);
    return;
  }
  visiblePreactivation(p, h, rows, mean);
  if (p.visible === 'softmax') groupSoftmaxInPlace(mean, p.categories);
}

/**
 * Draws `v ~ p(v | h)` into `sample` and writes `E[v | h]` into `mean` (both `[rows, nv]`). Randomness: uniforms
 * (Bernoulli: one per unit; softmax: one per group, inverse-CDF) or standard normals (Gaussian) from `key`.
 * `scratch`, when given, is reused for the random numbers (length ≥ rows·nv).
 */
export function visibleSampleRaw(p: RBMParams, h: TypedArray, rows: number, key: Key, mean: TypedArray, sample: TypedArray, scratch?: TypedArray): void {
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  const be = getBackend();
  if (p.visible === 'bernoulli') {
    const u = scratch && scratch.length >= rows * nv ? scratch.subarray(0, rows * nv) : allocate(p.W.dtype, rows * nv);
    uniformInto(key, u);
    be.gemm(false, true, rows, nv, nh, 1, h, 0, nh, p.W.data, 0, nh, 0, mean, 0, nv);
    be.sigmoidBernoulli(mean, p.b.data, nv, mean, u, sample);
    return;
  }
  visiblePreactivation(p, h, rows, mean);
  if (p.visible === 'gaussian') {
    const z = scratch && scratch.length >= rows * nv ? scratch.subarray(0, rows * nv) : allocate(p.W.dtype, rows * nv);
    normalInto(key, z);
    const lv = p.logVar!.data;
    const sd = new Float64Array(nv);
    for (let i = 0; i < nv; i++) sd[i] = Math.exp(0.5 * lv[i]);
    for (let r = 0, q = 0; r < rows; r++) for (let i = 0; i < nv; i++, q++) sample[q] = mean[q] + sd[i] * z[q];
    return;
  }
  const K = p.categories;
  groupSoftmaxInPlace(mean, K);
  const groups = (rows * nv) / K;
  const u = allocate(p.W.dtype, groups);
  uniformInto(key, u);
  for (let g = 0; g < groups; g++) {
    const o = g * K;
    let acc = 0, chosen = K - 1;
    for (let k = 0; k < K; k++) {
      acc += mean[o + k];
      if (u[g] < acc) { chosen = k; break; }
    }
    for (let k = 0; k < K; k++) sample[o + k] = k === chosen ? 1 : 0;
  }
}

/**
 * Free energy per row, in float64: `F(v) = E_vis(v) − Σ_j softplus(c_j + (v̂W)_j)`.
 * @param v `[rows, nv]` in the params' dtype.
 */
export function freeEnergyRaw(p: RBMParams, v: TypedArray, rows: number): Float64Array {
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  const vhat = scaledVisible(p, v, rows);
  const pre = allocate(p.W.dtype, rows * nh);
  hiddenPreactivation(p, vhat, rows, pre);
  const c = p.c.data;
  for (let r = 0, q = 0; r < rows; r++) for (let j = 0; j < nh; j++, q++) pre[q] += c[j];
  getBackend().unary('softplus', pre, pre);
  const out = new Float64Array(rows);
  const b = p.b.data;
  const inv = p.visible === 'gaussian' ? p.logVar!.data.map((z) => Math.exp(-z)) : null;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0, q = r * nh; j < nh; j++, q++) s += pre[q];
    let e = 0;
    if (inv) {
      for (let i = 0, q = r * nv; i < nv; i++, q++) { const d = v[q] - b[i]; e += 0.5 * d * d * inv[i]; }
    } else {
      for (let i = 0, q = r * nv; i < nv; i++, q++) e -= b[i] * v[q];
    }
    out[r] = e - s;
  }
  return out;
}

function checkHidden(p: RBMParams, h: Tensor, fn: string): TypedArray {
  const nh = nHiddenOf(p);
  if (!(h instanceof Tensor) || h.ndim !== 2 || h.shape[1] !== nh) throw new ShapeError(`${fn}: hidden states must have shape [n, ${nh}], got [${h?.shape?.join(', ')}]`);
  const d = h.data;
  for (let i = 0; i < d.length; i++) {
    if (!(d[i] >= 0 && d[i] <= 1)) throw new InvalidArgumentError(`${fn}: hidden row ${Math.floor(i / nh)}, column ${i % nh} is ${d[i]}, expected a value in [0, 1]`);
  }
  if (h.dtype === p.W.dtype) return d;
  const o = allocate(p.W.dtype, d.length);
  o.set(d);
  return o;
}

/**
 * Free energy of each row of `v`: `F(v) = E_vis(v) − Σ_j softplus(c_j + (v̂W)_j)` (stable softplus).
 * @param v `[n, nVisible]`. @returns float64 tensor `[n]`.
 * @example freeEnergy(params, x).data // one value per example; p(v) = exp(−F(v)) / Z
 */
export function freeEnergy(p: RBMParams, v: Tensor): Tensor {
  validateParams(p, 'freeEnergy');
  const [d, n] = checkVisible(p, v, 'freeEnergy');
  return new Tensor(freeEnergyRaw(p, d, n), [n]);
}

/**
 * Joint energy `E(v, h) = E_vis(v) − cᵀh − v̂ᵀWh` per row.
 * @param v `[n, nVisible]`. @param h `[n, nHidden]`. @returns float64 tensor `[n]`.
 */
export function energy(p: RBMParams, v: Tensor, h: Tensor): Tensor {
  validateParams(p, 'energy');
  const [vd, n] = checkVisible(p, v, 'energy');
  const hd = checkHidden(p, h, 'energy');
  if (h.shape[0] !== n) throw new ShapeError(`energy: v has ${n} rows but h has ${h.shape[0]}`);
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  const vhat = scaledVisible(p, vd, n);
  const pre = allocate(p.W.dtype, n * nh);
  hiddenPreactivation(p, vhat, n, pre);
  const out = new Float64Array(n);
  const b = p.b.data, c = p.c.data;
  const lv = p.logVar?.data;
  for (let r = 0; r < n; r++) {
    let e = 0;
    for (let j = 0, q = r * nh; j < nh; j++, q++) e -= hd[q] * (c[j] + pre[q]);
    for (let i = 0, q = r * nv; i < nv; i++, q++) {
      if (lv) { const d = vd[q] - b[i]; e += (0.5 * d * d) / Math.exp(lv[i]); } else e -= b[i] * vd[q];
    }
    out[r] = e;
  }
  return new Tensor(out, [n]);
}

/**
 * `P(h_j = 1 | v) = σ(c_j + Σ_i v̂_i W_ij)` for each row.
 * @param v `[n, nVisible]`. @returns `[n, nHidden]` in the params' dtype.
 */
export function hiddenProbabilities(p: RBMParams, v: Tensor): Tensor {
  validateParams(p, 'hiddenProbabilities');
  const [d, n] = checkVisible(p, v, 'hiddenProbabilities');
  const out = allocate(p.W.dtype, n * nHiddenOf(p));
  hiddenProbsRaw(p, scaledVisible(p, d, n), n, out, null, null);
  return new Tensor(out, [n, nHiddenOf(p)]);
}

/**
 * `E[v | h]`: `σ(b + Wh)` (Bernoulli), `b + Wh` (Gaussian) or the group softmax of `b + Wh` (softmax).
 * @param h `[n, nHidden]` with values in [0, 1] (probabilities allowed). @returns `[n, nVisible]`.
 */
export function visibleMean(p: RBMParams, h: Tensor): Tensor {
  validateParams(p, 'visibleMean');
  const hd = checkHidden(p, h, 'visibleMean');
  const n = h.shape[0];
  const out = allocate(p.W.dtype, n * nVisibleOf(p));
  visibleMeanRaw(p, hd, n, out);
  return new Tensor(out, [n, nVisibleOf(p)]);
}

/**
 * Samples `h ~ p(h | v)`. @param v `[n, nVisible]`. @returns `{ prob, sample }`, both `[n, nHidden]`.
 */
export function sampleHidden(p: RBMParams, v: Tensor, key: Key): { prob: Tensor; sample: Tensor } {
  validateParams(p, 'sampleHidden');
  const [d, n] = checkVisible(p, v, 'sampleHidden');
  const nh = nHiddenOf(p);
  const prob = allocate(p.W.dtype, n * nh), sample = allocate(p.W.dtype, n * nh);
  const u = uniformInto(key, allocate(p.W.dtype, n * nh));
  hiddenProbsRaw(p, scaledVisible(p, d, n), n, prob, u, sample);
  return { prob: new Tensor(prob, [n, nh]), sample: new Tensor(sample, [n, nh]) };
}

/** Samples `v ~ p(v | h)`. @param h `[n, nHidden]`. @returns `{ mean, sample }`, both `[n, nVisible]`. */
export function sampleVisible(p: RBMParams, h: Tensor, key: Key): { mean: Tensor; sample: Tensor } {
  validateParams(p, 'sampleVisible');
  const hd = checkHidden(p, h, 'sampleVisible');
  const n = h.shape[0], nv = nVisibleOf(p);
  const mean = allocate(p.W.dtype, n * nv), sample = allocate(p.W.dtype, n * nv);
  visibleSampleRaw(p, hd, n, key, mean, sample);
  return { mean: new Tensor(mean, [n, nv]), sample: new Tensor(sample, [n, nv]) };
}

/** Reusable buffers for {@link gibbsRaw}. */
export interface GibbsBuffers {
  vhat: TypedArray; hProb: TypedArray; h: TypedArray; u: TypedArray; vMean: TypedArray; vScratch: TypedArray;
}

/** Allocates {@link GibbsBuffers} for `rows` chains. */
export function gibbsBuffers(p: RBMParams, rows: number): GibbsBuffers {
  const nv = nVisibleOf(p), nh = nHiddenOf(p), dt = p.W.dtype;
  return {
    vhat: allocate(dt, p.visible === 'gaussian' ? rows * nv : 0), hProb: allocate(dt, rows * nh), h: allocate(dt, rows * nh),
    u: allocate(dt, rows * nh), vMean: allocate(dt, rows * nv), vScratch: allocate(dt, rows * nv),
  };
}

/**
 * Runs `steps` block-Gibbs sweeps `v → h ~ p(h|v) → v ~ p(v|h)` in place on `v` (`[rows, nv]`); sweep `t` draws its
 * hidden uniforms from `split(key, 2·steps)[2t]` and its visible randomness from `[2t+1]`. Leaves the last hidden
 * sample, its probabilities and the last `E[v|h]` in `buf`.
 */
export function gibbsRaw(p: RBMParams, v: TypedArray, rows: number, key: Key, steps: number, buf: GibbsBuffers = gibbsBuffers(p, rows)): void {
  const keys = split(key, 2 * steps);
  for (let t = 0; t < steps; t++) {
    uniformInto(keys[2 * t], buf.u);
    const vhat = p.visible === 'gaussian' ? scaledVisible(p, v, rows, buf.vhat) : v;
    hiddenProbsRaw(p, vhat, rows, buf.hProb, buf.u, buf.h);
    visibleSampleRaw(p, buf.h, rows, keys[2 * t + 1], buf.vMean, v, buf.vScratch);
  }
}

/**
 * Block Gibbs sampling: starting from `v0`, runs `steps` sweeps `h ~ p(h|v)`, `v ~ p(v|h)`.
 * @param v0 `[n, nVisible]` initial states. @param steps number of sweeps (≥ 0).
 * @returns `{ v, vMean, h }`: final visible samples, `E[v|h]` of the last sweep and the last hidden sample.
 * @example const { v } = gibbsSample(params, x, key(1), 1000);
 */
export function gibbsSample(p: RBMParams, v0: Tensor, key: Key, steps: number): { v: Tensor; vMean: Tensor; h: Tensor } {
  validateParams(p, 'gibbsSample');
  if (!Number.isInteger(steps) || steps < 0) throw new InvalidArgumentError(`gibbsSample: steps must be an integer ≥ 0, got ${steps}`);
  const [d, n] = checkVisible(p, v0, 'gibbsSample');
  const v = d.slice();
  const buf = gibbsBuffers(p, n);
  gibbsRaw(p, v, n, key, steps, buf);
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  return { v: new Tensor(v, [n, nv]), vMean: new Tensor(steps ? buf.vMean : v.slice(), [n, nv]), h: new Tensor(buf.h, [n, nh]) };
}

/**
 * Start states of `n` sampling chains from key `k0`, as the rbm kind's samplers draw them: Bernoulli(½) bits, uniform
 * one-hot groups, or `N(b, σ²)` for Gaussian units. `[n·nVisible]` in the parameters' dtype.
 * @example const v0 = rbmChainStart(params, k0, 100);
 */
export function rbmChainStart(p: RBMParams, k0: Key, n: number): TypedArray {
  const nv = nVisibleOf(p);
  const v = allocate(p.W.dtype, n * nv);
  if (p.visible === 'gaussian') {
    normalInto(k0, v);
    const b = p.b.data, lv = p.logVar!.data;
    for (let q = 0; q < v.length; q++) v[q] = b[q % nv] + Math.exp(0.5 * lv[q % nv]) * v[q];
  } else {
    const u = uniformInto(k0, allocate(p.W.dtype, n * nv));
    if (p.visible === 'bernoulli') for (let q = 0; q < v.length; q++) v[q] = u[q] < 0.5 ? 1 : 0;
    else {
      const K = p.categories;
      for (let g = 0; g < v.length; g += K) v[g + Math.min(K - 1, Math.floor(u[g] * K))] = 1;
    }
  }
  return v;
}

/** Sweeps per key chunk of the rbm kind's samplers. */
const GIBBS_CHUNK = 100;

/**
 * The key chunks of the rbm kind's samplers: `steps` sweeps in chunks of at most 100, chunk `c` keyed
 * `foldIn(k1, c)` (passed to `gibbsRaw` or its GPU twin), with the sweeps done after it.
 * @example for (const { key, sweeps } of rbmGibbsChunks(k1, 250)) gibbsRaw(p, v, n, key, sweeps);
 */
export function* rbmGibbsChunks(k1: Key, steps: number): Generator<{ key: Key; sweeps: number; done: number }> {
  for (let done = 0, c = 0; done < steps; c++) {
    const sweeps = Math.min(GIBBS_CHUNK, steps - done);
    done += sweeps;
    yield { key: foldIn(k1, c), sweeps, done };
  }
}
