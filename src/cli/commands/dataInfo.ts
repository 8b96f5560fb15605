/** `ebm data-info --data SPEC`: loads data and prints rows, columns and value statistics. */
import type { Command } from 'commander';
import { printResult, runCommand, type CliContext } from '../context.js';
import { addDataOptions, addSeedOption, alignColumns, columnStats, fmt, loadDataFromOptions, trainDataKey, type DataOptionValues } from '../common.js';

/** Registers `ebm data-info --data SPEC [--n N] [--seed S] [--json]`. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('data-info')
    .description('load a data set and print its size and value range (rows, cols, min, max, mean)')
    .option('--json', 'print one JSON object');
  addDataOptions(cmd);
  addSeedOption(cmd);
  cmd.action((o: DataOptionValues & { json?: boolean; seed: number }) =>
    runCommand(ctx, async () => {
      const d = await loadDataFromOptions(o, trainDataKey(o.seed));
      const s = columnStats(d.x);
      const perColumn = d.cols <= 16;
      const result: Record<string, unknown> = {
        data: d.spec,
        source: d.source,
        rows: d.rows,
        cols: d.cols,
        min: s.min,
        max: s.max,
        mean: s.mean,
        binary: d.binary,
        ...(d.imageShape ? { imageShape: d.imageShape } : {}),
        ...(d.header ? { header: d.header } : {}),
        ...(d.labels ? { labels: true } : {}),
        ...(perColumn ? { columns: s.colMin.map((mn, j) => ({ min: mn, max: s.colMax[j], mean: s.colMean[j] })) } : {}),
      };
      printResult(ctx, o.json, result, () => {
        const lines = [
          `data    ${d.spec} (${d.source})`,
          `rows    ${d.rows}`,
          `cols    ${d.cols}${d.imageShape ? ` (${d.imageShape[0]}×${d.imageShape[1]} images)` : ''}`,
          `min     ${fmt(s.min)}`,
          `max     ${fmt(s.max)}`,
          `mean    ${fmt(s.mean)}`,
          `binary  ${d.binary ? 'yes' : 'no'}`,
        ];
        if (perColumn) {
          const rows = [['column', 'min', 'max', 'mean']];
          for (let j = 0; j < d.cols; j++) rows.push([d.header?.[j] ?? `x${j + 1}`, fmt(s.colMin[j]), fmt(s.colMax[j]), fmt(s.colMean[j])]);
          lines.push(alignColumns(rows, '  '));
        }
        return lines.join('\n');
      });
    }),
  );
}
