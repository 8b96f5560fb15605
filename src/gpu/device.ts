/**
 * Finding a WebGPU device: `navigator.gpu` in a browser, the optional npm package `webgpu` (Dawn's Node binding) in
 * Node. Nothing here is required: without a package, a Vulkan loader or an adapter, {@link requestGpu} resolves to a
 * {@link GpuInfo} with `available: false` and the reason, and the rest of the library runs on the CPU as before.
 *
 * See docs/webgpu.md for the design (device-resident tensors, compiled steps, asynchronous reads).
 * @module
 */
import type { GpuAdapterLike, GpuDeviceLike, GpuLike } from './webgpuTypes.js';

/** What {@link requestGpu} found. */
export interface GpuInfo {
  /** True when a device was created and is ready for kernels. */
  readonly available: boolean;
  /** Where the WebGPU implementation came from: the browser's `navigator.gpu`, or the npm package `webgpu` in Node. */
  readonly source: 'navigator' | 'webgpu-package' | null;
  /** The adapter's vendor, architecture and description (e.g. `google`, `swiftshader`, `SwiftShader driver 5.0.0`). */
  readonly adapter: { readonly vendor: string; readonly architecture: string; readonly description: string } | null;
  /** True for a software adapter (SwiftShader, llvmpipe, lavapipe): correct but slow; never use it for timings. */
  readonly software: boolean;
  /** Why no device is available, when it is not. */
  readonly reason?: string;
}

/** A ready device with the information that found it. */
export interface Gpu {
  readonly device: GpuDeviceLike;
  readonly info: GpuInfo;
}

let pending: Promise<Gpu | GpuInfo> | null = null;
/**
 * The `GPU` object the device came from. Held for the life of the device: Dawn's Node binding tears down its
 * instance, and with it every adapter and device, when this object is garbage-collected.
 */
let instance: GpuLike | null = null;

function isSoftware(arch: string, desc: string): boolean {
  return /swiftshader|llvmpipe|lavapipe|software/i.test(`${arch} ${desc}`);
}

async function nodeGpu(): Promise<{ gpu: GpuLike } | { reason: string }> {
  // A computed specifier keeps bundlers from trying to bundle the optional Node-only package.
  const name = 'webgpu';
  let mod: { create(options: string[]): GpuLike; globals: Record<string, unknown> };
  try {
    mod = (await import(/* @vite-ignore */ name)) as typeof mod;
  } catch (e) {
    return { reason: `the optional package "webgpu" is not installed (npm install webgpu) — ${(e as Error).message.split('\n')[0]}` };
  }
  // The package's globals (GPUBufferUsage, GPUMapMode, …) are needed by WebGPU code; install them once.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return { gpu: mod.create([]) };
}

async function acquire(): Promise<Gpu | GpuInfo> {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  let gpu: GpuLike | undefined = nav?.gpu;
  let source: GpuInfo['source'] = gpu ? 'navigator' : null;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (!gpu) {
    if (!isNode) return { available: false, source: null, adapter: null, software: false, reason: 'this browser offers no WebGPU (navigator.gpu is undefined)' };
    const got = await nodeGpu();
    if ('reason' in got) return { available: false, source: null, adapter: null, software: false, reason: got.reason };
    gpu = got.gpu;
    source = 'webgpu-package';
  }
  instance = gpu;
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { available: false, source, adapter: null, software: false, reason: `requestAdapter() failed: ${(e as Error).message}` };
  }
  if (!adapter) {
    const hint = source === 'webgpu-package'
      ? ' (in Node on Linux Dawn needs the Vulkan loader, Debian package libvulkan1, and a Vulkan driver; without a GPU, VK_ICD_FILENAMES can name SwiftShader\'s vk_swiftshader_icd.json from chromium-common)'
      : '';
    return { available: false, source, adapter: null, software: false, reason: `requestAdapter() returned no adapter${hint}` };
  }
  const ai = adapter.info ?? { vendor: '', architecture: '', description: '' };
  const info = { vendor: ai.vendor ?? '', architecture: ai.architecture ?? '', description: ai.description ?? '' };
  let device: GpuDeviceLike;
  try {
    device = await adapter.requestDevice();
  } catch (e) {
    return { available: false, source, adapter: info, software: isSoftware(info.architecture, info.description), reason: `requestDevice() failed: ${(e as Error).message}` };
  }
  return { device, info: { available: true, source, adapter: info, software: isSoftware(info.architecture, info.description) } };
}

/**
 * The process's WebGPU device, created on first call and shared afterwards; or, when none can be had, the
 * {@link GpuInfo} that says why. Never throws.
 * @example
 * const g = await requestGpu();
 * if ('device' in g) console.log(g.info.adapter); else console.log('CPU only:', g.reason);
 */
export function requestGpu(): Promise<Gpu | GpuInfo> {
  pending ??= acquire();
  return pending;
}

/**
 * Destroys the process's device (if one was created) and forgets it, so that the next {@link requestGpu} starts
 * afresh. Call it before a Node process or worker exits: Dawn's threads must stop before the process tears down.
 * @example afterAll(() => releaseGpu());
 */
export async function releaseGpu(): Promise<void> {
  const p = pending;
  pending = null;
  if (!p) return;
  const g = await p;
  if ('device' in g) {
    await g.device.queue.onSubmittedWorkDone();
    g.device.destroy();
  }
  instance = null;
}

/**
 * What {@link requestGpu} finds, as plain data (for `ebm doctor --json` and the playground's backend label).
 * @example (await gpuInfo()).available
 */
export async function gpuInfo(): Promise<GpuInfo> {
  const g = await requestGpu();
  return 'device' in g ? g.info : g;
}
