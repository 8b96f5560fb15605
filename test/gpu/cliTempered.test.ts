/**
 * The CLI on the WebGPU backend for deep EBMs with the vector defaults: `EBM_BACKEND=webgpu ebm train ebm` with
 * parallel-tempering negatives and MALA moves (the default), with `--sampler-clip` and `--spectral-norm`, and by
 * score matching (`--loss dsm` noise-conditional or single-σ, `--loss ssm`), reaches the CPU backend's model within
 * float32 tolerance and names the backend in `--json`. The GPU runs are child processes
 * (Dawn's threads and Vitest's worker pool do not mix); skipped, saying why, without an adapter.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ebm, tempDir } from '../cli/helpers.js';
import { gpuCli, modelTensors as tensors, maxParamDiff } from './_gpuCli.js';

const { child, gpu } = gpuCli('test/gpu/cliTempered', 400_000);

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train ebm, vector defaults (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-tempered-');
  // The defaults (tempered negatives, 4 temperatures, MALA, Fourier features, confining term, EMA, cosine decay) with a
  // small net and few chains: SwiftShader on a loaded 2-core machine costs ~25 ms per dispatch (the default 2-128-128-1
  // net with 64 chains per temperature took 27 s per step there; the CPU 0.07 s).
  const args = (out: string, ...more: string[]): string[] =>
    ['train', 'ebm', '--data', 'toy:8gaussians', '--n', '300', '--arch', 'mlp:2-16-16-1', '--chains', '16', '--batch', '32', '--steps', '12', '--seed', '3',
      '--no-check', '--out', out, '--quiet', '--json', ...more];

  const same = async (name: string, tol: number, ...more: string[]): Promise<void> => {
    const cpu = await ebm(...args(join(dir, `${name}-cpu.safetensors`), ...more));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child(args(join(dir, `${name}-gpu.safetensors`), ...more), { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    expect(Math.abs(jg.loss - jc.loss)).toBeLessThan(1e-4 * (1 + Math.abs(jc.loss)));
    // The same batches, replicas, noise, accept and swap uniforms; 12 Adam steps of lr 2e-3: float32 differences stay
    // ≪ one step, while a wrong key, swap or term moves the parameters by O(lr) per step. The saved buffer rows are
    // the T = 1 replicas.
    expect(maxParamDiff(tensors(join(dir, `${name}-cpu.safetensors`)), tensors(join(dir, `${name}-gpu.safetensors`)))).toBeLessThan(tol);
  };

  it('trains with the defaults (tempered negatives, MALA, Fourier features) on the GPU to the CPU backend\'s model', async () => {
    await same('defaults', 1e-5);
  }, 600_000);

  it('trains with --sampler-clip and --spectral-norm (tempered ULA) on the GPU to the CPU backend\'s model', async () => {
    await same('clip-sn', 1e-4, '--sampler', 'ula', '--sampler-clip', '0.5', '--spectral-norm', '--steps', '8');
  }, 600_000);

  for (const [loss, what, more] of [
    ['dsm', 'single-σ DSM', ['--loss', 'dsm', '--sigma-max', 'none']],
    ['nc', 'noise-conditional DSM with the heat term (the dsm default)', ['--loss', 'dsm', '--steps', '8']],
    ['ssm', 'sliced score matching', ['--loss', 'ssm']],
  ] as const) {
    it(`trains by ${what} (Fourier features) on the GPU to the CPU backend's model`, async () => {
      // The heat term costs 2D network passes per row: 8 steps (139 s for 20 on SwiftShader on the loaded machine).
      const sm = (out: string): string[] => ['train', 'ebm', '--data', 'toy:8gaussians', '--n', '300', '--steps', '20', ...more,
        '--arch', 'mlp:2-16-16-1', '--batch', '64', '--seed', '3', '--out', out, '--quiet', '--json'];
      const cpu = await ebm(...sm(join(dir, `${loss}-cpu.safetensors`)));
      expect(cpu.code, cpu.stderr).toBe(0);
      const r = child(sm(join(dir, `${loss}-gpu.safetensors`)), { EBM_BACKEND: 'webgpu' });
      expect(r.code, r.stderr).toBe(0);
      const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
      expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
      expect(Math.abs(jg.finalLoss - jc.finalLoss)).toBeLessThan(1e-5 * (1 + Math.abs(jc.finalLoss)));
      // 20 Adam steps (lr 2e-3; dsm: 6e-8 observed on SwiftShader).
      expect(maxParamDiff(tensors(join(dir, `${loss}-cpu.safetensors`)), tensors(join(dir, `${loss}-gpu.safetensors`)))).toBeLessThan(1e-5);
    }, 600_000);
  }
});
