/**
 * A plain MLP (the `initMLP`/`applyMLP` layout of src/nn: layer `l` has `l{l}.w [in, out]` and optional `l{l}.b`
 * `[out]`, an activation between layers, none after the last) on the WebGPU device with any output width: its forward
 * pass keeping the pre-activations, and the first-order reverse pass that gives the parameter gradient of a loss from
 * the cotangent of the output (plain backprop). Used by the score-SDE training step and sampler (a time-conditioned
 * MLP with `D` outputs) and the deep-EBM contrastive-divergence step (an energy MLP with one output); the energy's
 * input gradient for Langevin chains is `mlpEnergyGradGpu` of ./mlpLangevin.ts.
 *
 * Maths, `h₀ = x`, `a_l = h_l·W_l + b_l`, `h_{l+1} = f(a_l)`, `out = a_{L−1}`; from `ḡ = ∂J/∂out`:
 * `ā_{L−1} = ḡ`, `W̄_l = h_lᵀ·ā_l`, `b̄_l = Σ_rows ā_l`, `ā_{l−1} = (ā_l·W_lᵀ) ⊙ f′(a_{l−1})`.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import type { MLPParams } from '../nn/mlp.js';
import { InvalidArgumentError } from '../errors.js';
import { GPU_GRAD_OPS, type GpuKernels, type GpuTensor, type GpuGradOp } from './kernels.js';

/** An MLP's parameters on the device (`w[l]` `[in, out]`, `b[l]` `[out]` or null) and its activation. */
export interface GpuMlp {
  readonly w: readonly GpuTensor[];
  readonly b: readonly (GpuTensor | null)[];
  readonly activation: GpuGradOp;
}

/** The forward pass of {@link mlpForwardGpu}: inputs of every layer, pre-activations of the hidden layers, output. */
export interface GpuMlpForward {
  /** `h[l]`: the input of layer `l` (`h[0] = x`, or null when the caller gave the first pre-activation). */
  readonly h: readonly (GpuTensor | null)[];
  /** `a[l]`: the pre-activation of hidden layer `l` (`l < L − 1`). */
  readonly a: readonly GpuTensor[];
  /** The output `[n, out]`. */
  readonly out: GpuTensor;
  /** Every buffer the pass created (free them with {@link disposeAll} once queued work no longer needs them). */
  readonly temp: readonly GpuTensor[];
}

function f32(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/** Number of layers `L` of an MLP parameter record (`l0.w`, `l1.w`, …). */
export function mlpLayers(params: MLPParams): number {
  let L = 0;
  while (params[`l${L}.w`] instanceof Tensor) L++;
  return L;
}

/**
 * Why an MLP cannot run on the GPU (`null` when it can): an activation without a fused backward kernel, no layers.
 * @example gpuMlpNetUnsupported('elu') // "activation 'elu' has no WebGPU kernel (have sigmoid, …)"
 */
export function gpuMlpNetUnsupported(activation: string, params?: MLPParams): string | null {
  if (!(GPU_GRAD_OPS as readonly string[]).includes(activation)) return `activation '${activation}' has no WebGPU kernel (have ${GPU_GRAD_OPS.join(', ')})`;
  if (params && mlpLayers(params) === 0) return "the parameters have no layer 'l0.w'";
  return null;
}

/**
 * Copies MLP parameters to the device as float32.
 * @example const net = uploadMlp(gpu, params, 'silu');
 */
export function uploadMlp(gpu: GpuKernels, params: MLPParams, activation: string): GpuMlp {
  const why = gpuMlpNetUnsupported(activation, params);
  if (why) throw new InvalidArgumentError(`uploadMlp: ${why}`);
  const w: GpuTensor[] = [], b: (GpuTensor | null)[] = [];
  for (let l = 0; params[`l${l}.w`] instanceof Tensor; l++) {
    const wl = params[`l${l}.w`], bl = params[`l${l}.b`];
    w.push(gpu.upload(f32(wl), wl.shape));
    b.push(bl instanceof Tensor ? gpu.upload(f32(bl), bl.shape) : null);
  }
  return { w, b, activation: activation as GpuGradOp };
}

/**
 * Rows `from … to−1` of a `[rows, cols]` weight as float32 (a block of layer 0 for a caller that splits its input:
 * Fourier features, a time embedding, a constant input).
 * @example gpu.upload(weightRows(params['l0.w'], 0, D), [D, h])
 */
export function weightRows(w: Tensor, from: number, to: number): Float32Array {
  const cols = w.shape[1];
  return Float32Array.from((w.data as Float32Array | Float64Array).subarray(from * cols, to * cols));
}

/** Frees every tensor of a list once (a tensor listed twice is freed once). */
export function disposeAll(ts: readonly (GpuTensor | null | undefined)[]): void {
  for (const t of new Set(ts)) t?.dispose();
}

/** Frees the device copies of an uploaded MLP. */
export function disposeMlp(net: GpuMlp): void {
  disposeAll([...net.w, ...net.b]);
}

/**
 * Queues the forward pass of `x [n, in]` (or, with `a0`, from the given first-layer pre-activation `[n, h₁]`, bias
 * included — for a caller that assembles layer 0 from blocks of its input). Dispatches: a matmul, a bias add and an
 * activation per hidden layer, a matmul and a bias add for the output.
 * @example const f = mlpForwardGpu(gpu, net, x); const y = await f.out.read();
 */
export function mlpForwardGpu(gpu: GpuKernels, net: GpuMlp, x: GpuTensor | null, a0?: GpuTensor): GpuMlpForward {
  const L = net.w.length;
  const temp: GpuTensor[] = [];
  const keep = (t: GpuTensor): GpuTensor => { temp.push(t); return t; };
  const h: (GpuTensor | null)[] = [a0 ? null : x];
  const a: GpuTensor[] = [];
  if (!a0 && !x) throw new InvalidArgumentError('mlpForwardGpu: give the input x or the first pre-activation a0');
  for (let l = 0; l < L; l++) {
    let al: GpuTensor;
    if (l === 0 && a0) al = a0;
    else {
      al = keep(gpu.matmul(h[l]!, net.w[l]));
      const bl = net.b[l];
      if (bl) al = keep(gpu.binary('add', al, bl));
    }
    if (l === L - 1) return { h, a, out: al, temp };
    a.push(al);
    h.push(keep(gpu.unary(net.activation, al)));
  }
  throw new InvalidArgumentError('mlpForwardGpu: the network has no layers');
}

/**
 * Queues the backward pass of a loss `J` given `ḡ = ∂J/∂out` `[n, out]` (first-order backprop through the forward
 * pass `f`): the parameter gradients in layer order (`gB[l]` null where the layer has no bias; `gW[0]` null when `f`
 * was run from a given first pre-activation, whose input the caller owns) and `abar0 = ∂J/∂a₀`, the cotangent of
 * the first pre-activation (the input gradient is `abar0·W₀ᵀ`, or that of the caller's blocks). `temp` lists the
 * intermediate buffers (not the returned gradients).
 * @example const { gW, gB } = mlpParamGradGpu(gpu, net, f, gOut);
 */
export function mlpParamGradGpu(gpu: GpuKernels, net: GpuMlp, f: GpuMlpForward, gOut: GpuTensor, params = true): { gW: (GpuTensor | null)[]; gB: (GpuTensor | null)[]; abar0: GpuTensor; temp: GpuTensor[] } {
  const L = net.w.length;
  const temp: GpuTensor[] = [];
  const gW: (GpuTensor | null)[] = new Array(L).fill(null), gB: (GpuTensor | null)[] = new Array(L).fill(null);
  let abar = gOut;
  for (let l = L - 1; l >= 0; l--) {
    const hl = f.h[l];
    if (params && hl) gW[l] = gpu.matmul(hl, abar, { transA: true });
    if (params && net.b[l]) gB[l] = gpu.sumRows(abar);
    if (l > 0) {
      const hbar = gpu.matmul(abar, net.w[l], { transB: true });
      temp.push(hbar);
      abar = gpu.unaryGrad(net.activation, f.a[l - 1], hbar);
      temp.push(abar);
    }
  }
  return { gW, gB, abar0: abar, temp: temp.filter((t) => t !== abar) };
}

/**
 * Reads gradients back as host tensors keyed and shaped like `params` (`l{l}.w`, and `l{l}.b` where `params` has it;
 * a missing bias gradient reads as zeros); `first` is layer 0's weight gradient when the caller computed it.
 * @example const grads = await readMlpGrads(params, gW, gB);
 */
export async function readMlpGrads(params: MLPParams, gW: readonly (GpuTensor | null)[], gB: readonly (GpuTensor | null)[], first?: Tensor): Promise<MLPParams> {
  const out: MLPParams = {};
  for (let l = 0; l < gW.length; l++) {
    const w = params[`l${l}.w`];
    const gw = gW[l];
    if (!gw && !(l === 0 && first)) throw new InvalidArgumentError(`readMlpGrads: no gradient for l${l}.w`);
    out[`l${l}.w`] = gw ? new Tensor(await gw.read(), w.shape) : first!;
    const b = params[`l${l}.b`];
    if (b instanceof Tensor) out[`l${l}.b`] = gB[l] ? new Tensor(await gB[l]!.read(), b.shape) : new Tensor(new Float32Array(b.size), b.shape);
  }
  return out;
}
