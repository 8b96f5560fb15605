/**
 * The small part of the WebGPU API that src/gpu uses, typed structurally so that the library needs neither the DOM
 * typings nor `@webgpu/types` to compile. The shapes follow the WebGPU specification; the browser's
 * `navigator.gpu` and the npm package `webgpu` both satisfy them.
 * @module
 */

/** `navigator.gpu`. */
export interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<GpuAdapterLike | null>;
}

/** A `GPUAdapter`. */
export interface GpuAdapterLike {
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly description?: string };
  requestDevice(descriptor?: Record<string, unknown>): Promise<GpuDeviceLike>;
}

/** A `GPUBuffer`. */
export interface GpuBufferLike {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

/** A `GPUComputePipeline`. */
export interface GpuPipelineLike {
  getBindGroupLayout(index: number): unknown;
}

/** A `GPUComputePassEncoder`. */
export interface GpuComputePassLike {
  setPipeline(p: GpuPipelineLike): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

/** A `GPUCommandEncoder`. */
export interface GpuEncoderLike {
  beginComputePass(): GpuComputePassLike;
  copyBufferToBuffer(src: GpuBufferLike, srcOffset: number, dst: GpuBufferLike, dstOffset: number, size: number): void;
  finish(): unknown;
}

/** A `GPUDevice`. */
export interface GpuDeviceLike {
  readonly queue: {
    writeBuffer(buffer: GpuBufferLike, offset: number, data: ArrayBufferView | ArrayBuffer): void;
    submit(commands: unknown[]): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  createBuffer(descriptor: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBufferLike;
  createShaderModule(descriptor: { code: string }): unknown;
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): GpuPipelineLike;
  createBindGroup(descriptor: { layout: unknown; entries: { binding: number; resource: { buffer: GpuBufferLike } }[] }): unknown;
  createCommandEncoder(): GpuEncoderLike;
  destroy(): void;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

/** `GPUBufferUsage` flags (values from the WebGPU specification). */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** `GPUMapMode.READ`. */
export const MAP_READ_MODE = 0x0001;
