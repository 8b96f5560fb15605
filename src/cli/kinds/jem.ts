/**
 * `ebm train jem` and the `jem` model kind for `ebm eval` (accuracy, ECE, NLL), `ebm score` (log p(x), max p(y|x))
 * and `ebm sample --class k`: a thin adapter over `models/jem` (config, trainer, sampler, evaluation, codec).
 *
 * Registered by importing this module (it calls `registerTrainKind` and `registerModelKind` when loaded).
 */
import type { Command } from 'commander';
import { Tensor } from '../../tensor/tensor.js';
import { key as makeKey } from '../../random/index.js';
import { ACTIVATIONS, type Activation, type MLPParams } from '../../nn/index.js';
import { saveModel, layoutOf } from '../../io/model.js';
import { checkCheckpointParams, saveCheckpointSync, type StateTree } from '../../io/checkpoint.js';
import { DataError } from '../../io/errors.js';
import { labelsToClasses, withLabelColumn } from '../../data/labels.js';
import {
  JEM_KIND, JEM_DEFAULTS, jemConfig, jemStandardization, trainJemModelAsync, evaluateJemModel, jemToFile,
  initJem, describeJemNet, type JemConfig,
} from '../../models/jem/index.js';
import type { DeepEbmResumeState } from '../../models/deepEbm/index.js';
import { jemGpuUnsupported, jemValueAndGradGpu } from '../../models/jem/gpu.js';
import { runHotLoop, type HotLoopBackend } from '../../gpu/select.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseChoice, parseFloatValue, parseIntList, parsePositiveFloat, parsePositiveInt, parseUnitInterval } from '../options.js';
import {
  addDataOptions, addSeedOption, addTrainOutputOptions, backendLines, fmt, loadDataFromOptions, loadResumePoint, resolveTrainOutputs, trainDataKey,
  type DataOptionValues, type TrainOutputValues,
} from '../common.js';
import { progressBar } from '../progress.js';
import { openTrainLog, logInterval, rollbackReporter } from '../trainLog.js';
import { interruptRegion } from '../signals.js';
import { finishIfStopped } from '../trainLoop.js';
import { registerTrainKind } from '../commands/train.js';
import { InvalidArgumentError } from '../../errors.js';

interface Opts extends DataOptionValues, TrainOutputValues {
  labelColumn?: string;
  hidden: number[];
  conv?: number[];
  lrDecay: 'none' | 'cosine';
  activation: Activation;
  steps: number;
  batch: number;
  lr: number;
  warmup?: number;
  clip: number;
  sgldSteps: number;
  sgldStep: number;
  sgldNoise: number;
  px: number;
  pxy: number;
  alpha: number;
  dataNoise: number;
  buffer: number;
  reinit: number;
  maxRollbacks: number;
  seed: number;
}


/** Registers `ebm train jem`. */
export function registerTrainJem(train: Command, ctx: CliContext): void {
  const d = JEM_DEFAULTS;
  const cmd = train
    .command('jem')
    .description('train a joint energy-based model (JEM): an MLP or (--conv) conv-net classifier whose logits also define E(x) = −logsumexp f(x); labelled data (digits, mnist:train, or CSV with --label-column)')
    .requiredOption('--out <model.safetensors>', 'model file to write')
    .option('--label-column <col>', 'CSV data: the column holding the class labels (header name or 1-based index)')
    .option('--hidden <h1,h2,…>', 'hidden widths of the MLP classifier (with --conv: of the dense layers after the convolutions)', parseIntList, [...d.hidden])
    .option('--conv <c1,c2,…>', 'image data: a conv-net classifier with these output channels (3×3 convolutions, stride 2, padding 1), then the --hidden dense layers', parseIntList)
    .option('--activation <name>', `activation (${ACTIVATIONS.join(', ')})`, parseChoice(ACTIVATIONS), d.activation)
    .option('--steps <n>', 'training steps', parsePositiveInt, 1000)
    .option('--batch <n>', 'rows per step', parsePositiveInt, 64)
    .option('--lr <lr>', 'Adam learning rate (after a linear warm-up)', parsePositiveFloat, 1e-3)
    .option('--lr-decay <kind>', 'after the warm-up: none (constant lr) or cosine (to 0 at the last step)', parseChoice(['none', 'cosine'] as const), 'none')
    .option('--warmup <n>', 'linear learning-rate warm-up steps (default min(1000, steps/10))', parsePositiveInt)
    .option('--clip <c>', 'clip parameter gradients to this global norm', parsePositiveFloat, 10)
    .option('--sgld-steps <k>', 'SGLD steps per training step', parsePositiveInt, d.sgld.steps)
    .option('--sgld-step <a>', 'SGLD gradient step a (z ← clamp(z − a∇E + s·ξ) in standardised units)', parsePositiveFloat, d.sgld.gradStep)
    .option('--sgld-noise <s>', 'SGLD noise s', parsePositiveFloat, d.sgld.noise)
    .option('--px <w>', 'weight of −log p(x) (0: a plain classifier)', parseFloatValue, d.weights.px)
    .option('--pxy <w>', 'weight of −log p(x|y) (class-conditional negatives)', parseFloatValue, d.weights.pxy)
    .option('--alpha <a>', 'energy-magnitude regulariser α(E⁺² + E⁻²)', parseFloatValue, d.alpha)
    .option('--data-noise <s>', 'std of Gaussian noise on the positives (standardised units)', parseFloatValue, d.dataNoise)
    .option('--buffer <n>', 'replay-buffer size', parsePositiveInt, d.bufferSize)
    .option('--reinit <p>', 'fraction of chains restarted from uniform noise each step', parseUnitInterval, d.reinit)
    .option('--max-rollbacks <n>', 'divergence rollbacks allowed before stopping', parsePositiveInt, 5);
  addTrainOutputOptions(cmd, { logFields: 'step, loss, ce, acc, gap, ePos, eNeg, gradNorm, lr, samplerDivergent, time', every: 'steps and at the end', grows: '--steps (with an explicit --warmup)' });
  addDataOptions(cmd);
  addSeedOption(cmd);
  cmd.action((o: Opts) =>
    runCommand(ctx, async () => {
      const ckptPath = resolveTrainOutputs(o);
      for (const f of ['px', 'pxy', 'alpha', 'dataNoise'] as const) if (!(o[f] >= 0)) throw new UsageError(`--${f === 'dataNoise' ? 'data-noise' : f} must be ≥ 0, got ${o[f]}`);
      const raw = await loadDataFromOptions(o, trainDataKey(o.seed));
      const data = withLabelColumn(raw, o.labelColumn);
      if (!data.labels) throw new UsageError(`--data ${o.data}: has no labels; name the CSV label column with --label-column (header name or 1-based index)`);
      if (data.rows < 2) throw new UsageError(`--data ${o.data}: needs at least 2 rows, got ${data.rows}`);
      const { classes, y } = labelsToClasses(data.labels);
      if (classes.length < 2) throw new UsageError(`--data ${o.data}: all rows have the same label (${classes[0]}); JEM needs ≥ 2 classes`);
      if (o.conv && data.imageShape === undefined) throw new UsageError(`--conv needs image data (mnist:…, fashion-mnist:…, digits, IDX images); --data ${o.data} has plain rows`);
      const std = jemStandardization(data.x, data.imageShape !== undefined);
      let cfg: JemConfig;
      try {
        cfg = jemConfig({
          dim: data.cols, classes, hidden: o.hidden, conv: o.conv ?? null, activation: o.activation, shift: std.shift, scale: std.scale,
          imageShape: data.imageShape ?? null, sgld: { steps: o.sgldSteps, gradStep: o.sgldStep, noise: o.sgldNoise, box: std.box },
          weights: { px: o.px, pxy: o.pxy }, alpha: o.alpha, dataNoise: o.dataNoise, bufferSize: o.buffer, reinit: o.reinit,
          labelColumn: o.labelColumn ?? null,
        });
      } catch (e) {
        if (e instanceof InvalidArgumentError) throw new UsageError(e.message);
        throw e;
      }
      const meta = {
        data: o.data, n: o.n ?? null, limit: o.limit ?? null, ...(o.subset !== undefined ? { subset: o.subset } : {}), labelColumn: o.labelColumn ?? null, seed: o.seed, hidden: o.hidden.join(','),
        ...(o.conv ? { conv: o.conv.join(',') } : {}), ...(o.lrDecay !== 'none' ? { lrDecay: o.lrDecay, steps: o.steps } : {}),
        activation: o.activation, batch: o.batch, lr: o.lr, warmup: o.warmup ?? null, clip: o.clip, sgldSteps: o.sgldSteps, sgldStep: o.sgldStep,
        sgldNoise: o.sgldNoise, px: o.px, pxy: o.pxy, alpha: o.alpha, dataNoise: o.dataNoise, buffer: o.buffer, reinit: o.reinit, maxRollbacks: o.maxRollbacks,
        ...(o.warmup === undefined ? { steps: o.steps } : {}), // the default warm-up depends on --steps
      };
      const resume = await loadResumePoint(o, ckptPath, JEM_KIND, meta, o.steps, (done) => `--steps ${o.steps} is less than the ${done} steps already done in ${ckptPath}`);
      if (resume) checkResume(resume.state, resume.step, cfg, ckptPath!);
      const runKey = makeKey(o.seed);
      const log = o.log ? openTrainLog(o.log, resume?.step) : undefined;
      const bar = progressBar(ctx.io, 'train', o.steps, o.quiet);
      const rollbacks: string[] = [];
      const t0 = performance.now();
      let res;
      const saveCkpt = ckptPath === undefined ? undefined : (st: DeepEbmResumeState<MLPParams>): void => saveCheckpointSync(ckptPath, {
        kind: JEM_KIND, step: st.step, key: runKey, state: st as unknown as StateTree, meta: { ...meta, config: cfg },
      });
      const irq = interruptRegion();
      // EBM_BACKEND=webgpu: each step's SGLD negatives, loss and parameter gradient on the GPU (MLP or conv classifier), the
      // same keys, batches, buffers and guard.
      const train = (valueAndGrad?: ReturnType<typeof jemValueAndGradGpu>): ReturnType<typeof trainJemModelAsync> => trainJemModelAsync({
        ...(valueAndGrad ? { valueAndGrad } : {}),
        cfg, x: data.x, y, steps: o.steps, batchSize: o.batch, key: runKey, lr: o.lr, decay: o.lrDecay, clipNorm: o.clip, maxRollbacks: o.maxRollbacks,
        ...(o.warmup !== undefined ? { warmup: o.warmup } : {}),
        ...(resume ? { resume: resume.state as unknown as DeepEbmResumeState<MLPParams> } : {}),
        ...(o.checkpointEvery !== undefined && saveCkpt ? { checkpointEvery: o.checkpointEvery, onCheckpoint: saveCkpt } : {}),
        logEvery: logInterval(o.steps),
        onLog: (r) => void log?.write({ ...r }),
        onRollback: rollbackReporter(rollbacks, (s) => ctx.io.stderr(s)),
        onStep: (t) => bar.update(t),
      }, { signal: irq.signal });
      let backend: HotLoopBackend;
      try {
        ({ value: res, backend } = await runHotLoop(jemGpuUnsupported(cfg) ?? ((gpu) => train(jemValueAndGradGpu(gpu, cfg))), () => train()));
      } catch (e) {
        bar.done();
        throw e; // a TrainingDivergedError is exit 2 with one line: the settings do not fit the problem
      } finally {
        irq.leave();
      }
      bar.done();
      // SIGINT/SIGTERM: the step in progress finished; save it when checkpointing is on, then stop (exit 130/143)
      finishIfStopped(res, irq.received(), o.steps, o.checkpointEvery !== undefined ? saveCkpt : undefined, ckptPath);
      const seconds = (performance.now() - t0) / 1000;
      const fit = evaluateJemModel(res.params, cfg, data.x, y);
      await saveModel(o.out, jemToFile(res.params, cfg, {
        data: o.data, seed: o.seed, steps: o.steps, rows: data.rows, lr: o.lr, batch: o.batch, rollbacks: res.events.length,
        ...(o.labelColumn !== undefined ? { labelColumn: o.labelColumn } : {}),
      }));
      const last = res.history[res.history.length - 1];
      const result = {
        model: o.out, kind: JEM_KIND, dim: cfg.dim, classes, hidden: cfg.hidden, conv: cfg.conv, steps: o.steps, resumedFrom: resume?.step ?? null, seconds,
        loss: last?.loss ?? null, energyGap: last?.gap ?? null, trainAccuracy: fit.accuracy, trainNll: fit.nll, rollbacks: res.events.length, log: o.log ?? null, backend,
      };
      printResult(ctx, o.json, result, () => [
        `trained jem ${describeJemNet(cfg)} on ${o.data} (${data.rows} rows, ${classes.length} classes) for ${o.steps} steps in ${fmt(seconds)} s`,
        `final loss ${fmt(last?.loss ?? NaN)}, energy gap ${fmt(last?.gap ?? NaN)}; training accuracy ${fmt(fit.accuracy)}, NLL ${fmt(fit.nll)}; rollbacks ${res.events.length}`,
        ...rollbacks,
        ...backendLines(backend),
        `model      ${o.out}`,
      ].join('\n'));
    }),
  );
}

/** Checks a loaded resume state's step, parameter layout and buffers; a DataError names the checkpoint. */
function checkResume(state: StateTree, step: number, cfg: JemConfig, path: string): void {
  const s = state as unknown as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new DataError(`checkpoint state is not a usable JEM training state: ${what}`, { file: path });
  };
  if (s.step !== step) fail(`its step ${String(s.step)} differs from the checkpoint's step ${step}`);
  checkCheckpointParams(s.params, layoutOf(initJem(makeKey(0), cfg)));
  const cd = s.cd as Record<string, unknown> | undefined;
  if (!cd || typeof cd.step !== 'number') fail('replay buffers missing');
  for (const b of [cd!.buffer, cd!.condBuffer]) {
    if (b !== null && b !== undefined && (!(b instanceof Tensor) || b.ndim !== 2 || b.shape[1] !== cfg.dim)) fail(`a replay buffer is not [n, ${cfg.dim}]`);
  }
  if (s.optState === undefined || s.optState === null) fail('optimiser state missing');
}

registerTrainKind(registerTrainJem);

