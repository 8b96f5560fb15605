/**
 * Training checkpoints: everything needed to continue a run exactly — parameters, optimiser state, the run's random
 * key, persistent chains or replay buffers, the step — in one safetensors file written atomically (temp file, fsync,
 * rename), so a run killed at any moment leaves either the previous or the new checkpoint, never a torn one.
 *
 * The state is a plain-data tree ({@link StateTree}): tensors, numbers, strings, booleans, null, arrays, records.
 * Tensors are stored as safetensors entries named by their path (`params.W0`, `opt.0.mu.1`); the tree's skeleton
 * (with `{"$tensor": name}` in place of each tensor) goes into the metadata as JSON. float32/float64 tensors and
 * JSON numbers round-trip bit-exactly, so a resumed run continues with identical numbers.
 */
import { Tensor } from '../tensor/tensor.js';
import { readInputFile } from './safeFile.js';
import { isKey, type Key } from '../random/key.js';
import { DataError, ioErrorDetail } from './errors.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import { ebmTsVersion, type TensorLayout } from './model.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

/** Value of the `format` metadata key of checkpoint files. */
export const CHECKPOINT_FORMAT = 'ebm-ts-checkpoint';

/** Plain data that a checkpoint can hold. Numbers may be non-finite (stored specially). */
export type StateTree = Tensor | number | string | boolean | null | readonly StateTree[] | { readonly [k: string]: StateTree };

/** A training checkpoint. */
export interface Checkpoint<M extends Record<string, unknown> = Record<string, unknown>> {
  /** What is being trained (e.g. `mlp-energy`); checked on resume. */
  kind: string;
  /** Number of training steps completed. */
  step: number;
  /** The run's base key; step `t` draws from `foldIn(key, t)`. */
  key: Key;
  /** Parameters, optimiser state, chains, buffers… */
  state: StateTree;
  /** Run configuration (model config, data spec, seed, hyper-parameters), for checking that a resume matches. */
  meta: M;
}

interface Flat {
  tensors: Record<string, Tensor>;
  skeleton: unknown;
}

function flatten(tree: StateTree): Flat {
  const tensors: Record<string, Tensor> = {};
  const walk = (v: StateTree, path: string): unknown => {
    if (v instanceof Tensor) {
      const name = path === '' ? 'root' : path;
      if (name in tensors) throw new InvalidTypeError(`checkpoint: duplicate tensor path "${name}"`);
      tensors[name] = v;
      return { $tensor: name };
    }
    if (typeof v === 'number') return Number.isFinite(v) ? v : { $num: String(v) };
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (Array.isArray(v)) return v.map((e, i) => walk(e, path === '' ? String(i) : `${path}.${i}`));
    if (typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v as Record<string, StateTree>)) {
        if (k === '$tensor' || k === '$num') throw new InvalidTypeError(`checkpoint: key "${k}" is reserved`);
        o[k] = walk(e, path === '' ? k : `${path}.${k}`);
      }
      return o;
    }
    throw new InvalidTypeError(`checkpoint: cannot store a value of type ${typeof v} at "${path}"`);
  };
  const skeleton = walk(tree, '');
  return { tensors, skeleton };
}

/** Deepest nesting of a checkpoint's state skeleton (training states nest a few levels). */
const MAX_SKELETON_DEPTH = 64;

function unflatten(skel: unknown, tensors: Record<string, Tensor>, file: string): StateTree {
  const walk = (v: unknown, depth = 0): StateTree => {
    if (depth > MAX_SKELETON_DEPTH) throw new DataError(`checkpoint state skeleton is nested deeper than ${MAX_SKELETON_DEPTH} levels`, { file });
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
    if (Array.isArray(v)) return v.map((e) => walk(e, depth + 1));
    if (typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$tensor === 'string') {
        const t = tensors[o.$tensor];
        if (!t) throw new DataError(`checkpoint state refers to tensor "${o.$tensor}" which is not in the file`, { file });
        return t;
      }
      if (typeof o.$num === 'string') return Number(o.$num);
      const out: Record<string, StateTree> = {};
      // defineProperty: a key such as `__proto__` becomes an own entry, never the record's prototype
      for (const [k, e] of Object.entries(o)) Object.defineProperty(out, k, { value: walk(e, depth + 1), enumerable: true, writable: true, configurable: true });
      return out;
    }
    throw new DataError('checkpoint state skeleton holds an invalid value', { file });
  };
  return walk(skel);
}

/** Encodes a checkpoint as safetensors bytes (see the module doc for the layout). */
export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  if (!Number.isSafeInteger(ck.step) || ck.step < 0) throw new InvalidArgumentError(`checkpoint: step must be a non-negative integer, got ${ck.step}`);
  if (!isKey(ck.key)) throw new InvalidTypeError('checkpoint: key must be a random Key');
  const { tensors, skeleton } = flatten(ck.state);
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    kind: ck.kind,
    version: ebmTsVersion(),
    step: String(ck.step),
    key: JSON.stringify({ k: [ck.key.k[0], ck.key.k[1]] }),
    state: JSON.stringify(skeleton),
    meta: JSON.stringify(ck.meta),
  });
}

/** Decodes checkpoint bytes; problems are {@link DataError}s naming `file`. */
export function decodeCheckpoint<M extends Record<string, unknown> = Record<string, unknown>>(bytes: Uint8Array, file = 'checkpoint'): Checkpoint<M> {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new DataError(`not an ebm-ts checkpoint (metadata format is ${metadata.format === undefined ? 'missing' : `"${metadata.format}"`})`, { file });
  }
  const parse = (k: string): unknown => {
    try {
      return JSON.parse(metadata[k] ?? '');
    } catch {
      throw new DataError(`checkpoint metadata "${k}" is missing or not JSON`, { file });
    }
  };
  const step = Number(metadata.step);
  if (!Number.isSafeInteger(step) || step < 0) throw new DataError(`checkpoint step "${metadata.step}" is not a non-negative integer`, { file });
  const key = parse('key');
  if (!isKey(key)) throw new DataError('checkpoint key is not a valid random key', { file });
  const meta = parse('meta');
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new DataError('checkpoint metadata "meta" is not an object', { file });
  return { kind: metadata.kind ?? '', step, key: { k: [key.k[0], key.k[1]] }, state: unflatten(parse('state'), tensors, file), meta: meta as M };
}

/**
 * Writes a checkpoint atomically: temp file in the same directory, fsync, rename over `path`.
 * @example await saveCheckpoint('run.ckpt.safetensors', { kind: 'mlp-energy', step, key, state: { params, opt }, meta })
 */
export async function saveCheckpoint(path: string, ck: Checkpoint): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(ck));
}

/** {@link saveCheckpoint} for synchronous training loops (same atomic temp-file-and-rename write). */
export function saveCheckpointSync(path: string, ck: Checkpoint): void {
  writeFileAtomicSync(path, encodeCheckpoint(ck));
}

/** Reads a checkpoint; with `kind`, refuses one written for another kind of training. */
export async function loadCheckpoint<M extends Record<string, unknown> = Record<string, unknown>>(path: string, opts: { kind?: string } = {}): Promise<Checkpoint<M>> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot read checkpoint (${ioErrorDetail(e)})`, { file: path });
  }
  const ck = decodeCheckpoint<M>(bytes, path);
  if (opts.kind !== undefined && ck.kind !== opts.kind) {
    throw new DataError(`checkpoint is for "${ck.kind}" training, not "${opts.kind}"`, { file: path });
  }
  return ck;
}

/**
 * Compares the run settings stored in a checkpoint with those of the resuming run, key by key (JSON equality), and
 * throws a {@link DataError} naming the first differing setting: resuming with other settings would not reproduce
 * the uninterrupted run.
 */
export function checkResumeMeta(stored: Record<string, unknown>, current: Record<string, unknown>, file: string): void {
  const keys = new Set([...Object.keys(stored), ...Object.keys(current)]);
  for (const k of keys) {
    const a = JSON.stringify(stored[k]);
    const b = JSON.stringify(current[k]);
    if (a !== b) throw new DataError(`cannot resume: setting "${k}" was ${a ?? 'unset'} in the checkpoint but is ${b ?? 'unset'} now`, { file });
  }
}

/**
 * Checks the parameters restored from a checkpoint against the model's tensor layout: every named tensor must be
 * present with the expected shape and dtype. Throws a {@link DataError} (flag `--checkpoint`) naming the first misfit.
 */
export function checkCheckpointParams(params: unknown, layout: TensorLayout): void {
  const tensors = (params ?? {}) as Record<string, unknown>;
  for (const [name, want] of Object.entries(layout)) {
    const t = tensors[name];
    if (!(t instanceof Tensor) || t.shape.join(',') !== want.shape.join(',') || t.dtype !== want.dtype) {
      throw new DataError(`checkpoint parameter "${name}" is missing or has the wrong shape`, { flag: 'checkpoint' });
    }
  }
}

