/** Backend selection for hot loops (src/gpu/select.ts), in-process: the paths that never create a device. */
import { afterEach, describe, expect, it } from 'vitest';
import { runHotLoop, webgpuRequested } from '../../src/gpu/select.js';
import { gpuMlpUnsupported } from '../../src/gpu/mlpLangevin.js';
import { initMLP } from '../../src/nn/index.js';
import { key } from '../../src/random/index.js';

const saved = process.env.EBM_BACKEND;
afterEach(() => {
  if (saved === undefined) delete process.env.EBM_BACKEND; else process.env.EBM_BACKEND = saved;
});

describe('runHotLoop', () => {
  it('runs the CPU version without EBM_BACKEND=webgpu, and never touches the GPU version', async () => {
    delete process.env.EBM_BACKEND;
    expect(webgpuRequested()).toBe(false);
    const r = await runHotLoop(() => Promise.reject(new Error('GPU version ran')), () => 42);
    expect(r.value).toBe(42);
    expect(['native', 'js']).toContain(r.backend.name);
    expect(r.backend.reason).toBeUndefined();
  });
  it('with EBM_BACKEND=webgpu and no GPU version, runs on the CPU and passes the reason on', async () => {
    process.env.EBM_BACKEND = ' WebGPU ';
    expect(webgpuRequested()).toBe(true);
    const r = await runHotLoop('model kind x has no WebGPU sampler yet', () => 'cpu');
    expect(r).toMatchObject({ value: 'cpu', backend: { reason: 'model kind x has no WebGPU sampler yet' } });
    expect(r.backend.name).not.toBe('webgpu');
  });
});

describe('gpuMlpUnsupported', () => {
  it('accepts activations with a fused backward and an energy with one output', () => {
    expect(gpuMlpUnsupported('silu', initMLP(key(0), [2, 4, 1]))).toBeNull();
    expect(gpuMlpUnsupported('tanh')).toBeNull();
  });
  it('names what the GPU cannot run', () => {
    expect(gpuMlpUnsupported('elu')).toMatch(/'elu' has no WebGPU kernel/);
    expect(gpuMlpUnsupported('silu', initMLP(key(0), [2, 4, 3]))).toMatch(/3 outputs/);
  });
});
