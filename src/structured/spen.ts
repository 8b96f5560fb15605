/**
 * Structured-prediction energy networks (SPENs; Belanger & McCallum 2016) for multi-label classification: a learned
 * energy over inputs and relaxed label vectors,
 *
 *   E(x, y) = −Σ_i y_i·b_i(x)  +  c₂ᵀ g(C₁ y + d₁) + d₂,        y ∈ [0, 1]^L,
 *
 * where `b(x) = F(x)` is a feature network (an MLP `[D, …, L]`, the *local* term — alone it is a set of independent
 * logistic classifiers with logits `b`) and the second term is the *global label energy*, an MLP `[L, M, 1]` with
 * activation `g` (softplus by default) over the label vector only, which can learn label interactions such as
 * "exactly one label of this group is on". Low energy = good labelling.
 *
 * Inference minimises the relaxed objective `F(y) = E(x, y) − τ·H(y)` over the box, with `H(y) = −Σ_i [y_i log y_i +
 * (1 − y_i) log(1 − y_i)]`, from a fixed start for `T` steps, then thresholds at ½:
 * - `mirror` (default): entropic mirror descent in the logits `z = logit(y)` (Bregman proximal-gradient form, so the
 *   entropy term is handled exactly): `z ← (z − η ∇_y E(x, σ(z))) / (1 + ητ)`, `y = σ(z)`. With `τ = 0` it is plain
 *   entropic mirror descent on `E`; its fixed points with `τ > 0` satisfy `z = −∇_y E / τ` (mean-field-like).
 * - `pgd`: projected gradient descent `y ← clamp(y − η ∇_y F(y), 0, 1)` (`τ = 0` only).
 * `∇_y E` is computed in closed form with differentiable ops ({@link spenEnergyGrad}), so when inference runs inside
 * an outer gradient (unrolled training) the engine records the second-order terms `∂θ ∇_y E`.
 *
 * Training (see {@link trainSpen}):
 * - `ssvm`: the structured hinge (margin-rescaled SSVM) of the SPEN paper,
 *   `ℓ = [Δ(ŷ, y*) − E(x, ŷ) + E(x, y*)]₊` with the relaxed Hamming loss `Δ(y, y*) = Σ_i |y_i − y*_i|` and `ŷ` from
 *   loss-augmented inference `argmin_y E(x, y) − Δ(y, y*)` (run without a graph; the loss is then differentiated at
 *   fixed `ŷ`). Since `Δ` is linear in `y` on the box, loss-augmented inference is plain inference with local scores
 *   `b + 1 − 2y*`.
 * - `unrolled`: end-to-end training (Belanger, Yang & McCallum 2017): the `T` inference steps are unrolled and a loss
 *   on the final relaxed `y_T` (binary cross-entropy, or soft example-F1) is backpropagated to θ through every
 *   `∇_y E` (second order). Note: the BCE optimum is `y_T = p(y_i = 1 | x)`, the marginals, so BCE-unrolled SPENs
 *   converge to what independent classifiers predict; use `loss: 'f1'` (or `ssvm`) to exploit label structure.
 *
 * The baseline {@link trainIndependent} fits the same feature network as independent logistic classifiers (binary
 * cross-entropy on `σ(b(x))`, threshold ½): exactly the SPEN without its global term.
 * @example
 * const task = multilabelChainTask(key(0));
 * const tr = task.sample(key(1), 2000), te = task.sample(key(2), 1000);
 * const base = trainIndependent(key(3), tr.x, tr.y, { hidden: [32] });
 * const spen = trainSpen(key(4), tr.x, tr.y, { hidden: [32], features: base.params });
 * multilabelMetrics(spenPredict(spen, te.x).labels, te.y).f1   // vs
 * multilabelMetrics(predictIndependent(base.params, te.x), te.y).f1
 * @module
 */
import { Tensor, ShapeError, allFinite, full, zeros } from '../tensor/tensor.js';
import { valueAndGrad, noGrad } from '../tensor/autodiff.js';
import { add, clamp, div, log1p, mul, sigmoid, softplus, sub, neg, abs, relu } from '../tensor/ops/elementwise.js';
import { reshape, gatherRows } from '../tensor/ops/shape.js';
import { linear, matmul } from '../tensor/ops/linalg.js';
import { sum, mean } from '../tensor/ops/reduce.js';
import { foldIn, permutation, split, type Key } from '../random/index.js';
import { initMLP, applyMLP, mlpSizes, type MLPParams } from '../nn/mlp.js';
import { isActivation, type Activation } from '../nn/activations.js';
import { adam, applyUpdates } from '../optim/index.js';
import { InvalidArgumentError } from '../errors.js';

/** SPEN parameters: the feature network `F: x ↦ b(x)` and the global label-energy MLP `[L, M, 1]`. */
export type SpenParams = {
  /** Feature MLP `[D, h₁, …, L]` (keys `l{i}.w`, `l{i}.b`, see `initMLP`). */
  readonly local: MLPParams;
  /** Global label energy MLP `[L, M, 1]`: `C₁ = l0.w [L, M]`, `d₁ = l0.b`, `c₂ = l1.w [M, 1]`, `d₂ = l1.b`. */
  readonly global: MLPParams;
};

/** Architecture of a SPEN. */
export interface SpenConfig {
  /** Input dimension `D`. */
  readonly inputDim: number;
  /** Number of labels `L`. */
  readonly numLabels: number;
  /** Hidden widths of the feature network (default `[32]`). */
  readonly hidden?: readonly number[];
  /** Width `M` of the global energy's hidden layer (default 16). */
  readonly globalHidden?: number;
  /** Activation of the feature network (default `silu`). The global energy always uses `softplus`. */
  readonly activation?: Activation;
}

/** Activation of the global label energy `g`. */
const GLOBAL_ACT: Activation = 'softplus';

function checkInt(v: number, what: string, fn: string, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(`${fn}: ${what} must be an integer ≥ ${min}, got ${v}`);
}

/**
 * Initialises a SPEN: the feature MLP `[D, …hidden, L]` with `activation`, and the global energy `[L, M, 1]` with
 * its output layer scaled by `globalScale` (default 0.1) so that training starts close to independent classifiers.
 * @example const p = initSpen(key(0), { inputDim: 10, numLabels: 24, hidden: [32], globalHidden: 16 });
 */
export function initSpen(k: Key, cfg: SpenConfig, globalScale = 0.1): SpenParams {
  checkInt(cfg.inputDim, 'inputDim', 'initSpen');
  checkInt(cfg.numLabels, 'numLabels', 'initSpen');
  const hidden = cfg.hidden ?? [32];
  const M = cfg.globalHidden ?? 16;
  checkInt(M, 'globalHidden', 'initSpen');
  const act = cfg.activation ?? 'silu';
  if (!isActivation(act)) throw new InvalidArgumentError(`initSpen: unknown activation '${String(act)}'`);
  const [k1, k2] = split(k, 2);
  const local = initMLP(k1, [cfg.inputDim, ...hidden, cfg.numLabels], { activation: act });
  const g = initMLP(k2, [cfg.numLabels, M, 1], { activation: GLOBAL_ACT });
  g['l1.w'] = mul(g['l1.w'], globalScale);
  return { local, global: g };
}

function checkXY(x: Tensor, y: Tensor | null, fn: string): [number, number] {
  if (!(x instanceof Tensor) || x.ndim !== 2) throw new ShapeError(`${fn}: x must be a tensor [n, D], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  if (!allFinite(x)) {
    const i = Array.from(x.data).findIndex((v) => !Number.isFinite(v));
    throw new InvalidArgumentError(`${fn}: x at row ${Math.floor(i / x.shape[1])}, column ${i % x.shape[1]} is ${x.data[i]}`);
  }
  if (y === null) return [x.shape[0], 0];
  if (!(y instanceof Tensor) || y.ndim !== 2 || y.shape[0] !== x.shape[0]) {
    throw new ShapeError(`${fn}: labels must be a tensor [${x.shape[0]}, L], got ${y instanceof Tensor ? `[${y.shape.join(', ')}]` : typeof y}`);
  }
  const L = y.shape[1];
  for (let i = 0; i < y.size; i++) {
    const v = y.data[i];
    if (v !== 0 && v !== 1) throw new InvalidArgumentError(`${fn}: label at row ${Math.floor(i / L)}, column ${i % L} is ${v}, expected 0 or 1`);
  }
  return [x.shape[0], L];
}

/**
 * Local scores `b(x) = F(x)`: `x [n, D]` → `[n, L]` (the logits of the independent classifiers).
 * @param activation of the feature network (default `silu`).
 */
export function spenScores(params: SpenParams | MLPParams, x: Tensor, activation: Activation = 'silu'): Tensor {
  const local = isSpen(params) ? params.local : params;
  return applyMLP(local, x, activation);
}

function isSpen(p: SpenParams | MLPParams): p is SpenParams {
  return (p as SpenParams).local !== undefined && (p as SpenParams).global !== undefined && !((p as SpenParams).local instanceof Tensor);
}

/**
 * Global label energy `c₂ᵀ softplus(C₁ᵀ y + d₁) + d₂` of each row of `y [n, L]`: `[n]`.
 * @example labelEnergy(p.global, full([1, L], 0.5))
 */
export function labelEnergy(global: MLPParams, y: Tensor): Tensor {
  return reshape(applyMLP(global, y, GLOBAL_ACT), [y.shape[0]]);
}

/**
 * The SPEN energy from precomputed local scores: `E = −Σ_i y_i b_i + labelEnergy(y)`, `b, y [n, L]` → `[n]`.
 */
export function spenEnergyFromScores(global: MLPParams, b: Tensor, y: Tensor): Tensor {
  return sub(labelEnergy(global, y), sum(mul(y, b), 1));
}

/**
 * The SPEN energy `E(x, y) = −Σ_i y_i b_i(x) + c₂ᵀ g(C₁ᵀ y + d₁) + d₂` of each row: `x [n, D]`, `y [n, L]` → `[n]`.
 * Differentiable in `params`, `x` and `y` (to any order).
 * @example spenEnergy(p, x, full([n, L], 0.5))
 */
export function spenEnergy(params: SpenParams, x: Tensor, y: Tensor): Tensor {
  const b = spenScores(params, x);
  if (!(y instanceof Tensor) || y.ndim !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== b.shape[1]) {
    throw new ShapeError(`spenEnergy: y must be [${x.shape[0]}, ${b.shape[1]}], got [${y?.shape?.join(', ')}]`);
  }
  return spenEnergyFromScores(params.global, b, y);
}

/**
 * `∇_y E(x, y) = −b + C₁ (σ(C₁ᵀ y + d₁) ⊙ c₂)` row by row, `[n, L]` (the analytic gradient of the softplus label
 * energy), written with differentiable ops, so an outer gradient (unrolled training) sees `∂θ ∇_y E`.
 */
export function spenEnergyGrad(global: MLPParams, b: Tensor, y: Tensor): Tensor {
  const C1 = global['l0.w'];
  const c2 = global['l1.w'];
  const h = linear(y, C1, global['l0.b']);
  const s = mul(sigmoid(h), reshape(c2, [1, c2.shape[0]]));
  return sub(matmul(s, C1, { transB: true }), b);
}

/** Options of {@link spenInfer}. */
export interface SpenInferOptions {
  /** `mirror` (entropic mirror descent in the logits, default) or `pgd` (projected gradient descent on the box). */
  readonly method?: 'mirror' | 'pgd';
  /** Number of steps `T` (default 20). */
  readonly steps?: number;
  /** Step size `η` (default 0.5). */
  readonly stepSize?: number;
  /** Entropy weight `τ ≥ 0` of the objective `E − τH` (default 0; `pgd` requires 0). */
  readonly entropy?: number;
  /** Starting value of every `y_i` in (0, 1) (default 0.5). */
  readonly init?: number;
  /** Record the mean objective `E − τH` over rows at the start and after every step (default false). */
  readonly trace?: boolean;
  /** Activation of the feature network, used by {@link spenInfer} (default `silu`). */
  readonly activation?: Activation;
}

/** Result of {@link spenInfer}. */
export interface SpenInferResult {
  /** Relaxed labels `y_T ∈ [0, 1]^{n×L}`. */
  readonly y: Tensor;
  /** Mirror descent: the logits `z_T` with `y_T = σ(z_T)` (`null` for `pgd`). */
  readonly logits: Tensor | null;
  /** Hard labels `[y_T ≥ ½]` as a 0/1 tensor `[n, L]`. */
  readonly labels: Tensor;
  /** `E(x, y_T)` per row, `[n]`. */
  readonly energy: Tensor;
  /** With `trace`: mean objective over rows, `T + 1` values (start, then after each step). */
  readonly trace: Float64Array | null;
}

function inferOpts(opts: SpenInferOptions, fn: string): Required<SpenInferOptions> {
  const o = { activation: opts.activation ?? 'silu', method: opts.method ?? 'mirror', steps: opts.steps ?? 20, stepSize: opts.stepSize ?? 0.5, entropy: opts.entropy ?? 0, init: opts.init ?? 0.5, trace: opts.trace ?? false };
  if (o.method !== 'mirror' && o.method !== 'pgd') throw new InvalidArgumentError(`${fn}: method must be 'mirror' or 'pgd', got '${String(o.method)}'`);
  checkInt(o.steps, 'steps', fn, 0);
  if (!(o.stepSize > 0) || !Number.isFinite(o.stepSize)) throw new InvalidArgumentError(`${fn}: stepSize must be a positive number, got ${o.stepSize}`);
  if (!(o.entropy >= 0) || !Number.isFinite(o.entropy)) throw new InvalidArgumentError(`${fn}: entropy must be ≥ 0, got ${o.entropy}`);
  if (o.method === 'pgd' && o.entropy !== 0) throw new InvalidArgumentError(`${fn}: pgd supports entropy = 0 only (use method 'mirror')`);
  if (!(o.init > 0 && o.init < 1)) throw new InvalidArgumentError(`${fn}: init must be in (0, 1), got ${o.init}`);
  return o;
}

/** Negative binary entropy `Σ_i [y log y + (1−y) log(1−y)]` per row from logits (stable): `y·z − softplus(z)`. */
function negEntropyFromLogits(z: Tensor): Tensor {
  const y = sigmoid(z);
  return sum(sub(mul(y, z), softplus(z)), 1);
}

function meanOf(t: Tensor): number {
  let s = 0;
  for (let i = 0; i < t.size; i++) s += t.data[i];
  return s / t.size;
}

/**
 * Gradient-based inference from local scores `b [n, L]` (see the module documentation for the updates). Runs with
 * the autodiff graph when called inside an outer `grad` (unrolled training), otherwise without one.
 */
export function spenInferFromScores(global: MLPParams, b: Tensor, opts: SpenInferOptions = {}): SpenInferResult {
  const o = inferOpts(opts, 'spenInfer');
  const [n, L] = b.shape;
  const eta = o.stepSize;
  const tau = o.entropy;
  const traceVals: number[] = [];
  const objective = (y: Tensor, z: Tensor | null): number => noGrad(() => {
    const e = meanOf(spenEnergyFromScores(global, b, y));
    return tau > 0 && z ? e + tau * meanOf(negEntropyFromLogits(z)) : e;
  });
  let y: Tensor;
  let z: Tensor | null = null;
  if (o.method === 'mirror') {
    z = full([n, L], Math.log(o.init / (1 - o.init)), b.dtype);
    y = sigmoid(z);
    if (o.trace) traceVals.push(objective(y, z));
    for (let t = 0; t < o.steps; t++) {
      const g = spenEnergyGrad(global, b, y);
      z = sub(z, mul(g, eta));
      if (tau > 0) z = mul(z, 1 / (1 + eta * tau));
      y = sigmoid(z);
      if (o.trace) traceVals.push(objective(y, z));
    }
  } else {
    y = full([n, L], o.init, b.dtype);
    if (o.trace) traceVals.push(objective(y, null));
    for (let t = 0; t < o.steps; t++) {
      const g = spenEnergyGrad(global, b, y);
      y = clamp(sub(y, mul(g, eta)), 0, 1);
      if (o.trace) traceVals.push(objective(y, null));
    }
  }
  if (!allFinite(y)) throw new InvalidArgumentError(`spenInfer: relaxed labels became non-finite (step size ${eta} too large?)`);
  const labels = zeros([n, L], 'float32');
  for (let i = 0; i < y.size; i++) labels.data[i] = y.data[i] >= 0.5 ? 1 : 0;
  const energy = noGrad(() => spenEnergyFromScores(global, b, y));
  return { y, logits: z, labels, energy, trace: o.trace ? Float64Array.from(traceVals) : null };
}

/**
 * SPEN prediction for inputs `x [n, D]`: local scores, then gradient-based inference over relaxed `y` and a ½
 * threshold. Runs without an autodiff graph.
 * @example const { labels } = spenInfer(p, x, { steps: 20, stepSize: 0.5 });
 */
export function spenInfer(params: SpenParams, x: Tensor, opts: SpenInferOptions = {}): SpenInferResult {
  checkXY(x, null, 'spenInfer');
  return noGrad(() => spenInferFromScores(params.global, spenScores(params, x, opts.activation), opts));
}

/** Options shared by {@link trainSpen} and {@link trainIndependent}. */
export interface MultilabelTrainOptions {
  /** Hidden widths of the feature network (default `[32]`). */
  readonly hidden?: readonly number[];
  /** Feature-network activation (default `silu`). */
  readonly activation?: Activation;
  /** Passes over the data (default 30). */
  readonly epochs?: number;
  /** Minibatch size (default 100). */
  readonly batchSize?: number;
  /** Adam learning rate (default 0.01). */
  readonly lr?: number;
  /** L2 weight decay added to the gradient (default 1e-4). */
  readonly weightDecay?: number;
}

/** Options of {@link trainSpen}. */
export interface SpenTrainOptions extends MultilabelTrainOptions {
  /** `ssvm` (structured hinge with loss-augmented inference, default) or `unrolled` (end-to-end through `T` steps). */
  readonly method?: 'ssvm' | 'unrolled';
  /** Width `M` of the global energy's hidden layer (default 16). */
  readonly globalHidden?: number;
  /**
   * Loss on the final relaxed labels for `unrolled`: `bce` (binary cross-entropy, default) or `f1` (soft example F1,
   * `1 − mean_n 2Σ_i y_i y*_i / (Σ_i y_i + Σ_i y*_i)`).
   */
  readonly loss?: 'bce' | 'f1';
  /** Start the feature network from these parameters (e.g. a trained {@link trainIndependent} network, same `activation`). */
  readonly features?: MLPParams;
  /** Inference used in training and returned for prediction (defaults of {@link spenInfer}). */
  readonly inference?: SpenInferOptions;
}

/** Result of {@link trainSpen}. */
export interface SpenTrainResult {
  readonly params: SpenParams;
  /** Mean training loss of every epoch. */
  readonly losses: Float64Array;
  /** The inference options to use for prediction: those of training, with the feature activation. */
  readonly inference: SpenInferOptions;
}

/** Result of {@link trainIndependent}. */
export interface IndependentTrainResult {
  /** Feature network `[D, …, L]`; `σ(b(x))` are the label probabilities. */
  readonly params: MLPParams;
  /** Mean training loss (binary cross-entropy per label) of every epoch. */
  readonly losses: Float64Array;
  /** Activation of the feature network. */
  readonly activation: Activation;
}

function trainCommon(opts: MultilabelTrainOptions, fn: string) {
  const o = { epochs: opts.epochs ?? 30, batchSize: opts.batchSize ?? 100, lr: opts.lr ?? 0.01, weightDecay: opts.weightDecay ?? 1e-4, hidden: opts.hidden ?? [32], activation: opts.activation ?? 'silu' };
  checkInt(o.epochs, 'epochs', fn, 0);
  checkInt(o.batchSize, 'batchSize', fn);
  if (!(o.lr > 0)) throw new InvalidArgumentError(`${fn}: lr must be > 0, got ${o.lr}`);
  if (!(o.weightDecay >= 0)) throw new InvalidArgumentError(`${fn}: weightDecay must be ≥ 0, got ${o.weightDecay}`);
  if (!isActivation(o.activation)) throw new InvalidArgumentError(`${fn}: unknown activation '${String(o.activation)}'`);
  return o;
}

/** Mean binary cross-entropy with logits: `mean(softplus(z) − y·z)`. */
function bceWithLogits(z: Tensor, y: Tensor): Tensor {
  return mean(sub(softplus(z), mul(y, z)));
}

/** Minibatch Adam loop shared by the trainers: `lossFn(params, xb, yb)` → scalar. */
function fit<P extends SpenParams | MLPParams>(k: Key, params: P, x: Tensor, y: Tensor, o: ReturnType<typeof trainCommon>, lossFn: (p: P, xb: Tensor, yb: Tensor) => Tensor, fn: string): [P, Float64Array] {
  const n = x.shape[0];
  const opt = adam(o.lr, { weightDecay: o.weightDecay });
  let state = opt.init(params);
  const vg = valueAndGrad(lossFn);
  const losses = new Float64Array(o.epochs);
  for (let ep = 0; ep < o.epochs; ep++) {
    const perm = permutation(foldIn(k, ep), n);
    let tot = 0;
    let batches = 0;
    for (let s = 0; s < n; s += o.batchSize) {
      const idx = Array.from(perm.subarray(s, Math.min(n, s + o.batchSize)));
      const xb = gatherRows(x, idx);
      const yb = gatherRows(y, idx);
      const [loss, g] = vg(params, xb, yb);
      const lv = loss.data[0];
      if (!Number.isFinite(lv)) throw new InvalidArgumentError(`${fn}: loss became ${lv} at epoch ${ep}, batch ${batches} (lower the learning rate?)`);
      const [u, next] = opt.update(g, state, params);
      state = next;
      params = applyUpdates(params, u);
      tot += lv;
      batches++;
    }
    losses[ep] = tot / Math.max(batches, 1);
  }
  return [params, losses];
}

/**
 * Independent logistic classifiers sharing one feature network: minimises the mean binary cross-entropy
 * `mean_{n,i} [softplus(b_i(x_n)) − y_ni·b_i(x_n)]` with Adam. Predict with {@link predictIndependent} (`σ(b) ≥ ½`).
 * @param x inputs `[n, D]`. @param y 0/1 labels `[n, L]`.
 * @example const base = trainIndependent(key(0), x, y, { hidden: [32], epochs: 30 });
 */
export function trainIndependent(k: Key, x: Tensor, y: Tensor, opts: MultilabelTrainOptions & { readonly loss?: 'bce' | 'f1' } = {}): IndependentTrainResult {
  const [, L] = checkXY(x, y, 'trainIndependent');
  const o = trainCommon(opts, 'trainIndependent');
  const act = o.activation;
  const p0 = initMLP(foldIn(k, 0), [x.shape[1], ...o.hidden, L], { activation: act });
  const lossKind = opts.loss ?? 'bce';
  if (lossKind !== 'bce' && lossKind !== 'f1') throw new InvalidArgumentError(`trainIndependent: loss must be 'bce' or 'f1', got '${String(lossKind)}'`);
  const [params, losses] = fit(foldIn(k, 1), p0, x, y, o, (p, xb, yb) => {
    const z = applyMLP(p, xb, act);
    return lossKind === 'f1' ? softF1Loss(sigmoid(z), yb) : bceWithLogits(z, yb);
  }, 'trainIndependent');
  return { params, losses, activation: act };
}

/**
 * Label probabilities `σ(b(x))` of independent classifiers, `[n, L]`; threshold at ½ for labels (as
 * {@link multilabelMetrics} does).
 */
export function predictIndependent(params: MLPParams, x: Tensor, activation: Activation = 'silu'): Tensor {
  checkXY(x, null, 'predictIndependent');
  return noGrad(() => sigmoid(spenScores(params, x, activation)));
}

/**
 * Trains a SPEN on inputs `x [n, D]` and 0/1 labels `y [n, L]` with Adam over minibatches (see the module
 * documentation for the `ssvm` and `unrolled` losses). The global energy starts small (`initSpen`), and the feature
 * network from `opts.features` when given (the SPEN paper pre-trains it as independent classifiers).
 * @example const { params, inference } = trainSpen(key(0), x, y, { method: 'ssvm', features: base.params });
 */
export function trainSpen(k: Key, x: Tensor, y: Tensor, opts: SpenTrainOptions = {}): SpenTrainResult {
  const [, L] = checkXY(x, y, 'trainSpen');
  const o = trainCommon(opts, 'trainSpen');
  const method = opts.method ?? 'ssvm';
  if (method !== 'ssvm' && method !== 'unrolled') throw new InvalidArgumentError(`trainSpen: method must be 'ssvm' or 'unrolled', got '${String(method)}'`);
  const inf = opts.inference ?? {};
  inferOpts(inf, 'trainSpen');
  const unrolledLoss = opts.loss ?? 'bce';
  if (unrolledLoss !== 'bce' && unrolledLoss !== 'f1') throw new InvalidArgumentError(`trainSpen: loss must be 'bce' or 'f1', got '${String(unrolledLoss)}'`);
  const act = o.activation;
  const init = initSpen(foldIn(k, 0), { inputDim: x.shape[1], numLabels: L, hidden: o.hidden, globalHidden: opts.globalHidden, activation: act });
  let p0: SpenParams = init;
  if (opts.features) {
    const sizes = mlpSizes(opts.features);
    if (sizes[0] !== x.shape[1] || sizes[sizes.length - 1] !== L) {
      throw new ShapeError(`trainSpen: features network is [${sizes.join(', ')}] but the data need [${x.shape[1]}, …, ${L}]`);
    }
    p0 = { local: { ...opts.features }, global: init.global };
  }
  const lossFn = method === 'ssvm'
    ? (p: SpenParams, xb: Tensor, yb: Tensor): Tensor => {
      const b = applyMLP(p.local, xb, act);
      // Loss-augmented inference at fixed parameters: argmin_y E(x, y) − Δ(y, y*) = inference with scores b + 1 − 2y*.
      const yhat = noGrad(() => {
        const bAug = add(b, sub(1, mul(yb, 2)));
        return spenInferFromScores(p.global, bAug, inf).y;
      });
      const delta = sum(abs(sub(yhat, yb)), 1);
      const margin = add(delta, sub(spenEnergyFromScores(p.global, b, yb), spenEnergyFromScores(p.global, b, yhat)));
      return mean(relu(margin));
    }
    : (p: SpenParams, xb: Tensor, yb: Tensor): Tensor => {
      const b = applyMLP(p.local, xb, act);
      const r = spenInferFromScores(p.global, b, inf);
      if (unrolledLoss === 'f1') return softF1Loss(r.y, yb);
      if (r.logits) return bceWithLogits(r.logits, yb);
      const yc = clamp(r.y, 1e-6, 1 - 1e-6);
      return neg(mean(add(mul(yb, logOf(yc)), mul(sub(1, yb), logOf(sub(1, yc))))));
    };
  const [params, losses] = fit(foldIn(k, 1), p0, x, y, o, lossFn, 'trainSpen');
  return { params, losses, inference: { ...inf, activation: act } };
}

/** Soft example-F1 loss `1 − mean_n 2Σ_i y_i y*_i / (Σ_i y_i + Σ_i y*_i + ε)` on relaxed `y`. */
function softF1Loss(y: Tensor, yb: Tensor): Tensor {
  const num = mul(sum(mul(y, yb), 1), 2);
  const den = add(add(sum(y, 1), sum(yb, 1)), 1e-6);
  return sub(1, mean(div(num, den)));
}

function logOf(t: Tensor): Tensor {
  return neg(log1p(sub(div(1, t), 1)));
}

/**
 * SPEN prediction with the inference settings of training: hard labels `[n, L]` and the relaxed `y`.
 * @example spenPredict(trained, xTest).labels
 */
export function spenPredict(trained: SpenTrainResult, x: Tensor): SpenInferResult {
  return spenInfer(trained.params, x, trained.inference);
}

/** Multi-label scores of hard predictions against 0/1 truth. */
export interface MultilabelScores {
  /** Example-level F1: mean over rows of `2|ŷ ∩ y| / (|ŷ| + |y|)` (1 when both are empty). */
  readonly f1: number;
  /** Hamming loss: fraction of wrong label entries. */
  readonly hamming: number;
  /** Subset accuracy: fraction of rows predicted exactly. */
  readonly subsetAccuracy: number;
  /** Per-row F1 (for paired comparisons and standard errors). */
  readonly rowF1: Float64Array;
}

/**
 * Example-level F1, Hamming loss and subset accuracy of predictions `pred [n, L]` (entries ≥ ½ count as on, so
 * probabilities may be passed directly) against 0/1 labels `truth [n, L]`.
 * @example multilabelMetrics(tensor([[1, 0, 1]]), tensor([[1, 1, 0]])) // f1 0.5, hamming 2/3, subset 0
 */
export function multilabelMetrics(pred: Tensor, truth: Tensor): MultilabelScores {
  if (!(pred instanceof Tensor) || !(truth instanceof Tensor) || pred.ndim !== 2 || truth.ndim !== 2 || pred.shape[0] !== truth.shape[0] || pred.shape[1] !== truth.shape[1]) {
    throw new ShapeError(`multilabelMetrics: pred and truth must be tensors of the same shape [n, L], got [${pred?.shape?.join(', ')}] and [${truth?.shape?.join(', ')}]`);
  }
  const [n, L] = truth.shape;
  if (n < 1) throw new ShapeError('multilabelMetrics: no rows');
  const rowF1 = new Float64Array(n);
  let wrong = 0;
  let exact = 0;
  for (let r = 0; r < n; r++) {
    let tp = 0, np = 0, nt = 0, ok = true;
    for (let l = 0; l < L; l++) {
      const pv = pred.data[r * L + l];
      if (Number.isNaN(pv)) throw new InvalidArgumentError(`multilabelMetrics: prediction at row ${r}, column ${l} is NaN`);
      const t = truth.data[r * L + l];
      if (t !== 0 && t !== 1) throw new InvalidArgumentError(`multilabelMetrics: truth at row ${r}, column ${l} is ${t}, expected 0 or 1`);
      const a = pv >= 0.5 ? 1 : 0;
      tp += a * t;
      np += a;
      nt += t;
      if (a !== t) { wrong++; ok = false; }
    }
    rowF1[r] = np + nt === 0 ? 1 : (2 * tp) / (np + nt);
    if (ok) exact++;
  }
  let f = 0;
  for (let r = 0; r < n; r++) f += rowF1[r];
  return { f1: f / n, hamming: wrong / (n * L), subsetAccuracy: exact / n, rowF1 };
}
