/**
 * Parallel tempering on the WebGPU device (docs/webgpu.md): the twin of `parallelTempering` (src/samplers/pt.ts) as
 * the CD loss runs it (`runTempered`), for any energy whose value and input gradient the caller can queue on the
 * device. Replica row `k·C + c` is chain `c` at temperature `T_k`; each step is one local move of all `K·C` rows
 * (ULA or MALA with row `k·C + c` at `(η_k, T_k)`, optionally with the per-chain gradient clip), then Metropolis swaps
 * between neighbouring temperatures on alternating even/odd pairs — all with the CPU kernels' keys:
 * `[kLocal, kSwap] = split(key_t, 2)`; ULA's noise `normal(kLocal)` (float32 stream); MALA's
 * `[kNoise, kAccept] = split(kLocal, 2)` with float64-stream normals; the swaps' uniforms
 * `uniformArray(kSwap, K·C, 'float64')`, the lower row's uniform deciding each pair.
 *
 * Why the swaps run in a kernel rather than on the host: the decision `u < min(1, exp((E_i − E_j)(1/T_k − 1/T_{k+1})))`
 * needs only the two energies of the pair, which the device already holds, so a kernel decides and moves the rows
 * in one dispatch with no read-back per PT step (a read-back per step would stall the queue on a real GPU). The
 * uniforms' logs are taken on the host in float64 and compared as `log u < log α` (WGSL's log is not accurate near
 * 1), so the rule is the CPU's up to float32 rounding of the energies: a pair whose log-acceptance lands within
 * rounding of its log-uniform can take the other branch, exactly as MALA's accept test can (see
 * models/deepEbm/gpu.ts). Reading the energies back and deciding on the host would remove only the rounding of the
 * product, not that of the energies (they are computed on the device either way), so it would not be closer to the CPU.
 * @module
 */
import { split, uniformArray, type Key } from '../random/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { InvalidArgumentError } from '../errors.js';
import { GpuTensor, type GpuKernels } from './kernels.js';
import type { GpuBufferLike } from './webgpuTypes.js';
import { runCustomKernel as run, customOutput, customStride as stride, CUSTOM_WG as WG } from './customKernel.js';

/** Most temperatures a ladder may have on the device (the per-temperature table lives in a uniform buffer). */
export const GPU_MAX_TEMPERATURES = 64;


/** The ladder's per-temperature table, one `vec4f (unused, √(2η_k), η_k, T_k)` per temperature. */
const LADDER_WGSL = /* wgsl */ `
struct P { n: u32, d: u32, c: u32, stride: u32, flags: u32, lo: f32, hi: f32, maxNorm: f32, ladder: array<vec4f, ${GPU_MAX_TEMPERATURES}> }
fn clipFactor(base: u32) -> f32 {
  // flags bit 1: the per-chain gradient clip of src/samplers/_internal/rows.ts (clipFactor).
  if ((p.flags & 2u) == 0u) { return 1.0; }
  var s = 0.0;
  for (var j = 0u; j < p.d; j++) { let v = GRAD[base + j]; s = s + v * v; }
  let nrm = sqrt(s);
  return select(1.0, p.maxNorm / nrm, nrm > p.maxNorm);
}`;

const PROPOSE_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> xi: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
${LADDER_WGSL.replace('GRAD', 'g')}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.n) { return; }
  let L = p.ladder[i / p.c];
  let base = i * p.d;
  // ulaKernel / malaKernel: y = x − (η·clip/T)·∇E + √(2η)·ξ; flags bit 2: ULA's clamp into the box.
  let drift = (L.z * clipFactor(base)) / L.w;
  for (var j = 0u; j < p.d; j++) {
    var v = x[base + j] - drift * g[base + j] + L.y * xi[base + j];
    if ((p.flags & 4u) != 0u) { v = select(select(v, p.hi, v > p.hi), p.lo, v < p.lo); }
    y[base + j] = v;
  }
}`;

const ACCEPT_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> gx: array<f32>;
@group(0) @binding(3) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read> ex: array<f32>;
@group(0) @binding(5) var<storage, read> ey: array<f32>;
@group(0) @binding(6) var<storage, read> logU: array<f32>;
@group(0) @binding(7) var<storage, read_write> acc: array<f32>;
@group(0) @binding(8) var<uniform> p: P;
${LADDER_WGSL.replace('GRAD', 'gx').replace('fn clipFactor', 'fn clipX')}
${LADDER_WGSL.replace(/struct P[^\n]*\n/, '').replace('GRAD', 'gy').replace('fn clipFactor', 'fn clipY')}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.n) { return; }
  let L = p.ladder[i / p.c];
  let eta = L.z;
  let t = L.w;
  let base = i * p.d;
  let cx = (eta * clipX(base)) / t;
  let cy = (eta * clipY(base)) / t;
  var fwd = 0.0;
  var rev = 0.0;
  var inside = true;
  for (var j = 0u; j < p.d; j++) {
    let k = base + j;
    let r = y[k] - (x[k] - cx * gx[k]);
    let rr = x[k] - (y[k] - cy * gy[k]);
    fwd = fwd + r * r;
    rev = rev + rr * rr;
    if ((p.flags & 1u) != 0u && (y[k] < p.lo || y[k] > p.hi)) { inside = false; }
  }
  // malaKernel's test: u < min(1, α) ⟺ log u < log α.
  let logA = -(ey[i] - ex[i]) / t - (rev - fwd) / (4.0 * eta);
  acc[i] = select(0.0, 1.0, inside && logU[i] < logA);
}`;

const SWAP_WGSL = /* wgsl */ `
struct S { n: u32, d: u32, c: u32, stride: u32, k: u32, parity: u32, pad0: u32, pad1: u32, db: array<vec4f, ${GPU_MAX_TEMPERATURES}> }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> e: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> logU: array<f32>;
@group(0) @binding(4) var<storage, read_write> xo: array<f32>;
@group(0) @binding(5) var<storage, read_write> eo: array<f32>;
@group(0) @binding(6) var<storage, read_write> go: array<f32>;
@group(0) @binding(7) var<uniform> p: S;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.n) { return; }
  let k = i / p.c;
  // Pairs (k, k+1) with k ≡ parity (mod 2); each pair's decision is computed identically by both of its rows, with
  // the lower row's uniform and logA = (E_lower − E_upper)(1/T_k − 1/T_{k+1}).
  var src = i;
  if (k + 1u < p.k && (k % 2u) == p.parity) {
    let j = i + p.c;
    if (logU[i] < (e[i] - e[j]) * p.db[k].x) { src = j; }
  } else if (k >= 1u && ((k - 1u) % 2u) == p.parity) {
    let lo = i - p.c;
    if (logU[lo] < (e[lo] - e[i]) * p.db[k - 1u].x) { src = lo; }
  }
  eo[i] = e[src];
  for (var j = 0u; j < p.d; j++) {
    xo[i * p.d + j] = x[src * p.d + j];
    go[i * p.d + j] = g[src * p.d + j];
  }
}`;

function storage(gpu: GpuKernels, floats: number): GpuBufferLike {
  return customOutput(gpu, [floats]).buffer;
}

/** A temperature ladder on the device: `T_k` and the local step size `η_k` of each temperature. */
export interface GpuLadder {
  readonly temperatures: readonly number[];
  readonly stepSizes: readonly number[];
  /** Replicas per temperature `C` (row `k·C + c` is at `T_k`). */
  readonly chains: number;
}

/** Safeguards of the local moves: the per-chain gradient clip and the coordinate box. */
export interface GpuLocalSafeguards {
  readonly maxGradNorm?: number;
  readonly box?: readonly [number, number] | null;
}

function checkLadder(l: GpuLadder, n: number, who: string): void {
  const K = l.temperatures.length;
  if (K < 1 || K > GPU_MAX_TEMPERATURES) throw new InvalidArgumentError(`${who}: 1 to ${GPU_MAX_TEMPERATURES} temperatures on the GPU, got ${K}`);
  if (l.stepSizes.length !== K) throw new InvalidArgumentError(`${who}: ${l.stepSizes.length} step sizes for ${K} temperatures`);
  if (!Number.isInteger(l.chains) || l.chains < 1 || l.chains * K !== n) throw new InvalidArgumentError(`${who}: ${n} rows are not ${K} temperatures × ${l.chains} chains`);
  for (let k = 0; k < K; k++) {
    if (!(l.temperatures[k] > 0) || !(l.stepSizes[k] > 0)) throw new InvalidArgumentError(`${who}: temperature and step size ${k} must be > 0, got ${l.temperatures[k]}, ${l.stepSizes[k]}`);
  }
}

/** The 8-word header and ladder table of the propose/accept kernels. */
function ladderUniform(x: GpuTensor, l: GpuLadder, s: GpuLocalSafeguards, clampBox: boolean): ArrayBuffer {
  const n = x.shape[0];
  const buf = new ArrayBuffer(32 + 16 * GPU_MAX_TEMPERATURES);
  const w = new Uint32Array(buf), f = new Float32Array(buf);
  const box = s.box ?? null;
  const clip = s.maxGradNorm !== undefined;
  w.set([n, n === 0 ? 0 : x.size / n, l.chains, stride(n), (box ? 1 : 0) | (clip ? 2 : 0) | (box && clampBox ? 4 : 0)]);
  f[5] = box ? box[0] : 0;
  f[6] = box ? box[1] : 0;
  f[7] = clip ? s.maxGradNorm! : 0;
  l.temperatures.forEach((T, k) => {
    f[8 + 4 * k + 1] = Math.sqrt(2 * l.stepSizes[k]);
    f[8 + 4 * k + 2] = l.stepSizes[k];
    f[8 + 4 * k + 3] = T;
  });
  return buf;
}

/**
 * The Langevin proposal of every replica row, `y = x − (η_k·clip(∇E)/T_k)·∇E + √(2η_k)·ξ` for row `k·C + c`
 * (`ulaKernel`/`malaKernel` with per-row step sizes and temperatures), clamped into `box` when `clampBox` (ULA; MALA
 * rejects instead). Shapes: `x`, `g`, `xi` `[K·C, D]` → `[K·C, D]`.
 * @example const y = ptProposeGpu(gpu, x, g, gpu.normal64(kNoise, x.shape), ladder, {}, false);
 */
export function ptProposeGpu(gpu: GpuKernels, x: GpuTensor, g: GpuTensor, xi: GpuTensor, ladder: GpuLadder, s: GpuLocalSafeguards, clampBox: boolean): GpuTensor {
  if (x.shape.length !== 2 || g.size !== x.size || xi.size !== x.size) throw new InvalidArgumentError('ptProposeGpu: x, g and xi must be [n, D] of one size');
  checkLadder(ladder, x.shape[0], 'ptProposeGpu');
  const y = storage(gpu, x.size);
  run(gpu, 'ptPropose', PROPOSE_WGSL, [x.buffer, g.buffer, xi.buffer, y], ladderUniform(x, ladder, s, clampBox), x.shape[0]);
  return new GpuTensor(gpu, x.shape, y);
}

/**
 * MALA's Metropolis–Hastings test for every replica row at its own `(η_k, T_k)` (with the gradient clip on both
 * drifts and the box, as `malaKernel`): flag `1[log u < log α]`, `log α = −(E(y) − E(x))/T_k − (‖x − μ(y)‖² −
 * ‖y − μ(x)‖²)/(4η_k)`, 0 outside the box. `logU` are the logs of the CPU's float64 uniforms. Shapes: `x`, `y`, `gx`,
 * `gy` `[n, D]`, `ex`, `ey`, `logU` `[n]` → flags `[n]`.
 * @example const acc = ptAcceptGpu(gpu, x, y, gx, gy, ex, ey, logU, ladder, {});
 */
export function ptAcceptGpu(gpu: GpuKernels, x: GpuTensor, y: GpuTensor, gx: GpuTensor, gy: GpuTensor, ex: GpuTensor, ey: GpuTensor, logU: GpuTensor, ladder: GpuLadder, s: GpuLocalSafeguards): GpuTensor {
  const n = x.shape[0];
  if (x.shape.length !== 2 || y.size !== x.size || gx.size !== x.size || gy.size !== x.size || ex.size !== n || ey.size !== n || logU.size !== n) throw new InvalidArgumentError('ptAcceptGpu: x, y, gx, gy must be [n, D] and ex, ey, logU [n]');
  checkLadder(ladder, n, 'ptAcceptGpu');
  const acc = storage(gpu, n);
  run(gpu, 'ptAccept', ACCEPT_WGSL, [x.buffer, y.buffer, gx.buffer, gy.buffer, ex.buffer, ey.buffer, logU.buffer, acc], ladderUniform(x, ladder, s, false), n);
  return new GpuTensor(gpu, [n], acc);
}

/**
 * The swap move of `parallelTempering` on the device: for every chain `c` and every pair `(k, k+1)` with
 * `k ≡ parity (mod 2)`, rows `k·C + c` and `(k+1)·C + c` exchange position, energy and gradient when
 * `logU[k·C + c] < (E_lower − E_upper)(1/T_k − 1/T_{k+1})`. Shapes: `x`, `g` `[K·C, D]`, `e`, `logU` `[K·C]`; returns
 * the three swapped tensors (new buffers).
 * @example const s = ptSwapGpu(gpu, x, e, g, logU, [1, 2, 4], 16, step % 2);
 */
export function ptSwapGpu(gpu: GpuKernels, x: GpuTensor, e: GpuTensor, g: GpuTensor, logU: GpuTensor, temperatures: readonly number[], chains: number, parity: number): { x: GpuTensor; energy: GpuTensor; grad: GpuTensor } {
  const n = x.shape[0];
  const K = temperatures.length;
  if (x.shape.length !== 2 || g.size !== x.size || e.size !== n || logU.size !== n) throw new InvalidArgumentError('ptSwapGpu: x, g must be [n, D] and e, logU [n]');
  if (K < 2 || K > GPU_MAX_TEMPERATURES || chains * K !== n) throw new InvalidArgumentError(`ptSwapGpu: ${n} rows are not ${K} temperatures (2 to ${GPU_MAX_TEMPERATURES}) × ${chains} chains`);
  const buf = new ArrayBuffer(32 + 16 * GPU_MAX_TEMPERATURES);
  const w = new Uint32Array(buf), f = new Float32Array(buf);
  w.set([n, x.size / n, chains, stride(n), K, parity & 1]);
  for (let k = 0; k < K - 1; k++) f[8 + 4 * k] = 1 / temperatures[k] - 1 / temperatures[k + 1];
  const xo = storage(gpu, x.size), eo = storage(gpu, n), go = storage(gpu, x.size);
  run(gpu, 'ptSwap', SWAP_WGSL, [x.buffer, e.buffer, g.buffer, logU.buffer, xo, eo, go], buf, n);
  return { x: new GpuTensor(gpu, x.shape, xo), energy: new GpuTensor(gpu, [n], eo), grad: new GpuTensor(gpu, x.shape, go) };
}

/**
 * The first `rows` rows of `x` `[n, …]` as a new tensor (a buffer copy; the `T₁` replicas are rows `0 … C−1`).
 * @example const neg = headRowsGpu(gpu, replicas, C);
 */
export function headRowsGpu(gpu: GpuKernels, x: GpuTensor, rows: number): GpuTensor {
  if (!Number.isInteger(rows) || rows < 0 || rows > x.shape[0]) throw new InvalidArgumentError(`headRowsGpu: rows must be an integer in [0, ${x.shape[0]}], got ${rows}`);
  const per = x.shape[0] === 0 ? 0 : x.size / x.shape[0];
  const y = storage(gpu, rows * per);
  if (rows * per > 0) {
    const enc = gpu.device.createCommandEncoder();
    enc.copyBufferToBuffer(x.buffer, 0, y, 0, rows * per * 4);
    gpu.device.queue.submit([enc.finish()]);
  }
  return new GpuTensor(gpu, [rows, ...x.shape.slice(1)], y);
}

/** `E` `[n]` and `∇ₓE` `[n, D]` of chains `x` queued on the device (the caller frees both). */
export type GpuEnergyGrad = (x: GpuTensor) => { energy: GpuTensor; grad: GpuTensor };

/** Replicas on the device with their cached energies and gradients. */
export interface GpuReplicaState {
  readonly x: GpuTensor;
  readonly energy: GpuTensor;
  readonly grad: GpuTensor;
}

function freeAll(ts: (GpuTensor | null | undefined)[]): void {
  for (const t of new Set(ts)) t?.dispose();
}

/**
 * One local move of every replica row at its own `(η_k, T_k)` with the key `kLocal` of the CPU kernel: ULA
 * (`normal(kLocal)` in float32, box clamp) or MALA (`[kNoise, kAccept] = split(kLocal, 2)`, float64-stream normals, the
 * test of {@link ptAcceptGpu}, accepted rows kept). Frees the old state's tensors and returns the new state.
 * @example s = langevinMoveGpu(gpu, energyGrad, s, kLocal, 'mala', ladder, {});
 */
export function langevinMoveGpu(gpu: GpuKernels, energyGrad: GpuEnergyGrad, s: GpuReplicaState, kLocal: Key, local: 'ula' | 'mala', ladder: GpuLadder, safe: GpuLocalSafeguards): GpuReplicaState {
  const n = s.x.shape[0];
  if (local === 'ula') {
    const xi = gpu.normal(kLocal, s.x.shape);
    const y = ptProposeGpu(gpu, s.x, s.grad, xi, ladder, safe, true);
    const eg = energyGrad(y);
    freeAll([xi, s.x, s.energy, s.grad]);
    return { x: y, energy: eg.energy, grad: eg.grad };
  }
  const [kNoise, kAccept] = split(kLocal, 2);
  const xi = gpu.normal64(kNoise, s.x.shape);
  const y = ptProposeGpu(gpu, s.x, s.grad, xi, ladder, safe, false);
  const eg = energyGrad(y);
  const logU = gpu.upload(Float32Array.from(uniformArray(kAccept, n, 'float64'), Math.log), [n]);
  const acc = ptAcceptGpu(gpu, s.x, y, s.grad, eg.grad, s.energy, eg.energy, logU, ladder, safe);
  const next = { x: gpu.rowWhere(acc, y, s.x), energy: gpu.rowWhere(acc, eg.energy, s.energy), grad: gpu.rowWhere(acc, eg.grad, s.grad) };
  freeAll([xi, y, eg.energy, eg.grad, logU, acc, s.x, s.energy, s.grad]);
  return next;
}

/** What {@link parallelTemperingGpu} runs (the `CDTemperedPlan` of a CD step has these fields). */
export interface GpuTemperingPlan extends GpuLocalSafeguards {
  readonly temperatures: readonly number[];
  readonly stepSizes: readonly number[];
  /** Local kernel (`'hmc'` has no GPU version). */
  readonly local: 'ula' | 'mala' | 'hmc';
  /** Chains per temperature `C`. */
  readonly chains: number;
  /** Swap parity offset (the PT state's step count at the start). */
  readonly step0: number;
}

/**
 * Why a tempering plan cannot run on the device (`null` when it can): HMC local moves, or more temperatures than
 * {@link GPU_MAX_TEMPERATURES}.
 * @example gpuTemperingUnsupported({ local: 'hmc', temperatures: [1, 2] }) // "--sampler hmc …"
 */
export function gpuTemperingUnsupported(plan: Pick<GpuTemperingPlan, 'local' | 'temperatures'>): string | null {
  if (plan.local !== 'ula' && plan.local !== 'mala') return `parallel tempering with ${plan.local} local moves has no WebGPU kernel (ula and mala do)`;
  if (plan.temperatures.length > GPU_MAX_TEMPERATURES) return `parallel tempering with ${plan.temperatures.length} temperatures: the WebGPU kernels take at most ${GPU_MAX_TEMPERATURES}`;
  return null;
}

/**
 * `steps` parallel-tempering transitions of the replicas `x0` `[K·C, D]` on the device, the same as the CPU's
 * `runTempered` with the same key (`split(key, steps)[t]` for PT step `t`, swap parity `(step0 + t) mod 2`): local
 * moves by {@link langevinMoveGpu}, then {@link ptSwapGpu}. No read-back; returns the replicas, still on the device
 * (the caller frees them).
 * @example const reps = await parallelTemperingGpu(gpu, (x) => deepEbmEnergyGradGpu(gpu, m, x), x0, kChain, 2, plan);
 */
export function parallelTemperingGpu(gpu: GpuKernels, energyGrad: GpuEnergyGrad, x0: Tensor, key: Key, steps: number, plan: GpuTemperingPlan): GpuTensor {
  const why = gpuTemperingUnsupported(plan);
  if (why) throw new InvalidArgumentError(`parallelTemperingGpu: ${why}`);
  if (!Number.isInteger(steps) || steps < 0) throw new InvalidArgumentError(`parallelTemperingGpu: steps must be an integer ≥ 0, got ${steps}`);
  if (x0.ndim !== 2 || x0.dtype !== 'float32') throw new InvalidArgumentError(`parallelTemperingGpu: x0 must be a float32 tensor [K·C, D], got ${x0.dtype} [${x0.shape.join(', ')}]`);
  const ladder: GpuLadder = { temperatures: plan.temperatures, stepSizes: plan.stepSizes, chains: plan.chains };
  checkLadder(ladder, x0.shape[0], 'parallelTemperingGpu');
  const x = gpu.upload(x0);
  const eg0 = energyGrad(x);
  let s: GpuReplicaState = { x, energy: eg0.energy, grad: eg0.grad };
  const keys = split(key, steps);
  const n = x0.shape[0];
  for (let t = 0; t < steps; t++) {
    const [kLocal, kSwap] = split(keys[t], 2);
    s = langevinMoveGpu(gpu, energyGrad, s, kLocal, plan.local as 'ula' | 'mala', ladder, plan);
    if (plan.temperatures.length > 1) {
      const logU = gpu.upload(Float32Array.from(uniformArray(kSwap, n, 'float64'), Math.log), [n]);
      const sw = ptSwapGpu(gpu, s.x, s.energy, s.grad, logU, plan.temperatures, plan.chains, (plan.step0 + t) % 2);
      freeAll([logU, s.x, s.energy, s.grad]);
      s = { x: sw.x, energy: sw.energy, grad: sw.grad };
    }
  }
  freeAll([s.energy, s.grad]);
  return s.x;
}
