/**
 * Contrastive divergence (CD-k) and persistent contrastive divergence (PCD, Tieleman 2008) as a pure-data step
 * function, so that a training loop can checkpoint everything: parameters, momentum buffers, persistent chains,
 * sparsity statistics and the step counter are plain tensors and numbers.
 *
 * The log-likelihood gradient of an RBM is `∂ log p(v)/∂θ = ⟨−∂E/∂θ⟩_data − ⟨−∂E/∂θ⟩_model`. CD-k estimates the model
 * term with `k` Gibbs sweeps started at the data, PCD with `k` sweeps of chains kept across updates. With `B` data
 * rows and `M` negative rows:
 *
 *   ΔW = lr · (v̂₀ᵀ p(h|v₀) / B − v̂ₖᵀ p(h|vₖ) / M) − lr·(λ₂ W + λ₁ sign W)
 *   Δb = lr · (mean v̂₀ − mean v̂ₖ)        (Gaussian: v̂ = (v − b)/σ² for the bias gradient)
 *   Δc = lr · (mean p(h|v₀) − mean p(h|vₖ)) − lr·cost·(q − target)      (sparsity, Hinton's guide §11)
 *
 * with classical momentum `u ← μ u + Δ`, `θ ← θ + u`. The weight update is two GEMMs into the momentum buffer (or
 * straight into `W` without momentum): `U ← μU + (lr/B) v̂₀ᵀ P₀`, then `U ← U − (lr/M) v̂ₖᵀ Pₖ`.
 * For Gaussian units with a learned σ the log-variances `z = log σ²` follow
 * `−∂E/∂z_i = e^{−z_i} ((v_i − b_i)²/2 − v_i (W h)_i)` and are clamped to `[2 log σ_min, 2 log σ_max]`.
 * @module
 */
import { getBackend } from '../../tensor/backend.js';
import { ShapeError, Tensor, allocate, type TypedArray } from '../../tensor/tensor.js';
import { split, uniformInto, type Key } from '../../random/index.js';
import { hiddenProbsRaw, scaledVisible, visibleSampleRaw } from './core.js';
import { checkVisible, cloneParams, nHiddenOf, nVisibleOf, validateParams, type RBMParams } from './params.js';
import { InvalidArgumentError } from '../../errors.js';

/** Options of one CD/PCD update. */
export interface RbmCdOptions {
  /** Learning rate for this step (apply schedules in the caller, see {@link learningRateAt}). */
  lr: number;
  /** Gibbs sweeps in the negative phase (default 1). */
  k?: number;
  /** `true` for PCD (persistent chains in `state.chains`), `false` for CD-k (default). */
  persistent?: boolean;
  /** Momentum coefficient μ ∈ [0, 1) (default 0). */
  momentum?: number;
  /** L2 weight decay λ₂ on W (default 0). */
  weightDecay?: number;
  /** L1 penalty λ₁ on W (default 0). */
  l1?: number;
  /** Target mean hidden activation for the sparsity penalty (off unless given). */
  sparsityTarget?: number;
  /** Weight of the sparsity penalty (default 0.1 when a target is given). */
  sparsityCost?: number;
  /** Decay of the running mean hidden activation q (default 0.9). */
  sparsityDecay?: number;
  /** Gaussian RBMs: learn σ (default false, σ fixed). */
  learnSigma?: boolean;
  /** Lower bound on σ when learned (default 1e-2). */
  sigmaMin?: number;
  /** Upper bound on σ when learned (default 1e2). */
  sigmaMax?: number;
  /** Learning-rate multiplier for log σ² (default 0.1; σ learning is the least stable part). */
  sigmaLrScale?: number;
  /** Update `params`/`state` in place instead of copying them first (default false). */
  inPlace?: boolean;
  /** Compute the reconstruction error metric for PCD too (one extra GEMM; default false; CD gets it free). */
  reconstruction?: boolean;
}

/** Momentum buffers, one per parameter (same shapes). */
export interface Velocity {
  W: Tensor;
  b: Tensor;
  c: Tensor;
  logVar: Tensor | null;
}

/** Training state carried between steps; plain data (checkpointable). */
export interface RbmCdState {
  /** Number of updates done. */
  step: number;
  /** Momentum buffers, created on the first step with momentum > 0. */
  velocity: Velocity | null;
  /**
   * PCD chains: the visible states `v` (`[M, nVisible]`) and their last hidden sample `h` (`[M, nHidden]`), from which
   * the next sweep starts. `null` until the first PCD step, which starts them at the first batch.
   */
  chains: { v: Tensor; h: Tensor } | null;
  /** Running mean hidden activation `q` for the sparsity penalty (`[nHidden]`), or `null`. */
  hiddenMean: Tensor | null;
}

/** Diagnostics of one step. */
export interface CDMetrics {
  /** Step number after this update. */
  step: number;
  /** Mean squared difference between the batch and `E[v|h₀]` (h₀ sampled from the data); NaN-free; absent for PCD without `reconstruction`. */
  reconstructionError?: number;
  /** Learning rate used. */
  lr: number;
  /** Gibbs sweeps used. */
  k: number;
  /** Mean `p(h|v)` over the batch (hidden activity). */
  meanHidden: number;
}

/** A fresh training state. */
export function initRbmCdState(): RbmCdState {
  return { step: 0, velocity: null, chains: null, hiddenMean: null };
}

function cloneState(s: RbmCdState): RbmCdState {
  const cp = (t: Tensor): Tensor => new Tensor(t.data.slice(), t.shape);
  return {
    step: s.step,
    velocity: s.velocity ? { W: cp(s.velocity.W), b: cp(s.velocity.b), c: cp(s.velocity.c), logVar: s.velocity.logVar ? cp(s.velocity.logVar) : null } : null,
    chains: s.chains ? { v: cp(s.chains.v), h: cp(s.chains.h) } : null,
    hiddenMean: s.hiddenMean ? cp(s.hiddenMean) : null,
  };
}

/** Scratch buffers reused across steps of the same geometry (single-threaded, never returned to callers). */
interface Workspace { key: string; ph0: TypedArray; h0: TypedArray; u0: TypedArray; vMean: TypedArray; scratch: TypedArray; phK: TypedArray; uh: TypedArray; vNeg: TypedArray; vhatK: TypedArray }
let ws: Workspace | null = null;
function workspace(dt: 'float32' | 'float64', B: number, M: number, nv: number, nh: number, gauss: boolean): Workspace {
  const k = `${dt}:${B}:${M}:${nv}:${nh}:${gauss}`;
  if (ws && ws.key === k) return ws;
  ws = {
    key: k, ph0: allocate(dt, B * nh), h0: allocate(dt, B * nh), u0: allocate(dt, B * nh), vMean: allocate(dt, M * nv),
    scratch: allocate(dt, M * nv), phK: allocate(dt, M * nh), uh: allocate(dt, M * nh), vNeg: allocate(dt, M * nv),
    vhatK: allocate(dt, gauss ? M * nv : 0),
  };
  return ws;
}

function checkNum(v: number | undefined, name: string, lo: number, hi: number, dflt: number, fn = 'cdStep'): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !(x >= lo && x <= hi)) throw new InvalidArgumentError(`${fn}: ${name} must be a number in [${lo}, ${hi}], got ${v}`);
  return x;
}

/**
 * The checked core options of a CD step (`fn` names the caller in errors): learning rate, sweeps, momentum, L2 and L1
 * penalties, and whether the chains persist.
 * @example const { lr, k } = resolveCdOptions({ lr: 0.1 }) // k = 1
 */
export function resolveCdOptions(opts: RbmCdOptions, fn = 'cdStep'): { lr: number; k: number; mom: number; wd: number; l1: number; persistent: boolean } {
  const lr = opts.lr;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new InvalidArgumentError(`${fn}: lr must be a finite number ≥ 0, got ${lr}`);
  const k = opts.k ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`${fn}: k must be an integer ≥ 1, got ${k}`);
  return {
    lr, k,
    mom: checkNum(opts.momentum, 'momentum', 0, 0.999999, 0, fn),
    wd: checkNum(opts.weightDecay, 'weightDecay', 0, Infinity, 0, fn),
    l1: checkNum(opts.l1, 'l1', 0, Infinity, 0, fn),
    persistent: opts.persistent ?? false,
  };
}

/**
 * One CD-k / PCD-k update on a mini-batch.
 * @param params current parameters (copied unless `opts.inPlace`).
 * @param batch `[B, nVisible]` data in the support of the visible family.
 * @param key randomness for this step (use `foldIn(runKey, step)`).
 * @param state the previous state ({@link initRbmCdState} for the first step).
 * @returns the new parameters, state and {@link CDMetrics}.
 * @example
 * let params = createRBM({ nVisible: 16, nHidden: 8, key: key(0) }), state = initRbmCdState();
 * ({ params, state } = cdStep(params, batch, foldIn(key(1), state.step), state, { lr: 0.1, k: 1 }));
 */
export function cdStep(params: RBMParams, batch: Tensor, key: Key, state: RbmCdState, opts: RbmCdOptions): { params: RBMParams; state: RbmCdState; metrics: CDMetrics } {
  validateParams(params, 'cdStep', false);
  const { lr, k, mom, wd, l1, persistent } = resolveCdOptions(opts);
  const p = opts.inPlace ? params : cloneParams(params);
  const st = opts.inPlace ? state : cloneState(state);
  const [v0, B] = checkVisible(p, batch, 'cdStep');
  if (B === 0) throw new ShapeError('cdStep: empty batch');
  const nv = nVisibleOf(p), nh = nHiddenOf(p), dt = p.W.dtype;
  const be = getBackend();
  const gauss = p.visible === 'gaussian';
  const keys = split(key, 2 + 2 * k);

  // Positive phase: P0 = σ(c + v̂0 W), h0 ~ P0 (only needed when CD starts from it, or to start new chains).
  const vhat0 = scaledVisible(p, v0, B);
  const Mw = persistent && st.chains !== null ? st.chains.v.shape[0] : B;
  const w = workspace(dt, B, Mw, nv, nh, gauss);
  const ph0 = w.ph0;
  const needH0 = !persistent || st.chains === null || opts.reconstruction === true;
  const h0 = needH0 ? w.h0 : null;
  const u0 = needH0 ? uniformInto(keys[0], w.u0) : null;
  hiddenProbsRaw(p, vhat0, B, ph0, u0, h0);

  // Negative phase.
  let M: number;
  let h: TypedArray;
  let vNeg: TypedArray;
  if (persistent) {
    if (st.chains === null) st.chains = { v: new Tensor(v0.slice(), [B, nv]), h: new Tensor(h0!.slice(), [B, nh]) };
    if (st.chains.v.shape[1] !== nv || st.chains.h.shape[1] !== nh || st.chains.v.dtype !== dt) {
      throw new ShapeError(`cdStep: persistent chains have shape [${st.chains.v.shape.join(', ')}] (${st.chains.v.dtype}), expected [M, ${nv}] (${dt})`);
    }
    M = st.chains.v.shape[0];
    h = st.chains.h.data;
    vNeg = st.chains.v.data;
  } else {
    M = B;
    h = h0!;
    vNeg = w.vNeg;
  }
  const { vMean, scratch, phK, uh } = w;
  const vhatK = gauss ? w.vhatK : vNeg;
  let recon: number | undefined;
  for (let t = 0; t < k; t++) {
    visibleSampleRaw(p, h, M, keys[2 + 2 * t], vMean, vNeg, scratch);
    if (t === 0 && !persistent) {
      let s = 0;
      for (let i = 0; i < B * nv; i++) { const d = v0[i] - vMean[i]; s += d * d; }
      recon = s / (B * nv);
    }
    if (gauss) scaledVisible(p, vNeg, M, vhatK);
    const last = t === k - 1;
    if (last && !persistent) hiddenProbsRaw(p, vhatK, M, phK, null, null);
    else {
      uniformInto(keys[3 + 2 * t], uh);
      hiddenProbsRaw(p, vhatK, M, phK, uh, h);
    }
  }
  if (persistent && opts.reconstruction) {
    const m = allocate(dt, B * nv);
    visibleSampleRaw(p, h0!, B, keys[1], m, allocate(dt, B * nv));
    let s = 0;
    for (let i = 0; i < B * nv; i++) { const d = v0[i] - m[i]; s += d * d; }
    recon = s / (B * nv);
  }

  // Gaussian σ statistics must use the pre-update W: (W P)_i per row.
  let gz: Float64Array | null = null;
  if (gauss && opts.learnSigma) {
    const lv = p.logVar!.data, b = p.b.data;
    gz = new Float64Array(nv);
    const stat = (v: TypedArray, P: TypedArray, rows: number, sign: number): void => {
      const wp = allocate(dt, rows * nv);
      be.gemm(false, true, rows, nv, nh, 1, P, 0, nh, p.W.data, 0, nh, 0, wp, 0, nv);
      for (let r = 0, q = 0; r < rows; r++) for (let i = 0; i < nv; i++, q++) {
        const d = v[q] - b[i];
        gz![i] += (sign / rows) * Math.exp(-lv[i]) * (0.5 * d * d - v[q] * wp[q]);
      }
    };
    stat(v0, ph0, B, 1);
    stat(vNeg, phK, M, -1);
  }

  // Sparsity: running mean q of hidden activity.
  const meanPh0 = new Float64Array(nh);
  for (let r = 0, q = 0; r < B; r++) for (let j = 0; j < nh; j++, q++) meanPh0[j] += ph0[q];
  let meanHidden = 0;
  for (let j = 0; j < nh; j++) { meanPh0[j] /= B; meanHidden += meanPh0[j]; }
  meanHidden /= nh;
  let sparseGrad: Float64Array | null = null;
  if (opts.sparsityTarget !== undefined) {
    const target = checkNum(opts.sparsityTarget, 'sparsityTarget', 0, 1, 0);
    const cost = checkNum(opts.sparsityCost, 'sparsityCost', 0, Infinity, 0.1);
    const decay = checkNum(opts.sparsityDecay, 'sparsityDecay', 0, 1, 0.9);
    if (st.hiddenMean === null) st.hiddenMean = new Tensor(Float64Array.from(meanPh0), [nh]);
    const q = st.hiddenMean.data;
    sparseGrad = new Float64Array(nh);
    for (let j = 0; j < nh; j++) {
      q[j] = decay * q[j] + (1 - decay) * meanPh0[j];
      sparseGrad[j] = -cost * (q[j] - target);
    }
  }

  // Weight update.
  const W = p.W.data;
  const useMom = mom > 0 || st.velocity !== null;
  if (useMom && st.velocity === null) {
    st.velocity = { W: new Tensor(allocate(dt, nv * nh), [nv, nh]), b: new Tensor(allocate(dt, nv), [nv]), c: new Tensor(allocate(dt, nh), [nh]), logVar: gauss ? new Tensor(allocate(dt, nv), [nv]) : null };
  }
  const target = useMom ? st.velocity!.W.data : W;
  // Penalties (use W before the update). Without momentum they scale W directly (β of the first GEMM).
  let beta1 = useMom ? mom : 1;
  if (!useMom && wd > 0 && l1 === 0) beta1 = 1 - lr * wd;
  else if (!useMom && (wd > 0 || l1 > 0)) {
    for (let i = 0; i < W.length; i++) { const w = W[i]; W[i] = w - lr * (wd * w + l1 * Math.sign(w)); }
  }
  be.gemm(true, false, nv, nh, B, lr / B, vhat0, 0, nv, ph0, 0, nh, beta1, target, 0, nh);
  be.gemm(true, false, nv, nh, M, -lr / M, vhatK, 0, nv, phK, 0, nh, 1, target, 0, nh);
  if (sparseGrad) {
    // Hinton's guide: the sparsity term also moves the incoming weights, ΔW_ij = lr·(−cost)(q_j − p)·mean v̂_i.
    const mv = new Float64Array(nv);
    for (let r = 0, q = 0; r < B; r++) for (let i = 0; i < nv; i++, q++) mv[i] += vhat0[q] / B;
    for (let i = 0; i < nv; i++) for (let j = 0, o = i * nh; j < nh; j++) target[o + j] += lr * sparseGrad[j] * mv[i];
  }
  if (useMom) {
    if (l1 > 0) {
      for (let i = 0; i < W.length; i++) {
        const wi = W[i];
        const u = target[i] - lr * (wd * wi + l1 * Math.sign(wi));
        target[i] = u;
        W[i] = wi + u;
      }
    } else {
      // U ← U − lr·λ₂·W; W ← W + U with the backend vector kernels.
      if (wd > 0) {
        const tmp = decayScratch(dt, W.length);
        be.binary('mul', W, scalarOf(dt, lr * wd), tmp);
        be.binary('sub', target, tmp, target);
      }
      be.binary('add', W, target, W);
    }
  }

  // Biases.
  const gb = new Float64Array(nv), gc = new Float64Array(nh);
  const b = p.b.data, c = p.c.data;
  for (let r = 0, q = 0; r < B; r++) for (let i = 0; i < nv; i++, q++) gb[i] += v0[q] / B;
  for (let r = 0, q = 0; r < M; r++) for (let i = 0; i < nv; i++, q++) gb[i] -= vNeg[q] / M;
  if (gauss) { const lv = p.logVar!.data; for (let i = 0; i < nv; i++) gb[i] *= Math.exp(-lv[i]); }
  for (let j = 0; j < nh; j++) gc[j] = meanPh0[j];
  for (let r = 0, q = 0; r < M; r++) for (let j = 0; j < nh; j++, q++) gc[j] -= phK[q] / M;
  if (sparseGrad) for (let j = 0; j < nh; j++) gc[j] += sparseGrad[j];
  const apply = (theta: TypedArray, g: Float64Array, vel: TypedArray | null, rate: number): void => {
    for (let i = 0; i < theta.length; i++) {
      if (vel) { vel[i] = mom * vel[i] + rate * g[i]; theta[i] += vel[i]; } else theta[i] += rate * g[i];
    }
  };
  apply(b, gb, useMom ? st.velocity!.b.data : null, lr);
  apply(c, gc, useMom ? st.velocity!.c.data : null, lr);
  if (gz) {
    const lv = p.logVar!.data;
    const sMin = checkNum(opts.sigmaMin, 'sigmaMin', 0, Infinity, 1e-2), sMax = checkNum(opts.sigmaMax, 'sigmaMax', sMin, Infinity, 1e2);
    const scale = checkNum(opts.sigmaLrScale, 'sigmaLrScale', 0, Infinity, 0.1);
    apply(lv, gz, useMom ? st.velocity!.logVar!.data : null, lr * scale);
    const lo = 2 * Math.log(sMin), hi = 2 * Math.log(sMax);
    for (let i = 0; i < nv; i++) lv[i] = Math.min(hi, Math.max(lo, lv[i]));
  }
  for (const [name, t] of [['W', W], ['b', b], ['c', c]] as const) {
    for (let i = 0; i < t.length; i += Math.max(1, Math.floor(t.length / 64))) {
      if (!Number.isFinite(t[i])) throw new InvalidArgumentError(`cdStep: parameter ${name} became ${t[i]} at step ${st.step + 1} (learning rate ${lr} too large?)`);
    }
  }
  st.step += 1;
  const metrics: CDMetrics = { step: st.step, lr, k, meanHidden };
  if (recon !== undefined) metrics.reconstructionError = recon;
  return { params: p, state: st, metrics };
}

let decayBuf: TypedArray | null = null;
function decayScratch(dt: 'float32' | 'float64', n: number): TypedArray {
  if (!decayBuf || decayBuf.length !== n || (dt === 'float64') !== (decayBuf instanceof Float64Array)) decayBuf = allocate(dt, n);
  return decayBuf;
}
function scalarOf(dt: 'float32' | 'float64', v: number): TypedArray {
  const a = allocate(dt, 1);
  a[0] = v;
  return a;
}

/**
 * A learning-rate schedule: a constant, a function of (step, epoch), or a named decay from `initial`:
 * `exponential`: `lr = initial · decay^epoch`; `inverse`: `lr = initial / (1 + decay·epoch)`;
 * `linear`: from `initial` at epoch 0 to `final` at `epochs` (then constant).
 */
export type LearningRateSchedule =
  | number
  | ((step: number, epoch: number) => number)
  | { kind: 'exponential'; initial: number; decay: number }
  | { kind: 'inverse'; initial: number; decay: number }
  | { kind: 'linear'; initial: number; final: number; epochs: number };

/** Evaluates a {@link LearningRateSchedule} at (step, epoch). */
export function learningRateAt(s: LearningRateSchedule, step: number, epoch: number): number {
  if (typeof s === 'number') return s;
  if (typeof s === 'function') return s(step, epoch);
  switch (s.kind) {
    case 'exponential': return s.initial * Math.pow(s.decay, epoch);
    case 'inverse': return s.initial / (1 + s.decay * epoch);
    case 'linear': return s.initial + (s.final - s.initial) * Math.min(1, epoch / Math.max(1, s.epochs));
    default: throw new InvalidArgumentError(`learning-rate schedule: unknown kind '${(s as { kind: string }).kind}'`);
  }
}
