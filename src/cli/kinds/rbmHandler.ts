/**
 * Registers the `rbm` kind with the CLI's model registry (so `ebm sample` and `ebm eval` take RBM files) and defines
 * `ebm filters MODEL --out filters.png`. Imported for its side effect by `src/cli/main.ts`.
 */
import type { Command } from 'commander';
import { DataError } from '../../io/errors.js';
import { checkTensorLayout } from '../../io/model.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { nHiddenOf } from '../../models/rbm/index.js';
import { registerModelKind, loadAnyModel, type LoadedModel } from '../models.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parsePositiveInt } from '../options.js';
import { checkOutputPath } from '../common.js';
import {
  RBM_KIND, checkRbmConfig, checkRbmData, rbmEvaluate, rbmFiltersPng, rbmFreeEnergy, rbmGibbsSample, rbmImageShape, rbmLayout, rbmParamsOf,
  type RbmConfig,
} from './rbm.js';
import type { RBMParams } from '../../models/rbm/index.js';

/** Default number of Gibbs sweeps of `ebm sample` for RBMs. */
export const RBM_DEFAULT_GIBBS_STEPS = 1000;

/** A loaded `rbm` model: the generic {@link LoadedModel} plus its parameters and config (for `ebm filters`). */
export interface LoadedRbm extends LoadedModel {
  params: RBMParams;
  config: RbmConfig;
}

registerModelKind({
  kind: RBM_KIND,
  description: 'restricted Boltzmann machine (bernoulli / gaussian / softmax visible units), CD-k or PCD trained; sampled by block Gibbs',
  fromFile(file, path): LoadedRbm {
    const cfg = checkRbmConfig(file.config, path);
    checkTensorLayout(file.tensors, rbmLayout(cfg), path);
    let params: RBMParams;
    try {
      params = rbmParamsOf(cfg, file.tensors);
    } catch (e) {
      throw new DataError((e as Error).message, { file: path });
    }
    const imageShape = rbmImageShape(cfg);
    const vis = cfg.visible === 'softmax' ? `softmax:${cfg.categories}` : cfg.visible;
    return {
      kind: RBM_KIND,
      file,
      params,
      config: cfg,
      dim: cfg.nVisible,
      ...(imageShape ? { imageShape } : {}),
      describe: () => `rbm ${cfg.nVisible}-${cfg.nHidden} (${vis} visible)` +
        (file.provenance.data ? ` trained on ${String(file.provenance.data)}` : ''),
      sample: (o) => {
        const steps = o.steps ?? RBM_DEFAULT_GIBBS_STEPS;
        return rbmGibbsSample(params, o.key, o.n, steps, (d) => o.onProgress?.(d, steps));
      },
      energy: (x) => rbmFreeEnergy(params, x),
      evaluate: (data, o) => {
        if (data.cols !== cfg.nVisible) throw new DataError(`has ${data.cols} columns but the model takes ${cfg.nVisible}`, { flag: `data ${data.spec}` });
        checkRbmData(data.x, cfg.visible, cfg.categories, data.spec);
        const r = rbmEvaluate(params, data.x, {
          key: o.key,
          ...(o.logz ? { logz: o.logz } : {}),
          ...(o.aisBetas !== undefined ? { aisBetas: o.aisBetas } : {}),
          ...(o.aisRuns !== undefined ? { aisRuns: o.aisRuns } : {}),
        });
        const protocol: Record<string, unknown> = { ...r.protocol, data: data.spec, rows: data.rows };
        if (o.report) o.report.protocol = protocol;
        return r.figures;
      },
    };
  },
});

interface FiltersOpts {
  out: string;
  max?: number;
  scale?: number;
  json?: boolean;
}

/** Registers `ebm filters MODEL --out filters.png [--max N] [--scale S]`. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('filters')
    .description('draw the weight filters of an RBM (one image per hidden unit, each min–max normalised) as a PNG grid')
    .argument('<model>', 'RBM model file (.safetensors written by ebm train rbm)')
    .requiredOption('--out <filters.png>', 'PNG file to write')
    .option('--max <n>', 'draw at most N filters (default: all hidden units)', parsePositiveInt)
    .option('--scale <s>', 'pixels per weight (default 8 for ≤ 8×8 images, 2 up to 32×32, else 1)', parsePositiveInt)
    .option('--json', 'print one JSON object')
    .action((modelPath: string, o: FiltersOpts) =>
      runCommand(ctx, async () => {
        checkOutputPath(o.out, '--out', ['.png']);
        const m = await loadAnyModel(modelPath);
        if (m.kind !== RBM_KIND) throw new UsageError(`${modelPath}: filters are drawn for rbm models, this is a ${m.kind} model`);
        const r = m as LoadedRbm;
        const png = rbmFiltersPng(r.params, r.imageShape, o.max, o.scale);
        await writeFileAtomic(o.out, png);
        const shown = Math.min(nHiddenOf(r.params), o.max ?? Infinity);
        const result = { model: modelPath, kind: r.kind, filters: shown, imageShape: r.imageShape ?? [1, r.dim], out: o.out };
        printResult(ctx, o.json, result, () => `${shown} filters of ${r.describe()} → ${o.out}`);
      }),
    );
}
