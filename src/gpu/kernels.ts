/**
 * WGSL compute kernels of the WebGPU backend and the device-resident tensor they work on. This is the kernel layer
 * of docs/webgpu.md: each kernel computes what the CPU backends' kernel of the same name computes (see
 * src/tensor/backend.ts), in float32, and is tested against them. Tensors stay on the device between kernels; only
 * {@link GpuTensor.read} brings data back, asynchronously (WebGPU has no synchronous read-back).
 *
 * Random numbers: {@link GpuKernels.uniform} runs Philox4x32-10 in WGSL (32-bit integer arithmetic, the 32×32→64-bit
 * products split into 16-bit halves, which is exact), so the same key gives bit-for-bit the uniforms of
 * `uniformArray(key, n, 'float32')` on the CPU.
 * @module
 */
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/tensor.js';
import type { Key } from '../random/key.js';
import { requestGpu, type GpuInfo } from './device.js';
import { BufferUsage, MAP_READ_MODE, type GpuBufferLike, type GpuDeviceLike, type GpuPipelineLike } from './webgpuTypes.js';
import { InvalidArgumentError } from '../errors.js';

/** Unary kernels available on the GPU (a subset of the CPU backends' `UNARY_OPS`, same maths). */
export const GPU_UNARY_OPS = ['neg', 'exp', 'log', 'sqrt', 'square', 'abs', 'sigmoid', 'logSigmoid', 'tanh', 'softplus', 'relu', 'silu'] as const;
/** Name of a GPU unary kernel. */
export type GpuUnaryOp = (typeof GPU_UNARY_OPS)[number];
/** Activations with a fused backward kernel `g·f′(x)` ({@link GpuKernels.unaryGrad}; the CPU backends' `GRAD_OPS`). */
export const GPU_GRAD_OPS = ['sigmoid', 'logSigmoid', 'tanh', 'softplus', 'relu', 'silu'] as const;
/** Name of a GPU fused activation backward. */
export type GpuGradOp = (typeof GPU_GRAD_OPS)[number];
/** Binary kernels available on the GPU (same broadcast rule as the CPU backends' `binary`). */
export const GPU_BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min'] as const;
/** Name of a GPU binary kernel. */
export type GpuBinaryOp = (typeof GPU_BINARY_OPS)[number];

const WG = 64; // threads per workgroup of the 1-D kernels
const TILE = 16; // matmul tile edge
const MAX_GROUPS = 65535; // WebGPU's default maxComputeWorkgroupsPerDimension

/** @internal WGSL helpers shared by the kernels (stable sigmoid, softplus, tanh, log1p, log); reused by src/gpu/traceKernels.ts. */
export const PREAMBLE = /* wgsl */ `
fn atanh2_(s: f32) -> f32 {
  // 2·atanh(s) = 2(s + s³/3 + s⁵/5 + …) for |s| ≤ 1/3: nine terms, relative error < 2e-10. WGSL's log is only
  // accurate to an absolute 2⁻²¹ on [0.5, 2], which is no relative accuracy at all near 1.
  let q = s * s;
  return 2.0 * s * (1.0 + q * (1.0 / 3.0 + q * (1.0 / 5.0 + q * (1.0 / 7.0 + q * (1.0 / 9.0 + q * (1.0 / 11.0
    + q * (1.0 / 13.0 + q * (1.0 / 15.0 + q * (1.0 / 17.0)))))))));
}
fn log1p_(x: f32) -> f32 {
  // log(1 + x) = 2·atanh(x / (2 + x)); |x| ≤ 1/2 keeps |s| ≤ 1/3.
  if (abs(x) <= 0.5) { return atanh2_(x / (2.0 + x)); }
  return log(1.0 + x);
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn softplus_(x: f32) -> f32 {
  if (x > 0.0) { return x + log1p_(exp(-x)); }
  return log1p_(exp(x));
}
fn tanh_(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.125) {
    // Odd Taylor series to x⁹: relative error < 1e-9 here, where (1 − e)/(1 + e) would cancel.
    let x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0 + x2 * (62.0 / 2835.0)))));
  }
  let e = exp(-2.0 * a);
  return sign(x) * (1.0 - e) / (1.0 + e);
}
fn log_(x: f32, ninf: f32) -> f32 {
  // log(0) = −∞ and log(x < 0) = NaN, as on the CPU (WGSL leaves both to the implementation, and has no −∞
  // literal: the host passes it in the uniforms).
  if (x == 0.0) { return ninf; }
  if (x < 0.0) { return ninf * 0.0; }
  if (x >= 0.5 && x <= 2.0) { return atanh2_((x - 1.0) / (x + 1.0)); } // x − 1 is exact here (Sterbenz)
  return log(x);
}
`;

/** @internal the unary kernel's WGSL (uniforms `n, op, stride, ninf`; `op` indexes {@link GPU_UNARY_OPS}); reused by src/gpu/compile.ts. */
export const UNARY_WGSL = /* wgsl */ `${PREAMBLE}
struct P { n: u32, op: u32, stride: u32, ninf: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  let v = x[i];
  var r: f32;
  switch p.op {
    case 0u: { r = -v; }
    case 1u: { r = exp(v); }
    case 2u: { r = log_(v, p.ninf); }
    case 3u: { r = sqrt(v); }
    case 4u: { r = v * v; }
    case 5u: { r = abs(v); }
    case 6u: { r = sigmoid_(v); }
    case 7u: { r = -softplus_(-v); }
    case 8u: { r = tanh_(v); }
    case 9u: { r = softplus_(v); }
    case 10u: { r = max(v, 0.0); }
    default: { r = v * sigmoid_(v); }
  }
  y[i] = r;
}`;

const BINARY_WGSL = /* wgsl */ `
struct P { n: u32, nb: u32, op: u32, stride: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  let u = a[i];
  let v = b[i % p.nb];
  var r: f32;
  switch p.op {
    case 0u: { r = u + v; }
    case 1u: { r = u - v; }
    case 2u: { r = u * v; }
    case 3u: { r = u / v; }
    case 4u: { r = max(u, v); }
    default: { r = min(u, v); }
  }
  y[i] = r;
}`;

/**
 * @internal The tiled matmul `C = op(A)·op(B)` in WGSL, with `tile × tile` workgroups (bindings A, B, C, uniforms:
 * m, n, k, transA, transB, lda, ldb, pad); with `withBias`, a fifth binding `bias` (at 2, before C) and a uniform
 * flag `bias = 1` add `bias[col]` to each row (the traced compile's `linear`).
 */
export function matmulWgsl(tile: number, withBias: boolean): string {
  return /* wgsl */ `
struct P { m: u32, n: u32, k: u32, ta: u32, tb: u32, lda: u32, ldb: u32, ${withBias ? 'bias' : 'pad'}: u32 }
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
${withBias ? `@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<uniform> p: P;` : `@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: P;`}
var<workgroup> As: array<array<f32, ${tile}>, ${tile}>;
var<workgroup> Bs: array<array<f32, ${tile}>, ${tile}>;
fn aAt(i: u32, l: u32) -> f32 {
  if (i >= p.m || l >= p.k) { return 0.0; }
  if (p.ta == 1u) { return A[l * p.lda + i]; }
  return A[i * p.lda + l];
}
fn bAt(l: u32, j: u32) -> f32 {
  if (l >= p.k || j >= p.n) { return 0.0; }
  if (p.tb == 1u) { return B[j * p.ldb + l]; }
  return B[l * p.ldb + j];
}
@compute @workgroup_size(${tile}, ${tile})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row = wid.y * ${tile}u + lid.y;
  let col = wid.x * ${tile}u + lid.x;
  var acc = 0.0;
  let tiles = (p.k + ${tile - 1}u) / ${tile}u;
  for (var t = 0u; t < tiles; t++) {
    As[lid.y][lid.x] = aAt(row, t * ${tile}u + lid.x);
    Bs[lid.y][lid.x] = bAt(t * ${tile}u + lid.y, col);
    workgroupBarrier();
    for (var q = 0u; q < ${tile}u; q++) { acc = acc + As[lid.y][q] * Bs[q][lid.x]; }
    workgroupBarrier();
  }
  if (row < p.m && col < p.n) {
    ${withBias ? 'var r = acc; if (p.bias == 1u) { r = r + bias[col]; } C[row * p.n + col] = r;' : 'C[row * p.n + col] = acc;'}
  }
}`;
}

const MATMUL_WGSL = matmulWgsl(TILE, false);

const SUM_ROWS_WGSL = /* wgsl */ `
struct P { rows: u32, cols: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let j = g.x;
  if (j >= p.cols) { return; }
  var acc = 0.0;
  for (var i = 0u; i < p.rows; i++) { acc = acc + x[i * p.cols + j]; }
  y[j] = acc;
}`;


/** @internal the fused activation backward's WGSL (uniforms `n, op, stride, order`; `op` indexes {@link GPU_GRAD_OPS}); reused by src/gpu/compile.ts. */
export const UNARY_GRAD_WGSL = /* wgsl */ `${PREAMBLE}
struct P { n: u32, op: u32, stride: u32, order: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.n) { return; }
  let v = x[i];
  let g = gy[i];
  var r: f32;
  if (p.order == 2u) {
    // Second derivatives g·f″(x) (for gradients of input gradients, e.g. score matching's parameter gradient).
    let s = sigmoid_(v);
    let sn = sigmoid_(-v);
    switch p.op {
      case 0u: { r = g * s * sn * (1.0 - 2.0 * s); }
      case 1u: { r = -g * s * sn; }
      case 2u: { let t = tanh_(v); r = -2.0 * g * t * (1.0 - t * t); }
      case 3u: { r = g * s * sn; }
      case 4u: { r = 0.0; }
      default: { r = g * s * sn * (2.0 + v * (sn - s)); }
    }
    y[i] = r;
    return;
  }
  switch p.op {
    case 0u: { let s = sigmoid_(v); r = g * s * (1.0 - s); }
    case 1u: { r = g * sigmoid_(-v); }
    case 2u: {
      // 1 − tanh² = 4e/(1 + e)², e = exp(−2|x|): no cancellation where tanh is near ±1.
      if (abs(v) < 0.125) { let t = tanh_(v); r = g * (1.0 - t * t); }
      else { let e = exp(-2.0 * abs(v)); r = g * (4.0 * e / ((1.0 + e) * (1.0 + e))); }
    }
    case 3u: { r = g * sigmoid_(v); }
    case 4u: { r = select(0.0, g, v > 0.0); }
    default: { r = g * sigmoid_(v) * (1.0 + v * sigmoid_(-v)); }
  }
  y[i] = r;
}`;

// One workgroup of RED threads per output: each output reduces \`len\` values spaced \`inner\` apart starting at
// \`(o / inner)·len·inner + o mod inner\` (a row sum when inner = 1, a column sum when the reduced axis is the rows).
const RED = 256;
/** @internal the reduction over one axis (uniforms `len, inner, op, outs, ninf`; op 0 sum, 1 logsumexp, 2 softmax, 3 max); reused by src/gpu/compile.ts. */
export const REDUCE_WGSL = /* wgsl */ `${PREAMBLE}
struct P { len: u32, inner: u32, op: u32, outs: u32, ninf: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> buf: array<f32, ${RED}>;
fn at(base: u32, j: u32) -> f32 { return x[base + j * p.inner]; }
fn reduceSum(t: u32) -> f32 {
  workgroupBarrier();
  for (var s = ${RED / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { buf[t] = buf[t] + buf[t + s]; }
    workgroupBarrier();
  }
  let r = buf[0];
  workgroupBarrier();
  return r;
}
fn reduceMax(t: u32) -> f32 {
  workgroupBarrier();
  for (var s = ${RED / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { buf[t] = max(buf[t], buf[t + s]); }
    workgroupBarrier();
  }
  let r = buf[0];
  workgroupBarrier();
  return r;
}
@compute @workgroup_size(${RED})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let o = wid.y * ${MAX_GROUPS}u + wid.x;
  let t = lid.x;
  let live = o < p.outs;
  let oo = min(o, max(p.outs, 1u) - 1u);
  let base = (oo / p.inner) * p.len * p.inner + oo % p.inner;
  // op 0: sum; 1: logsumexp; 2: softmax (writes len values); 3: max.
  if (p.op == 0u) {
    var acc = 0.0;
    for (var j = t; j < p.len; j += ${RED}u) { acc = acc + at(base, j); }
    buf[t] = acc;
    let s = reduceSum(t);
    if (live && t == 0u) { y[oo] = s; }
    return;
  }
  var m = p.ninf;
  for (var j = t; j < p.len; j += ${RED}u) { m = max(m, at(base, j)); }
  buf[t] = m;
  m = reduceMax(t);
  if (p.op == 3u) { if (live && t == 0u) { y[oo] = m; } return; }
  // Max-shifted: exp(x − m) ≤ 1. A row whose max is ±∞ (all −∞, or a +∞) is shifted by 0 so that the result is
  // −∞ / +∞ / NaN as the CPU's formula gives.
  let shift = select(0.0, m, abs(m) <= 3.4028234663852886e38);
  var acc = 0.0;
  for (var j = t; j < p.len; j += ${RED}u) { acc = acc + exp(at(base, j) - shift); }
  buf[t] = acc;
  let s = reduceSum(t);
  if (p.op == 1u) { if (live && t == 0u) { y[oo] = shift + log_(s, p.ninf); } return; }
  if (live) { for (var j = t; j < p.len; j += ${RED}u) { y[base + j * p.inner] = exp(at(base, j) - shift) / s; } }
}`;

const WHERE_WGSL = /* wgsl */ `
struct P { n: u32, nc: u32, stride: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> c: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  y[i] = select(b[i], a[i], c[i % p.nc] != 0.0);
}`;

const AFFINE_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, op: u32, pad: u32, s0: f32, s1: f32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  // op 0: clamp(x, s0, s1) (NaN stays NaN, as the CPU's comparisons leave it); op 1: x + s0·u + s1·v;
  // op 2: the Bernoulli draw 1[u < x] of probabilities x from uniforms u.
  if (p.op == 0u) {
    let w = x[i];
    y[i] = select(select(w, p.s1, w > p.s1), p.s0, w < p.s0);
  } else if (p.op == 1u) {
    y[i] = x[i] + p.s0 * u[i] + p.s1 * v[i];
  } else {
    y[i] = select(0.0, 1.0, u[i] < x[i]);
  }
}`;

const PHILOX_WGSL = /* wgsl */ `${PREAMBLE}
struct P { k0: u32, k1: u32, n: u32, stride: u32, normal: u32, ninf: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<uniform> p: P;
fn sinCos2Pi(w: u32) -> vec2f {
  // sin and cos of 2πu, u = w·2⁻³²: quadrant q = ⌊4u⌋ (the top two bits), θ = (4u − q)·π/2 ∈ [0, π/2) from the
  // other 30 bits, by Taylor polynomials to θ¹³ and θ¹⁴ (error < 1e-8; WGSL's sin/cos are only accurate to an
  // absolute 2⁻¹¹).
  let q = w >> 30u;
  let th = f32(w & 0x3fffffffu) * (1.5707963267948966 / 1073741824.0);
  let z = th * th;
  let s = th * (1.0 + z * (-1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (1.0 / 362880.0 + z * (-1.0 / 39916800.0 + z * (1.0 / 6227020800.0)))))));
  let c = 1.0 + z * (-0.5 + z * (1.0 / 24.0 + z * (-1.0 / 720.0 + z * (1.0 / 40320.0 + z * (-1.0 / 3628800.0 + z * (1.0 / 479001600.0 + z * (-1.0 / 87178291200.0)))))));
  switch q {
    case 0u: { return vec2f(s, c); }
    case 1u: { return vec2f(c, -s); }
    case 2u: { return vec2f(-s, -c); }
    default: { return vec2f(-c, s); }
  }
}
fn radius(w: u32) -> f32 {
  // r = √(−2 log u₁), u₁ = (w + 1)·2⁻³² ∈ (0, 1]. Near 1, log u₁ = log1p(−δ) with δ = 1 − u₁ = (2³² − 1 − w)·2⁻³²
  // computed exactly in integers, so r keeps its relative accuracy where u₁ rounds to 1 in float32.
  let d = f32(~w) * 2.3283064365386963e-10;
  if (d <= 0.5) { return sqrt(-2.0 * log1p_(-d)); }
  return sqrt(-2.0 * log_(f32(w + 1u) * 2.3283064365386963e-10, p.ninf));
}
fn mulhilo(a: u32, b: u32) -> vec2u {
  let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
  let t0 = al * bl;
  let t1 = ah * bl + (t0 >> 16u);
  let t2 = al * bh + (t1 & 0xffffu);
  return vec2u(ah * bh + (t1 >> 16u) + (t2 >> 16u), a * b);
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let block = g.y * p.stride + g.x;
  if (block * 4u >= p.n) { return; }
  // Counter (block, 0, domain = 0 "bits", 0), key (k0, k1), ten rounds with Weyl key bumps: as src/random/philox.ts.
  var c = vec4u(block, 0u, 0u, 0u);
  var k0 = p.k0; var k1 = p.k1;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k0 = k0 + 0x9E3779B9u; k1 = k1 + 0xBB67AE85u; }
    let m0 = mulhilo(0xD2511F53u, c.x);
    let m1 = mulhilo(0xCD9E8D57u, c.z);
    c = vec4u(m1.x ^ c.y ^ k0, m1.y, m0.x ^ c.w ^ k1, m0.y);
  }
  let base = block * 4u;
  if (p.normal == 1u) {
    // Box–Muller pairs from words (2j, 2j + 1), as normalInto does for float32 (computed here in float32).
    for (var q = 0u; q < 4u; q += 2u) {
      let r = radius(c[q]);
      let sc = sinCos2Pi(c[q + 1u]);
      if (base + q < p.n) { y[base + q] = r * sc.y; }
      if (base + q + 1u < p.n) { y[base + q + 1u] = r * sc.x; }
    }
    return;
  }
  // float32 uniforms: the top 24 bits times 2^-24 (exact), as uniformInto does.
  for (var q = 0u; q < 4u; q++) {
    if (base + q < p.n) { y[base + q] = f32(c[q] >> 8u) * 5.9604644775390625e-8; }
  }
}`;

/** A float32 tensor that lives in GPU memory. Shape is row-major; read it back with {@link GpuTensor.read}. */
export class GpuTensor {
  /** Number of elements. */
  readonly size: number;
  constructor(private readonly kernels: GpuKernels, readonly shape: readonly number[], readonly buffer: GpuBufferLike) {
    this.size = shape.reduce((a, b) => a * b, 1);
  }
  /**
   * Copies the data back to the host (asynchronous: waits for every kernel queued before it).
   * @example const host = await y.read(); // Float32Array of y.size
   */
  read(): Promise<Float32Array> {
    return this.kernels.readBuffer(this.buffer, this.size);
  }
  /** Reads the data back as a CPU {@link Tensor} of the same shape (float32). */
  async toTensor(): Promise<Tensor> {
    return tensor(await this.read(), [...this.shape], 'float32');
  }
  /** Frees the GPU memory now (otherwise it is freed when the object is collected). Using it afterwards is an error. */
  dispose(): void {
    this.buffer.destroy();
  }
}

/** The bits of −∞ as a uniform word (WGSL has no −∞ literal). */
const NINF = 0xff800000;

function lastAxis(x: GpuTensor, name: string): [number, number] {
  if (x.shape.length < 1) throw new InvalidArgumentError(`gpu.${name}: x must have at least one axis`);
  const c = x.shape[x.shape.length - 1];
  return [c === 0 ? 0 : x.size / c, c];
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new InvalidArgumentError(`gpu: invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/**
 * The WGSL kernels on one WebGPU device. Create with {@link GpuKernels.create}; every method queues work and returns
 * at once with a device-resident result.
 */
export class GpuKernels {
  private readonly pipelines = new Map<string, GpuPipelineLike>();
  /** Work queued so far: kernel dispatches and read-backs (for benches and the design's per-step counts). */
  readonly stats = { dispatches: 0, reads: 0 };

  private constructor(readonly device: GpuDeviceLike, readonly info: GpuInfo) {}

  /**
   * The kernels on the process's WebGPU device, or the {@link GpuInfo} saying why there is none.
   * @example const k = await GpuKernels.create(); if (!(k instanceof GpuKernels)) console.log(k.reason);
   */
  static async create(): Promise<GpuKernels | GpuInfo> {
    const g = await requestGpu();
    return 'device' in g ? new GpuKernels(g.device, g.info) : g;
  }

  private pipeline(name: string, code: string): GpuPipelineLike {
    let p = this.pipelines.get(name);
    if (!p) {
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module: this.device.createShaderModule({ code }), entryPoint: 'main' } });
      this.pipelines.set(name, p);
    }
    return p;
  }

  private storage(bytes: number): GpuBufferLike {
    return this.device.createBuffer({ size: Math.max(4, bytes), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  }

  private uniforms(words: readonly number[]): GpuBufferLike {
    const buf = this.device.createBuffer({ size: words.length * 4, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buf, 0, new Uint32Array(words));
    return buf;
  }

  /** Runs one kernel over `threads` 1-D invocations (split over two grid dimensions when needed). */
  private run(pipe: GpuPipelineLike, buffers: GpuBufferLike[], threads: number, wgSize = WG): void {
    const groups = Math.max(1, Math.ceil(threads / wgSize));
    const gx = Math.min(groups, MAX_GROUPS), gy = Math.ceil(groups / gx);
    this.dispatch(pipe, buffers, gx, gy);
  }

  private dispatch(pipe: GpuPipelineLike, buffers: GpuBufferLike[], gx: number, gy: number): void {
    this.stats.dispatches++;
    const group = this.device.createBindGroup({
      layout: pipe.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** Grid stride (threads per row of the 2-D grid) used by {@link run}. */
  private stride(threads: number, wgSize = WG): number {
    const groups = Math.max(1, Math.ceil(threads / wgSize));
    return Math.min(groups, MAX_GROUPS) * wgSize;
  }

  /** @internal Reads `n` floats of a storage buffer back to the host. */
  async readBuffer(buffer: GpuBufferLike, n: number): Promise<Float32Array> {
    this.stats.reads++;
    const bytes = Math.max(4, n * 4);
    const staging = this.device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(MAP_READ_MODE);
    const out = new Float32Array(staging.getMappedRange().slice(0, n * 4));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /**
   * Copies host data to the device.
   * @param data a float32 CPU {@link Tensor}, or a Float32Array with `shape`.
   * @example const x = k.upload(normal(key(0), [128, 784]));
   */
  upload(data: Tensor | Float32Array, shape?: readonly number[]): GpuTensor {
    let arr: Float32Array, shp: readonly number[];
    if (data instanceof Float32Array) {
      shp = shape ?? [data.length];
      if (sizeOf(shp) !== data.length) throw new InvalidArgumentError(`gpu.upload: shape [${shp.join(', ')}] does not hold ${data.length} values`);
      arr = data;
    } else {
      if (data.dtype !== 'float32') throw new InvalidArgumentError(`gpu.upload: the WebGPU backend computes in float32, got a ${data.dtype} tensor`);
      arr = data.data as Float32Array;
      shp = data.shape;
    }
    const buf = this.storage(arr.byteLength);
    if (arr.length > 0) this.device.queue.writeBuffer(buf, 0, arr);
    return new GpuTensor(this, [...shp], buf);
  }

  /**
   * `y = f(x)` elementwise, with the CPU backends' formulas (stable sigmoid, softplus, logSigmoid and tanh).
   * @example const h = k.unary('silu', x);
   */
  unary(op: GpuUnaryOp, x: GpuTensor): GpuTensor {
    const code = GPU_UNARY_OPS.indexOf(op);
    if (code < 0) throw new InvalidArgumentError(`gpu.unary: unknown op '${String(op)}' (have ${GPU_UNARY_OPS.join(', ')})`);
    const y = this.storage(x.size * 4);
    const u = this.uniforms([x.size, code, this.stride(x.size), NINF]); // last word: the bits of −∞
    this.run(this.pipeline('unary', UNARY_WGSL), [x.buffer, y, u], x.size);
    u.destroy();
    return new GpuTensor(this, x.shape, y);
  }

  /**
   * `y[i] = a[i] ∘ b[i mod |b|]`: elementwise with `b` repeated when its size divides `a`'s (row broadcast of a
   * `[r, c]` matrix by a `[c]` vector, or a scalar) — the rule of the CPU backends' `binary`.
   * @example const z = k.binary('add', xw, bias);
   */
  binary(op: GpuBinaryOp, a: GpuTensor, b: GpuTensor): GpuTensor {
    const code = GPU_BINARY_OPS.indexOf(op);
    if (code < 0) throw new InvalidArgumentError(`gpu.binary: unknown op '${String(op)}' (have ${GPU_BINARY_OPS.join(', ')})`);
    if (b.size === 0 || a.size % b.size !== 0) throw new InvalidArgumentError(`gpu.binary: the size of b (${b.size}) must divide the size of a (${a.size})`);
    const y = this.storage(a.size * 4);
    const u = this.uniforms([a.size, b.size, code, this.stride(a.size)]);
    this.run(this.pipeline('binary', BINARY_WGSL), [a.buffer, b.buffer, y, u], a.size);
    u.destroy();
    return new GpuTensor(this, a.shape, y);
  }

  /**
   * Matrix product `C = op(A)·op(B)` of 2-D tensors, `op(X) = Xᵀ` when the flag is set; `op(A)` is `m×k`, `op(B)`
   * `k×n`. Tiled (16×16) in workgroup memory, float32 accumulation.
   * @example const h = k.matmul(x, w);              // [n, d]·[d, h]
   * @example const g = k.matmul(x, gy, { transA: true }); // xᵀ·gy, a weight gradient
   */
  matmul(a: GpuTensor, b: GpuTensor, opts: { transA?: boolean; transB?: boolean } = {}): GpuTensor {
    if (a.shape.length !== 2 || b.shape.length !== 2) throw new InvalidArgumentError(`gpu.matmul: both operands must be 2-D, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
    const ta = !!opts.transA, tb = !!opts.transB;
    const m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
    const k2 = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1];
    if (k !== k2) throw new InvalidArgumentError(`gpu.matmul: inner sizes differ (${k} vs ${k2}) for [${a.shape.join(', ')}]${ta ? 'ᵀ' : ''} · [${b.shape.join(', ')}]${tb ? 'ᵀ' : ''}`);
    const c = this.storage(m * n * 4);
    const u = this.uniforms([m, n, k, ta ? 1 : 0, tb ? 1 : 0, a.shape[1], b.shape[1], 0]);
    const gx = Math.ceil(n / TILE), gy = Math.ceil(m / TILE);
    if (gx > MAX_GROUPS || gy > MAX_GROUPS) throw new InvalidArgumentError(`gpu.matmul: result [${m}, ${n}] is too large for one dispatch`);
    if (m > 0 && n > 0) this.dispatch(this.pipeline('matmul', MATMUL_WGSL), [a.buffer, b.buffer, c, u], gx, gy);
    u.destroy();
    return new GpuTensor(this, [m, n], c);
  }

  /**
   * Column sums of a `[rows, cols]` tensor: `y[j] = Σᵢ x[i, j]` (bias gradients).
   * @example const gb = k.sumRows(gy);
   */
  sumRows(x: GpuTensor): GpuTensor {
    if (x.shape.length !== 2) throw new InvalidArgumentError(`gpu.sumRows: x must be 2-D, got [${x.shape.join(', ')}]`);
    const [rows, cols] = x.shape;
    const y = this.storage(cols * 4);
    const u = this.uniforms([rows, cols, 0, 0]);
    this.run(this.pipeline('sumRows', SUM_ROWS_WGSL), [x.buffer, y, u], cols);
    u.destroy();
    return new GpuTensor(this, [cols], y);
  }

  /**
   * `n` float32 uniforms in `[0, 1)` from Philox4x32-10, bit-identical to `uniformArray(key, n, 'float32')` on the
   * CPU backends.
   * @example const u = k.uniform(key(0), 1024);
   */
  uniform(k: Key, shape: readonly number[]): GpuTensor {
    const n = sizeOf(shape);
    const y = this.storage(n * 4);
    const blocks = Math.ceil(n / 4);
    const u = this.uniforms([k.k[0] >>> 0, k.k[1] >>> 0, n, this.stride(blocks), 0, NINF, 0, 0]);
    if (n > 0) this.run(this.pipeline('philox', PHILOX_WGSL), [y, u], blocks);
    u.destroy();
    return new GpuTensor(this, [...shape], y);
  }

  /**
   * `n` standard normal numbers from the same Philox stream and pairing as `normalArray(key, n, 'float32')`:
   * pair `p` is `r·cos 2πu₂, r·sin 2πu₂` with `r = √(−2 log u₁)`, `u₁ = (w₂ₚ + 1)·2⁻³²`, `u₂ = w₂ₚ₊₁·2⁻³²`. The CPU
   * computes it in float64 and rounds; WGSL has no f64, so these agree with it to a few float32 ulp (relative
   * ~1e-6, absolute ~1e-6 near the zeros of sin/cos), not bit for bit.
   * @example const xi = k.normal(foldIn(key(0), 3), [128, 2]);
   */
  normal(k: Key, shape: readonly number[]): GpuTensor {
    const n = sizeOf(shape);
    const y = this.storage(n * 4);
    const blocks = Math.ceil(n / 4);
    const u = this.uniforms([k.k[0] >>> 0, k.k[1] >>> 0, n, this.stride(blocks), 1, NINF, 0, 0]);
    if (n > 0) this.run(this.pipeline('philox', PHILOX_WGSL), [y, u], blocks);
    u.destroy();
    return new GpuTensor(this, [...shape], y);
  }

  /**
   * Fused activation backward `y = g·f′(x)`, the CPU backends' `unaryGrad` (sigmoid, logSigmoid, tanh, softplus,
   * relu, silu; same formulas: `f′` from the stable sigmoid).
   * @example const ga = k.unaryGrad('silu', a, gh); // backprop through h = silu(a)
   */
  unaryGrad(op: GpuGradOp, x: GpuTensor, g: GpuTensor): GpuTensor {
    return this.activationDerivative(op, x, g, 1, 'unaryGrad');
  }

  /**
   * Second derivative of an activation times a cotangent, `y = g·f″(x)` (sigmoid: `σ(1−σ)(1−2σ)`, logSigmoid:
   * `−σ(x)σ(−x)`, tanh: `−2t(1−t²)`, softplus: `σ(x)σ(−x)`, relu: 0, silu: `σ(1−σ)(2 + x(1−2σ))`): the term a
   * gradient of an input gradient needs (score matching's parameter gradient).
   * @example const ga2 = k.unaryGrad2('silu', a, w); // ∂/∂a of (gh ⊙ f′(a)), contracted with w
   */
  unaryGrad2(op: GpuGradOp, x: GpuTensor, g: GpuTensor): GpuTensor {
    return this.activationDerivative(op, x, g, 2, 'unaryGrad2');
  }

  private activationDerivative(op: GpuGradOp, x: GpuTensor, g: GpuTensor, order: 1 | 2, name: string): GpuTensor {
    const code = GPU_GRAD_OPS.indexOf(op);
    if (code < 0) throw new InvalidArgumentError(`gpu.${name}: op '${String(op)}' has no fused backward (have ${GPU_GRAD_OPS.join(', ')})`);
    if (g.size !== x.size) throw new InvalidArgumentError(`gpu.${name}: g has ${g.size} values but x has ${x.size}`);
    const y = this.storage(x.size * 4);
    const u = this.uniforms([x.size, code, this.stride(x.size), order]);
    this.run(this.pipeline('unaryGrad', UNARY_GRAD_WGSL), [x.buffer, g.buffer, y, u], x.size);
    u.destroy();
    return new GpuTensor(this, x.shape, y);
  }

  private reduce(op: number, x: GpuTensor, len: number, inner: number, outs: number, outShape: readonly number[], outSize: number): GpuTensor {
    const y = this.storage(outSize * 4);
    const u = this.uniforms([len, inner, op, outs, NINF, 0, 0, 0]);
    if (outs > 0) {
      const gx = Math.min(outs, MAX_GROUPS), gy = Math.ceil(outs / gx);
      this.dispatch(this.pipeline('reduce', REDUCE_WGSL), [x.buffer, y, u], gx, gy);
    }
    u.destroy();
    return new GpuTensor(this, [...outShape], y);
  }

  /**
   * Sum of all elements → shape `[]` (one workgroup, tree reduction in float32).
   * @example const total = await k.sumAll(e).read(); // Float32Array [Σ e]
   */
  sumAll(x: GpuTensor): GpuTensor {
    return this.reduce(0, x, x.size, 1, 1, [], 1);
  }

  /**
   * Sum over the last axis: `[..., c]` → `[...]`, `y[i] = Σⱼ x[i, j]` (e.g. `‖z‖²` per row from `z²`).
   * @example const sq = k.sumLast(k.unary('square', z)); // [n]
   */
  sumLast(x: GpuTensor): GpuTensor {
    const [outer, c] = lastAxis(x, 'sumLast');
    return this.reduce(0, x, c, 1, outer, x.shape.slice(0, -1), outer);
  }

  /**
   * Maximum over the last axis: `[..., c]` → `[...]`.
   */
  maxLast(x: GpuTensor): GpuTensor {
    const [outer, c] = lastAxis(x, 'maxLast');
    return this.reduce(3, x, c, 1, outer, x.shape.slice(0, -1), outer);
  }

  /**
   * `log Σⱼ exp x[i, j]` over the last axis, max-shifted (`m + log Σ exp(x − m)`, `m` the row max; a row of −∞ gives
   * −∞): `[..., c]` → `[...]`.
   * @example const lse = k.logsumexpLast(logits); // [n]
   */
  logsumexpLast(x: GpuTensor): GpuTensor {
    const [outer, c] = lastAxis(x, 'logsumexpLast');
    return this.reduce(1, x, c, 1, outer, x.shape.slice(0, -1), outer);
  }

  /**
   * Softmax over the last axis, max-shifted: `y[i, j] = exp(x[i, j] − m) / Σₖ exp(x[i, k] − m)`; same shape.
   * @example const p = k.softmaxLast(logits);
   */
  softmaxLast(x: GpuTensor): GpuTensor {
    const [outer, c] = lastAxis(x, 'softmaxLast');
    return this.reduce(2, x, c, 1, outer, x.shape, x.size);
  }

  /**
   * `y[i] = cond[i mod |cond|] ≠ 0 ? a[i] : b[i]`: `cond` is repeated as `b` is in {@link binary} (the size of `a`, a
   * scalar, or one value per element of the last axis).
   * @example const next = k.where(accept, proposal, current);
   */
  where(cond: GpuTensor, a: GpuTensor, b: GpuTensor): GpuTensor {
    if (a.size !== b.size) throw new InvalidArgumentError(`gpu.where: a and b differ in size (${a.size} vs ${b.size})`);
    if (cond.size === 0 || a.size % cond.size !== 0) throw new InvalidArgumentError(`gpu.where: the size of cond (${cond.size}) must divide the size of a (${a.size})`);
    const y = this.storage(a.size * 4);
    const u = this.uniforms([a.size, cond.size, this.stride(a.size), 0]);
    this.run(this.pipeline('where', WHERE_WGSL), [cond.buffer, a.buffer, b.buffer, y, u], a.size);
    u.destroy();
    return new GpuTensor(this, a.shape, y);
  }

  /**
   * `clamp(x, lo, hi)` elementwise (NaN stays NaN).
   * @example const boxed = k.clamp(x, -1, 1);
   */
  clamp(x: GpuTensor, lo: number, hi: number): GpuTensor {
    if (!(lo <= hi)) throw new InvalidArgumentError(`gpu.clamp: need lo ≤ hi, got ${lo} and ${hi}`);
    return this.affine(0, x, x, x, lo, hi);
  }

  /**
   * `y = x + α·u + β·v` elementwise in one kernel (a Langevin update `x − η∇E + √(2η)ξ` is `axpby(x, ∇E, ξ, −η, √(2η))`).
   * @example const next = k.axpby(z, g, xi, -eta, Math.sqrt(2 * eta));
   */
  axpby(x: GpuTensor, u: GpuTensor, v: GpuTensor, alpha: number, beta: number): GpuTensor {
    if (u.size !== x.size || v.size !== x.size) throw new InvalidArgumentError(`gpu.axpby: sizes differ (${x.size}, ${u.size}, ${v.size})`);
    return this.affine(1, x, u, v, alpha, beta);
  }

  /**
   * Bernoulli draws `y = 1[u < prob]` elementwise from uniforms `u` in `[0, 1)` (the CPU backends' `sigmoidBernoulli`
   * rule, so the same uniforms give the same bits wherever `prob` agrees).
   * @example const h = k.bernoulli(k.unary('sigmoid', pre), k.uniform(key(3), pre.shape));
   */
  bernoulli(prob: GpuTensor, u: GpuTensor): GpuTensor {
    if (u.size !== prob.size) throw new InvalidArgumentError(`gpu.bernoulli: prob and u differ in size (${prob.size} vs ${u.size})`);
    return this.affine(2, prob, u, u, 0, 0);
  }

  private affine(op: number, x: GpuTensor, u: GpuTensor, v: GpuTensor, s0: number, s1: number): GpuTensor {
    const y = this.storage(x.size * 4);
    const f = new Float32Array([s0, s1]);
    const fb = new Uint32Array(f.buffer);
    const un = this.uniforms([x.size, this.stride(x.size), op, 0, fb[0], fb[1], 0, 0]);
    this.run(this.pipeline('affine', AFFINE_WGSL), [x.buffer, u.buffer, v.buffer, y, un], x.size);
    un.destroy();
    return new GpuTensor(this, x.shape, y);
  }

  // ---- Kernels of the score-SDE and deep-EBM steps (models/scoreSde/gpu.ts, models/deepEbm/gpu.ts) ----

  /**
   * `y = a·x + b·u + c·v` elementwise in one kernel (float32; `x`, `u`, `v` of one size): the reverse-SDE
   * Euler–Maruyama update `x(1 − fΔt − g²Δt·c²) + g²Δt/σ·net + g√Δt·ξ` is one call.
   * @example const next = k.lincomb(x, out, xi, 1 - f * dt, g2 * dt / sigma, Math.sqrt(g2 * dt));
   */
  lincomb(x: GpuTensor, u: GpuTensor, v: GpuTensor, a: number, b: number, c: number): GpuTensor {
    if (u.size !== x.size || v.size !== x.size) throw new InvalidArgumentError(`gpu.lincomb: sizes differ (${x.size}, ${u.size}, ${v.size})`);
    return this.extra(0, [x, u, v], x.shape, [a, b, c, 0]);
  }

  /**
   * `sin x` or `cos x` elementwise, accurate to float32 rounding for `|x| < 10⁴` (Cody–Waite reduction by π/2 in two
   * parts, then Taylor polynomials on `[−π/4, π/4]`; WGSL's own sin/cos are only accurate to an absolute 2⁻¹¹): the
   * random Fourier features `[sin 2πzB, cos 2πzB]` of score networks and energies.
   * @example const s = k.trig('sin', k.matmul(z, twoPiB));
   */
  trig(op: 'sin' | 'cos', x: GpuTensor): GpuTensor {
    if (op !== 'sin' && op !== 'cos') throw new InvalidArgumentError(`gpu.trig: op must be 'sin' or 'cos', got '${String(op)}'`);
    return this.extra(op === 'sin' ? 1 : 2, [x, x, x], x.shape, [0, 0, 0, 0]);
  }

  /**
   * One Langevin step with the signal-to-noise step-size rule of the predictor–corrector sampler (Song et al. 2021;
   * `annealedSnrStepSize` of src/samplers): `y = x + ε·s + √(2ε)·z` with `ε = k·(Σ‖zᵢ‖ / Σ‖sᵢ‖)²` (`k = 2α·snr²`;
   * ε = 0 when every score row is 0). `sNorm` and `zNorm` are device scalars (sums of the row norms, e.g.
   * `sumAll(sqrt(sumLast(square(s))))`), so the step needs no read-back.
   * @example const next = k.snrLangevin(x, s, z, sn, zn, 2 * alpha * snr * snr);
   */
  snrLangevin(x: GpuTensor, s: GpuTensor, z: GpuTensor, sNorm: GpuTensor, zNorm: GpuTensor, k: number): GpuTensor {
    if (s.size !== x.size || z.size !== x.size) throw new InvalidArgumentError(`gpu.snrLangevin: sizes differ (${x.size}, ${s.size}, ${z.size})`);
    if (sNorm.size !== 1 || zNorm.size !== 1) throw new InvalidArgumentError('gpu.snrLangevin: sNorm and zNorm must be scalars');
    const y = this.storage(x.size * 4);
    const f = new Float32Array([k, 0]);
    const fb = new Uint32Array(f.buffer);
    const un = this.uniforms([x.size, this.stride(x.size), fb[0], 0]);
    this.run(this.pipeline('snrLangevin', SNR_LANGEVIN_WGSL), [x.buffer, s.buffer, z.buffer, sNorm.buffer, zNorm.buffer, y, un], x.size);
    un.destroy();
    return new GpuTensor(this, x.shape, y);
  }

  /**
   * `n` standard normal numbers of the **float64** stream, `normalArray(key, n, 'float64')` (the noise of the diffusion
   * samplers), computed in float32: pair `p` uses the four words of Philox block `p`, `u₁ = (⌊w₀/2⁵⌋·2²⁶ + ⌊w₁/2⁶⌋ +
   * 1)·2⁻⁵³`, `u₂ = (⌊w₂/2⁵⌋·2²⁶ + ⌊w₃/2⁶⌋)·2⁻⁵³` (53-bit uniforms), then Box–Muller as {@link normal} (radius from
   * `1 − u₁` in exact integers near 1, angle from the top 32 bits of `u₂`). Agrees with the CPU's float64 values to
   * float32 rounding (a different stream from {@link normal}'s float32 one).
   * @example const xi = k.normal64(kStep, [n, d]); // ≈ normal(kStep, [n, d], { dtype: 'float64' })
   */
  normal64(k: Key, shape: readonly number[]): GpuTensor {
    const n = sizeOf(shape);
    const y = this.storage(n * 4);
    const blocks = Math.ceil(n / 2);
    const u = this.uniforms([k.k[0] >>> 0, k.k[1] >>> 0, n, this.stride(blocks), 2, NINF, 0, 0]);
    if (n > 0) this.run(this.pipeline('philox64', PHILOX64_WGSL), [y, u], blocks);
    u.destroy();
    return new GpuTensor(this, [...shape], y);
  }

  /**
   * Row selection `y[i, :] = cond[i] ≠ 0 ? a[i, :] : b[i, :]` for `[n, …]` tensors and one flag per row (`cond` `[n]`):
   * keeping accepted MCMC proposals.
   * @example const x2 = k.rowWhere(accepted, y, x);
   */
  rowWhere(cond: GpuTensor, a: GpuTensor, b: GpuTensor): GpuTensor {
    if (a.size !== b.size) throw new InvalidArgumentError(`gpu.rowWhere: a and b differ in size (${a.size} vs ${b.size})`);
    if (cond.size === 0 || a.size % cond.size !== 0) throw new InvalidArgumentError(`gpu.rowWhere: ${cond.size} flags do not split ${a.size} values into rows`);
    const y = this.storage(a.size * 4);
    const un = this.uniforms([a.size, a.size / cond.size, this.stride(a.size), 0]);
    this.run(this.pipeline('rowWhere', ROW_WHERE_WGSL), [cond.buffer, a.buffer, b.buffer, y, un], a.size);
    un.destroy();
    return new GpuTensor(this, a.shape, y);
  }

  /**
   * The Metropolis–Hastings test of MALA (`malaKernel` of src/samplers), one thread per chain: with `c = η/T`,
   * `log α = −(E(y) − E(x))/T − (‖x − (y − c∇E(y))‖² − ‖y − (x − c∇E(x))‖²)/(4η)`, the flag is `1[log u < log α]`
   * (the CPU's `u < min(1, α)`), 0 for a proposal outside `box` (a non-finite log α is not guaranteed to reject:
   * WGSL may assume finite values, so callers check the chain's finiteness). Inputs `x`, `y`, `gx`, `gy`
   * `[n, D]`, energies `ex`, `ey` and the logs of the uniforms `logU` `[n]` (taken on the host in float64: WGSL's log
   * is not accurate near 1); returns the flags `[n]`.
   * @example const acc = k.malaAccept(x, y, gx, gy, ex, ey, logU, { stepSize: 1e-3, temperature: 1 });
   */
  malaAccept(x: GpuTensor, y: GpuTensor, gx: GpuTensor, gy: GpuTensor, ex: GpuTensor, ey: GpuTensor, logU: GpuTensor, o: { stepSize: number; temperature: number; box?: readonly [number, number] }): GpuTensor {
    const n = ex.size;
    if (ey.size !== n || logU.size !== n || n === 0 || x.size % n !== 0 || y.size !== x.size || gx.size !== x.size || gy.size !== x.size) throw new InvalidArgumentError('gpu.malaAccept: x, y, gx, gy must be [n, D] and ex, ey, u [n]');
    const acc = this.storage(n * 4);
    const fb = new Uint32Array(new Float32Array([o.stepSize, o.temperature, o.box ? o.box[0] : 0, o.box ? o.box[1] : 0]).buffer);
    const un = this.uniforms([n, x.size / n, this.stride(n), o.box ? 1 : 0, fb[0], fb[1], fb[2], fb[3]]);
    this.run(this.pipeline('malaAccept', MALA_ACCEPT_WGSL), [x.buffer, y.buffer, gx.buffer, gy.buffer, ex.buffer, ey.buffer, logU.buffer, acc, un], n);
    un.destroy();
    return new GpuTensor(this, [n], acc);
  }

  private extra(op: number, [x, u, v]: GpuTensor[], shape: readonly number[], s: readonly number[]): GpuTensor {
    const y = this.storage(x.size * 4);
    const fb = new Uint32Array(new Float32Array(s).buffer);
    const un = this.uniforms([x.size, this.stride(x.size), op, 0, fb[0], fb[1], fb[2], fb[3]]);
    this.run(this.pipeline('extra', EXTRA_WGSL), [x.buffer, u.buffer, v.buffer, y, un], x.size);
    un.destroy();
    return new GpuTensor(this, shape, y);
  }

  /**
   * One categorical draw per group of the last axis of `logits [..., K]` (groups of `K` unnormalised log-probabilities)
   * from one uniform per group, as the CPU's RBM-CF sampler draws it: `p_k ∝ exp(z_k − max z)`, the first `k` whose
   * cumulative sum exceeds `u·Σp` (the last level when none does). Returns the one-hot draws (same shape as `logits`),
   * all zero in the groups where `mask` (one value per group, optional) is 0.
   * @example const v = k.categorical(logits, u, mask); // logits [users·items, K], u and mask [users·items]
   */
  categorical(logits: GpuTensor, u: GpuTensor, mask?: GpuTensor): GpuTensor {
    const [groups, K] = lastAxis(logits, 'categorical');
    if (u.size !== groups) throw new InvalidArgumentError(`gpu.categorical: ${u.size} uniforms for ${groups} groups`);
    if (mask && mask.size !== groups) throw new InvalidArgumentError(`gpu.categorical: the mask has ${mask.size} values for ${groups} groups`);
    const y = this.storage(logits.size * 4);
    const un = this.uniforms([groups, K, this.stride(groups), mask ? 1 : 0, NINF, 0, 0, 0]);
    this.run(this.pipeline('categorical', CATEGORICAL_WGSL), [logits.buffer, u.buffer, (mask ?? u).buffer, y, un], groups);
    un.destroy();
    return new GpuTensor(this, logits.shape, y);
  }
}

const EXTRA_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, op: u32, pad: u32, a: f32, b: f32, c: f32, d: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
fn sinPoly(r: f32) -> f32 {
  // |r| ≤ π/4: Taylor to r¹¹ (truncation < 6e-11).
  let z = r * r;
  return r * (1.0 + z * (-1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (1.0 / 362880.0 + z * (-1.0 / 39916800.0))))));
}
fn cosPoly(r: f32) -> f32 {
  let z = r * r;
  return 1.0 + z * (-0.5 + z * (1.0 / 24.0 + z * (-1.0 / 720.0 + z * (1.0 / 40320.0 + z * (-1.0 / 3628800.0 + z * (1.0 / 479001600.0))))));
}
fn trig(w: f32, cosine: bool) -> f32 {
  // w = q·π/2 + r, |r| ≤ π/4: π/2 = 1.5703125 (8 significant bits, so q·hi is exact for |q| < 2¹⁶) + 4.838267948966e-4,
  // and w − q·hi is exact (Sterbenz) for q ≠ 0.
  let q = round(w * 0.6366197723675814);
  let r = (w - q * 1.5703125) - q * 4.8382679489661923e-4;
  let k = (i32(q) + select(0, 1, cosine)) & 3;
  switch k {
    case 0: { return sinPoly(r); }
    case 1: { return cosPoly(r); }
    case 2: { return -sinPoly(r); }
    default: { return -cosPoly(r); }
  }
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  // op 0: a·x + b·u + c·v; 1: sin x; 2: cos x.
  if (p.op == 0u) {
    y[i] = p.a * x[i] + p.b * u[i] + p.c * v[i];
  } else {
    y[i] = trig(x[i], p.op == 2u);
  }
}`;

const SNR_LANGEVIN_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, k: f32, pad: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read> sn: array<f32>;
@group(0) @binding(4) var<storage, read> zn: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  var eps = 0.0;
  if (sn[0] > 0.0) { let q = zn[0] / sn[0]; eps = p.k * q * q; }
  y[i] = x[i] + eps * s[i] + sqrt(2.0 * eps) * z[i];
}`;

// Normals of the float64 stream: the helpers (Philox rounds aside) of PHILOX_WGSL, one Box–Muller pair per block.
const PHILOX64_WGSL = /* wgsl */ `${PHILOX_WGSL.slice(0, PHILOX_WGSL.indexOf('@compute'))}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let block = g.y * p.stride + g.x;
  if (block * 2u >= p.n) { return; }
  var c = vec4u(block, 0u, 0u, 0u);
  var k0 = p.k0; var k1 = p.k1;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k0 = k0 + 0x9E3779B9u; k1 = k1 + 0xBB67AE85u; }
    let m0 = mulhilo(0xD2511F53u, c.x);
    let m1 = mulhilo(0xCD9E8D57u, c.z);
    c = vec4u(m1.x ^ c.y ^ k0, m1.y, m0.x ^ c.w ^ k1, m0.y);
  }
  // 1 − u₁ = ((~w₀ >> 5)·2²⁶ + (~w₁ >> 6))·2⁻⁵³ exactly in integers; near u₁ = 1 the radius keeps its accuracy.
  let d = f32(~c.x >> 5u) * 7.450580596923828e-9 + f32(~c.y >> 6u) * 1.1102230246251565e-16;
  var rad: f32;
  if (d <= 0.5) { rad = sqrt(-2.0 * log1p_(-d)); }
  else {
    let u1 = f32(c.x >> 5u) * 7.450580596923828e-9 + f32((c.y >> 6u) + 1u) * 1.1102230246251565e-16;
    rad = sqrt(-2.0 * log_(u1, p.ninf));
  }
  let sc = sinCos2Pi((c.z & 0xffffffe0u) | (c.w >> 27u));
  let base = block * 2u;
  y[base] = rad * sc.y;
  if (base + 1u < p.n) { y[base + 1u] = rad * sc.x; }
}`;

const ROW_WHERE_WGSL = /* wgsl */ `
struct P { n: u32, d: u32, stride: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> c: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  y[i] = select(b[i], a[i], c[i / p.d] != 0.0);
}`;

const MALA_ACCEPT_WGSL = /* wgsl */ `
struct P { n: u32, d: u32, stride: u32, hasBox: u32, eta: f32, temp: f32, lo: f32, hi: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> gx: array<f32>;
@group(0) @binding(3) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read> ex: array<f32>;
@group(0) @binding(5) var<storage, read> ey: array<f32>;
@group(0) @binding(6) var<storage, read> logU: array<f32>;
@group(0) @binding(7) var<storage, read_write> acc: array<f32>;
@group(0) @binding(8) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  let c = p.eta / p.temp;
  var fwd = 0.0;
  var rev = 0.0;
  var inside = true;
  for (var j = 0u; j < p.d; j++) {
    let k = i * p.d + j;
    let r = y[k] - (x[k] - c * gx[k]);
    let rr = x[k] - (y[k] - c * gy[k]);
    fwd = fwd + r * r;
    rev = rev + rr * rr;
    if (p.hasBox == 1u && (y[k] < p.lo || y[k] > p.hi)) { inside = false; }
  }
  let logA = -(ey[i] - ex[i]) / p.temp - (rev - fwd) / (4.0 * p.eta);
  // u < min(1, exp(log α)) ⟺ log u < log α (u > 0). WGSL may assume no NaN/∞, so a non-finite log α is not relied
  // on here: the caller's finiteness check of the chain catches it.
  acc[i] = select(0.0, 1.0, inside && logU[i] < logA);
}`;

const CATEGORICAL_WGSL = /* wgsl */ `
struct P { groups: u32, k: u32, stride: u32, masked: u32, ninf: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.groups) { return; }
  let base = i * p.k;
  for (var k = 0u; k < p.k; k++) { y[base + k] = 0.0; }
  if (p.masked == 1u && mask[i] == 0.0) { return; }
  var m = p.ninf;
  for (var k = 0u; k < p.k; k++) { m = max(m, z[base + k]); }
  var s = 0.0;
  for (var k = 0u; k < p.k; k++) { s = s + exp(z[base + k] - m); }
  let goal = u[i] * s;
  var acc = 0.0;
  var pick = p.k - 1u;
  for (var k = 0u; k < p.k; k++) {
    acc = acc + exp(z[base + k] - m);
    if (goal < acc) { pick = k; break; }
  }
  y[base + pick] = 1.0;
}`;
