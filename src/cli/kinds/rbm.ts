/**
 * The `rbm` kind on the command line: `--visible` parsing and the checkpointing CD-k / PCD-k trainer behind
 * `ebm train rbm` (a loop of the library's {@link cdStep}). The model file codec, sampling and evaluation live in
 * `src/models/rbm/kind.ts` and are re-exported here.
 * @module
 */
import { Tensor } from '../../tensor/tensor.js';
import { foldIn, key as makeKey, permutation, split, type Key } from '../../random/index.js';
import { cdStep, cdStepGpu, cdGpuUnsupported, validateParams, initRbmCdState, type RbmCdOptions, type RbmCdState, type RBMParams, type VisibleType } from '../../models/rbm/index.js';
import { runHotLoop, type HotLoopBackend } from '../../gpu/select.js';
import { RBM_KIND, rbmLayout, rbmParamsOf, rbmTensors, initRbmForData, rbmStandardization, rbmApplyStandardization, type RbmConfig } from '../../models/rbm/kind.js';
import { DataError } from '../../io/errors.js';
import { checkCheckpointParams, type StateTree } from '../../io/checkpoint.js';
import { UsageError } from '../errors.js';
import { trainLoop, type StepResult, type TrainerRunOptions } from '../trainLoop.js';

export {
  RBM_KIND, EXACT_MAX_UNITS, RBM_DEFAULT_GIBBS_STEPS, checkRbmConfig, rbmLayout, rbmTensors, rbmParamsOf, rbmImageShape, checkRbmData,
  initRbmForData, rbmStandardization, rbmApplyStandardization, rbmGibbsSample, rbmFreeEnergy, rbmEvaluate, rbmFiltersPng, encodeRbmModel, rbmKind,
  type RbmConfig, type RbmEvalOptions, type RbmEvalResult, type LoadedRbm,
} from '../../models/rbm/kind.js';

/**
 * Parses `--visible`: `bernoulli`, `gaussian` or `softmax:K` (K ≥ 2).
 * @example parseVisible('softmax:4') // { visible: 'softmax', categories: 4 }
 */
export function parseVisible(raw: string): { visible: VisibleType; categories: number } {
  if (raw === 'bernoulli' || raw === 'gaussian') return { visible: raw, categories: 1 };
  const m = /^softmax:(\d+)$/.exec(raw);
  if (m && Number(m[1]) >= 2) return { visible: 'softmax', categories: Number(m[1]) };
  throw new UsageError(`--visible must be bernoulli, gaussian or softmax:K with K ≥ 2, got "${raw}"`);
}

/** Options of {@link trainRbm}. */
export interface TrainRbmOptions extends TrainerRunOptions {
  /** Training data `[n, nVisible]` (already checked with {@link checkRbmData}). */
  x: Tensor;
  visible: VisibleType;
  categories: number;
  nHidden: number;
  imageShape: [number, number] | null;
  /** `cd` (CD-k) or `pcd` (persistent chains, Tieleman 2008). */
  method: 'cd' | 'pcd';
  /** Gibbs sweeps per update. */
  k: number;
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Gaussian units: learn σ too. */
  learnSigma?: boolean;
  seed: number;
}

/** Result of {@link trainRbm}. */
export interface TrainedRbm {
  cfg: RbmConfig;
  params: RBMParams;
  /** Total updates done. */
  steps: number;
  /** Which backend ran the training steps (`webgpu` with its adapter, or the CPU backend and why not the GPU). */
  backend: HotLoopBackend;
  /** Metrics of the last logged step. */
  last: Record<string, number>;
}

interface RbmTrainState {
  params: RBMParams;
  cd: RbmCdState;
}

/** Number of mini-batch updates per epoch: `⌈n / B⌉` (the last batch of an epoch may be smaller). */
export function rbmStepsPerEpoch(n: number, batch: number): number {
  return Math.ceil(n / Math.min(batch, n));
}

/**
 * Trains an RBM by CD-k or PCD-k with classical momentum and L2 weight decay.
 *
 * Keys: `[kInit, kTrain, kData] = split(key(seed), 3)`. Epoch `e` (0-based) visits the rows in the order
 * `permutation(foldIn(kData, e), n)` in batches of `B` (the last one smaller); update `t` (1-based) is batch
 * `(t−1) mod S` of epoch `⌊(t−1)/S⌋`, `S = ⌈n/B⌉`, and draws its Gibbs randomness from `foldIn(kTrain, t)`. The state
 * (parameters, momentum buffers, persistent chains) is plain tensors, so a run resumed from a checkpoint continues
 * bit for bit like an uninterrupted one. Initial weights `W ~ N(0, 0.01²)`, visible biases
 * `bᵢ = log(pᵢ/(1 − pᵢ))` from the (smoothed) data means for Bernoulli units (Hinton's guide §8), the data means for
 * Gaussian units, hidden biases 0.
 *
 * Gaussian units on vector data (no `imageShape`) are trained on the standardised data `z = (x − shift)/scale`
 * (column means and standard deviations, recorded in the config) with σ = 1, so that the data's units do not decide
 * the result; the model file's sample, free energy and evaluation map back to `x` (see {@link RbmConfig.shift}).
 */
export async function trainRbm(o: TrainRbmOptions): Promise<TrainedRbm> {
  const [n, nv] = o.x.shape;
  const std = o.visible === 'gaussian' && !o.imageShape ? rbmStandardization(o.x) : null;
  const x = std ? rbmApplyStandardization(o.x, std.shift, std.scale, 1) : o.x;
  const cfg: RbmConfig = { visible: o.visible, categories: o.categories, nVisible: nv, nHidden: o.nHidden, imageShape: o.imageShape, ...(std ?? {}) };
  const B = Math.min(o.batch, n);
  const S = rbmStepsPerEpoch(n, B);
  const total = o.epochs * S;
  const [kInit, kTrain, kData] = split(makeKey(o.seed), 3);
  let state: RbmTrainState;
  let start = 0;
  if (o.resume) {
    const s = o.resume.state as unknown as { params?: Record<string, unknown>; cd?: RbmCdState };
    checkCheckpointParams(s.params, rbmLayout(cfg));
    if (!s.cd || typeof s.cd.step !== 'number') throw new DataError('checkpoint has no CD state', { flag: 'checkpoint' });
    state = { params: rbmParamsOf(cfg, s.params as Record<string, Tensor>), cd: s.cd };
    start = o.resume.step;
  } else {
    const params = initRbmForData(kInit, x, cfg);
    state = { params, cd: initRbmCdState() };
  }
  let perm: Int32Array | null = null;
  let permEpoch = -1;
  const batchOf = (t: number): Tensor => {
    const e = Math.floor((t - 1) / S);
    const j = (t - 1) - e * S;
    if (e !== permEpoch) {
      perm = permutation(foldIn(kData, e), n);
      permEpoch = e;
    }
    const lo = j * B, hi = Math.min(n, lo + B);
    const out = new Float32Array((hi - lo) * nv);
    for (let r = lo; r < hi; r++) out.set(x.data.subarray(perm![r] * nv, perm![r] * nv + nv), (r - lo) * nv);
    return new Tensor(out, [hi - lo, nv]);
  };
  let last: Record<string, number> = {};
  type CdResult = ReturnType<typeof cdStep>;
  type CdFn = (p: RBMParams, batch: Tensor, k: Key, st: RbmCdState, opts: RbmCdOptions) => CdResult | Promise<CdResult>;
  const cdOpts = (want: boolean): RbmCdOptions => ({
    lr: o.lr, k: o.k, persistent: o.method === 'pcd', momentum: o.momentum, weightDecay: o.weightDecay,
    ...(o.learnSigma ? { learnSigma: true } : {}), inPlace: true, reconstruction: want,
  });
  const loop = (cd: CdFn): Promise<RbmTrainState> => trainLoop<RbmTrainState>({
    state,
    startStep: start,
    steps: total,
    key: kTrain,
    step: (s, k, t, want) => {
      const done = (r: CdResult): StepResult<RbmTrainState> => {
        let metrics: Record<string, number> | undefined;
        if (want) {
          metrics = { epoch: Math.floor((t - 1) / S) + 1, reconstructionError: r.metrics.reconstructionError ?? NaN, meanHidden: r.metrics.meanHidden, lr: o.lr };
          last = metrics;
        }
        return { state: { params: r.params, cd: r.state }, metrics };
      };
      const r = cd(s.params, batchOf(t), k, s.cd, cdOpts(want));
      return r instanceof Promise ? r.then(done) : done(r);
    },
    ...(o.checkpointEvery !== undefined ? { checkpointEvery: o.checkpointEvery, checkpointPath: o.checkpointPath } : {}),
    checkpointKind: RBM_KIND,
    checkpointMeta: { ...(o.meta ?? {}), config: cfg },
    toCheckpoint: (s) => ({ params: rbmTensors(s.params), cd: s.cd as unknown as StateTree }),
    logEvery: o.logEvery,
    onLog: o.onLog,
    onProgress: o.onProgress,
  });
  // EBM_BACKEND=webgpu: each step's sampling and statistics on the GPU (cdStepGpu), the same keys and batches.
  const { value: final, backend } = await runHotLoop(
    cdGpuUnsupported(state.params, cdOpts(false)) ?? ((gpu) => loop((p, batch, k, st, opts) => cdStepGpu(gpu, p, batch, k, st, opts))),
    () => loop(cdStep),
  );
  validateParams(final.params, 'rbm training');
  return { cfg, params: final.params, steps: total, last, backend };
}
