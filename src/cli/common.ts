/** Helpers shared by the commands: data options, output-path checks, sample writers, key derivations. */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { Tensor } from '../tensor/tensor.js';
import { foldIn, key as makeKey, type Key } from '../random/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { initFourierFeatures, type FourierFeatures } from '../nn/fourier.js';
import { formatCsv } from '../io/csv.js';
import { encodeNpy } from '../io/npy.js';
import { imageGridPng } from '../io/png.js';
import { loadDataSpec, type Dataset } from '../data/spec.js';
import type { Binarize } from '../data/mnist.js';
import { checkResumeMeta, loadCheckpoint, type StateTree } from '../io/checkpoint.js';
import { NonFiniteResultError, UsageError } from './errors.js';
import { parseChoice, parsePositiveInt, parseSeed, parseUnitInterval } from './options.js';
import type { HotLoopBackend } from '../gpu/select.js';

/** Values of the data options added by {@link addDataOptions}. */
export interface DataOptionValues {
  data: string;
  n?: number;
  binarize?: Binarize;
  threshold?: number;
  limit?: number;
  subset?: number;
}

/**
 * Adds `--data SPEC` (required unless `required` is false), `--n N` (points drawn from toy generators),
 * `--binarize none|threshold|stochastic`, `--threshold T`, `--limit N` and `--subset N` to a command.
 */
export function addDataOptions(cmd: Command, required = true, nDefaultHelp = '10000'): Command {
  const spec = 'data: a .csv/.npy/IDX file, mnist:train|test, fashion-mnist:train|test, toy:NAME, toy:bars-and-stripes:D';
  if (required) cmd.requiredOption('--data <spec>', spec);
  else cmd.option('--data <spec>', spec);
  return cmd
    .option('--n <n>', `points drawn from a toy generator (default ${nDefaultHelp})`, parsePositiveInt)
    .option('--binarize <mode>', 'image sets: none, threshold or stochastic', parseChoice(['none', 'threshold', 'stochastic'] as const))
    .option('--threshold <t>', 'threshold for --binarize threshold (default 0.5)', parseUnitInterval)
    .option('--limit <n>', 'keep only the first N rows', parsePositiveInt)
    .option('--subset <n>', 'keep N rows drawn at random without replacement, in their original order (after --limit; the draw follows --seed)', parsePositiveInt);
}

/** Adds `--seed N` (default 0). */
export function addSeedOption(cmd: Command): Command {
  return cmd.option('--seed <n>', 'random seed (non-negative integer)', parseSeed, 0);
}

/** Key used to draw generated training data (toy sets, stochastic binarisation): `foldIn(key(seed), 0xda7a)`. */
export function trainDataKey(seed: number): Key {
  return foldIn(makeKey(seed), 0xda7a);
}

/** Key used to draw held-out evaluation data, distinct from the training data: `foldIn(key(seed), 0x7e57)`. */
export function evalDataKey(seed: number): Key {
  return foldIn(makeKey(seed), 0x7e57);
}

/** Loads the data named by the options, with `key` for generated data. */
export async function loadDataFromOptions(o: DataOptionValues, key: Key, nDefault?: number): Promise<Dataset> {
  const n = o.n ?? nDefault;
  return loadDataSpec(o.data, {
    key,
    ...(n !== undefined ? { n } : {}),
    ...(o.binarize ? { binarize: o.binarize } : {}),
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...(o.subset !== undefined ? { subset: { n: o.subset, key: foldIn(key, 0x5b5e7) } } : {}),
  });
}

/**
 * Checks, before any work, that an output file can be written: its extension is one of `exts` (when given) and its
 * directory exists. Throws a {@link UsageError} naming the flag.
 */
export function checkOutputPath(path: string, flag: string, exts?: readonly string[]): void {
  if (path.trim() === '') throw new UsageError(`${flag}: the path is empty`);
  if (exts) {
    const e = extname(path).toLowerCase();
    if (!exts.includes(e)) throw new UsageError(`${flag} ${path}: unsupported file type "${e || '(none)'}" (use ${exts.join(', ')})`);
  }
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${flag} ${path}: directory ${dirname(path)} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`${flag} ${path}: is a directory`);
}

/** File types accepted for samples. */
export const SAMPLE_EXTS = ['.csv', '.npy', '.png'] as const;

/**
 * Writes samples atomically by extension: `.csv` (header `x1,…,xd`), `.npy` (float32), `.png` (an image grid when
 * rows are images, else `plot()` — e.g. a 2-D heat map with the samples on top). Non-finite samples are refused
 * with a {@link NonFiniteResultError} naming the first one.
 */
export async function writeSamples(path: string, x: Tensor, opts: { imageShape?: [number, number]; plot?: () => Uint8Array } = {}): Promise<void> {
  const d = x.shape[1] ?? 1;
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    if (v - v !== 0) {
      throw new NonFiniteResultError(`--out ${path}: sample ${Math.floor(i / d) + 1}, column ${(i % d) + 1} is ${v}; not writing non-finite samples (the sampler diverged: lower --step-size or check the model)`);
    }
  }
  const e = extname(path).toLowerCase();
  if (e === '.csv') {
    const header = Array.from({ length: x.shape[1] }, (_, j) => `x${j + 1}`);
    await writeFileAtomic(path, formatCsv(x, header));
  } else if (e === '.npy') {
    await writeFileAtomic(path, encodeNpy(x));
  } else if (e === '.png') {
    if (opts.imageShape) {
      const [h, w] = opts.imageShape;
      await writeFileAtomic(path, imageGridPng(x, { height: h, width: w, scale: h <= 8 ? 8 : 2 }));
    } else if (opts.plot) {
      await writeFileAtomic(path, opts.plot());
    } else {
      throw new UsageError(`--out ${path}: PNG output needs image-shaped or 2-D samples`);
    }
  } else {
    throw new UsageError(`--out ${path}: unsupported file type "${e}" (use .csv, .npy or .png)`);
  }
}

/** Per-column and overall statistics of a data matrix (float64 accumulation). */
export function columnStats(x: Tensor): { min: number; max: number; mean: number; colMin: number[]; colMax: number[]; colMean: number[] } {
  const [n, d] = x.shape;
  const colMin = new Array<number>(d).fill(Infinity);
  const colMax = new Array<number>(d).fill(-Infinity);
  const colSum = new Array<number>(d).fill(0);
  const a = x.data;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = a[i * d + j];
      if (v < colMin[j]) colMin[j] = v;
      if (v > colMax[j]) colMax[j] = v;
      colSum[j] += v;
    }
  }
  let total = 0;
  for (const s of colSum) total += s;
  // loops, not Math.min(...cols): a spread of 100k+ columns overflows the call stack
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < d; j++) {
    if (colMin[j] < min) min = colMin[j];
    if (colMax[j] > max) max = colMax[j];
  }
  return {
    min,
    max,
    mean: total / (n * d),
    colMin,
    colMax,
    colMean: colSum.map((s) => s / n),
  };
}

/**
 * The human-output line naming the backend of a hot loop, when it is worth a line: it ran on WebGPU, or WebGPU was
 * asked for and not used (with the reason). `label` is padded to the caller's column.
 * @example backendLines(backend, 'backend    ') // ['backend    webgpu (google swiftshader)']
 */
export function backendLines(b: HotLoopBackend, label = 'backend    '): string[] {
  if (b.name !== 'webgpu' && !b.reason) return [];
  return [`${label}${b.name}${b.adapter ? ` (${b.adapter.description})` : ''}${b.reason ? ` — WebGPU not used: ${b.reason}` : ''}`];
}

/** Formats a number for human output (6 significant digits). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString();
}

/** Options every checkpointing training command shares (see {@link addTrainOutputOptions}). */
export interface TrainOutputValues {
  out: string;
  log?: string;
  checkpoint?: string;
  checkpointEvery?: number;
  resume?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/**
 * Adds the options every checkpointing training command shares: `--log`, `--checkpoint`, `--checkpoint-every`,
 * `--resume`, `--quiet`, `--json`. `logFields` lists the training log's fields; `unit` names what a checkpoint interval
 * counts; `grows` the option that may grow on resume.
 */
export function addTrainOutputOptions(cmd: Command, text: { logFields: string; every: string; grows: string }): Command {
  return cmd
    .option('--log <train.jsonl>', `training log, JSON lines (${text.logFields})`)
    .option('--checkpoint <path>', 'checkpoint file (default: <out>.ckpt.safetensors)')
    .option('--checkpoint-every <k>', `write a checkpoint every K ${text.every}`, parsePositiveInt)
    .option('--resume', `continue from the checkpoint if it exists (same settings; ${text.grows} may grow)`)
    .option('--quiet', 'no progress bar')
    .option('--json', 'print one JSON object');
}

/** Default checkpoint path for a model path: `m.safetensors` → `m.ckpt.safetensors`. */
export function defaultCheckpointPath(out: string): string {
  return out.replace(/(\.safetensors)?$/, '.ckpt.safetensors');
}

/**
 * Checks, before any work, the output paths of a training command (`--out`, `--log`, `--checkpoint`) and returns the
 * checkpoint path in use: `--checkpoint`, or the default one when `--checkpoint-every` or `--resume` asks for
 * checkpoints, else `undefined`.
 */
export function resolveTrainOutputs(o: TrainOutputValues): string | undefined {
  checkOutputPath(o.out, '--out', ['.safetensors']);
  if (o.log) checkOutputPath(o.log, '--log');
  const ckptPath = o.checkpoint ?? (o.checkpointEvery !== undefined || o.resume ? defaultCheckpointPath(o.out) : undefined);
  if (ckptPath) checkOutputPath(ckptPath, '--checkpoint', ['.safetensors']);
  if (o.checkpoint && o.checkpointEvery === undefined && !o.resume) throw new UsageError('--checkpoint needs --checkpoint-every K (or --resume)');
  return ckptPath;
}

/**
 * The resume point of a training command: with `--resume` and an existing checkpoint, loads it (checking its model
 * kind and that the stored settings match `meta`, except `config`) and returns its step and state; otherwise
 * `undefined`. `tooFew(step)` returns the usage message when the requested length is shorter than the steps done.
 */
export async function loadResumePoint(
  o: TrainOutputValues, ckptPath: string | undefined, kind: string, meta: Record<string, unknown>,
  total: number, tooFew: (doneSteps: number) => string,
): Promise<{ step: number; state: StateTree } | undefined> {
  if (!o.resume || !ckptPath || !existsSync(ckptPath)) return undefined;
  const ck = await loadCheckpoint(ckptPath, { kind });
  const { config: _config, ...stored } = ck.meta;
  checkResumeMeta(stored, meta, ckptPath);
  if (ck.step > total) throw new UsageError(tooFew(ck.step));
  return { step: ck.step, state: ck.state };
}

/** The Fourier features of `--fourier`: frequencies from `foldIn(key(seed), 0xf0)`, independent of the training keys. */
export function fourierFromOption(spec: { features: number; scale: number }, D: number, seed: number): FourierFeatures {
  return initFourierFeatures(foldIn(makeKey(seed), 0xf0), D, spec.features, spec.scale);
}


/**
 * How the user invoked the CLI, for hints that must work when pasted: `ebm` when it ran from PATH, `npx ebm` from a
 * project's `node_modules/.bin` (or when unknown), `node dist/cli/main.js` when run by path (relative to the working
 * directory), `npx tsx src/cli/main.ts` from source.
 * @example cliInvocation('/app/node_modules/.bin/ebm') // 'npx ebm'
 */
export function cliInvocation(script: string | undefined = process.argv[1], cwd = process.cwd()): string {
  if (!script) return 'npx ebm';
  const base = basename(script);
  if (base === 'ebm') return script.split(sep).includes('.bin') ? 'npx ebm' : 'ebm';
  if (base !== 'main.js' && base !== 'main.ts') return 'npx ebm';
  const rel = relative(cwd, script);
  const shown = rel.startsWith('..') || isAbsolute(rel) ? script : rel;
  return base === 'main.ts' ? `npx tsx ${shown}` : `node ${shown}`;
}

/** Pads the columns of `rows` to a common width (two spaces apart) and joins them into lines: an aligned table. */
export function alignColumns(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, j) => { widths[j] = Math.max(widths[j] ?? 0, [...c].length); });
  return rows.map((r) => indent + r.map((c, j) => (j === r.length - 1 ? c : c + ' '.repeat(widths[j] - [...c].length))).join('  ').trimEnd()).join('\n');
}
