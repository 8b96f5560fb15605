/**
 * The deep-ebm kind on the WebGPU device, for MLP energies (with or without Fourier features) and conv energies,
 * lowered by hand on the kernels of src/gpu (docs/webgpu.md):
 * - the energy `E(x) = f_θ(h) + ½c‖z‖²`, `z = (x − shift)/scale`, `h = z` or `[sin 2πzB, cos 2πzB]`, and its input
 *   gradient (the MLP's reverse pass of src/gpu/mlpNet.ts, then back through the features and the standardisation);
 * - the negatives' samplers, ULA (`x ← Π_box(x − (η/T)∇E + √(2η)ξ)`) and MALA (the same proposal with float64-stream
 *   normals, the Metropolis–Hastings test in one kernel, accepted rows kept by `rowWhere`), with the CPU kernels' keys;
 * - {@link sampleDeepEbmGpu}, the kind's `ebm sample` (`sampleDeepEbmFromNoise`) with the chains on the device;
 * - {@link deepEbmCdValueAndGradGpu}, the CD step's value and gradient (`cdValueAndGrad` of the library's
 *   `contrastiveDivergence`, replay-buffer, persistent or data negatives): the chain starts and the buffer write-back
 *   are the CPU loss's own (`CDLoss.prepare`), the `K` sampler steps, the energies of the positives and negatives and
 *   the parameter gradient of `mean E(x⁺) − mean E(x⁻) + α(mean E⁺² + mean E⁻²)` run on the device.
 * Conv energies (`--arch conv:…`) run the conv net of src/gpu/convNet.ts in place of the MLP (same energy, input
 * gradient and parameter gradient); spectral normalisation (`W/σ(W)`) is applied on the host before the upload and its
 * chain rule to the gradient by the CPU's own `spectralNormalize` under autodiff (`spectralNormPullback`).
 * Parallel-tempering negatives (`negatives: 'tempered'`, the vector default) run their PT steps by
 * `parallelTemperingGpu` (src/gpu/tempering.ts); the sampler's gradient clip by its per-row kernels.
 * Noise-conditional CD stays on the CPU, with the reason.
 * MALA's accept test compares float32 quantities where the CPU uses float64: a chain whose log-acceptance lands within
 * rounding of its log-uniform takes the other branch (it then decorrelates, with the same law), as RBM Gibbs draws do.
 * @module
 */
import { Tensor } from '../../tensor/tensor.js';
import { split, uniformArray, type Key } from '../../random/index.js';
import { InvalidArgumentError } from '../../errors.js';
import { GpuTensor, type GpuKernels } from '../../gpu/kernels.js';
import { uploadMlp, disposeMlp, disposeAll, mlpForwardGpu, mlpParamGradGpu, readMlpGrads, gpuMlpNetUnsupported, weightRows, type GpuMlp, type GpuMlpForward } from '../../gpu/mlpNet.js';
import { uploadConvNet, disposeConvNet, convNetForwardGpu, convNetBackwardGpu, readConvNetGrads, disposeConvNetGrads, gpuConvNetUnsupported, type GpuConvNet, type GpuConvNetForward } from '../../gpu/convNet.js';
import type { ConvNetConfig } from '../../nn/convnet.js';
import { noGrad } from '../../tensor/index.js';
import { CDDivergenceError, freshChains, spectralNormalize, spectralNormPullback, type CDLoss, type CDState, type CDValueAndGrad } from '../../losses/contrastiveDivergence.js';
import { parallelTemperingGpu, gpuTemperingUnsupported, headRowsGpu, langevinMoveGpu, type GpuReplicaState } from '../../gpu/tempering.js';
import { archInputSize, type DeepEbmConfig } from './estimator.js';

/** The sampler of the negatives or of `ebm sample`. */
export interface DeepEbmGpuSampler {
  readonly sampler: 'ula' | 'mala';
  readonly stepSize: number;
  /** Temperature `T` (default 1). */
  readonly temperature?: number;
  /** Coordinate box (ULA clamps into it, MALA rejects proposals outside it), or null. */
  readonly box?: readonly [number, number] | null;
  /** Per-chain clip of the energy gradient's norm in the sampler (`--sampler-clip`), or none. */
  readonly maxGradNorm?: number;
}

/**
 * The conv net of a conv energy (`--arch conv:CxHxW:…`: 3×3, stride 2, padding 1 convolutions, dense `hidden`, one
 * output), as `initDeepEbm` builds it; null for an MLP energy.
 * @example deepEbmConvNetConfig({ ...cfg, arch: parseArch('conv:1x8x8:8,16:32') })?.channels // [8, 16]
 */
export function deepEbmConvNetConfig(cfg: DeepEbmConfig): ConvNetConfig | null {
  const a = cfg.arch;
  if (a.kind !== 'conv') return null;
  return { inChannels: a.shape[0], height: a.shape[1], width: a.shape[2], channels: a.channels, hidden: a.hidden, out: 1, activation: cfg.activation };
}

/**
 * Why a deep-ebm config cannot run on the GPU (`null` when it can): an activation without a fused backward kernel.
 * (`train` adds the noise-conditional energy, which only DSM trains.)
 * @example deepEbmGpuUnsupported({ ...cfg, activation: 'elu' }) // "activation 'elu' has no WebGPU kernel (…)"
 */
export function deepEbmGpuUnsupported(cfg: DeepEbmConfig, use: 'sample' | 'train' = 'sample'): string | null {
  if (use === 'train' && cfg.noise) return 'a noise-conditional energy (trained by --loss dsm) has no WebGPU CD step';
  const conv = deepEbmConvNetConfig(cfg);
  return conv ? gpuConvNetUnsupported(conv) : gpuMlpNetUnsupported(cfg.activation);
}

/**
 * Why {@link deepEbmCdValueAndGradGpu} cannot run this CD loss (`null` when it can): those of
 * {@link deepEbmGpuUnsupported}, and tempered negatives with HMC local moves or too many temperatures.
 * @example deepEbmCdGpuUnsupported(cfg, { ...cd.options, tempering: { ...t, local: 'hmc' } }) // "… HMC …"
 */
export function deepEbmCdGpuUnsupported(cfg: DeepEbmConfig, o: CDLoss<Record<string, Tensor>>['options']): string | null {
  const why = deepEbmGpuUnsupported(cfg, 'train');
  if (why) return why;
  if ((o.negatives ?? 'buffer') === 'tempered' && o.tempering) return gpuTemperingUnsupported({ local: o.tempering.local ?? 'mala', temperatures: o.tempering.temperatures });
  return null;
}

/** A deep-EBM energy on the device (an MLP, or a conv net whose dense head is `net`). */
export interface GpuDeepEbm {
  readonly net: GpuMlp;
  /** The conv net of a conv energy (its dense head is `net`; the layer-0 blocks below are then null), or null. */
  readonly conv: GpuConvNet | null;
  readonly dim: number;
  /** `shift` and `1/scale` `[D]`, or null when the standardisation is the identity. */
  readonly shift: GpuTensor | null;
  readonly invScale: GpuTensor | null;
  readonly confine: number;
  /** Layer 0 by input block: `z` (no features), or the sin and cos features with `2πB` `[D, m]`. */
  readonly w0z: GpuTensor | null;
  readonly w0sin: GpuTensor | null;
  readonly w0cos: GpuTensor | null;
  readonly twoPiB: GpuTensor | null;
  /** Layer 0's bias (with a noise-conditional energy's constant input at σ_min folded in), or null. */
  readonly bias0: GpuTensor | null;
}

function perCoord(v: readonly number[], d: number): Float32Array {
  const out = new Float32Array(d);
  for (let j = 0; j < d; j++) out[j] = v.length === 1 ? v[0] : v[j];
  return out;
}

/**
 * Copies a deep-EBM MLP energy to the device (float32), splitting layer 0 by input block. A noise-conditional
 * energy is uploaded at `σ_min` (the model's energy): its constant last input `u = −1` is folded into the bias.
 * @throws InvalidArgumentError when {@link deepEbmGpuUnsupported} gives a reason.
 * @example const m = uploadDeepEbm(gpu, params, cfg);
 */
export function uploadDeepEbm(gpu: GpuKernels, params: Record<string, Tensor>, cfg: DeepEbmConfig): GpuDeepEbm {
  const why = deepEbmGpuUnsupported(cfg);
  if (why) throw new InvalidArgumentError(`uploadDeepEbm: ${why}`);
  const D = archInputSize(cfg.arch);
  const identity = cfg.shift.every((v) => v === 0) && cfg.scale.every((v) => v === 1);
  const standardise = { shift: identity ? null : gpu.upload(perCoord(cfg.shift, D), [D]), invScale: identity ? null : gpu.upload(perCoord(cfg.scale, D).map((s) => 1 / s), [D]) };
  const convCfg = deepEbmConvNetConfig(cfg);
  if (convCfg) {
    const conv = uploadConvNet(gpu, params, convCfg);
    return { net: conv.head, conv, dim: D, ...standardise, confine: cfg.confine, w0z: null, w0sin: null, w0cos: null, twoPiB: null, bias0: null };
  }
  const F = cfg.fourier ? cfg.fourier.features : 0;
  const w0 = params['l0.w'];
  const inputs = (F ? 2 * F : D) + (cfg.noise ? 1 : 0);
  if (!(w0 instanceof Tensor) || w0.shape[0] !== inputs) throw new InvalidArgumentError(`uploadDeepEbm: l0.w must have ${inputs} rows, got ${w0 instanceof Tensor ? w0.shape[0] : 'none'}`);
  const h = w0.shape[1];
  const net = uploadMlp(gpu, params, cfg.activation);
  let bias0: GpuTensor | null = net.b[0];
  if (cfg.noise) {
    // The input u = 2·(log σ − log σ_min)/log(σ_max/σ_min) − 1 at σ_min, in the CPU's float32 ops (mul, then add).
    const uScale = 2 / Math.log(cfg.noise.sigmaMax / cfg.noise.sigmaMin);
    const uShift = -uScale * Math.log(cfg.noise.sigmaMin) - 1;
    const u = Math.fround(Math.fround(Math.fround(Math.log(cfg.noise.sigmaMin)) * Math.fround(uScale)) + Math.fround(uShift));
    const last = weightRows(w0, inputs - 1, inputs);
    const b = params['l0.b'];
    bias0 = gpu.upload(last.map((wv, j) => (b instanceof Tensor ? b.data[j] : 0) + u * wv), [h]);
  }
  const block = (a: number, b: number): GpuTensor => gpu.upload(weightRows(w0, a, b), [b - a, h]);
  return {
    net, conv: null, dim: D, ...standardise,
    confine: cfg.confine,
    w0z: F ? null : block(0, D),
    w0sin: F ? block(0, F) : null,
    w0cos: F ? block(F, 2 * F) : null,
    twoPiB: cfg.fourier ? gpu.upload(Float32Array.from(cfg.fourier.B, (v) => 2 * Math.PI * v), [D, F]) : null,
    bias0,
  };
}

/** Frees an uploaded energy. */
export function disposeDeepEbm(m: GpuDeepEbm): void {
  const bias0 = m.bias0 !== m.net.b[0] ? m.bias0 : null;
  if (m.conv) disposeConvNet(m.conv);
  else disposeMlp(m.net);
  disposeAll([m.shift, m.invScale, m.w0z, m.w0sin, m.w0cos, m.twoPiB, bias0]);
}

/** The forward pass of an uploaded energy: `z`, the features, the MLP's pass (a conv net's: its head's) and `E` `[n]`. */
interface DeepEbmForward {
  readonly z: GpuTensor;
  readonly sin: GpuTensor | null;
  readonly cos: GpuTensor | null;
  readonly f: GpuMlpForward;
  /** A conv energy's whole pass, or null. */
  readonly cf: GpuConvNetForward | null;
  readonly energy: GpuTensor;
  readonly temp: GpuTensor[];
}

function forward(gpu: GpuKernels, m: GpuDeepEbm, x: GpuTensor): DeepEbmForward {
  const n = x.shape[0];
  const temp: GpuTensor[] = [];
  const keep = (t: GpuTensor): GpuTensor => { temp.push(t); return t; };
  const z = m.shift && m.invScale ? keep(gpu.binary('mul', keep(gpu.binary('sub', x, m.shift)), m.invScale)) : x;
  let sin: GpuTensor | null = null, cos: GpuTensor | null = null, cf: GpuConvNetForward | null = null, f: GpuMlpForward;
  if (m.conv) {
    cf = convNetForwardGpu(gpu, m.conv, z);
    temp.push(...cf.temp);
    f = cf.head;
  } else {
    let a0: GpuTensor;
    if (m.twoPiB && m.w0sin && m.w0cos) {
      const u = keep(gpu.matmul(z, m.twoPiB));
      sin = keep(gpu.trig('sin', u));
      cos = keep(gpu.trig('cos', u));
      a0 = keep(gpu.binary('add', keep(gpu.matmul(sin, m.w0sin)), keep(gpu.matmul(cos, m.w0cos))));
    } else a0 = keep(gpu.matmul(z, m.w0z!));
    if (m.bias0) a0 = keep(gpu.binary('add', a0, m.bias0));
    f = mlpForwardGpu(gpu, m.net, null, a0);
    temp.push(...f.temp);
  }
  let energy = new GpuTensor(gpu, [n], f.out.buffer); // the [n, 1] output read as [n]
  if (m.confine > 0) energy = keep(gpu.lincomb(energy, keep(gpu.sumLast(keep(gpu.unary('square', z)))), energy, 1, 0.5 * m.confine, 0));
  else energy = keep(gpu.lincomb(energy, energy, energy, 1, 0, 0)); // a copy that outlives the pass's buffers
  return { z, sin, cos, f, cf, energy, temp };
}

/**
 * Queues `E(x)` `[n]` and `∇ₓE(x)` `[n, D]` for chains `x` `[n, D]`: the forward pass, the MLP's reverse pass from
 * `∂E/∂out = 1`, back through the features (`ḡ_u = ḡ_sin ⊙ cos u − ḡ_cos ⊙ sin u`, `ḡ_z = ḡ_u·(2πB)ᵀ`) — for a conv
 * energy the conv net's reverse pass to its input — plus `c·z`, times `1/scale`. The caller frees both results.
 * @example const { energy, grad } = deepEbmEnergyGradGpu(gpu, m, x);
 */
export function deepEbmEnergyGradGpu(gpu: GpuKernels, m: GpuDeepEbm, x: GpuTensor): { energy: GpuTensor; grad: GpuTensor } {
  const n = x.shape[0];
  const fw = forward(gpu, m, x);
  const temp = [...fw.temp];
  const keep = (t: GpuTensor): GpuTensor => { temp.push(t); return t; };
  const ones = keep(gpu.upload(new Float32Array(n).fill(1), [n, 1]));
  let gz: GpuTensor;
  if (m.conv && fw.cf) {
    const cb = convNetBackwardGpu(gpu, m.conv, fw.cf, ones, { params: false, input: true });
    temp.push(...cb.temp);
    gz = keep(cb.input!);
  } else {
    const back = mlpParamGradGpu(gpu, m.net, fw.f, ones, false);
    temp.push(...back.temp, back.abar0);
    if (m.twoPiB && m.w0sin && m.w0cos && fw.sin && fw.cos) {
      const gs = keep(gpu.matmul(back.abar0, m.w0sin, { transB: true }));
      const gc = keep(gpu.matmul(back.abar0, m.w0cos, { transB: true }));
      const gu = keep(gpu.binary('sub', keep(gpu.binary('mul', gs, fw.cos)), keep(gpu.binary('mul', gc, fw.sin))));
      gz = keep(gpu.matmul(gu, m.twoPiB, { transB: true }));
    } else gz = keep(gpu.matmul(back.abar0, m.w0z!, { transB: true }));
  }
  if (m.confine > 0) gz = keep(gpu.lincomb(gz, fw.z, fw.z, 1, m.confine, 0));
  const grad = m.invScale ? gpu.binary('mul', gz, m.invScale) : gpu.lincomb(gz, gz, gz, 1, 0, 0);
  disposeAll(temp.filter((t) => t !== x && t !== fw.energy));
  return { energy: fw.energy, grad };
}

/**
 * Runs `steps` steps of the sampler from `x0` `[n, D]` on the device with the CPU's keys (`runChains`: step `t` uses
 * `split(key, steps)[t]`; ULA draws `normal(kₜ)` in float32, MALA splits `kₜ` into the proposal's float64-stream normals
 * and the test's uniforms) and returns the chains, still on the device.
 * @example const x = await deepEbmChainsGpu(gpu, m, x0, k1, 200, { sampler: 'ula', stepSize: 1e-3 });
 */
export async function deepEbmChainsGpu(gpu: GpuKernels, m: GpuDeepEbm, x0: Tensor, key: Key, steps: number, s: DeepEbmGpuSampler, onProgress?: (done: number) => void): Promise<GpuTensor> {
  if (!(s.stepSize > 0)) throw new InvalidArgumentError(`deepEbmChainsGpu: stepSize must be > 0, got ${s.stepSize}`);
  const T = s.temperature ?? 1;
  if (!(T > 0)) throw new InvalidArgumentError(`deepEbmChainsGpu: temperature must be > 0, got ${T}`);
  if (x0.ndim !== 2 || x0.shape[1] !== m.dim) throw new InvalidArgumentError(`deepEbmChainsGpu: x0 must be [n, ${m.dim}], got [${x0.shape.join(', ')}]`);
  const n = x0.shape[0];
  const eta = s.stepSize, noise = Math.sqrt(2 * eta);
  const box = s.box ?? null;
  if (s.maxGradNorm !== undefined) return clippedChainsGpu(gpu, m, x0, key, steps, s, onProgress);
  let x = gpu.upload(Float32Array.from(x0.data as ArrayLike<number>), x0.shape);
  let { energy: e, grad: g } = deepEbmEnergyGradGpu(gpu, m, x);
  const keys = split(key, steps);
  try {
    for (let t = 0; t < steps; t++) {
      if (s.sampler === 'ula') {
        const xi = gpu.normal(keys[t], x.shape);
        let next = gpu.lincomb(x, g, xi, 1, -eta / T, noise);
        if (box) { const c = gpu.clamp(next, box[0], box[1]); next.dispose(); next = c; }
        xi.dispose();
        const eg = deepEbmEnergyGradGpu(gpu, m, next);
        disposeAll([x, e, g]);
        x = next; e = eg.energy; g = eg.grad;
      } else {
        const [kNoise, kAccept] = split(keys[t], 2);
        const xi = gpu.normal64(kNoise, x.shape);
        const y = gpu.lincomb(x, g, xi, 1, -eta / T, noise);
        const eg = deepEbmEnergyGradGpu(gpu, m, y);
        const logU = gpu.upload(Float32Array.from(uniformArray(kAccept, n, 'float64'), Math.log), [n]);
        const acc = gpu.malaAccept(x, y, g, eg.grad, e, eg.energy, logU, { stepSize: eta, temperature: T, ...(box ? { box } : {}) });
        const nx = gpu.rowWhere(acc, y, x), ng = gpu.rowWhere(acc, eg.grad, g), ne = gpu.rowWhere(acc, eg.energy, e);
        disposeAll([xi, y, eg.energy, eg.grad, logU, acc, x, g, e]);
        x = nx; g = ng; e = ne;
      }
      if (onProgress && ((t + 1) % 50 === 0 || t + 1 === steps)) {
        await gpu.readBuffer(x.buffer, 1);
        onProgress(t + 1);
      }
    }
    return x;
  } finally {
    disposeAll([e, g]);
  }
}

/** {@link deepEbmChainsGpu} with the per-chain gradient clip: one-temperature moves of src/gpu/tempering.ts. */
async function clippedChainsGpu(gpu: GpuKernels, m: GpuDeepEbm, x0: Tensor, key: Key, steps: number, s: DeepEbmGpuSampler, onProgress?: (done: number) => void): Promise<GpuTensor> {
  const ladder = { temperatures: [s.temperature ?? 1], stepSizes: [s.stepSize], chains: x0.shape[0] };
  const safe = { maxGradNorm: s.maxGradNorm, box: s.box ?? null };
  const x = gpu.upload(Float32Array.from(x0.data as ArrayLike<number>), x0.shape);
  let st: GpuReplicaState = { x, ...deepEbmEnergyGradGpu(gpu, m, x) };
  const keys = split(key, steps);
  for (let t = 0; t < steps; t++) {
    // The plain kernels' keys: ULA draws normal(kₜ), MALA splits kₜ (langevinMoveGpu takes it as its local key).
    st = langevinMoveGpu(gpu, (y) => deepEbmEnergyGradGpu(gpu, m, y), st, keys[t], s.sampler, ladder, safe);
    if (onProgress && ((t + 1) % 50 === 0 || t + 1 === steps)) {
      await gpu.readBuffer(st.x.buffer, 1);
      onProgress(t + 1);
    }
  }
  disposeAll([st.energy, st.grad]);
  return st.x;
}

async function finiteOrThrow(x: GpuTensor, what: string): Promise<Tensor> {
  const t = await x.toTensor();
  const D = t.shape[1];
  for (let i = 0; i < t.size; i++) if (!Number.isFinite(t.data[i])) throw new CDDivergenceError(`${what}: the GPU chains produced non-finite values (row ${Math.floor(i / D) + 1})`);
  return t;
}

/**
 * The kind's `ebm sample` on the device (`sampleDeepEbmFromNoise`): `[k0, k1] = split(key, 2)`, uniform starts on the
 * init box from `k0` (drawn on the host), then `steps` steps of the sampler with `k1`; only the final chains come back.
 * @example const x = await sampleDeepEbmGpu(gpu, params, cfg, key(3), 500, 200, { sampler: 'ula', stepSize: 1e-3 });
 */
export async function sampleDeepEbmGpu(gpu: GpuKernels, params: Record<string, Tensor>, cfg: DeepEbmConfig & { initLow: readonly number[]; initHigh: readonly number[] }, k: Key, n: number, steps: number, s: DeepEbmGpuSampler, onProgress?: (done: number) => void): Promise<Tensor> {
  const [k0, k1] = split(k, 2);
  const x0 = freshChains(k0, { kind: 'uniform', low: cfg.initLow, high: cfg.initHigh }, n, [archInputSize(cfg.arch)], 'float32');
  const m = uploadDeepEbm(gpu, params, cfg);
  try {
    const x = await deepEbmChainsGpu(gpu, m, x0, k1, steps, s, onProgress);
    try {
      return await finiteOrThrow(x, 'sampling diverged');
    } finally {
      x.dispose();
    }
  } finally {
    disposeDeepEbm(m);
  }
}

/**
 * `cdValueAndGrad(cd)` on the device for a deep-EBM MLP or conv energy (spectrally normalised when the loss asks for
 * it: `spectralNorm`): the same chain starts, keys, buffer update, loss and diagnostics as the CPU step (within
 * float32 rounding; `samplerDivergent` is 0: non-finite chains throw a CDDivergenceError instead, which the trainer's
 * guard handles as a divergence). `s` must be the sampler the loss was built with. Per step: the parameters are
 * uploaded, the negatives and the energies (one float per row) read back mid-step, then the gradients.
 * @example const r = await deepEbmCdValueAndGradGpu(gpu, cfg, cd, { sampler: 'ula', stepSize: 1e-3 })(params, batch, k, state);
 */
export function deepEbmCdValueAndGradGpu(gpu: GpuKernels, cfg: DeepEbmConfig, cd: CDLoss<Record<string, Tensor>>, s: DeepEbmGpuSampler): (params: Record<string, Tensor>, batch: Tensor, key: Key, state: CDState) => Promise<CDValueAndGrad<Record<string, Tensor>>> {
  const why = deepEbmCdGpuUnsupported(cfg, cd.options);
  if (why) throw new InvalidArgumentError(`deepEbmCdValueAndGradGpu: ${why}`);
  if (!cd.prepare) throw new InvalidArgumentError('deepEbmCdValueAndGradGpu: the loss has no prepare() (build it with contrastiveDivergence)');
  const prepare = cd.prepare.bind(cd);
  const alpha = cd.options.alpha ?? 0;
  const so = cd.options.spectralNorm;
  const snIters = so ? (typeof so === 'object' ? so.iterations ?? 1 : 1) : 0;
  return async (params, batch, key, state) => {
    const p = prepare(batch, key, state);
    // --spectral-norm: the model is W/σ(W) (σ by the CPU loss's power iteration on the host); its gradient is mapped
    // back to W below by the chain rule of the same function, under the CPU's autodiff.
    const snorm = snIters > 0 ? noGrad(() => spectralNormalize(params, state.sn, snIters)) : null;
    const model = snorm ? snorm.params : params;
    const m = uploadDeepEbm(gpu, model, cfg);
    const temp: GpuTensor[] = [];
    const keep = (t: GpuTensor): GpuTensor => { temp.push(t); return t; };
    try {
      let xNegG: GpuTensor, xNeg: Tensor, next: CDState;
      if (p.tempered) {
        // Tempered: every replica moves and swaps on the device; the T₁ rows are the negatives, all rows the next state.
        const reps = keep(parallelTemperingGpu(gpu, (x) => deepEbmEnergyGradGpu(gpu, m, x), p.x0, p.kChain, cd.options.steps, p.tempered));
        const host = await finiteOrThrow(reps, 'contrastive divergence (tempered replicas)');
        next = p.finish(host);
        xNegG = keep(headRowsGpu(gpu, reps, p.tempered.chains));
        xNeg = new Tensor((host.data as Float32Array).slice(0, xNegG.size), xNegG.shape);
      } else {
        xNegG = keep(await deepEbmChainsGpu(gpu, m, p.x0, p.kChain, cd.options.steps, s));
        xNeg = await finiteOrThrow(xNegG, 'contrastive divergence');
        next = p.finish(xNeg);
      }
      const xPosG = keep(gpu.upload(Float32Array.from(p.xPos.data as ArrayLike<number>), p.xPos.shape));
      const fp = forward(gpu, m, xPosG), fn = forward(gpu, m, xNegG);
      temp.push(...fp.temp, ...fn.temp);
      const [ep, en] = [await fp.energy.read(), await fn.energy.read()];
      const B = ep.length, M = en.length;
      let sp = 0, sn = 0, qp = 0, qn = 0;
      for (const v of ep) { sp += v; qp += v * v; }
      for (const v of en) { sn += v; qn += v * v; }
      const mPos = sp / B, mNeg = sn / M;
      const reg = alpha > 0 ? alpha * (qp / B + qn / M) : 0;
      const loss = mPos - mNeg + reg;
      if (!Number.isFinite(loss)) throw new CDDivergenceError(`contrastive divergence: the loss is ${loss} on the GPU`);
      // ∂L/∂E⁺ᵢ = (1 + 2αE⁺ᵢ)/B, ∂L/∂E⁻ⱼ = (−1 + 2αE⁻ⱼ)/M; the confining term has no parameters.
      const gp = keep(gpu.upload(ep.map((v) => (1 + 2 * alpha * v) / B), [B, 1]));
      const gn = keep(gpu.upload(en.map((v) => (-1 + 2 * alpha * v) / M), [M, 1]));
      const grads: Record<string, Tensor>[] = [];
      for (const [fw, g] of [[fp, gp], [fn, gn]] as const) {
        if (m.conv && fw.cf) {
          const cb = convNetBackwardGpu(gpu, m.conv, fw.cf, g, { params: true, input: false });
          try {
            grads.push(await readConvNetGrads(model, cb));
          } finally {
            disposeConvNetGrads(cb);
          }
          continue;
        }
        const back = mlpParamGradGpu(gpu, m.net, fw.f, g);
        temp.push(...back.temp, back.abar0, ...back.gW.filter((t): t is GpuTensor => t !== null), ...back.gB.filter((t): t is GpuTensor => t !== null));
        // Layer 0 by block: zᵀā₀, or [sinᵀā₀; cosᵀā₀].
        let w0: Float32Array;
        if (fw.sin && fw.cos) {
          const a = await keep(gpu.matmul(fw.sin, back.abar0, { transA: true })).read();
          const b = await keep(gpu.matmul(fw.cos, back.abar0, { transA: true })).read();
          w0 = new Float32Array(a.length + b.length);
          w0.set(a, 0);
          w0.set(b, a.length);
        } else w0 = await keep(gpu.matmul(fw.z, back.abar0, { transA: true })).read();
        grads.push(await readMlpGrads(model, back.gW, back.gB, new Tensor(w0, model['l0.w'].shape)));
      }
      let total: Record<string, Tensor> = {};
      for (const k of Object.keys(grads[0])) {
        const a = grads[0][k].data, b = grads[1][k].data;
        total[k] = new Tensor(Float32Array.from(a, (v, i) => v + b[i]), grads[0][k].shape);
      }
      if (snorm) total = spectralNormPullback(params, state.sn, snIters, total);
      return {
        loss, grads: total,
        aux: { ePos: mPos, eNeg: mNeg, gap: mPos - mNeg, reg, samplerDivergent: 0, negatives: xNeg },
        state: snorm ? { ...next, sn: snorm.sn } : next,
      };
    } finally {
      disposeAll(temp);
      disposeDeepEbm(m);
    }
  };
}
