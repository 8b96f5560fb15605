/**
 * The CLI on the WebGPU backend for score-sde and deep-ebm models: `EBM_BACKEND=webgpu ebm train score` /
 * `ebm train ebm` and `ebm sample` of their models reach the CPU backend's results within float32 tolerance and name
 * the backend in `--json`; configurations the GPU cannot run stay on the CPU and say why. The GPU runs are child
 * processes (Dawn's threads and Vitest's worker pool do not mix); skipped, saying why, without an adapter.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ebm, tempDir } from '../cli/helpers.js';
import { gpuCli, readCsv, modelTensors as tensors, maxParamDiff } from './_gpuCli.js';

const { child, gpu } = gpuCli('test/gpu/cliScoreDeep', 400_000);

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train score / sample (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-score-');
  const args = (out: string, ...more: string[]): string[] =>
    ['train', 'score', '--data', 'toy:8gaussians', '--n', '300', '--arch', 'mlp:16,16', '--steps', '20', '--batch', '64', '--seed', '3', '--out', out, '--quiet', '--json', ...more];

  it('trains an MLP score network (with Fourier features) on the GPU to the CPU backend\'s model and names the backend', async () => {
    const cpu = await ebm(...args(join(dir, 'cpu.safetensors')));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child(args(join(dir, 'gpu.safetensors')), { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
    expect(jc.arch).toMatch(/Fourier/);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    expect(Math.abs(jg.loss - jc.loss)).toBeLessThan(1e-4 * (1 + Math.abs(jc.loss)));
    // 20 Adam steps (lr 2e-3) and the EMA: float32 gradient differences move the parameters by ≪ one step (lr),
    // while a wrong time, noise or term would move them by O(lr) per step.
    expect(maxParamDiff(tensors(join(dir, 'cpu.safetensors')), tensors(join(dir, 'gpu.safetensors')))).toBeLessThan(2e-5);
  }, 600_000);

  it('samples with em and pc on the GPU with the CPU backend\'s draws; ode stays on the CPU and says why', async () => {
    const model = join(dir, 'cpu.safetensors');
    if (!existsSync(model)) expect((await ebm(...args(model))).code).toBe(0);
    for (const sampler of ['em', 'pc']) {
      const common = ['sample', model, '--n', '32', '--steps', '30', '--sampler', sampler, '--seed', '5', '--json', '--quiet'];
      const cpu = await ebm(...common, '--out', join(dir, `${sampler}-cpu.csv`));
      expect(cpu.code, cpu.stderr).toBe(0);
      expect(JSON.parse(cpu.stdout).backend.name).not.toBe('webgpu');
      const r = child([...common, '--out', join(dir, `${sampler}-gpu.csv`)], { EBM_BACKEND: 'webgpu' });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).backend).toMatchObject({ name: 'webgpu', software: gpu.software });
      const a = readCsv(join(dir, `${sampler}-cpu.csv`)), b = readCsv(join(dir, `${sampler}-gpu.csv`));
      expect(b.length).toBe(64);
      // Same prior draw and float64-stream normals (float32 maths on the GPU): ~1e-6; a wrong stream differs by O(1).
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1e-2 + Math.abs(a[i])));
      expect(worst, sampler).toBeLessThan(1e-3);
    }
    const r = child(['sample', model, '--n', '8', '--sampler', 'ode', '--steps', '5', '--out', join(dir, 'ode.csv'), '--json', '--quiet'], { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.backend.name).not.toBe('webgpu');
    expect(j.backend.reason).toMatch(/ode/);
  }, 600_000);
});

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train ebm / sample (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-ebm-');
  // Tiny on purpose: SwiftShader on a loaded 2-core machine costs ~25 ms per dispatch.
  const args = (out: string, ...more: string[]): string[] =>
    ['train', 'ebm', '--data', 'toy:8gaussians', '--n', '200', '--arch', 'mlp:2-8-8-1', '--negatives', 'buffer', '--buffer', '64', '--sampler', 'ula',
      '--mcmc-steps', '3', '--steps', '6', '--batch', '16', '--alpha', '0.1', '--seed', '3', '--no-check', '--out', out, '--quiet', '--json', ...more];

  it('trains by CD (buffer negatives, ULA, Fourier features) on the GPU to the CPU backend\'s model and names the backend', async () => {
    const cpu = await ebm(...args(join(dir, 'cpu.safetensors')));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child(args(join(dir, 'gpu.safetensors')), { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    expect(Math.abs(jg.loss - jc.loss)).toBeLessThan(1e-4 * (1 + Math.abs(jc.loss)));
    // The same batches, chain starts and noise; 6 Adam steps: float32 differences stay ≪ one step (lr), while a wrong
    // key or a dropped term moves the parameters by O(lr) per step. The saved buffer rows are the negatives.
    expect(maxParamDiff(tensors(join(dir, 'cpu.safetensors')), tensors(join(dir, 'gpu.safetensors')))).toBeLessThan(1e-4);
  }, 600_000);

  it('samples a deep EBM by ULA on the GPU with the CPU backend\'s draws', async () => {
    const model = join(dir, 'cpu.safetensors');
    if (!existsSync(model)) expect((await ebm(...args(model))).code).toBe(0);
    const common = ['sample', model, '--n', '24', '--steps', '15', '--seed', '5', '--json', '--quiet'];
    const cpu = await ebm(...common, '--out', join(dir, 'cpu.csv'));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child([...common, '--out', join(dir, 'gpu.csv')], { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).backend).toMatchObject({ name: 'webgpu' });
    const a = readCsv(join(dir, 'cpu.csv')), b = readCsv(join(dir, 'gpu.csv'));
    expect(b.length).toBe(48);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1e-2 + Math.abs(a[i])));
    expect(worst).toBeLessThan(1e-3);
  }, 600_000);
});
