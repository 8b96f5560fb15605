/**
 * `ebm sample MODEL`: draws samples from a model file (any registered kind) and writes CSV, .npy or PNG.
 * `ebm sample --energy NAME …`: MCMC on an analytic energy instead (see `sampleEnergy.ts`).
 */
import type { Command } from 'commander';
import { key as makeKey } from '../../random/index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { checkBudget } from '../../io/limits.js';
import { openModel } from '../../models/registry.js';
import { scoreSampleRequest } from '../kinds/scoreOptions.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseFloatValue, parsePositiveFloat, parsePositiveInt } from '../options.js';
import { SAMPLE_EXTS, addSeedOption, checkOutputPath, backendLines, columnStats, fmt, writeSamples } from '../common.js';
import { progressBar } from '../progress.js';
import { addEnergySampleOptions, sampleEnergy, type EnergySampleOptions } from './sampleEnergy.js';
import { runHotLoop } from '../../gpu/select.js';

interface Opts extends Omit<EnergySampleOptions, 'energy'> {
  energy?: EnergySampleOptions['energy'];
  gibbsSteps?: number;
  n: number;
  out: string;
  plot?: string;
  steps?: number;
  stepSize?: number;
  seed: number;
  class?: number;
  quiet?: boolean;
  json?: boolean;
}

/** Registers `ebm sample MODEL --n N --out FILE [--plot heat.png]`. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('sample')
    .description('draw samples from a model file; write them as .csv, .npy or .png (and a heat map with --plot)')
    .argument('[model]', 'model file (.safetensors written by ebm); omit it with --energy')
    .requiredOption('--out <file>', 'samples file: .csv, .npy or .png')
    .option('--n <n>', 'number of samples', parsePositiveInt, 1000)
    .option('--plot <heat.png>', '2-D models: density heat map with the samples on top')
    .option('--steps <n>', 'MCMC steps (mlp-energy: Langevin steps, default 500)', parsePositiveInt)
    .option('--step-size <eta>', 'MCMC step size (mlp-energy: Langevin η in standardised units, default 0.01)', parsePositiveFloat)
    .option('--gibbs-steps <n>', 'RBMs: block Gibbs sweeps (default 1000)', parsePositiveInt)
    .option('--class <k>', 'class-conditional models (jem): sample from p(x | y = k), k a label value of the training data', parseFloatValue)
    .option('--quiet', 'no progress bar')
    .option('--json', 'print one JSON object');
  addSeedOption(cmd);
  addEnergySampleOptions(cmd);
  cmd.action((modelPath: string | undefined, o: Opts) =>
    runCommand(ctx, async () => {
      if (o.energy !== undefined) {
        if (modelPath !== undefined) throw new UsageError(`give either a model file (${modelPath}) or --energy ${o.energy}, not both`);
        for (const f of ['n', 'gibbsSteps'] as const) if (cmd.getOptionValueSource(f) === 'cli') throw new UsageError(`--${f === 'n' ? 'n' : 'gibbs-steps'} applies to model files; with --energy use --chains and --steps`);
        return sampleEnergy(ctx, { ...o, energy: o.energy });
      }
      if (modelPath === undefined) throw new UsageError('missing the model file: ebm sample MODEL --out FILE (or ebm sample --energy NAME … for an analytic energy)');
      for (const f of ['params', 'samplerOptions', 'burnIn'] as const) if (o[f] !== undefined) throw new UsageError(`--${f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} applies only with --energy`);
      checkOutputPath(o.out, '--out', SAMPLE_EXTS);
      if (o.plot) checkOutputPath(o.plot, '--plot', ['.png']);
      const m = await openModel(modelPath);
      if (!m.sample) throw new UsageError(`model kind ${m.kind} cannot be sampled`);
      if (o.plot && !m.plot) throw new UsageError(`--plot: model kind ${m.kind} cannot be plotted`);
      // with the model's dimension known: chains, proposals, gradients in float64 and the written text, per value
      checkBudget(o.n * m.dim * 64, `--n: ${o.n} samples of dimension ${m.dim}`);
      let classIndex: number | undefined;
      if (o.class !== undefined) {
        if (!m.classes) throw new UsageError(`--class: model kind ${m.kind} is not class-conditional`);
        classIndex = m.classes.indexOf(o.class);
        if (classIndex < 0) throw new UsageError(`--class ${o.class}: not one of the model's classes (${m.classes.join(', ')})`);
      }
      const steps = o.gibbsSteps ?? o.steps;
      const bar = progressBar(ctx.io, 'sample', steps ?? 500, o.quiet);
      const t0 = performance.now();
      const so = {
        key: makeKey(o.seed),
        n: o.n,
        ...(steps !== undefined ? { steps } : {}),
        ...(o.stepSize !== undefined ? { stepSize: o.stepSize } : {}),
        ...(classIndex !== undefined ? { classIndex } : {}),
        ...scoreSampleRequest(cmd),
        onProgress: (d: number) => bar.update(d),
      };
      const sample = m.sample.bind(m);
      const { value: x, backend } = await runHotLoop(m.sampleGpu?.(so) ?? `model kind ${m.kind} has no WebGPU sampler yet`, () => sample(so));
      bar.done();
      const seconds = (performance.now() - t0) / 1000;
      const plotFn = m.plot ? () => m.plot!({ samples: x }) : undefined;
      const pngOk = m.imageShape !== undefined || (plotFn !== undefined && m.dim === 2);
      if (o.out.toLowerCase().endsWith('.png') && !pngOk) throw new UsageError(`--out ${o.out}: PNG output needs image-shaped or 2-D samples`);
      // Work done: now write the outputs.
      await writeSamples(o.out, x, { ...(m.imageShape ? { imageShape: m.imageShape } : {}), ...(plotFn ? { plot: plotFn } : {}) });
      if (o.plot && plotFn) await writeFileAtomic(o.plot, plotFn());
      const s = columnStats(x);
      const result = { model: modelPath, kind: m.kind, ...(o.class !== undefined ? { class: o.class } : {}), n: o.n, dim: m.dim, out: o.out, plot: o.plot ?? null, mean: s.colMean, seconds, backend };
      printResult(ctx, o.json, result, () =>
        [
          `${o.n} samples from ${m.describe()} in ${fmt(seconds)} s`,
          `mean     [${s.colMean.slice(0, 8).map(fmt).join(', ')}${m.dim > 8 ? ', …' : ''}]`,
          `samples  ${o.out}`,
          ...backendLines(backend, 'backend  '),
          ...(o.plot ? [`plot     ${o.plot}`] : []),
        ].join('\n'),
      );
    }),
  );
}
