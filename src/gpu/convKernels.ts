/**
 * WGSL 2-D convolution kernels (NCHW) on the device-resident tensors of ./kernels.ts: the forward cross-correlation
 * with its bias, its input gradient and its filter (and bias) gradient, each one dispatch per call, computing what the
 * CPU backends' `conv2d` op of src/tensor/ops/conv.ts computes (any strides and paddings, a shared `[O]` or per-image
 * `[N, O]` bias), in float32.
 *
 * Kernels: the forward and the input gradient are direct (one invocation per output element, summing its window:
 * implicit GEMM, no materialised im2col); the filter gradient gives one workgroup of 64 invocations to each filter
 * entry (and each bias entry), which sum their share of the `N·OH·OW` products and reduce in workgroup memory, so small
 * filters still spread over the device.
 * @module
 */
import { GpuTensor, type GpuKernels } from './kernels.js';
import type { GpuBufferLike } from './webgpuTypes.js';
import { dispatchKernel, storageBuffer } from './customKernel.js';
import { InvalidArgumentError } from '../errors.js';

const WG = 64; // invocations per workgroup (the direct kernels, and the filter gradient's reduction)
const MAX_GROUPS = 65535; // WebGPU's default maxComputeWorkgroupsPerDimension

/**
 * Geometry of a convolution on the device: input `[n, c, h, w]`, filter `[o, c, kh, kw]`, strides `sh, sw ≥ 1`,
 * zero paddings `ph, pw ≥ 0`, output `[n, o, oh, ow]`, `oh = ⌊(h + 2ph − kh)/sh⌋ + 1` (the CPU's `Conv2dGeom`).
 */
export interface GpuConvGeom {
  readonly n: number; readonly c: number; readonly h: number; readonly w: number;
  readonly o: number; readonly kh: number; readonly kw: number;
  readonly sh: number; readonly sw: number; readonly ph: number; readonly pw: number;
  readonly oh: number; readonly ow: number;
}

/** Strides and paddings of a GPU convolution: one integer for both axes or a pair `[rows, cols]` (defaults 1 and 0). */
export interface GpuConvOptions {
  readonly stride?: number | readonly [number, number];
  readonly padding?: number | readonly [number, number];
}

// Uniform words shared by the three kernels (16 × u32).
const GEOM_STRUCT = /* wgsl */ `
struct G { n: u32, c: u32, h: u32, w: u32, o: u32, kh: u32, kw: u32, sh: u32,
           sw: u32, ph: u32, pw: u32, oh: u32, ow: u32, mode: u32, stride: u32, total: u32 }`;

// out[n, o, y, x] = bias + Σ_{c,i,j} w[o, c, i, j] · x[n, c, y·sh + i − ph, x·sw + j − pw] (zero outside the image).
// mode: 0 no bias, 1 bias [O], 2 bias [N, O].
const CONV_FWD_WGSL = /* wgsl */ `${GEOM_STRUCT}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: G;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.total) { return; }
  let ox = i % p.ow;
  var t = i / p.ow;
  let oy = t % p.oh;
  t = t / p.oh;
  let o = t % p.o;
  let n = t / p.o;
  var acc = 0.0;
  for (var c = 0u; c < p.c; c++) {
    let xb = (n * p.c + c) * p.h;
    let fb = (o * p.c + c) * p.kh;
    for (var ki = 0u; ki < p.kh; ki++) {
      let iy = i32(oy * p.sh + ki) - i32(p.ph);
      if (iy < 0 || iy >= i32(p.h)) { continue; }
      for (var kj = 0u; kj < p.kw; kj++) {
        let ix = i32(ox * p.sw + kj) - i32(p.pw);
        if (ix < 0 || ix >= i32(p.w)) { continue; }
        acc = acc + f[(fb + ki) * p.kw + kj] * x[(xb + u32(iy)) * p.w + u32(ix)];
      }
    }
  }
  if (p.mode == 1u) { acc = acc + b[o]; }
  if (p.mode == 2u) { acc = acc + b[n * p.o + o]; }
  y[i] = acc;
}`;

// dx[n, c, h, w] = Σ_{o,i,j} g[n, o, y, x] · w[o, c, i, j] over the (y, x) with y·sh + i − ph = h, x·sw + j − pw = w.
const CONV_DX_WGSL = /* wgsl */ `${GEOM_STRUCT}
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: G;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.total) { return; }
  let xx = i % p.w;
  var t = i / p.w;
  let yy = t % p.h;
  t = t / p.h;
  let c = t % p.c;
  let n = t / p.c;
  var acc = 0.0;
  for (var o = 0u; o < p.o; o++) {
    let gb = (n * p.o + o) * p.oh;
    let fb = (o * p.c + c) * p.kh;
    for (var ki = 0u; ki < p.kh; ki++) {
      let ty = i32(yy + p.ph) - i32(ki);
      if (ty < 0 || u32(ty) % p.sh != 0u) { continue; }
      let oy = u32(ty) / p.sh;
      if (oy >= p.oh) { continue; }
      for (var kj = 0u; kj < p.kw; kj++) {
        let tx = i32(xx + p.pw) - i32(kj);
        if (tx < 0 || u32(tx) % p.sw != 0u) { continue; }
        let ox = u32(tx) / p.sw;
        if (ox >= p.ow) { continue; }
        acc = acc + g[(gb + oy) * p.ow + ox] * f[(fb + ki) * p.kw + kj];
      }
    }
  }
  dx[i] = acc;
}`;

// One workgroup per output: outputs 0 … O·C·kh·kw − 1 are filter entries dw[o, c, i, j] = Σ_{n,y,x} g[n, o, y, x] ·
// x[n, c, y·sh + i − ph, x·sw + j − pw]; with mode 1, the next O are the bias entries db[o] = Σ_{n,y,x} g[n, o, y, x].
// p.total is the number of outputs; p.stride the workgroups per grid row.
const CONV_DW_WGSL = /* wgsl */ `${GEOM_STRUCT}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<storage, read_write> db: array<f32>;
@group(0) @binding(4) var<uniform> p: G;
var<workgroup> red: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let k = wid.y * p.stride + wid.x;
  let t = lid.x;
  let nw = p.o * p.c * p.kh * p.kw;
  let plane = p.oh * p.ow;
  let rows = p.n * plane;
  var acc = 0.0;
  if (k < nw) {
    let kj = k % p.kw;
    var q = k / p.kw;
    let ki = q % p.kh;
    q = q / p.kh;
    let c = q % p.c;
    let o = q / p.c;
    for (var r = t; r < rows; r += ${WG}u) {
      let n = r / plane;
      let s = r % plane;
      let oy = s / p.ow;
      let ox = s % p.ow;
      let iy = i32(oy * p.sh + ki) - i32(p.ph);
      let ix = i32(ox * p.sw + kj) - i32(p.pw);
      if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
        acc = acc + g[(n * p.o + o) * plane + s] * x[((n * p.c + c) * p.h + u32(iy)) * p.w + u32(ix)];
      }
    }
  } else if (k < p.total) {
    let o = k - nw;
    for (var r = t; r < rows; r += ${WG}u) {
      let n = r / plane;
      acc = acc + g[(n * p.o + o) * plane + r % plane];
    }
  }
  red[t] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { red[t] = red[t] + red[t + s]; }
    workgroupBarrier();
  }
  if (t == 0u) {
    if (k < nw) { dw[k] = red[0]; } else if (k < p.total) { db[k - nw] = red[0]; }
  }
}`;

/** Grid of `groups` workgroups: `[gx, gy]` with `gx ≤ 65535`. */
function grid(groups: number): [number, number] {
  const g = Math.max(1, groups);
  const gx = Math.min(g, MAX_GROUPS);
  return [gx, Math.ceil(g / gx)];
}

/**
 * Queues one dispatch of the kernel `name` (compiled from `code` once per device) over `buffers` and a uniform block
 * of 16 words — the 14 given, then the grid stride and `total` — counted in `gpu.stats`: one invocation per output
 * (`perGroup` false, workgroups of 64) or one workgroup per output (`perGroup` true) over `total` outputs.
 * @internal Shared by the kernel modules of src/gpu beside {@link GpuKernels}.
 */
export function launchGpuKernel(gpu: GpuKernels, name: string, code: string, buffers: GpuBufferLike[], first14: readonly number[], total: number, perGroup: boolean): void {
  if (first14.length !== 14) throw new InvalidArgumentError(`launchGpuKernel: 14 uniform words expected, got ${first14.length}`);
  const [gx, gy] = grid(perGroup ? total : Math.ceil(total / WG));
  const stride = perGroup ? gx : gx * WG;
  dispatchKernel(gpu, name, code, buffers, new Uint32Array([...first14, stride, total]), gx, gy);
}

function launch(gpu: GpuKernels, name: string, code: string, buffers: GpuBufferLike[], geom: GpuConvGeom, mode: number, total: number, perGroup: boolean): void {
  launchGpuKernel(gpu, name, code, buffers, [geom.n, geom.c, geom.h, geom.w, geom.o, geom.kh, geom.kw, geom.sh, geom.sw, geom.ph, geom.pw, geom.oh, geom.ow, mode], total, perGroup);
}

function pair(name: string, v: number | readonly [number, number] | undefined, dflt: number, min: number): [number, number] {
  const p = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : null;
  if (!p || !p.every((e) => Number.isInteger(e) && e >= min)) throw new InvalidArgumentError(`gpu.conv2d: ${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  return p as [number, number];
}

/**
 * The geometry of `conv2d(x [N, C, H, W], w [O, C, kh, kw], opts)`, validated as the CPU op validates it.
 * @throws InvalidArgumentError for mismatched channels, bad strides/paddings or a window larger than the padded input.
 * @example gpuConvGeom([8, 1, 28, 28], [16, 1, 3, 3], { stride: 2, padding: 1 }) // oh = ow = 14
 */
export function gpuConvGeom(xShape: readonly number[], wShape: readonly number[], opts: GpuConvOptions = {}): GpuConvGeom {
  if (wShape.length !== 4) throw new InvalidArgumentError(`gpu.conv2d: filter must be [O, C, kh, kw], got [${wShape.join(', ')}]`);
  if (xShape.length !== 4 || xShape[1] !== wShape[1]) throw new InvalidArgumentError(`gpu.conv2d: input [${xShape.join(', ')}] does not match filter [${wShape.join(', ')}] (channels)`);
  const [sh, sw] = pair('stride', opts.stride, 1, 1);
  const [ph, pw] = pair('padding', opts.padding, 0, 0);
  const [o, c, kh, kw] = wShape;
  const [n, , h, w] = xShape;
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1, ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (kh < 1 || kw < 1 || oh <= 0 || ow <= 0) throw new InvalidArgumentError(`gpu.conv2d: kernel ${kh}×${kw} larger than padded input ${h}×${w}`);
  return { n, c, h, w, o, kh, kw, sh, sw, ph, pw, oh, ow };
}

/**
 * `conv2d(x, w, b, opts)` on the device, the CPU op's cross-correlation:
 * `y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v] · x[n, c, i·sh + u − ph, j·sw + v − pw]` (zero outside the image).
 * Shapes: `x [N, C, H, W]`, `w [O, C, kh, kw]`, `b [O]` or `[N, O]` (one bias row per image) or none →
 * `[N, O, OH, OW]`. One dispatch.
 * @example const y = conv2dGpu(gpu, x, w, b, { stride: 2, padding: 1 }); // [N, O, ⌈H/2⌉, ⌈W/2⌉] for 3×3 filters
 */
export function conv2dGpu(gpu: GpuKernels, x: GpuTensor, w: GpuTensor, b: GpuTensor | null = null, opts: GpuConvOptions = {}): GpuTensor {
  const g = gpuConvGeom(x.shape, w.shape, opts);
  let mode = 0;
  if (b) {
    if (b.size === g.o && (b.shape.length === 1 || g.n === 1)) mode = 1;
    else if (b.shape.length === 2 && b.shape[0] === g.n && b.shape[1] === g.o) mode = 2;
    else throw new InvalidArgumentError(`gpu.conv2d: bias [${b.shape.join(', ')}] must be [${g.o}] or [${g.n}, ${g.o}]`);
  }
  const total = g.n * g.o * g.oh * g.ow;
  const y = storageBuffer(gpu, total);
  if (total > 0) launch(gpu, 'convFwd', CONV_FWD_WGSL, [x.buffer, w.buffer, (b ?? w).buffer, y], g, mode, total, false);
  return new GpuTensor(gpu, [g.n, g.o, g.oh, g.ow], y);
}

/**
 * The input gradient of {@link conv2dGpu}: the adjoint of `x ↦ conv2d(x, w)` applied to `gy [N, O, OH, OW]`,
 * `dx[n, c, h, w] = Σ_{o,u,v} gy[n, o, (h + ph − u)/sh, (w + pw − v)/sw] · w[o, c, u, v]` over the integer positions
 * inside the output; `xShape` is `[N, C, H, W]` (needed: with stride > 1 several input sizes give one output size).
 * One dispatch.
 * @example const dx = conv2dInputGradGpu(gpu, gy, w, x.shape, { stride: 2, padding: 1 });
 */
export function conv2dInputGradGpu(gpu: GpuKernels, gy: GpuTensor, w: GpuTensor, xShape: readonly number[], opts: GpuConvOptions = {}): GpuTensor {
  const g = gpuConvGeom(xShape, w.shape, opts);
  if (gy.shape.length !== 4 || gy.shape[0] !== g.n || gy.shape[1] !== g.o || gy.shape[2] !== g.oh || gy.shape[3] !== g.ow) {
    throw new InvalidArgumentError(`gpu.conv2dInputGrad: gy [${gy.shape.join(', ')}] is not the output shape [${g.n}, ${g.o}, ${g.oh}, ${g.ow}]`);
  }
  const total = g.n * g.c * g.h * g.w;
  const dx = storageBuffer(gpu, total);
  if (total > 0) launch(gpu, 'convDx', CONV_DX_WGSL, [gy.buffer, w.buffer, dx], g, 0, total, false);
  return new GpuTensor(gpu, [g.n, g.c, g.h, g.w], dx);
}

/**
 * The filter gradient of {@link conv2dGpu}, `dw[o, c, u, v] = Σ_{n,i,j} gy[n, o, i, j] · x[n, c, i·sh + u − ph,
 * j·sw + v − pw]` (`[O, C, kh, kw]`), and with `bias` the shared bias's gradient `db[o] = Σ_{n,i,j} gy[n, o, i, j]`
 * (`[O]`), both in one dispatch. `wShape` is the filter's `[O, C, kh, kw]`.
 * @example const { dw, db } = conv2dFilterGradGpu(gpu, x, gy, w.shape, { stride: 2, padding: 1 }, true);
 */
export function conv2dFilterGradGpu(gpu: GpuKernels, x: GpuTensor, gy: GpuTensor, wShape: readonly number[], opts: GpuConvOptions = {}, bias = false): { dw: GpuTensor; db: GpuTensor | null } {
  const g = gpuConvGeom(x.shape, wShape, opts);
  if (gy.shape.length !== 4 || gy.shape[0] !== g.n || gy.shape[1] !== g.o || gy.shape[2] !== g.oh || gy.shape[3] !== g.ow) {
    throw new InvalidArgumentError(`gpu.conv2dFilterGrad: gy [${gy.shape.join(', ')}] is not the output shape [${g.n}, ${g.o}, ${g.oh}, ${g.ow}]`);
  }
  const nw = g.o * g.c * g.kh * g.kw;
  const total = nw + (bias ? g.o : 0);
  const dw = storageBuffer(gpu, nw), db = storageBuffer(gpu, bias ? g.o : 1);
  launch(gpu, 'convDw', CONV_DW_WGSL, [x.buffer, gy.buffer, dw, db], g, bias ? 1 : 0, total, true);
  const dbT = new GpuTensor(gpu, [g.o], db);
  if (!bias) dbT.dispose();
  return { dw: new GpuTensor(gpu, [g.o, g.c, g.kh, g.kw], dw), db: bias ? dbT : null };
}

/**
 * A view of a device tensor with another shape of the same size, sharing its buffer (NCHW feature maps read as flat
 * rows `[N, C·H·W]` and back). Disposing either disposes both.
 * @example const flat = reshapeGpu(gpu, h, [n, h.size / n]);
 */
export function reshapeGpu(gpu: GpuKernels, x: GpuTensor, shape: readonly number[]): GpuTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== x.size) throw new InvalidArgumentError(`gpu.reshape: [${x.shape.join(', ')}] has ${x.size} values, not the ${size} of [${shape.join(', ')}]`);
  return new GpuTensor(gpu, [...shape], x.buffer);
}
