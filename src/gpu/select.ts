/**
 * Choosing where a hot loop runs: `EBM_BACKEND=webgpu` asks for the GPU (docs/webgpu.md); the eager CPU backend
 * (native or js) stays what it is. {@link runHotLoop} runs a loop on the GPU when it was asked for, a device exists
 * and the caller has a GPU version, and otherwise on the CPU, and says which ran and why — the `backend` field of the
 * CLI's `--json` output.
 * @module
 */
import { getBackend } from '../tensor/backend.js';
import { GpuKernels } from './kernels.js';
import { gpuInfo, releaseGpu, type GpuInfo } from './device.js';

/** Which backend ran a hot loop (plain data, for `--json`). */
export interface HotLoopBackend {
  /** `webgpu`, or the CPU backend's name (`native` or `js`). */
  readonly name: 'webgpu' | 'native' | 'js';
  /** The adapter that ran it (webgpu only). */
  readonly adapter?: GpuInfo['adapter'];
  /** True when the adapter is a software one (SwiftShader …): correct, not fast. */
  readonly software?: boolean;
  /** Why the GPU was asked for and not used. */
  readonly reason?: string;
}

/** A loop written for the GPU: it gets the kernels and resolves to its result (read back to the host). */
export type GpuRun<T> = (gpu: GpuKernels) => Promise<T>;

/**
 * True when the environment asks for the WebGPU backend (`EBM_BACKEND=webgpu`, case-insensitive).
 * @example if (webgpuRequested()) console.log('GPU asked for');
 */
export function webgpuRequested(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.EBM_BACKEND?.trim().toLowerCase() === 'webgpu';
}

/**
 * Runs `gpuRun` on the WebGPU device when {@link webgpuRequested} and a device exists, else `cpuRun`; reports which
 * ran (`cpuRun` may be asynchronous, e.g. a training loop). `gpuRun` is a string when the caller has no GPU version for this input (the string says why). The device is
 * released afterwards (one hot loop per CLI command), so the process can exit.
 * @example
 * const { value, backend } = await runHotLoop((gpu) => mlpLangevinGpu(gpu, …), () => sampleMlpEnergy(…));
 */
export async function runHotLoop<T>(gpuRun: GpuRun<T> | string, cpuRun: () => T | Promise<T>): Promise<{ value: T; backend: HotLoopBackend }> {
  const cpuName = getBackend().name;
  if (!webgpuRequested()) return { value: await cpuRun(), backend: { name: cpuName } };
  if (typeof gpuRun === 'string') return { value: await cpuRun(), backend: { name: cpuName, reason: gpuRun } };
  const kernels = await GpuKernels.create();
  if (!(kernels instanceof GpuKernels)) return { value: await cpuRun(), backend: { name: cpuName, reason: kernels.reason ?? 'no WebGPU device' } };
  try {
    const value = await gpuRun(kernels);
    return { value, backend: { name: 'webgpu', adapter: kernels.info.adapter, software: kernels.info.software } };
  } finally {
    await releaseGpu();
  }
}

/**
 * The adapter report of `ebm doctor --json`: `{available, adapter, software, reason}` (adapter `"vendor architecture
 * (description)"` or null). Releases the device afterwards.
 * @example const { available, reason } = await gpuReport();
 */
export async function gpuReport(): Promise<{ available: boolean; adapter: string | null; software: boolean; reason: string | null; requested: boolean }> {
  const info = await gpuInfo();
  await releaseGpu();
  const a = info.adapter;
  return {
    available: info.available,
    adapter: a ? `${[a.vendor, a.architecture].filter(Boolean).join(' ')}${a.description ? ` (${a.description})` : ''}` : null,
    software: info.software,
    reason: info.reason ?? null,
    requested: webgpuRequested(),
  };
}
