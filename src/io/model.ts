/**
 * Model files: one `.safetensors` file per model. Tensors use the standard safetensors layout (so Python's
 * `safetensors` reads the weights); the JSON metadata holds
 * `{"format":"ebm-ts","kind":"<kind>","version":"<ebm-ts version>","config":"<json>","provenance":"<json>"}`.
 * Loading checks the format, the kind, and (given the expected layout) every tensor's shape and dtype, refusing a
 * mismatch with a {@link DataError} that names the file and the tensor.
 */
import { readFileSync } from './nodeBuiltins.js';
import { Tensor, type DType } from '../tensor/tensor.js';
import { DataError } from './errors.js';
import { encodeSafetensors, loadSafetensors } from './safetensors.js';
import { writeFileAtomic } from './atomic.js';
import { InvalidTypeError } from '../errors.js';

/** Value of the `format` metadata key in every ebm-ts model file. */
export const MODEL_FORMAT = 'ebm-ts';

let cachedVersion: string | undefined;

/** The ebm-ts package version (from package.json, two directories above this module in both `src/` and `dist/`). */
export function ebmTsVersion(): string {
  if (cachedVersion === undefined) {
    try {
      // Not `new URL('<literal>', import.meta.url)`: bundlers would copy package.json into a browser bundle as an asset.
      const file = ['..', '..', 'package.json'].join('/');
      const pkg = JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as { version?: string };
      cachedVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
    } catch {
      cachedVersion = '0.0.0';
    }
  }
  return cachedVersion;
}

/** Where a model came from. Stored as JSON in the `provenance` metadata key. */
export interface ModelProvenance {
  /** Data spec trained on (e.g. `toy:8gaussians`, `data.csv`). */
  data?: string;
  /** Seed of the run. */
  seed?: number;
  /** Training steps done. */
  steps?: number;
  /** ebm-ts version that wrote the file. */
  ebmTsVersion?: string;
  /** Anything else worth recording (loss, learning rate, …). */
  [key: string]: unknown;
}

/** A model as stored: its kind, configuration, provenance and named tensors. */
export interface ModelFile<C = Record<string, unknown>> {
  /** Model kind, e.g. `mlp-energy`, `rbm-bernoulli`. */
  kind: string;
  /** Version of ebm-ts that wrote the file. */
  version: string;
  /** Kind-specific configuration (layer sizes, activation, …), JSON-serialisable. */
  config: C;
  provenance: ModelProvenance;
  /** The parameters, by name. */
  tensors: Record<string, Tensor>;
}

/** The expected layout of a model's tensors: name → shape and dtype. */
export type TensorLayout = Record<string, { shape: readonly number[]; dtype: DType }>;

/**
 * The layout of a set of tensors (e.g. freshly initialised parameters, as the template a loaded file must match).
 * @example checkTensorLayout(file.tensors, layoutOf(initParams(key(0), cfg)), path)
 */
export function layoutOf(tensors: Record<string, Tensor>): TensorLayout {
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }]));
}

/**
 * Encodes a model as safetensors bytes (metadata as described in the module doc; `version` defaults to
 * {@link ebmTsVersion}, and `provenance.ebmTsVersion` is filled in when missing).
 */
export function encodeModel<C>(m: Omit<ModelFile<C>, 'version'> & { version?: string }): Uint8Array {
  if (!m.kind || typeof m.kind !== 'string') throw new InvalidTypeError('encodeModel: kind must be a non-empty string');
  const version = m.version ?? ebmTsVersion();
  const provenance = { ...m.provenance, ebmTsVersion: m.provenance.ebmTsVersion ?? version };
  return encodeSafetensors(m.tensors, {
    format: MODEL_FORMAT,
    kind: m.kind,
    version,
    config: JSON.stringify(m.config),
    provenance: JSON.stringify(provenance),
  });
}

/**
 * Writes a model file atomically (temp file, fsync, rename). A tensor holding NaN or ±Infinity is refused with a
 * {@link DataError} naming the file and the tensor (a model no loader would accept).
 * @example await saveModel('m.safetensors', { kind: 'mlp-energy', config: { hidden: [64] }, provenance: { seed: 0 }, tensors })
 */
export async function saveModel<C>(path: string, m: Omit<ModelFile<C>, 'version'> & { version?: string }): Promise<void> {
  for (const name of Object.keys(m.tensors)) {
    const d = m.tensors[name].data;
    for (let i = 0; i < d.length; i++) {
      if (d[i] - d[i] !== 0) throw new DataError(`refusing to write a model whose tensor "${name}" holds ${d[i]} (index ${i}): training diverged (try a lower --lr)`, { file: path });
    }
  }
  await writeFileAtomic(path, encodeModel(m));
}

function parseJsonMeta(meta: Record<string, string>, key: string, file: string): Record<string, unknown> {
  const raw = meta[key];
  if (raw === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new DataError(`metadata "${key}" is not valid JSON`, { file });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DataError(`metadata "${key}" is not a JSON object`, { file });
  return v as Record<string, unknown>;
}

/**
 * Checks that `tensors` hold exactly the entries of `layout` with the right shapes and dtypes; throws a
 * {@link DataError} naming `file` and the first offending tensor (missing, unexpected, wrong shape, wrong dtype).
 */
export function checkTensorLayout(tensors: Record<string, Tensor>, layout: TensorLayout, file: string): void {
  for (const [name, want] of Object.entries(layout)) {
    const t = tensors[name];
    if (!t) throw new DataError(`tensor "${name}" is missing`, { file });
    if (t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i])) {
      throw new DataError(`tensor "${name}" has shape [${t.shape.join(', ')}] but the model's config needs [${want.shape.join(', ')}]`, { file });
    }
    if (t.dtype !== want.dtype) throw new DataError(`tensor "${name}" has dtype ${t.dtype} but ${want.dtype} is expected`, { file });
  }
  for (const name of Object.keys(tensors)) {
    if (!(name in layout)) throw new DataError(`unexpected tensor "${name}" for this model's config`, { file });
  }
}

/**
 * Checks what every model kind needs of a loaded file: every tensor holds only finite values, every number in the
 * config is finite (JSON's `1e999` parses to Infinity) and a plotting box `config.bounds = [xmin, xmax, ymin, ymax]`,
 * when present, has `xmin < xmax` and `ymin < ymax`. Throws a {@link DataError} naming `file` and what is wrong.
 */
export function checkModelValues(tensors: Record<string, Tensor>, config: Record<string, unknown>, file: string): void {
  for (const name of Object.keys(tensors)) {
    const d = tensors[name].data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v - v !== 0) throw new DataError(`tensor "${name.slice(0, 80)}" holds a non-finite value (${v} at index ${i}): the model is damaged or its training diverged`, { file });
    }
  }
  // config numbers: an explicit stack, not recursion (configs nest a few levels; a crafted one may nest deeply)
  const stack: { v: unknown; at: string; depth: number }[] = [{ v: config, at: 'config', depth: 0 }];
  while (stack.length > 0) {
    const { v, at, depth } = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) throw new DataError(`${at.slice(0, 120)} is ${v}, not a finite number`, { file });
    if (v === null || typeof v !== 'object') continue;
    if (depth > 32) throw new DataError('config is nested deeper than 32 levels', { file });
    for (const [k, e] of Object.entries(v)) stack.push({ v: e, at: Array.isArray(v) ? `${at}[${k}]` : `${at}.${k}`, depth: depth + 1 });
  }
  const b = config.bounds;
  if (b !== undefined && b !== null) {
    if (!Array.isArray(b) || b.length !== 4 || b.some((x) => typeof x !== 'number')) throw new DataError('config.bounds must be [xmin, xmax, ymin, ymax]', { file });
    const [x0, x1, y0, y1] = b as number[];
    if (!(x0 < x1) || !(y0 < y1)) throw new DataError(`config.bounds [${b.join(', ')}] must have xmin < xmax and ymin < ymax`, { file });
  }
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Accept only these kinds (a string or a list). */
  kind?: string | readonly string[];
  /** Expected tensor layout, or a function computing it from the stored config (checked with {@link checkTensorLayout}). */
  layout?: TensorLayout | ((config: Record<string, unknown>) => TensorLayout);
}

/**
 * Reads a model file and validates it: a safetensors file with `format: "ebm-ts"`, a `kind` (one of `opts.kind` when
 * given), JSON `config`/`provenance`, and tensors matching `opts.layout`. Every problem is a {@link DataError}
 * naming the file, e.g. `m.safetensors: model kind is "rbm-bernoulli" but this command needs mlp-energy`.
 */
export async function loadModel<C = Record<string, unknown>>(path: string, opts: LoadModelOptions = {}): Promise<ModelFile<C>> {
  const { tensors, metadata } = await loadSafetensors(path);
  if (metadata.format !== MODEL_FORMAT) {
    throw new DataError(`not an ebm-ts model file (metadata format is ${metadata.format === undefined ? 'missing' : `"${metadata.format}"`})`, { file: path });
  }
  const kind = metadata.kind;
  if (!kind) throw new DataError('model file has no "kind" in its metadata', { file: path });
  if (opts.kind !== undefined) {
    const kinds = typeof opts.kind === 'string' ? [opts.kind] : opts.kind;
    if (!kinds.includes(kind)) throw new DataError(`model kind is "${kind}" but ${kinds.join(' or ')} is needed`, { file: path });
  }
  const config = parseJsonMeta(metadata, 'config', path);
  const provenance = parseJsonMeta(metadata, 'provenance', path) as ModelProvenance;
  checkModelValues(tensors, config, path);
  if (opts.layout) checkTensorLayout(tensors, typeof opts.layout === 'function' ? opts.layout(config) : opts.layout, path);
  return { kind, version: metadata.version ?? 'unknown', config: config as C, provenance, tensors };
}
