/**
 * Sampling from explicit keys. Every function is a pure function of `(key, shape/size, parameters)`: the same key
 * always gives the same numbers, whatever the backend or what was drawn before. Bits come from the key's Philox
 * stream (domain 0, see {@link fillBits}); element `i` of a result always uses the same stream words, so a longer
 * request extends a shorter one (`uniformArray(k, 10)` is a prefix of `uniformArray(k, 20)`) for the
 * fixed-consumption samplers (uniform, normal, bernoulli, categorical).
 *
 * @module
 */
import { allocate, normAxis, shapeSize, ShapeError, Tensor } from '../tensor/tensor.js';
import type { DType, Shape, TypedArray } from '../tensor/tensor.js';
import { assertKey } from './key.js';
import type { Key } from './key.js';
import { Domain, fillBits, getNativeRandom, NATIVE_RANDOM_MIN_WORDS, WordStream } from './philox.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

const TWO_M24 = 5.9604644775390625e-8; // 2^-24
const TWO_M32 = 2.3283064365386963e-10; // 2^-32
const TWO_M53 = 1.1102230246251565e-16; // 2^-53
const TWO_P26 = 67108864;
const TWO_P32 = 4294967296;
const TWO_P53 = 9007199254740992;
/** Words generated per chunk by the bulk samplers (keeps the scratch buffer in L1/L2 cache). */
const CHUNK = 4096;

function checkDType(dtype: unknown, fn: string): DType {
  if (dtype !== 'float32' && dtype !== 'float64') throw new InvalidTypeError(`${fn}: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  return dtype;
}

function checkCount(n: unknown, fn: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${fn}: n must be a non-negative integer, got ${String(n)}`);
  return n;
}

function checkShape(shape: Shape, fn: string): number {
  if (!Array.isArray(shape)) throw new ShapeError(`${fn}: shape must be an array of non-negative integers, got ${String(shape)}`);
  try {
    return shapeSize(shape);
  } catch {
    throw new ShapeError(`${fn}: invalid shape [${shape.join(', ')}]: sizes must be non-negative integers`);
  }
}

function checkFinite(v: unknown, name: string, fn: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidArgumentError(`${fn}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic elementary functions for Box–Muller. Math.log / Math.sin / Math.cos are not specified to the last
// bit (engines and libms differ), so the normal sampler uses its own log and sin/cos(2πu), built only from IEEE
// operations that every platform rounds identically (+ − × ÷, exact bit manipulation). native/philox.c evaluates
// the same expressions in the same order (compiled without FMA contraction), so the native and TS samplers agree
// bit for bit. Keep the two in sync.

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const BITS_F64 = new Float64Array(1);
const BITS_U32 = new Uint32Array(BITS_F64.buffer);
/** Scratch for the two outputs of {@link boxMuller}. */
const PAIR = new Float64Array(2);

const LN2_HI = 6.93147180369123816490e-1; // ln 2 rounded to 32 significant bits (k·LN2_HI is exact)
const LN2_LO = 1.9082149292705877e-10; // ln 2 − LN2_HI
// log(1+f) = f − (hfsq − s·(hfsq + z·P(z))), s = f/(2+f), z = s²; P: Chebyshev fit on z ∈ [0, (3 − 2√2)²].
const LG0 = 0.666666666666667, LG1 = 0.39999999999899444, LG2 = 0.2857142862600327, LG3 = 0.22222211130259878;
const LG4 = 0.18182889455674947, LG5 = 0.15331710618210773, LG6 = 0.14616585424888623;
// sin(πf/2) = f·S(f²), cos(πf/2) = 1 + f²·C(f²): Chebyshev fits on |f| ≤ 1/2.
const SC0 = 1.5707963267948966, SC1 = -0.6459640975062443, SC2 = 0.07969262624604301, SC3 = -0.004681754132340976;
const SC4 = 0.0001604411507421909, SC5 = -3.59864335298231e-6, SC6 = 5.633933781537854e-8;
const CC0 = -1.2337005501361697, CC1 = 0.2536695079010478, CC2 = -0.020863480763340773, CC3 = 0.0009192602745468447;
const CC4 = -2.5202039028029178e-5, CC5 = 4.710678405505227e-7, CC6 = -6.329396344967424e-9;
const ROUND_MAGIC = 6755399441055744; // 1.5·2⁵²: (v + M) − M rounds |v| < 2⁵¹ to an integer (ties to even)
const MIN_NORMAL = 2.2250738585072014e-308;

/** log of a positive normal double: `x = 2ᵏ·m`, `m ∈ [√2/2, √2)` from the bits, then the atanh series of log m. */
function logNormal(x: number): number {
  BITS_F64[0] = x;
  const hx = BITS_U32[HI];
  const mh = hx & 0xfffff;
  const big = mh >= 0x6a09e ? 1 : 0; // mantissa ≥ √2: use m/2 and k + 1
  const k = (hx >>> 20) - 1023 + big;
  BITS_U32[HI] = mh | ((0x3ff - big) << 20);
  const f = BITS_F64[0] - 1;
  const s = f / (2 + f);
  const z = s * s;
  const R = z * (LG0 + z * (LG1 + z * (LG2 + z * (LG3 + z * (LG4 + z * (LG5 + z * LG6))))));
  const hfsq = 0.5 * f * f;
  return k * LN2_HI - ((hfsq - (s * (hfsq + R) + k * LN2_LO)) - f);
}

/**
 * Natural logarithm computed with IEEE basic operations only, so that it gives the same bits on every engine and
 * in the native addon (unlike `Math.log`): `x = 2ᵏ·m` with `m ∈ [√2/2, √2)`, `f = m − 1`, `s = f/(2+f)`,
 * `log x = k·ln2 + 2·atanh(s)` with a degree-6 polynomial in `s²`. Error ≤ 0.8 ulp.
 * Special values follow `Math.log` (`0 → −∞`, negative or NaN → NaN, `∞ → ∞`).
 * @param x any number. @returns `log x`.
 * @example detLog(Math.E) // 1 (within an ulp)
 */
export function detLog(x: number): number {
  if (x >= MIN_NORMAL && x < Infinity) return logNormal(x);
  if (x === 0) return -Infinity;
  if (x > 0 && x < MIN_NORMAL) return logNormal(x * 18014398509481984) - 54 * LN2_HI - 54 * LN2_LO;
  if (x === Infinity) return Infinity;
  return NaN;
}

/**
 * `sin 2πu` and `cos 2πu` into `PAIR[0]`, `PAIR[1]`, for `|u| < 2⁴⁹`: `4u = q + f` exactly (q the nearest integer,
 * `|f| ≤ ½`), polynomials for `sin(πf/2)`, `cos(πf/2)`, and the quadrant symmetries of `q mod 4`.
 */
function sinCos2PiSmall(u: number): void {
  const v = 4 * u;
  const q = v + ROUND_MAGIC - ROUND_MAGIC;
  const f = v - q;
  const qi = q | 0; // q mod 2³² (exact integer): the low two bits are q mod 4
  const z = f * f;
  const s = f * (SC0 + z * (SC1 + z * (SC2 + z * (SC3 + z * (SC4 + z * (SC5 + z * SC6))))));
  const c = 1 + z * (CC0 + z * (CC1 + z * (CC2 + z * (CC3 + z * (CC4 + z * (CC5 + z * CC6))))));
  const odd = qi & 1;
  PAIR[0] = (qi & 2 ? -1 : 1) * (odd ? c : s);
  PAIR[1] = ((qi + 1) & 2 ? -1 : 1) * (odd ? s : c);
}

function sinCos2Pi(u: number): void {
  if (!(Math.abs(u) < 562949953421312)) {
    if (!(Math.abs(u) < Infinity)) {
      PAIR[0] = PAIR[1] = NaN;
      return;
    }
    u = u - Math.floor(u); // exact; the angle is unchanged
  }
  sinCos2PiSmall(u);
}

/**
 * `sin 2πu` with IEEE basic operations only (bit-identical on every engine and in the native addon): the argument
 * reduction `4u = q + f` is exact, so there is no loss for large `u` and `sin 2πu` is exactly 0 at every multiple
 * of ½. Error ≤ 1.5 ulp. NaN or ±∞ give NaN.
 * @param u any number (turns). @example detSin2Pi(0.25) // 1
 */
export function detSin2Pi(u: number): number {
  sinCos2Pi(u);
  return PAIR[0];
}

/**
 * `cos 2πu` with IEEE basic operations only (see {@link detSin2Pi}). Error ≤ 1.5 ulp.
 * @param u any number (turns). @example detCos2Pi(0.5) // −1
 */
export function detCos2Pi(u: number): number {
  sinCos2Pi(u);
  return PAIR[1];
}

/**
 * One Box–Muller pair into `PAIR`: `r·cos 2πu₂`, `r·sin 2πu₂` with `r = √(−2 log u₁)`, `u₁ ∈ (0, 1]` normal,
 * `u₂ ∈ [0, 1)`. (Same order of operations as `box_muller` in native/philox.c.)
 */
function boxMuller(u1: number, u2: number): void {
  const r = Math.sqrt(-2 * logNormal(u1));
  sinCos2PiSmall(u2);
  const sn = PAIR[0];
  PAIR[0] = r * PAIR[1];
  PAIR[1] = r * sn;
}

/**
 * Calls `visit(words, count, firstWord)` on consecutive chunks of the key's sampling stream covering words
 * `[0, total)`. The `words` buffer is reused between calls.
 */
function forEachChunk(k: Key, total: number, visit: (words: Uint32Array, count: number, firstWord: number) => void): void {
  if (total === 0) return;
  const buf = new Uint32Array(Math.min(total, CHUNK));
  const k0 = k.k[0], k1 = k.k[1];
  for (let start = 0; start < total; start += buf.length) {
    const count = Math.min(buf.length, total - start);
    const view = count === buf.length ? buf : buf.subarray(0, count);
    fillBits(k0, k1, Domain.bits, view, start);
    visit(view, count, start);
  }
}

/**
 * The first `n` 32-bit words of the key's sampling stream.
 * @param k the key. @param n number of words.
 * @returns a `Uint32Array` of length `n`.
 */
export function randomBits(k: Key, n: number): Uint32Array {
  assertKey(k, 'randomBits');
  checkCount(n, 'randomBits');
  const out = new Uint32Array(n);
  if (n > 0) fillBits(k.k[0], k.k[1], Domain.bits, out, 0);
  return out;
}

/**
 * Fills `out` with uniform numbers in `[0, 1)` from the key; the precision follows the array type:
 * - `Float32Array`: `u_i = ⌊w_i / 2⁸⌋ · 2⁻²⁴` from word `i` (24 random bits, every value exactly representable);
 * - `Float64Array`: `u_i = (⌊w_{2i} / 2⁵⌋ · 2²⁶ + ⌊w_{2i+1} / 2⁶⌋) · 2⁻⁵³` from words `2i, 2i+1` (53 bits).
 * The allocation-free form of {@link uniformArray}, for hot loops. About 9 ns per float32 number in TypeScript;
 * large requests run in the native kernel when the native backend is selected (same values).
 * @param k the key. @param out destination (its length is the count).
 * @returns `out`.
 */
export function uniformInto<T extends Float32Array | Float64Array>(k: Key, out: T): T {
  assertKey(k, 'uniformInto');
  const nat = getNativeRandom();
  if (nat !== null && (out instanceof Float32Array || out instanceof Float64Array) &&
      out.length * (out instanceof Float64Array ? 2 : 1) >= NATIVE_RANDOM_MIN_WORDS) {
    nat.uniform(k.k[0], k.k[1], out, 0);
    return out;
  }
  if (out instanceof Float32Array) {
    forEachChunk(k, out.length, (w, count, first) => {
      for (let j = 0; j < count; j++) out[first + j] = (w[j] >>> 8) * TWO_M24;
    });
  } else if (out instanceof Float64Array) {
    forEachChunk(k, 2 * out.length, (w, count, first) => {
      const o = first >>> 1; // chunks have even length and start at even words
      for (let j = 0; j + 1 < count; j += 2) out[o + (j >>> 1)] = ((w[j] >>> 5) * TWO_P26 + (w[j + 1] >>> 6)) * TWO_M53;
    });
  } else {
    throw new InvalidTypeError('uniformInto: out must be a Float32Array or Float64Array');
  }
  return out;
}

/**
 * `n` uniform numbers in `[0, 1)` as a raw typed array (24-bit float32 or 53-bit float64, see {@link uniformInto}).
 * @param k the key. @param n count. @param dtype `float32` (default) or `float64`.
 * @example const u = uniformArray(k, rows * cols); // then sample[i] = u[i] < p[i] ? 1 : 0
 */
export function uniformArray(k: Key, n: number, dtype: 'float32'): Float32Array;
export function uniformArray(k: Key, n: number, dtype: 'float64'): Float64Array;
export function uniformArray(k: Key, n: number, dtype?: DType): Float32Array | Float64Array;
export function uniformArray(k: Key, n: number, dtype: DType = 'float32'): Float32Array | Float64Array {
  assertKey(k, 'uniformArray');
  checkCount(n, 'uniformArray');
  return uniformInto(k, allocate(checkDType(dtype, 'uniformArray'), n));
}

/** The largest value of the dtype strictly below the finite number `x`. */
function nextDown(x: number, dtype: DType): number {
  if (dtype === 'float32') {
    const f = new Float32Array([x]);
    if (f[0] < x) return f[0]; // x not representable: its rounding from below is the answer
    if (f[0] === 0) return -1.401298464324817e-45;
    const i = new Int32Array(f.buffer);
    i[0] += f[0] > 0 ? -1 : 1;
    return f[0];
  }
  if (x === 0) return -5e-324;
  const f = new Float64Array([x]);
  const i = new BigInt64Array(f.buffer);
  i[0] += x > 0 ? -1n : 1n;
  return f[0];
}

/** Options of {@link uniform}. */
export interface UniformOptions {
  /** Lower bound (inclusive), default 0. */
  low?: number;
  /** Upper bound (exclusive), default 1. */
  high?: number;
  /** Element type, default `float32`. */
  dtype?: DType;
}

/**
 * Uniform samples on `[low, high)`: `low + (high − low)·u` with `u` from {@link uniformInto} (24 bits for float32,
 * 53 bits for float64). A value that rounds up to `high` is replaced by the largest dtype value below `high`.
 * @param k the key. @param shape output shape. @param opts `{low = 0, high = 1, dtype = 'float32'}`.
 * @returns a tensor of the shape.
 * @example uniform(k, [128, 2], { low: -1, high: 1 })
 */
export function uniform(k: Key, shape: Shape, opts: UniformOptions = {}): Tensor {
  assertKey(k, 'uniform');
  const n = checkShape(shape, 'uniform');
  const dtype = checkDType(opts.dtype ?? 'float32', 'uniform');
  const low = checkFinite(opts.low ?? 0, 'low', 'uniform');
  const high = checkFinite(opts.high ?? 1, 'high', 'uniform');
  if (!(low < high)) throw new InvalidArgumentError(`uniform: need low < high, got low=${low}, high=${high}`);
  const width = high - low;
  if (!Number.isFinite(width)) throw new InvalidArgumentError(`uniform: high − low overflows (low=${low}, high=${high})`);
  const out = uniformInto(k, allocate(dtype, n));
  if (low !== 0 || high !== 1) {
    let top = NaN;
    for (let i = 0; i < n; i++) {
      out[i] = low + width * out[i];
      if (out[i] >= high) {
        if (Number.isNaN(top)) top = nextDown(high, dtype);
        out[i] = top;
      }
    }
  }
  return new Tensor(out, shape);
}

/**
 * Fills `out` with standard normal numbers by the Box–Muller transform, computed in float64 and then stored:
 * pair `p` (elements `2p`, `2p+1`) is `r·cos 2πu₂`, `r·sin 2πu₂` with `r = √(−2 ln u₁)`, where
 * - `Float32Array`: `u₁ = (w_{2p} + 1)·2⁻³²  ∈ (0, 1]`, `u₂ = w_{2p+1}·2⁻³²` (32-bit uniforms; tails reach 6.66σ);
 * - `Float64Array`: `u₁, u₂` are 53-bit uniforms from words `4p…4p+3` (`u₁ ∈ (0, 1]`; tails reach 8.57σ).
 * `ln`, `sin 2π·` and `cos 2π·` are {@link detLog}, {@link detSin2Pi}, {@link detCos2Pi} (IEEE basic operations
 * only), so the numbers are the same bits on every engine and on the native backend, which runs large requests.
 * For odd lengths the last `sin` value is dropped. The allocation-free form of {@link normalArray}.
 * @param k the key. @param out destination. @returns `out`.
 */
export function normalInto<T extends Float32Array | Float64Array>(k: Key, out: T): T {
  assertKey(k, 'normalInto');
  const n = out.length;
  const pairs = Math.ceil(n / 2);
  const nat = getNativeRandom();
  if (nat !== null && (out instanceof Float32Array || out instanceof Float64Array) &&
      pairs * (out instanceof Float64Array ? 4 : 2) >= NATIVE_RANDOM_MIN_WORDS) {
    nat.normal(k.k[0], k.k[1], out, 0);
    return out;
  }
  if (out instanceof Float32Array) {
    forEachChunk(k, 2 * pairs, (w, count, first) => {
      let i = first; // element index = word index
      for (let j = 0; j + 1 < count; j += 2, i += 2) {
        boxMuller((w[j] + 1) * TWO_M32, w[j + 1] * TWO_M32);
        out[i] = PAIR[0];
        if (i + 1 < n) out[i + 1] = PAIR[1];
      }
    });
  } else if (out instanceof Float64Array) {
    forEachChunk(k, 4 * pairs, (w, count, first) => {
      let i = first >>> 1; // two words per element
      for (let j = 0; j + 3 < count; j += 4, i += 2) {
        boxMuller(((w[j] >>> 5) * TWO_P26 + (w[j + 1] >>> 6) + 1) * TWO_M53, ((w[j + 2] >>> 5) * TWO_P26 + (w[j + 3] >>> 6)) * TWO_M53);
        out[i] = PAIR[0];
        if (i + 1 < n) out[i + 1] = PAIR[1];
      }
    });
  } else {
    throw new InvalidTypeError('normalInto: out must be a Float32Array or Float64Array');
  }
  return out;
}

/**
 * `n` standard normal numbers as a raw typed array (see {@link normalInto}).
 * @param k the key. @param n count. @param dtype `float32` (default) or `float64`.
 */
export function normalArray(k: Key, n: number, dtype: 'float32'): Float32Array;
export function normalArray(k: Key, n: number, dtype: 'float64'): Float64Array;
export function normalArray(k: Key, n: number, dtype?: DType): Float32Array | Float64Array;
export function normalArray(k: Key, n: number, dtype: DType = 'float32'): Float32Array | Float64Array {
  assertKey(k, 'normalArray');
  checkCount(n, 'normalArray');
  return normalInto(k, allocate(checkDType(dtype, 'normalArray'), n));
}

/** Options of {@link normal}. */
export interface NormalOptions {
  /** Mean, default 0. */
  mean?: number;
  /** Standard deviation (≥ 0), default 1. */
  std?: number;
  /** Element type, default `float32`. */
  dtype?: DType;
}

/**
 * Normal samples `mean + std·z`, `z ~ N(0, 1)` by Box–Muller in float64 (see {@link normalInto}), then cast.
 * @param k the key. @param shape output shape. @param opts `{mean = 0, std = 1, dtype = 'float32'}`.
 * @example normal(k, [64, 2], { std: 0.1 })
 */
export function normal(k: Key, shape: Shape, opts: NormalOptions = {}): Tensor {
  assertKey(k, 'normal');
  const n = checkShape(shape, 'normal');
  const dtype = checkDType(opts.dtype ?? 'float32', 'normal');
  const mean = checkFinite(opts.mean ?? 0, 'mean', 'normal');
  const std = checkFinite(opts.std ?? 1, 'std', 'normal');
  if (std < 0) throw new InvalidArgumentError(`normal: std must be ≥ 0, got ${std}`);
  const out = allocate(dtype, n);
  if (mean === 0 && std === 1) {
    normalInto(k, out);
  } else {
    const z = normalInto(k, new Float64Array(n));
    for (let i = 0; i < n; i++) out[i] = mean + std * z[i];
  }
  return new Tensor(out, shape);
}

/**
 * Row-major offsets of the elements of `src` (shape `srcShape`) broadcast to `shape` (numpy rules, right-aligned).
 * Throws a ShapeError when `srcShape` does not broadcast to `shape`.
 */
function broadcastIndex(srcShape: Shape, shape: Shape, fn: string): Int32Array | null {
  const n = shapeSize(shape);
  const nd = shape.length;
  const sd = srcShape.length;
  if (sd > nd) throw new ShapeError(`${fn}: p of shape [${srcShape.join(', ')}] does not broadcast to [${shape.join(', ')}]`);
  const strides = new Array<number>(nd).fill(0);
  let acc = 1;
  for (let a = sd - 1; a >= 0; a--) {
    const s = srcShape[a];
    const t = shape[nd - sd + a];
    if (s !== t && s !== 1) throw new ShapeError(`${fn}: p of shape [${srcShape.join(', ')}] does not broadcast to [${shape.join(', ')}]`);
    strides[nd - sd + a] = s === 1 ? 0 : acc;
    acc *= s;
  }
  if (shapeSize(srcShape) === n) return null; // same layout: identity
  const idx = new Int32Array(n);
  const ctr = new Array<number>(nd).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = off;
    for (let a = nd - 1; a >= 0; a--) {
      ctr[a]++;
      off += strides[a];
      if (ctr[a] < shape[a]) break;
      off -= strides[a] * ctr[a];
      ctr[a] = 0;
    }
  }
  return idx;
}

/** Options of {@link bernoulli}. */
export interface BernoulliOptions {
  /** Element type of the 0/1 result; default: the dtype of a tensor `p`, else `float32`. */
  dtype?: DType;
}

/**
 * Bernoulli samples: element `i` is `1` when `w_i·2⁻³² < p_i` (32-bit uniform from word `i`), else `0`; so
 * `P(1) = p` up to 2⁻³², exactly 0 for `p = 0` and always 1 for `p = 1`.
 * @param k the key.
 * @param p success probability in `[0, 1]`: a number, or a tensor broadcastable to `shape`.
 * @param shape output shape; defaults to `p.shape` for a tensor `p` and `[]` for a number.
 * @param opts `{dtype}`.
 * @example bernoulli(k, probs) // same shape as probs, values 0/1
 */
export function bernoulli(k: Key, p: number | Tensor, shape?: Shape, opts: BernoulliOptions = {}): Tensor {
  assertKey(k, 'bernoulli');
  const outShape = shape ?? (p instanceof Tensor ? p.shape : []);
  const n = checkShape(outShape, 'bernoulli');
  const dtype = checkDType(opts.dtype ?? (p instanceof Tensor ? p.dtype : 'float32'), 'bernoulli');
  const out = allocate(dtype, n);
  if (typeof p === 'number') {
    if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError(`bernoulli: p must be in [0, 1], got ${p}`);
    const thr = p * TWO_P32;
    forEachChunk(k, n, (w, count, first) => {
      for (let j = 0; j < count; j++) out[first + j] = w[j] < thr ? 1 : 0;
    });
  } else if (p instanceof Tensor) {
    const pd = p.data;
    for (let i = 0; i < pd.length; i++) {
      if (!(pd[i] >= 0 && pd[i] <= 1)) throw new InvalidArgumentError(`bernoulli: p must be in [0, 1], got p[${i}] = ${pd[i]}`);
    }
    const idx = broadcastIndex(p.shape, outShape, 'bernoulli');
    forEachChunk(k, n, (w, count, first) => {
      if (idx === null) for (let j = 0; j < count; j++) out[first + j] = w[j] < pd[first + j] * TWO_P32 ? 1 : 0;
      else for (let j = 0; j < count; j++) out[first + j] = w[j] < pd[idx[first + j]] * TWO_P32 ? 1 : 0;
    });
  } else {
    throw new InvalidTypeError(`bernoulli: p must be a number or a Tensor, got ${typeof p}`);
  }
  return new Tensor(out, outShape);
}

/** Options of {@link categorical}. */
export interface CategoricalOptions {
  /** Element type of the index tensor; default: the dtype of `logits`. */
  dtype?: DType;
}

/**
 * Samples category indices from unnormalised log-probabilities by the Gumbel-max trick:
 * `argmax_c (logits[…, c, …] + g_c)` with `g = −ln(−ln u)`, `u = (w + ½)·2⁻³² ∈ (0, 1)` from the stream word of the
 * element's flat index. `−∞` logits have probability 0; NaN or `+∞` logits are rejected.
 * @param k the key.
 * @param logits tensor of any shape with at least one axis; `P(c) ∝ exp(logits_c)` along `axis`.
 * @param axis the category axis (default `−1`, the last).
 * @param opts `{dtype}`.
 * @returns indices as a float tensor of `logits.shape` with `axis` removed.
 * @example categorical(k, tensor([[0, Math.log(3)]])) // shape [1]; P(1) = 3/4
 */
export function categorical(k: Key, logits: Tensor, axis = -1, opts: CategoricalOptions = {}): Tensor {
  assertKey(k, 'categorical');
  if (!(logits instanceof Tensor)) throw new InvalidTypeError('categorical: logits must be a Tensor');
  if (logits.ndim === 0) throw new ShapeError('categorical: logits must have at least one axis (the categories)');
  const ax = normAxis(axis, logits.ndim, 'categorical');
  const K = logits.shape[ax];
  if (K === 0) throw new ShapeError(`categorical: the category axis ${axis} of logits [${logits.shape.join(', ')}] is empty`);
  const dtype = checkDType(opts.dtype ?? logits.dtype, 'categorical');
  let inner = 1;
  for (let a = ax + 1; a < logits.ndim; a++) inner *= logits.shape[a];
  const outer = logits.size / (K * inner);
  const outShape = logits.shape.filter((_, a) => a !== ax);
  const out = allocate(dtype, outer * inner);
  const L = logits.data;
  for (let i = 0; i < L.length; i++) {
    if (Number.isNaN(L[i]) || L[i] === Infinity) throw new InvalidArgumentError(`categorical: logits must be finite or −∞, got logits[${i}] = ${L[i]}`);
  }
  const best = new Float64Array(outer * inner).fill(-Infinity);
  const arg = new Int32Array(outer * inner).fill(-1);
  forEachChunk(k, L.length, (w, count, first) => {
    for (let j = 0; j < count; j++) {
      const f = first + j;
      const l = L[f];
      if (l === -Infinity) continue;
      const u = (w[j] + 0.5) * TWO_M32;
      const s = l - Math.log(-Math.log(u));
      const o = Math.floor(f / (K * inner));
      const r = f - o * K * inner;
      const c = Math.floor(r / inner);
      const slot = o * inner + (r - c * inner);
      if (s > best[slot]) {
        best[slot] = s;
        arg[slot] = c;
      }
    }
  });
  for (let i = 0; i < arg.length; i++) {
    if (arg[i] < 0) throw new InvalidArgumentError(`categorical: all logits are −∞ in distribution ${i} (no category has positive probability)`);
    out[i] = arg[i];
  }
  return new Tensor(out, outShape);
}

/**
 * Draws `n` independent integers uniform on `[0, m)` without bias, calling `put(i, v)`. For `m ≤ 2³²`: Lemire's
 * multiply-and-reject on 32-bit words (`v = ⌊w·m / 2³²⌋`, rejected when `w·m mod 2³² < 2³² mod m`); for larger `m`:
 * 53-bit integers `x` rejected when `x ≥ 2⁵³ − (2⁵³ mod m)`, `v = x mod m`. Words are read sequentially from the
 * key's sampling stream; rejections (probability < m/2³²) consume extra words.
 */
function uniformInts(k: Key, m: number, n: number, put: (i: number, v: number) => void): void {
  const s = new WordStream(k.k[0], k.k[1], Domain.bits, 0, Math.min(CHUNK, Math.max(4, n + 8)));
  if (m <= TWO_P32) {
    const t = TWO_P32 % m;
    const mi = m | 0; // ToInt32(m): imul gives the low 32 bits of w·m
    for (let i = 0; i < n; i++) {
      for (;;) {
        const w = s.word();
        const lo = Math.imul(w, mi) >>> 0;
        if (lo < t) continue;
        // ⌊w·m / 2³²⌋: fl(w·m) − lo is within 2¹¹ of the exact multiple of 2³², so rounding recovers it.
        put(i, Math.round((w * m - lo) * TWO_M32));
        break;
      }
    }
  } else {
    const limit = TWO_P53 - (TWO_P53 % m);
    for (let i = 0; i < n; i++) {
      for (;;) {
        const x = (s.word() >>> 11) * TWO_P32 + s.word();
        if (x >= limit) continue;
        put(i, x % m);
        break;
      }
    }
  }
}

function checkIntRange(low: unknown, high: unknown, fn: string): number {
  if (typeof low !== 'number' || !Number.isSafeInteger(low)) throw new InvalidArgumentError(`${fn}: low must be a safe integer, got ${String(low)}`);
  if (typeof high !== 'number' || !Number.isSafeInteger(high)) throw new InvalidArgumentError(`${fn}: high must be a safe integer, got ${String(high)}`);
  if (!(low < high)) throw new InvalidArgumentError(`${fn}: need low < high, got low=${low}, high=${high}`);
  const m = high - low;
  if (m > TWO_P53) throw new InvalidArgumentError(`${fn}: high − low must be ≤ 2^53, got ${m}`);
  return m;
}

/** Options of {@link randint}. */
export interface RandintOptions {
  /** Element type, default `float32` (then `|low|, |high − 1| ≤ 2²⁴` so that every value is exact). */
  dtype?: DType;
}

/**
 * Uniform integers on `[low, high)` without bias (rejection, see the implementation notes), as a float tensor.
 * @param k the key. @param low smallest value (integer). @param high one past the largest value (integer).
 * @param shape output shape. @param opts `{dtype = 'float32'}`.
 * @example randint(k, 0, 10, [100]) // digits 0…9
 */
export function randint(k: Key, low: number, high: number, shape: Shape, opts: RandintOptions = {}): Tensor {
  assertKey(k, 'randint');
  const m = checkIntRange(low, high, 'randint');
  const n = checkShape(shape, 'randint');
  const dtype = checkDType(opts.dtype ?? 'float32', 'randint');
  if (dtype === 'float32' && Math.max(Math.abs(low), Math.abs(high - 1)) > 16777216) {
    throw new InvalidArgumentError(`randint: values beyond ±2^24 are not exact in float32 (low=${low}, high=${high}); pass { dtype: 'float64' }`);
  }
  const out = allocate(dtype, n);
  uniformInts(k, m, n, (i, v) => {
    out[i] = low + v;
  });
  return new Tensor(out, shape);
}

/**
 * `n` uniform integers on `[low, high)` without bias, as an `Int32Array` (for indices in kernels).
 * @param k the key. @param low smallest value, `≥ −2³¹`. @param high one past the largest, `≤ 2³¹`. @param n count.
 */
export function randintArray(k: Key, low: number, high: number, n: number): Int32Array {
  assertKey(k, 'randintArray');
  const m = checkIntRange(low, high, 'randintArray');
  checkCount(n, 'randintArray');
  if (low < -2147483648 || high > 2147483648) throw new InvalidArgumentError(`randintArray: range [${low}, ${high}) does not fit in int32`);
  const out = new Int32Array(n);
  uniformInts(k, m, n, (i, v) => {
    out[i] = low + v;
  });
  return out;
}

/**
 * A uniformly random permutation of `0…n−1` by the Fisher–Yates shuffle: for `i = n−1 … 1`, swap `i` with
 * `j ~ U{0…i}` (drawn without bias as in {@link randintArray}).
 * @param k the key. @param n length (`0 ≤ n < 2³¹`).
 * @returns an `Int32Array` holding each of `0…n−1` once.
 * @example const order = permutation(foldIn(kEpoch, epoch), nTrain);
 */
export function permutation(k: Key, n: number): Int32Array {
  assertKey(k, 'permutation');
  checkCount(n, 'permutation');
  if (n > 2147483647) throw new InvalidArgumentError(`permutation: n must be < 2^31, got ${n}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const s = new WordStream(k.k[0], k.k[1], Domain.bits, 0, Math.min(CHUNK, Math.max(4, n + 8)));
  for (let i = n - 1; i > 0; i--) {
    const m = i + 1;
    let j: number;
    for (;;) {
      const w = s.word();
      const lo = Math.imul(w, m) >>> 0;
      if (lo < m && lo < TWO_P32 % m) continue;
      j = Math.round((w * m - lo) * TWO_M32);
      break;
    }
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}

/**
 * {@link permutation} as a 1-D float tensor of length `n`.
 * @param k the key. @param n length. @param dtype `float32` (default, exact for `n ≤ 2²⁴`) or `float64`.
 */
export function permutationTensor(k: Key, n: number, dtype: DType = 'float32'): Tensor {
  const p = permutation(k, n);
  const out: TypedArray = allocate(checkDType(dtype, 'permutationTensor'), n);
  for (let i = 0; i < n; i++) out[i] = p[i];
  return new Tensor(out, [n]);
}
