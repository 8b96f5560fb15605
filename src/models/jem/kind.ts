/**
 * JEM as a model kind: a validated config (MLP classifier on standardised inputs, SGLD and loss settings, the label
 * value of each class), `initJem`, the loss, a pure `jemTrainStep`, a guarded trainer, `sampleJemModel` (optionally
 * class-conditional), `evaluateJemModel` (accuracy, ECE, NLL), OOD scores, and the file codec (safetensors +
 * metadata, kind `"jem"`). The CLI (`ebm train jem`) and the playground call these functions and nothing else.
 *
 * Inputs are standardised, `z = (x − shift) / scale` (images: `z = 2x − 1`, so pixels in [0, 1] become [−1, 1]),
 * and the classifier `f(z) → logits [n, K]` works on `z`; SGLD runs in `z` and samples are mapped back to data space.
 * `E(x) = −logsumexp f(z)` is therefore the energy of `z`: it differs from that of `x` by the constant `Σ log scale`.
 * @module
 */
import { columnMeanSd } from '../../data/columns.js';
import { Tensor, noGrad } from '../../tensor/index.js';
import { split, foldIn, key as makeKey, type Key } from '../../random/index.js';
import { initMLP, applyMLP, mlpFeatures, initConvNet, convNetFeatures, isActivation, ACTIVATIONS, type Activation, type MLPParams, type ConvNetConfig } from '../../nn/index.js';
import { scaleByAdam, clipByGlobalNorm, chain, applyUpdates, cloneOptState, globalNorm, linearWarmup, warmupCosine, cosineDecay, type OptState, type Schedule } from '../../optim/index.js';
import { ula } from '../../samplers/index.js';
import { cdValueAndGrad, type NegativeSampler, type CDValueAndGrad, type CDState } from '../../losses/contrastiveDivergence.js';
import { accuracy, expectedCalibrationError, negLogLik } from '../../eval/classification.js';
import { layoutOf, checkTensorLayout, type ModelFile } from '../../io/model.js';
import { trainDeepEbm, trainDeepEbmAsync, type TrainedDeepEbm, type TrainDeepEbmOptions, type StoppableRunOptions, type StoppedDeepEbm, type DeepEbmResumeState, type GuardEvent, type DeepEbmLogRecord } from '../deepEbm/index.js';
import { jemLoss, packLabelled, type JemLoss, type JemState, type JemAux } from './loss.js';
import { jemPredict, jemScores, sampleJem, convClassifier, type Classifier } from './model.js';
import { InvalidArgumentError } from '../../errors.js';

/** The model-file kind string of JEMs. */
export const JEM_KIND = 'jem';

/** A validated JEM config (what a model file stores). */
export interface JemConfig {
  /** Row length `D`. */
  readonly dim: number;
  /** Number of classes `K`. */
  readonly numClasses: number;
  /** The label value (as in the data) of each class index `0 … K−1`. */
  readonly classes: readonly number[];
  /**
   * Hidden widths of the dense layers: the whole MLP classifier `[D, …hidden, K]`, or, with `conv`, the dense layers
   * after the convolutions.
   */
  readonly hidden: readonly number[];
  /**
   * Output channels of the 3×3, stride-2, padding-1 convolutions of a conv-net classifier on the images
   * (`imageShape` required; one input channel), or null for an MLP. Files written before this field read as null.
   */
  readonly conv: readonly number[] | null;
  readonly activation: Activation;
  /** Standardisation `z = (x − shift) / scale`: one value per column, or one for all. */
  readonly shift: readonly number[];
  readonly scale: readonly number[];
  /** `[h, w]` when rows are images, else null. */
  readonly imageShape: readonly [number, number] | null;
  /** SGLD in `z`: `z ← clamp(z − gradStep·∇E + noise·ξ, box)`; `steps` per training step and per sample. */
  readonly sgld: { readonly steps: number; readonly sampleSteps: number; readonly gradStep: number; readonly noise: number; readonly box: readonly [number, number] };
  /** Weights of `−log p(y|x)`, `−log p(x)`, `−log p(x|y)`. */
  readonly weights: { readonly clf: number; readonly px: number; readonly pxy: number };
  /** Energy-magnitude regulariser α, data noise (in `z`), replay-buffer size, restart fraction. */
  readonly alpha: number;
  readonly dataNoise: number;
  readonly bufferSize: number;
  readonly reinit: number;
  /** The CSV column the labels came from (name or 1-based index), or null. */
  readonly labelColumn: string | null;
}

/** Settings of {@link jemConfig}; all but `dim` and `classes` have defaults. */
export type JemConfigInput = Partial<Omit<JemConfig, 'sgld' | 'weights' | 'numClasses'>> & {
  readonly dim: number;
  readonly classes: readonly number[];
  readonly sgld?: Partial<JemConfig['sgld']>;
  readonly weights?: Partial<JemConfig['weights']>;
};

/**
 * The defaults, from the MNIST benchmark (bench/RESULTS.md, "JEM on MNIST"): MLP 128-128 (SiLU), 10 SGLD steps of
 * step 1 and noise 0.01 clamped to [−1, 1], `w_px = 0.1`, α = 0.01, data noise 0.03, buffer 5 000, 5 % restarts.
 */
export const JEM_DEFAULTS = {
  hidden: [128, 128], activation: 'silu' as Activation,
  sgld: { steps: 10, sampleSteps: 100, gradStep: 1, noise: 0.01, box: [-1, 1] as const },
  weights: { clf: 1, px: 0.1, pxy: 0 }, alpha: 0.01, dataNoise: 0.03, bufferSize: 5000, reinit: 0.05,
} as const;

const bad = (m: string): never => {
  throw new InvalidArgumentError(`jem config: ${m}`);
};
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const posInt = (v: unknown, what: string): number => (Number.isSafeInteger(v) && (v as number) >= 1 ? (v as number) : bad(`${what} must be a positive integer, got ${String(v)}`));
const nonNeg = (v: unknown, what: string): number => (isNum(v) && v >= 0 ? v : bad(`${what} must be a finite number ≥ 0, got ${String(v)}`));

/**
 * Fills in the defaults and validates (RangeError naming the field). Also validates configs read from files.
 * @example const cfg = jemConfig({ dim: 64, classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], shift: [0.5], scale: [0.5], imageShape: [8, 8] });
 */
export function jemConfig(o: JemConfigInput): JemConfig {
  if (o === null || typeof o !== 'object') bad('not an object');
  const dim = posInt(o.dim, 'dim');
  if (!Array.isArray(o.classes) || o.classes.length < 2 || !o.classes.every((c) => isNum(c))) bad('classes must list ≥ 2 label values');
  if (new Set(o.classes).size !== o.classes.length) bad('classes must be distinct');
  const hidden = o.hidden ?? JEM_DEFAULTS.hidden;
  if (!Array.isArray(hidden) || !hidden.every((h) => Number.isSafeInteger(h) && h >= 1)) bad(`hidden must be a list of positive widths, got ${JSON.stringify(hidden)}`);
  const conv = o.conv ?? null;
  if (conv !== null && !(Array.isArray(conv) && conv.length >= 1 && conv.every((c) => Number.isSafeInteger(c) && c >= 1))) bad(`conv must be null or a non-empty list of positive channel counts, got ${JSON.stringify(conv)}`);
  const activation = o.activation ?? JEM_DEFAULTS.activation;
  if (!isActivation(activation)) bad(`activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(activation)}`);
  const shift = o.shift ?? [0], scale = o.scale ?? [1];
  for (const [name, v] of [['shift', shift], ['scale', scale]] as const) {
    if (!Array.isArray(v) || (v.length !== 1 && v.length !== dim) || !v.every(isNum)) bad(`${name} must hold 1 or ${dim} numbers`);
  }
  if (!scale.every((s) => s > 0)) bad('scale must be > 0');
  const im = o.imageShape ?? null;
  if (im !== null && !(Array.isArray(im) && im.length === 2 && im[0] * im[1] === dim)) bad(`imageShape must be [h, w] with h·w = ${dim}`);
  if (conv !== null && im === null) bad('a conv classifier needs imageShape (image rows)');
  const s = { ...JEM_DEFAULTS.sgld, ...(o.sgld ?? {}) };
  const sgld = {
    steps: posInt(s.steps, 'sgld.steps'), sampleSteps: posInt(s.sampleSteps, 'sgld.sampleSteps'),
    gradStep: nonNeg(s.gradStep, 'sgld.gradStep'), noise: nonNeg(s.noise, 'sgld.noise'),
    box: (Array.isArray(s.box) && s.box.length === 2 && isNum(s.box[0]) && isNum(s.box[1]) && s.box[0] < s.box[1] ? [s.box[0], s.box[1]] : bad('sgld.box must be [lo, hi] with lo < hi')) as [number, number],
  };
  if (!(sgld.gradStep > 0 && sgld.noise > 0)) bad('sgld.gradStep and sgld.noise must be > 0');
  const w = { ...JEM_DEFAULTS.weights, ...(o.weights ?? {}) };
  const weights = { clf: nonNeg(w.clf, 'weights.clf'), px: nonNeg(w.px, 'weights.px'), pxy: nonNeg(w.pxy, 'weights.pxy') };
  if (weights.clf + weights.px + weights.pxy === 0) bad('all weights are 0');
  const reinit = nonNeg(o.reinit ?? JEM_DEFAULTS.reinit, 'reinit');
  if (reinit > 1) bad(`reinit must be in [0, 1], got ${reinit}`);
  const labelColumn = o.labelColumn ?? null;
  if (labelColumn !== null && typeof labelColumn !== 'string') bad('labelColumn must be a string or null');
  return {
    dim, numClasses: o.classes.length, classes: [...o.classes], hidden: [...hidden], conv: conv === null ? null : [...conv], activation, shift: [...shift], scale: [...scale],
    imageShape: im ? [im[0], im[1]] : null, sgld, weights,
    alpha: nonNeg(o.alpha ?? JEM_DEFAULTS.alpha, 'alpha'), dataNoise: nonNeg(o.dataNoise ?? JEM_DEFAULTS.dataNoise, 'dataNoise'),
    bufferSize: posInt(o.bufferSize ?? JEM_DEFAULTS.bufferSize, 'bufferSize'), reinit, labelColumn,
  };
}

/**
 * The conv-net layout of a config with `conv` (1 input channel, `imageShape`, 3×3 stride-2 convolutions, dense
 * `hidden`, `numClasses` outputs), or null for an MLP.
 */
export function jemConvNet(cfg: JemConfig): ConvNetConfig | null {
  if (cfg.conv === null || cfg.imageShape === null) return null;
  return {
    inChannels: 1, height: cfg.imageShape[0], width: cfg.imageShape[1], channels: cfg.conv, hidden: cfg.hidden,
    out: cfg.numClasses, activation: cfg.activation, kernel: 3, stride: 2, padding: 1,
  };
}

/** A short description of the classifier, e.g. `mlp 784-128-128-10` or `conv 1x28x28:32,64,64:128 → 10`. */
export function describeJemNet(cfg: JemConfig): string {
  if (cfg.conv === null || cfg.imageShape === null) return `mlp ${[cfg.dim, ...cfg.hidden, cfg.numClasses].join('-')}`;
  return `conv 1x${cfg.imageShape.join('x')}:${cfg.conv.join(',')}${cfg.hidden.length ? ':' + cfg.hidden.join(',') : ''} → ${cfg.numClasses}`;
}

/** Initial classifier parameters: the MLP `[D, …hidden, K]` (`l{i}.w/b`) or the conv net (`conv{i}.w/b`, `fc{j}.w/b`). */
export function initJem(k: Key, cfg: JemConfig): MLPParams {
  const net = jemConvNet(cfg);
  if (net) return initConvNet(k, net);
  return initMLP(k, [cfg.dim, ...cfg.hidden, cfg.numClasses], { activation: cfg.activation });
}

/** The classifier `f(z) → logits` of a config (on standardised rows `[n, D]`; a conv net reads them as images). */
export function jemClassifier(cfg: JemConfig): Classifier<MLPParams> {
  const net = jemConvNet(cfg);
  if (net) return convClassifier(net);
  return (p, z) => applyMLP(p, z, cfg.activation);
}

/** Data rows `x [n, D]` → standardised rows `z = (x − shift) / scale` (float32). */
export function standardizeJem(cfg: JemConfig, x: Tensor): Tensor {
  const D = cfg.dim;
  if (x.ndim !== 2 || x.shape[1] !== D) throw new InvalidArgumentError(`jem: rows must be [n, ${D}], got [${x.shape.join(', ')}]`);
  const sh = cfg.shift, sc = cfg.scale;
  return new Tensor(Float32Array.from(x.data, (v, i) => {
    const j = i % D;
    return (v - sh[sh.length === 1 ? 0 : j]) / sc[sc.length === 1 ? 0 : j];
  }), x.shape);
}

/** Standardised rows → data rows `x = shift + scale·z`. */
export function unstandardizeJem(cfg: JemConfig, z: Tensor): Tensor {
  const D = cfg.dim, sh = cfg.shift, sc = cfg.scale;
  return new Tensor(Float32Array.from(z.data, (v, i) => {
    const j = i % D;
    return sh[sh.length === 1 ? 0 : j] + sc[sc.length === 1 ? 0 : j] * v;
  }), z.shape);
}

/**
 * Standardisation of a config for training data: images (`imageShape` given) map [0, 1] to [−1, 1]; other data is
 * standardised per column (a constant column gets scale 1) and the SGLD box covers the standardised data range
 * padded by 10 %.
 */
export function jemStandardization(x: Tensor, image: boolean): { shift: number[]; scale: number[]; box: [number, number] } {
  if (image) return { shift: [0.5], scale: [0.5], box: [-1, 1] };
  const [n, d] = x.shape;
  const shift: number[] = [], scale: number[] = [];
  let lo = Infinity, hi = -Infinity;
  const moments = columnMeanSd(x);
  for (let j = 0; j < d; j++) {
    const m = moments.mean[j], sd = moments.sd[j];
    const sc = sd > 1e-12 * Math.max(1, Math.abs(m)) ? sd : 1;
    shift.push(Math.fround(m));
    scale.push(Math.fround(sc));
    for (let i = 0; i < n; i++) {
      const z = (x.data[i * d + j] - m) / sc;
      lo = Math.min(lo, z);
      hi = Math.max(hi, z);
    }
  }
  const pad = 0.1 * (hi - lo || 1);
  return { shift, scale, box: [lo - pad, hi + pad] };
}

/** The SGLD kernel of a config: `z ← clamp(z − gradStep·∇E(z) + noise·ξ, box)`. */
export function jemSampler(cfg: JemConfig): NegativeSampler {
  const { gradStep, noise, box } = cfg.sgld;
  return (E) => ula(E, { gradStep, noiseScale: noise, box: [box[0], box[1]] });
}

/** The hybrid loss of a config (on packed standardised rows `[z, y]`). */
export function jemKindLoss(cfg: JemConfig): JemLoss<MLPParams> {
  return jemLoss<MLPParams>({
    classifier: jemClassifier(cfg), dim: cfg.dim, numClasses: cfg.numClasses, weights: cfg.weights, sampler: jemSampler(cfg),
    steps: cfg.sgld.steps, bufferSize: cfg.bufferSize, reinit: cfg.reinit, alpha: cfg.alpha, dataNoise: cfg.dataNoise,
    reinitFrom: { kind: 'uniform', low: cfg.sgld.box[0], high: cfg.sgld.box[1] },
  });
}

/** Packs data rows and class indices into the standardised training rows `[n, D + 1]` of {@link jemKindLoss}. */
export function packJemData(cfg: JemConfig, x: Tensor, y: ArrayLike<number>): Tensor {
  return packLabelled(standardizeJem(cfg, x), y);
}

/** Optimiser settings of {@link jemTrainStep} and {@link trainJemModel}. */
export interface JemOptimOptions {
  /** Adam learning rate (default 1e-3), or a schedule of the step. */
  readonly lr?: number | Schedule;
  /** Global gradient-norm clip (default 10). */
  readonly clipNorm?: number;
}

/** A JEM training state: one value; {@link jemTrainStep} returns a new one and never changes the old. */
export interface JemTrainState {
  readonly step: number;
  readonly params: MLPParams;
  readonly opt: OptState;
  /** Replay buffers of the loss. */
  readonly chains: JemState;
}

/** Diagnostics of one {@link jemTrainStep}. */
export interface JemStepInfo {
  readonly loss: number;
  /** Cross-entropy and accuracy on the batch's labelled rows. */
  readonly ce: number;
  readonly acc: number;
  /** `mean E(x⁺) − mean E(x⁻)`. */
  readonly gap: number;
  readonly gradNorm: number;
  /** The negatives of this step, standardised `[m, D]` (map with {@link unstandardizeJem}). */
  readonly negatives: Tensor;
  readonly samplerDivergent: number;
}

function optimiser(o: JemOptimOptions) {
  return chain(clipByGlobalNorm(o.clipNorm ?? 10), scaleByAdam());
}

/**
 * A fresh training state: parameters from `initJem`, Adam state, replay buffers filled from the SGLD box.
 * `data` is packed standardised rows (see {@link packJemData}).
 */
export function initJemTrainState(k: Key, cfg: JemConfig, data: Tensor, o: JemOptimOptions = {}): JemTrainState {
  const [kp, kb] = split(k, 2);
  const params = initJem(kp, cfg);
  const loss = jemKindLoss(cfg);
  return { step: 0, params, opt: optimiser(o).init(params), chains: loss.initState(kb, params, data) as JemState };
}

/**
 * One pure training step on a batch of packed standardised rows `[B, D + 1]`: the hybrid loss, its gradient, clip
 * and Adam, `θ ← θ − lr·dir`. The input state is not touched (the optimiser state is cloned before Adam updates it),
 * so keeping an old state is a valid snapshot. Throws `CDDivergenceError`/`DivergenceError` on a divergent step
 * (the guarded loop is {@link trainJemModel}).
 * @example let s = initJemTrainState(key(0), cfg, data); [s] = jemTrainStep(cfg, s, batch, key(1));
 */
export function jemTrainStep(cfg: JemConfig, state: JemTrainState, batch: Tensor, k: Key, o: JemOptimOptions = {}): readonly [JemTrainState, JemStepInfo] {
  const loss = jemKindLoss(cfg);
  const r = cdValueAndGrad(loss)(state.params, batch, k, state.chains);
  const gradNorm = globalNorm(r.grads);
  const lr = o.lr ?? 1e-3;
  const lrNow = typeof lr === 'number' ? lr : lr(state.step + 1);
  const [dir, opt] = optimiser(o).update(r.grads, cloneOptState(state.opt) as OptState[], state.params);
  const params = applyUpdates(state.params, scaleLeaves(dir, -lrNow));
  const a = loss.lastAux()!;
  return [
    { step: state.step + 1, params, opt, chains: r.state as JemState },
    { loss: r.loss, ce: a.ce, acc: a.acc, gap: a.gap, gradNorm, negatives: a.negatives, samplerDivergent: a.samplerDivergent },
  ];
}

function scaleLeaves(t: MLPParams, s: number): MLPParams {
  const out: MLPParams = {};
  for (const [k, v] of Object.entries(t)) out[k] = new Tensor(Float32Array.from(v.data, (e) => e * s), v.shape);
  return out;
}

/** Options of {@link trainJemModel}. */
export interface TrainJemModelOptions extends JemOptimOptions {
  readonly cfg: JemConfig;
  /** Data rows `[n, D]` (data space) and class indices `[n]` (−1 = unlabelled). */
  readonly x: Tensor;
  readonly y: ArrayLike<number>;
  readonly steps: number;
  readonly batchSize: number;
  readonly key: Key;
  /** Linear learning-rate warm-up steps (default min(1000, steps/10)); 0 for none. */
  readonly warmup?: number;
  /**
   * After the warm-up: `'none'` (default) keeps `lr`; `'cosine'` decays it to 0 at the last step (`warmupCosine`;
   * with `warmup` 0, `cosineDecay`). Ignored when `lr` is a schedule.
   */
  readonly decay?: 'none' | 'cosine';
  /** Divergence rollbacks allowed (default 5). */
  readonly maxRollbacks?: number;
  /** A checkpointed state to continue from (bit-identical to an uninterrupted run). */
  readonly resume?: DeepEbmResumeState<MLPParams>;
  /** Steps between calls of `onCheckpoint`. */
  readonly checkpointEvery?: number;
  /** Receives the resumable state every `checkpointEvery` steps. */
  readonly onCheckpoint?: (s: DeepEbmResumeState<MLPParams>) => void;
  /** Steps between calls of `onLog`. */
  readonly logEvery?: number;
  /** Receives the training figures every `logEvery` steps, with the batch's cross-entropy and accuracy. */
  readonly onLog?: (rec: DeepEbmLogRecord & { ce: number; acc: number }) => void;
  /** Called when the divergence guard rolls back to the last good state. */
  readonly onRollback?: (ev: GuardEvent) => void;
  /** Called after each completed step. */
  readonly onStep?: (step: number) => void;
  /**
   * Each step's loss value and gradient computed elsewhere (default: the loss through autodiff on the CPU backend),
   * e.g. on the WebGPU device (`jemValueAndGradGpu` of `models/jem/gpu.ts`); asynchronous ones need
   * {@link trainJemModelAsync}. Same keys, buffers and guard.
   */
  readonly valueAndGrad?: (params: MLPParams, batch: Tensor, key: Key, state: JemState) => CDValueAndGrad<MLPParams> | Promise<CDValueAndGrad<MLPParams>>;
}

/**
 * Trains a JEM with the deep-EBM trainer (Adam, clipping, warm-up, divergence guard with rollbacks, checkpoints):
 * parameters from `initJem(foldIn(key, 1), cfg)`, the run from `foldIn(key, 2)`. Deterministic given the key.
 */
export function trainJemModel(o: TrainJemModelOptions): TrainedDeepEbm<MLPParams> {
  return trainDeepEbm(jemTrainerOptions(o));
}

/**
 * {@link trainJemModel} that yields to the event loop and stops after the step in progress when `run.signal` aborts
 * (see {@link trainDeepEbmAsync}); bit-identical to {@link trainJemModel} when not stopped.
 * @example const res = await trainJemModelAsync({ cfg, x, y, steps: 1000, batchSize: 64, key: key(0) }, { signal });
 */
export function trainJemModelAsync(o: TrainJemModelOptions, run: StoppableRunOptions = {}): Promise<StoppedDeepEbm<MLPParams>> {
  return trainDeepEbmAsync(jemTrainerOptions(o), run);
}

function jemTrainerOptions(o: TrainJemModelOptions): TrainDeepEbmOptions<MLPParams> {
  const loss = jemKindLoss(o.cfg);
  const data = packJemData(o.cfg, o.x, o.y);
  const warm = o.warmup ?? Math.min(1000, Math.floor(o.steps / 10));
  const peak = o.lr ?? 1e-3;
  const decay = o.decay ?? 'none';
  if (decay !== 'none' && decay !== 'cosine') throw new InvalidArgumentError(`trainJemModel: decay must be 'none' or 'cosine', got ${String(decay)}`);
  let lr: number | Schedule = peak;
  if (typeof peak === 'number') {
    if (decay === 'cosine') lr = warm > 0 && warm < o.steps ? warmupCosine(0, peak, warm, o.steps) : cosineDecay(peak, o.steps);
    else if (warm > 0) lr = linearWarmup(peak, warm);
  }
  // Another backend's step reports its diagnostics with its result; the CPU loss keeps them in lastAux().
  let stepAux: JemAux | null = null;
  const other = o.valueAndGrad;
  const valueAndGrad = other && ((p: MLPParams, batch: Tensor, k: Key, st: CDState) => {
    const keepAux = (r: CDValueAndGrad<MLPParams>): CDValueAndGrad<MLPParams> => { stepAux = r.aux as JemAux; return r; };
    const r = other(p, batch, k, st as JemState);
    return r instanceof Promise ? r.then(keepAux) : keepAux(r);
  });
  const lastAux = (): JemAux | null => (other ? stepAux : loss.lastAux());
  return {
    ...(valueAndGrad ? { valueAndGrad } : {}),
    params: initJem(foldIn(o.key, 1), o.cfg), loss, data, steps: o.steps, batchSize: o.batchSize, key: foldIn(o.key, 2), lr,
    clipNorm: o.clipNorm ?? 10, guard: { maxRollbacks: o.maxRollbacks ?? 5 },
    ...(o.resume ? { resume: o.resume } : {}),
    ...(o.checkpointEvery !== undefined && o.onCheckpoint ? { checkpointEvery: o.checkpointEvery, onCheckpoint: o.onCheckpoint } : {}),
    ...(o.logEvery !== undefined ? { logEvery: o.logEvery } : {}),
    ...(o.onRollback ? { onRollback: o.onRollback } : {}),
    ...(o.onStep ? { onStep: o.onStep } : {}),
    onLog: (rec) => {
      const a = lastAux();
      o.onLog?.({ ...rec, ce: a?.ce ?? NaN, acc: a?.acc ?? NaN });
    },
  };
}

/** Options of {@link sampleJemModel}. */
export interface SampleJemModelOptions {
  readonly key: Key;
  readonly n: number;
  /** SGLD steps (default `cfg.sgld.sampleSteps`). */
  readonly steps?: number;
  /** Class index `0 … K−1` for class-conditional samples from `p(x|y) ∝ exp(f(x)[y])`. */
  readonly classIndex?: number;
}

/**
 * Draws `n` samples `[n, D]` (data space) by SGLD from the box, from `p(x)` or, with `classIndex`, from `p(x|y)`.
 * @example const x7 = sampleJemModel(params, cfg, { key: key(0), n: 16, classIndex: 7 });
 */
export function sampleJemModel(params: MLPParams, cfg: JemConfig, o: SampleJemModelOptions): Tensor {
  if (o.classIndex !== undefined && !(Number.isInteger(o.classIndex) && o.classIndex >= 0 && o.classIndex < cfg.numClasses)) {
    throw new InvalidArgumentError(`sampleJemModel: classIndex must be an integer in [0, ${cfg.numClasses}), got ${o.classIndex}`);
  }
  const z = sampleJem(jemClassifier(cfg), params, cfg.dim, {
    key: o.key, n: o.n, steps: o.steps ?? cfg.sgld.sampleSteps, sampler: jemSampler(cfg),
    init: { kind: 'uniform', low: cfg.sgld.box[0], high: cfg.sgld.box[1] },
    ...(o.classIndex !== undefined ? { labels: o.classIndex } : {}),
  });
  return unstandardizeJem(cfg, z);
}

/** Figures of {@link evaluateJemModel}. */
export interface JemEvaluation {
  readonly rows: number;
  /** Fraction of rows whose argmax class is the label. */
  readonly accuracy: number;
  /** Expected calibration error, 15 equal-width confidence bins. */
  readonly ece: number;
  /** Mean `−log p(y|x)` in nats. */
  readonly nll: number;
  /** Mean unnormalised `log p̃(x) = logsumexp f(z)`. */
  readonly avgLogPx: number;
}

/** Accuracy, ECE (15 bins) and NLL of the classifier on data rows `x [n, D]` with class indices `y`. */
export function evaluateJemModel(params: MLPParams, cfg: JemConfig, x: Tensor, y: ArrayLike<number>): JemEvaluation {
  const z = standardizeJem(cfg, x);
  const probs = jemPredict(jemClassifier(cfg), params, z);
  const s = jemModelScores(params, cfg, x);
  let lp = 0;
  for (const v of s.logPx) lp += v;
  return { rows: x.shape[0], accuracy: accuracy(probs, y), ece: expectedCalibrationError(probs, y, 15), nll: negLogLik(probs, y), avgLogPx: lp / s.logPx.length };
}

/**
 * OOD scores of data rows: `logPx = logsumexp f(z) = −E(x)` (up to a constant; **lower = more anomalous**),
 * `maxProb = max_y p(y|x)` (**lower = more anomalous**) and `gradNorm = ‖∇_z log p̃(z)‖₂`, the input-gradient norm in
 * standardised units (**higher = more anomalous**; JEM's "approximate mass" is its negative).
 * @example const s = jemModelScores(params, cfg, x); s.gradNorm // Float64Array [n]
 */
export function jemModelScores(params: MLPParams, cfg: JemConfig, x: Tensor): { logPx: Float64Array; maxProb: Float64Array; gradNorm: Float64Array } {
  const s = jemScores(jemClassifier(cfg), params, standardizeJem(cfg, x));
  return { logPx: s.logPx, maxProb: s.maxProb, gradNorm: s.gradNorm };
}

/** Predicted class probabilities `[n, K]` (float64) of data rows. */
export function jemModelPredict(params: MLPParams, cfg: JemConfig, x: Tensor): Tensor {
  return jemPredict(jemClassifier(cfg), params, standardizeJem(cfg, x));
}

/**
 * The classifier's penultimate activations (the input of its last dense layer) for data rows `x [n, D]`, float32
 * `[n, H]` (`H` = the last `hidden` width), evaluated without a graph in blocks of `block` rows — the feature space
 * of FID-style scores ({@link frechetDistance} in `eval`). Works for conv and MLP classifiers.
 * @example const f = jemModelFeatures(params, cfg, images); frechetDistance(f, fReal)
 */
export function jemModelFeatures(params: MLPParams, cfg: JemConfig, x: Tensor, block = 500): Tensor {
  const z = standardizeJem(cfg, x);
  const net = jemConvNet(cfg);
  const [n, D] = z.shape;
  let out: Float32Array | null = null;
  let H = 0;
  noGrad(() => {
    for (let s = 0; s < n; s += block) {
      const e = Math.min(n, s + block);
      const zb = new Tensor(z.data.subarray(s * D, e * D) as Float32Array, [e - s, D]);
      const h = net ? convNetFeatures(params, zb, net) : mlpFeatures(params, zb, cfg.activation);
      H = h.shape[1];
      out ??= new Float32Array(n * H);
      out.set(Float32Array.from(h.data), s * H);
    }
  });
  return new Tensor(out ?? new Float32Array(0), [n, H]);
}

/**
 * The model file of a JEM: kind `"jem"`, the config, provenance, and the classifier's tensors.
 * @example await saveModel('m.safetensors', jemToFile(params, cfg, { data: 'digits', seed: 0 }));
 */
export function jemToFile(params: MLPParams, cfg: JemConfig, provenance: Record<string, unknown>): Omit<ModelFile<JemConfig>, 'version'> {
  return { kind: JEM_KIND, config: cfg, provenance, tensors: { ...params } };
}

/**
 * Reads a JEM back from a decoded model file: validates the config (RangeError) and the tensor layout
 * (`DataError` naming `path`).
 */
export function jemFromFile(file: Pick<ModelFile, 'config' | 'tensors'>, path: string): { params: MLPParams; cfg: JemConfig } {
  const c = file.config as unknown as JemConfigInput;
  const cfg = jemConfig(c);
  if ((c as { numClasses?: unknown }).numClasses !== undefined && (c as { numClasses?: unknown }).numClasses !== cfg.numClasses) bad('numClasses does not match classes');
  const params = file.tensors as MLPParams;
  checkTensorLayout(params, layoutOf(initJem(makeKey(0), cfg)), path);
  return { params, cfg };
}
