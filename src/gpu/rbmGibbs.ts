/**
 * Block Gibbs sampling of a restricted Boltzmann machine on the GPU, with the key use of the rbm kind's CPU sampler
 * (`rbmGibbsSample` in models/rbm): the chains stay in device memory and only the final visible states come back.
 * One sweep is `h ~ Bernoulli(σ(c + v̂W))`, then `v ~ Bernoulli(σ(b + hWᵀ))` (Bernoulli units) or
 * `v ~ N(b + hWᵀ, σ²)` (Gaussian units, `v̂ = v/σ²`): two matmuls, one bias add, one sigmoid, one Philox draw and
 * one Bernoulli (or scale-and-add) kernel per half-sweep. The uniforms are bit-identical to the CPU's and the normals
 * agree to a few float32 ulp, so a chain differs from the CPU's only where a probability lands within rounding of its
 * uniform (rare; the chain then decorrelates from the CPU's, with the same law).
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { foldIn, split, type Key } from '../random/key.js';
import { normalArray, uniformArray } from '../random/sample.js';
import { InvalidArgumentError } from '../errors.js';
import type { GpuKernels, GpuTensor } from './kernels.js';

/** The RBM parameters the GPU sampler needs (the fields of models/rbm's `RBMParams`, float32). */
export interface GpuRbmParams {
  /** Visible family. */
  readonly visible: 'bernoulli' | 'gaussian' | 'softmax';
  /** Weights `[nVisible, nHidden]`. */
  readonly W: Tensor;
  /** Visible bias `[nVisible]`. */
  readonly b: Tensor;
  /** Hidden bias `[nHidden]`. */
  readonly c: Tensor;
  /** Gaussian units: `log σ²` per visible unit `[nVisible]`. */
  readonly logVar?: Tensor | null;
}

/**
 * Why an RBM cannot be sampled on the GPU (`null` when it can): softmax visible units (no grouped categorical draw
 * yet) or float64 parameters (WGSL computes in float32).
 * @example gpuRbmUnsupported(params) // "softmax visible units have no WebGPU sampler yet"
 */
export function gpuRbmUnsupported(p: GpuRbmParams): string | null {
  if (p.visible === 'softmax') return 'softmax visible units have no WebGPU sampler yet';
  if (p.W.dtype !== 'float32') return `the parameters are ${p.W.dtype}; the WebGPU backend computes in float32`;
  return null;
}

/** Sweeps per key chunk: sweeps `100c+1 … 100c+100` draw from `foldIn(k1, c)`, as the CPU sampler does. */
const CHUNK = 100;

/**
 * Draws `n` samples by `steps` block Gibbs sweeps on the device. Chains start where the CPU sampler starts them
 * (Bernoulli(½) bits, or `N(b, σ²)` for Gaussian units, from `split(key)[0]`, drawn on the host); sweep keys are
 * `split(foldIn(split(key)[1], c), 2m)` per chunk `c` of `m ≤ 100` sweeps (hidden draw, then visible draw).
 * @returns the final visible states `[n, nVisible]` (float32, in the RBM's units).
 * @example const v = await rbmGibbsSampleGpu(gpu, params, key(0), 1000, 500);
 */
export async function rbmGibbsSampleGpu(gpu: GpuKernels, p: GpuRbmParams, k: Key, n: number, steps: number, onProgress?: (done: number) => void): Promise<Tensor> {
  const why = gpuRbmUnsupported(p);
  if (why) throw new InvalidArgumentError(`rbmGibbsSampleGpu: ${why}`);
  if (!(Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`rbmGibbsSampleGpu: n must be a positive integer, got ${n}`);
  if (!(Number.isInteger(steps) && steps >= 0)) throw new InvalidArgumentError(`rbmGibbsSampleGpu: steps must be an integer ≥ 0, got ${steps}`);
  const [nv, nh] = p.W.shape;
  const gaussian = p.visible === 'gaussian';
  const [k0, k1] = split(k, 2);
  // Start states, exactly as the CPU sampler draws them.
  const v0 = new Float32Array(n * nv);
  let sd: Float32Array | null = null, invVar: Float32Array | null = null;
  if (gaussian) {
    const lv = p.logVar!.data;
    sd = Float32Array.from({ length: nv }, (_, i) => Math.exp(0.5 * lv[i]));
    invVar = Float32Array.from({ length: nv }, (_, i) => Math.exp(-lv[i]));
    const z = normalArray(k0, n * nv, 'float32');
    const b = p.b.data;
    for (let q = 0; q < v0.length; q++) v0[q] = b[q % nv] + Math.exp(0.5 * lv[q % nv]) * z[q];
  } else {
    const u = uniformArray(k0, n * nv, 'float32');
    for (let q = 0; q < v0.length; q++) v0[q] = u[q] < 0.5 ? 1 : 0;
  }
  const W = gpu.upload(p.W.data as Float32Array, [nv, nh]);
  const b = gpu.upload(p.b.data as Float32Array, [nv]);
  const c = gpu.upload(p.c.data as Float32Array, [nh]);
  const sdG = sd ? gpu.upload(sd, [nv]) : null;
  const invG = invVar ? gpu.upload(invVar, [nv]) : null;
  let v: GpuTensor = gpu.upload(v0, [n, nv]);
  try {
    for (let done = 0, chunk = 0; done < steps; chunk++) {
      const m = Math.min(CHUNK, steps - done);
      const keys = split(foldIn(k1, chunk), 2 * m);
      for (let t = 0; t < m; t++) {
        const temp: GpuTensor[] = [];
        const vhat = invG ? gpu.binary('mul', v, invG) : v;
        if (vhat !== v) temp.push(vhat);
        const preH = gpu.matmul(vhat, W);
        const preHb = gpu.binary('add', preH, c);
        const pH = gpu.unary('sigmoid', preHb);
        const uH = gpu.uniform(keys[2 * t], [n, nh]);
        const h = gpu.bernoulli(pH, uH);
        temp.push(preH, preHb, pH, uH);
        const preV = gpu.matmul(h, W, { transB: true });
        const mean = gpu.binary('add', preV, b);
        temp.push(h, preV);
        let next: GpuTensor;
        if (gaussian) {
          const xi = gpu.normal(keys[2 * t + 1], [n, nv]);
          const noise = gpu.binary('mul', xi, sdG!);
          next = gpu.binary('add', mean, noise);
          temp.push(mean, xi, noise);
        } else {
          const pV = gpu.unary('sigmoid', mean);
          const uV = gpu.uniform(keys[2 * t + 1], [n, nv]);
          next = gpu.bernoulli(pV, uV);
          temp.push(mean, pV, uV);
        }
        for (const x of temp) x.dispose();
        v.dispose();
        v = next;
      }
      done += m;
      if (onProgress) {
        await gpu.readBuffer(v.buffer, 1);
        onProgress(done);
      }
    }
    return await v.toTensor();
  } finally {
    v.dispose();
    for (const x of [W, b, c, sdG, invG]) x?.dispose();
  }
}
