/** `ebm eval MODEL --data SPEC`: figures of a model on data (average energy; in 2-D, log Z and average log-likelihood). */
import type { Command } from 'commander';
import { key as makeKey } from '../../random/index.js';
import { openModel } from '../../models/registry.js';
import { scoreEvalRequest } from '../kinds/scoreOptions.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseChoice, parsePositiveInt } from '../options.js';
import { alignColumns, addDataOptions, addSeedOption, evalDataKey, fmt, loadDataFromOptions, type DataOptionValues } from '../common.js';
import { evalRbmCf, type EvalRbmCfOptions } from './evalRbmCf.js';

interface Opts extends DataOptionValues, Partial<EvalRbmCfOptions> {
  grid: number;
  logz?: 'exact' | 'ais' | 'grid';
  aisBetas: number;
  aisRuns: number;
  seed: number;
  json?: boolean;
  labelColumn?: string;
}

/** Registers `ebm eval MODEL --data SPEC [--grid R] [--json]`. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('eval')
    .description('evaluate a model on data: average energy; for 2-D models log Z by grid quadrature and avgLogLik')
    .argument('<model>', 'model file (.safetensors written by ebm)')
    .option('--grid <r>', 'quadrature grid points per axis (2-D models)', parsePositiveInt, 200)
    .option('--logz <method>', 'log Z method: grid (2-D energies: quadrature on --grid points), exact or ais (RBMs; default: exact when a layer has ≤ 25 units, else ais)', parseChoice(['grid', 'exact', 'ais'] as const))
    .option('--ais-betas <n>', 'RBMs, AIS: β intervals of the Salakhutdinov–Murray schedule (≥ 29)', parsePositiveInt, 14500)
    .option('--ais-runs <n>', 'RBMs, AIS: independent annealing runs', parsePositiveInt, 100)
    .option('--label-column <col>', 'classifiers (jem): the CSV column holding the labels (default: the one used in training)')
    .option('--ratings <file>', 'RBM-CF models: ratings to compute RMSE on (MovieLens format; instead of --data)')
    .option('--user-features <csv>', 'RBM-CF models: user features replacing the stored ones')
    .option('--item-features <csv>', 'RBM-CF models: item features replacing the stored ones')
    .option('--predictions <csv>', 'RBM-CF models: write user,item,prediction')
    .option('--json', 'print one JSON object');
  addDataOptions(cmd, false, '10000, drawn with a key distinct from training');
  addSeedOption(cmd);
  cmd.action((modelPath: string, o: Opts) =>
    runCommand(ctx, async () => {
      if (o.ratings) return evalRbmCf(ctx, modelPath, { ...o, ratings: o.ratings });
      if (!o.data) throw new UsageError('--data is required (or --ratings for an RBM-CF model)');
      const m = await openModel(modelPath);
      if (!m.evaluate) throw new UsageError(`model kind ${m.kind} has no evaluation`);
      // --logz names the partition-function method: grid quadrature is for 2-D energies, exact/AIS for RBMs.
      const isRbm = m.kind === 'rbm';
      if (o.logz === 'grid' && (isRbm || m.dim !== 2)) throw new UsageError(`--logz grid: needs a 2-D energy model; this ${m.kind} model has ${m.dim} inputs${isRbm ? ' (use --logz exact or ais)' : ''}`);
      if ((o.logz === 'exact' || o.logz === 'ais') && !isRbm) throw new UsageError(`--logz ${o.logz}: only for RBMs; this is a ${m.kind} model${m.dim === 2 ? ' (use --logz grid)' : ''}`);
      // Toy data for evaluation is drawn with a key distinct from the training data's, so it is held out.
      const raw = await loadDataFromOptions(o, evalDataKey(o.seed));
      const data = m.prepareData ? m.prepareData(raw, o.labelColumn) : raw;
      if (o.labelColumn !== undefined && !m.prepareData) throw new UsageError(`--label-column: model kind ${m.kind} takes no labels`);
      if (data.cols !== m.dim) throw new UsageError(`--data ${o.data}: has ${data.cols} columns but the model takes ${m.dim}`);
      const report: Record<string, unknown> = {};
      const figures = m.evaluate(data, {
        key: makeKey(o.seed), gridRes: o.grid, aisBetas: o.aisBetas, aisRuns: o.aisRuns, report, ...(o.logz && o.logz !== 'grid' ? { logz: o.logz } : {}), ...scoreEvalRequest(cmd.opts()),
      });
      const result: Record<string, unknown> = { model: modelPath, kind: m.kind, data: o.data, ...figures, ...report };
      if (data.logDensity && figures.avgLogLik !== undefined) {
        const ld = data.logDensity(data.x);
        let s = 0;
        for (const v of ld) s += v;
        result.trueAvgLogLik = s / ld.length;
      }
      printResult(ctx, o.json, result, () => {
        const lines = [`${m.describe()} on ${o.data} (${data.rows} rows)`];
        const rows = Object.entries(result).filter(([k, v]) => typeof v === 'number' && k !== 'rows').map(([k, v]) => [k, fmt(v as number)]);
        if (result.protocol) rows.push(['protocol', JSON.stringify(result.protocol)]);
        lines.push(alignColumns(rows));
        return lines.join('\n');
      });
    }),
  );
}
