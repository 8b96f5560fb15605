/**
 * The `score-sde` kind on the command line: parsing of `--arch` and the checkpointing trainer behind
 * `ebm train score`, a loop of the library's pure {@link scoreSdeTrainStep} (`src/models/scoreSde`). The model itself
 * (config, score network, loss, samplers, likelihood, file codec, registry entry) lives in the library and is
 * re-exported here for the commands and tests that import it from this path.
 */
import { Tensor, reshape, gatherRows } from '../../tensor/index.js';
import { key as makeKey, split } from '../../random/index.js';
import type { Activation } from '../../nn/index.js';
import { DataError } from '../../io/errors.js';
import { checkCheckpointParams, type StateTree } from '../../io/checkpoint.js';
import type { OptState } from '../../optim/index.js';
import { epochBatchIndices } from '../../data/batches.js';
import {
  SCORE_SDE_KIND, scoreLayout, netShape, toModelSpace, initScoreSdeState, scoreSdeTrainStep, finalScoreParams,
  type ScoreArch, type ScoreSdeConfig, type ScoreParams, type ScoreSdeTrainState,
} from '../../models/scoreSde/index.js';
import { trainLoop, type TrainerRunOptions } from '../trainLoop.js';
import { runHotLoop, type HotLoopBackend } from '../../gpu/select.js';
import { scoreSdeTrainStepGpu, scoreSdeGpuUnsupported } from '../../models/scoreSde/gpu.js';
import type { Key } from '../../random/index.js';
import { formatScoreArch, type ScoreSdeStepInfo } from '../../models/scoreSde/index.js';
import { UsageError } from '../errors.js';

export * from '../../models/scoreSde/index.js';

/**
 * 7×7 residual blocks of `--arch unet` when `,M` is not given: four, so that every pixel of the central 22×22 region
 * sees the whole image (without them an output pixel sees a 17×17 window: strokes, but no global shape).
 */
export const UNET_DEFAULT_MID = 4;

/**
 * Parses `--arch`: `mlp:H1,H2,…` (time-conditioned MLP, sinusoidal time embedding of width 16, SiLU) or `unet[:C[,M]]`
 * (the small U-Net for 28×28 images, base width `C`, default 16, with `M` residual blocks at 7×7, default
 * {@link UNET_DEFAULT_MID}; `unet:C,0` is the net of model files written before `M` existed).
 * @example parseScoreArch('mlp:128,128') // { kind: 'mlp', hidden: [128, 128], embedDim: 16, activation: 'silu' }
 */
export function parseScoreArch(spec: string, activation: Activation = 'silu'): ScoreArch {
  const m = /^mlp:(\d+(?:,\d+)*)$/.exec(spec.trim());
  if (m) {
    const hidden = m[1].split(',').map(Number);
    if (hidden.some((h) => !(h >= 1) || !Number.isSafeInteger(h))) throw new UsageError(`--arch ${spec}: hidden widths must be positive integers`);
    return { kind: 'mlp', hidden, embedDim: 16, activation };
  }
  const u = /^unet(?::(\d+)(?:,(\d+))?)?$/.exec(spec.trim());
  if (u) {
    const base = u[1] === undefined ? 16 : Number(u[1]);
    if (!(base >= 1) || !Number.isSafeInteger(base)) throw new UsageError(`--arch ${spec}: the U-Net base width must be a positive integer`);
    const mid = u[2] === undefined ? UNET_DEFAULT_MID : Number(u[2]);
    if (!(mid <= 16)) throw new UsageError(`--arch ${spec}: the number of 7×7 residual blocks must be an integer in [0, 16]`);
    return { kind: 'unet', base, embedDim: 32, mid };
  }
  throw new UsageError(`--arch "${spec}" is not mlp:H1,H2,… (e.g. mlp:128,128) or unet[:C[,M]] (e.g. unet:32,2)`);
}

/**
 * The `arch` key of `ebm train score`'s checkpoint meta (a resume must match it): {@link formatScoreArch}, except that
 * a U-Net without 7×7 blocks keeps the key older checkpoints hold (`unet:C`), so they resume with `--arch unet:C,0`.
 * @example resumeArchKey({ kind: 'unet', base: 32, embedDim: 32, mid: 0 }) // 'unet:32'
 */
export function resumeArchKey(arch: ScoreArch): string {
  return arch.kind === 'unet' && !arch.mid ? `unet:${arch.base}` : formatScoreArch(arch);
}

/** Options of {@link trainScoreSde}. */
export interface TrainScoreSdeOptions extends TrainerRunOptions {
  /** Training data in data space `[n, D]`. */
  x: Tensor;
  cfg: ScoreSdeConfig;
  steps: number;
  lr: number;
  batch: number;
  seed: number;
  /** EMA decay of the saved parameters (0 or undefined: no EMA, the last iterate is saved). */
  ema?: number;
}

/** Result of {@link trainScoreSde}: the parameters to save (the EMA when enabled) and the last logged metrics. */
export interface TrainedScoreSde {
  params: ScoreParams;
  last: Record<string, number>;
  /** Which backend ran the training steps (`webgpu` with its adapter, or the CPU backend and why not the GPU). */
  backend: HotLoopBackend;
}

/**
 * `ebm train score`: {@link scoreSdeTrainStep} in the CLI's checkpointing loop. Keys:
 * `[kInit, kTrain, kData] = split(key(seed), 3)`; step `t` uses `foldIn(kTrain, t)`, and the mini-batch of step `t`
 * is positions `(t−1)B … tB−1` of the concatenated epoch permutations `permutation(foldIn(kData, e), n)` — so a
 * resumed run reproduces an uninterrupted one bit for bit, and the same calls from the library give the same model.
 */
export async function trainScoreSde(o: TrainScoreSdeOptions): Promise<TrainedScoreSde> {
  const { cfg } = o;
  const z = toModelSpace(cfg, o.x);
  const n = z.shape[0];
  const [kInit, kTrain, kData] = split(makeKey(o.seed), 3);
  const ema = o.ema ?? 0;
  if (!(ema >= 0 && ema < 1)) throw new UsageError(`--ema must be in [0, 1), got ${ema}`);
  const settings = { lr: o.lr, ema };
  let state: ScoreSdeTrainState;
  if (o.resume) {
    const s = o.resume.state as unknown as { params: ScoreParams; opt: OptState[]; ema?: ScoreParams | null };
    checkCheckpointParams(s.params, scoreLayout(cfg));
    state = { step: o.resume.step, params: s.params, opt: s.opt, ema: ema > 0 ? (s.ema ?? null) : null };
    if (ema > 0 && !state.ema) throw new DataError('the checkpoint has no EMA parameters but --ema is set', { flag: 'checkpoint' });
  } else {
    state = initScoreSdeState(cfg, kInit, settings);
  }
  type Step = (s: ScoreSdeTrainState, zb: Tensor, k: Key) => readonly [ScoreSdeTrainState, ScoreSdeStepInfo] | Promise<readonly [ScoreSdeTrainState, ScoreSdeStepInfo]>;
  const B = Math.min(o.batch, n);
  const batchIdx = epochBatchIndices(kData, n, B);
  const flat = new Tensor(z.data, [n, cfg.dim]);
  let last: Record<string, number> = {};
  const loop = (step: Step): Promise<ScoreSdeTrainState> => trainLoop<ScoreSdeTrainState>({
    state,
    startStep: state.step,
    steps: o.steps,
    key: kTrain,
    step: async (s, k, t, want) => {
      const [next, info] = await step(s, reshape(gatherRows(flat, batchIdx(t)), netShape(cfg, B)), k);
      let metrics: Record<string, number> | undefined;
      if (want) {
        metrics = { loss: info.loss, meanT: info.meanT, gradNorm: info.gradNorm, lr: o.lr };
        last = metrics;
      }
      return { state: next, metrics };
    },
    checkpointEvery: o.checkpointEvery,
    checkpointPath: o.checkpointPath,
    checkpointKind: SCORE_SDE_KIND,
    checkpointMeta: { ...(o.meta ?? {}), config: cfg },
    toCheckpoint: (s) => ({ params: s.params, opt: s.opt as StateTree, ema: s.ema }),
    logEvery: o.logEvery,
    onLog: o.onLog,
    onProgress: o.onProgress,
  });
  // EBM_BACKEND=webgpu: each step's loss and parameter gradient on the GPU (MLP score networks on vectors, U-Nets), the same keys and batches.
  const { value: final, backend } = await runHotLoop(
    scoreSdeGpuUnsupported(cfg) ?? ((gpu) => loop(scoreSdeTrainStepGpu(gpu, cfg, settings))),
    () => loop(scoreSdeTrainStep(cfg, settings)),
  );
  return { params: finalScoreParams(final), last, backend };
}
