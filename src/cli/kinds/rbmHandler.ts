/** `ebm filters MODEL --out filters.png` (the `rbm` kind itself is in the library's registry, `src/models/rbm/kind.ts`). */
import type { Command } from 'commander';
import { writeFileAtomic } from '../../io/atomic.js';
import { nHiddenOf } from '../../models/rbm/index.js';
import { openModel } from '../../models/registry.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parsePositiveInt } from '../options.js';
import { checkOutputPath } from '../common.js';
import { RBM_KIND, rbmFiltersPng, type LoadedRbm } from '../../models/rbm/kind.js';

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
        const m = await openModel(modelPath);
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
