/**
 * Restricted Boltzmann machines on the GPU: the parameters uploaded once ({@link uploadRbmGpu}), the two half-sweeps
 * ({@link rbmHiddenProbsGpu}, {@link rbmVisibleDrawGpu}) that the rbm kind's GPU sampler and CD step (models/rbm)
 * are built from, and {@link rbmGibbsSweepsGpu}, the device twin of the CPU's `gibbsRaw` (same key use). One sweep is `h ~ Bernoulli(σ(c + v̂W))`, then `v ~ Bernoulli(σ(b + hWᵀ))` (Bernoulli units) or
 * `v ~ N(b + hWᵀ, σ²)` (Gaussian units, `v̂ = v/σ²`): two matmuls, one bias add, one sigmoid, one Philox draw and
 * one Bernoulli (or scale-and-add) kernel per half-sweep. The uniforms are bit-identical to the CPU's and the normals
 * agree to a few float32 ulp, so a chain differs from the CPU's only where a probability lands within rounding of its
 * uniform (rare; the chain then decorrelates from the CPU's, with the same law).
 * @module
 */
import type { Tensor } from '../tensor/tensor.js';
import { split, type Key } from '../random/key.js';
import type { GpuKernels, GpuTensor } from './kernels.js';

/** The RBM parameters the GPU kernels need (the fields of models/rbm's `RBMParams`, float32). */
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
 * Why an RBM cannot run on the GPU (`null` when it can): softmax visible units (no grouped categorical draw yet) or
 * float64 parameters (WGSL computes in float32).
 * @example gpuRbmUnsupported(params) // "softmax visible units have no WebGPU kernels yet"
 */
export function gpuRbmUnsupported(p: GpuRbmParams): string | null {
  if (p.visible === 'softmax') return 'softmax visible units have no WebGPU kernels yet';
  if (p.W.dtype !== 'float32') return `the parameters are ${p.W.dtype}; the WebGPU backend computes in float32`;
  return null;
}

/** An RBM uploaded to the device: weights, biases and, for Gaussian units, `1/σ²` and `σ` per visible unit. */
export interface GpuRbm {
  readonly W: GpuTensor;
  readonly b: GpuTensor;
  readonly c: GpuTensor;
  readonly invVar: GpuTensor | null;
  readonly sd: GpuTensor | null;
}

/** Keeps a device tensor for later disposal and returns it (the caller frees what it collected). */
export type GpuTrack = <T extends GpuTensor>(t: T) => T;

function f32(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

/**
 * Copies an RBM's parameters to the device (free with {@link disposeRbmGpu}).
 * @example const rbm = uploadRbmGpu(gpu, params);
 */
export function uploadRbmGpu(gpu: GpuKernels, p: GpuRbmParams): GpuRbm {
  const [nv, nh] = p.W.shape;
  const lv = p.visible === 'gaussian' ? p.logVar!.data : null;
  return {
    W: gpu.upload(f32(p.W), [nv, nh]),
    b: gpu.upload(f32(p.b), [nv]),
    c: gpu.upload(f32(p.c), [nh]),
    invVar: lv ? gpu.upload(Float32Array.from(lv, (z) => Math.exp(-z)), [nv]) : null,
    sd: lv ? gpu.upload(Float32Array.from(lv, (z) => Math.exp(0.5 * z)), [nv]) : null,
  };
}

/** Frees the device copies of {@link uploadRbmGpu}. */
export function disposeRbmGpu(r: GpuRbm): void {
  for (const t of [r.W, r.b, r.c, r.invVar, r.sd]) t?.dispose();
}

/** `v̂ = v/σ²` for Gaussian units, `v` itself otherwise. */
export function rbmScaledGpu(gpu: GpuKernels, r: GpuRbm, v: GpuTensor, track: GpuTrack): GpuTensor {
  return r.invVar ? track(gpu.binary('mul', v, r.invVar)) : v;
}

/** `P(h = 1 | v) = σ(c + v̂W)` for `v̂ [rows, nv]` (already scaled, {@link rbmScaledGpu}). */
export function rbmHiddenProbsGpu(gpu: GpuKernels, r: GpuRbm, vhat: GpuTensor, track: GpuTrack): GpuTensor {
  return track(gpu.unary('sigmoid', track(gpu.binary('add', track(gpu.matmul(vhat, r.W)), r.c))));
}

/**
 * The visible half-sweep from `h [rows, nh]` with key `kv`, as the CPU's `visibleSampleRaw` draws it: `mean = E[v|h]`
 * and `v ~ Bernoulli(mean)` (uniforms of `kv`) or `v = mean + σ·ξ` (normals of `kv`).
 */
export function rbmVisibleDrawGpu(gpu: GpuKernels, r: GpuRbm, h: GpuTensor, kv: Key, track: GpuTrack): { mean: GpuTensor; v: GpuTensor } {
  const pre = track(gpu.binary('add', track(gpu.matmul(h, r.W, { transB: true })), r.b));
  const shape = pre.shape;
  if (r.sd) return { mean: pre, v: track(gpu.binary('add', pre, track(gpu.binary('mul', track(gpu.normal(kv, shape)), r.sd)))) };
  const mean = track(gpu.unary('sigmoid', pre));
  return { mean, v: track(gpu.bernoulli(mean, track(gpu.uniform(kv, shape)))) };
}

/**
 * `steps` block-Gibbs sweeps from `v [rows, nv]` with the key use of the CPU's `gibbsRaw`: sweep `t` draws its
 * hidden uniforms from `split(key, 2·steps)[2t]` and its visible randomness from `[2t+1]`. Returns the new visible
 * states, a fresh device tensor (`v` itself when `steps` is 0; `v` is never freed); every intermediate is freed once
 * queued.
 * @example v = rbmGibbsSweepsGpu(gpu, rbm, v, foldIn(k1, chunk), 100);
 */
export function rbmGibbsSweepsGpu(gpu: GpuKernels, r: GpuRbm, v: GpuTensor, key: Key, steps: number): GpuTensor {
  const keys = split(key, 2 * steps);
  let cur = v;
  for (let t = 0; t < steps; t++) {
    const temp: GpuTensor[] = [];
    const track: GpuTrack = (x) => { temp.push(x); return x; };
    const ph = rbmHiddenProbsGpu(gpu, r, rbmScaledGpu(gpu, r, cur, track), track);
    const h = track(gpu.bernoulli(ph, track(gpu.uniform(keys[2 * t], ph.shape))));
    const next = rbmVisibleDrawGpu(gpu, r, h, keys[2 * t + 1], track).v;
    for (const x of temp) if (x !== next) x.dispose();
    if (cur !== v) cur.dispose();
    cur = next;
  }
  return cur;
}
