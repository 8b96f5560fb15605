/**
 * The `mlp-energy` kind on the command line: the checkpointing trainer behind `ebm train mlp-energy`, a loop of the
 * library's pure {@link mlpEnergyTrainStep} (`src/models/mlpEnergy`). The model itself (config, energy, losses,
 * Langevin sampling, grid quadrature, file codec, registry entry) lives in the library and is re-exported here for
 * the commands and tests that import it from this path.
 */
import { Tensor, gatherRows, allFinite } from '../../tensor/index.js';
import { key as makeKey, split } from '../../random/index.js';
import { epochBatchIndices } from '../../data/batches.js';
import type { MLPParams } from '../../nn/index.js';
import type { OptState } from '../../optim/index.js';
import { checkCheckpointParams, type StateTree } from '../../io/checkpoint.js';
import { trainLoop, type TrainerRunOptions } from '../trainLoop.js';
import { TrainingDivergedError } from '../../models/deepEbm/index.js';
import { runHotLoop, type HotLoopBackend } from '../../gpu/select.js';
import type { Key } from '../../random/index.js';
import {
  MLP_ENERGY_KIND, makeMlpEnergyConfig, mlpEnergyLayout, standardize, initMlpEnergyState, mlpEnergyTrainStep, mlpEnergyGap,
  mlpEnergyTrainStepGpu, mlpEnergyGpuUnsupported, type MlpEnergyStepInfo,
  type MlpEnergyConfig, type MlpEnergyConfigOptions, type MlpEnergyTrainState,
} from '../../models/mlpEnergy/index.js';

export * from '../../models/mlpEnergy/index.js';

/** Options of {@link trainMlpEnergy}. */
export interface TrainMlpEnergyOptions extends TrainerRunOptions {
  /** Training data `[n, d]` (data space). */
  x: Tensor;
  cfgIn: MlpEnergyConfigOptions;
  steps: number;
  lr: number;
  batch: number;
  seed: number;
}

/** The result of training. */
export interface TrainedMlpEnergy {
  cfg: MlpEnergyConfig;
  params: MLPParams;
  /** Metrics of the last logged step. */
  last: Record<string, number>;
  /** Which backend ran the training steps (`webgpu` with its adapter, or the CPU backend and why not the GPU). */
  backend: HotLoopBackend;
}

/**
 * `ebm train mlp-energy`: {@link mlpEnergyTrainStep} in the CLI's checkpointing loop. Keys:
 * `[kInit, kTrain, kData] = split(key(seed), 3)`; step `t` uses `foldIn(kTrain, t)` for its noise; the mini-batch of
 * step `t` takes positions `(t−1)·B … t·B−1` of the concatenated epoch permutations, epoch `e` shuffled by
 * `permutation(foldIn(kData, e), n)`. So a resumed run reproduces an uninterrupted one bit for bit, and the same
 * library calls give the same model.
 */
export async function trainMlpEnergy(o: TrainMlpEnergyOptions): Promise<TrainedMlpEnergy> {
  const cfg = makeMlpEnergyConfig(o.x, o.cfgIn, { flag: 'data' });
  const z = standardize(cfg, o.x);
  const n = z.shape[0];
  const [kInit, kTrain, kData] = split(makeKey(o.seed), 3);
  let state: MlpEnergyTrainState;
  if (o.resume) {
    const s = o.resume.state as unknown as { params: MLPParams; opt: OptState[] };
    checkCheckpointParams(s.params, mlpEnergyLayout(cfg));
    state = { step: o.resume.step, params: s.params, opt: s.opt };
  } else {
    state = initMlpEnergyState(cfg, kInit, { lr: o.lr });
  }
  type Step = (s: MlpEnergyTrainState, zb: Tensor, k: Key) => readonly [MlpEnergyTrainState, MlpEnergyStepInfo] | Promise<readonly [MlpEnergyTrainState, MlpEnergyStepInfo]>;
  const B = Math.min(o.batch, n);
  const batchIdx = epochBatchIndices(kData, n, B);
  let last: Record<string, number> = {};
  const loop = (step: Step): Promise<MlpEnergyTrainState> => trainLoop<MlpEnergyTrainState>({
    state,
    startStep: state.step,
    steps: o.steps,
    key: kTrain,
    step: async (s, k, t, want) => {
      const zb = gatherRows(z, batchIdx(t));
      const [next, info] = await step(s, zb, k);
      let metrics: Record<string, number> | undefined;
      if (want) {
        metrics = { loss: info.loss, energyGap: mlpEnergyGap(s.params, cfg, zb, k), gradNorm: info.gradNorm, lr: o.lr };
        last = metrics;
      }
      return { state: next, metrics };
    },
    checkpointEvery: o.checkpointEvery,
    checkpointPath: o.checkpointPath,
    checkpointKind: MLP_ENERGY_KIND,
    checkpointMeta: { ...(o.meta ?? {}), config: cfg },
    toCheckpoint: (s) => ({ params: s.params, opt: s.opt as StateTree }),
    logEvery: o.logEvery,
    onLog: o.onLog,
    onProgress: o.onProgress,
  });
  // EBM_BACKEND=webgpu: the step's loss and parameter gradient on the GPU (DSM only), the same keys and batches.
  const { value, backend } = await runHotLoop(
    mlpEnergyGpuUnsupported(cfg) ?? ((gpu) => loop(mlpEnergyTrainStepGpu(gpu, cfg, { lr: o.lr }))),
    () => loop(mlpEnergyTrainStep(cfg, { lr: o.lr })),
  );
  const final = value;
  if (!Object.values(final.params).every(allFinite)) throw new TrainingDivergedError('training produced non-finite parameters (try a smaller --lr)', []);
  return { cfg, params: final.params, last, backend };
}
