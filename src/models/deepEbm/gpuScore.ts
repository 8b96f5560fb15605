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
 * src/gpu/mlpSsm.ts ({@link deepEbmSsmValueAndGradGpu}), noise-conditional DSM with the heat-equation term (the default
 * on low-dimensional vectors) on both ({@link deepEbmNcDsmValueAndGradGpu}). Conv energies stay on the CPU, with the
 * reason.
 * @module
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Key } from '../../random/index.js';
import { InvalidArgumentError } from '../../errors.js';
import type { GpuKernels, GpuTensor } from '../../gpu/kernels.js';
import { uploadMlp, disposeMlp, disposeAll, readMlpGrads, gpuMlpNetUnsupported } from '../../gpu/mlpNet.js';
import { mlpInputGradPassGpu, mlpInputGradParamGradGpu } from '../../gpu/mlpDsm.js';
import { mlpScoreMatchingGpu, mlpHessianQuadForwardGpu, mlpHessianQuadReverseGpu } from '../../gpu/mlpSsm.js';
import { probes } from '../../random/probes.js';
import { split, uniformArray, normal } from '../../random/index.js';
import { GpuTensor as GpuTensorClass } from '../../gpu/kernels.js';
import { DSM_SIGMA_MIN_FRACTION } from './scoreMatching.js';
import { formatArch, archInputSize, type DeepEbmConfig } from './estimator.js';
import { deepEbmScoreUpdate, type DeepEbmScoreOptions, type DeepEbmScoreState, type DeepEbmScoreInfo } from './scoreMatching.js';

/**
 * Why a deep-EBM score-matching run cannot train on the GPU (`null` when it can): `dsm` (single σ or noise-conditional
 * with the heat term), `ssm`, `ssm-vr` and `sm` of an MLP energy with an activation that has derivative kernels.
 * @example deepEbmScoreGpuUnsupported(convCfg, 'dsm') // "--arch conv:…: score matching of conv energies … has no WebGPU step; …"
 */
export function deepEbmScoreGpuUnsupported(cfg: DeepEbmConfig, loss: string): string | null {
  if (loss !== 'dsm' && loss !== 'ssm' && loss !== 'ssm-vr' && loss !== 'sm') return `--loss ${loss} has no WebGPU step`;
  if (cfg.arch.kind !== 'mlp') return `--arch ${formatArch(cfg.arch)}: score matching of conv energies (gradients of input gradients through the conv net) has no WebGPU step; --loss cd runs conv energies on the GPU`;
  if (cfg.noise && loss !== 'dsm') return `a noise-conditional energy is trained by dsm, not ${loss}`;
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
  const why = cfg.noise ? 'a noise-conditional energy: use deepEbmNcDsmValueAndGradGpu' : deepEbmScoreGpuUnsupported(cfg, 'dsm');
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
 * Noise-conditional DSM with the heat-equation term (`ebmScoreLoss('dsm', cfg, σ, heat)` for a config with `noise`,
 * i.e. `noiseConditionalDenoisingScoreMatching` over the energy `E(x, σ)` whose network reads `u = a·log σ + b` as
 * its last input) and its parameter gradient on the device. The CPU loss's own draws on the host (`[kPick, kLevel,
 * kEps] = split(key, 3)`: the levels, then `ε` and `x̃ = x + σε` in its float32 ops); `D` copies of `x̃` probed with
 * the basis vectors give `ΔₓE` from the Hessian quadratic forms (`mlpHessianQuadGpu`) and the features' curvature.
 * Read back per row: `∂E/∂log σ` (the `u` column of `u₀` times `a`), `ΔE`, `∇ₓE`; the residual
 * `τR = ½∂_{log σ}E − ½τ(ΔE − ‖∇E‖²)`, the loss and the cotangents (`ρ = 2·heat·τR/n`: `−½τρ` on every copy's
 * `wᵀHw`, `½ρa` on `u`, `τρ∇ₓE/scale − σ(ε − σ∇ₓE)/(n·scale)` on `∂E/∂z` of copy 0) are formed on the host in
 * float64, then one reverse pass of each kind gives the gradient. A step costs about `2D` times the network work of a
 * single-σ DSM step, as on the CPU.
 * @example const { loss, grads } = await deepEbmNcDsmValueAndGradGpu(gpu, params, cfg, 1, batch, key(3));
 */
export async function deepEbmNcDsmValueAndGradGpu(gpu: GpuKernels, params: Record<string, Tensor>, cfg: DeepEbmConfig, heat: number, x: Tensor, key: Key): Promise<{ loss: number; grads: Record<string, Tensor> }> {
  const noise = cfg.noise;
  if (!noise) throw new InvalidArgumentError('deepEbmNcDsmValueAndGradGpu: the config has no noise levels (cfg.noise)');
  const why = cfg.arch.kind !== 'mlp' ? `--arch ${formatArch(cfg.arch)}: conv energies have no WebGPU step` : gpuMlpNetUnsupported(cfg.activation);
  if (why) throw new InvalidArgumentError(`deepEbmNcDsmValueAndGradGpu: ${why}`);
  if (!(heat >= 0) || !Number.isFinite(heat)) throw new InvalidArgumentError(`deepEbmNcDsmValueAndGradGpu: heat must be a finite number ≥ 0, got ${heat}`);
  const D = archInputSize(cfg.arch);
  if (x.ndim !== 2 || x.shape[1] !== D) throw new InvalidArgumentError(`deepEbmNcDsmValueAndGradGpu: the batch has shape [${x.shape.join(', ')}] but the energy takes [n, ${D}]`);
  const n = x.shape[0];
  // The CPU loss's draws: levels, ε, x̃ (float32 ops as there), log σ and the network's u input.
  const L = Math.log(noise.sigmaMax / noise.sigmaMin);
  const [kPick, kLevel, kEps] = split(key, 3);
  const pick = uniformArray(kPick, n, 'float64'), lev = uniformArray(kLevel, n, 'float64');
  const sig = Float64Array.from({ length: n }, (_, i) => (pick[i] < DSM_SIGMA_MIN_FRACTION ? noise.sigmaMin : noise.sigmaMin * Math.exp(L * lev[i])));
  const eps = normal(kEps, x.shape, { dtype: 'float32' }).data as Float32Array;
  const xt = new Float32Array(n * D);
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) xt[i * D + j] = Math.fround(x.data[i * D + j] + Math.fround(eps[i * D + j] * Math.fround(sig[i])));
  const uScale = 2 / L;
  const uShift = -uScale * Math.log(noise.sigmaMin) - 1;
  const uIn = Float32Array.from(sig, (sg) => Math.fround(Math.fround(Math.fround(Math.log(sg)) * Math.fround(uScale)) + Math.fround(uShift)));
  const copies = heat > 0 ? D : 1;
  const N = copies * n;
  const scale = perCoord(cfg.scale, D);
  const rows = new Float32Array(N * D), w = new Float32Array(N * D), uRep = new Float32Array(N);
  for (let j = 0; j < copies; j++) {
    rows.set(xt, j * n * D);
    uRep.set(uIn, j * n);
    for (let i = 0; i < n; i++) w[(j * n + i) * D + j] = 1 / scale[j];
  }
  const net = uploadMlp(gpu, params, cfg.activation);
  const temp: GpuTensor[] = [];
  const keep = <T extends GpuTensor>(t: T): T => { temp.push(t); return t; };
  const col = (t: GpuTensor): GpuTensor => new GpuTensorClass(gpu, [t.size, 1], t.buffer);
  try {
    const xg = keep(gpu.upload(rows, [N, D]));
    const identity = cfg.shift.every((q) => q === 0) && cfg.scale.every((q) => q === 1);
    const shift = identity ? null : keep(gpu.upload(perCoord(cfg.shift, D), [D]));
    const invScale = identity ? null : keep(gpu.upload(scale.map((q) => 1 / q), [D]));
    const z = shift && invScale ? keep(gpu.binary('mul', keep(gpu.binary('sub', xg, shift)), invScale)) : xg;
    const wg = keep(gpu.upload(w, [N, D]));
    // Features (k columns), their tangent along w and curvature; then h₀ = [features, u] by padding matmuls (exact).
    let feat = z, featDot = wg, q: GpuTensor | null = null, cosU: GpuTensor | null = null, p2: GpuTensor | null = null;
    if (cfg.fourier) {
      const F = cfg.fourier.features;
      const P = Float32Array.from(cfg.fourier.B, (b) => 2 * Math.PI * b);
      const P2 = new Float32Array(D * 2 * F);
      for (let i = 0; i < D; i++) for (let j = 0; j < F; j++) P2[i * 2 * F + j] = P2[i * 2 * F + F + j] = P[i * F + j];
      p2 = keep(gpu.upload(P2, [D, 2 * F]));
      const omega = keep(gpu.upload(Float32Array.from({ length: 2 * F }, (_, j) => (j < F ? 0 : Math.PI / 2)), [2 * F]));
      const uu = keep(gpu.binary('add', keep(gpu.matmul(z, p2)), omega));
      const wp = keep(gpu.matmul(wg, p2));
      feat = keep(gpu.trig('sin', uu));
      cosU = keep(gpu.trig('cos', uu));
      featDot = keep(gpu.binary('mul', cosU, wp));
      q = keep(gpu.unary('neg', keep(gpu.binary('mul', feat, keep(gpu.binary('mul', wp, wp))))));
    }
    const k = feat.shape[1];
    const padM = new Float32Array(k * (k + 1));
    for (let i = 0; i < k; i++) padM[i * (k + 1) + i] = 1;
    const pad = keep(gpu.upload(padM, [k, k + 1]));
    const eLast = keep(gpu.upload(Float32Array.from({ length: k + 1 }, (_, i) => (i === k ? 1 : 0)), [1, k + 1]));
    const uCol = keep(gpu.upload(uRep, [N, 1]));
    const h0 = keep(gpu.binary('add', keep(gpu.matmul(feat, pad)), keep(gpu.matmul(uCol, eLast))));
    const hd0 = keep(gpu.matmul(featDot, pad));
    const pass = mlpInputGradPassGpu(gpu, net, h0);
    temp.push(...pass.temp);
    const u0 = pass.u[0];
    const u0feat = keep(gpu.matmul(u0, pad, { transB: true }));
    const u0u = keep(gpu.matmul(u0, eLast, { transB: true }));
    // Per-row values read back: ∇ₓE (copy 0 rows are the first n), ∂f/∂u, and wᵀH_f w + u₀·q per copy.
    let gz = cosU && p2 ? keep(gpu.matmul(keep(gpu.binary('mul', u0feat, cosU)), p2, { transB: true })) : u0feat;
    if (cfg.confine > 0) gz = keep(gpu.lincomb(gz, z, z, 1, cfg.confine, 0));
    const gx = invScale ? keep(gpu.binary('mul', gz, invScale)) : gz;
    const gxH = await gx.read();
    const fu = await u0u.read();
    let wHw: Float32Array | null = null;
    const tauT = new Float32Array(N);
    const fwd = heat > 0 ? mlpHessianQuadForwardGpu(gpu, net, pass, hd0) : null;
    if (fwd) {
      temp.push(...fwd.temp);
      const parts: GpuTensor[] = [];
      if (fwd.T) { temp.push(fwd.T); parts.push(fwd.T); }
      if (q) parts.push(col(keep(gpu.sumLast(keep(gpu.binary('mul', u0feat, q))))));
      wHw = parts.length === 0 ? new Float32Array(N) : parts.length === 1 ? await parts[0].read() : await keep(gpu.binary('add', parts[0], parts[1])).read();
    }
    // The loss and the cotangents, on the host in float64.
    let dsm = 0, heatSum = 0;
    const rho = new Float64Array(n);
    const gamma = new Float32Array(N * D); // cotangent of ∂E/∂z, copy-0 rows
    for (let i = 0; i < n; i++) {
      let g2 = 0;
      for (let j = 0; j < D; j++) {
        const g = gxH[i * D + j];
        g2 += g * g;
        const r = eps[i * D + j] - Math.fround(sig[i]) * g;
        dsm += r * r;
      }
      let tr = 0;
      if (heat > 0) {
        let lap = 0;
        for (let j = 0; j < D; j++) lap += wHw![j * n + i] + cfg.confine / (scale[j] * scale[j]);
        const tau = sig[i] * sig[i];
        tr = 0.5 * fu[i] * uScale - 0.5 * tau * (lap - g2);
        heatSum += tr * tr;
        rho[i] = (2 * heat * tr) / n;
        for (let j = 0; j < copies; j++) tauT[j * n + i] = -0.5 * tau * rho[i];
      }
      for (let j = 0; j < D; j++) {
        const g = gxH[i * D + j];
        const r = eps[i * D + j] - Math.fround(sig[i]) * g;
        gamma[i * D + j] = ((heat > 0 ? sig[i] * sig[i] * rho[i] * g : 0) - (Math.fround(sig[i]) * r) / n) / scale[j];
      }
    }
    const loss = (0.5 * dsm) / n + heat * (heatSum / n);
    // ū₀ = [J_feat(Γ) + (wᵀHw weights)·q, ½ρa on u (copy 0)].
    const gammaG = keep(gpu.upload(gamma, [N, D]));
    let ubarFeat = cosU && p2 ? keep(gpu.binary('mul', keep(gpu.matmul(gammaG, p2)), cosU)) : gammaG;
    const tauG = keep(gpu.upload(tauT, [N, 1]));
    if (q && heat > 0) ubarFeat = keep(gpu.binary('add', ubarFeat, keep(gpu.binary('mul', q, keep(gpu.matmul(tauG, keep(gpu.upload(new Float32Array(k).fill(1), [1, k]))))))));
    const ubarU = keep(gpu.upload(Float32Array.from({ length: N }, (_, r) => (r < n ? 0.5 * rho[r] * uScale : 0)), [N, 1]));
    const ubar0 = keep(gpu.binary('add', keep(gpu.matmul(ubarFeat, pad)), keep(gpu.matmul(ubarU, eLast))));
    const back = mlpInputGradParamGradGpu(gpu, net, pass, ubar0);
    temp.push(...back.temp, ...back.gW, ...back.gB.filter((t): t is GpuTensor => t !== null));
    let gW: GpuTensor[] = back.gW, gB: (GpuTensor | null)[] = back.gB;
    if (fwd) {
      const hq = mlpHessianQuadReverseGpu(gpu, net, pass, fwd, tauG);
      temp.push(...hq.temp);
      gW = back.gW.map((t, l) => (hq!.gW[l] ? keep(gpu.binary('add', t, keep(hq!.gW[l]!))) : t));
      gB = back.gB.map((t, l) => {
        const h = hq!.gB[l];
        if (h) keep(h);
        return t && h ? keep(gpu.binary('add', t, h)) : t ?? h;
      });
    }
    return { loss, grads: await readMlpGrads(params, gW, gB) };
  } finally {
    disposeAll(temp);
    disposeMlp(net);
  }
}

/**
 * `deepEbmScoreTrainStep` with the loss and its parameter gradient on the device ({@link deepEbmDsmValueAndGradGpu})
 * and the same Adam update on the host (`deepEbmScoreUpdate`): the same keys, so the same noise, and the same states
 * within float32 rounding. DSM (single σ or noise-conditional), ssm, ssm-vr and sm of MLP energies
 * ({@link deepEbmScoreGpuUnsupported}).
 * @example const step = deepEbmScoreTrainStepGpu(gpu, cfg, { loss: 'dsm', sigma: 0.05, lr: 2e-3 }); [s] = await step(s, batch, k);
 */
export function deepEbmScoreTrainStepGpu(gpu: GpuKernels, cfg: DeepEbmConfig, o: DeepEbmScoreOptions): (state: DeepEbmScoreState, batch: Tensor, key: Key) => Promise<readonly [DeepEbmScoreState, DeepEbmScoreInfo]> {
  const why = deepEbmScoreGpuUnsupported(cfg, o.loss);
  if (why) throw new InvalidArgumentError(`deepEbmScoreTrainStepGpu: ${why}`);
  const update = deepEbmScoreUpdate(o);
  return async (s, batch, key) => {
    const { loss, grads } = o.loss !== 'dsm' ? await deepEbmSsmValueAndGradGpu(gpu, s.params, cfg, o.loss, batch, key)
      : cfg.noise ? await deepEbmNcDsmValueAndGradGpu(gpu, s.params, cfg, o.heat ?? 1, batch, key)
        : await deepEbmDsmValueAndGradGpu(gpu, s.params, cfg, o.sigma, batch, key);
    return update(s, loss, grads);
  };
}
