/** Elementwise ops with numpy broadcasting, each beside its vector–Jacobian product. */
import { isGradEnabled, needsGrad, record, registerAccumulate, registerFill } from '../autodiff.js';
import { getBackend, sigmoidScalar, softplusScalar, type BinaryOp, type GradOp, type UnaryOp } from '../backend.js';
import { DTypeError, ShapeError, Tensor, full, sameShape, stridesOf, toDType, type DType, type Shape, type TypedArray } from '../tensor.js';
import { outputBuffer, zeroedOutputBuffer } from '../bufferPool.js';
import { activeTracer } from '../trace.js';
import { InvalidArgumentError } from '../../errors.js';

/** A tensor or a plain number (a number takes the dtype of the tensor it is combined with). */
export type TensorLike = Tensor | number;

function asTensor(x: TensorLike, dtype: DType): Tensor {
  return typeof x === 'number' ? full([], x, dtype) : x;
}

function commonDType(a: TensorLike, b: TensorLike, op: string): DType {
  if (a instanceof Tensor && b instanceof Tensor) {
    if (a.dtype !== b.dtype) throw new DTypeError(`${op}: dtypes differ (${a.dtype} vs ${b.dtype}); use cast()`);
    return a.dtype;
  }
  if (a instanceof Tensor) return a.dtype;
  if (b instanceof Tensor) return b.dtype;
  return 'float32';
}

/** The shape two shapes broadcast to (numpy rules), or a ShapeError naming the op. */
export function broadcastShapes(a: Shape, b: Shape, op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) throw new ShapeError(`${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` aligned to `outShape`, with 0 on broadcast axes. */
function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const st = stridesOf(shape);
  const off = outShape.length - shape.length;
  const res = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < shape.length; i++) res[i + off] = shape[i] === 1 ? 0 : st[i];
  return res;
}

/** Copies `x` broadcast to `outShape` into a fresh contiguous array (no autodiff). */
export function broadcastData(x: Tensor, outShape: Shape): Tensor {
  const size = outShape.reduce((p, d) => p * d, 1);
  const out = outputBuffer(x.dtype, size);
  if (x.size === 1) {
    out.fill(x.data[0]);
    return new Tensor(out, outShape);
  }
  const inner = columnInner(x.shape, outShape);
  if (inner > 0) {
    // Column broadcast ([N, C, 1, 1] → [N, C, H, W]): each entry fills one contiguous block.
    const src = x.data;
    for (let i = 0, o = 0; i < src.length; i++, o += inner) out.fill(src[i], o, o + inner);
    return new Tensor(out, outShape);
  }
  if (x.size > 0 && isTrailing(x.shape, outShape)) {
    // Row broadcast ([C] → [N, C]): the whole of x repeated.
    for (let o = 0; o < size; o += x.size) out.set(x.data, o);
    return new Tensor(out, outShape);
  }
  const nd = outShape.length;
  const st = broadcastStrides(x.shape, outShape);
  const last = nd ? outShape[nd - 1] : 1;
  const sIn = nd ? st[nd - 1] : 0;
  const idx = new Array<number>(nd).fill(0);
  const src = x.data;
  for (let o = 0; o < size; o += last) {
    let base = 0;
    for (let d = 0; d < nd - 1; d++) base += idx[d] * st[d];
    if (sIn === 1) out.set(src.subarray(base, base + last), o);
    else for (let j = 0; j < last; j++) out[o + j] = src[base + j * sIn];
    for (let d = nd - 2; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return new Tensor(out, outShape);
}

/** Raw broadcast binary kernel (no autodiff). */
function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const be = getBackend();
  if (sameShape(a.shape, b.shape)) {
    const out = outputBuffer(a.dtype, a.size);
    be.binary(op, a.data, b.data, out);
    return new Tensor(out, a.shape);
  }
  const outShape = broadcastShapes(a.shape, b.shape, op);
  if (b.size === 1 && sameShape(outShape, a.shape)) {
    const out = outputBuffer(a.dtype, a.size);
    be.binary(op, a.data, b.data, out);
    return new Tensor(out, outShape);
  }
  const size = outShape.reduce((p, d) => p * d, 1);
  const out = outputBuffer(a.dtype, size);
  // Row broadcast: b covers the trailing axes of a contiguous a (bias add, per-feature scale).
  if (sameShape(outShape, a.shape) && b.size > 0 && isTrailing(b.shape, a.shape)) {
    // One backend call: b (length dividing a.length) is repeated along a.
    be.binary(op, a.data, b.data, out);
    return new Tensor(out, outShape);
  }
  // Column broadcast: b constant over blocks of a (per-row or per-channel scale and shift, [N, C, 1, 1] on NCHW).
  const inner = sameShape(outShape, a.shape) && b.size > 1 ? columnInner(b.shape, a.shape) : 0;
  if (inner > 0 && columnBinary(op, a.data, b.data, inner, out)) return new Tensor(out, outShape);
  const A = sameShape(a.shape, outShape) ? a : broadcastData(a, outShape);
  const B = sameShape(b.shape, outShape) ? b : broadcastData(b, outShape);
  be.binary(op, A.data, B.data, out);
  return new Tensor(out, outShape);
}

/**
 * Block length `m` when `small` (right-aligned to `big`) equals `big` on its leading axes and is 1 on the rest with
 * `m` = the product of those trailing axes of `big` > 1 (a column broadcast: entry `i` of `small` covers
 * `big[i·m … (i+1)·m)`), else 0.
 */
function columnInner(small: Shape, big: Shape): number {
  const off = big.length - small.length;
  if (off < 0) return 0;
  let last = -1;
  for (let i = 0; i < small.length; i++) if (small[i] !== 1) last = i + off;
  if (last < 0) return 0;
  for (let i = 0; i <= last; i++) if ((i < off ? 1 : small[i - off]) !== big[i]) return 0;
  let m = 1;
  for (let i = last + 1; i < big.length; i++) m *= big[i];
  return m > 1 ? m : 0;
}

/** `out[k] = a[k] op b[⌊k/m⌋]` for the four arithmetic ops (false for the others, which take the general path). */
function columnBinary(op: BinaryOp, a: TypedArray, b: TypedArray, m: number, out: TypedArray): boolean {
  const nb = b.length;
  switch (op) {
    case 'add': for (let i = 0, k = 0; i < nb; i++) { const v = b[i]; for (const e = k + m; k < e; k++) out[k] = a[k] + v; } return true;
    case 'sub': for (let i = 0, k = 0; i < nb; i++) { const v = b[i]; for (const e = k + m; k < e; k++) out[k] = a[k] - v; } return true;
    case 'mul': for (let i = 0, k = 0; i < nb; i++) { const v = b[i]; for (const e = k + m; k < e; k++) out[k] = a[k] * v; } return true;
    case 'div': for (let i = 0, k = 0; i < nb; i++) { const v = b[i]; for (const e = k + m; k < e; k++) out[k] = a[k] / v; } return true;
    default: return false;
  }
}

/** True when `small` equals the trailing axes of `big` after dropping leading 1s. */
function isTrailing(small: Shape, big: Shape): boolean {
  let s = 0;
  while (s < small.length && small[s] === 1) s++;
  const rest = small.length - s;
  if (rest > big.length) return false;
  for (let i = 0; i < rest; i++) if (small[s + i] !== big[big.length - rest + i]) return false;
  return true;
}

/**
 * Sums `x` over the axes along which `shape` was broadcast to `x.shape`, returning a tensor of `shape`.
 * The adjoint of {@link broadcastTo}.
 */
export function sumToShape(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const outSize = shape.reduce((p, d) => p * d, 1);
  const out = zeroedOutputBuffer(x.dtype, outSize);
  if (outSize > 1 && x.size > 0 && isTrailing(shape, x.shape) && x.size % outSize === 0) {
    // Bias-gradient case: sum the rows of x viewed as [x.size / outSize, outSize] in one backend call.
    getBackend().sumRows(x.data, x.size / outSize, outSize, out);
    const res = new Tensor(out, shape);
    return record(res, 'sumToShape', [x], (g) => [broadcastTo(g, x.shape)]);
  }
  const m = columnInner(shape, x.shape);
  if (m > 0 && x.size > 0) {
    // Column case ([N, C, H, W] → [N, C, 1, 1]): one sum per contiguous block.
    const src = x.data;
    for (let i = 0, k = 0; i < outSize; i++) {
      let s0 = 0, s1 = 0;
      const e = k + m;
      for (; k + 1 < e; k += 2) { s0 += src[k]; s1 += src[k + 1]; }
      if (k < e) s0 += src[k++];
      out[i] = s0 + s1;
    }
    const res = new Tensor(out, shape);
    return record(res, 'sumToShape', [x], (g) => [broadcastTo(g, x.shape)]);
  }
  const nd = x.shape.length;
  const st = broadcastStrides(shape, x.shape);
  const idx = new Array<number>(nd).fill(0);
  const src = x.data;
  const inner = nd ? x.shape[nd - 1] : 1;
  const sIn = nd ? st[nd - 1] : 0;
  if (outSize === 1) {
    let s = 0;
    for (let i = 0; i < src.length; i++) s += src[i];
    out[0] = s;
  } else {
    for (let o = 0; o < x.size; o += inner) {
      let base = 0;
      for (let d = 0; d < nd - 1; d++) base += idx[d] * st[d];
      if (sIn === 0) {
        let s = 0;
        for (let j = 0; j < inner; j++) s += src[o + j];
        out[base] += s;
      } else for (let j = 0; j < inner; j++) out[base + j] += src[o + j];
      for (let d = nd - 2; d >= 0; d--) {
        if (++idx[d] < x.shape[d]) break;
        idx[d] = 0;
      }
    }
  }
  const res = new Tensor(out, shape);
  return record(res, 'sumToShape', [x], (g) => [broadcastTo(g, x.shape)]);
}

/** Broadcasts `x` to `shape` (numpy rules), materialising the result. Gradient: {@link sumToShape}. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const target = broadcastShapes(x.shape, shape, 'broadcastTo');
  if (!sameShape(target, shape)) throw new ShapeError(`broadcastTo: cannot broadcast [${x.shape}] to [${shape}]`);
  const out = broadcastData(x, shape);
  return record(out, 'broadcastTo', [x], (g) => [sumToShape(g, x.shape)]);
}

function binary(op: BinaryOp, a: TensorLike, b: TensorLike, vjp: (g: Tensor, A: Tensor, B: Tensor, out: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  const dt = commonDType(a, b, op);
  const A = asTensor(a, dt);
  const B = asTensor(b, dt);
  const out = binaryRaw(op, A, B);
  return record(out, op, [A, B], (g) => {
    const [ga, gb] = vjp(g, A, B, out);
    return [ga && needsGrad(A) ? sumToShape(ga, A.shape) : null, gb && needsGrad(B) ? sumToShape(gb, B.shape) : null];
  });
}

/** `a + b` elementwise, with broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary('add', a, b, (g) => [g, g]);
}

/** `a − b` elementwise, with broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binary('sub', a, b, (g, _A, B) => [g, needsGrad(B) ? neg(g) : null]);
}

/** `a · b` elementwise, with broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binary('mul', a, b, (g, A, B) => [needsGrad(A) ? mul(g, B) : null, needsGrad(B) ? mul(g, A) : null]);
}

/** `a / b` elementwise, with broadcasting. ∂/∂b = −a/b². */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binary('div', a, b, (g, A, B, out) => [
    needsGrad(A) ? div(g, B) : null,
    needsGrad(B) ? neg(div(mul(g, out), B)) : null,
  ]);
}

/** Elementwise maximum; the gradient goes to `a` where `a ≥ b`, else to `b`. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary('max', a, b, (g, A, B) => {
    const m = compare(A, B, 'greaterEqual', (x, y) => x >= y);
    return [A.requiresGrad ? mul(g, m) : null, B.requiresGrad ? mul(g, sub(1, m)) : null];
  });
}

/** Elementwise minimum; the gradient goes to `a` where `a ≤ b`, else to `b`. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary('min', a, b, (g, A, B) => {
    const m = compare(A, B, 'lessEqual', (x, y) => x <= y);
    return [A.requiresGrad ? mul(g, m) : null, B.requiresGrad ? mul(g, sub(1, m)) : null];
  });
}

/** 0/1 mask of the nonzero entries (no autodiff). */
function ne0(c: Tensor): Tensor {
  const out = outputBuffer(c.dtype, c.size);
  for (let i = 0; i < out.length; i++) out[i] = c.data[i] !== 0 ? 1 : 0;
  return new Tensor(out, c.shape);
}

/** A 0/1 comparison (not recorded for autodiff; reported to an op tracer as `op` with no attributes). */
function compare(a: TensorLike, b: TensorLike, op: string, pred: (x: number, y: number) => boolean): Tensor {
  const dt = commonDType(a, b, 'compare');
  const A = asTensor(a, dt);
  const B = asTensor(b, dt);
  const shape = broadcastShapes(A.shape, B.shape, 'compare');
  const Ab = sameShape(A.shape, shape) ? A : broadcastData(A, shape);
  const Bb = sameShape(B.shape, shape) ? B : broadcastData(B, shape);
  const out = outputBuffer(dt, Ab.size);
  const x = Ab.data;
  const y = Bb.data;
  for (let i = 0; i < out.length; i++) out[i] = pred(x[i], y[i]) ? 1 : 0;
  const res = new Tensor(out, shape);
  if (activeTracer !== null) activeTracer.op(res, op, [A, B], undefined);
  return res;
}

/** 1 where `a > b`, else 0 (not differentiable). */
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return compare(a, b, 'greater', (x, y) => x > y);
}
/** 1 where `a ≥ b`, else 0 (not differentiable). */
export function greaterEqual(a: TensorLike, b: TensorLike): Tensor {
  return compare(a, b, 'greaterEqual', (x, y) => x >= y);
}
/** 1 where `a < b`, else 0 (not differentiable). */
export function less(a: TensorLike, b: TensorLike): Tensor {
  return compare(a, b, 'less', (x, y) => x < y);
}
/** 1 where `a == b`, else 0 (not differentiable). */
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return compare(a, b, 'equal', (x, y) => x === y);
}

/**
 * `cond ? a : b` elementwise with broadcasting; `cond` is a 0/1 (nonzero = true) tensor and is not differentiated.
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const dt = commonDType(a, b, 'where');
  const A = asTensor(a, dt);
  const B = asTensor(b, dt);
  const shape = broadcastShapes(broadcastShapes(A.shape, B.shape, 'where'), cond.shape, 'where');
  const C = sameShape(cond.shape, shape) ? cond : broadcastData(cond, shape);
  const Ab = sameShape(A.shape, shape) ? A : broadcastData(A, shape);
  const Bb = sameShape(B.shape, shape) ? B : broadcastData(B, shape);
  const out = outputBuffer(dt, C.size);
  for (let i = 0; i < out.length; i++) out[i] = C.data[i] !== 0 ? Ab.data[i] : Bb.data[i];
  const res = new Tensor(out, shape);
  const y = record(res, 'where', [A, B], (g) => {
    const mask = toDType(ne0(C), g.dtype);
    return [
      A.requiresGrad ? sumToShape(mul(g, mask), A.shape) : null,
      B.requiresGrad ? sumToShape(mul(g, sub(1, mask)), B.shape) : null,
    ];
  });
  // The condition is no differentiable input, so the node does not list it; a tracer is told the op again with it.
  if (activeTracer !== null) activeTracer.op(y, 'where', [cond, A, B], undefined);
  return y;
}

// ---------------------------------------------------------------------------------------------------------------
// Unary ops

function unaryRaw(op: UnaryOp, x: Tensor): Tensor {
  const out = outputBuffer(x.dtype, x.size);
  getBackend().unary(op, x.data, out);
  return new Tensor(out, x.shape);
}

function unary(op: UnaryOp, x: Tensor, vjp: (g: Tensor, out: Tensor) => Tensor): Tensor {
  const out = unaryRaw(op, x);
  return record(out, op, [x], (g) => [vjp(g, out)]);
}

/** First-order gradient `g·f′(x)` of an activation by the backend's fused kernel, without recording (fast path). */
function fusedGrad(op: GradOp, x: Tensor, g: Tensor, y: Tensor | null): Tensor {
  const out = outputBuffer(x.dtype, x.size);
  getBackend().unaryGrad(op, x.data, y ? y.data : null, g.data, out);
  const res = new Tensor(out, x.shape);
  if (activeTracer !== null) activeTracer.op(res, 'unaryGrad', [x, g], { activation: op });
  return res;
}

/** Applies a raw per-element function to produce the first-order gradient without recording (fast path). */
function fused(x: Tensor, g: Tensor, y: Tensor | null, f: (x: number, g: number, y: number) => number): Tensor {
  const out = outputBuffer(x.dtype, x.size);
  const xd = x.data;
  const gd = g.data;
  const yd = y ? y.data : xd;
  for (let i = 0; i < out.length; i++) out[i] = f(xd[i], gd[i], yd[i]);
  return new Tensor(out, x.shape);
}

/** `−x`. */
export function neg(x: Tensor): Tensor {
  return unary('neg', x, (g) => neg(g));
}

/** `eˣ`. Derivative `eˣ`. */
export function exp(x: Tensor): Tensor {
  return unary('exp', x, (g, y) => mul(g, y));
}

/** `eˣ − 1`, accurate near 0. */
export function expm1(x: Tensor): Tensor {
  return unary('expm1', x, (g, y) => mul(g, add(y, 1)));
}

/** Natural logarithm. Derivative `1/x`. */
export function log(x: Tensor): Tensor {
  return unary('log', x, (g) => div(g, x));
}

/** `log(1 + x)`, accurate near 0. Derivative `1/(1+x)`. */
export function log1p(x: Tensor): Tensor {
  return unary('log1p', x, (g) => div(g, add(x, 1)));
}

/** `√x`. Derivative `1/(2√x)`. */
export function sqrt(x: Tensor): Tensor {
  return unary('sqrt', x, (g, y) => div(mul(g, 0.5), y));
}

/** `x²`. Derivative `2x`. */
export function square(x: Tensor): Tensor {
  return unary('square', x, (g) => mul(g, mul(x, 2)));
}

/** `1/x`. Derivative `−1/x²`. */
export function reciprocal(x: Tensor): Tensor {
  return unary('reciprocal', x, (g, y) => neg(mul(g, square(y))));
}

/** `xᵖ` for a constant exponent `p`. Derivative `p·xᵖ⁻¹`. */
export function pow(x: Tensor, p: number): Tensor {
  if (p === 2) return square(x);
  if (p === 1) return x;
  const out = binaryRaw('pow', x, full([], p, x.dtype));
  return record(out, 'pow', [x], (g) => [mul(g, mul(pow(x, p - 1), p))], { p });
}

/** `|x|`. Derivative `sign(x)` (0 at 0). */
export function abs(x: Tensor): Tensor {
  return unary('abs', x, (g) => mul(g, sign(x)));
}

/** `sign(x)` ∈ {−1, 0, 1} (zero gradient). */
export function sign(x: Tensor): Tensor {
  const out = unaryRaw('sign', x);
  if (activeTracer !== null) activeTracer.op(out, 'sign', [x], undefined);
  return out;
}

/** `sin x`. */
export function sin(x: Tensor): Tensor {
  return unary('sin', x, (g) => mul(g, cos(x)));
}

/** `cos x`. */
export function cos(x: Tensor): Tensor {
  return unary('cos', x, (g) => neg(mul(g, sin(x))));
}

/** Logistic sigmoid `σ(x) = 1/(1+e^{−x})`, stable for large |x|. Derivative `σ(1−σ)`. */
export function sigmoid(x: Tensor): Tensor {
  return unary('sigmoid', x, (g, y) =>
    isGradEnabled() ? mul(g, mul(y, sub(1, y))) : fusedGrad('sigmoid', x, g, y));
}

/** `log σ(x) = −softplus(−x)`, stable for large |x|. Derivative `σ(−x)`. */
export function logSigmoid(x: Tensor): Tensor {
  return unary('logSigmoid', x, (g) =>
    isGradEnabled() ? mul(g, sigmoid(neg(x))) : fusedGrad('logSigmoid', x, g, null));
}

/** Hyperbolic tangent. Derivative `1 − tanh²`. */
export function tanh(x: Tensor): Tensor {
  return unary('tanh', x, (g, y) =>
    isGradEnabled() ? mul(g, sub(1, square(y))) : fusedGrad('tanh', x, g, y));
}

/** `softplus(x) = log(1 + eˣ)`, computed without overflow at |x| = 1e4. Derivative `σ(x)`. */
export function softplus(x: Tensor): Tensor {
  return unary('softplus', x, (g) =>
    isGradEnabled() ? mul(g, sigmoid(x)) : fusedGrad('softplus', x, g, null));
}

/** `max(x, 0)`. Derivative 1 for x > 0, else 0. */
export function relu(x: Tensor): Tensor {
  return unary('relu', x, (g) =>
    isGradEnabled() ? mul(g, greater(x, 0)) : fusedGrad('relu', x, g, null));
}

/** `x` for x > 0, else `slope·x`. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  const mask = fused(x, x, null, (xv) => (xv > 0 ? 1 : slope));
  const out = binaryRaw('mul', x, mask);
  return record(out, 'leakyRelu', [x], (g) => [mul(g, mask)]);
}

/** ELU: `x` for x > 0, else `α(eˣ − 1)`. Derivative 1, or `y + α` for x ≤ 0. */
export function elu(x: Tensor, alpha = 1): Tensor {
  const pos = greater(x, 0);
  const out = outputBuffer(x.dtype, x.size);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i] > 0 ? x.data[i] : alpha * Math.expm1(x.data[i]);
  const y = new Tensor(out, x.shape);
  return record(y, 'elu', [x], (g) => [mul(g, where(pos, 1, add(y, alpha)))]);
}

/** SiLU / swish `x·σ(x)`. Derivative `σ(x)(1 + x(1 − σ(x)))`. */
export function silu(x: Tensor): Tensor {
  return unary('silu', x, (g) => {
    if (!isGradEnabled()) return fusedGrad('silu', x, g, null);
    const s = sigmoid(x);
    return mul(g, mul(s, add(1, mul(x, sub(1, s)))));
  });
}

/** Clamps `x` to `[lo, hi]`; the gradient passes where `lo < x < hi` (and at the bounds from inside). */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (lo > hi) throw new InvalidArgumentError(`clamp: lo ${lo} > hi ${hi}`);
  const out = outputBuffer(x.dtype, x.size);
  const xd = x.data;
  if (xd instanceof Float32Array) clampLoop32(xd, out as Float32Array, lo, hi);
  else clampLoop64(xd, out as Float64Array, lo, hi);
  // The 0/1 mask of the gradient is built only if a backward pass asks for it (samplers clamp untracked states).
  return record(new Tensor(out, x.shape), 'clamp', [x], (g) => {
    const mask = outputBuffer(x.dtype, x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = xd[i] >= lo && xd[i] <= hi ? 1 : 0;
    return [mul(g, new Tensor(mask, x.shape))];
  }, { lo, hi });
}

// One loop per element type: each function then sees a single typed-array kind, which V8 compiles to a tight loop
// (a shared loop over both kinds is polymorphic and ~10× slower on large arrays).
function clampLoop32(x: Float32Array, out: Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v < lo ? lo : v > hi ? hi : v; // NaN stays NaN
  }
}
function clampLoop64(x: Float64Array, out: Float64Array, lo: number, hi: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/** Converts to another dtype; the gradient is converted back. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = outputBuffer(dtype, x.size);
  out.set(x.data);
  return record(new Tensor(out, x.shape), 'cast', [x], (g) => [cast(g, x.dtype)]);
}

/** `a·x + b` with scalar constants — a cheap fused affine map. */
export function affine(x: Tensor, a: number, b: number): Tensor {
  const out = outputBuffer(x.dtype, x.size);
  const d = x.data;
  for (let i = 0; i < out.length; i++) out[i] = a * d[i] + b;
  return record(new Tensor(out, x.shape), 'affine', [x], (g) => [mul(g, a)], { a, b });
}

/** Keeps the stable scalar helpers in one place for reuse by other modules. */
export { sigmoidScalar, softplusScalar };

registerAccumulate((a, b) => add(a, b));
registerFill(
  (x) => full(x.shape, 1, x.dtype),
  (x) => full(x.shape, 0, x.dtype),
);
