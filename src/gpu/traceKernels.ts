/**
 * The WGSL kernels that the traced `compile` (src/gpu/compile.ts) adds to those of src/gpu/kernels.ts: elementwise
 * ops with the general numpy broadcast (any rank up to {@link MAX_RANK}, strides in the uniforms), a sum over any set
 * of axes (the reduction of `sum` and of `sumToShape`, the adjoint of a broadcast), and a tiled matmul with transpose
 * flags and an optional row bias (`linear`). Each writes into a buffer the caller allocated once.
 * @module
 */
import { PREAMBLE, matmulWgsl } from './kernels.js';

/** Most axes a traced elementwise op or reduction may have. */
export const MAX_RANK = 8;

/** Threads per workgroup of the 1-D kernels here. */
export const TRACE_WG = 64;

/** Matmul tile edge. */
export const TRACE_TILE = 16;

/**
 * Codes of the broadcast elementwise kernel: binary ops on `a` and `b`, 0/1 comparisons, and unary ops of `a` with up
 * to two scalar operands `s0`, `s1` (affine `s0·a + s1`, power `a^s0`, clamp to `[s0, s1]`).
 */
export const ELEM_OPS = [
  'add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'greater', 'greaterEqual', 'less', 'lessEqual', 'equal',
  'copy', 'affine', 'powScalar', 'clamp', 'sign', 'reciprocal', 'log1p',
] as const;
/** Name of an op of the broadcast elementwise kernel. */
export type ElemOp = (typeof ELEM_OPS)[number];

// Uniform layout (u32 words): n, op, rank, stride, s0 (f32), s1 (f32), ninf (f32), pad, then MAX_RANK words each of
// the output shape and of a's and b's element strides (0 on broadcast axes).
const SHAPE_VECS = MAX_RANK / 4;

/** @internal uniform words of the elementwise kernel before the shape and strides. */
export const ELEM_HEADER = 8;

/** @internal the broadcast elementwise kernel ({@link ELEM_OPS}; bindings a, b, y, uniforms). */
export const ELEM_WGSL = /* wgsl */ `${PREAMBLE}
struct P { n: u32, op: u32, rank: u32, stride: u32, s0: f32, s1: f32, ninf: f32, pad: u32,
  shape: array<vec4u, ${SHAPE_VECS}>, sa: array<vec4u, ${SHAPE_VECS}>, sb: array<vec4u, ${SHAPE_VECS}> }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
fn pow_(u: f32, v: f32) -> f32 {
  // Math.pow's cases: x⁰ = 1, negative bases with integer exponents, 0 to a positive/negative power.
  if (v == 0.0) { return 1.0; }
  if (v == 1.0) { return u; }
  if (v == 2.0) { return u * u; }
  if (u == 0.0) { if (v > 0.0) { return 0.0; } return -p.ninf; }
  let r = exp2(v * log2(abs(u)));
  if (u < 0.0) {
    if (fract(v) != 0.0) { return p.ninf * 0.0; }
    if (fract(0.5 * v) != 0.0) { return -r; }
  }
  return r;
}
@compute @workgroup_size(${TRACE_WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let q = u32(d);
    let s = p.shape[q >> 2u][q & 3u];
    let c = rem % s;
    rem = rem / s;
    ia = ia + c * p.sa[q >> 2u][q & 3u];
    ib = ib + c * p.sb[q >> 2u][q & 3u];
  }
  let u = a[ia];
  let v = b[ib];
  var r: f32;
  switch p.op {
    case 0u: { r = u + v; }
    case 1u: { r = u - v; }
    case 2u: { r = u * v; }
    case 3u: { r = u / v; }
    case 4u: { r = select(v, u, u >= v); }
    case 5u: { r = select(v, u, u <= v); }
    case 6u: { r = pow_(u, v); }
    case 7u: { r = select(0.0, 1.0, u > v); }
    case 8u: { r = select(0.0, 1.0, u >= v); }
    case 9u: { r = select(0.0, 1.0, u < v); }
    case 10u: { r = select(0.0, 1.0, u <= v); }
    case 11u: { r = select(0.0, 1.0, u == v); }
    case 12u: { r = u; }
    case 13u: { r = p.s0 * u + p.s1; }
    case 14u: { r = pow_(u, p.s0); }
    case 15u: { r = select(select(u, p.s1, u > p.s1), p.s0, u < p.s0); }
    case 16u: { r = select(select(0.0, -1.0, u < 0.0), 1.0, u > 0.0); }
    case 17u: { r = 1.0 / u; }
    default: { r = log1p_(u); }
  }
  y[i] = r;
}`;

// Uniform layout (u32 words): nOut, rank, nRed, stride, then MAX_RANK words each of the kept shape (1 on reduced
// axes), the reduced shape (1 on kept axes) and x's element strides.
/** @internal uniform words of the reduction kernel before the shapes. */
export const SUM_HEADER = 4;

/** @internal the sum over a set of axes (bindings x, y, uniforms; one thread per output element). */
export const SUM_AXES_WGSL = /* wgsl */ `
struct P { nOut: u32, rank: u32, nRed: u32, stride: u32,
  kept: array<vec4u, ${SHAPE_VECS}>, red: array<vec4u, ${SHAPE_VECS}>, xs: array<vec4u, ${SHAPE_VECS}> }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(${TRACE_WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let o = g.y * p.stride + g.x;
  if (o >= p.nOut) { return; }
  var rem = o;
  var base = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let q = u32(d);
    let s = p.kept[q >> 2u][q & 3u];
    base = base + (rem % s) * p.xs[q >> 2u][q & 3u];
    rem = rem / s;
  }
  // Compensated (Kahan) sum: the CPU sums in float64, so a plain float32 sum of many terms would drift from it.
  var acc = 0.0;
  var comp = 0.0;
  for (var j = 0u; j < p.nRed; j++) {
    var r = j;
    var off = base;
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
      let q = u32(d);
      let s = p.red[q >> 2u][q & 3u];
      off = off + (r % s) * p.xs[q >> 2u][q & 3u];
      r = r / s;
    }
    let t = x[off] - comp;
    let nxt = acc + t;
    comp = (nxt - acc) - t;
    acc = nxt;
  }
  y[o] = acc;
}`;

/**
 * @internal the tiled matmul `C = op(A)·op(B) (+ bias per row)` (bindings A, B, bias, C, uniforms: m, n, k, transA,
 * transB, lda, ldb, bias = 1 when `bias` is added to each row).
 */
export const MATMUL_BIAS_WGSL = matmulWgsl(TRACE_TILE, true);

// ---------------------------------------------------------------------------------------------------------------
// Fused elementwise kernels: a tree of pointwise ops whose intermediates have one consumer each becomes one kernel,
// generated for its shapes (baked in as constants) and its expression.

/** Most inputs of one fused kernel (WebGPU's default limit is 8 storage buffers per stage, one is the output). */
export const FUSED_MAX_INPUTS = 7;

/** The pointwise unary ops of the fused kernels, each as a WGSL expression of `a`: the formulas of the unary kernel of kernels.ts. */
const UNARY_EXPR: Readonly<Record<string, (a: string) => string>> = {
  neg: (a) => `-${a}`,
  exp: (a) => `exp(${a})`,
  log: (a) => `log_(${a}, ninf_())`,
  sqrt: (a) => `sqrt(${a})`,
  square: (a) => `${a} * ${a}`,
  abs: (a) => `abs(${a})`,
  sigmoid: (a) => `sigmoid_(${a})`,
  logSigmoid: (a) => `-softplus_(-${a})`,
  tanh: (a) => `tanh_(${a})`,
  softplus: (a) => `softplus_(${a})`,
  relu: (a) => `max(${a}, 0.0)`,
  silu: (a) => `${a} * sigmoid_(${a})`,
  sign: (a) => `select(select(0.0, -1.0, ${a} < 0.0), 1.0, ${a} > 0.0)`,
  reciprocal: (a) => `1.0 / ${a}`,
  log1p: (a) => `log1p_(${a})`,
  broadcastTo: (a) => a,
};

/** The pointwise binary ops of the fused kernels (the formulas of {@link ELEM_WGSL}). */
const BINARY_EXPR: Readonly<Record<string, (a: string, b: string) => string>> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  max: (a, b) => `select(${b}, ${a}, ${a} >= ${b})`,
  min: (a, b) => `select(${b}, ${a}, ${a} <= ${b})`,
  pow: (a, b) => `pow_(${a}, ${b})`,
  greater: (a, b) => `select(0.0, 1.0, ${a} > ${b})`,
  greaterEqual: (a, b) => `select(0.0, 1.0, ${a} >= ${b})`,
  less: (a, b) => `select(0.0, 1.0, ${a} < ${b})`,
  lessEqual: (a, b) => `select(0.0, 1.0, ${a} <= ${b})`,
  equal: (a, b) => `select(0.0, 1.0, ${a} == ${b})`,
};

/** The pointwise ternary op of the fused kernels: `where(cond, a, b)` (a nonzero condition picks `a`). */
const TERNARY_EXPR: Readonly<Record<string, (c: string, a: string, b: string) => string>> = {
  where: (c, a, b) => `select(${b}, ${a}, ${c} != 0.0)`,
};

/** The ops with scalar attributes (`affine`, `clamp`, `pow` with a constant exponent). */
const SCALAR_EXPR: Readonly<Record<string, (a: string, s: readonly string[]) => string>> = {
  affine: (a, [s0, s1]) => `${s0} * ${a} + ${s1}`,
  clamp: (a, [lo, hi]) => `select(select(${a}, ${hi}, ${a} > ${hi}), ${lo}, ${a} < ${lo})`,
  powScalar: (a, [p]) => `pow_(${a}, ${p})`,
};

/** A node of a fused expression: an input of the kernel, a finite scalar constant, or an op of nodes. */
export type FusedNode =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'scalar'; readonly value: number }
  | { readonly kind: 'op'; readonly op: string; readonly args: readonly FusedNode[]; readonly scalars?: readonly number[] };

/** Whether {@link fusedWgsl} can express `op` with `arity` tensor inputs (`pow` with one input is the constant-exponent form). */
export function isFusable(op: string, arity: number): boolean {
  if (arity === 1) return op in UNARY_EXPR || op === 'affine' || op === 'clamp' || op === 'pow';
  if (arity === 3) return op in TERNARY_EXPR;
  return arity === 2 && op in BINARY_EXPR;
}

/** A float32 value as an exact WGSL expression (its bits; finite values only, as WGSL requires of constants). */
function f32Literal(v: number): string {
  const bits = new Uint32Array(new Float32Array([v]).buffer)[0];
  return `bitcast<f32>(${bits}u)`;
}

/**
 * The WGSL of one fused kernel: `y[i] = expr(in₀[idx₀(i)], …)` for `i < n` over `outShape`, input `k` read at the
 * broadcast strides `strides[k]` (row-major, 0 on broadcast axes). Bindings: the inputs, then `y`.
 */
export function fusedWgsl(expr: FusedNode, outShape: readonly number[], strides: readonly (readonly number[])[], gridStride: number): string {
  const n = outShape.reduce((p, d) => p * d, 1);
  const lines: string[] = [];
  const decl = strides.map((_, k) => `@group(0) @binding(${k}) var<storage, read> in${k}: array<f32>;`);
  decl.push(`@group(0) @binding(${strides.length}) var<storage, read_write> y: array<f32>;`);
  // Index of each input: i itself when it has the output's shape, else from the coordinates.
  const contiguous = (st: readonly number[]): boolean => {
    let acc = 1;
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (outShape[d] !== 1 && st[d] !== acc) return false;
      acc *= outShape[d];
    }
    return true;
  };
  const needCoords = strides.some((st) => !contiguous(st));
  if (needCoords) {
    lines.push('  var rem = i;');
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (outShape[d] === 1) continue;
      lines.push(`  let c${d} = rem % ${outShape[d]}u;`, `  rem = rem / ${outShape[d]}u;`);
    }
  }
  strides.forEach((st, k) => {
    if (contiguous(st)) { lines.push(`  let x${k} = in${k}[i];`); return; }
    const terms = st.map((s, d) => (s !== 0 && outShape[d] !== 1 ? `c${d} * ${s}u` : '')).filter((t) => t !== '');
    lines.push(`  let x${k} = in${k}[${terms.length ? terms.join(' + ') : '0u'}];`);
  });
  let tmp = 0;
  const emit = (node: FusedNode): string => {
    if (node.kind === 'input') return `x${node.index}`;
    if (node.kind === 'scalar') return f32Literal(node.value);
    const args = node.args.map(emit);
    let e: string;
    if (node.scalars) e = SCALAR_EXPR[node.op](args[0], node.scalars.map(f32Literal));
    else if (args.length === 1) e = UNARY_EXPR[node.op](args[0]);
    else if (args.length === 3) e = TERNARY_EXPR[node.op](args[0], args[1], args[2]);
    else e = BINARY_EXPR[node.op](args[0], args[1]);
    const name = `t${tmp++}`;
    lines.push(`  let ${name} = ${e};`);
    return name;
  };
  const result = emit(expr);
  return /* wgsl */ `${PREAMBLE}
var<private> ninfBits: u32 = ${0xff800000}u;
fn ninf_() -> f32 { return bitcast<f32>(ninfBits); }
fn pow_(u: f32, v: f32) -> f32 {
  if (v == 0.0) { return 1.0; }
  if (v == 1.0) { return u; }
  if (v == 2.0) { return u * u; }
  if (u == 0.0) { if (v > 0.0) { return 0.0; } return -ninf_(); }
  let r = exp2(v * log2(abs(u)));
  if (u < 0.0) {
    if (fract(v) != 0.0) { return ninf_() * 0.0; }
    if (fract(0.5 * v) != 0.0) { return -r; }
  }
  return r;
}
${decl.join('\n')}
@compute @workgroup_size(${TRACE_WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * ${gridStride}u + g.x;
  if (i >= ${n}u) { return; }
${lines.join('\n')}
  y[i] = ${result};
}`;
}

/**
 * @internal copies along one axis, the tensor viewed as `[outer, row]` (uniforms n, rowIn, rowOut, shift (i32),
 * mode, stride): mode 0 writes input row `o` at offset `shift` of output row `o` (threads over the input: `concat`);
 * mode 1 reads output element `j` of row `o` from input column `j + shift`, 0 outside the input (threads over the
 * output: `slice`, and `pad` with a negative shift).
 */
export const WINDOW_WGSL = /* wgsl */ `
struct P { n: u32, rowIn: u32, rowOut: u32, shift: i32, mode: u32, stride: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(${TRACE_WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  if (p.mode == 0u) {
    let o = i / p.rowIn;
    let j = i % p.rowIn;
    y[o * p.rowOut + u32(i32(j) + p.shift)] = x[i];
    return;
  }
  let o = i / p.rowOut;
  let src = i32(i % p.rowOut) + p.shift;
  var r = 0.0;
  if (src >= 0 && src < i32(p.rowIn)) { r = x[o * p.rowIn + u32(src)]; }
  y[i] = r;
}`;
