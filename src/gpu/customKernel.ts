/**
 * Running a WGSL kernel that lives outside src/gpu/kernels.ts (the kernels of one algorithm kept beside it, e.g.
 * src/gpu/tempering.ts, src/gpu/mlpSsm.ts, and the launcher of convKernels.ts/imageKernels.ts) on a
 * {@link GpuKernels} device: one pipeline cache per device, the dispatch and its count, and storage buffers.
 * @module
 */
import { GpuTensor, type GpuKernels } from './kernels.js';
import { BufferUsage, type GpuBufferLike, type GpuPipelineLike } from './webgpuTypes.js';

/** Threads per workgroup of the custom 1-D kernels (`@workgroup_size`). */
export const CUSTOM_WG = 64;
const MAX_GROUPS = 65535;

const pipelines = new WeakMap<GpuKernels, Map<string, GpuPipelineLike>>();

function pipeline(gpu: GpuKernels, name: string, code: string): GpuPipelineLike {
  let m = pipelines.get(gpu);
  if (!m) pipelines.set(gpu, (m = new Map()));
  let p = m.get(name);
  if (!p) {
    p = gpu.device.createComputePipeline({ layout: 'auto', compute: { module: gpu.device.createShaderModule({ code }), entryPoint: 'main' } });
    m.set(name, p);
  }
  return p;
}

/**
 * A new float32 storage buffer of `floats` values wrapped as a tensor of `shape`.
 * @example const y = customOutput(gpu, x.shape);
 */
export function customOutput(gpu: GpuKernels, shape: readonly number[]): GpuTensor {
  return new GpuTensor(gpu, [...shape], storageBuffer(gpu, shape.reduce((a, b) => a * b, 1)));
}

/**
 * @internal A new float32 storage buffer of `floats` values (4 bytes at least), for the kernel modules of src/gpu kept
 * beside {@link GpuKernels} (this one, convKernels.ts, imageKernels.ts).
 */
export function storageBuffer(gpu: GpuKernels, floats: number): GpuBufferLike {
  return gpu.device.createBuffer({ size: Math.max(4, floats * 4), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
}

/**
 * Threads per row of the 2-D dispatch grid for `threads` invocations (a kernel's index is `gid.y·stride + gid.x`).
 * @example const stride = customStride(n);
 */
export function customStride(threads: number): number {
  return Math.min(Math.max(1, Math.ceil(threads / CUSTOM_WG)), MAX_GROUPS) * CUSTOM_WG;
}

/**
 * Queues kernel `code` (entry point `main`, cached under `name`) over `threads` invocations with `buffers` bound in
 * order and `uniform` bound last (a uniform buffer, freed once queued); counts one dispatch in `gpu.stats`.
 * @example runCustomKernel(gpu, 'ptSwap', SWAP_WGSL, [x.buffer, y.buffer], header, n);
 */
export function runCustomKernel(gpu: GpuKernels, name: string, code: string, buffers: readonly GpuBufferLike[], uniform: ArrayBuffer, threads: number): void {
  const groups = Math.max(1, Math.ceil(threads / CUSTOM_WG));
  const gx = Math.min(groups, MAX_GROUPS);
  dispatchKernel(gpu, name, code, buffers, uniform, gx, Math.ceil(groups / gx));
}

/**
 * @internal Queues one dispatch of `code` (entry point `main`; its pipeline compiled once per device and cached under
 * `name`, a name unique across src/gpu's kernel modules) on a `gx × gy` grid, with `buffers` bound in order and
 * `uniform` copied into a uniform buffer bound last (freed once queued); counts the dispatch in `gpu.stats`.
 */
export function dispatchKernel(gpu: GpuKernels, name: string, code: string, buffers: readonly GpuBufferLike[], uniform: ArrayBuffer | ArrayBufferView, gx: number, gy: number): void {
  const u = gpu.device.createBuffer({ size: uniform.byteLength, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  gpu.device.queue.writeBuffer(u, 0, uniform);
  const pipe = pipeline(gpu, name, code);
  gpu.stats.dispatches++;
  const group = gpu.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [...buffers, u].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const enc = gpu.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(gx, gy);
  pass.end();
  gpu.device.queue.submit([enc.finish()]);
  u.destroy();
}
