/**
 * `ebm train rbm`: an RBM trained by CD-k or PCD-k, with atomic checkpoints, bit-identical resume and a JSON-lines
 * log. Registered with `ebm train` by importing this module (it calls `registerTrainKind`).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { saveModel } from '../../io/model.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseChoice, parseFloatValue, parsePositiveFloat, parsePositiveInt } from '../options.js';
import { addDataOptions, addSeedOption, addTrainOutputOptions, resolveTrainOutputs, loadResumePoint, type TrainOutputValues, fmt, backendLines, loadDataFromOptions, trainDataKey, type DataOptionValues } from '../common.js';
import { progressBar } from '../progress.js';
import { openTrainLog, logInterval } from '../trainLog.js';
import { registerTrainKind } from '../commands/train.js';
import { RBM_KIND, checkRbmData, parseVisible, rbmStepsPerEpoch, rbmTensors, trainRbm } from './rbm.js';

interface Opts extends DataOptionValues, TrainOutputValues {
  hidden: number;
  visible: string;
  method: 'cd' | 'pcd';
  k: number;
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  learnSigma?: boolean;
  seed: number;
}

/** A parser for a number in `[0, max)`, reported by commander naming the flag. */
function nonNegative(max = Infinity) {
  return (raw: string): number => {
    const v = parseFloatValue(raw);
    if (!(v >= 0 && v < max)) throw new InvalidArgumentError(`must be a number in [0, ${max === Infinity ? '∞' : max}), got "${raw}"`);
    return v;
  };
}


/** Registers `ebm train rbm` on the `train` command. */
export function registerTrainRbm(train: Command, ctx: CliContext): void {
  const cmd = train
    .command('rbm')
    .description('train a restricted Boltzmann machine by contrastive divergence (cd, CD-k) or persistent CD (pcd)')
    .requiredOption('--out <model.safetensors>', 'model file to write')
    .requiredOption('--hidden <h>', 'number of hidden units', parsePositiveInt)
    .option('--visible <type>', 'visible units: bernoulli (binary 0/1 data), gaussian (vector data standardised per column, shift/scale kept in the model file), or softmax:K (one-hot groups of K columns)', 'bernoulli')
    .option('--method <m>', 'cd (CD-k, chains restart at the batch) or pcd (persistent chains)', parseChoice(['cd', 'pcd'] as const), 'cd')
    .option('--k <k>', 'Gibbs sweeps per update', parsePositiveInt, 1)
    .option('--epochs <e>', 'passes over the data (updates = epochs × ⌈rows / batch⌉)', parsePositiveInt, 10)
    .option('--batch <b>', 'mini-batch size', parsePositiveInt, 64)
    .option('--lr <lr>', 'learning rate', parsePositiveFloat, 0.05)
    .option('--momentum <m>', 'classical momentum μ in [0, 1)', nonNegative(1), 0)
    .option('--weight-decay <w>', 'L2 weight decay on W', nonNegative(), 0)
    .option('--learn-sigma', 'gaussian units: learn the visible standard deviations too');
  addTrainOutputOptions(cmd, { logFields: 'step, epoch, reconstructionError, meanHidden, lr, time', every: 'updates (mini-batch steps) and at the end', grows: '--epochs' });
  addDataOptions(cmd);
  addSeedOption(cmd);
  cmd.action((o: Opts) =>
    runCommand(ctx, async () => {
      const { visible, categories } = parseVisible(o.visible);
      if (o.learnSigma && visible !== 'gaussian') throw new UsageError('--learn-sigma applies to --visible gaussian only');
      const ckptPath = resolveTrainOutputs(o);
      if (o.checkpoint && o.checkpointEvery === undefined && !o.resume) throw new UsageError('--checkpoint needs --checkpoint-every N (or --resume)');
      const data = await loadDataFromOptions(o, trainDataKey(o.seed));
      checkRbmData(data.x, visible, categories, o.data);
      const meta = {
        data: o.data, n: o.n ?? null, limit: o.limit ?? null, ...(o.subset !== undefined ? { subset: o.subset } : {}), binarize: o.binarize ?? null, threshold: o.threshold ?? null,
        seed: o.seed, hidden: o.hidden, visible: o.visible, method: o.method, k: o.k, batch: o.batch, lr: o.lr,
        momentum: o.momentum, weightDecay: o.weightDecay, learnSigma: o.learnSigma ?? false,
      };
      const total = o.epochs * rbmStepsPerEpoch(data.rows, o.batch);
      const resume = await loadResumePoint(o, ckptPath, RBM_KIND, meta, total,
        (done) => `--epochs ${o.epochs} (${total} updates) is less than the ${done} updates already done in ${ckptPath}`);
      const log = o.log ? openTrainLog(o.log, resume?.step) : undefined;
      const bar = progressBar(ctx.io, 'train', total, o.quiet);
      const t0 = performance.now();
      const r = await trainRbm({
        x: data.x, visible, categories, nHidden: o.hidden, imageShape: data.imageShape ?? null,
        method: o.method, k: o.k, epochs: o.epochs, batch: o.batch, lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay,
        ...(o.learnSigma ? { learnSigma: true } : {}),
        seed: o.seed,
        ...(o.checkpointEvery !== undefined && ckptPath ? { checkpointEvery: o.checkpointEvery, checkpointPath: ckptPath } : {}),
        ...(resume ? { resume } : {}),
        meta,
        logEvery: logInterval(total),
        onLog: (rec) => log?.write(rec),
        onProgress: (done, m) => bar.update(done, m && Number.isFinite(m.reconstructionError) ? `recon ${fmt(m.reconstructionError)}` : undefined),
      });
      bar.done();
      const seconds = (performance.now() - t0) / 1000;
      await saveModel(o.out, {
        kind: RBM_KIND,
        config: r.cfg,
        provenance: {
          data: o.data, seed: o.seed, steps: r.steps, epochs: o.epochs, method: o.method, k: o.k, lr: o.lr, batch: o.batch,
          momentum: o.momentum, weightDecay: o.weightDecay, rows: data.rows,
        },
        tensors: rbmTensors(r.params),
      });
      const result = {
        model: o.out,
        kind: RBM_KIND,
        visible: o.visible,
        nVisible: r.cfg.nVisible,
        nHidden: r.cfg.nHidden,
        epochs: o.epochs,
        steps: r.steps,
        resumedFrom: resume?.step ?? null,
        reconstructionError: r.last.reconstructionError ?? null,
        meanHidden: r.last.meanHidden ?? null,
        seconds,
        backend: r.backend,
        checkpoint: o.checkpointEvery !== undefined ? ckptPath ?? null : null,
        log: o.log ?? null,
      };
      printResult(ctx, o.json, result, () =>
        [
          `trained rbm ${r.cfg.nVisible}-${r.cfg.nHidden} (${o.visible}, ${o.method.toUpperCase()}-${o.k}) on ${o.data} (${data.rows} rows) ` +
            `for ${o.epochs} epochs = ${r.steps} updates` + (resume ? ` (resumed at update ${resume.step})` : '') + ` in ${fmt(seconds)} s`,
          `final reconstruction error ${fmt(r.last.reconstructionError ?? NaN)}, mean hidden activity ${fmt(r.last.meanHidden ?? NaN)}`,
          `model      ${o.out}`,
          ...backendLines(r.backend),
          ...(result.checkpoint ? [`checkpoint ${result.checkpoint}`] : []),
          ...(o.log ? [`log        ${o.log}`] : []),
        ].join('\n'),
      );
    }),
  );
}

registerTrainKind(registerTrainRbm);
