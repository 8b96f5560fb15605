/**
 * NumPy `.npy` files: magic `\x93NUMPY`, version byte pair, header length (u16 LE for v1.0, u32 LE for v2.0/3.0),
 * a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and `\n`,
 * then the raw data.
 */
import { Tensor, allocate, shapeSize, type DType } from '../tensor/tensor.js';
import { readInputFile } from './safeFile.js';
import { writeFileAtomic } from './atomic.js';
import { DataError, ioErrorDetail } from './errors.js';

/** Options for {@link decodeNpy}. */
export interface NpyReadOptions {
  /** dtype of the returned Tensor (default `float32`; `<f8` data is rounded unless `float64` is asked for). */
  dtype?: DType;
  /** Name used in error messages. */
  file?: string;
}

/** The parsed header of a .npy file. */
export interface NpyHeader {
  version: [number, number];
  /** e.g. `<f4`, `|u1`, `>i8`. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data in the file. */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Deepest nesting of brackets accepted in a .npy header. */
const MAX_HEADER_DEPTH = 16;
/** Longest .npy header accepted (numpy writes a few hundred bytes). */
const MAX_HEADER_BYTES = 1 << 20;

/** Parses the Python-literal subset used by .npy headers: dict, str, int, bool, tuple/list, None. */
function parsePyLiteral(src: string, fail: (m: string) => never): unknown {
  let i = 0;
  const ws = (): void => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  let depth = 0;
  const value = (): unknown => {
    ws();
    const c = src[i];
    if (c === '{' || c === '(' || c === '[') {
      // .npy headers nest two levels (a dict holding a shape tuple); bound the recursion
      if (++depth > MAX_HEADER_DEPTH) fail(`header: nested deeper than ${MAX_HEADER_DEPTH} levels`);
      const close = c === '{' ? '}' : c === '(' ? ')' : ']';
      i++;
      const obj: Record<string, unknown> = {};
      const arr: unknown[] = [];
      for (;;) {
        ws();
        if (src[i] === close) {
          i++;
          break;
        }
        const k = value();
        if (c === '{') {
          ws();
          if (src[i] !== ':') fail(`header: expected ':' at position ${i}`);
          i++;
          Object.defineProperty(obj, String(k), { value: value(), enumerable: true, writable: true, configurable: true });
        } else arr.push(k);
        ws();
        if (src[i] === ',') i++;
        else if (src[i] !== close) fail(`header: expected ',' or '${close}' at position ${i}`);
      }
      depth--;
      return c === '{' ? obj : arr;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) fail('header: unterminated string');
      const s = src.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(src.slice(i));
    if (!m) fail(`header: unexpected text at position ${i}: ${JSON.stringify(src.slice(i, i + 12))}`);
    i += m![0].length;
    if (m![0] === 'True') return true;
    if (m![0] === 'False') return false;
    if (m![0] === 'None') return null;
    return Number.parseInt(m![0], 10);
  };
  const v = value();
  ws();
  if (i !== src.length) fail(`header: trailing text at position ${i}`);
  return v;
}

/** Reads and validates the header of a .npy file. Throws DataError on a bad magic, version or header. */
export function parseNpyHeader(bytes: Uint8Array, file = 'npy'): NpyHeader {
  const fail = (m: string): never => {
    throw new DataError(m, { file });
  };
  if (bytes.length < 10) fail(`truncated: ${bytes.length} bytes is too short for a .npy header`);
  for (let k = 0; k < 6; k++) if (bytes[k] !== MAGIC[k]) fail('bad magic: not a .npy file (expected \\x93NUMPY)');
  const major = bytes[6];
  const minor = bytes[7];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number;
  let start: number;
  if (major === 1) {
    hlen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated .npy header');
    hlen = dv.getUint32(8, true);
    start = 12;
  } else return fail(`unsupported .npy version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  if (hlen > MAX_HEADER_BYTES) fail(`header length ${hlen} is over the limit of ${MAX_HEADER_BYTES} bytes`);
  if (start + hlen > bytes.length) fail(`truncated: header length ${hlen} runs past the end of the file (${bytes.length} bytes)`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, hlen).toString(major === 3 ? 'utf8' : 'latin1');
  const d = parsePyLiteral(text.trim(), fail);
  if (d === null || typeof d !== 'object' || Array.isArray(d)) fail('header is not a dict');
  const h = d as Record<string, unknown>;
  if (typeof h.descr !== 'string') {
    fail(`unsupported dtype ${JSON.stringify(h.descr)} (structured dtypes are not supported)`);
  }
  if (typeof h.fortran_order !== 'boolean') fail("header: 'fortran_order' missing or not a bool");
  if (!Array.isArray(h.shape) || !h.shape.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) {
    fail("header: 'shape' missing or not a tuple of non-negative integers");
  }
  return {
    version: [major, minor],
    descr: h.descr as string,
    fortranOrder: h.fortran_order as boolean,
    shape: (h.shape as number[]).slice(),
    dataOffset: start + hlen,
  };
}

/**
 * Decodes a .npy file (v1.0/2.0/3.0) into a Tensor of the same shape, in C (row-major) order.
 * Supported dtypes: `f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1` in either byte order (`<`, `>`, `=`, `|`); integers are
 * converted to floats (int64 beyond 2^53 rounds). `fortran_order: True` data is reordered to C order, so the
 * returned tensor has the same element `[i,j,…]` as the array NumPy would show.
 * @example decodeNpy(readFileSync('x.npy'), { dtype: 'float64' })
 */
export function decodeNpy(bytes: Uint8Array, opts: NpyReadOptions = {}): Tensor {
  const file = opts.file ?? 'npy';
  const fail = (m: string): never => {
    throw new DataError(m, { file });
  };
  const h = parseNpyHeader(bytes, file);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(h.descr);
  if (!m) return fail(`unsupported dtype '${h.descr}' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, either byte order)`);
  const order = m[1];
  const kind = m[2];
  const size = Number(m[3]);
  const ok = (kind === 'f' && [2, 4, 8].includes(size)) || ((kind === 'i' || kind === 'u') && [1, 2, 4, 8].includes(size)) || (kind === 'b' && size === 1);
  if (!ok) fail(`unsupported dtype '${h.descr}'`);
  const little = order === '>' ? false : order === '=' ? new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 : true;
  const n = shapeSize(h.shape);
  const need = n * size;
  const have = bytes.length - h.dataOffset;
  if (have < need) fail(`truncated: shape (${h.shape.join(', ')}) of '${h.descr}' needs ${need} data bytes but the file has ${have}`);
  if (have > need) fail(`file has ${have - need} extra bytes after the data of shape (${h.shape.join(', ')})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + h.dataOffset, need);
  const out = allocate(opts.dtype ?? 'float32', n);
  const key = kind + size;
  switch (key) {
    case 'f4':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, little);
      break;
    case 'f8':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, little);
      break;
    case 'f2':
      for (let i = 0; i < n; i++) {
        const v = dv.getUint16(2 * i, little);
        const e = (v >> 10) & 0x1f;
        const f = v & 0x3ff;
        const s = v & 0x8000 ? -1 : 1;
        out[i] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
      }
      break;
    case 'i1':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      break;
    case 'u1':
    case 'b1':
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
      break;
    case 'i2':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, little);
      break;
    case 'u2':
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, little);
      break;
    case 'i4':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, little);
      break;
    case 'u4':
      for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, little);
      break;
    case 'i8':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, little));
      break;
    case 'u8':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(8 * i, little));
      break;
  }
  if (h.fortranOrder && h.shape.length > 1) return new Tensor(fortranToC(out, h.shape), h.shape);
  return new Tensor(out, h.shape);
}

/** Reorders column-major (Fortran) data of `shape` into row-major (C) order. */
function fortranToC(src: Float32Array | Float64Array, shape: number[]): Float32Array | Float64Array {
  const nd = shape.length;
  const n = src.length;
  const dst = new (src.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(n);
  const fstride = new Array<number>(nd);
  let acc = 1;
  for (let a = 0; a < nd; a++) {
    fstride[a] = acc;
    acc *= shape[a];
  }
  const idx = new Array<number>(nd).fill(0);
  let fo = 0; // Fortran offset of the current C-order index
  for (let c = 0; c < n; c++) {
    dst[c] = src[fo];
    // increment the C-order multi-index (last axis fastest), updating the Fortran offset
    for (let a = nd - 1; a >= 0; a--) {
      idx[a]++;
      fo += fstride[a];
      if (idx[a] < shape[a]) break;
      fo -= fstride[a] * shape[a];
      idx[a] = 0;
    }
  }
  return dst;
}

/**
 * Encodes a tensor as a version 1.0 .npy file: `<f4` for float32, `<f8` for float64, C order, header padded with
 * spaces and a final `\n` so that the data starts at a multiple of 64 bytes (as NumPy writes it).
 * @example writeFileSync('x.npy', encodeNpy(tensor([[1, 2], [3, 4]])))
 */
export function encodeNpy(t: Tensor): Uint8Array {
  const descr = t.dtype === 'float64' ? '<f8' : '<f4';
  const shapeStr = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const itemsize = t.dtype === 'float64' ? 8 : 4;
  const out = new Uint8Array(total + t.size * itemsize);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  const data = t.data;
  if (itemsize === 8) for (let i = 0; i < data.length; i++) dv.setFloat64(total + 8 * i, data[i], true);
  else for (let i = 0; i < data.length; i++) dv.setFloat32(total + 4 * i, data[i], true);
  return out;
}

/** Reads a .npy file into a Tensor (see {@link decodeNpy}); errors name `path`. */
export async function loadNpy(path: string, opts: { dtype?: DType } = {}): Promise<Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot read file (${ioErrorDetail(e)})`, { file: path });
  }
  return decodeNpy(bytes, { ...opts, file: path });
}

/** Writes {@link encodeNpy}`(t)` to `path` atomically. */
export async function saveNpy(path: string, t: Tensor): Promise<void> {
  await writeFileAtomic(path, encodeNpy(t));
}
