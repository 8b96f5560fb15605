/**
 * WGSL image kernels a U-Net decoder needs beside the convolutions of ./convKernels.ts, each one dispatch, computing
 * what the CPU backends' ops compute (NCHW, float32): nearest-neighbour upsampling joined with a skip connection along
 * the channels (`upsampleConcat2d` of src/tensor/ops/image.ts) and its gradient, and a per-channel bias added to a
 * feature map (shared `[O]` or per image `[N, O]`, as `conv2d`'s bias) with its gradient, the plane sums.
 * Used by the U-Net lowering of ./unetNet.ts.
 * @module
 */
import { GpuTensor, type GpuKernels } from './kernels.js';
import { launchGpuKernel } from './convKernels.js';
import { storageBuffer } from './customKernel.js';
import { InvalidArgumentError } from '../errors.js';

const WG = 64;

const STRUCT = /* wgsl */ `
struct P { n: u32, c1: u32, c2: u32, h: u32, w: u32, sh: u32, sw: u32, oh: u32,
           ow: u32, mode: u32, p0: u32, p1: u32, p2: u32, p3: u32, stride: u32, total: u32 }`;

// y[n, c, i, j] = x[n, c, ⌊i/sh⌋, ⌊j/sw⌋] for c < C₁, skip[n, c − C₁, i, j] after.
const UPCAT_WGSL = /* wgsl */ `${STRUCT}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> skip: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.total) { return; }
  let C = p.c1 + p.c2;
  let ox = i % p.ow;
  var t = i / p.ow;
  let oy = t % p.oh;
  t = t / p.oh;
  let c = t % C;
  let n = t / C;
  if (c < p.c1) { y[i] = x[((n * p.c1 + c) * p.h + oy / p.sh) * p.w + ox / p.sw]; }
  else { y[i] = skip[((n * p.c2 + c - p.c1) * p.oh + oy) * p.ow + ox]; }
}`;

// Invocations 0 … N·C₁·H·W − 1: gx[n, c, h, w] = Σ_{a<sh, b<sw} g[n, c, h·sh + a, w·sw + b]; the next N·C₂·OH·OW:
// gskip[n, c, i, j] = g[n, C₁ + c, i, j].
const UPCAT_GRAD_WGSL = /* wgsl */ `${STRUCT}
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> gx: array<f32>;
@group(0) @binding(2) var<storage, read_write> gs: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.total) { return; }
  let C = p.c1 + p.c2;
  let plane = p.oh * p.ow;
  let nx = p.n * p.c1 * p.h * p.w;
  if (i < nx) {
    let xx = i % p.w;
    var t = i / p.w;
    let yy = t % p.h;
    t = t / p.h;
    let c = t % p.c1;
    let n = t / p.c1;
    let base = (n * C + c) * plane;
    var acc = 0.0;
    for (var a = 0u; a < p.sh; a++) {
      for (var b = 0u; b < p.sw; b++) { acc = acc + g[base + (yy * p.sh + a) * p.ow + xx * p.sw + b]; }
    }
    gx[i] = acc;
  } else {
    let j = i - nx;
    let s = j % plane;
    let t = j / plane;
    let c = t % p.c2;
    let n = t / p.c2;
    gs[j] = g[(n * C + p.c1 + c) * plane + s];
  }
}`;

// y[n, o, i, j] = x[n, o, i, j] + b[o] (mode 1) or b[n, o] (mode 2); c1 = O, h = H·W.
const CHANNEL_BIAS_WGSL = /* wgsl */ `${STRUCT}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.total) { return; }
  let t = i / p.h;
  let o = t % p.c1;
  if (p.mode == 1u) { y[i] = x[i] + b[o]; } else { y[i] = x[i] + b[t]; }
}`;

// One workgroup per output: mode 1, db[o] = Σ_{n,s} g[n, o, s] (O outputs); mode 2, db[n, o] = Σ_s g[n, o, s]
// (N·O outputs); c1 = O, h = H·W.
const CHANNEL_SUMS_WGSL = /* wgsl */ `${STRUCT}
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> red: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let k = wid.y * p.stride + wid.x;
  let t = lid.x;
  var acc = 0.0;
  if (k < p.total) {
    if (p.mode == 1u) {
      for (var r = t; r < p.n * p.h; r += ${WG}u) { acc = acc + g[((r / p.h) * p.c1 + k) * p.h + r % p.h]; }
    } else {
      for (var s = t; s < p.h; s += ${WG}u) { acc = acc + g[k * p.h + s]; }
    }
  }
  red[t] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { red[t] = red[t] + red[t + s]; }
    workgroupBarrier();
  }
  if (t == 0u && k < p.total) { db[k] = red[0]; }
}`;

function scalePair(scale: number | readonly [number, number]): [number, number] {
  const s = typeof scale === 'number' ? [scale, scale] : Array.isArray(scale) && scale.length === 2 ? [scale[0], scale[1]] : null;
  if (!s || !s.every((v) => Number.isInteger(v) && v >= 1)) throw new InvalidArgumentError(`gpu.upsampleConcat2d: scale must be a positive integer or a pair of them, got ${JSON.stringify(scale)}`);
  return s as [number, number];
}

function check4d(name: string, t: GpuTensor): [number, number, number, number] {
  if (t.shape.length !== 4) throw new InvalidArgumentError(`gpu.${name}: expected [N, C, H, W], got [${t.shape.join(', ')}]`);
  return t.shape as unknown as [number, number, number, number];
}

/**
 * `upsampleConcat2d(x, skip, scale)` on the device: `concat([upsampleNearest2d(x, scale), skip], 1)` in one pass,
 * `y[n, c, i, j] = x[n, c, ⌊i/sh⌋, ⌊j/sw⌋]` for `c < C₁`, `skip[n, c − C₁, i, j]` after.
 * Shapes: `x [N, C₁, H, W]`, `skip [N, C₂, H·sh, W·sw]` → `[N, C₁ + C₂, H·sh, W·sw]`. One dispatch.
 * @example const u = upsampleConcat2dGpu(gpu, h3, h2, 2); // [N, 32, 7, 7] and [N, 32, 14, 14] → [N, 64, 14, 14]
 */
export function upsampleConcat2dGpu(gpu: GpuKernels, x: GpuTensor, skip: GpuTensor, scale: number | readonly [number, number]): GpuTensor {
  const [N, C1, H, W] = check4d('upsampleConcat2d', x);
  const [N2, C2, OH, OW] = check4d('upsampleConcat2d', skip);
  const [sh, sw] = scalePair(scale);
  if (N2 !== N || OH !== H * sh || OW !== W * sw) throw new InvalidArgumentError(`gpu.upsampleConcat2d: skip [${skip.shape.join(', ')}] must be [${N}, C, ${H * sh}, ${W * sw}] for x [${x.shape.join(', ')}] upsampled by ${sh}×${sw}`);
  const total = N * (C1 + C2) * OH * OW;
  const y = storageBuffer(gpu, total);
  if (total > 0) launchGpuKernel(gpu, 'upsampleConcat', UPCAT_WGSL, [x.buffer, skip.buffer, y], [N, C1, C2, H, W, sh, sw, OH, OW, 0, 0, 0, 0, 0], total, false);
  return new GpuTensor(gpu, [N, C1 + C2, OH, OW], y);
}

/**
 * The gradient of {@link upsampleConcat2dGpu} from `g [N, C₁ + C₂, H·sh, W·sw]`: `gx [N, C₁, H, W]`, the `sh×sw` block
 * sums of the first `C₁` channels, and `gskip [N, C₂, H·sh, W·sw]`, the remaining channels. One dispatch for both.
 * @example const { gx, gskip } = upsampleConcat2dGradGpu(gpu, g, 32, 2);
 */
export function upsampleConcat2dGradGpu(gpu: GpuKernels, g: GpuTensor, xChannels: number, scale: number | readonly [number, number]): { gx: GpuTensor; gskip: GpuTensor } {
  const [N, C, OH, OW] = check4d('upsampleConcat2dGrad', g);
  const [sh, sw] = scalePair(scale);
  const C1 = xChannels, C2 = C - C1;
  if (!Number.isInteger(C1) || C1 < 0 || C2 < 0 || OH % sh !== 0 || OW % sw !== 0) {
    throw new InvalidArgumentError(`gpu.upsampleConcat2dGrad: g [${g.shape.join(', ')}] does not split into ${xChannels} upsampled channels (scale ${sh}×${sw}) and a skip`);
  }
  const H = OH / sh, W = OW / sw;
  const nx = N * C1 * H * W, ns = N * C2 * OH * OW;
  const gx = storageBuffer(gpu, nx), gs = storageBuffer(gpu, ns);
  if (nx + ns > 0) launchGpuKernel(gpu, 'upsampleConcatGrad', UPCAT_GRAD_WGSL, [g.buffer, gx, gs], [N, C1, C2, H, W, sh, sw, OH, OW, 0, 0, 0, 0, 0], nx + ns, false);
  return { gx: new GpuTensor(gpu, [N, C1, H, W], gx), gskip: new GpuTensor(gpu, [N, C2, OH, OW], gs) };
}

function biasMode(name: string, x: GpuTensor, b: GpuTensor): number {
  const [N, O] = x.shape;
  if (b.shape.length === 1 && b.size === O) return 1;
  if (b.shape.length === 2 && b.shape[0] === N && b.shape[1] === O) return 2;
  throw new InvalidArgumentError(`gpu.${name}: bias [${b.shape.join(', ')}] must be [${O}] or [${N}, ${O}]`);
}

/**
 * A per-channel bias added to a feature map: `y[n, o, i, j] = x[n, o, i, j] + b[o]` for `b [O]`, or `+ b[n, o]` for
 * `b [N, O]` (one row per image, e.g. a time embedding). `x [N, O, H, W]` → same shape. One dispatch.
 * @example const y = channelBiasGpu(gpu, h, temb); // temb [N, O]
 */
export function channelBiasGpu(gpu: GpuKernels, x: GpuTensor, b: GpuTensor): GpuTensor {
  const [N, O, H, W] = check4d('channelBias', x);
  const mode = biasMode('channelBias', x, b);
  const y = storageBuffer(gpu, x.size);
  if (x.size > 0) launchGpuKernel(gpu, 'channelBias', CHANNEL_BIAS_WGSL, [x.buffer, b.buffer, y], [N, O, 0, H * W, 0, 0, 0, 0, 0, mode, 0, 0, 0, 0], x.size, false);
  return new GpuTensor(gpu, [N, O, H, W], y);
}

/**
 * The bias gradient of {@link channelBiasGpu} (and of a convolution's bias) from `g [N, O, H, W]`: the plane sums
 * `Σ_{n,i,j} g[n, o, i, j]` `[O]`, or per image `Σ_{i,j} g[n, o, i, j]` `[N, O]` with `perImage`. One dispatch (a
 * workgroup per output).
 * @example const gTemb = channelSumsGpu(gpu, g, true); // [N, O]
 */
export function channelSumsGpu(gpu: GpuKernels, g: GpuTensor, perImage = false): GpuTensor {
  const [N, O, H, W] = check4d('channelSums', g);
  const outs = perImage ? N * O : O;
  const db = storageBuffer(gpu, outs);
  if (outs > 0) launchGpuKernel(gpu, 'channelSums', CHANNEL_SUMS_WGSL, [g.buffer, db], [N, O, 0, H * W, 0, 0, 0, 0, 0, perImage ? 2 : 1, 0, 0, 0, 0], outs, true);
  return new GpuTensor(gpu, perImage ? [N, O] : [O], db);
}
