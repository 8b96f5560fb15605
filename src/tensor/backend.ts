/** Compute backends: the kernel interface, the pure-TS reference backend and automatic selection. */
import type { ImageKernels } from './imageTypes.js';
import type { TypedArray } from './tensor.js';
import { InvalidArgumentError } from '../errors.js';

/** Unary elementwise kernels a backend may accelerate. Codes are shared with the native addon. */
export const UNARY_OPS = [
  'neg', 'exp', 'log', 'log1p', 'sqrt', 'square', 'abs', 'sin', 'cos', 'sigmoid', 'logSigmoid', 'tanh',
  'softplus', 'relu', 'silu', 'sign', 'reciprocal', 'expm1',
] as const;
/** Name of a unary kernel. */
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Activations whose first-order backward `g·f′(x)` has a fused kernel ({@link Backend.unaryGrad}). */
export const GRAD_OPS = ['sigmoid', 'logSigmoid', 'tanh', 'softplus', 'relu', 'silu'] as const;
/** Name of an activation with a fused backward kernel. */
export type GradOp = (typeof GRAD_OPS)[number];

/** Binary elementwise kernels on equal-length arrays. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow'] as const;
/** Name of a binary kernel. */
export type BinaryOp = (typeof BINARY_OPS)[number];

/**
 * The kernels an engine backend provides. Every array argument holds contiguous row-major data; all arrays of one
 * call have the same element type. Offsets are in elements.
 */
export interface Backend {
  /** `'js'` (pure TypeScript, runs everywhere) or `'native'` (the Node addon). */
  readonly name: 'js' | 'native';
  /** Whether GEMM is delegated to a linked BLAS library (OpenBLAS). */
  readonly blas: boolean;
  /**
   * GEMM: `C ← α·op(A)·op(B) + β·C` with `op(X) = Xᵀ` when the flag is set. `op(A)` is `m×k`, `op(B)` is `k×n`,
   * `C` is `m×n`; `lda`, `ldb`, `ldc` are row strides of the stored (untransposed) matrices.
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number,
    beta: number, c: TypedArray, cOff: number, ldc: number,
  ): void;
  /** `out[i] = f(x[i])` for the named unary op. */
  unary(op: UnaryOp, x: TypedArray, out: TypedArray): void;
  /**
   * `out[i] = a[i] ∘ b[i]` for `i < a.length`. When `b.length === 1`, `b[0]` is used for every `i`; when `b` is
   * shorter than `a` and its length divides `a.length`, `b` is repeated (`b[i mod b.length]`): the row broadcast of
   * an `[r, c]` matrix by a `[c]` vector (bias add, per-feature scale) in one call.
   */
  binary(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray): void;
  /**
   * Fused first-order backward of an activation: `out[i] = g[i]·f′(x[i])` with
   * sigmoid′ = σ(1−σ), logSigmoid′ = σ(−x), tanh′ = 1−tanh², softplus′ = σ(x), relu′ = [x > 0], silu′ = σ(1 + x(1−σ)).
   * `y` is `f(x)` when the caller has it (sigmoid and tanh then use it instead of recomputing), else `null`.
   * All arrays hold `x.length` elements of one element type. Not differentiable: callers use it only when the
   * backward pass is not itself recorded.
   */
  unaryGrad(op: GradOp, x: TypedArray, y: TypedArray | null, g: TypedArray, out: TypedArray): void;
  /** Column sums of the row-major `rows × cols` matrix `x`: `out[j] = Σᵢ x[i·cols + j]` (bias gradients). */
  sumRows(x: TypedArray, rows: number, cols: number, out: TypedArray): void;
  /**
   * Fused `p = sigmoid(x + bias)` written to `prob` and, when `sample` and `u` are given, `sample[i] = u[i] < p[i] ? 1 : 0`.
   * `x` is `rows × cols`, `bias` has `cols` entries (added to each row). The hot loop of block Gibbs sampling.
   */
  sigmoidBernoulli(x: TypedArray, bias: TypedArray | null, cols: number, prob: TypedArray, u: TypedArray | null, sample: TypedArray | null): void;
  /** Accelerated image kernels (convolution); when absent the ops use the pure-TS ones (src/tensor/imageKernels.ts). */
  readonly image?: ImageKernels;
}

// ---------------------------------------------------------------------------------------------------------------
// Pure TypeScript backend

/** Numerically stable softplus log(1+eˣ): exact branches so that no overflow happens at |x| = 1e4. */
export function softplusScalar(x: number): number {
  // For x > 0: x + log1p(e^{-x}); for x ≤ 0: log1p(e^{x}). Both arguments of exp are ≤ 0, so nothing overflows.
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Numerically stable logistic sigmoid 1/(1+e^{−x}). */
export function sigmoidScalar(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function unaryJs(op: UnaryOp, x: TypedArray, out: TypedArray): void {
  const n = x.length;
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]; return;
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]); return;
    case 'expm1': for (let i = 0; i < n; i++) out[i] = Math.expm1(x[i]); return;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(x[i]); return;
    case 'log1p': for (let i = 0; i < n; i++) out[i] = Math.log1p(x[i]); return;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); return;
    case 'square': for (let i = 0; i < n; i++) out[i] = x[i] * x[i]; return;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]); return;
    case 'sin': for (let i = 0; i < n; i++) out[i] = Math.sin(x[i]); return;
    case 'cos': for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]); return;
    case 'sigmoid': for (let i = 0; i < n; i++) out[i] = sigmoidScalar(x[i]); return;
    case 'logSigmoid': for (let i = 0; i < n; i++) out[i] = -softplusScalar(-x[i]); return;
    case 'tanh': for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]); return;
    case 'softplus': for (let i = 0; i < n; i++) out[i] = softplusScalar(x[i]); return;
    case 'relu': for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : 0; return;
    case 'silu': for (let i = 0; i < n; i++) out[i] = x[i] * sigmoidScalar(x[i]); return;
    case 'sign': for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0; return;
    case 'reciprocal': for (let i = 0; i < n; i++) out[i] = 1 / x[i]; return;
  }
}

function unaryGradJs(op: GradOp, x: TypedArray, y: TypedArray | null, g: TypedArray, out: TypedArray): void {
  const n = x.length;
  switch (op) {
    case 'sigmoid':
      for (let i = 0; i < n; i++) { const s = y ? y[i] : sigmoidScalar(x[i]); out[i] = g[i] * s * (1 - s); }
      return;
    case 'logSigmoid': for (let i = 0; i < n; i++) out[i] = g[i] * sigmoidScalar(-x[i]); return;
    case 'tanh':
      for (let i = 0; i < n; i++) { const t = y ? y[i] : Math.tanh(x[i]); out[i] = g[i] * (1 - t * t); }
      return;
    case 'softplus': for (let i = 0; i < n; i++) out[i] = g[i] * sigmoidScalar(x[i]); return;
    case 'relu': for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? g[i] : 0; return;
    case 'silu':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const s = sigmoidScalar(v);
        out[i] = g[i] * s * (1 + v * (1 - s));
      }
      return;
    default: throw new InvalidArgumentError(`unaryGrad: op '${String(op)}' has no fused backward`);
  }
}

function sumRowsJs(x: TypedArray, rows: number, cols: number, out: TypedArray): void {
  for (let j = 0; j < cols; j++) out[j] = 0;
  for (let i = 0, o = 0; i < rows; i++, o += cols) for (let j = 0; j < cols; j++) out[j] += x[o + j];
}

/** Row broadcast `out[r·c + j] = a[r·c + j] ∘ b[j]` (b.length = c divides a.length). */
function binaryRowJs(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray): void {
  const n = a.length;
  const c = b.length;
  for (let o = 0; o < n; o += c) {
    switch (op) {
      case 'add': for (let j = 0; j < c; j++) out[o + j] = a[o + j] + b[j]; break;
      case 'sub': for (let j = 0; j < c; j++) out[o + j] = a[o + j] - b[j]; break;
      case 'mul': for (let j = 0; j < c; j++) out[o + j] = a[o + j] * b[j]; break;
      case 'div': for (let j = 0; j < c; j++) out[o + j] = a[o + j] / b[j]; break;
      case 'max': for (let j = 0; j < c; j++) out[o + j] = a[o + j] >= b[j] ? a[o + j] : b[j]; break;
      case 'min': for (let j = 0; j < c; j++) out[o + j] = a[o + j] <= b[j] ? a[o + j] : b[j]; break;
      case 'pow': for (let j = 0; j < c; j++) out[o + j] = Math.pow(a[o + j], b[j]); break;
    }
  }
}

function binaryJs(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray): void {
  const n = a.length;
  if (b.length > 1 && b.length < n) {
    if (n % b.length !== 0) throw new InvalidArgumentError(`binary ${op}: b has length ${b.length}, which is neither 1, ≥ a.length (${n}) nor a divisor of it`);
    binaryRowJs(op, a, b, out);
    return;
  }
  if (b.length === 1 && n !== 1) {
    const s = b[0];
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + s; return;
      case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - s; return;
      case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * s; return;
      case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / s; return;
      case 'max': for (let i = 0; i < n; i++) out[i] = a[i] >= s ? a[i] : s; return;
      case 'min': for (let i = 0; i < n; i++) out[i] = a[i] <= s ? a[i] : s; return;
      case 'pow': for (let i = 0; i < n; i++) out[i] = Math.pow(a[i], s); return;
    }
  }
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; return;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; return;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; return;
    case 'max': for (let i = 0; i < n; i++) out[i] = a[i] >= b[i] ? a[i] : b[i]; return;
    case 'min': for (let i = 0; i < n; i++) out[i] = a[i] <= b[i] ? a[i] : b[i]; return;
    case 'pow': for (let i = 0; i < n; i++) out[i] = Math.pow(a[i], b[i]); return;
  }
}

/**
 * GEMM in plain TypeScript: op(A) and op(B) are packed into panels of 4 rows / 4 columns (zero-padded), then a
 * 4×4 register-blocked micro-kernel accumulates each tile of C in 16 local variables. Packing makes every inner-loop
 * read contiguous whatever the transpose flags, and local accumulators keep the JIT's loop free of stores.
 */
function gemmJs(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number,
  beta: number, c: TypedArray, cOff: number, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * ldc;
    if (beta === 0) for (let j = 0; j < n; j++) c[ci + j] = 0;
    else if (beta !== 1) for (let j = 0; j < n; j++) c[ci + j] *= beta;
  }
  if (alpha === 0 || k === 0 || m === 0 || n === 0) return;
  const mp = (m + 3) >> 2;
  const np = (n + 3) >> 2;
  const KC = 256; // k-block so that one A panel and one B panel stay in L1/L2
  const ap = new Float64Array(4 * KC);
  const bp = new Float64Array(np * 4 * KC);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    // Pack op(B)[p0:p0+kc, :] as np panels of [kc][4].
    bp.fill(0, 0, np * 4 * kc);
    for (let p = 0; p < kc; p++) {
      for (let j = 0; j < n; j++) {
        const v = transB ? b[bOff + j * ldb + p0 + p] : b[bOff + (p0 + p) * ldb + j];
        bp[(j >> 2) * 4 * kc + p * 4 + (j & 3)] = v;
      }
    }
    for (let ib = 0; ib < mp; ib++) {
      const i0 = ib * 4;
      const rows = Math.min(4, m - i0);
      ap.fill(0, 0, 4 * kc);
      for (let r = 0; r < rows; r++) {
        const i = i0 + r;
        for (let p = 0; p < kc; p++) ap[p * 4 + r] = transA ? a[aOff + (p0 + p) * lda + i] : a[aOff + i * lda + p0 + p];
      }
      for (let jb = 0; jb < np; jb++) {
        const base = jb * 4 * kc;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let p = 0, q = 0; p < kc; p++, q += 4) {
          const a0 = ap[q], a1 = ap[q + 1], a2 = ap[q + 2], a3 = ap[q + 3];
          const bq = base + q;
          const b0 = bp[bq], b1 = bp[bq + 1], b2 = bp[bq + 2], b3 = bp[bq + 3];
          c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
          c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
          c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
          c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }
        const j0 = jb * 4;
        const cols = Math.min(4, n - j0);
        const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
        for (let r = 0; r < rows; r++) {
          const ci = cOff + (i0 + r) * ldc + j0;
          for (let q = 0; q < cols; q++) c[ci + q] += alpha * tile[r * 4 + q];
        }
      }
    }
  }
}

function sigmoidBernoulliJs(x: TypedArray, bias: TypedArray | null, cols: number, prob: TypedArray, u: TypedArray | null, sample: TypedArray | null): void {
  const n = x.length;
  for (let i = 0, j = 0; i < n; i++) {
    const p = sigmoidScalar(bias ? x[i] + bias[j] : x[i]);
    prob[i] = p;
    if (u && sample) sample[i] = u[i] < p ? 1 : 0;
    if (++j === cols) j = 0;
  }
}

/** The pure-TypeScript backend: always available, used in browsers and as the reference. */
export const jsBackend: Backend = {
  name: 'js',
  blas: false,
  gemm: gemmJs,
  unary: unaryJs,
  binary: binaryJs,
  unaryGrad: unaryGradJs,
  sumRows: sumRowsJs,
  sigmoidBernoulli: sigmoidBernoulliJs,
};

let current: Backend = jsBackend;

/** The backend in use. */
export function getBackend(): Backend {
  return current;
}

/** Replaces the backend in use (the native loader calls this; tests use it to run the suite on each backend). */
export function setBackend(b: Backend): void {
  current = b;
}
