/**
 * Joint energy-based models (JEM, Grathwohl et al. 2019) over any classifier network `f_θ(x) → logits [n, K]`:
 *
 * - `p(y|x) = softmax(f(x))_y` — the classifier, unchanged;
 * - `E(x, y) = −f(x)[y]`, so `p(x, y) ∝ exp(f(x)[y])`;
 * - `E(x) = −log Σ_y exp(f(x)[y]) = −logsumexp f(x)`, so `p(x) ∝ exp(logsumexp f(x))`.
 *
 * This module holds the energies, predictions, out-of-distribution scores and (class-conditional) SGLD sampling;
 * the hybrid training loss is in `loss.ts`.
 * @module
 */
import {
  Tensor, ShapeError, logsumexp, neg, takeAlongRows, noGrad, reshape, type Tree,
} from '../../tensor/index.js';
import { split, type Key } from '../../random/index.js';
import { energyAndGrad, type Energy } from '../../energy/index.js';
import { applyMLP, applyConvNet, type Activation, type ConvNetConfig, type MLPParams } from '../../nn/index.js';
import { ula } from '../../samplers/index.js';
import { runChains, freshChains, type NegativeSampler, type ReinitSource } from '../../losses/contrastiveDivergence.js';
import { softmaxRows } from '../../eval/classification.js';
import { InvalidArgumentError } from '../../errors.js';

/**
 * A classifier network: parameters and flat rows `x [n, D]` → logits `[n, K]` (differentiable in both).
 * Any network works; {@link mlpClassifier} and {@link convClassifier} wrap the `src/nn` ones.
 */
export type Classifier<P extends Tree> = (params: P, x: Tensor) => Tensor;

/**
 * An MLP classifier `[D, h₁, …, K]` (parameters from `initMLP(key, [D, …, K])`).
 * @example const f = mlpClassifier('silu'); f(initMLP(key(0), [64, 128, 10]), x) // [n, 10]
 */
export function mlpClassifier(activation: Activation = 'silu'): Classifier<MLPParams> {
  return (p, x) => applyMLP(p, x, activation);
}

/**
 * A conv-net classifier on images stored as flat rows `[n, C·H·W]` (parameters from `initConvNet(key, cfg)` with
 * `cfg.out = K`).
 */
export function convClassifier(cfg: ConvNetConfig): Classifier<Record<string, Tensor>> {
  const D = cfg.inChannels * cfg.height * cfg.width;
  return (p, x) => {
    if (x.ndim !== 2 || x.shape[1] !== D) throw new ShapeError(`convClassifier: expected x [n, ${D}], got [${x.shape.join(', ')}]`);
    return applyConvNet(p, x, cfg);
  };
}

function logitsOf<P extends Tree>(f: Classifier<P>, params: P, x: Tensor, fn: string): Tensor {
  const l = f(params, x);
  if (l.ndim !== 2 || l.shape[0] !== x.shape[0]) throw new ShapeError(`${fn}: the classifier must return logits [${x.shape[0]}, K], got [${l.shape.join(', ')}]`);
  return l;
}

function checkRows(x: Tensor, dim: number, fn: string): void {
  if (!(x instanceof Tensor) || x.ndim !== 2 || x.shape[1] !== dim) throw new ShapeError(`${fn}: expected x of shape [n, ${dim}], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
}

/**
 * The JEM marginal energy `E(x) = −logsumexp_y f(x)[y]` as an {@link Energy} on rows `[n, dim]` → `[n]`
 * (differentiable in `x` and in the parameters).
 * @example const E = jemEnergy(mlpClassifier(), params, 64); E.energy(x) // [n]
 */
export function jemEnergy<P extends Tree>(f: Classifier<P>, params: P, dim: number): Energy {
  return {
    dim,
    energy(x: Tensor): Tensor {
      checkRows(x, dim, 'jemEnergy');
      return neg(logsumexp(logitsOf(f, params, x, 'jemEnergy'), 1));
    },
  };
}

/**
 * The class-conditional JEM energy `E(xᵢ, yᵢ) = −f(xᵢ)[yᵢ]` with one fixed label per row (`labels [n]`), as an
 * {@link Energy}: it must be evaluated on batches of exactly `n` rows in that order (as samplers do), so that chain
 * `i` targets `p(x | yᵢ) ∝ exp(f(x)[yᵢ])`.
 * @example const E = jemConditionalEnergy(f, params, 64, Int32Array.from([0, 1, 2])); E.energy(x3) // [3]
 */
export function jemConditionalEnergy<P extends Tree>(f: Classifier<P>, params: P, dim: number, labels: Int32Array): Energy {
  return {
    dim,
    energy(x: Tensor): Tensor {
      checkRows(x, dim, 'jemConditionalEnergy');
      if (x.shape[0] !== labels.length) throw new ShapeError(`jemConditionalEnergy: built for ${labels.length} rows (one label each), got ${x.shape[0]}`);
      return neg(takeAlongRows(logitsOf(f, params, x, 'jemConditionalEnergy'), labels));
    },
  };
}

/** Runs `fn` over row blocks of `x [n, D]` and concatenates the per-row results. */
function byBlocks(x: Tensor, block: number, fn: (xb: Tensor, start: number) => void): void {
  const [n, D] = x.shape;
  for (let s = 0; s < n; s += block) {
    const e = Math.min(n, s + block);
    fn(new Tensor(x.data.subarray(s * D, e * D) as typeof x.data, [e - s, D]), s);
  }
}

/**
 * Class probabilities `p(y|x) = softmax(f(x))` of rows `x [n, D]`, in float64 `[n, K]`, evaluated without a graph in
 * blocks of `block` rows.
 */
export function jemPredict<P extends Tree>(f: Classifier<P>, params: P, x: Tensor, block = 1000): Tensor {
  if (!(x instanceof Tensor) || x.ndim !== 2) throw new ShapeError(`jemPredict: expected x [n, D], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  let out: Float64Array | null = null;
  let K = 0;
  noGrad(() => byBlocks(x, block, (xb, s) => {
    const p = softmaxRows(logitsOf(f, params, xb, 'jemPredict'));
    K = p.shape[1];
    out ??= new Float64Array(x.shape[0] * K);
    out.set(p.data as Float64Array, s * K);
  }));
  return new Tensor(out ?? new Float64Array(0), [x.shape[0], K]);
}

/** Per-row scores of a JEM; see {@link jemScores}. */
export interface JemScores {
  /** Unnormalised `log p̃(x) = logsumexp f(x) = −E(x)` (higher = more in-distribution). */
  readonly logPx: Float64Array;
  /** `max_y p(y|x)` (higher = more confident). */
  readonly maxProb: Float64Array;
  /** `‖∇ₓ log p̃(x)‖₂ = ‖∇ₓE(x)‖₂` (JEM's "approximate mass" uses its negative). */
  readonly gradNorm: Float64Array;
}

/** The names of the JEM scores. */
export type JemScoreName = 'logPx' | 'maxProb' | 'gradNorm';

/**
 * The three out-of-distribution scores of Grathwohl et al. (2019) for rows `x [n, D]`: `log p̃(x)`, `max_y p(y|x)`
 * and `‖∇ₓ log p(x)‖` (the normaliser does not depend on `x`, so the gradient is exact). Evaluated in blocks.
 * As anomaly scores (higher = more anomalous) use `−logPx`, `−maxProb` and `gradNorm` ({@link jemAnomalyScore}).
 */
export function jemScores<P extends Tree>(f: Classifier<P>, params: P, x: Tensor, block = 500): JemScores {
  checkRows(x, x.shape[1], 'jemScores');
  const n = x.shape[0];
  const D = x.shape[1];
  const logPx = new Float64Array(n), maxProb = new Float64Array(n), gradNorm = new Float64Array(n);
  byBlocks(x, block, (xb, s) => {
    const m = xb.shape[0];
    const { energy, grad } = energyAndGrad(jemEnergy(f, params, D), xb);
    const probs = noGrad(() => softmaxRows(logitsOf(f, params, xb, 'jemScores')));
    const K = probs.shape[1];
    for (let i = 0; i < m; i++) {
      logPx[s + i] = -energy.data[i];
      let mp = 0;
      for (let k = 0; k < K; k++) mp = Math.max(mp, probs.data[i * K + k]);
      maxProb[s + i] = mp;
      let g2 = 0;
      for (let j = 0; j < D; j++) g2 += grad.data[i * D + j] ** 2;
      gradNorm[s + i] = Math.sqrt(g2);
    }
  });
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(logPx[i]) || !Number.isFinite(gradNorm[i])) throw new InvalidArgumentError(`jemScores: the model gives a non-finite score at row ${i} (log p̃ = ${logPx[i]}, ‖∇‖ = ${gradNorm[i]})`);
  }
  return { logPx, maxProb, gradNorm };
}

/**
 * A JEM score turned into an anomaly score (higher = more anomalous): `−log p̃(x)`, `−max_y p(y|x)`, or
 * `‖∇ₓ log p(x)‖`.
 */
export function jemAnomalyScore(s: JemScores, name: JemScoreName): Float64Array {
  if (name === 'logPx') return s.logPx.map((v) => -v);
  if (name === 'maxProb') return s.maxProb.map((v) => -v);
  if (name === 'gradNorm') return s.gradNorm.slice();
  throw new InvalidArgumentError(`jemAnomalyScore: unknown score "${String(name)}" (use logPx, maxProb or gradNorm)`);
}

/** Options of {@link sampleJem}. */
export interface SampleJemOptions {
  readonly key: Key;
  /** Number of samples. */
  readonly n: number;
  /** SGLD steps (default 100). */
  readonly steps?: number;
  /** The kernel (default JEM's SGLD: `x ← x − 1·∇E(x) + 0.01·ξ`, i.e. `ula(E, {gradStep: 1, noiseScale: 0.01})`). */
  readonly sampler?: NegativeSampler;
  /** Chain starts (default uniform on [−1, 1]). */
  readonly init?: ReinitSource | Tensor;
  /** Class-conditional sampling from `p(x|y)`: one label per sample (`[n]`), or one class for all. */
  readonly labels?: Int32Array | number;
}

/** JEM's default SGLD kernel: step 1 on the gradient, noise 0.01 (temperature 5·10⁻⁵). */
export const jemSgld: NegativeSampler = (E) => ula(E, { gradStep: 1, noiseScale: 0.01 });

/**
 * Draws `n` samples `[n, D]` from a JEM by SGLD from noise: from `p(x) ∝ exp(logsumexp f(x))`, or, with
 * `labels`, class-conditionally from `p(x|y) ∝ exp(f(x)[y])`.
 * @example const x7 = sampleJem(f, params, 64, { key: key(1), n: 16, labels: 7, steps: 200 });
 */
export function sampleJem<P extends Tree>(f: Classifier<P>, params: P, dim: number, o: SampleJemOptions): Tensor {
  if (!Number.isInteger(o.n) || o.n < 1) throw new InvalidArgumentError(`sampleJem: n must be a positive integer, got ${o.n}`);
  const steps = o.steps ?? 100;
  if (!Number.isInteger(steps) || steps < 1) throw new InvalidArgumentError(`sampleJem: steps must be a positive integer, got ${steps}`);
  const [kInit, kChain] = split(o.key, 2);
  let x0: Tensor;
  if (o.init instanceof Tensor) {
    checkRows(o.init, dim, 'sampleJem: init');
    if (o.init.shape[0] !== o.n) throw new ShapeError(`sampleJem: init has ${o.init.shape[0]} rows, n is ${o.n}`);
    x0 = o.init;
  } else x0 = freshChains(kInit, o.init ?? { kind: 'uniform', low: -1, high: 1 }, o.n, [dim], 'float32');
  let E: Energy;
  if (o.labels === undefined) E = jemEnergy(f, params, dim);
  else {
    const lab = typeof o.labels === 'number' ? new Int32Array(o.n).fill(o.labels) : o.labels;
    if (lab.length !== o.n) throw new ShapeError(`sampleJem: ${lab.length} labels for n = ${o.n} samples`);
    E = jemConditionalEnergy(f, params, dim, lab);
  }
  return runChains(o.sampler ?? jemSgld, E, x0, kChain, steps).x;
}

/** Reshapes flat rows to `[n, D]` (helper for image data given as `[n, H, W]`). */
export function flatRows(x: Tensor): Tensor {
  return x.ndim === 2 ? x : reshape(x, [x.shape[0], x.size / Math.max(1, x.shape[0])]);
}
