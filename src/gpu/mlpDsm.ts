/**
 * The denoising-score-matching loss of an MLP energy and its **parameter gradient**, lowered by hand to GPU kernels
 * (the training hot loop of `ebm train mlp-energy --loss dsm` on WebGPU). The loss needs the input gradient `∇_z E`,
 * so its parameter gradient is a gradient of a gradient: a forward pass, the reverse pass that gives `∇_z E`, then the
 * reverse of that reverse pass (with the activations' second derivatives, {@link GpuKernels.unaryGrad2}) and of the
 * forward pass. Everything stays on the device until the gradients are read back, once per step.
 *
 * Maths, for `E(z) = h_{L−1}·W_{L−1} + b_{L−1} + ½c‖z‖²`, `a_l = h_l·W_l + b_l`, `h_{l+1} = f(a_l)`, `h_0 = z̃`:
 * - input gradient: `u_{L−1} = 1·W_{L−1}ᵀ`, `v_l = u_{l+1} ⊙ f′(a_l)`, `u_l = v_l·W_lᵀ`, `∇E = u_0 + c·z̃`;
 * - DSM (weighting σ², score `−∇E`): `z̃ = z + σε`, `r = ε − σ∇E(z̃)`, `L = ½‖r‖²/n`, so `ū_0 = −σr/n`;
 * - reverse of the input-gradient pass, `l = 0 … L−2`: `v̄_l = ū_l·W_l`, `W̄_l += ū_lᵀ·v_l`,
 *   `ū_{l+1} = v̄_l ⊙ f′(a_l)`, `ā_l = v̄_l ⊙ u_{l+1} ⊙ f″(a_l)`; then `W̄_{L−1} = ū_{L−1}ᵀ·1`;
 * - reverse of the forward pass, `l = L−2 … 0`: `ā_l += h̄_{l+1} ⊙ f′(a_l)`, `W̄_l += h_lᵀ·ā_l`, `b̄_l = Σ_rows ā_l`,
 *   `h̄_l = ā_l·W_lᵀ`; the output bias does not enter `∇E`, so `b̄_{L−1} = 0`.
 *
 * The two passes over the network are exported as {@link mlpInputGradPassGpu} (forward and input gradient `u_0` from
 * any network input `h_0`) and {@link mlpInputGradParamGradGpu} (the parameter gradient of `⟨ū_0, u_0⟩` for a
 * cotangent `ū_0` the caller forms), so that an energy with its own input map (the deep-EBM kind's standardisation and
 * Fourier features, src/models/deepEbm/gpuScore.ts) reuses them.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import type { Key } from '../random/key.js';
import type { MLPParams } from '../nn/mlp.js';
import { InvalidArgumentError } from '../errors.js';
import { GpuKernels, GpuTensor, type GpuGradOp } from './kernels.js';
import { uploadMlpEnergy, disposeMlpEnergy } from './mlpLangevin.js';

/** What the DSM loss of an MLP energy needs to know about the model. */
export interface GpuDsmConfig {
  /** Activation between layers (one of `GPU_GRAD_OPS`). */
  readonly activation: string;
  /** Strength `c` of the confining term `½c‖z‖²`. */
  readonly confine: number;
  /** Noise scale σ > 0. */
  readonly sigma: number;
}

/** The loss of a batch and its gradient with respect to every parameter (same keys and shapes as the parameters). */
export interface GpuDsmValueAndGrad {
  readonly loss: number;
  readonly grads: MLPParams;
}

/**
 * DSM loss `½‖σ∇_zE(z + σε) − ε‖²/n` of the batch `z [n, d]` (standardised rows), with `ε = normal(key, [n, d])`
 * drawn by the GPU's Philox normals (the CPU's `normal(key, …)` stream, float32 maths), and its gradient with respect
 * to the parameters, computed on the device. The same value and gradient as the library's
 * `denoisingScoreMatching(…, { weighting: 'sigma2' })` through `valueAndGrad`, within float32 rounding.
 * Dispatches per call, `L` layers: about `10L` (forward, input gradient, its reverse, the forward's reverse) plus the
 * upload of the parameters and one read-back of every gradient.
 * @example const { loss, grads } = await mlpDsmValueAndGradGpu(gpu, params, { activation: 'silu', confine: 0.01, sigma: 0.1 }, zb, k);
 */
export async function mlpDsmValueAndGradGpu(gpu: GpuKernels, params: MLPParams, cfg: GpuDsmConfig, z: Tensor, key: Key): Promise<GpuDsmValueAndGrad> {
  if (!(cfg.sigma > 0) || !Number.isFinite(cfg.sigma)) throw new InvalidArgumentError(`mlpDsmValueAndGradGpu: sigma must be a finite number > 0, got ${cfg.sigma}`);
  const net = uploadMlpEnergy(gpu, params, cfg.activation, cfg.confine);
  if (z.ndim !== 2 || z.shape[1] !== net.dim) {
    disposeMlpEnergy(net);
    throw new InvalidArgumentError(`mlpDsmValueAndGradGpu: the batch has shape [${z.shape.join(', ')}] but the energy takes [n, ${net.dim}]`);
  }
  const n = z.shape[0];
  const sigma = cfg.sigma, c = cfg.confine;
  const temp: GpuTensor[] = [];
  const keep = <T extends GpuTensor>(t: T): T => { temp.push(t); return t; };
  try {
    const zg = keep(gpu.upload(z.data instanceof Float32Array ? z.data : Float32Array.from(z.data as ArrayLike<number>), z.shape));
    const eps = keep(gpu.normal(key, z.shape));
    const zt = keep(gpu.axpby(zg, eps, eps, sigma, 0)); // z̃ = z + σε
    const pass = mlpInputGradPassGpu(gpu, net, zt);
    temp.push(...pass.temp);
    const u0 = pass.u[0];
    const gradE = c > 0 ? keep(gpu.axpby(u0, zt, zt, c, 0)) : u0;
    const r = keep(gpu.axpby(eps, gradE, gradE, -sigma, 0)); // ε − σ∇E = σ·score + ε (score = −∇E)
    const lossSum = keep(gpu.sumAll(keep(gpu.unary('square', r))));
    // ū_0 = ∂L/∂∇E = −σr/n.
    const scale = keep(gpu.upload(new Float32Array([-sigma / n])));
    const back = mlpInputGradParamGradGpu(gpu, net, pass, keep(gpu.binary('mul', r, scale)));
    temp.push(...back.temp);
    const { gW, gB } = back;
    temp.push(...gW, ...gB.filter((t): t is GpuTensor => t !== null));
    // Read back: the loss and every gradient.
    const loss = 0.5 * (await lossSum.read())[0] / n;
    const grads: MLPParams = {};
    for (let l = 0; l < net.w.length; l++) {
      const w = params[`l${l}.w`];
      grads[`l${l}.w`] = new Tensor(await gW[l]!.read(), w.shape);
      const b = params[`l${l}.b`];
      if (b instanceof Tensor) grads[`l${l}.b`] = gB[l] ? new Tensor(await gB[l]!.read(), b.shape) : new Tensor(new Float32Array(b.size), b.shape);
    }
    return { loss, grads };
  } finally {
    for (const t of new Set(temp)) t.dispose();
    disposeMlpEnergy(net);
  }
}

/** An MLP on the device as the passes below read it (the layout of src/nn's `initMLP`; `GpuMlp` and the mlp-energy upload both fit). */
export interface GpuMlpLayers {
  readonly w: readonly GpuTensor[];
  readonly b: readonly (GpuTensor | null)[];
  readonly activation: GpuGradOp;
}

/** The passes of {@link mlpInputGradPassGpu}: the network input, hidden pre-activations and the input-gradient chain. */
export interface GpuInputGradPass {
  /** `h[l]`: the input of layer `l` (`h[0]` the network input), `l < L`. */
  readonly h: readonly GpuTensor[];
  /** `a[l]`: the pre-activation of hidden layer `l`, `l < L − 1`. */
  readonly a: readonly GpuTensor[];
  /** `u[l] = ∂f/∂h_l` `[n, width_l]` (`u[0]` is the input gradient of the network output). */
  readonly u: readonly GpuTensor[];
  /** `v[l] = u_{l+1} ⊙ f′(a_l)`. */
  readonly v: readonly GpuTensor[];
  /** The column of ones `[n, 1]` (the output's cotangent). */
  readonly ones: GpuTensor;
  /** Every buffer the pass created except `h[0]` (free them once queued work no longer needs them). */
  readonly temp: readonly GpuTensor[];
}

/**
 * Queues the forward pass of a one-output MLP `f` from its input `h0 [n, k]` keeping `a_l` and `h_l`, then the
 * input-gradient pass `u_{L−1} = 1·W_{L−1}ᵀ`, `v_l = u_{l+1} ⊙ f′(a_l)`, `u_l = v_l·W_lᵀ`, so `u[0] = ∂f/∂h_0`.
 * Dispatches: about `4L`.
 * @example const pass = mlpInputGradPassGpu(gpu, net, z); const gradF = pass.u[0];
 */
export function mlpInputGradPassGpu(gpu: GpuKernels, net: GpuMlpLayers, h0: GpuTensor): GpuInputGradPass {
  const act = net.activation;
  const L = net.w.length;
  if (L < 1) throw new InvalidArgumentError('mlpInputGradPassGpu: the network has no layers');
  const n = h0.shape[0];
  const temp: GpuTensor[] = [];
  const keep = <T extends GpuTensor>(t: T): T => { temp.push(t); return t; };
  const h: GpuTensor[] = [h0];
  const a: GpuTensor[] = [];
  for (let l = 0; l < L - 1; l++) {
    let al = keep(gpu.matmul(h[l], net.w[l]));
    const bl = net.b[l];
    if (bl) al = keep(gpu.binary('add', al, bl));
    a.push(al);
    h.push(keep(gpu.unary(act, al)));
  }
  const ones = keep(gpu.upload(new Float32Array(n).fill(1), [n, 1]));
  const u: GpuTensor[] = new Array(L);
  const v: GpuTensor[] = new Array(Math.max(L - 1, 0));
  u[L - 1] = keep(gpu.matmul(ones, net.w[L - 1], { transB: true }));
  for (let l = L - 2; l >= 0; l--) {
    v[l] = keep(gpu.unaryGrad(act, a[l], u[l + 1]));
    u[l] = keep(gpu.matmul(v[l], net.w[l], { transB: true }));
  }
  return { h, a, u, v, ones, temp };
}

/**
 * Queues the parameter gradient of `⟨ū_0, u_0⟩` (`u_0 = ∂f/∂h_0` of {@link mlpInputGradPassGpu}, `h_0` a constant of
 * the parameters): the reverse of the input-gradient pass (`v̄_l = ū_l·W_l`, `W̄_l += ū_lᵀ·v_l`,
 * `ū_{l+1} = v̄_l ⊙ f′(a_l)`, `ā_l = v̄_l ⊙ u_{l+1} ⊙ f″(a_l)`; `W̄_{L−1} = ū_{L−1}ᵀ·1`), then of the forward pass
 * (`ā_l += h̄_{l+1} ⊙ f′(a_l)`, `W̄_l += h_lᵀ·ā_l`, `b̄_l = Σ_rows ā_l`, `h̄_l = ā_l·W_lᵀ`); the output bias does not
 * enter `u_0`, so `b̄_{L−1}` is null. `temp` lists the intermediate buffers (not the gradients).
 * @example const { gW, gB } = mlpInputGradParamGradGpu(gpu, net, pass, ubar0);
 */
export function mlpInputGradParamGradGpu(gpu: GpuKernels, net: GpuMlpLayers, pass: GpuInputGradPass, ubar0: GpuTensor): { gW: GpuTensor[]; gB: (GpuTensor | null)[]; temp: GpuTensor[] } {
  const act = net.activation;
  const L = net.w.length;
  const { h, a, u, v, ones } = pass;
  if (ubar0.size !== u[0].size) throw new InvalidArgumentError(`mlpInputGradParamGradGpu: the cotangent has ${ubar0.size} values for u_0 of ${u[0].size}`);
  const temp: GpuTensor[] = [];
  const keep = <T extends GpuTensor>(t: T): T => { temp.push(t); return t; };
  let ubar = ubar0;
  const gW: (GpuTensor | null)[] = new Array(L).fill(null);
  const abar2: GpuTensor[] = new Array(Math.max(L - 1, 0));
  for (let l = 0; l < L - 1; l++) {
    const vbar = keep(gpu.matmul(ubar, net.w[l]));
    gW[l] = gpu.matmul(ubar, v[l], { transA: true });
    abar2[l] = keep(gpu.unaryGrad2(act, a[l], keep(gpu.binary('mul', vbar, u[l + 1]))));
    ubar = keep(gpu.unaryGrad(act, a[l], vbar));
  }
  gW[L - 1] = gpu.matmul(ubar, ones, { transA: true });
  const gB: (GpuTensor | null)[] = new Array(L).fill(null);
  let hbar: GpuTensor | null = null;
  for (let l = L - 2; l >= 0; l--) {
    const abar: GpuTensor = hbar ? keep(gpu.binary('add', abar2[l], keep(gpu.unaryGrad(act, a[l], hbar)))) : abar2[l];
    const old = gW[l]!;
    gW[l] = gpu.binary('add', old, keep(gpu.matmul(h[l], abar, { transA: true })));
    temp.push(old);
    if (net.b[l]) gB[l] = gpu.sumRows(abar);
    hbar = l > 0 ? keep(gpu.matmul(abar, net.w[l], { transB: true })) : null;
  }
  return { gW: gW as GpuTensor[], gB, temp };
}
