/** `ebm train mlp-energy`: an MLP energy trained by denoising or sliced score matching, with checkpoints and resume. */
import type { Command } from 'commander';
import type { Activation } from '../../nn/index.js';
import { ACTIVATIONS } from '../../nn/index.js';
import { saveModel } from '../../io/model.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseChoice, parseIntList, parsePositiveFloat, parsePositiveInt } from '../options.js';
import { addDataOptions, addSeedOption, addTrainOutputOptions, resolveTrainOutputs, loadResumePoint, type TrainOutputValues, fmt, backendLines, loadDataFromOptions, trainDataKey, type DataOptionValues } from '../common.js';
import { progressBar } from '../progress.js';
import { openTrainLog, logInterval } from '../trainLog.js';
import { MLP_ENERGY_KIND, trainMlpEnergy } from '../kinds/mlpEnergy.js';

interface Opts extends DataOptionValues, TrainOutputValues {
  hidden: number[];
  activation: Activation;
  loss: 'dsm' | 'ssm';
  sigma: number;
  steps: number;
  lr: number;
  batch: number;
  seed: number;
}


/** Registers `ebm train mlp-energy`. */
export function registerTrainMlpEnergy(train: Command, ctx: CliContext): void {
  const cmd = train
    .command('mlp-energy')
    .description('train an MLP energy E(x) by denoising (dsm) or sliced (ssm) score matching')
    .requiredOption('--out <model.safetensors>', 'model file to write')
    .option('--hidden <widths>', 'hidden layer widths, comma-separated', parseIntList, [64, 64])
    .option('--activation <name>', `activation (${ACTIVATIONS.join(', ')})`, parseChoice(ACTIVATIONS), 'silu' as Activation)
    .option('--loss <loss>', 'dsm (denoising) or ssm (sliced) score matching', parseChoice(['dsm', 'ssm'] as const), 'dsm')
    .option('--sigma <s>', 'DSM noise level, in standardised data units', parsePositiveFloat, 0.1)
    .option('--steps <n>', 'training steps', parsePositiveInt, 2000)
    .option('--lr <lr>', 'Adam learning rate', parsePositiveFloat, 1e-3)
    .option('--batch <n>', 'mini-batch size', parsePositiveInt, 128);
  addTrainOutputOptions(cmd, { logFields: 'step, loss, energyGap, gradNorm, lr, time', every: 'steps', grows: '--steps' });
  addDataOptions(cmd);
  addSeedOption(cmd);
  cmd.action((o: Opts) =>
    runCommand(ctx, async () => {
      const ckptPath = resolveTrainOutputs(o);
      const data = await loadDataFromOptions(o, trainDataKey(o.seed));
      if (data.rows < 2) throw new UsageError(`--data ${o.data}: needs at least 2 rows, got ${data.rows}`);
      const meta = {
        data: o.data, n: o.n ?? null, limit: o.limit ?? null, ...(o.subset !== undefined ? { subset: o.subset } : {}), binarize: o.binarize ?? null, threshold: o.threshold ?? null,
        seed: o.seed, hidden: o.hidden, activation: o.activation, loss: o.loss, sigma: o.sigma, lr: o.lr, batch: o.batch,
      };
      const resume = await loadResumePoint(o, ckptPath, MLP_ENERGY_KIND, meta, o.steps,
        (done) => `--steps ${o.steps} is less than the ${done} steps already done in ${ckptPath}`);
      const log = o.log ? openTrainLog(o.log, resume?.step) : undefined;
      const bar = progressBar(ctx.io, 'train', o.steps, o.quiet);
      const t0 = performance.now();
      const r = await trainMlpEnergy({
        x: data.x,
        cfgIn: { hidden: o.hidden, activation: o.activation, loss: o.loss, sigma: o.sigma, bounds: data.bounds ?? null },
        steps: o.steps,
        lr: o.lr,
        batch: o.batch,
        seed: o.seed,
        ...(o.checkpointEvery !== undefined && ckptPath ? { checkpointEvery: o.checkpointEvery, checkpointPath: ckptPath } : {}),
        ...(resume ? { resume } : {}),
        meta,
        logEvery: logInterval(o.steps),
        onLog: (rec) => log?.write(rec),
        onProgress: (done, m) => bar.update(done, m ? `loss ${fmt(m.loss)}` : undefined),
      });
      bar.done();
      const seconds = (performance.now() - t0) / 1000;
      await saveModel(o.out, {
        kind: MLP_ENERGY_KIND,
        config: r.cfg,
        provenance: { data: o.data, seed: o.seed, steps: o.steps, loss: o.loss, lr: o.lr, batch: o.batch, rows: data.rows },
        tensors: r.params,
      });
      const result = {
        model: o.out,
        kind: MLP_ENERGY_KIND,
        steps: o.steps,
        resumedFrom: resume?.step ?? null,
        loss: r.last.loss ?? null,
        energyGap: r.last.energyGap ?? null,
        gradNorm: r.last.gradNorm ?? null,
        seconds,
        backend: r.backend,
        checkpoint: o.checkpointEvery !== undefined ? ckptPath ?? null : null,
        log: o.log ?? null,
      };
      printResult(ctx, o.json, result, () =>
        [
          `trained mlp-energy ${[data.cols, ...o.hidden, 1].join('-')} on ${o.data} (${data.rows} rows) for ${o.steps} steps` +
            (resume ? ` (resumed at step ${resume.step})` : '') + ` in ${fmt(seconds)} s`,
          `final loss ${fmt(r.last.loss ?? NaN)}, energy gap ${fmt(r.last.energyGap ?? NaN)}, grad norm ${fmt(r.last.gradNorm ?? NaN)}`,
          `model      ${o.out}`,
          ...backendLines(r.backend),
          ...(result.checkpoint ? [`checkpoint ${result.checkpoint}`] : []),
          ...(o.log ? [`log        ${o.log}`] : []),
        ].join('\n'),
      );
    }),
  );
}
