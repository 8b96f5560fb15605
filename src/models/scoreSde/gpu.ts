/**
 * The score-sde kind on the WebGPU device, for the time-conditioned MLP score network (`--arch mlp:…`, with or
 * without Fourier features) and the U-Net (`--arch unet:c,m`), lowered by hand on the kernels of src/gpu
 * (docs/webgpu.md):
 * - {@link scoreSdeTrainStepGpu}, the twin of {@link scoreSdeTrainStep}: the step's dequantisation (8-bit images),
 *   times, perturbation and network input (`z = c_in·x_t`, clamped to `±inputClip` when the config has it, as for
 *   images; MLP: `[z, φ(z), emb(τ(t))]`; U-Net: `z` and `emb(τ(t))`) are drawn and built on the host with the CPU step's code
 *   and keys (`dequantizeBatch`, `scoreSdeTrainingTimes`, `perturb`, `scoreNetCoefficients`: O(n·D) work); the
 *   network's forward pass, the DSM residual `r = w·(s + ε/σ)` with `s = net/σ − c_in²·x_t`, the loss `½‖r‖²/n` and
 *   the parameter gradient (plain backprop: `mlpParamGradGpu`, `unetParamGradGpu`) run on the device; the gradients
 *   are read back once per step and the update (Adam, EMA) is the CPU step's own (`scoreSdeUpdate`).
 * - {@link sampleScoreSdeGpu}, the twin of {@link sampleScoreSde} for the `em` and `pc` samplers: the chain stays
 *   on the device; each step evaluates the network there on `c_in·x` (clamped when the config clips; MLP: layer 0
 *   assembled from blocks of its weight: the input, the Fourier features by the `trig` kernel, and the time embedding
 *   folded into the bias; U-Net: one shared embedding row folded into every block's bias), and the Euler–Maruyama
 *   update (one `lincomb`) and the Langevin corrector with the snr rule (row norms by reductions, `snrLangevin`, no
 *   read-back) use GPU Philox normals of the CPU sampler's keys. Only the final chain comes back.
 * The probability-flow ODE and annealed Langevin samplers (float64 state, adaptive steps) stay on the CPU, with the
 * reason ({@link scoreSdeGpuUnsupported}, {@link scoreSdeSampleGpuUnsupported}).
 * @module
 */
import { Tensor, tensor, reshape, mul, concat, clamp, noGrad } from '../../tensor/index.js';
import { split, type Key } from '../../random/index.js';
import { fourierFeatureFn } from '../../nn/index.js';
import { adam } from '../../optim/index.js';
import { perturb, timeEmbedding, type SDE } from '../../diffusion/index.js';
import { DivergenceError } from '../../samplers/types.js';
import { InvalidArgumentError } from '../../errors.js';
import type { GpuKernels, GpuTensor } from '../../gpu/kernels.js';
import { uploadMlp, disposeMlp, disposeAll, mlpForwardGpu, mlpParamGradGpu, readMlpGrads, gpuMlpNetUnsupported, weightRows, type GpuMlp } from '../../gpu/mlpNet.js';
import { uploadUNet, disposeUNet, unetForwardGpu, unetParamGradGpu, readUNetGrads, disposeUNetGrads, gpuUNetUnsupported, type GpuUNet } from '../../gpu/unetNet.js';
import { reshapeGpu } from '../../gpu/convKernels.js';
import { sdeOf, netShape, toDataSpace, SCORE_SAMPLERS, type ScoreSdeConfig, type ScoreSampler } from './config.js';
import { scoreNetCoefficients, type ScoreParams } from './score.js';
import { scoreSdeTrainingTimes, scoreSdeWeights } from './loss.js';
import { scoreSdeUpdate, scoreSdeTrainSettings, dequantizeBatch, type ScoreSdeTrainOptions, type ScoreSdeTrainState, type ScoreSdeStepInfo } from './train.js';
import { defaultSampler, type ScoreSampleOptions } from './sample.js';

type MlpArch = Extract<ScoreSdeConfig['arch'], { kind: 'mlp' }>;

/**
 * Why a score-sde config cannot train or sample on the GPU (`null` when it can): an MLP activation without a fused
 * backward kernel. The U-Net, and MLPs on vectors or images (dequantised batches, clipped input), run on the GPU.
 * @example scoreSdeGpuUnsupported({ ...cfg, arch: { ...cfg.arch, activation: 'elu' } }) // "activation 'elu' has no WebGPU kernel (…)"
 */
export function scoreSdeGpuUnsupported(cfg: ScoreSdeConfig): string | null {
  return cfg.arch.kind === 'unet' ? null : gpuMlpNetUnsupported(cfg.arch.activation);
}

/**
 * Why {@link sampleScoreSdeGpu} cannot draw with this config and sampler (`null` when it can): those of
 * {@link scoreSdeGpuUnsupported}, and the `ode` and `annealed` samplers, which run on the CPU.
 * @example scoreSdeSampleGpuUnsupported(cfg, 'ode') // "sampler 'ode' (probability-flow ODE …) runs on the CPU; …"
 */
export function scoreSdeSampleGpuUnsupported(cfg: ScoreSdeConfig, sampler: ScoreSampler = defaultSampler(cfg)): string | null {
  const why = scoreSdeGpuUnsupported(cfg);
  if (why) return why;
  if (sampler === 'ode') return "sampler 'ode' (probability-flow ODE, adaptive RK45 on a float64 state) runs on the CPU; em and pc run on the GPU";
  if (sampler === 'annealed') return "sampler 'annealed' (annealed Langevin on a float64 chain) runs on the CPU; em and pc run on the GPU";
  if (!(SCORE_SAMPLERS as readonly string[]).includes(sampler)) return `unknown sampler '${String(sampler)}'`;
  return null;
}

function mlpArch(cfg: ScoreSdeConfig, fn: string): MlpArch {
  const why = scoreSdeGpuUnsupported(cfg);
  if (why) throw new InvalidArgumentError(`${fn}: ${why}`);
  return cfg.arch as MlpArch;
}

/** The loss of a batch, its mean time and the gradient with respect to every parameter. */
export interface ScoreSdeGpuValueAndGrad {
  readonly loss: number;
  readonly meanT: number;
  readonly grads: ScoreParams;
}

/**
 * The DSM loss of the config (`scoreSdeLoss`: the same times, noise and weighting from the same key) and its
 * parameter gradient, with the network, the loss and the backprop on the device:
 * `J = ½Σᵢ‖wᵢ(s(x_t,ᵢ, tᵢ) + εᵢ/σᵢ)‖²/n`, `s = net([c_in x_t, φ(c_in x_t), emb(τ)])/σ − c_in² x_t` (U-Net:
 * `s = net(clip(c_in x_t), emb(τ))/σ − c_in² x_t`, batch `[n, 1, 28, 28]`), `w = σ` (sigma2) or `g` (likelihood).
 * Dispatches per call (MLP): the MLP's forward (3 per hidden layer, 2 for the output), 4 for the
 * loss, about 4 per layer for the gradient; one upload of the parameters and of the batch's input, one read-back of
 * the loss and every gradient.
 * @example const vg = scoreSdeValueAndGradGpu(gpu, cfg); const { loss, grads } = await vg(params, zb, k);
 */
export function scoreSdeValueAndGradGpu(gpu: GpuKernels, cfg: ScoreSdeConfig, sde: SDE = sdeOf(cfg)): (p: ScoreParams, batch: Tensor, key: Key) => Promise<ScoreSdeGpuValueAndGrad> {
  if (cfg.arch.kind === 'unet') return unetValueAndGradGpu(gpu, cfg, sde);
  const arch = mlpArch(cfg, 'scoreSdeValueAndGradGpu');
  const times = scoreSdeTrainingTimes(cfg, sde);
  const coefficients = scoreNetCoefficients(cfg, sde);
  const phi = arch.fourier ? fourierFeatureFn(arch.fourier, cfg.dim, 'float32') : null;
  const clip = cfg.inputClip ?? null;
  const D = cfg.dim;
  return async (p, batch, key) => {
    if (batch.ndim !== 2 || batch.shape[1] !== D || batch.dtype !== 'float32') throw new InvalidArgumentError(`scoreSdeValueAndGradGpu: the batch must be float32 [n, ${D}], got ${batch.dtype} [${batch.shape.join(', ')}]`);
    const n = batch.shape[0];
    const { t, meanT, kz } = times(n, key);
    const w = scoreSdeWeights(cfg, sde, t);
    const { xt, z } = perturb(sde, batch, t, kz);
    // The network sees float32 times, as the CPU loss passes them (tensor(t, [n], 'float32')).
    const c = coefficients(Float32Array.from(t));
    const X = noGrad(() => {
      const zs = mul(xt, reshape(tensor(c.cin, [n], 'float32'), [n, 1]));
      const zin = clip ? clamp(zs, -clip, clip) : zs;
      const netIn = phi ? concat([zin, phi(zin)], 1) : zin;
      return concat([netIn, timeEmbedding(tensor(c.tau, [n], 'float32'), arch.embedDim)], 1);
    });
    // r = net ⊙ A + B per element: A = w/σ, B = w(ε/σ − c_in² x_t) (float64 on the host, rounded once).
    const sd = new Float64Array(n);
    for (let i = 0; i < n; i++) sd[i] = sde.std(t[i]);
    const { A, An, B } = residualCoefficients(n, D, w, sd, c, z, xt);
    const net = uploadMlp(gpu, p, arch.activation);
    const temp: GpuTensor[] = [];
    const keep = (x: GpuTensor): GpuTensor => { temp.push(x); return x; };
    try {
      const x = keep(gpu.upload(X.data as Float32Array, X.shape));
      const f = mlpForwardGpu(gpu, net, x);
      temp.push(...f.temp);
      const r = keep(gpu.binary('add', keep(gpu.binary('mul', f.out, keep(gpu.upload(A, [n, D])))), keep(gpu.upload(B, [n, D]))));
      const lossSum = keep(gpu.sumAll(keep(gpu.unary('square', r))));
      const gOut = keep(gpu.binary('mul', r, keep(gpu.upload(An, [n, D]))));
      const g = mlpParamGradGpu(gpu, net, f, gOut);
      temp.push(...g.temp, g.abar0, ...g.gW.filter((b): b is GpuTensor => b !== null), ...g.gB.filter((b): b is GpuTensor => b !== null));
      const loss = (0.5 * (await lossSum.read())[0]) / n;
      const grads = await readMlpGrads(p, g.gW, g.gB);
      return { loss, meanT, grads };
    } finally {
      disposeAll(temp);
      disposeMlp(net);
    }
  };
}

/**
 * The residual `r = net ⊙ A + B` of the DSM loss per element, `A = w/σ`, `B = w(ε/σ − c_in²x_t)` (float64 on the
 * host, rounded once), and `A/n` (the cotangent's scale): shared by the MLP and U-Net value-and-gradient functions.
 */
function residualCoefficients(n: number, D: number, w: Float64Array, sd: Float64Array, c: { inv: Float64Array; cin2: Float64Array }, z: Tensor, xt: Tensor): { A: Float32Array; An: Float32Array; B: Float32Array } {
  const A = new Float32Array(n * D), An = new Float32Array(n * D), B = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const inv = Math.fround(c.inv[i]), cin2 = Math.fround(c.cin2[i]);
    for (let j = 0; j < D; j++) {
      const q = i * D + j;
      A[q] = w[i] * inv;
      An[q] = (w[i] * inv) / n;
      B[q] = w[i] * (z.data[q] / sd[i] - cin2 * xt.data[q]);
    }
  }
  return { A, An, B };
}

/** {@link scoreSdeValueAndGradGpu} for the U-Net: host input `clip(c_in·x_t)` and `emb(τ)`, network and backprop on the device. */
function unetValueAndGradGpu(gpu: GpuKernels, cfg: ScoreSdeConfig, sde: SDE): (p: ScoreParams, batch: Tensor, key: Key) => Promise<ScoreSdeGpuValueAndGrad> {
  const times = scoreSdeTrainingTimes(cfg, sde);
  const coefficients = scoreNetCoefficients(cfg, sde);
  const clip = cfg.inputClip ?? null;
  const D = cfg.dim;
  return async (p, batch, key) => {
    const n = batch.shape[0];
    const want = netShape(cfg, n);
    if (batch.dtype !== 'float32' || batch.ndim !== 4 || batch.shape.some((v, i) => v !== want[i])) throw new InvalidArgumentError(`scoreSdeValueAndGradGpu: the batch must be float32 [n, ${want.slice(1).join(', ')}], got ${batch.dtype} [${batch.shape.join(', ')}]`);
    const why = gpuUNetUnsupported(p);
    if (why) throw new InvalidArgumentError(`scoreSdeValueAndGradGpu: ${why}`);
    const { t, meanT, kz } = times(n, key);
    const w = scoreSdeWeights(cfg, sde, t);
    const { xt, z } = perturb(sde, batch, t, kz);
    // The network sees float32 times and c_in, as the CPU loss passes them (tensor(t, [n], 'float32')).
    const c = coefficients(Float32Array.from(t));
    const { X, E } = noGrad(() => {
      const zs = mul(xt, reshape(tensor(c.cin, [n], 'float32'), [n, 1, 1, 1]));
      return { X: clip ? clamp(zs, -clip, clip) : zs, E: timeEmbedding(tensor(c.tau, [n], 'float32'), p['enc1.temb'].shape[0]) };
    });
    const sd = new Float64Array(n);
    for (let i = 0; i < n; i++) sd[i] = sde.std(t[i]);
    const { A, An, B } = residualCoefficients(n, D, w, sd, c, z, xt);
    const net = uploadUNet(gpu, p);
    const temp: GpuTensor[] = [];
    const keep = (x: GpuTensor): GpuTensor => { temp.push(x); return x; };
    try {
      const x = keep(gpu.upload(X.data as Float32Array, X.shape));
      const emb = keep(gpu.upload(E.data as Float32Array, E.shape));
      const f = unetForwardGpu(gpu, net, x, emb);
      temp.push(...f.temp, f.out);
      const r = keep(gpu.binary('add', keep(gpu.binary('mul', f.out, keep(gpu.upload(A, f.out.shape)))), keep(gpu.upload(B, f.out.shape))));
      const lossSum = keep(gpu.sumAll(keep(gpu.unary('square', r))));
      const gOut = keep(gpu.binary('mul', r, keep(gpu.upload(An, f.out.shape))));
      const g = unetParamGradGpu(gpu, net, f, gOut);
      try {
        const loss = (0.5 * (await lossSum.read())[0]) / n;
        const grads = await readUNetGrads(p, g);
        return { loss, meanT, grads };
      } finally {
        disposeUNetGrads(g);
      }
    } finally {
      disposeAll(temp);
      disposeUNet(net);
    }
  };
}

/**
 * {@link scoreSdeTrainStep} with the loss and its parameter gradient computed on the WebGPU device
 * ({@link scoreSdeValueAndGradGpu}), then the CPU step's Adam and EMA update (`scoreSdeUpdate`). Asynchronous;
 * the same keys give the same dequantisation, times and noise, so the same states as the CPU step within float32
 * rounding. MLP and U-Net score networks ({@link scoreSdeGpuUnsupported}).
 * @example
 * const step = scoreSdeTrainStepGpu(gpu, cfg, { lr: 2e-3 });
 * [s] = await step(s, zb, foldIn(kTrain, t));
 */
export function scoreSdeTrainStepGpu(gpu: GpuKernels, cfg: ScoreSdeConfig, o: ScoreSdeTrainOptions): (state: ScoreSdeTrainState, batch: Tensor, key: Key) => Promise<readonly [ScoreSdeTrainState, ScoreSdeStepInfo]> {
  const ema = scoreSdeTrainSettings(o);
  const opt = adam(o.lr);
  const vg = scoreSdeValueAndGradGpu(gpu, cfg);
  const dq = cfg.dequantize === true;
  return async (s, batch, key) => {
    // As the CPU step: 8-bit images are dequantised with the first half of split(key, 2), the loss uses the second.
    const [kDq, kLoss] = dq ? split(key, 2) : [key, key];
    const r = await vg(s.params, dq ? dequantizeBatch(cfg, batch, kDq) : batch, kLoss);
    return scoreSdeUpdate(s, r.grads, r.loss, r.meanT, opt, ema);
  };
}

/** The score network on the device with layer 0 split by input blocks (`c_in·x`, sin, cos, time embedding). */
interface GpuScoreNet {
  readonly net: GpuMlp;
  readonly w0x: GpuTensor;
  readonly w0sin: GpuTensor | null;
  readonly w0cos: GpuTensor | null;
  readonly w0t: GpuTensor;
  readonly twoPiB: GpuTensor | null;
}

function uploadScoreNet(gpu: GpuKernels, p: ScoreParams, cfg: ScoreSdeConfig, arch: MlpArch): GpuScoreNet {
  const net = uploadMlp(gpu, p, arch.activation);
  const w0 = p['l0.w'];
  const D = cfg.dim, F = arch.fourier ? arch.fourier.features : 0, e = arch.embedDim;
  if (w0.shape[0] !== D + 2 * F + e) {
    disposeMlp(net);
    throw new InvalidArgumentError(`sampleScoreSdeGpu: l0.w has ${w0.shape[0]} rows, expected ${D + 2 * F + e}`);
  }
  const h = w0.shape[1];
  const block = (a: number, b: number): GpuTensor => gpu.upload(weightRows(w0, a, b), [b - a, h]);
  return {
    net,
    w0x: block(0, D),
    w0sin: F ? block(D, D + F) : null,
    w0cos: F ? block(D + F, D + 2 * F) : null,
    w0t: block(D + 2 * F, D + 2 * F + e),
    twoPiB: arch.fourier ? gpu.upload(Float32Array.from(arch.fourier.B, (b) => 2 * Math.PI * b), [D, F]) : null,
  };
}

function disposeScoreNet(s: GpuScoreNet): void {
  disposeMlp(s.net);
  disposeAll([s.w0x, s.w0sin, s.w0cos, s.w0t, s.twoPiB]);
}

/**
 * Queues the network output `net(clip(c_in·x), τ)` `[n, D]` at one time `t` for every row of the chain `x` (the score is
 * `out/σ − c_in²·x`), with the CPU's float32 time, coefficients and time embedding. The caller frees `out`.
 */
function netOutput(gpu: GpuKernels, s: GpuScoreNet, cfg: ScoreSdeConfig, arch: MlpArch, x: GpuTensor, cin: number, tau: number): GpuTensor {
  const temp: GpuTensor[] = [];
  const keep = (q: GpuTensor): GpuTensor => { temp.push(q); return q; };
  const zs = keep(gpu.lincomb(x, x, x, Math.fround(cin), 0, 0));
  const zin = cfg.inputClip ? keep(gpu.clamp(zs, -cfg.inputClip, cfg.inputClip)) : zs;
  const emb = noGrad(() => timeEmbedding(tensor([tau], [1], 'float32'), arch.embedDim));
  const embG = keep(gpu.upload(emb.data as Float32Array, [1, arch.embedDim]));
  let bias = keep(gpu.matmul(embG, s.w0t));
  if (s.net.b[0]) bias = keep(gpu.binary('add', bias, s.net.b[0]));
  let a0 = keep(gpu.matmul(zin, s.w0x));
  if (s.twoPiB && s.w0sin && s.w0cos) {
    const u = keep(gpu.matmul(zin, s.twoPiB));
    a0 = keep(gpu.binary('add', a0, keep(gpu.matmul(keep(gpu.trig('sin', u)), s.w0sin))));
    a0 = keep(gpu.binary('add', a0, keep(gpu.matmul(keep(gpu.trig('cos', u)), s.w0cos))));
  }
  a0 = keep(gpu.binary('add', a0, bias)); // the [1, h] bias repeats on every row
  const f = mlpForwardGpu(gpu, s.net, null, a0);
  disposeAll([...temp, ...f.temp].filter((q) => q !== f.out));
  return f.out;
}

/**
 * Queues the U-Net output `net(clip(c_in·x), τ)` `[n, 1, 28, 28]` at one time for every image of the chain `x`, with
 * the CPU's float32 time, coefficient and embedding (one row `[1, e]`, folded into every block's bias). The caller
 * frees `out`.
 */
function unetOutput(gpu: GpuKernels, net: GpuUNet, cfg: ScoreSdeConfig, x: GpuTensor, cin: number, tau: number): GpuTensor {
  const temp: GpuTensor[] = [];
  const keep = (q: GpuTensor): GpuTensor => { temp.push(q); return q; };
  const zs = keep(gpu.lincomb(x, x, x, Math.fround(cin), 0, 0));
  const zin = cfg.inputClip ? keep(gpu.clamp(zs, -cfg.inputClip, cfg.inputClip)) : zs;
  const emb = noGrad(() => timeEmbedding(tensor([tau], [1], 'float32'), net.embedDim));
  const f = unetForwardGpu(gpu, net, zin, keep(gpu.upload(emb.data as Float32Array, [1, net.embedDim])));
  disposeAll([...temp, ...f.temp]);
  return f.out;
}

/**
 * {@link sampleScoreSde} with the `em` or `pc` sampler on the device: the prior draw `zT` from `split(k, 2)[0]` on
 * the host (uploaded), then the reverse-time steps with the CPU sampler's keys (step `i` uses the second half of the
 * `i`-th split of the run key; pc splits it again for its corrector and predictor), the chain on the device, one
 * read-back at the end (plus a 4-byte wait every 50 steps when `onProgress` is given); MLP or U-Net networks
 * ({@link scoreSdeSampleGpuUnsupported}). Returns data-space rows `[n, D]` (clamped for images), like the CPU sampler, within float32 rounding of its values. A non-finite result
 * throws a DivergenceError.
 * @example const x = await sampleScoreSdeGpu(gpu, params, cfg, key(3), 500, { sampler: 'em', steps: 200 });
 */
export async function sampleScoreSdeGpu(gpu: GpuKernels, p: ScoreParams, cfg: ScoreSdeConfig, k: Key, n: number, o: ScoreSampleOptions = {}): Promise<Tensor> {
  const sampler = o.sampler ?? defaultSampler(cfg);
  const why = scoreSdeSampleGpuUnsupported(cfg, sampler);
  if (why) throw new InvalidArgumentError(`sampleScoreSdeGpu: ${why}`);
  const N = o.steps ?? 500;
  if (!Number.isInteger(N) || N < 1) throw new InvalidArgumentError(`sampleScoreSdeGpu: steps must be a positive integer, got ${N}`);
  const snr = o.snr ?? 0.16;
  if (!(snr > 0) || !Number.isFinite(snr)) throw new InvalidArgumentError(`sampleScoreSdeGpu: snr must be a finite number > 0, got ${snr}`);
  const sde = sdeOf(cfg);
  const dt = (sde.T - cfg.eps) / N;
  const coefficients = scoreNetCoefficients(cfg, sde);
  const [kPrior, kRun] = split(k, 2);
  const zT = sde.priorSample(kPrior, netShape(cfg, n), 'float32');
  const arch = cfg.arch;
  if (arch.kind === 'unet') {
    const why2 = gpuUNetUnsupported(p);
    if (why2) throw new InvalidArgumentError(`sampleScoreSdeGpu: ${why2}`);
  }
  const net: GpuScoreNet | GpuUNet = arch.kind === 'mlp' ? uploadScoreNet(gpu, p, cfg, arch) : uploadUNet(gpu, p);
  let x = gpu.upload(zT.data as Float32Array, zT.shape);
  const shape = zT.shape;
  // The network at time t: the CPU evaluates it at float32 t (bindScore's tensor), its coefficients in float64.
  const evalNet = (xx: GpuTensor, t: number): { out: GpuTensor; inv: number; cin2: number } => {
    const c = coefficients([Math.fround(t)]);
    const out = arch.kind === 'mlp' ? netOutput(gpu, net as GpuScoreNet, cfg, arch, xx, c.cin[0], c.tau[0]) : unetOutput(gpu, net as GpuUNet, cfg, xx, c.cin[0], c.tau[0]);
    return { out, inv: Math.fround(c.inv[0]), cin2: Math.fround(c.cin2[0]) };
  };
  // Euler–Maruyama: x ← x − (f x − g² s)Δt + g√Δt ξ with s = out/σ − c_in² x, as one lincomb.
  const emStep = (xx: GpuTensor, step: number, key: Key): GpuTensor => {
    const t = sde.T - step * dt;
    const { out, inv, cin2 } = evalNet(xx, t);
    const f = sde.driftCoef(t), g2 = sde.g2(t);
    const last = step === N - 1;
    const xi = last ? null : gpu.normal64(key, shape); // the CPU sampler's float64 normals
    const next = gpu.lincomb(xx, out, xi ?? xx, 1 - f * dt - g2 * dt * cin2, g2 * dt * inv, xi ? Math.sqrt(g2 * dt) : 0);
    out.dispose();
    xi?.dispose();
    return next;
  };
  // Langevin corrector with the snr rule: ε = 2α(snr·Σ‖zᵢ‖/Σ‖sᵢ‖)², x ← x + εs + √(2ε)z.
  const rowNormSum = (v: GpuTensor): GpuTensor => {
    const sq = gpu.unary('square', v), r2 = gpu.sumLast(reshapeGpu(gpu, sq, [n, cfg.dim])), r = gpu.unary('sqrt', r2), total = gpu.sumAll(r);
    disposeAll([sq, r2, r]);
    return total;
  };
  const corrector = (xx: GpuTensor, step: number, key: Key): GpuTensor => {
    const t = sde.T - step * dt;
    const alpha = sde.kind === 've' ? 1 : (sde.meanCoef(t) / sde.meanCoef(Math.max(t - dt, 0))) ** 2;
    const { out, inv, cin2 } = evalNet(xx, t);
    const s = gpu.lincomb(out, xx, xx, inv, -cin2, 0);
    const z = gpu.normal64(key, shape);
    const sn = rowNormSum(s), zn = rowNormSum(z);
    const next = gpu.snrLangevin(xx, s, z, sn, zn, 2 * alpha * snr * snr);
    disposeAll([out, s, z, sn, zn]);
    return next;
  };
  try {
    let kk = kRun;
    for (let i = 0; i < N; i++) {
      const [kNext, kStep] = split(kk, 2);
      kk = kNext;
      let next: GpuTensor;
      if (sampler === 'pc') {
        const [kc, kp] = split(kStep, 2);
        const xc = corrector(x, i, kc);
        next = emStep(xc, i, kp);
        xc.dispose();
      } else {
        next = emStep(x, i, kStep);
      }
      x.dispose();
      x = next;
      if (o.onProgress && ((i + 1) % 50 === 0 || i + 1 === N)) {
        await gpu.readBuffer(x.buffer, 1);
        o.onProgress(i + 1, N);
      }
    }
    const z = await x.toTensor();
    for (let i = 0; i < z.size; i++) {
      if (!Number.isFinite(z.data[i])) {
        const row = Math.floor(i / cfg.dim);
        throw new DivergenceError(`sampling diverged: ${sampler === 'pc' ? 'predictor-corrector' : 'euler-maruyama'} on the GPU produced non-finite values within ${N} steps, row ${row + 1}`, N, [row]);
      }
    }
    return toDataSpace(cfg, z);
  } finally {
    x.dispose();
    if (arch.kind === 'mlp') disposeScoreNet(net as GpuScoreNet);
    else disposeUNet(net as GpuUNet);
  }
}
