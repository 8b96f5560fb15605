/**
 * Score-matching training of deep EBMs for `ebm train ebm --loss dsm|ssm|ssm-vr|sm` (the CD path stays in
 * `commands/trainEbm.ts`, which calls {@link trainEbmByScoreMatching} for these losses). The model file is an ordinary
 * `deep-ebm` file (no replay buffer), so `ebm sample` / `ebm eval` work unchanged.
 *
 * Losses on the energy's score `s(x) = −∇ₓE(x)` (data space):
 * - `dsm`: `½‖s(x + σε) + ε/σ‖²` (Vincent 2011);
 * - `ssm`: `vᵀ∇ₓ(vᵀs) + ½(vᵀs)²`, Rademacher `v` (Song et al. 2019); `ssm-vr`: `½‖s‖²` for the last term;
 * - `sm`: exact Hyvärinen `½‖s‖² + tr ∇ₓs` (D backward passes; small D).
 */
import { Tensor, valueAndGrad, gatherRows, allFinite, reshape } from '../../tensor/index.js';
import { TrainingDivergedError } from '../../models/deepEbm/guard.js';
import { key as makeKey, split, foldIn } from '../../random/index.js';
import { adam, applyUpdates, cosineDecay, globalNorm, type LearningRate, type OptState } from '../../optim/index.js';
import { saveModel, layoutOf } from '../../io/model.js';
import { checkCheckpointParams, type StateTree } from '../../io/checkpoint.js';
import { denoisingScoreMatching, slicedScoreMatching, exactScoreMatching, type ScoreLoss } from '../../losses/scoreMatching.js';
import { deepEbmEnergy, initDeepEbm, formatArch, type DeepEbmConfig } from '../../models/deepEbm/index.js';
import type { Dataset } from '../../data/spec.js';
import { printResult, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { fmt, loadResumePoint } from '../common.js';
import { progressBar } from '../progress.js';
import { openTrainLog, logInterval } from '../trainLog.js';
import { trainLoop } from '../trainLoop.js';
import { epochBatchIndices } from '../../data/batches.js';

/** Score-matching losses accepted by `ebm train ebm --loss`. */
export const EBM_SCORE_LOSSES = ['dsm', 'ssm', 'ssm-vr', 'sm'] as const;
/** One of {@link EBM_SCORE_LOSSES}. */
export type EbmScoreLoss = (typeof EBM_SCORE_LOSSES)[number];

/** The options of `ebm train ebm` this path reads. */
export interface EbmScoreOptions {
  loss: EbmScoreLoss;
  /** DSM noise σ in data units. */
  sigma: number;
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

/**
 * The score-matching loss of a deep EBM: `dsm` (σ), `ssm`, `ssm-vr`, `sm` applied to `{ energy: (p, x) → E(x) }`.
 * @example ebmScoreLoss('dsm', cfg, 0.1)(params, batch, key(0)).loss
 */
export function ebmScoreLoss(loss: EbmScoreLoss, cfg: DeepEbmConfig, sigma: number): ScoreLoss<Record<string, Tensor>> {
  const model = { energy: (p: Record<string, Tensor>, x: Tensor) => deepEbmEnergy(p, cfg).energy(x) };
  if (loss === 'dsm') return denoisingScoreMatching(model, { sigma });
  if (loss === 'ssm') return slicedScoreMatching(model, { projection: 'rademacher' });
  if (loss === 'ssm-vr') return slicedScoreMatching(model, { projection: 'rademacher', varianceReduction: true });
  return exactScoreMatching(model);
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
  const loss = ebmScoreLoss(o.loss, cfg, o.sigma);
  const [kInit, kTrain, kData] = split(makeKey(o.seed), 3);
  const sched = lrSchedule(o, steps);
  const opt = adam(sched, o.clip !== undefined ? { clipNorm: o.clip } : {});
  const params0 = initDeepEbm(kInit, cfg);
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
  type S = { params: Record<string, Tensor>; opt: OptState };
  const final = await trainLoop<S>({
    state: resume ? (resume.state as unknown as S) : { params: params0, opt: opt.init(params0) },
    ...(resume ? { startStep: resume.step } : {}),
    steps,
    ...(o.checkpointEvery !== undefined && ckptPath ? {
      checkpointEvery: o.checkpointEvery, checkpointPath: ckptPath, checkpointKind: 'deep-ebm',
      checkpointMeta: { ...meta, config: cfg }, toCheckpoint: (st: S) => st as unknown as StateTree,
    } : {}),
    key: kTrain,
    step: (s, k, t, want) => {
      const xb = reshape(gatherRows(x, batchIdx(t)), shape);
      const [l, g] = valueAndGrad((p: Record<string, Tensor>) => loss(p, xb, k).loss)(s.params);
      const lv = l.item();
      if (!Number.isFinite(lv)) throw new TrainingDivergedError(`training diverged at step ${t}: loss is ${lv} (try a smaller --lr${o.loss === 'dsm' ? ' or a larger --sigma' : ''})`, []);
      const [u, nextOpt] = opt.update(g, s.opt as OptState[], s.params);
      const metrics = want ? { loss: lv, gradNorm: globalNorm(g), lr: typeof sched === 'number' ? sched : sched(t - 1) } : undefined;
      if (metrics) last = metrics;
      return { state: { params: applyUpdates(s.params, u), opt: nextOpt }, metrics };
    },
    logEvery: logInterval(steps),
    onLog: (rec) => log?.write(rec),
    onProgress: (d, m) => bar.update(d, m ? `loss ${fmt(m.loss)}` : undefined),
  });
  bar.done();
  if (!Object.values(final.params).every(allFinite)) throw new Error('training produced non-finite parameters (try a smaller --lr)');
  const seconds = (performance.now() - t0) / 1000;
  await saveModel(o.out, {
    kind: 'deep-ebm',
    config: cfg,
    provenance: { data: o.data, seed: o.seed, steps, loss: o.loss, ...(o.loss === 'dsm' ? { sigma: o.sigma } : {}), lr: o.lr, lrDecay: o.lrDecay, batch: o.batch, rows: n },
    tensors: final.params,
  });
  const result = { model: o.out, kind: 'deep-ebm', arch: formatArch(cfg.arch), loss: o.loss, steps, resumedFrom: resume?.step ?? null, seconds, finalLoss: last.loss ?? null, gradNorm: last.gradNorm ?? null, log: o.log ?? null };
  printResult(ctx, o.json, result, () => [
    `trained deep-ebm ${formatArch(cfg.arch)} by ${o.loss}${o.loss === 'dsm' ? ` (σ=${o.sigma})` : ''} on ${o.data} (${n} rows) for ${steps} steps in ${fmt(seconds)} s`,
    `final loss ${fmt(last.loss ?? NaN)}, grad norm ${fmt(last.gradNorm ?? NaN)}`,
    `model      ${o.out}`,
  ].join('\n'));
}
