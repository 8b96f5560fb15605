/**
 * Scikit-learn-style RBM estimators: `fit` / `partialFit` / `transform` / `freeEnergy` / `sample`, with the learned
 * parameters visible as fields. Training is {@link cdStep} in place over shuffled mini-batches.
 * @module
 */
import { Tensor, allocate, type DType } from '../../tensor/tensor.js';
import { foldIn, key as makeKey, permutation, split, uniformInto, type Key } from '../../random/index.js';
import { freeEnergy as freeEnergyFn, gibbsRaw, hiddenProbabilities, visibleMean } from './core.js';
import { cdStep, initRbmCdState, learningRateAt, type CDMetrics, type RbmCdOptions, type RbmCdState, type LearningRateSchedule } from './train.js';
import { NotFittedError, checkVisible, cloneParams, createRBM, nHiddenOf, nVisibleOf, type RBMParams, type VisibleType } from './params.js';
import { InvalidArgumentError } from '../../errors.js';
import { rbmApplyStandardization, rbmStandardization } from './standardize.js';

/** Constructor options of {@link RBM}. */
export interface RBMOptions {
  /** Number of hidden units. */
  nHidden: number;
  /** Visible family (default `bernoulli`). */
  visible?: VisibleType;
  /** `softmax`: states per visible unit. */
  categories?: number;
  /** Element type of the parameters (default `float32`). */
  dtype?: DType;
  /** Random key or integer seed for initialisation, shuffling and sampling (default seed 0). */
  key?: Key | number;
  /** Initial weight standard deviation (default 0.01). */
  weightScale?: number;
  /** `gaussian`: initial σ (default: the per-column data standard deviation, floored at 1e-2; or this value). */
  sigma?: number;
  /**
   * `gaussian`: train on the standardised rows `z = (x − shift)/scale` (column means and standard deviations of the
   * rows the model is first fitted to; a constant column gets scale 1), the way `ebm train rbm --visible gaussian` and
   * `rbmScorer` do, so the units of the data do not decide whether CD trains (default true). Every method still takes
   * and returns data in the units of `x`; the parameters (`weights`, `visibleBias`, `sigma`) are in `z` units, and
   * {@link RBM.freeEnergy} adds `Σ log scale` so that `exp(−F)` stays a density in `x`.
   */
  standardize?: boolean;
}

/** Training options of {@link RBM.fit} / {@link RBM.partialFit}. */
export interface RBMFitOptions extends Omit<RbmCdOptions, 'lr' | 'k' | 'momentum' | 'inPlace'> {
  /** Passes over the data (default 10; `partialFit` always does one). */
  epochs?: number;
  /** Mini-batch size (default 100). */
  batchSize?: number;
  /** Learning rate or schedule (default 0.1; evaluated per step with the current epoch). */
  lr?: LearningRateSchedule;
  /** Gibbs sweeps: a number or a function of the epoch (increasing-k schedules, e.g. `(e) => 1 + Math.floor(e / 5)`). Default 1. */
  k?: number | ((epoch: number) => number);
  /** Momentum: a number, or `{ initial, final, switchEpoch }` (Hinton's guide: 0.5 then 0.9 after 5 epochs). Default 0. */
  momentum?: number | { initial: number; final: number; switchEpoch: number };
  /** Shuffle rows each epoch (default true). */
  shuffle?: boolean;
  /** PCD: number of persistent chains (default: batch size). */
  chains?: number;
  /**
   * Bernoulli visible units only: read each training value x ∈ [0, 1] as P(v = 1) and draw a fresh binary batch
   * v ~ Bernoulli(x) at every update ("dynamic binarisation", as in Salakhutdinov's RBM/DBM training code), instead of
   * training on x itself. Default false.
   */
  resample?: boolean;
  /** Called after each epoch with the epoch index and the mean metrics over its steps. */
  onEpoch?: (epoch: number, info: EpochInfo) => void;
}

/** Per-epoch summary recorded in {@link RBM.history}. */
export interface EpochInfo {
  epoch: number;
  steps: number;
  /** Mean reconstruction error over the epoch's steps (absent for PCD without `reconstruction`). */
  reconstructionError?: number;
  lr: number;
  k: number;
  meanHidden: number;
}

/**
 * A restricted Boltzmann machine estimator (Bernoulli, Gaussian or softmax visible units; binary hidden units)
 * trained by CD-k or PCD-k.
 * @example
 * const rbm = new RBM({ nHidden: 16, key: 0 }).fit(x, { epochs: 20, lr: 0.05, persistent: true });
 * const h = rbm.transform(x);           // P(h = 1 | v), [n, 16]
 * const s = rbm.sample(key(1), 10, 1000);
 */
export class RBM {
  /** Constructor options. */
  readonly options: Readonly<RBMOptions>;
  /** Current parameters (plain data), `null` before fitting. */
  params: RBMParams | null = null;
  /** Training state (momentum, chains, step), `null` before fitting. */
  state: RbmCdState | null = null;
  /** Per-epoch training summaries. */
  history: EpochInfo[] = [];
  /** Epochs trained so far. */
  epoch = 0;
  /**
   * Gaussian RBMs with `standardize` (the default): the column `shift` and `scale` of the standardisation, set by the
   * first fit; `null` otherwise.
   */
  standardization: { readonly shift: readonly number[]; readonly scale: readonly number[] } | null = null;
  private readonly baseKey: Key;

  constructor(opts: RBMOptions) {
    if (!Number.isInteger(opts.nHidden) || opts.nHidden <= 0) throw new InvalidArgumentError(`RBM: nHidden must be a positive integer, got ${opts.nHidden}`);
    this.options = { ...opts };
    this.baseKey = opts.key === undefined ? makeKey(0) : typeof opts.key === 'number' ? makeKey(opts.key) : opts.key;
  }

  private get fitted(): RBMParams {
    if (!this.params) throw new NotFittedError(`${this.constructor.name} is not fitted yet: call fit(x) or partialFit(x) first`);
    return this.params;
  }

  /** Weights `W`, `[nVisible, nHidden]`. @throws NotFittedError before fitting. */
  get weights(): Tensor { return this.fitted.W; }
  /** Visible bias `b`, `[nVisible]`. */
  get visibleBias(): Tensor { return this.fitted.b; }
  /** Hidden bias `c`, `[nHidden]`. */
  get hiddenBias(): Tensor { return this.fitted.c; }
  /** Gaussian RBMs: `σ` per visible column (`[nVisible]`, float64); `null` for other families. */
  get sigma(): Tensor | null {
    const p = this.fitted;
    return p.logVar ? new Tensor(Float64Array.from(p.logVar.data, (z) => Math.exp(0.5 * z)), [p.logVar.size]) : null;
  }

  /** Rows in the units the parameters live in (standardised for Gaussian RBMs with `standardize`). */
  private toModel(x: Tensor): Tensor {
    const st = this.standardization;
    if (st === null) return x;
    if (!(x instanceof Tensor) || x.ndim !== 2 || x.shape[1] !== st.shift.length) {
      throw new InvalidArgumentError(`${this.constructor.name}: data must be [n, ${st.shift.length}], got [${x?.shape?.join(', ')}]`);
    }
    return rbmApplyStandardization(x, st.shift, st.scale, 1);
  }

  /** Rows from the parameters' units back to the data's. */
  private toData(z: Tensor): Tensor {
    const st = this.standardization;
    return st === null ? z : rbmApplyStandardization(z, st.shift, st.scale, -1);
  }

  /** Initialises parameters from data statistics (visible bias from the marginals, Hinton's guide §8). */
  private init(x: Tensor): void {
    const o = this.options;
    const visible = o.visible ?? 'bernoulli';
    if (!(x instanceof Tensor) || x.ndim !== 2) throw new InvalidArgumentError(`${this.constructor.name}.fit: data must be [n, nVisible], got [${x?.shape?.join(', ')}]`);
    this.standardization = null;
    if (visible === 'gaussian' && o.standardize !== false) {
      for (let i = 0; i < x.data.length; i++) {
        if (!Number.isFinite(x.data[i])) throw new InvalidArgumentError(`${this.constructor.name}.fit: data row ${Math.floor(i / x.shape[1])}, column ${i % x.shape[1]} is ${x.data[i]} (not finite)`);
      }
      this.standardization = rbmStandardization(x);
      x = this.toModel(x);
    }
    const [n, nv] = x.shape;
    const d = x.data;
    const mean = new Float64Array(nv), sq = new Float64Array(nv);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < nv; i++) {
        const v = d[r * nv + i];
        if (!Number.isFinite(v)) throw new InvalidArgumentError(`${this.constructor.name}.fit: data row ${r}, column ${i} is ${v} (not finite)`);
        mean[i] += v / n;
        sq[i] += (v * v) / n;
      }
    }
    const bias = new Float64Array(nv);
    let sigma: Float64Array | number | undefined;
    if (visible === 'gaussian') {
      for (let i = 0; i < nv; i++) bias[i] = Number.isFinite(mean[i]) ? mean[i] : 0;
      sigma = o.sigma ?? Float64Array.from(mean, (m, i) => Math.max(1e-2, Math.sqrt(Math.max(0, sq[i] - m * m))) || 1);
    } else {
      // b_i = log(p_i / (1 − p_i)) with p smoothed away from 0 and 1 (softmax: log p_gk, same up to a group constant).
      for (let i = 0; i < nv; i++) {
        const pm = Math.min(1 - 1e-3, Math.max(1e-3, Number.isFinite(mean[i]) ? mean[i] : 0.5));
        bias[i] = visible === 'softmax' ? Math.log(pm) : Math.log(pm / (1 - pm));
      }
    }
    const [kInit] = split(foldIn(this.baseKey, 0x1417), 1);
    this.params = createRBM({
      visible, nVisible: nv, nHidden: o.nHidden, dtype: o.dtype, key: kInit, weightScale: o.weightScale,
      ...(visible === 'softmax' ? { categories: o.categories } : {}),
      ...(sigma !== undefined ? { sigma } : {}),
      visibleBias: bias,
    });
    checkVisible(this.params, x, `${this.constructor.name}.fit`);
    this.state = initRbmCdState();
    this.history = [];
    this.epoch = 0;
  }

  /**
   * Trains from scratch (re-initialising the parameters) for `opts.epochs` epochs.
   * @param x `[n, nVisible]` training data. @returns `this`.
   */
  fit(x: Tensor, opts: RBMFitOptions = {}): this {
    this.params = null;
    this.init(x);
    const epochs = opts.epochs ?? 10;
    if (!Number.isInteger(epochs) || epochs < 0) throw new InvalidArgumentError(`${this.constructor.name}.fit: epochs must be an integer ≥ 0, got ${epochs}`);
    for (let e = 0; e < epochs; e++) this.runEpoch(x, opts);
    return this;
  }

  /** One more epoch over `x` without re-initialising (initialises on first use). @returns `this`. */
  partialFit(x: Tensor, opts: RBMFitOptions = {}): this {
    if (!this.params) this.init(x);
    this.runEpoch(x, opts);
    return this;
  }

  private runEpoch(x: Tensor, opts: RBMFitOptions): void {
    // The epoch trains a private copy in place (fast), so tensors handed out before (`weights`, …) never change.
    x = this.toModel(x);
    const p = cloneParams(this.fitted);
    this.params = p;
    const name = this.constructor.name;
    const [data, n] = checkVisible(p, x, `${name}.fit`);
    if (opts.resample && p.visible !== 'bernoulli') throw new InvalidArgumentError(`${name}.fit: resample needs bernoulli visible units, got ${p.visible}`);
    const nv = nVisibleOf(p);
    const bs = opts.batchSize ?? 100;
    if (!Number.isInteger(bs) || bs <= 0) throw new InvalidArgumentError(`${name}.fit: batchSize must be a positive integer, got ${bs}`);
    if (n === 0) throw new InvalidArgumentError(`${name}.fit: no training rows`);
    const epoch = this.epoch;
    const ek = foldIn(this.baseKey, 1000 + epoch);
    const [kPerm, kSteps, kChains] = split(ek, 3);
    const order = (opts.shuffle ?? true) ? permutation(kPerm, n) : Int32Array.from({ length: n }, (_, i) => i);
    const kk = typeof opts.k === 'function' ? opts.k(epoch) : opts.k ?? 1;
    const mom = opts.momentum === undefined ? 0 : typeof opts.momentum === 'number' ? opts.momentum
      : epoch < opts.momentum.switchEpoch ? opts.momentum.initial : opts.momentum.final;
    const st = this.state!;
    if (opts.persistent && st.chains === null && opts.chains !== undefined) {
      // Start the chains at random training rows.
      const M = opts.chains;
      if (!Number.isInteger(M) || M <= 0) throw new InvalidArgumentError(`${name}.fit: chains must be a positive integer, got ${M}`);
      const rows = permutation(kChains, Math.max(n, M));
      const v = allocate(p.W.dtype, M * nv);
      for (let r = 0; r < M; r++) v.set(data.subarray((rows[r] % n) * nv, (rows[r] % n + 1) * nv), r * nv);
      const h = allocate(p.W.dtype, M * nHiddenOf(p));
      const u = uniformInto(split(kChains, 2)[1], allocate(p.W.dtype, h.length));
      const ph = hiddenProbabilities(p, new Tensor(v, [M, nv])).data;
      for (let i = 0; i < h.length; i++) h[i] = u[i] < ph[i] ? 1 : 0;
      st.chains = { v: new Tensor(v, [M, nv]), h: new Tensor(h, [M, nHiddenOf(p)]) };
    }
    const kResample = foldIn(ek, 7);
    const batch = allocate(p.W.dtype, bs * nv);
    let steps = 0, recon = 0, nRecon = 0, meanHidden = 0, lrSum = 0;
    for (let start = 0; start < n; start += bs) {
      const m = Math.min(bs, n - start);
      const buf = m === bs ? batch : allocate(p.W.dtype, m * nv);
      for (let r = 0; r < m; r++) { const src = order[start + r]; buf.set(data.subarray(src * nv, (src + 1) * nv), r * nv); }
      if (opts.resample) {
        const u = uniformInto(foldIn(kResample, steps), allocate(p.W.dtype, m * nv));
        for (let i = 0; i < m * nv; i++) buf[i] = u[i] < buf[i] ? 1 : 0;
      }
      const lr = learningRateAt(opts.lr ?? 0.1, st.step, epoch);
      const cd: RbmCdOptions = { ...opts, lr, k: kk, momentum: mom, inPlace: true };
      const { metrics }: { metrics: CDMetrics } = cdStep(p, new Tensor(buf, [m, nv]), foldIn(kSteps, steps), st, cd);
      steps++;
      lrSum += lr;
      meanHidden += metrics.meanHidden;
      if (metrics.reconstructionError !== undefined) { recon += metrics.reconstructionError; nRecon++; }
    }
    const info: EpochInfo = { epoch, steps, lr: lrSum / steps, k: kk, meanHidden: meanHidden / steps };
    if (nRecon) info.reconstructionError = recon / nRecon;
    this.history.push(info);
    this.epoch++;
    opts.onEpoch?.(epoch, info);
  }

  /** `P(h = 1 | v)` for each row: `[n, nHidden]`. */
  transform(x: Tensor): Tensor {
    return hiddenProbabilities(this.fitted, this.toModel(x));
  }

  /** Mean-field reconstruction `E[v | h = P(h|v)]`: `[n, nVisible]` (in the data's units). */
  reconstruct(x: Tensor): Tensor {
    return this.toData(visibleMean(this.fitted, this.transform(x)));
  }

  /**
   * Free energy `F(v)` of each row (float64 `[n]`), `−log p(v) + log Z` in the data's units (a standardised Gaussian
   * RBM adds the Jacobian term `Σ log scale`).
   */
  freeEnergy(x: Tensor): Tensor {
    const f = freeEnergyFn(this.fitted, this.toModel(x));
    const st = this.standardization;
    if (st === null) return f;
    const logJac = st.scale.reduce((a, v) => a + Math.log(v), 0);
    return new Tensor(Float64Array.from(f.data, (v) => v + logJac), f.shape);
  }

  /**
   * Draws `n` samples by block Gibbs sampling: chains start from `init` (`[n, nVisible]`) or from the visible-bias
   * marginals `v ~ p(v | h = 0)`, and run `gibbsSteps` sweeps (`init` and the samples in the data's units).
   * @returns the final visible samples `[n, nVisible]`.
   */
  sample(key: Key, n: number, gibbsSteps = 1000, init?: Tensor): Tensor {
    const p = this.fitted;
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${this.constructor.name}.sample: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(gibbsSteps) || gibbsSteps < 0) throw new InvalidArgumentError(`${this.constructor.name}.sample: gibbsSteps must be an integer ≥ 0, got ${gibbsSteps}`);
    const nv = nVisibleOf(p);
    const [k0, k1] = split(key, 2);
    let v;
    if (init) {
      const [d, rows] = checkVisible(p, this.toModel(init), `${this.constructor.name}.sample`);
      if (rows !== n) throw new InvalidArgumentError(`${this.constructor.name}.sample: init has ${rows} rows, expected n = ${n}`);
      v = d.slice();
    } else {
      // v ~ p(v | h = 0) (one half-sweep from the zero hidden state).
      v = allocate(p.W.dtype, n * nv);
      const h0 = new Tensor(allocate(p.W.dtype, n * nHiddenOf(p)), [n, nHiddenOf(p)]);
      const mean = visibleMean(p, h0).data;
      const u = uniformInto(k0, allocate(p.W.dtype, n * nv));
      if (p.visible === 'bernoulli') for (let i = 0; i < v.length; i++) v[i] = u[i] < mean[i] ? 1 : 0;
      else if (p.visible === 'gaussian') v.set(mean);
      else {
        const K = p.categories;
        for (let g = 0; g < v.length; g += K) {
          let acc = 0, chosen = K - 1;
          for (let kx = 0; kx < K; kx++) { acc += mean[g + kx]; if (u[g] < acc) { chosen = kx; break; } }
          v[g + chosen] = 1;
        }
      }
    }
    gibbsRaw(p, v, n, k1, gibbsSteps);
    return this.toData(new Tensor(v, [n, nv]));
  }
}

/** A Bernoulli–Bernoulli RBM (binary or [0, 1] visible data). */
export class BernoulliRBM extends RBM {
  constructor(opts: Omit<RBMOptions, 'visible' | 'categories' | 'sigma'>) {
    super({ ...opts, visible: 'bernoulli' });
  }
}

/**
 * A Gaussian–Bernoulli RBM (real visible data; σ fixed or learned with `learnSigma`, bounded). By default it trains
 * on standardised columns (see {@link RBMOptions.standardize}), so data in any units train with the default lr.
 */
export class GaussianBernoulliRBM extends RBM {
  constructor(opts: Omit<RBMOptions, 'visible' | 'categories'>) {
    super({ ...opts, visible: 'gaussian' });
  }
}

/** A softmax–Bernoulli RBM: `G` categorical visible units with `K` states each, data one-hot `[n, G·K]`. */
export class SoftmaxRBM extends RBM {
  constructor(opts: Omit<RBMOptions, 'visible' | 'sigma'> & { categories: number }) {
    super({ ...opts, visible: 'softmax' });
  }
}
