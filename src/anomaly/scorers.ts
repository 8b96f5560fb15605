/**
 * Anomaly scorers: `fit(normal rows) → score(x)` with **higher = more anomalous**, for every EBM of the library
 * (RBM free energy, deep-EBM energy, score norm `‖∇ₓE‖`, JEM scores, any energy) and two simple baselines
 * (Gaussian density, k-nearest-neighbour distance).
 * @module
 */
import { Tensor, ShapeError, matmul, noGrad, type Tree } from '../tensor/index.js';
import { foldIn, type Key } from '../random/index.js';
import { energyAndGrad, type Energy } from '../energy/index.js';
import { RBM, type RBMOptions, type RBMFitOptions } from '../models/rbm/index.js';
import {
  initDeepEbm, deepEbmEnergy, standardization, trainDeepEbm, type DeepEbmConfig, type TrainDeepEbmOptions,
} from '../models/deepEbm/index.js';
import { contrastiveDivergence, type CDOptions } from '../losses/contrastiveDivergence.js';
import { ula, geometricTemperatures } from '../samplers/index.js';
import { jemScores, jemAnomalyScore, type Classifier, type JemScoreName } from '../models/jem/index.js';
import { InvalidArgumentError } from '../errors.js';
import { choleskyLower } from '../tensor/linalg.js';
import { gaussianStats } from '../eval/sampleQuality.js';
import { columnMoments } from '../data/columns.js';

/** An anomaly scorer: fitted on normal rows, then scores rows (higher = more anomalous). */
export interface AnomalyScorer {
  /** Short name for tables, e.g. `'rbm-free-energy'`. */
  readonly name: string;
  /** Fits on normal rows `x [n, d]` (a no-op for pre-trained models). */
  fit(x: Tensor, key: Key): void;
  /** Anomaly scores of rows `x [m, d]` → `[m]` (finite; a NaN is an error). */
  score(x: Tensor): Float64Array;
}

/** Throws unless `x` is a 2-D tensor with finite values. */
export function checkRowsFinite(x: Tensor, fn: string, d?: number): void {
  if (!(x instanceof Tensor) || x.ndim !== 2) throw new ShapeError(`${fn}: expected rows [n, d], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  if (d !== undefined && x.shape[1] !== d) throw new ShapeError(`${fn}: expected rows of ${d} values, got [${x.shape.join(', ')}]`);
  const D = x.shape[1];
  for (let i = 0; i < x.size; i++) {
    if (!Number.isFinite(x.data[i])) throw new InvalidArgumentError(`${fn}: value at row ${Math.floor(i / D)}, column ${i % D} is ${x.data[i]}`);
  }
}

function checkScores(s: Float64Array, name: string): Float64Array {
  for (let i = 0; i < s.length; i++) if (!Number.isFinite(s[i])) throw new InvalidArgumentError(`anomaly scorer ${name}: score at row ${i} is ${s[i]}`);
  return s;
}

/**
 * A scorer from an already-trained energy: `score(x) = E(x)` (= `−log p(x) + const`). `fit` does nothing.
 * Accepts an {@link Energy} or a function rows → per-row energies (e.g. a CLI model's `energy`).
 * @example energyScorer(deepEbmEnergy(params, cfg)).score(x)
 */
export function energyScorer(energy: Energy | ((x: Tensor) => Float64Array), name = 'energy'): AnomalyScorer {
  const f = typeof energy === 'function' ? energy : (x: Tensor) => noGrad(() => Float64Array.from(energy.energy(x).data));
  return { name, fit: () => undefined, score: (x) => checkScores(f(x), name) };
}

/**
 * A scorer from an already-trained energy: the score norm `‖∇ₓ log p(x)‖₂ = ‖∇ₓE(x)‖₂` (large away from the
 * modes of a smooth density; JEM's "approximate mass").
 */
export function scoreNormScorer(energy: Energy, name = 'score-norm'): AnomalyScorer {
  return {
    name,
    fit: () => undefined,
    score: (x) => {
      const n = x.shape[0];
      const D = x.size / Math.max(1, n);
      const out = new Float64Array(n);
      for (let s = 0; s < n; s += 500) {
        const e = Math.min(n, s + 500);
        const { grad } = energyAndGrad(energy, new Tensor(x.data.subarray(s * D, e * D) as typeof x.data, [e - s, ...x.shape.slice(1)]));
        for (let i = 0; i < e - s; i++) {
          let g = 0;
          for (let j = 0; j < D; j++) g += grad.data[i * D + j] ** 2;
          out[s + i] = Math.sqrt(g);
        }
      }
      return checkScores(out, name);
    },
  };
}

/**
 * A JEM score of a trained classifier as anomaly score: `'logPx'` → `−logsumexp f(x)`, `'maxProb'` →
 * `−max_y p(y|x)`, `'gradNorm'` → `‖∇ₓ log p(x)‖`.
 */
export function jemScorer<P extends Tree>(f: Classifier<P>, params: P, which: JemScoreName): AnomalyScorer {
  const name = `jem-${which}`;
  return { name, fit: () => undefined, score: (x) => checkScores(jemAnomalyScore(jemScores(f, params, x), which), name) };
}

/**
 * Fits an RBM (Bernoulli visible units by default; data in [0, 1]) to the normal rows and scores with its free energy
 * `F(v) = −log Σ_h exp(−E(v, h))` (= `−log p(v) + log Z`). Gaussian visible units see the standardised rows
 * `z = (x − shift)/scale` (the estimator's default, {@link RBMOptions.standardize}, as `ebm train rbm --visible
 * gaussian` does; `standardize: false` turns it off), so the units of the data do not decide the scores; the score is
 * then `F(z) + Σ log scale` (the free energy of `x`).
 * @example rbmScorer({ nHidden: 64 }, { epochs: 10, lr: 0.05 })
 */
export function rbmScorer(opts: Omit<RBMOptions, 'key'>, fitOpts: RBMFitOptions = {}): AnomalyScorer & { rbm: RBM | null } {
  const s = {
    name: 'rbm-free-energy',
    rbm: null as RBM | null,
    fit(x: Tensor, k: Key): void {
      checkRowsFinite(x, 'rbmScorer.fit');
      s.rbm = new RBM({ ...opts, key: k }).fit(x, fitOpts);
    },
    score(x: Tensor): Float64Array {
      if (!s.rbm) throw new InvalidArgumentError('rbmScorer: call fit(x) first');
      return checkScores(Float64Array.from(s.rbm.freeEnergy(x).data), s.name);
    },
  };
  return s;
}

/** Options of {@link deepEbmScorer}. */
export interface DeepEbmScorerOptions {
  /** Hidden widths of the MLP energy (default [128, 128]). */
  readonly hidden?: readonly number[];
  /** Training steps (default 500), batch size (default 128), Adam lr (default 1e-3). */
  readonly steps?: number;
  readonly batchSize?: number;
  readonly lr?: number;
  /**
   * Sampler steps per training step (default 20: ULA steps from the buffer, or with `tempered` parallel-tempering
   * transitions of MALA at every temperature), step size (default 1e-2, in standardised units; ×T at temperature T).
   */
  readonly sgldSteps?: number;
  readonly stepSize?: number;
  /** Confining term strength `c` of `½c‖z‖²` (default 0.01) and energy regulariser `α` (default 0.1). */
  readonly confine?: number;
  readonly alpha?: number;
  /** Standardise coordinates (default true; set false for images whose columns can be constant). */
  readonly standardize?: boolean;
  /** Box `[lo, hi]` (every coordinate) for fresh Langevin chains (default: mean ± 3 std per coordinate). */
  readonly reinitBox?: readonly [number, number];
  /** Score with the energy (default) or the score norm. */
  readonly score?: 'energy' | 'score-norm';
  /**
   * Negatives: `buffer` (default: short-run Langevin from a replay buffer) or `tempered` (persistent parallel-tempering
   * chains, MALA at `temps` temperatures geometric from 1 to `tMax`; the T = 1 chains are the negatives). Tempered
   * chains visit the space between the data and the box, so far-away regions get high energy too.
   */
  readonly negatives?: 'buffer' | 'tempered';
  /** `tempered`: number of temperatures (default 6; ignored for `buffer`). */
  readonly temps?: number;
  /** `tempered`: hottest temperature of the geometric ladder (default 20; ignored for `buffer`). */
  readonly tMax?: number;
  /** Extra trainer options. */
  readonly train?: Partial<Pick<TrainDeepEbmOptions<Record<string, Tensor>>, 'clipNorm' | 'guard' | 'onLog'>>;
}

/**
 * Trains a deep MLP EBM on the normal rows (contrastive divergence with replay-buffer Langevin negatives, or with
 * parallel-tempering negatives when `negatives: 'tempered'`; the deep-EBM trainer) and scores with its energy `E(x)`
 * or its score norm `‖∇ₓE(x)‖`.
 */
export function deepEbmScorer(o: DeepEbmScorerOptions = {}): AnomalyScorer & { params: Record<string, Tensor> | null; config: DeepEbmConfig | null } {
  const mode = o.score ?? 'energy';
  const s = {
    name: mode === 'energy' ? 'deep-ebm-energy' : 'deep-ebm-score-norm',
    params: null as Record<string, Tensor> | null,
    config: null as DeepEbmConfig | null,
    fit(x: Tensor, k: Key): void {
      checkRowsFinite(x, 'deepEbmScorer.fit');
      const d = x.shape[1];
      const st = o.standardize === false ? { shift: [0], scale: [1] } : standardizationSafe(x);
      const cfg: DeepEbmConfig = {
        arch: { kind: 'mlp', sizes: [d, ...(o.hidden ?? [128, 128]), 1] }, activation: 'silu', shift: st.shift, scale: st.scale, confine: o.confine ?? 0.01,
      };
      const params = initDeepEbm(foldIn(k, 1), cfg);
      // Langevin in data space with a step scaled to the data spread (per-coordinate scale averaged).
      const meanScale = st.scale.reduce((a, b) => a + b, 0) / st.scale.length;
      const eta = (o.stepSize ?? 1e-2) * meanScale * meanScale;
      const lo = st.shift.map((m, j) => m - 3 * st.scale[st.scale.length === 1 ? 0 : j]);
      const hi = st.shift.map((m, j) => m + 3 * st.scale[st.scale.length === 1 ? 0 : j]);
      const cdOpts: CDOptions<Record<string, Tensor>> = {
        energy: (p) => deepEbmEnergy(p, cfg),
        sampler: (E) => ula(E, { stepSize: eta }),
        steps: o.sgldSteps ?? 20,
        negatives: o.negatives ?? 'buffer',
        ...(o.negatives === 'tempered' ? {
          tempering: { temperatures: geometricTemperatures(o.tMax ?? 20, o.temps ?? 6), stepSize: eta, local: 'mala' as const },
          chains: o.batchSize ?? 128,
        } : {}),
        bufferSize: Math.min(10_000, Math.max(1000, x.shape[0])),
        reinit: o.negatives === 'tempered' ? 0 : 0.05,
        reinitFrom: o.reinitBox
          ? { kind: 'uniform', low: o.reinitBox[0], high: o.reinitBox[1] }
          : { kind: 'uniform', low: lo.length === 1 ? lo[0] : lo, high: hi.length === 1 ? hi[0] : hi },
        alpha: o.alpha ?? 0.1,
      };
      const res = trainDeepEbm({
        params, loss: contrastiveDivergence(cdOpts), data: x, steps: o.steps ?? 500, batchSize: o.batchSize ?? 128,
        key: foldIn(k, 2), lr: o.lr ?? 1e-3, clipNorm: 1, ...(o.train ?? {}),
      });
      s.params = res.params;
      s.config = cfg;
    },
    score(x: Tensor): Float64Array {
      if (!s.params || !s.config) throw new InvalidArgumentError('deepEbmScorer: call fit(x) first');
      const E = deepEbmEnergy(s.params, s.config);
      return mode === 'energy' ? energyScorer(E, s.name).score(x) : scoreNormScorer(E, s.name).score(x);
    },
  };
  return s;
}

/** `standardization` with constant columns given scale 1 (image borders are constant). */
function standardizationSafe(x: Tensor): { shift: number[]; scale: number[] } {
  try {
    return standardization(x);
  } catch {
    const { mean, sd } = columnMoments(x);
    return { shift: Array.from(mean, Math.fround), scale: Array.from(sd, (s) => Math.fround(s > 1e-6 ? s : 1)) };
  }
}

/** Inverse of a lower-triangular `L [d, d]` (row-major), float64. */
function invLower(L: Float64Array, d: number): Float64Array {
  const M = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    M[j * d + j] = 1 / L[j * d + j];
    for (let i = j + 1; i < d; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += L[i * d + k] * M[k * d + j];
      M[i * d + j] = -s / L[i * d + i];
    }
  }
  return M;
}

/**
 * Baseline: a Gaussian fitted to the normal rows, score = negative log density
 * `½(x − μ)ᵀ(Σ + λI)⁻¹(x − μ) + ½ log det 2π(Σ + λI)`, with ridge `λ` (default 1e-3 × mean variance) for
 * rank-deficient data such as images.
 */
export function gaussianScorer(opts: { ridge?: number } = {}): AnomalyScorer {
  let mu: Float64Array | null = null;
  let Linv: Tensor | null = null;
  let logNorm = 0;
  return {
    name: 'gaussian',
    fit(x: Tensor): void {
      checkRowsFinite(x, 'gaussianScorer.fit');
      const [n, d] = x.shape;
      if (n < 2) throw new ShapeError('gaussianScorer.fit: need at least 2 rows');
      const stats = gaussianStats(x);
      mu = stats.mean;
      const S = stats.cov;
      let tr = 0;
      for (let j = 0; j < d; j++) tr += S[j * d + j];
      const lam = opts.ridge ?? Math.max(1e-3 * (tr / d), 1e-9);
      for (let j = 0; j < d; j++) S[j * d + j] += lam;
      const L = choleskyLower(S, d, (j) => new InvalidArgumentError(`gaussianScorer: covariance is not positive definite at pivot ${j} (raise ridge)`));
      let logDet = 0;
      for (let j = 0; j < d; j++) logDet += 2 * Math.log(L[j * d + j]);
      logNorm = 0.5 * (logDet + d * Math.log(2 * Math.PI));
      Linv = new Tensor(invLower(L, d), [d, d]);
    },
    score(x: Tensor): Float64Array {
      if (!mu || !Linv) throw new InvalidArgumentError('gaussianScorer: call fit(x) first');
      checkRowsFinite(x, 'gaussianScorer.score', mu.length);
      const [m, d] = x.shape;
      const xc = new Float64Array(m * d);
      for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) xc[i * d + j] = x.data[i * d + j] - mu[j];
      // z = L⁻¹(x − μ) for every row: Z = Xc·L⁻ᵀ.
      const Z = noGrad(() => matmul(new Tensor(xc, [m, d]), Linv!, { transB: true }));
      const out = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        let q = 0;
        for (let j = 0; j < d; j++) q += Z.data[i * d + j] ** 2;
        out[i] = 0.5 * q + logNorm;
      }
      return checkScores(out, 'gaussian');
    },
  };
}

/**
 * Baseline: distance to the `k`-th nearest normal row (default k = 5), Euclidean:
 * `score(x) = ‖x − x₍ₖ₎‖₂` where `x₍ₖ₎` is the k-th closest training row. Computed with one matrix product per block.
 */
export function knnScorer(opts: { k?: number } = {}): AnomalyScorer {
  const k = opts.k ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`knnScorer: k must be a positive integer, got ${k}`);
  let train: Tensor | null = null;
  let trainSq: Float64Array | null = null;
  return {
    name: `knn-${k}`,
    fit(x: Tensor): void {
      checkRowsFinite(x, 'knnScorer.fit');
      if (x.shape[0] < k) throw new ShapeError(`knnScorer.fit: need at least k = ${k} rows, got ${x.shape[0]}`);
      train = new Tensor(Float64Array.from(x.data), x.shape);
      const [n, d] = x.shape;
      trainSq = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) trainSq[i] += x.data[i * d + j] ** 2;
    },
    score(x: Tensor): Float64Array {
      if (!train || !trainSq) throw new InvalidArgumentError('knnScorer: call fit(x) first');
      const [n, d] = train.shape;
      checkRowsFinite(x, 'knnScorer.score', d);
      const m = x.shape[0];
      const out = new Float64Array(m);
      const best = new Float64Array(k);
      for (let s = 0; s < m; s += 256) {
        const e = Math.min(m, s + 256);
        const xb = new Tensor(Float64Array.from(x.data.subarray(s * d, e * d)), [e - s, d]);
        const G = noGrad(() => matmul(xb, train!, { transB: true })).data;
        for (let i = 0; i < e - s; i++) {
          let q = 0;
          for (let j = 0; j < d; j++) q += xb.data[i * d + j] ** 2;
          best.fill(Infinity);
          for (let t = 0; t < n; t++) {
            const dist = q + trainSq[t] - 2 * G[i * n + t];
            if (dist < best[k - 1]) {
              let p = k - 1;
              while (p > 0 && best[p - 1] > dist) {
                best[p] = best[p - 1];
                p--;
              }
              best[p] = dist;
            }
          }
          out[s + i] = Math.sqrt(Math.max(0, best[k - 1]));
        }
      }
      return checkScores(out, `knn-${k}`);
    },
  };
}
