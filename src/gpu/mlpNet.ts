/**
 * An MLP of `applyMLP`'s layout (`l{i}.w` `[in, out]`, optional `l{i}.b`, the activation between layers, none after the
 * last) on the WebGPU device, with a forward pass that keeps what the reverse pass needs and a reverse pass from any
 * cotangent of the outputs to the input gradient and (optionally) the parameter gradients. The JEM steps (classifier
 * logits `[n, K]`) are built from these two passes; the MLP energies' Langevin chain and DSM step (one output) are the
 * special case of a cotangent of ones.
 *
 * Maths, `h₀ = x`, `a_l = h_l·W_l + b_l`, `h_{l+1} = f(a_l)`, output `y = a_{L−1}`; given `ȳ = ∂L/∂y`:
 * `ā_{L−1} = ȳ`, `W̄_l = h_lᵀ·ā_l`, `b̄_l = Σ_rows ā_l`, `h̄_l = ā_l·W_lᵀ`, `ā_{l−1} = h̄_l ⊙ f′(a_{l−1})`; `x̄ = h̄₀`.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import type { MLPParams } from '../nn/mlp.js';
import { InvalidArgumentError } from '../errors.js';
import { GPU_GRAD_OPS, type GpuGradOp, type GpuKernels, type GpuTensor } from './kernels.js';

/** An MLP's parameters on the device: layer `l` has weight `w[l]` `[in, out]` and bias `b[l]` `[out]` (or none). */
export interface GpuMlp {
  readonly w: readonly GpuTensor[];
  readonly b: readonly (GpuTensor | null)[];
  /** Activation between layers (one with a fused backward kernel). */
  readonly activation: GpuGradOp;
  /** Input width. */
  readonly dim: number;
}

/**
 * Why an MLP with this activation cannot run on the GPU (`null` when it can): the activation needs a fused backward
 * kernel (`GPU_GRAD_OPS`).
 * @example gpuActivationUnsupported('elu') // "activation 'elu' has no WebGPU kernel (have sigmoid, …)"
 */
export function gpuActivationUnsupported(activation: string): string | null {
  return (GPU_GRAD_OPS as readonly string[]).includes(activation) ? null : `activation '${activation}' has no WebGPU kernel (have ${GPU_GRAD_OPS.join(', ')})`;
}

function f32(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/**
 * Copies MLP parameters to the device (float32); free with {@link disposeMlp}.
 * @throws InvalidArgumentError when the activation has no kernel or there is no layer `l0.w`.
 * @example const net = uploadMlp(gpu, params, 'silu');
 */
export function uploadMlp(gpu: GpuKernels, params: MLPParams, activation: string): GpuMlp {
  const why = gpuActivationUnsupported(activation);
  if (why) throw new InvalidArgumentError(`uploadMlp: ${why}`);
  if (!(params['l0.w'] instanceof Tensor)) throw new InvalidArgumentError("uploadMlp: the parameters have no layer 'l0.w'");
  const w: GpuTensor[] = [], b: (GpuTensor | null)[] = [];
  for (let i = 0; params[`l${i}.w`] instanceof Tensor; i++) {
    const wi = params[`l${i}.w`], bi = params[`l${i}.b`];
    w.push(gpu.upload(f32(wi), wi.shape));
    b.push(bi instanceof Tensor ? gpu.upload(f32(bi), bi.shape) : null);
  }
  return { w, b, activation: activation as GpuGradOp, dim: w[0].shape[0] };
}

/** Frees the device copies of {@link uploadMlp}. */
export function disposeMlp(net: GpuMlp): void {
  for (const t of net.w) t.dispose();
  for (const t of net.b) t?.dispose();
}

/** What {@link mlpForwardGpu} keeps: the layer inputs `h_l`, the hidden pre-activations `a_l` and the output. */
export interface GpuMlpForward {
  /** `h₀ = x` (not owned), `h₁ … h_{L−1}`. */
  readonly inputs: readonly GpuTensor[];
  /** `a₀ … a_{L−2}` (pre-activations of the hidden layers). */
  readonly pre: readonly GpuTensor[];
  /** The output `a_{L−1}` `[n, out]` (null when the pass stopped before the last layer). */
  readonly out: GpuTensor | null;
  /** Frees everything the pass allocated (not `x`). */
  dispose(): void;
}

/**
 * Queues the forward pass of `x [n, dim]`, keeping the intermediates for {@link mlpBackwardGpu}. Dispatches: `L`
 * matmuls, one bias add per layer with a bias, `L − 1` activations. With `output: false` it stops before the last
 * layer (an input gradient of `Σ MLP(x)` does not need the output itself).
 * @example const fwd = mlpForwardGpu(gpu, net, x); const logits = fwd.out!;
 */
export function mlpForwardGpu(gpu: GpuKernels, net: GpuMlp, x: GpuTensor, o: { output?: boolean } = {}): GpuMlpForward {
  if (x.shape.length !== 2 || x.shape[1] !== net.dim) throw new InvalidArgumentError(`mlpForwardGpu: x has shape [${x.shape.join(', ')}] but the MLP takes [n, ${net.dim}]`);
  const L = net.w.length;
  const owned: GpuTensor[] = [];
  const keep = (t: GpuTensor): GpuTensor => { owned.push(t); return t; };
  const inputs: GpuTensor[] = [x];
  const pre: GpuTensor[] = [];
  let out: GpuTensor | null = null;
  for (let l = 0; l < L; l++) {
    if (l === L - 1 && o.output === false) break;
    let a = keep(gpu.matmul(inputs[l], net.w[l]));
    const bl = net.b[l];
    if (bl) a = keep(gpu.binary('add', a, bl));
    if (l === L - 1) { out = a; break; }
    pre.push(a);
    inputs.push(keep(gpu.unary(net.activation, a)));
  }
  return { inputs, pre, out, dispose: () => { for (const t of owned) t.dispose(); } };
}

/** What {@link mlpBackwardGpu} returns (device tensors the caller frees). */
export interface GpuMlpBackward {
  /** `∂L/∂x` `[n, dim]` (when asked for). */
  readonly input?: GpuTensor;
  /** `∂L/∂W_l` and `∂L/∂b_l` (null for a layer without bias), when asked for. */
  readonly w?: readonly GpuTensor[];
  readonly b?: readonly (GpuTensor | null)[];
}

/**
 * Queues the reverse pass from the output cotangent `gOut [n, out]` (see the module doc): the input gradient and/or
 * the parameter gradients. Intermediates are freed once queued; `gOut` and the forward's tensors are not.
 * @example const { input } = mlpBackwardGpu(gpu, net, fwd, gOut, { input: true }); // ∇ₓ of Σ gOut ⊙ MLP(x)
 */
export function mlpBackwardGpu(gpu: GpuKernels, net: GpuMlp, fwd: GpuMlpForward, gOut: GpuTensor, want: { input?: boolean; params?: boolean }): GpuMlpBackward {
  const L = net.w.length;
  const rows = fwd.inputs[0].shape[0], outs = net.w[L - 1].shape[1];
  if (gOut.shape.length !== 2 || gOut.shape[0] !== rows || gOut.shape[1] !== outs) {
    throw new InvalidArgumentError(`mlpBackwardGpu: gOut has shape [${gOut.shape.join(', ')}], the output [${rows}, ${outs}]`);
  }
  const gw: GpuTensor[] = new Array(L), gb: (GpuTensor | null)[] = new Array(L).fill(null);
  const temp: GpuTensor[] = [];
  let abar = gOut;
  let input: GpuTensor | undefined;
  for (let l = L - 1; l >= 0; l--) {
    if (want.params) {
      gw[l] = gpu.matmul(fwd.inputs[l], abar, { transA: true });
      if (net.b[l]) gb[l] = gpu.sumRows(abar);
    }
    if (l === 0 && !want.input) break;
    const hbar = gpu.matmul(abar, net.w[l], { transB: true });
    if (l === 0) { input = hbar; break; }
    temp.push(hbar);
    abar = gpu.unaryGrad(net.activation, fwd.pre[l - 1], hbar);
    temp.push(abar);
  }
  for (const t of temp) t.dispose();
  return { ...(input ? { input } : {}), ...(want.params ? { w: gw, b: gb } : {}) };
}

/**
 * Reads parameter gradients back as host tensors keyed like the parameters (`l{i}.w`, `l{i}.b`).
 * @example const grads = await readMlpGrads(bw, params);
 */
export async function readMlpGrads(bw: GpuMlpBackward, params: MLPParams): Promise<MLPParams> {
  if (!bw.w || !bw.b) throw new InvalidArgumentError('readMlpGrads: the reverse pass computed no parameter gradients');
  const out: MLPParams = {};
  const reads = bw.w.map((g, l) => Promise.all([g.read(), bw.b![l]?.read()]).then(([wv, bv]) => {
    out[`l${l}.w`] = new Tensor(wv, params[`l${l}.w`].shape);
    const b = params[`l${l}.b`];
    if (b instanceof Tensor) out[`l${l}.b`] = new Tensor(bv ?? new Float32Array(b.size), b.shape);
  }));
  await Promise.all(reads);
  return out;
}
