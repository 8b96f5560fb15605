/**
 * The safetensors format: `u64le N` | N bytes of JSON header (space-padded to a multiple of 8) | byte buffer.
 * The header maps each tensor name to `{"dtype","shape","data_offsets":[begin,end]}` (offsets relative to the start of
 * the buffer, little-endian row-major data) plus an optional `"__metadata__"` map of string to string.
 */
import { Tensor, shapeSize } from '../tensor/tensor.js';
import { readInputFile } from './safeFile.js';
import { writeFileAtomic } from './atomic.js';
import { DataError, ioErrorDetail } from './errors.js';
import { InvalidTypeError } from '../errors.js';

/**
 * Element types of the safetensors format that this module reads. F16/BF16/F8_E4M3/F8_E5M2/BOOL are read-only (the
 * floats widen exactly to float32). Other dtypes of the format (F8_E8M0, F6/F4 …) are refused with the list of these.
 */
export type SafetensorsDType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'F8_E4M3'
  | 'F8_E5M2'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

/** Integer dtypes that {@link encodeSafetensors} can write from a {@link RawArray}. */
export type SafetensorsIntDType = 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8';

/** Typed arrays used for raw (non-Tensor) safetensors entries. */
export type RawTypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/**
 * A non-Tensor entry: an integer (or explicit float) array with its safetensors dtype and shape.
 * On write, `data` may be the matching typed array or any numbers/bigints (each must be an integer in range).
 * On read, integer entries come back with the matching typed array (`I64` → BigInt64Array, `U8` → Uint8Array, …;
 * `BOOL` → Uint8Array of 0/1).
 */
export interface RawArray {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: RawTypedArray | ArrayLike<number> | readonly bigint[];
}

/** A raw entry as decoded: the exact typed array of the file's dtype. */
export interface DecodedRawArray {
  dtype: SafetensorsDType;
  shape: number[];
  data: RawTypedArray;
}

/** What {@link decodeSafetensors} returns. */
export interface SafetensorsContents {
  /**
   * The entries as Tensors: F32/F16/BF16/F8_E4M3/F8_E5M2 → float32, F64 → float64, integers and BOOL → float64 (exact). An I64/U64
   * entry holding a value beyond ±(2^53 − 1) would be rounded, so it is left out here and appears only in `raw`.
   */
  tensors: Record<string, Tensor>;
  /** Integer and BOOL entries also as exact typed arrays (e.g. an `I64` step counter as a BigInt64Array). */
  raw: Record<string, DecodedRawArray>;
  /** The `__metadata__` map (empty when absent). Values are strings: put JSON in them for structured data. */
  metadata: Record<string, string>;
}

const ITEMSIZE: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** Largest header accepted on read (the reference implementation's limit). */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

/** Most tensors accepted in one file on read (counted before the header is parsed, so the parse stays bounded). */
export const SAFETENSORS_MAX_TENSORS = 100_000;

/** Sets an own enumerable property, also for names such as `__proto__` (which a plain assignment would treat as the prototype). */
function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ITEMSIZE, s);
}

function intRange(dtype: SafetensorsIntDType): [number, number] {
  switch (dtype) {
    case 'I8':
      return [-128, 127];
    case 'I16':
      return [-32768, 32767];
    case 'I32':
      return [-2147483648, 2147483647];
    case 'U8':
      return [0, 255];
    case 'U16':
      return [0, 65535];
    case 'U32':
      return [0, 4294967295];
    default:
      return [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  }
}

/** Little-endian bytes of one entry to be written. */
function entryBytes(name: string, v: Tensor | RawArray): { dtype: SafetensorsDType; shape: number[]; bytes: Uint8Array } {
  if (v instanceof Tensor) {
    const dtype: SafetensorsDType = v.dtype === 'float64' ? 'F64' : 'F32';
    return { dtype, shape: v.shape.slice(), bytes: typedToLE(v.data, dtype) };
  }
  if (v === null || typeof v !== 'object' || !isDType(v.dtype)) {
    throw new InvalidTypeError(`encodeSafetensors: entry "${name}" must be a Tensor or {dtype, shape, data} with a known dtype`);
  }
  const shape = Array.from(v.shape);
  const n = shapeSize(shape);
  if (v.data.length !== n) {
    throw new InvalidTypeError(`encodeSafetensors: entry "${name}" has ${v.data.length} values but shape [${shape.join(', ')}] needs ${n}`);
  }
  const dtype = v.dtype;
  let arr: RawTypedArray;
  switch (dtype) {
    case 'F32':
      arr = Float32Array.from(v.data as ArrayLike<number>);
      break;
    case 'F64':
      arr = Float64Array.from(v.data as ArrayLike<number>);
      break;
    case 'F16':
    case 'BF16':
    case 'F8_E4M3':
    case 'F8_E5M2':
    case 'BOOL':
      throw new InvalidTypeError(`encodeSafetensors: entry "${name}": writing dtype ${dtype} is not supported (use F32, F64 or an integer type)`);
    case 'I64':
    case 'U64': {
      const out = dtype === 'I64' ? new BigInt64Array(n) : new BigUint64Array(n);
      const [lo, hi] = dtype === 'I64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      for (let i = 0; i < n; i++) {
        const x = (v.data as ArrayLike<number | bigint>)[i];
        let b: bigint;
        if (typeof x === 'bigint') b = x;
        else if (Number.isSafeInteger(x)) b = BigInt(x);
        else throw new InvalidTypeError(`encodeSafetensors: entry "${name}" (${dtype}) element ${i} = ${x} is not a safe integer`);
        if (b < lo || b > hi) throw new InvalidTypeError(`encodeSafetensors: entry "${name}" (${dtype}) element ${i} = ${b} is out of range`);
        out[i] = b;
      }
      arr = out;
      break;
    }
    default: {
      const [lo, hi] = intRange(dtype);
      const Ctor = { I8: Int8Array, I16: Int16Array, I32: Int32Array, U8: Uint8Array, U16: Uint16Array, U32: Uint32Array }[dtype];
      const out = new Ctor(n);
      for (let i = 0; i < n; i++) {
        const x = Number((v.data as ArrayLike<number | bigint>)[i]);
        if (!Number.isInteger(x) || x < lo || x > hi) {
          throw new InvalidTypeError(`encodeSafetensors: entry "${name}" (${dtype}) element ${i} = ${x} is not an integer in [${lo}, ${hi}]`);
        }
        out[i] = x;
      }
      arr = out;
    }
  }
  return { dtype, shape, bytes: typedToLE(arr, dtype) };
}

/** Copies a typed array's bytes in little-endian order. */
function typedToLE(arr: RawTypedArray, dtype: SafetensorsDType): Uint8Array {
  const out = new Uint8Array(arr.byteLength);
  if (LITTLE_ENDIAN_HOST || ITEMSIZE[dtype] === 1) {
    out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    return out;
  }
  const size = ITEMSIZE[dtype];
  const src = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  for (let i = 0; i < src.length; i += size) for (let k = 0; k < size; k++) out[i + k] = src[i + size - 1 - k];
  return out;
}

/**
 * Encodes tensors (and integer arrays) as a safetensors file.
 *
 * Layout: 8-byte little-endian header length N; N bytes of JSON (`__metadata__` first when given, then each entry
 * `{"dtype","shape","data_offsets":[begin,end]}`), padded with spaces so that 8+N is a multiple of 8; then the data.
 * Entries are laid out back to back with no gaps, sorted by element size (8-byte types first, stable otherwise), so
 * every entry starts on a multiple of its own element size, as the reference writer does. A float32 Tensor is
 * written as `F32`, a float64 Tensor as `F64`.
 * @param tensors name → Tensor, or name → `{dtype: 'I64'|'I32'|'U8'|…|'F32'|'F64', shape, data}`.
 * @param metadata string → string (use JSON inside the values for structured data).
 * @example encodeSafetensors({ w: tensor([[1, 2]]), step: { dtype: 'I64', shape: [], data: [1000] } }, { format: 'pt' })
 */
export function encodeSafetensors(tensors: Record<string, Tensor | RawArray>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors);
  if (names.includes('__metadata__')) throw new InvalidTypeError('encodeSafetensors: "__metadata__" is reserved and cannot name a tensor');
  const entries = names.map((name, order) => ({ name, order, ...entryBytes(name, tensors[name]) }));
  entries.sort((a, b) => ITEMSIZE[b.dtype] - ITEMSIZE[a.dtype] || a.order - b.order);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, val] of Object.entries(metadata)) {
      if (typeof val !== 'string') throw new InvalidTypeError(`encodeSafetensors: metadata "${k}" must be a string (got ${typeof val}); JSON-encode it`);
    }
    header.__metadata__ = { ...metadata };
  }
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  // TextEncoder rather than Buffer: this module also runs in browsers (the playground exports models with it).
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const json = new Uint8Array(Math.ceil(raw.length / 8) * 8).fill(0x20); // pad with spaces to a multiple of 8
  json.set(raw);
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * An 8-bit float as a number. `F8_E4M3` (OCP "E4M3FN", PyTorch `float8_e4m3fn`): bias 7, 3 mantissa bits, no
 * infinities, `S.1111.111` is NaN, largest finite ±448. `F8_E5M2` (`float8_e5m2`): bias 15, 2 mantissa bits, IEEE
 * rules (exponent 31: ±∞ or NaN). Exponent 0 is subnormal: `±m·2^(1−bias−mbits)`.
 */
export function float8ToNumber(b: number, dtype: 'F8_E4M3' | 'F8_E5M2'): number {
  const sign = b & 0x80 ? -1 : 1;
  const [mbits, bias] = dtype === 'F8_E4M3' ? [3, 7] : [2, 15];
  const ebits = 7 - mbits;
  const exp = (b >> mbits) & ((1 << ebits) - 1);
  const m = b & ((1 << mbits) - 1);
  const emax = (1 << ebits) - 1;
  if (dtype === 'F8_E4M3' && exp === emax && m === (1 << mbits) - 1) return NaN;
  if (dtype === 'F8_E5M2' && exp === emax) return m ? NaN : sign * Infinity;
  if (exp === 0) return sign * m * 2 ** (1 - bias - mbits);
  return sign * (1 + m / (1 << mbits)) * 2 ** (exp - bias);
}

/** Reads `n` little-endian elements of `dtype` starting at `bytes[begin]` (any alignment). */
function readLE(bytes: Uint8Array, begin: number, n: number, dtype: SafetensorsDType): RawTypedArray {
  const nb = n * ITEMSIZE[dtype];
  const copy = new Uint8Array(nb); // fresh, aligned buffer (bytes may be a Buffer whose slice() is a view)
  copy.set(bytes.subarray(begin, begin + nb));
  if (dtype === 'F8_E4M3' || dtype === 'F8_E5M2') {
    const table = new Float32Array(256);
    for (let b = 0; b < 256; b++) table[b] = float8ToNumber(b, dtype);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = table[copy[i]];
    return out;
  }
  if (dtype === 'F16' || dtype === 'BF16') {
    const dv = new DataView(copy.buffer);
    const out = new Float32Array(n);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let i = 0; i < n; i++) {
      const h = dv.getUint16(2 * i, true);
      if (dtype === 'F16') out[i] = halfToFloat(h);
      else {
        u32[0] = h << 16;
        out[i] = f32[0];
      }
    }
    return out;
  }
  const size = ITEMSIZE[dtype];
  if (!LITTLE_ENDIAN_HOST && size > 1) {
    for (let i = 0; i < nb; i += size) copy.subarray(i, i + size).reverse();
  }
  const buf = copy.buffer;
  switch (dtype) {
    case 'F64':
      return new Float64Array(buf);
    case 'F32':
      return new Float32Array(buf);
    case 'I64':
      return new BigInt64Array(buf);
    case 'U64':
      return new BigUint64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'U32':
      return new Uint32Array(buf);
    case 'I16':
      return new Int16Array(buf);
    case 'U16':
      return new Uint16Array(buf);
    case 'I8':
      return new Int8Array(buf);
    default:
      return copy; // U8, BOOL
  }
}

/**
 * Decodes a safetensors file, validating it fully: the header length fits the file and is at most
 * {@link SAFETENSORS_MAX_HEADER}; the header is a JSON object; each entry has a known dtype, a shape of
 * non-negative integers and integer `data_offsets` whose length is `prod(shape)·itemsize`; the entries tile the
 * buffer exactly (sorted by offset they start at 0, have no gaps or overlaps, and end at the end of the file);
 * metadata values are strings. Any violation throws a {@link DataError} naming the file and the entry.
 * @param bytes the whole file.
 * @param fileNameForErrors used in error messages (default `safetensors`).
 */
export function decodeSafetensors(bytes: Uint8Array, fileNameForErrors = 'safetensors'): SafetensorsContents {
  const fail = (msg: string): never => {
    throw new DataError(msg, { file: fileNameForErrors });
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(SAFETENSORS_MAX_HEADER)) fail(`header too big: ${n64} bytes (limit ${SAFETENSORS_MAX_HEADER})`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`header length ${n} runs past the end of the file (${bytes.length} bytes): truncated or not safetensors`);
  if (n < 2) fail(`header length ${n} is too small for a JSON object`);
  let header: unknown;
  const text = new TextDecoder('utf-8').decode(bytes.subarray(8, 8 + n));
  if (!text.startsWith('{')) fail('header does not start with "{": not a safetensors file');
  let count = 0;
  for (let at = text.indexOf('data_offsets'); at >= 0; at = text.indexOf('data_offsets', at + 12)) {
    if (++count > SAFETENSORS_MAX_TENSORS) fail(`header lists more than ${SAFETENSORS_MAX_TENSORS} tensors`);
  }
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const h = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  if ('__metadata__' in h) {
    const m = h.__metadata__;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) fail('"__metadata__" is not an object');
    for (const [k, val] of Object.entries(m as Record<string, unknown>)) {
      if (typeof val !== 'string') fail(`"__metadata__" value "${k}" is not a string`);
      setOwn(metadata, k, val as string);
    }
  }
  const bufStart = 8 + n;
  const bufLen = bytes.length - bufStart;
  interface Entry {
    name: string;
    dtype: SafetensorsDType;
    shape: number[];
    begin: number;
    end: number;
  }
  const entries: Entry[] = [];
  for (const [name, spec] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) fail(`tensor "${name}": entry is not an object`);
    const s = spec as Record<string, unknown>;
    if (!isDType(s.dtype)) fail(`tensor "${name}": unsupported dtype ${JSON.stringify(s.dtype)} (supported: ${Object.keys(ITEMSIZE).join(', ')})`);
    const dtype = s.dtype as SafetensorsDType;
    const shape = s.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const off = s.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": data_offsets ${JSON.stringify(off)} is not a pair of non-negative integers`);
    }
    const [begin, end] = off as number[];
    if (end < begin) fail(`tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
    if (end > bufLen) fail(`tensor "${name}": data_offsets [${begin}, ${end}] run past the end of the data (${bufLen} bytes)`);
    let count = 1;
    for (const d of shape as number[]) count *= d;
    const want = count * ITEMSIZE[dtype];
    if (end - begin !== want) {
      fail(`tensor "${name}": size mismatch: ${dtype} shape [${(shape as number[]).join(', ')}] needs ${want} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of sorted) {
    if (e.begin < expected) fail(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${expected})`);
    if (e.begin > expected) fail(`tensor "${e.name}": gap in the data: previous tensor ends at ${expected} but this one begins at ${e.begin}`);
    expected = e.end;
  }
  if (expected !== bufLen) fail(`data section is ${bufLen} bytes but the tensors cover ${expected}: extra or missing bytes`);

  const tensors: Record<string, Tensor> = {};
  const raw: Record<string, DecodedRawArray> = {};
  for (const e of entries) {
    const count = (e.end - e.begin) / ITEMSIZE[e.dtype];
    const arr = readLE(bytes, bufStart + e.begin, count, e.dtype);
    let data: Float32Array | Float64Array;
    if (arr instanceof Float32Array || arr instanceof Float64Array) data = arr;
    else {
      setOwn(raw, e.name, { dtype: e.dtype, shape: e.shape, data: arr });
      data = new Float64Array(count);
      if (arr instanceof BigInt64Array || arr instanceof BigUint64Array) {
        let exact = true;
        const hi = BigInt(Number.MAX_SAFE_INTEGER);
        for (let i = 0; i < count; i++) {
          const b = arr[i];
          if (b > hi || b < -hi) exact = false;
          data[i] = Number(b);
        }
        if (!exact) continue; // only in `raw`: a float64 view would round
      } else data.set(arr);
    }
    setOwn(tensors, e.name, new Tensor(data, e.shape));
  }
  return { tensors, raw, metadata };
}

/** Writes {@link encodeSafetensors}`(tensors, metadata)` to `path` atomically (temp file, fsync, rename). */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor | RawArray>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads and validates a safetensors file (see {@link decodeSafetensors}); errors name `path`. */
export async function loadSafetensors(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot read file (${ioErrorDetail(e)})`, { file: path });
  }
  return decodeSafetensors(bytes, path);
}
