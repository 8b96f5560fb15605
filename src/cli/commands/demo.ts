/**
 * `ebm demo`: the guided tour on data that ships — trains a 2-D MLP energy on `toy:8gaussians` by denoising score
 * matching, samples it by Langevin dynamics, evaluates its log-likelihood against the true density, and writes
 * the model, samples and PNG heat maps into one directory.
 */
import { mkdirSync, statSync } from 'node:fs';
import { guardCommandFiles } from '../outputs.js';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Tensor } from '../../tensor/tensor.js';
import { key as makeKey } from '../../random/index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { formatCsv } from '../../io/csv.js';
import { heatmapPng } from '../../io/png.js';
import { saveModel } from '../../io/model.js';
import { loadDataSpec } from '../../data/spec.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { addSeedOption, alignColumns, cliInvocation, evalDataKey, fmt, trainDataKey } from '../common.js';
import { progressBar } from '../progress.js';
import { openTrainLog } from '../trainLog.js';
import { MLP_ENERGY_KIND, sampleMlpEnergy, trainMlpEnergy, mlpEnergyAvgLogLik, mlpEnergyHeatmap } from '../kinds/mlpEnergy.js';
import { UsageError } from '../errors.js';
import { ioErrorDetail } from '../../io/errors.js';

interface Opts {
  outDir: string;
  quick?: boolean;
  seed: number;
  quiet?: boolean;
  json?: boolean;
}

/** The files `ebm demo` writes into `--out-dir`. */
const DEMO_FILES = ['train.jsonl', 'model.safetensors', 'samples.csv', 'model-density.png', 'true-density.png'];

/** Registers `ebm demo [--out-dir DIR] [--quick]`. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('demo')
    .description('guided tour: train a 2-D energy on toy:8gaussians, sample it, evaluate it, write PNGs')
    .option('--out-dir <dir>', 'directory for the outputs (created if missing)', 'ebm-demo')
    .option('--quick', 'a ~3 s version (fewer steps and samples)')
    .option('--quiet', 'no progress bars')
    .option('--json', 'print one JSON object');
  addSeedOption(cmd);
  cmd.action((o: Opts) =>
    runCommand(ctx, async () => {
      const dir = o.outDir;
      if (dir.trim() === '') throw new UsageError('--out-dir: the path is empty');
      const spec = 'toy:8gaussians';
      const steps = o.quick ? 200 : 2500;
      const nSamples = o.quick ? 500 : 1000;
      const langevinSteps = o.quick ? 100 : 400;
      const say = (s: string) => {
        if (!o.json && !o.quiet) ctx.io.stderr(s + '\n');
      };
      const train = await loadDataSpec(spec, { n: 5000, key: trainDataKey(o.seed) });
      const test = await loadDataSpec(spec, { n: 5000, key: evalDataKey(o.seed) });
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new UsageError(`--out-dir ${dir}: cannot create it (${ioErrorDetail(e)})`);
      }
      // the same rules as --out: regular files or new paths only, one writer (locks), stale temp files removed
      if (!statSync(dir).isDirectory()) throw new UsageError(`--out-dir ${dir}: not a directory`);
      guardCommandFiles(DEMO_FILES.map((f) => ({ flag: '--out-dir', path: join(dir, f) })), []);
      say(`1/4 training a 2-64-64-1 MLP energy on ${spec} (${train.rows} points) by denoising score matching, ${steps} steps`);
      const logPath = join(dir, 'train.jsonl');
      const log = openTrainLog(logPath);
      const bar = progressBar(ctx.io, 'train', steps, o.quiet || o.json);
      const t0 = performance.now();
      const r = await trainMlpEnergy({
        x: train.x,
        cfgIn: { hidden: [64, 64], activation: 'silu', loss: 'dsm', sigma: 0.1, bounds: train.bounds ?? null },
        steps,
        lr: 3e-3,
        batch: 128,
        seed: o.seed,
        logEvery: Math.max(1, Math.floor(steps / 100)),
        onLog: (rec) => log.write(rec),
        onProgress: (d, m) => bar.update(d, m ? `loss ${fmt(m.loss)}` : undefined),
      });
      bar.done();
      const trainSeconds = (performance.now() - t0) / 1000;
      const modelPath = join(dir, 'model.safetensors');
      await saveModel(modelPath, {
        kind: MLP_ENERGY_KIND,
        config: r.cfg,
        provenance: { data: spec, seed: o.seed, steps, loss: 'dsm', lr: 3e-3, batch: 128, rows: train.rows },
        tensors: r.params,
      });

      say(`2/4 drawing ${nSamples} samples by Langevin dynamics (${langevinSteps} steps)`);
      const sbar = progressBar(ctx.io, 'sample', langevinSteps, o.quiet || o.json);
      const samples = sampleMlpEnergy(r.params, r.cfg, makeKey(o.seed + 1), nSamples, { steps: langevinSteps, onProgress: (d) => sbar.update(d) });
      sbar.done();
      const samplesPath = join(dir, 'samples.csv');
      await writeFileAtomic(samplesPath, formatCsv(samples, ['x1', 'x2']));

      say('3/4 evaluating: log Z by grid quadrature, average log-likelihood of held-out points');
      const ev = mlpEnergyAvgLogLik(r.params, r.cfg, test.x, 200);
      const ld = test.logDensity!(test.x);
      let trueLL = 0;
      for (const v of ld) trueLL += v;
      trueLL /= ld.length;

      say('4/4 writing pictures');
      const heatPath = join(dir, 'model-density.png');
      await writeFileAtomic(heatPath, mlpEnergyHeatmap(r.params, r.cfg, samples, 160, 3));
      const truePath = join(dir, 'true-density.png');
      const box = r.cfg.bounds!;
      const res = 160;
      const pts = new Float64Array(res * res * 2);
      for (let i = 0; i < res; i++) {
        for (let j = 0; j < res; j++) {
          pts[2 * (i * res + j)] = box[0] + ((j + 0.5) * (box[1] - box[0])) / res;
          pts[2 * (i * res + j) + 1] = box[3] - ((i + 0.5) * (box[3] - box[2])) / res;
        }
      }
      const tl = test.logDensity!(new Tensor(pts, [res * res, 2]));
      await writeFileAtomic(truePath, heatmapPng(new Tensor(Float32Array.from(tl, Math.exp), [res, res]), { extent: box, scale: 3, points: { x: train.x.data.subarray(0, 2 * nSamples), color: [255, 255, 255], radius: 1 } }));

      const result = {
        outDir: dir,
        data: spec,
        steps,
        trainSeconds,
        finalLoss: r.last.loss ?? null,
        avgLogLik: ev.avgLogLik,
        trueAvgLogLik: trueLL,
        nllGap: trueLL - ev.avgLogLik,
        logZ: ev.logZ,
        files: { model: modelPath, samples: samplesPath, modelDensity: heatPath, trueDensity: truePath, log: logPath },
      };
      printResult(ctx, o.json, result, () =>
        [
          `Trained in ${fmt(trainSeconds)} s; final DSM loss ${fmt(r.last.loss ?? NaN)}.`,
          `Held-out average log-likelihood: model ${fmt(ev.avgLogLik)} nats, true density ${fmt(trueLL)} nats (gap ${fmt(trueLL - ev.avgLogLik)}).`,
          'Files:',
          alignColumns([
            [modelPath, 'the model (safetensors)'],
            [samplesPath, `${nSamples} Langevin samples`],
            [heatPath, 'model density with the samples on top'],
            [truePath, 'true density with training points on top'],
            [logPath, 'training log (JSON lines)'],
          ], '  '),
          `Next: ${cliInvocation()} sample ${modelPath} --n 500 --out s.png`,
        ].join('\n'),
      );
    }),
  );
}
