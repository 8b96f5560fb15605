/**
 * The JEM hybrid loss as a contrastive-divergence loss (so `trainDeepEbm` — Adam, clipping, divergence guard with
 * rollbacks — trains it unchanged):
 *
 *   `L = w_clf·CE(f(x_L), y_L) + w_px·[mean E(x⁺) − mean E(x⁻)] + w_pxy·[mean E(x⁺_L, y_L) − mean E(x̃⁻, ỹ)]
 *        + α·(mean E(x⁺)² + mean E(x⁻)²)`
 *
 * where `CE = −mean log p(y|x)` is the classifier's cross-entropy on the labelled rows `L`, the second bracket is the
 * CD estimate of `−∇ log p(x)` (negatives `x⁻` from persistent SGLD chains on `E(x) = −logsumexp f(x)` kept in a
 * replay buffer, a fraction re-initialised from noise each step), the third that of `−∇ log p(x|y)` (negatives
 * from a class-labelled replay buffer sampled under `E(x, y) = −f(x)[y]`, one chain per labelled row with the
 * same label), and `α` is the energy-magnitude regulariser of deep EBMs.
 *
 * Batches are **packed** rows `[x₁ … x_D, y]`: the label is the last column, `−1` for an unlabelled row
 * (semi-supervised JEM); see {@link packLabelled}.
 * @module
 */
import {
  Tensor, add, mul, mean, square, neg, logsumexp, logSoftmax, takeAlongRows, detach, noGrad, treeLeaves, treeUnflatten,
  type Tree,
} from '../../tensor/index.js';
import { split, normalArray, uniformArray, permutation, randintArray, type Key } from '../../random/index.js';
import { freshChains, runChains, type CDLoss, type CDOutput, type CDState, type NegativeSampler, type ReinitSource, type CDAux } from '../../losses/contrastiveDivergence.js';
import { jemConditionalEnergy, jemEnergy, jemSgld, type Classifier } from './model.js';
import { InvalidArgumentError, InvalidTypeError } from '../../errors.js';

/** Weights of the three terms of the hybrid loss. */
export interface JemWeights {
  /** Weight of `−log p(y|x)` (default 1). */
  readonly clf?: number;
  /** Weight of `−log p(x)` (default 1). */
  readonly px?: number;
  /** Weight of `−log p(x|y)` (default 0). */
  readonly pxy?: number;
}

/** Options of {@link jemLoss}. */
export interface JemLossOptions<P extends Tree> {
  /** The classifier network `(params, x [n, D]) → logits [n, K]`. */
  readonly classifier: Classifier<P>;
  /** Row length `D` (without the label column). */
  readonly dim: number;
  /** Number of classes `K`. */
  readonly numClasses: number;
  readonly weights?: JemWeights;
  /** SGLD kernel for the negatives (default JEM's: `ula(E, {gradStep: 1, noiseScale: 0.01})`). */
  readonly sampler?: NegativeSampler;
  /** SGLD steps per training step (default 20). */
  readonly steps?: number;
  /** Replay-buffer size of each buffer (default 10 000; the conditional one is rounded up to a multiple of K). */
  readonly bufferSize?: number;
  /** Fraction of chains restarted from `reinitFrom` each step (default 0.05). */
  readonly reinit?: number;
  /** Fresh-chain source (default uniform on [−1, 1]). */
  readonly reinitFrom?: ReinitSource;
  /** Energy-magnitude regulariser `α ≥ 0` (default 0). */
  readonly alpha?: number;
  /** Std of Gaussian noise added to the positives of the generative terms (default 0; JEM uses 0.03). */
  readonly dataNoise?: number;
  /** Negatives per step for `p(x)` (default: batch size). */
  readonly chains?: number;
}

/** State of the JEM loss: the unconditional buffer in `buffer`, plus a class-labelled buffer. */
export interface JemState extends CDState {
  /** Class-conditional chains `[N_c, D]` (null when `w_pxy = 0`); row `r` has label `r mod K`. */
  readonly condBuffer: Tensor | null;
}

/** Diagnostics of one JEM step: the CD ones plus the classifier's. */
export interface JemAux extends CDAux {
  /** Cross-entropy on the labelled rows (NaN when none). */
  readonly ce: number;
  /** Training accuracy on the labelled rows of the batch (NaN when none). */
  readonly acc: number;
  /** Gap of the conditional term `mean E(x⁺,y) − mean E(x̃⁻,ỹ)` (0 when off). */
  readonly condGap: number;
}

/** A JEM loss: a {@link CDLoss} on packed rows whose last evaluation's diagnostics are kept in `lastAux`. */
export type JemLoss<P extends Tree> = CDLoss<P> & {
  /** The options in effect, defaults filled in. */
  readonly jem: Required<Omit<JemLossOptions<P>, 'chains' | 'weights'>> & { weights: Required<JemWeights> };
  /**
   * The diagnostics of the last evaluation (`null` before the first).
   * @returns the last step's JEM diagnostics
   */
  readonly lastAux: () => JemAux | null;
};

/**
 * Packs images/rows `x [n, D]` and labels `y [n]` (−1 = unlabelled) into training rows `[n, D + 1]`.
 * @example packLabelled(x, labels).shape // [n, D + 1]
 */
export function packLabelled(x: Tensor, y: ArrayLike<number>): Tensor {
  if (x.ndim !== 2) throw new InvalidArgumentError(`packLabelled: x must be [n, D], got [${x.shape.join(', ')}]`);
  const [n, D] = x.shape;
  if (y.length !== n) throw new InvalidArgumentError(`packLabelled: ${n} rows but ${y.length} labels`);
  const out = new Float32Array(n * (D + 1));
  for (let i = 0; i < n; i++) {
    const l = y[i];
    if (!Number.isInteger(l) || l < -1) throw new InvalidArgumentError(`packLabelled: label at row ${i} is ${l} (want an integer class ≥ 0, or −1 for unlabelled)`);
    out.set(x.data.subarray(i * D, (i + 1) * D), i * (D + 1));
    out[i * (D + 1) + D] = l;
  }
  return new Tensor(out, [n, D + 1]);
}

/** Splits packed rows into `x [n, D]` and labels `[n]`. */
export function unpackLabelled(batch: Tensor, D: number, K: number): { x: Tensor; y: Int32Array } {
  if (batch.ndim !== 2 || batch.shape[1] !== D + 1) throw new InvalidArgumentError(`jem: packed rows must be [n, ${D + 1}] (D = ${D} values + label), got [${batch.shape.join(', ')}]`);
  const n = batch.shape[0];
  const x = new Float32Array(n * D);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x.set(batch.data.subarray(i * (D + 1), i * (D + 1) + D), i * D);
    const l = batch.data[i * (D + 1) + D];
    if (!(Number.isInteger(l) && l >= -1 && l < K)) throw new InvalidArgumentError(`jem: label ${l} in packed row ${i} (want −1 or a class in [0, ${K}))`);
    y[i] = l;
  }
  return { x: new Tensor(x, [n, D]), y };
}

/** @internal Rows `idx` of `x [n, D]`. */
export function rowsOf(x: Tensor, idx: ArrayLike<number>): Tensor {
  const D = x.shape[1];
  const out = new Float32Array(idx.length * D);
  for (let i = 0; i < idx.length; i++) out.set(x.data.subarray(idx[i] * D, (idx[i] + 1) * D), i * D);
  return new Tensor(out, [idx.length, D]);
}

/** @internal `x + sd·ξ`, `ξ = normalArray(k)` (float64, rounded to float32); `x` itself when `sd` is 0. */
export function withNoise(k: Key, x: Tensor, sd: number): Tensor {
  if (!(sd > 0)) return x;
  const z = normalArray(k, x.size, 'float64');
  const out = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) out[i] = x.data[i] + sd * z[i];
  return new Tensor(out, x.shape);
}

/** Starts from buffer rows `idx`, a fraction `reinit` replaced by fresh chains. */
function chainStarts(buf: Tensor, idx: ArrayLike<number>, reinit: number, src: ReinitSource, kRe: Key, kSrc: Key, pool: Tensor): Tensor {
  const x0 = rowsOf(buf, idx);
  if (reinit > 0) {
    const m = idx.length, D = buf.shape[1];
    const u = uniformArray(kRe, m, 'float64');
    const fresh = freshChains(kSrc, src, m, [D], 'float32', pool);
    for (let i = 0; i < m; i++) if (u[i] < reinit) x0.data.set(fresh.data.subarray(i * D, (i + 1) * D), i * D);
  }
  return x0;
}

/** @internal A copy of `buf` with rows `idx` replaced by the rows of `x`. */
export function writeBack(buf: Tensor, idx: ArrayLike<number>, x: Tensor): Tensor {
  const D = buf.shape[1];
  const nb = buf.data.slice();
  for (let i = 0; i < idx.length; i++) nb.set(x.data.subarray(i * D, (i + 1) * D), idx[i] * D);
  return new Tensor(nb, buf.shape);
}

/** @internal What {@link planJemStep} needs of the loss's settings. */
export interface JemPlanSettings {
  readonly dim: number;
  readonly numClasses: number;
  readonly weights: Required<JemWeights>;
  readonly reinit: number;
  readonly reinitFrom: ReinitSource;
  readonly chains?: number;
}

/**
 * @internal The host part of one JEM step that every backend shares: the batch unpacked, the labelled rows, the
 * step's keys (`split(k, 9)`), and the chain starts of the unconditional negatives (buffer rows `idx`, a fraction
 * restarted) and of the conditional ones (one buffer row of the same class per labelled row, distinct). Running the
 * chains from `x0` with `kChain` and writing them back at `idx` is the backend's part.
 */
export interface JemStepPlan {
  readonly x: Tensor;
  readonly y: Int32Array;
  /** Indices of the labelled rows and their labels. */
  readonly lab: readonly number[];
  readonly yL: Int32Array;
  /** Key of the positives' data noise. */
  readonly kNoise: Key;
  readonly uncond: { readonly idx: ArrayLike<number>; readonly x0: Tensor; readonly kChain: Key } | null;
  readonly cond: { readonly idx: Int32Array; readonly x0: Tensor; readonly kChain: Key } | null;
}

/** @internal See {@link JemStepPlan}. */
export function planJemStep(o: JemPlanSettings, st: JemState, batch: Tensor, k: Key): JemStepPlan {
  const { dim: D, numClasses: K, weights: w, reinit, reinitFrom: src } = o;
  const { x, y } = unpackLabelled(batch, D, K);
  const B = x.shape[0];
  const [kNoise, kIdx, kRe, kSrc, kChain, kcIdx, kcRe, kcSrc, kcChain] = split(k, 9);
  const lab: number[] = [];
  for (let i = 0; i < B; i++) if (y[i] >= 0) lab.push(i);
  const yL = Int32Array.from(lab, (i) => y[i]);
  const pool = x;
  let uncond: JemStepPlan['uncond'] = null;
  let cond: JemStepPlan['cond'] = null;
  if (w.px > 0) {
    const buffer = st.buffer;
    if (!buffer) throw new InvalidArgumentError('jemLoss: the state has no replay buffer (use loss.initState)');
    const N = buffer.shape[0];
    const m = o.chains ?? B;
    const idx = m <= N ? permutation(kIdx, N).subarray(0, m) : randintArray(kIdx, 0, N, m);
    uncond = { idx, x0: chainStarts(buffer, idx, reinit, src, kRe, kSrc, pool), kChain };
  }
  if (w.pxy > 0 && yL.length > 0) {
    const condBuffer = st.condBuffer ?? null;
    if (!condBuffer) throw new InvalidArgumentError('jemLoss: the state has no class-conditional buffer (use loss.initState)');
    const perClass = condBuffer.shape[0] / K;
    const r0 = randintArray(kcIdx, 0, perClass, yL.length);
    // Distinct rows per step: resolve collisions by walking to the next free slot of the same class.
    const used = new Set<number>();
    const cIdx = new Int32Array(yL.length);
    for (let i = 0; i < yL.length; i++) {
      let r = r0[i];
      for (let t = 0; t < perClass && used.has(yL[i] + K * r); t++) r = (r + 1) % perClass;
      used.add(yL[i] + K * r);
      cIdx[i] = yL[i] + K * r;
    }
    cond = { idx: cIdx, x0: chainStarts(condBuffer, cIdx, reinit, src, kcRe, kcSrc, pool), kChain: kcChain };
  }
  return { x, y, lab, yL, kNoise, uncond, cond };
}

/**
 * Builds the JEM hybrid loss (see the module doc). Use with `trainDeepEbm` on packed rows, or through
 * {@link trainJem}. With `weights: {clf: 1, px: 0, pxy: 0}` it is the plain classifier (no sampling).
 * @example
 * const loss = jemLoss({ classifier: mlpClassifier(), dim: 64, numClasses: 10, steps: 20, weights: { px: 1 } });
 */
export function jemLoss<P extends Tree>(o: JemLossOptions<P>): JemLoss<P> {
  if (typeof o.classifier !== 'function') throw new InvalidTypeError('jemLoss: "classifier" must be a function (params, x) → logits');
  if (!Number.isInteger(o.dim) || o.dim < 1) throw new InvalidArgumentError(`jemLoss: dim must be a positive integer, got ${o.dim}`);
  if (!Number.isInteger(o.numClasses) || o.numClasses < 2) throw new InvalidArgumentError(`jemLoss: numClasses must be an integer ≥ 2, got ${o.numClasses}`);
  const w = { clf: o.weights?.clf ?? 1, px: o.weights?.px ?? 1, pxy: o.weights?.pxy ?? 0 };
  for (const [k, v] of Object.entries(w)) if (!(v >= 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`jemLoss: weight ${k} must be a finite number ≥ 0, got ${v}`);
  if (w.clf + w.px + w.pxy === 0) throw new InvalidArgumentError('jemLoss: all weights are 0');
  const steps = o.steps ?? 20;
  if (!Number.isInteger(steps) || steps < 1) throw new InvalidArgumentError(`jemLoss: steps must be a positive integer, got ${steps}`);
  const bufferSize = o.bufferSize ?? 10_000;
  if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new InvalidArgumentError(`jemLoss: bufferSize must be a positive integer, got ${bufferSize}`);
  const reinit = o.reinit ?? 0.05;
  if (!(reinit >= 0 && reinit <= 1)) throw new InvalidArgumentError(`jemLoss: reinit must be in [0, 1], got ${reinit}`);
  const alpha = o.alpha ?? 0;
  if (!(alpha >= 0)) throw new InvalidArgumentError(`jemLoss: alpha must be ≥ 0, got ${alpha}`);
  const dataNoise = o.dataNoise ?? 0;
  if (!(dataNoise >= 0)) throw new InvalidArgumentError(`jemLoss: dataNoise must be ≥ 0, got ${dataNoise}`);
  const src: ReinitSource = o.reinitFrom ?? { kind: 'uniform', low: -1, high: 1 };
  const sampler = o.sampler ?? jemSgld;
  const { classifier: f, dim: D, numClasses: K } = o;
  const condSize = Math.ceil(bufferSize / K) * K;
  let last: JemAux | null = null;

  const fn = (params: P, batch: Tensor, k: Key, state: CDState): CDOutput => {
    const st = state as JemState;
    const plan = planJemStep({ dim: D, numClasses: K, weights: w, reinit, reinitFrom: src, ...(o.chains !== undefined ? { chains: o.chains } : {}) }, st, batch, k);
    const { x, lab, yL, kNoise } = plan;
    const frozen = noGrad(() => treeUnflatten(params, treeLeaves(params).map((t) => detach(t))));

    let buffer = st.buffer;
    let condBuffer = st.condBuffer ?? null;
    let divergent = 0;
    let xNeg: Tensor | null = null;
    let xcNeg: Tensor | null = null;

    // Unconditional negatives: persistent SGLD on E(x) = −logsumexp f(x).
    if (plan.uncond) {
      const r = runChains(sampler, jemEnergy(f, frozen, D), plan.uncond.x0, plan.uncond.kChain, steps);
      xNeg = r.x;
      divergent += r.divergent;
      buffer = writeBack(buffer!, plan.uncond.idx, xNeg);
    }
    // Conditional negatives: one chain per labelled row, from buffer rows holding the same class.
    if (plan.cond) {
      const r = runChains(sampler, jemConditionalEnergy(f, frozen, D, yL), plan.cond.x0, plan.cond.kChain, steps);
      xcNeg = r.x;
      divergent += r.divergent;
      condBuffer = writeBack(condBuffer!, plan.cond.idx, xcNeg);
    }

    // The loss, traced w.r.t. the parameters.
    const terms: Tensor[] = [];
    let ce = NaN, acc = NaN, ePos = 0, eNeg = 0, condGap = 0, regV = 0;
    if (yL.length > 0 && w.clf > 0) {
      const logits = f(params, rowsOf(x, lab));
      const nll = neg(mean(takeAlongRows(logSoftmax(logits, 1), yL)));
      ce = nll.item();
      let c = 0;
      const Kk = logits.shape[1];
      for (let i = 0; i < yL.length; i++) {
        let best = 0;
        for (let j = 1; j < Kk; j++) if (logits.data[i * Kk + j] > logits.data[i * Kk + best]) best = j;
        if (best === yL[i]) c++;
      }
      acc = c / yL.length;
      terms.push(mul(nll, w.clf));
    }
    const xPos = withNoise(kNoise, x, dataNoise);
    if (xNeg) {
      const ePosT = neg(logsumexp(f(params, xPos), 1));
      const eNegT = neg(logsumexp(f(params, xNeg), 1));
      const mp = mean(ePosT), mn = mean(eNegT);
      ePos = mp.item();
      eNeg = mn.item();
      terms.push(mul(add(mp, neg(mn)), w.px));
      if (alpha > 0) {
        const reg = mul(add(mean(square(ePosT)), mean(square(eNegT))), alpha);
        regV = reg.item();
        terms.push(reg);
      }
    }
    if (xcNeg) {
      const ep = neg(takeAlongRows(f(params, rowsOf(xPos, lab)), yL));
      const en = neg(takeAlongRows(f(params, xcNeg), yL));
      const mp = mean(ep), mn = mean(en);
      condGap = mp.item() - mn.item();
      terms.push(mul(add(mp, neg(mn)), w.pxy));
      if (!xNeg) {
        ePos = mp.item();
        eNeg = mn.item();
      }
      if (alpha > 0) {
        const reg = mul(add(mean(square(ep)), mean(square(en))), alpha);
        regV += reg.item();
        terms.push(reg);
      }
    }
    if (!terms.length) throw new InvalidArgumentError('jemLoss: this batch has no labelled rows and only the classifier term is on');
    let loss = terms[0];
    for (let i = 1; i < terms.length; i++) loss = add(loss, terms[i]);
    const aux: JemAux = {
      ePos, eNeg, gap: ePos - eNeg, reg: regV, samplerDivergent: divergent, negatives: xNeg ?? xcNeg ?? x, ce, acc, condGap,
    };
    last = aux;
    const next: JemState = { buffer, sn: {}, step: st.step + 1, condBuffer };
    return { loss, aux, state: next };
  };

  const initState = (k: Key, _params: P, data: Tensor): JemState => {
    const { x } = unpackLabelled(data.shape[0] > 2048 ? new Tensor(data.data.subarray(0, 2048 * (D + 1)) as typeof data.data, [2048, D + 1]) : data, D, K);
    const [k1, k2] = split(k, 2);
    const buffer = w.px > 0 ? freshChains(k1, src, bufferSize, [D], 'float32', x) : null;
    const condBuffer = w.pxy > 0 ? freshChains(k2, src, condSize, [D], 'float32', x) : null;
    return { buffer, sn: {}, step: 0, condBuffer };
  };

  const options = {
    energy: (p: P) => jemEnergy(f, p, D),
    sampler,
    steps,
    negatives: 'buffer' as const,
    bufferSize,
    reinit,
    reinitFrom: src,
    alpha,
    dataNoise,
  };
  return Object.assign(fn, {
    options,
    initState,
    jem: { classifier: f, dim: D, numClasses: K, weights: w, sampler, steps, bufferSize, reinit, reinitFrom: src, alpha, dataNoise },
    lastAux: () => last,
  });
}
