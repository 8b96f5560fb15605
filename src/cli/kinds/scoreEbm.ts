/**
 * Score-matching training of deep EBMs for `ebm train ebm --loss dsm|ssm|ssm-vr|sm` (the CD path stays in
 * `commands/trainEbm.ts`, which calls {@link trainEbmByScoreMatching} for these losses). The model file is an ordinary
 * `deep-ebm` file (no replay buffer), so `ebm sample` / `ebm eval` work unchanged.
 *
 * Losses on the energy's score `s(x) = −∇ₓE(x)` (data space):
 * - `dsm`: `½‖s(x + σε) + ε/σ‖²` (Vincent 2011); with `--sigma-max` (the default on low-dimensional vectors) a
 *   noise-conditional energy over `[σ, σ_max]` with the heat-equation term (`noiseConditionalDenoisingScoreMatching`);
 * - `ssm`: `vᵀ∇ₓ(vᵀs) + ½(vᵀs)²`, Rademacher `v` (Song et al. 2019); `ssm-vr`: `½‖s‖²` for the last term;
 * - `sm`: exact Hyvärinen `½‖s‖² + tr ∇ₓs` (D backward passes; small D).
 */
import { Tensor, gatherRows, allFinite, reshape } from '../../tensor/index.js';
import { key as makeKey, split, type Key } from '../../random/index.js';
import { cosineDecay, type LearningRate, type OptState } from '../../optim/index.js';
import { saveModel, layoutOf } from '../../io/model.js';
import { checkCheckpointParams, type StateTree } from '../../io/checkpoint.js';
import { formatArch, TrainingDivergedError, type DeepEbmConfig } from '../../models/deepEbm/index.js';
import { initDeepEbmScoreState, deepEbmScoreTrainStep, type DeepEbmScoreOptions, type DeepEbmScoreState, type DeepEbmScoreInfo, type EbmScoreLoss } from '../../models/deepEbm/scoreMatching.js';
import { deepEbmScoreGpuUnsupported, deepEbmScoreTrainStepGpu } from '../../models/deepEbm/gpuScore.js';
import type { Dataset } from '../../data/spec.js';
import { printResult, type CliContext } from '../context.js';
import { runHotLoop } from '../../gpu/select.js';
import { UsageError } from '../errors.js';
import { backendLines, fmt, loadResumePoint } from '../common.js';
import { progressBar } from '../progress.js';
import { openTrainLog, logInterval } from '../trainLog.js';
import { trainLoop } from '../trainLoop.js';
import { epochBatchIndices } from '../../data/batches.js';

export { EBM_SCORE_LOSSES, ebmScoreLoss, type EbmScoreLoss } from '../../models/deepEbm/scoreMatching.js';

/** The options of `ebm train ebm` this path reads. */
export interface EbmScoreOptions {
  loss: EbmScoreLoss;
  /** DSM noise σ in data units (the smallest level of a noise-conditional energy). */
  sigma: number;
  /** Largest noise level of a noise-conditional energy (`cfg.noise`), or null. */
  sigmaMax?: number | null;
  /** Weight of the heat-equation term (noise-conditional DSM). */
  heat?: number;
  batch: number;
  lr: number;
  /** `cosine`: cosine decay to 5 % of `lr` at the last step. */
  lrDecay: 'none' | 'cosine';
  clip?: number;
  seed: number;
  out: string;
  data: string;
  log?: string;
  quiet?: boolean;
  json?: boolean;
  checkpointEvery?: number;
  resume?: boolean;
  /** CD-only options: refused when set. */
  samplesPng?: string;
  spectralNorm?: boolean;
  samplerClip?: number;
  negatives?: string;
  chains?: number;
  ema?: number;
}

/** `--lr` as a constant or, with `--lr-decay cosine`, cosine decay to 5 % over `steps`. */
export function lrSchedule(o: { lr: number; lrDecay: 'none' | 'cosine' }, steps: number): LearningRate {
  return o.lrDecay === 'cosine' ? cosineDecay(o.lr, steps, 0.05) : o.lr;
}

/**
 * Trains a deep EBM by score matching with Adam, saves it as a `deep-ebm` file with `config` and prints the result.
 * Keys: `[kInit, kTrain, kData] = split(key(seed), 3)`, step `t` uses `foldIn(kTrain, t)`; mini-batches walk epoch
 * permutations `permutation(foldIn(kData, e), n)`.
 */
export async function trainEbmByScoreMatching(
  ctx: CliContext, o: EbmScoreOptions, data: Dataset, cfg: DeepEbmConfig & Record<string, unknown>, steps: number,
  ckptPath: string | undefined, meta: Record<string, unknown>,
): Promise<void> {
  if (!(o.sigma > 0)) throw new UsageError(`--sigma must be > 0, got ${o.sigma}`);
  if (o.negatives !== undefined && o.negatives !== 'buffer') throw new UsageError(`--negatives ${o.negatives} applies to --loss cd only`);
  for (const [f, v] of [['--samples-png', o.samplesPng], ['--spectral-norm', o.spectralNorm], ['--sampler-clip', o.samplerClip], ['--chains', o.chains], ['--ema', o.ema]] as const) {
    if (v !== undefined) throw new UsageError(`${f} applies to --loss cd only (the replay-buffer / CD sampler options); with --loss ${o.loss} draw samples with ebm sample`);
  }
  const D = data.cols;
  if (o.loss === 'sm' && D > 64) throw new UsageError(`--loss sm (exact score matching) costs D = ${D} backward passes per step; use ssm or ssm-vr for data with more than 64 columns`);
  const [kInit, kTrain, kData] = split(makeKey(o.seed), 3);
  const settings: DeepEbmScoreOptions = {
    loss: o.loss, sigma: o.sigma, ...(o.heat !== undefined ? { heat: o.heat } : {}), lr: lrSchedule(o, steps), ...(o.clip !== undefined ? { clipNorm: o.clip } : {}),
  };
  const state0 = initDeepEbmScoreState(cfg, kInit, settings);
  const params0 = state0.params;
  const resume = await loadResumePoint({ ...o, checkpoint: ckptPath }, ckptPath, 'deep-ebm', meta, steps,
    (done) => `--steps ${steps} is less than the ${done} steps already done in ${ckptPath}`);
  if (resume) {
    checkCheckpointParams((resume.state as Record<string, unknown>).params, layoutOf(params0));
  }
  const n = data.rows;
  const B = Math.min(o.batch, n);
  const batchIdx = epochBatchIndices(kData, n, B);
  const x = new Tensor(data.x.data, [n, D]);
  const shape = cfg.arch.kind === 'conv' ? [B, ...cfg.arch.shape] : [B, D];
  const log = o.log ? openTrainLog(o.log, resume?.step) : undefined;
  const bar = progressBar(ctx.io, 'train', steps, o.quiet);
  const t0 = performance.now();
  let last: Record<string, number> = {};
  type Step = (s: DeepEbmScoreState, batch: Tensor, k: Key) => readonly [DeepEbmScoreState, DeepEbmScoreInfo] | Promise<readonly [DeepEbmScoreState, DeepEbmScoreInfo]>;
  // Score matching differentiates the input gradient (second order; the heat term of noise-conditional DSM third).
  // EBM_BACKEND=webgpu: single-σ DSM of an MLP energy runs its loss and parameter gradient on the GPU (Adam on the
  // host); the other losses run on the CPU and say why.
  const run = (step: Step) => trainLoop<DeepEbmScoreState>({
    state: resume ? { step: resume.step, ...(resume.state as unknown as { params: Record<string, Tensor>; opt: OptState[] }) } : state0,
    ...(resume ? { startStep: resume.step } : {}),
    steps,
    ...(o.checkpointEvery !== undefined && ckptPath ? {
      checkpointEvery: o.checkpointEvery, checkpointPath: ckptPath, checkpointKind: 'deep-ebm',
      checkpointMeta: { ...meta, config: cfg }, toCheckpoint: (st: DeepEbmScoreState) => ({ params: st.params, opt: st.opt as StateTree }),
    } : {}),
    key: kTrain,
    step: async (s, k, t, want) => {
      const [next, info] = await step(s, reshape(gatherRows(x, batchIdx(t)), shape), k);
      const metrics = want ? { loss: info.loss, gradNorm: info.gradNorm, lr: info.lr } : undefined;
      if (metrics) last = metrics;
      return { state: next, metrics };
    },
    logEvery: logInterval(steps),
    onLog: (rec) => log?.write(rec),
    onProgress: (d, m) => bar.update(d, m ? `loss ${fmt(m.loss)}` : undefined),
  });
  const { value: final, backend } = await runHotLoop(
    deepEbmScoreGpuUnsupported(cfg, o.loss) ?? ((gpu) => run(deepEbmScoreTrainStepGpu(gpu, cfg, settings))),
    () => run(deepEbmScoreTrainStep(cfg, settings)));
  bar.done();
  if (!Object.values(final.params).every(allFinite)) throw new TrainingDivergedError('training produced non-finite parameters (try a smaller --lr)', []);
  const seconds = (performance.now() - t0) / 1000;
  await saveModel(o.out, {
    kind: 'deep-ebm',
    config: cfg,
    provenance: { data: o.data, seed: o.seed, steps, loss: o.loss, ...(o.loss === 'dsm' ? { sigma: o.sigma } : {}), ...(o.sigmaMax ? { sigmaMax: o.sigmaMax, heat: o.heat } : {}), lr: o.lr, lrDecay: o.lrDecay, batch: o.batch, rows: n },
    tensors: final.params,
  });
  const result = { model: o.out, kind: 'deep-ebm', arch: formatArch(cfg.arch), loss: o.loss, steps, resumedFrom: resume?.step ?? null, seconds, finalLoss: last.loss ?? null, gradNorm: last.gradNorm ?? null, log: o.log ?? null, backend };
  printResult(ctx, o.json, result, () => [
    `trained deep-ebm ${formatArch(cfg.arch)} by ${o.loss}${o.loss !== 'dsm' ? '' : o.sigmaMax ? ` (noise-conditional, σ ${fmt(o.sigma)}…${fmt(o.sigmaMax)}, heat ${o.heat ?? 1}; model at σ=${fmt(o.sigma)})` : ` (σ=${o.sigma})`} on ${o.data} (${n} rows) for ${steps} steps in ${fmt(seconds)} s`,
    `final loss ${fmt(last.loss ?? NaN)}, grad norm ${fmt(last.gradNorm ?? NaN)}`,
    `model      ${o.out}`,
    ...backendLines(backend),
  ].join('\n'));
}
