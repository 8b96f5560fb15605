/**
 * The IDX format used by MNIST: magic `0x00 0x00 <type> <ndim>`, then `ndim` big-endian u32 dimension sizes, then the
 * data, big-endian, row-major. Type codes: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64.
 */
import { gunzipSync } from './nodeBuiltins.js';
import { readInputFile } from './safeFile.js';
import { Tensor, allocate, type DType } from '../tensor/tensor.js';
import { DataError, ioErrorDetail } from './errors.js';
import { InvalidTypeError } from '../errors.js';

/** Element types of IDX files. */
export type IdxDType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';

/** A decoded IDX array: raw values in a typed array of the file's own type (host byte order). */
export interface IdxArray {
  dtype: IdxDType;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const CODES: Record<number, IdxDType> = { 0x08: 'u8', 0x09: 'i8', 0x0b: 'i16', 0x0c: 'i32', 0x0d: 'f32', 0x0e: 'f64' };
const SIZES: Record<IdxDType, number> = { u8: 1, i8: 1, i16: 2, i32: 4, f32: 4, f64: 8 };

/**
 * Parses an IDX file. Gzipped input (starting `1f 8b`) is decompressed first. Validates the magic (two zero bytes,
 * a known type code, at least one dimension) and that the file holds exactly `prod(dims)·itemsize` data bytes after
 * the header; any problem is a {@link DataError} naming `file`.
 * @example parseIdx(readFileSync('train-labels-idx1-ubyte')) // { dtype: 'u8', shape: [60000], data: Uint8Array }
 */
export function parseIdx(bytes: Uint8Array, file = 'idx'): IdxArray {
  const fail = (m: string): never => {
    throw new DataError(m, { file });
  };
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      fail(`corrupt gzip data (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4) fail(`truncated: ${bytes.length} bytes, too short for the IDX magic number`);
  const magicHex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  if (bytes[0] !== 0 || bytes[1] !== 0) fail(`bad magic ${magicHex}: not an IDX file (must start with 00 00)`);
  const dtype = CODES[bytes[2]];
  if (dtype === undefined) fail(`bad magic ${magicHex}: unknown IDX type code 0x${bytes[2].toString(16).padStart(2, '0')}`);
  const ndim = bytes[3];
  if (ndim === 0) fail(`bad magic ${magicHex}: zero dimensions`);
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) fail(`truncated: header needs ${headerLen} bytes for ${ndim} dimensions but the file has ${bytes.length}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let n = 1;
  for (let k = 0; k < ndim; k++) {
    const d = dv.getUint32(4 + 4 * k, false);
    shape.push(d);
    n *= d;
  }
  const size = SIZES[dtype];
  const need = n * size;
  const have = bytes.length - headerLen;
  if (have < need) fail(`truncated: dims [${shape.join(', ')}] of ${dtype} need ${need} data bytes but the file has ${have}`);
  if (have > need) fail(`${have - need} unexpected bytes after the data of dims [${shape.join(', ')}]`);
  let data: IdxArray['data'];
  switch (dtype) {
    case 'u8':
      data = new Uint8Array(n); // a copy: Buffer.slice() would be a view of a shared pool
      data.set(bytes.subarray(headerLen, headerLen + n));
      break;
    case 'i8':
      data = new Int8Array(n);
      data.set(new Int8Array(bytes.buffer, bytes.byteOffset + headerLen, n));
      break;
    case 'i16':
      data = new Int16Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getInt16(headerLen + 2 * i, false);
      break;
    case 'i32':
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getInt32(headerLen + 4 * i, false);
      break;
    case 'f32':
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(headerLen + 4 * i, false);
      break;
    default:
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat64(headerLen + 8 * i, false);
  }
  return { dtype: dtype!, shape, data };
}

/**
 * Encodes an IDX array (big-endian, uncompressed). Values are converted to the array's dtype.
 * @example encodeIdx({ dtype: 'u8', shape: [2, 2], data: new Uint8Array([0, 255, 7, 1]) })
 */
export function encodeIdx(arr: { dtype: IdxDType; shape: readonly number[]; data: ArrayLike<number> }): Uint8Array {
  const code = Number(Object.keys(CODES).find((k) => CODES[Number(k)] === arr.dtype));
  if (!Number.isFinite(code)) throw new InvalidTypeError(`encodeIdx: unknown dtype ${arr.dtype}`);
  if (arr.shape.length < 1 || arr.shape.length > 255) throw new InvalidTypeError('encodeIdx: need 1 to 255 dimensions');
  const n = arr.shape.reduce((a, b) => a * b, 1);
  if (arr.data.length !== n) throw new InvalidTypeError(`encodeIdx: ${arr.data.length} values but shape [${arr.shape.join(', ')}] needs ${n}`);
  const headerLen = 4 + 4 * arr.shape.length;
  const size = SIZES[arr.dtype];
  const out = new Uint8Array(headerLen + n * size);
  const dv = new DataView(out.buffer);
  out[2] = code;
  out[3] = arr.shape.length;
  arr.shape.forEach((d, k) => dv.setUint32(4 + 4 * k, d, false));
  for (let i = 0; i < n; i++) {
    const v = arr.data[i];
    const o = headerLen + i * size;
    switch (arr.dtype) {
      case 'u8':
        dv.setUint8(o, v);
        break;
      case 'i8':
        dv.setInt8(o, v);
        break;
      case 'i16':
        dv.setInt16(o, v, false);
        break;
      case 'i32':
        dv.setInt32(o, v, false);
        break;
      case 'f32':
        dv.setFloat32(o, v, false);
        break;
      case 'f64':
        dv.setFloat64(o, v, false);
    }
  }
  return out;
}

/**
 * Converts an IDX array to a Tensor of the same shape: `x = data · scale` (e.g. `scale = 1/255` maps u8 pixels into
 * [0, 1]).
 * @param opts.dtype tensor dtype (default `float32`); `opts.scale` multiplier (default 1).
 */
export function idxToTensor(arr: IdxArray, opts: { dtype?: DType; scale?: number } = {}): Tensor {
  const scale = opts.scale ?? 1;
  const out = allocate(opts.dtype ?? 'float32', arr.data.length);
  const d = arr.data;
  if (scale === 1) out.set(d);
  else for (let i = 0; i < d.length; i++) out[i] = d[i] * scale;
  return new Tensor(out, arr.shape);
}

/** Reads and parses an IDX file (optionally gzipped); errors name `path`. */
export async function loadIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot read file (${ioErrorDetail(e)})`, { file: path });
  }
  return parseIdx(bytes, path);
}
