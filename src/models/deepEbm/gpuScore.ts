/**
 * Score matching of deep-EBM MLP energies on the WebGPU device (`ebm train ebm --loss dsm --sigma-max none|ssm|ssm-vr|sm`
 * with `EBM_BACKEND=webgpu`). Denoising score matching: the loss `½‖s(x̃) + ε/σ‖²/n`, `s = −∇ₓE`, `x̃ = x + σε`, and its parameter gradient — a
 * gradient of the input gradient — on the passes of src/gpu/mlpDsm.ts, with the energy's input map in front of them:
 *
 * `E(x) = f(h) + ½c‖z‖²`, `z = (x − shift)/scale`, `h = z` or, with Fourier features, `h = [sin zP, cos zP]`
 * (`P = 2πB`). Then `∇ₓE = (J_hᵀ u₀ + c·z)/scale` with `u₀ = ∂f/∂h`, and with `P₂ = [P, P]`, `ω = [0, π/2]` (per
 * column) and `ũ = zP₂ + ω`: `h = sin ũ`, `J_hᵀ u₀ = (u₀ ⊙ cos ũ)·P₂ᵀ` (since `cos ũ = [cos zP, −sin zP]`). The
 * cotangent of `u₀` from `ḡ = ∂L/∂(J_hᵀu₀)` is `ū₀ = ḡ` (no features) or `(ḡ·P₂) ⊙ cos ũ`; the parameter gradient of
 * `⟨ū₀, u₀⟩` is `mlpInputGradParamGradGpu`'s. `z`, `h` and `ũ` are constants of the parameters (the confining term has
 * none). The noise is the GPU's Philox normals of the CPU's key (`normal(key, batch.shape)`), Adam the CPU step's.
 * The features' `cos(zP)` is computed as `sin(zP + π/2)`, whose argument is rounded once more in float32 (about
 * `|zP|·6e-8` absolute): within float32 tolerance of the CPU's `cos`.
 *
 * Sliced (`ssm`, `ssm-vr`, Rademacher probes) and exact (`sm`) score matching run on the third-order passes of
 * src/gpu/mlpSsm.ts ({@link deepEbmSsmValueAndGradGpu}). Noise-conditional DSM (the default on low-dimensional
 * vectors: `E(x, σ)` with the heat-equation term) and conv energies stay on the CPU, with the reason.
 * @module
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Key } from '../../random/index.js';
import { InvalidArgumentError } from '../../errors.js';
import type { GpuKernels, GpuTensor } from '../../gpu/kernels.js';
import { uploadMlp, disposeMlp, disposeAll, readMlpGrads, gpuMlpNetUnsupported } from '../../gpu/mlpNet.js';
import { mlpInputGradPassGpu, mlpInputGradParamGradGpu } from '../../gpu/mlpDsm.js';
import { mlpScoreMatchingGpu } from '../../gpu/mlpSsm.js';
import { probes } from '../../random/probes.js';
import { formatArch, archInputSize, type DeepEbmConfig } from './estimator.js';
import { deepEbmScoreUpdate, type DeepEbmScoreOptions, type DeepEbmScoreState, type DeepEbmScoreInfo } from './scoreMatching.js';

/**
 * Why a deep-EBM score-matching run cannot train on the GPU (`null` when it can): `dsm` (single σ: not a
 * noise-conditional energy), `ssm`, `ssm-vr` and `sm` of an MLP energy with an activation that has derivative kernels.
 * @example deepEbmScoreGpuUnsupported(noiseCfg, 'dsm') // "noise-conditional --loss dsm (…) has no WebGPU step; …"
 */
export function deepEbmScoreGpuUnsupported(cfg: DeepEbmConfig, loss: string): string | null {
  if (loss !== 'dsm' && loss !== 'ssm' && loss !== 'ssm-vr' && loss !== 'sm') return `--loss ${loss} has no WebGPU step`;
  if (cfg.arch.kind !== 'mlp') return `--arch ${formatArch(cfg.arch)}: conv energies need convolution kernels, which the WebGPU backend does not have yet`;
  if (cfg.noise) return 'noise-conditional --loss dsm (E(x, σ) with the heat-equation term, a third-order gradient) has no WebGPU step; --sigma-max none (single-σ DSM) runs on the GPU';
  return gpuMlpNetUnsupported(cfg.activation);
}

function perCoord(v: readonly number[], d: number): Float32Array {
  return Float32Array.from({ length: d }, (_, j) => (v.length === 1 ? v[0] : v[j]));
}

/**
 * The single-σ DSM loss `½‖−∇ₓE(x + σε) + ε/σ‖²/n` of a deep-EBM MLP energy on the batch `x [n, D]` (data units) and
 * its gradient with respect to every parameter, on the device; `ε = normal(key, [n, D])`. The same value and gradient
 * as `ebmScoreLoss('dsm', cfg, σ)` through `valueAndGrad`, within float32 rounding. The parameters are uploaded and
 * the gradients read back once per call.
 * @example const { loss, grads } = await deepEbmDsmValueAndGradGpu(gpu, params, cfg, 0.05, batch, key(3));
 */
export async function deepEbmDsmValueAndGradGpu(gpu: GpuKernels, params: Record<string, Tensor>, cfg: DeepEbmConfig, sigma: number, x: Tensor, key: Key): Promise<{ loss: number; grads: Record<string, Tensor> }> {
  const why = deepEbmScoreGpuUnsupported(cfg, 'dsm');
  if (why) throw new InvalidArgumentError(`deepEbmDsmValueAndGradGpu: ${why}`);
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new InvalidArgumentError(`deepEbmDsmValueAndGradGpu: sigma must be a finite number > 0, got ${sigma}`);
  const D = archInputSize(cfg.arch);
  if (x.ndim !== 2 || x.shape[1] !== D) throw new InvalidArgumentError(`deepEbmDsmValueAndGradGpu: the batch has shape [${x.shape.join(', ')}] but the energy takes [n, ${D}]`);
  const n = x.shape[0];
  const net = uploadMlp(gpu, params, cfg.activation);
  const temp: GpuTensor[] = [];
  const keep = <T extends GpuTensor>(t: T): T => { temp.push(t); return t; };
  try {
    const xg = keep(gpu.upload(Float32Array.from(x.data as ArrayLike<number>), x.shape));
    const eps = keep(gpu.normal(key, x.shape));
    const xt = keep(gpu.axpby(xg, eps, eps, sigma, 0)); // x̃ = x + σε
    const identity = cfg.shift.every((v) => v === 0) && cfg.scale.every((v) => v === 1);
    const shift = identity ? null : keep(gpu.upload(perCoord(cfg.shift, D), [D]));
    const invScale = identity ? null : keep(gpu.upload(perCoord(cfg.scale, D).map((s) => 1 / s), [D]));
    const z = shift && invScale ? keep(gpu.binary('mul', keep(gpu.binary('sub', xt, shift)), invScale)) : xt;
    // The network input h and, with Fourier features, cos ũ = [cos zP, −sin zP] and P₂ = [P, P].
    let h0 = z, cosU: GpuTensor | null = null, p2: GpuTensor | null = null;
    if (cfg.fourier) {
      const F = cfg.fourier.features;
      const P = Float32Array.from(cfg.fourier.B, (v) => 2 * Math.PI * v);
      const P2 = new Float32Array(D * 2 * F);
      for (let i = 0; i < D; i++) for (let j = 0; j < F; j++) P2[i * 2 * F + j] = P2[i * 2 * F + F + j] = P[i * F + j];
      p2 = keep(gpu.upload(P2, [D, 2 * F]));
      const omega = keep(gpu.upload(Float32Array.from({ length: 2 * F }, (_, j) => (j < F ? 0 : Math.PI / 2)), [2 * F]));
      const u = keep(gpu.binary('add', keep(gpu.matmul(z, p2)), omega));
      h0 = keep(gpu.trig('sin', u));
      cosU = keep(gpu.trig('cos', u));
    }
    const pass = mlpInputGradPassGpu(gpu, net, h0);
    temp.push(...pass.temp);
    // ∂E/∂z = J_hᵀu₀ + c·z; ∇ₓE = that/scale.
    let gz = cosU && p2 ? keep(gpu.matmul(keep(gpu.binary('mul', pass.u[0], cosU)), p2, { transB: true })) : pass.u[0];
    if (cfg.confine > 0) gz = keep(gpu.lincomb(gz, z, z, 1, cfg.confine, 0));
    const gx = invScale ? keep(gpu.binary('mul', gz, invScale)) : gz;
    // r = s + ε/σ = −∇ₓE + ε/σ; L = ½Σr²/n; ∂L/∂(∇ₓE) = −r/n.
    const r = keep(gpu.lincomb(gx, eps, eps, -1, 1 / sigma, 0));
    const lossSum = keep(gpu.sumAll(keep(gpu.unary('square', r))));
    let gbar = keep(gpu.lincomb(r, r, r, -1 / n, 0, 0));
    if (invScale) gbar = keep(gpu.binary('mul', gbar, invScale));
    const ubar0 = cosU && p2 ? keep(gpu.binary('mul', keep(gpu.matmul(gbar, p2)), cosU)) : gbar;
    const back = mlpInputGradParamGradGpu(gpu, net, pass, ubar0);
    temp.push(...back.temp, ...back.gW, ...back.gB.filter((t): t is GpuTensor => t !== null));
    const loss = 0.5 * (await lossSum.read())[0] / n;
    const grads = await readMlpGrads(params, back.gW, back.gB);
    return { loss, grads };
  } finally {
    disposeAll(temp);
    disposeMlp(net);
  }
}

/**
 * The sliced (`ssm`: `(1/n)Σ[vᵀ∇ₓ(vᵀs) + ½(vᵀs)²]`, `ssm-vr`: `½‖s‖²` for the last term; Rademacher probes
 * `probes(key, [n, D], 'rademacher')`, one per row) or exact (`sm`: `(1/n)Σ[½‖s‖² + tr ∇ₓs]`, the `D` basis probes
 * over `D` copies of the batch) score-matching loss of a deep-EBM MLP energy, `s = −∇ₓE`, and its parameter gradient
 * on the device (src/gpu/mlpSsm.ts; the probes are drawn on the host, exactly the CPU's). The same value and gradient
 * as `ebmScoreLoss(loss, cfg, σ)` through `valueAndGrad`, within float32 rounding.
 * @example const { loss, grads } = await deepEbmSsmValueAndGradGpu(gpu, params, cfg, 'ssm', batch, key(3));
 */
export async function deepEbmSsmValueAndGradGpu(gpu: GpuKernels, params: Record<string, Tensor>, cfg: DeepEbmConfig, loss: 'ssm' | 'ssm-vr' | 'sm', x: Tensor, key: Key): Promise<{ loss: number; grads: Record<string, Tensor> }> {
  const why = deepEbmScoreGpuUnsupported(cfg, loss);
  if (why) throw new InvalidArgumentError(`deepEbmSsmValueAndGradGpu: ${why}`);
  const D = archInputSize(cfg.arch);
  if (x.ndim !== 2 || x.shape[1] !== D) throw new InvalidArgumentError(`deepEbmSsmValueAndGradGpu: the batch has shape [${x.shape.join(', ')}] but the energy takes [n, ${D}]`);
  const n = x.shape[0];
  const scale = perCoord(cfg.scale, D);
  // Rows and probes (data units) on the host: the batch and Rademacher probes, or D copies with the basis probes.
  let rows: Float32Array, v: Float32Array;
  if (loss === 'sm') {
    rows = new Float32Array(D * n * D);
    v = new Float32Array(D * n * D);
    for (let j = 0; j < D; j++) {
      rows.set(Float32Array.from(x.data as ArrayLike<number>), j * n * D);
      for (let i = 0; i < n; i++) v[(j * n + i) * D + j] = 1;
    }
  } else {
    rows = Float32Array.from(x.data as ArrayLike<number>);
    v = Float32Array.from(probes(key, [n, D], 'rademacher', 'float32').data as ArrayLike<number>);
  }
  const N = rows.length / D;
  const net = uploadMlp(gpu, params, cfg.activation);
  const temp: GpuTensor[] = [];
  const keep = <T extends GpuTensor>(t: T): T => { temp.push(t); return t; };
  try {
    const xg = keep(gpu.upload(rows, [N, D]));
    const identity = cfg.shift.every((q) => q === 0) && cfg.scale.every((q) => q === 1);
    const shift = identity ? null : keep(gpu.upload(perCoord(cfg.shift, D), [D]));
    const invScale = identity ? null : keep(gpu.upload(scale.map((q) => 1 / q), [D]));
    const z = shift && invScale ? keep(gpu.binary('mul', keep(gpu.binary('sub', xg, shift)), invScale)) : xg;
    // The probe in z units: vᵀHₓv = wᵀH_z w and vᵀ∇ₓE = wᵀ∇_zE with w = v/scale.
    const w = keep(gpu.upload(v.map((q, i) => q / scale[i % D]), [N, D]));
    let fourier: { p2: GpuTensor; omega: GpuTensor } | null = null;
    if (cfg.fourier) {
      const F = cfg.fourier.features;
      const P = Float32Array.from(cfg.fourier.B, (b) => 2 * Math.PI * b);
      const P2 = new Float32Array(D * 2 * F);
      for (let i = 0; i < D; i++) for (let j = 0; j < F; j++) P2[i * 2 * F + j] = P2[i * 2 * F + F + j] = P[i * F + j];
      fourier = {
        p2: keep(gpu.upload(P2, [D, 2 * F])),
        omega: keep(gpu.upload(Float32Array.from({ length: 2 * F }, (_, j) => (j < F ? 0 : Math.PI / 2)), [2 * F])),
      };
    }
    const r = await mlpScoreMatchingGpu(gpu, net, {
      z, w, invScale, fourier, confine: cfg.confine, sqTerm: loss === 'ssm' ? 'projected' : 'full',
      jacWeight: 1 / n, sqWeight: loss === 'sm' ? 1 / (n * D) : 1 / n,
    });
    temp.push(...r.temp, ...r.gW, ...r.gB.filter((t): t is GpuTensor => t !== null));
    return { loss: r.loss, grads: await readMlpGrads(params, r.gW, r.gB) };
  } finally {
    disposeAll(temp);
    disposeMlp(net);
  }
}

/**
 * `deepEbmScoreTrainStep` with the loss and its parameter gradient on the device ({@link deepEbmDsmValueAndGradGpu})
 * and the same Adam update on the host (`deepEbmScoreUpdate`): the same keys, so the same noise, and the same states
 * within float32 rounding. Single-σ DSM, ssm, ssm-vr and sm of MLP energies ({@link deepEbmScoreGpuUnsupported}).
 * @example const step = deepEbmScoreTrainStepGpu(gpu, cfg, { loss: 'dsm', sigma: 0.05, lr: 2e-3 }); [s] = await step(s, batch, k);
 */
export function deepEbmScoreTrainStepGpu(gpu: GpuKernels, cfg: DeepEbmConfig, o: DeepEbmScoreOptions): (state: DeepEbmScoreState, batch: Tensor, key: Key) => Promise<readonly [DeepEbmScoreState, DeepEbmScoreInfo]> {
  const why = deepEbmScoreGpuUnsupported(cfg, o.loss);
  if (why) throw new InvalidArgumentError(`deepEbmScoreTrainStepGpu: ${why}`);
  const update = deepEbmScoreUpdate(o);
  return async (s, batch, key) => {
    const { loss, grads } = o.loss === 'dsm' ? await deepEbmDsmValueAndGradGpu(gpu, s.params, cfg, o.sigma, batch, key) : await deepEbmSsmValueAndGradGpu(gpu, s.params, cfg, o.loss, batch, key);
    return update(s, loss, grads);
  };
}
