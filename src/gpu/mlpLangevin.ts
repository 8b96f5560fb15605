/**
 * The first compiled step of docs/webgpu.md, **lowered by hand**: the energy of an MLP with a confining term,
 * `E(z) = MLP(z) + ½·c·‖z‖²` per row, its input gradient `∇_z E` by a reverse pass through the layers written as GPU
 * kernels, and an unadjusted Langevin (ULA) chain `z ← z − η∇E(z) + √(2η)·ξ` that runs entirely on the device:
 * parameters and chains stay in GPU memory, the noise `ξ` comes from the GPU Philox normals of the same keys the CPU
 * uses, and only the final chains come back (with `await`). It is not yet the traced `compile(fn)` of the design:
 * only this energy (the `applyMLP` layer layout of src/nn with an activation that has a fused backward) is lowered.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import type { Key } from '../random/key.js';
import { foldIn, split } from '../random/key.js';
import { normal } from '../random/sample.js';
import type { MLPParams } from '../nn/mlp.js';
import { GpuKernels, GpuTensor, GPU_GRAD_OPS, type GpuGradOp } from './kernels.js';
import { InvalidArgumentError } from '../errors.js';

const ONES = new WeakMap<GpuMlpEnergy, GpuTensor>();
/** A `[n, 1]` column of ones kept with the uploaded energy (uploaded once per batch size, freed with the energy). */
function onesColumn(gpu: GpuKernels, net: GpuMlpEnergy, n: number): GpuTensor {
  let t = ONES.get(net);
  if (!t || t.shape[0] !== n) {
    t?.dispose();
    t = gpu.upload(new Float32Array(n).fill(1), [n, 1]);
    ONES.set(net, t);
  }
  return t;
}

/** An MLP energy uploaded to the device: layer `i` has weight `w[i]` `[in, out]` and bias `b[i]` `[out]` (or none). */
export interface GpuMlpEnergy {
  readonly w: readonly GpuTensor[];
  readonly b: readonly (GpuTensor | null)[];
  /** Activation between layers (one with a fused backward kernel). */
  readonly activation: GpuGradOp;
  /** Strength `c` of the confining term `½c‖z‖²` (0 for none). */
  readonly confine: number;
  /** Input dimension. */
  readonly dim: number;
}

/**
 * Why an MLP energy cannot run on the GPU (`null` when it can): the activation has no fused backward kernel, or the
 * last layer does not have one output.
 * @example gpuMlpUnsupported('elu') // "activation 'elu' has no WebGPU kernel (have sigmoid, …)"
 */
export function gpuMlpUnsupported(activation: string, params?: MLPParams): string | null {
  if (!(GPU_GRAD_OPS as readonly string[]).includes(activation)) {
    return `activation '${activation}' has no WebGPU kernel (have ${GPU_GRAD_OPS.join(', ')})`;
  }
  if (params) {
    let last: Tensor | undefined;
    for (let i = 0; params[`l${i}.w`] instanceof Tensor; i++) last = params[`l${i}.w`];
    if (!last) return "the parameters have no layer 'l0.w'";
    if (last.shape[1] !== 1) return `the last layer has ${last.shape[1]} outputs, an energy has 1`;
  }
  return null;
}

function f32(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/**
 * Copies MLP parameters (`l{i}.w` `[in, out]`, optional `l{i}.b`, as `initMLP`/`applyMLP` use them) to the device
 * as float32.
 * @throws RangeError when {@link gpuMlpUnsupported} gives a reason.
 * @example const net = uploadMlpEnergy(gpu, params, 'silu', 0.01);
 */
export function uploadMlpEnergy(gpu: GpuKernels, params: MLPParams, activation: string, confine: number): GpuMlpEnergy {
  const why = gpuMlpUnsupported(activation, params);
  if (why) throw new InvalidArgumentError(`uploadMlpEnergy: ${why}`);
  if (!(confine >= 0)) throw new InvalidArgumentError(`uploadMlpEnergy: confine must be ≥ 0, got ${confine}`);
  const w: GpuTensor[] = [], b: (GpuTensor | null)[] = [];
  for (let i = 0; params[`l${i}.w`] instanceof Tensor; i++) {
    const wi = params[`l${i}.w`], bi = params[`l${i}.b`];
    w.push(gpu.upload(f32(wi), wi.shape));
    b.push(bi instanceof Tensor ? gpu.upload(f32(bi), bi.shape) : null);
  }
  return { w, b, activation: activation as GpuGradOp, confine, dim: w[0].shape[0] };
}

/**
 * Queues `∇_z E(z)` for `z [n, d]` (and, with `withEnergy`, `E(z)` `[n]`): forward through the hidden layers keeping
 * the pre-activations `a_l = h_l·W_l + b_l`, then backward `g_h = g_a·W_lᵀ`, `g_a = g_h ⊙ f′(a)` (fused kernel), from
 * `g = 1` at the output; plus `c·z`. Every intermediate buffer is freed once queued work no longer needs it.
 * Dispatches per call: `2L − 1` matmuls, `L − 1` bias adds, activations and fused backwards, one axpby (`L` layers).
 * @example const { grad } = mlpEnergyGradGpu(gpu, net, z);
 */
export function mlpEnergyGradGpu(gpu: GpuKernels, net: GpuMlpEnergy, z: GpuTensor, withEnergy = false): { grad: GpuTensor; energy?: GpuTensor } {
  const L = net.w.length;
  const n = z.shape[0];
  const pre: GpuTensor[] = [];
  const temp: GpuTensor[] = [];
  let h = z;
  for (let l = 0; l < L - 1; l++) {
    let a = gpu.matmul(h, net.w[l]);
    const bl = net.b[l];
    if (bl) { temp.push(a); a = gpu.binary('add', a, bl); }
    pre.push(a);
    h = gpu.unary(net.activation, a);
    temp.push(h);
  }
  let energy: GpuTensor | undefined;
  if (withEnergy) {
    let out = gpu.matmul(h, net.w[L - 1]);
    const bl = net.b[L - 1];
    if (bl) { temp.push(out); out = gpu.binary('add', out, bl); }
    temp.push(out);
    const flat = new GpuTensor(gpu, [n], out.buffer);
    if (net.confine > 0) {
      const sq = gpu.unary('square', z);
      const r2 = gpu.sumLast(sq);
      const half = gpu.upload(new Float32Array([0.5 * net.confine]));
      const conf = gpu.binary('mul', r2, half);
      energy = gpu.binary('add', flat, conf);
      temp.push(sq, r2, half, conf);
    } else {
      const zero = gpu.upload(new Float32Array([0]));
      energy = gpu.binary('add', flat, zero); // a copy: `out` is freed below
      temp.push(zero);
    }
  }
  // g at the output is 1 per row: g_h(L−1) = 1·W_{L−1}ᵀ, the last weight column repeated on every row.
  const ones = onesColumn(gpu, net, n);
  let g = gpu.matmul(ones, net.w[L - 1], { transB: true });
  for (let l = L - 2; l >= 0; l--) {
    const ga = gpu.unaryGrad(net.activation, pre[l], g);
    temp.push(g, ga);
    g = gpu.matmul(ga, net.w[l], { transB: true });
  }
  let grad = g;
  if (net.confine > 0) {
    grad = gpu.axpby(g, z, z, net.confine, 0);
    temp.push(g);
  }
  for (const t of [...pre, ...temp]) if (t !== z) t.dispose();
  return energy ? { grad, energy } : { grad };
}

/** Options of {@link mlpLangevinGpu}. */
export interface GpuLangevinOptions {
  /** Number of ULA steps. */
  steps: number;
  /** Step size η > 0. */
  stepSize: number;
  /** Noise of step `s` (1-based) is `normal(foldIn(key, s))`, as `sampleMlpEnergy` (models/mlpEnergy) draws it. */
  key: Key;
  /** Called every `syncEvery` steps once the device has finished them (one 4-byte read-back each). */
  onProgress?(done: number): void;
  /** Steps between waits for the device (default 50). */
  syncEvery?: number;
}

/**
 * Runs `steps` ULA steps `z_s = z_{s−1} − η∇E(z_{s−1}) + √(2η)·ξ_s`, `ξ_s ~ N(0, I)` from GPU Philox normals of
 * `foldIn(key, s)` (the CPU's stream, float32 maths), all on the device, and reads back the final `z` `[n, d]`.
 * Per step: the gradient's dispatches ({@link mlpEnergyGradGpu}), one normal, one axpby; no host round-trip except
 * the progress waits.
 * @example const z = await mlpLangevinGpu(gpu, net, normal(k0, [128, 2]), { steps: 500, stepSize: 0.01, key: kSteps });
 */
export async function mlpLangevinGpu(gpu: GpuKernels, net: GpuMlpEnergy, z0: Tensor, o: GpuLangevinOptions): Promise<Tensor> {
  if (z0.ndim !== 2 || z0.shape[1] !== net.dim) throw new InvalidArgumentError(`mlpLangevinGpu: z0 has shape [${z0.shape.join(', ')}] but the energy takes [n, ${net.dim}]`);
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) throw new InvalidArgumentError(`mlpLangevinGpu: steps must be an integer ≥ 0, got ${o.steps}`);
  if (!(o.stepSize > 0)) throw new InvalidArgumentError(`mlpLangevinGpu: stepSize must be > 0, got ${o.stepSize}`);
  const syncEvery = o.syncEvery ?? 50;
  const noise = Math.sqrt(2 * o.stepSize);
  let z = gpu.upload(f32(z0), z0.shape);
  for (let s = 1; s <= o.steps; s++) {
    const { grad } = mlpEnergyGradGpu(gpu, net, z);
    const xi = gpu.normal(foldIn(o.key, s), z.shape);
    const next = gpu.axpby(z, grad, xi, -o.stepSize, noise);
    grad.dispose();
    xi.dispose();
    z.dispose();
    z = next;
    if (o.onProgress && (s % syncEvery === 0 || s === o.steps)) {
      await gpu.readBuffer(z.buffer, 1);
      o.onProgress(s);
    }
  }
  const out = await z.toTensor();
  z.dispose();
  return out;
}

/** Frees the device copies of an uploaded energy's parameters. */
export function disposeMlpEnergy(net: GpuMlpEnergy): void {
  ONES.get(net)?.dispose();
  ONES.delete(net);
  for (const t of net.w) t.dispose();
  for (const t of net.b) t?.dispose();
}

/** Options of {@link mlpLangevinChainGpu}. */
export interface MlpLangevinChainOptions {
  /** Number of ULA steps. */
  steps: number;
  /** Step size η > 0. */
  stepSize: number;
  /** Called as steps complete on the device. */
  onProgress?(done: number): void;
}

/**
 * The whole Langevin sampler of an MLP energy on the GPU, with the key use of the mlp-energy kind's CPU
 * `sampleMlpEnergy`: `[k0, kSteps] = split(key, 2)`, `z₀ = normal(k0, [n, d])` (drawn on the host, uploaded), then
 * {@link mlpLangevinGpu} with noise from `foldIn(kSteps, s)`. Returns the final `z` `[n, d]` (standardised units:
 * the caller maps it back to data space).
 * @example const z = await mlpLangevinChainGpu(gpu, params, 'silu', 0.01, key(0), 128, { steps: 500, stepSize: 0.01 });
 */
export async function mlpLangevinChainGpu(gpu: GpuKernels, params: MLPParams, activation: string, confine: number, k: Key, n: number, o: MlpLangevinChainOptions): Promise<Tensor> {
  const net = uploadMlpEnergy(gpu, params, activation, confine);
  try {
    const [k0, kSteps] = split(k, 2);
    const z0 = normal(k0, [n, net.dim]);
    return await mlpLangevinGpu(gpu, net, z0, { steps: o.steps, stepSize: o.stepSize, key: kSteps, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
  } finally {
    disposeMlpEnergy(net);
  }
}
