/**
 * The CLI on the WebGPU backend for score-sde U-Nets: `EBM_BACKEND=webgpu ebm train score --arch unet:4,2` on a few
 * MNIST rows and `ebm sample` of the model (em, pc) reach the CPU backend's results within float32 tolerance and name
 * the backend in `--json`; `ode` stays on the CPU and says why. The GPU runs are child processes (Dawn's threads and
 * Vitest's worker pool do not mix); skipped, saying why, without an adapter. Tiny net, few steps: SwiftShader is a
 * CPU driver.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ebm, tempDir } from '../cli/helpers.js';
import { gpuCli, readCsv, modelTensors as tensors, maxParamDiff } from './_gpuCli.js';

const { child, gpu } = gpuCli('test/gpu/cliUNet', 400_000);

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train score --arch unet / sample (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-unet-');
  const model = join(dir, 'cpu.safetensors');
  const args = (out: string): string[] =>
    ['train', 'score', '--data', 'mnist:test', '--limit', '8', '--arch', 'unet:4,2', '--steps', '4', '--batch', '4', '--seed', '3', '--out', out, '--quiet', '--json'];

  it('trains a U-Net (2 residual blocks, dequantised 8-bit batches) on the GPU to the CPU backend\'s model', async () => {
    const cpu = await ebm(...args(model));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child(args(join(dir, 'gpu.safetensors')), { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
    expect(jc.arch).toMatch(/unet:4,2/);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    expect(Math.abs(jg.loss - jc.loss)).toBeLessThan(1e-4 * (1 + Math.abs(jc.loss)));
    // 4 Adam steps: float32 gradient differences move the parameters by ≪ one step (lr); a wrong term by O(lr).
    expect(maxParamDiff(tensors(model), tensors(join(dir, 'gpu.safetensors')))).toBeLessThan(2e-5);
  }, 600_000);

  it('samples the U-Net with em and pc on the GPU with the CPU backend\'s draws; ode stays on the CPU and says why', async () => {
    for (const sampler of ['em', 'pc']) {
      const common = ['sample', model, '--n', '2', '--steps', '5', '--sampler', sampler, '--seed', '5', '--json', '--quiet'];
      const cpu = await ebm(...common, '--out', join(dir, `${sampler}-cpu.csv`));
      expect(cpu.code, cpu.stderr).toBe(0);
      expect(JSON.parse(cpu.stdout).backend.name).not.toBe('webgpu');
      const r = child([...common, '--out', join(dir, `${sampler}-gpu.csv`)], { EBM_BACKEND: 'webgpu' });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).backend).toMatchObject({ name: 'webgpu', software: gpu.software });
      const a = readCsv(join(dir, `${sampler}-cpu.csv`)), b = readCsv(join(dir, `${sampler}-gpu.csv`));
      expect(b.length).toBe(2 * 784);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      expect(worst, sampler).toBeLessThan(1e-4);
    }
    const r = child(['sample', model, '--n', '2', '--sampler', 'ode', '--steps', '3', '--out', join(dir, 'ode.csv'), '--json', '--quiet'], { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.backend.name).not.toBe('webgpu');
    expect(j.backend.reason).toMatch(/ode/);
  }, 600_000);
});
