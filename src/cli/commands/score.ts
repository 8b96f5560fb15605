/**
 * `ebm score MODEL --data X --out scores.csv [--labels y.csv] [--contamination c] [--json]`: per-row anomaly scores
 * of any model kind that offers an energy (higher = more anomalous: the score is `E(x) = −log p(x) + log Z`), and,
 * with labels (1 = anomaly, 0 = normal), the detection metrics AUROC, AUPRC and FPR at 95 % TPR. Kinds with more scores
 * (JEM: `logPx` = log p̃(x) and `maxProb` = max p(y|x), both lower = more anomalous, and `gradNorm` = ‖∇ log p̃‖ in
 * standardised units, higher = more anomalous) add a column, a mean and (with
 * labels) an AUROC each, taken in the anomalous direction.
 */
import type { Command } from 'commander';
import { Tensor } from '../../tensor/tensor.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { formatCsv, loadCsv } from '../../io/csv.js';
import { encodeNpy } from '../../io/npy.js';
import { DataError } from '../../io/errors.js';
import { detectionMetrics } from '../../eval/detection.js';
import { contaminationThreshold } from '../../anomaly/detector.js';
import { openModel } from '../../models/registry.js';
import type { ScoreColumn } from '../../models/kind.js';
import { runHotLoop } from '../../gpu/select.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseUnitInterval } from '../options.js';
import { alignColumns, addDataOptions, addSeedOption, backendLines, checkOutputPath, evalDataKey, fmt, loadDataFromOptions, type DataOptionValues } from '../common.js';

interface Opts extends DataOptionValues {
  out?: string;
  labels?: string;
  contamination?: number;
  seed: number;
  json?: boolean;
  labelColumn?: string;
}

/**
 * Reads 0/1 labels (one column, optional header) from a CSV file; errors name the file and line.
 * @example await readLabels('y.csv', 100) // Uint8Array(100)
 */
export async function readLabels(path: string, rows: number): Promise<Uint8Array> {
  const { data, header } = await loadCsv(path);
  if (data.shape[1] !== 1) throw new DataError(`labels must be one column of 0/1 values, found ${data.shape[1]} columns`, { file: path, flag: 'labels' });
  if (data.shape[0] !== rows) throw new DataError(`has ${data.shape[0]} labels but --data has ${rows} rows`, { file: path, flag: 'labels' });
  const off = header ? 2 : 1;
  const out = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = data.data[i];
    if (v !== 0 && v !== 1) throw new DataError(`label "${v}" is not 0 or 1 (1 = anomaly)`, { file: path, line: i + off, column: 1 });
    out[i] = v;
  }
  return out;
}

/** Registers `ebm score MODEL --data SPEC [--out FILE] [--labels FILE] [--contamination C] [--json]`. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('score')
    .description('anomaly scores E(x) of data under a model (higher = more anomalous); with --labels: AUROC, AUPRC, FPR@95TPR')
    .argument('<model>', 'model file (.safetensors written by ebm) of a kind that has an energy')
    .option('--out <file>', 'scores file: .csv (column "score") or .npy')
    .option('--labels <file>', 'CSV with one 0/1 column (1 = anomaly), one row per data row: report detection metrics')
    .option('--contamination <c>', 'flag the top fraction c of these rows as anomalies (threshold = (1 − c)-quantile)', parseUnitInterval)
    .option('--label-column <col>', 'classifiers (jem): a CSV class-label column to drop (default: the one used in training)')
    .option('--json', 'print one JSON object');
  addDataOptions(cmd, true, '10000, drawn with a key distinct from training');
  addSeedOption(cmd);
  cmd.action((modelPath: string, o: Opts) =>
    runCommand(ctx, async () => {
      if (o.out !== undefined) checkOutputPath(o.out, '--out', ['.csv', '.npy']);
      if (o.contamination !== undefined && !(o.contamination < 1)) throw new UsageError(`--contamination must be below 1, got ${o.contamination}`);
      const m = await openModel(modelPath);
      if (!m.energy) throw new UsageError(`model kind ${m.kind} has no energy to score with`);
      const raw = await loadDataFromOptions(o, evalDataKey(o.seed));
      const data = m.prepareData ? m.prepareData(raw, o.labelColumn) : raw;
      if (o.labelColumn !== undefined && !m.prepareData) throw new UsageError(`--label-column: model kind ${m.kind} takes no labels`);
      if (data.cols !== m.dim) throw new UsageError(`--data ${o.data}: has ${data.cols} columns but the model takes ${m.dim}`);
      const labels = o.labels !== undefined ? await readLabels(o.labels, data.rows) : null;
      // EBM_BACKEND=webgpu: the energy and the extra columns on the GPU where the kind has a scorer there.
      const energy = m.energy.bind(m);
      const { value: scored, backend } = await runHotLoop(
        m.scoreGpu?.(data.x) ?? `model kind ${m.kind} has no WebGPU scorer yet`,
        () => ({ energy: energy(data.x), columns: null as ScoreColumn[] | null }),
      );
      const scores = scored.energy;
      for (let i = 0; i < scores.length; i++) {
        if (!Number.isFinite(scores[i])) throw new DataError(`the model gives a non-finite score (${scores[i]}) at data row ${i + 1}`, { flag: 'data' });
      }
      let s = 0;
      for (const v of scores) s += v;
      const result: Record<string, unknown> = { model: modelPath, kind: m.kind, data: o.data, rows: data.rows, score: 'energy', meanScore: s / scores.length };
      if (o.contamination !== undefined) {
        const thr = contaminationThreshold(scores, o.contamination);
        let flagged = 0;
        for (const v of scores) if (v > thr) flagged++;
        Object.assign(result, { contamination: o.contamination, threshold: thr, flagged });
      }
      if (labels) {
        const met = detectionMetrics(scores, labels);
        Object.assign(result, { auroc: met.auroc, auprc: met.auprc, fpr95: met.fpr95, anomalies: met.positives, normals: met.negatives });
      }
      const extra = scored.columns ?? m.scoreColumns?.(data.x) ?? [];
      for (const c of extra) {
        let sc = 0;
        for (const v of c.values) sc += v;
        const cap = c.name[0].toUpperCase() + c.name.slice(1);
        result[`mean${cap}`] = sc / c.values.length;
        result[`${c.name}Anomalous`] = c.anomalous;
        if (labels) result[`auroc${cap}`] = detectionMetrics(c.anomalous === 'higher' ? c.values : c.values.map((v) => -v), labels).auroc;
      }
      if (extra.length) result.columns = ['score', ...extra.map((c) => c.name)];
      result.backend = backend;
      if (o.out !== undefined) {
        const cols = [scores, ...extra.map((c) => c.values)];
        const t = new Tensor(Float64Array.from({ length: scores.length * cols.length }, (_, i) => cols[i % cols.length][Math.floor(i / cols.length)]), [scores.length, cols.length]);
        await writeFileAtomic(o.out, o.out.toLowerCase().endsWith('.npy') ? encodeNpy(t) : formatCsv(t, ['score', ...extra.map((c) => c.name)]));
        result.out = o.out;
      }
      printResult(ctx, o.json, result, () => {
        const lines = [`${m.describe()} on ${o.data} (${data.rows} rows): anomaly score = energy`];
        lines.push(alignColumns(Object.entries(result).filter(([k, v]) => typeof v === 'number' && k !== 'rows').map(([k, v]) => [k, fmt(v as number)])));
        for (const c of extra) lines.push(`column ${c.name}: ${c.anomalous} = more anomalous`);
        if (o.out !== undefined) lines.push(`wrote ${o.out}`);
        lines.push(...backendLines(backend, 'backend '));
        return lines.join('\n');
      });
    }),
  );
}
