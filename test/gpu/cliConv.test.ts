/**
 * The CLI on the WebGPU backend for conv models (8×8 digits): `EBM_BACKEND=webgpu ebm train ebm --arch conv:…`
 * (buffer negatives, ULA, α, temperature, spectral normalisation) and `ebm train jem --conv` end within float32
 * tolerance of the CPU backend's models, and `ebm sample` / `ebm score` of them give the CPU backend's results, each
 * naming the backend in `--json`. The GPU runs are child processes (Dawn's threads and Vitest's worker pool do not
 * mix); skipped, saying why, without an adapter.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ebm, tempDir } from '../cli/helpers.js';
import { gpuCli, readCsv, modelTensors as tensors, maxParamDiff } from './_gpuCli.js';

const { child, gpu } = gpuCli('test/gpu/cliConv', 300_000);

/** Largest |a − b|/(floor + |a|) over two arrays of the same length. */
function worstRel(a: number[], b: number[], floor: number): number {
  expect(b.length).toBe(a.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (floor + Math.abs(a[i])));
  return worst;
}

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train ebm --arch conv / sample (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-conv-ebm-');
  const args = (out: string): string[] =>
    ['train', 'ebm', '--data', 'digits', '--limit', '60', '--arch', 'conv:1x8x8:4,6:8', '--negatives', 'buffer', '--buffer', '32', '--sampler', 'ula',
      '--mcmc-steps', '3', '--steps', '4', '--batch', '8', '--alpha', '0.1', '--temperature', '0.5', '--spectral-norm', '--seed', '3', '--no-check',
      '--out', out, '--quiet', '--json'];

  it('trains a conv EBM by CD (buffer, ULA, α, temperature, spectral norm) on the GPU to the CPU backend\'s model', async () => {
    const cpu = await ebm(...args(join(dir, 'cpu.safetensors')));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child(args(join(dir, 'gpu.safetensors')), { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    expect(Math.abs(jg.loss - jc.loss)).toBeLessThan(1e-4 * (1 + Math.abs(jc.loss)));
    // The same batches, chain starts and noise; 4 Adam steps (lr 1e-3 by default) move a parameter by ≤ 4e-3: float32
    // differences stay ≪ that, while a wrong key, a dropped term or a missing normalisation moves them by O(lr).
    expect(maxParamDiff(tensors(join(dir, 'cpu.safetensors')), tensors(join(dir, 'gpu.safetensors')))).toBeLessThan(1e-5);
  }, 300_000);

  it('samples a conv EBM by ULA on the GPU with the CPU backend\'s draws', async () => {
    const model = join(dir, 'cpu.safetensors');
    if (!existsSync(model)) expect((await ebm(...args(model))).code).toBe(0);
    const common = ['sample', model, '--n', '6', '--steps', '12', '--seed', '5', '--json', '--quiet'];
    const cpu = await ebm(...common, '--out', join(dir, 'cpu.csv'));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child([...common, '--out', join(dir, 'gpu.csv')], { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(cpu.stdout).backend.name).not.toBe('webgpu');
    expect(JSON.parse(r.stdout).backend).toMatchObject({ name: 'webgpu' });
    const a = readCsv(join(dir, 'cpu.csv')), b = readCsv(join(dir, 'gpu.csv'));
    expect(a.length).toBe(6 * 64);
    expect(worstRel(a, b, 1e-2)).toBeLessThan(1e-3);
  }, 300_000);
});

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train jem --conv / sample / score (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-conv-jem-');
  const args = (out: string): string[] =>
    ['train', 'jem', '--data', 'digits', '--limit', '80', '--conv', '4,6', '--hidden', '8', '--steps', '4', '--batch', '8', '--buffer', '24', '--sgld-steps', '3',
      '--pxy', '0.2', '--seed', '3', '--out', out, '--quiet', '--json'];

  it('trains a conv JEM on the GPU to the CPU backend\'s model, samples it class-conditionally and scores data', async () => {
    const cpu = await ebm(...args(join(dir, 'cpu.safetensors')));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child(args(join(dir, 'gpu.safetensors')), { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    expect(Math.abs(jg.loss - jc.loss)).toBeLessThan(1e-4 * (1 + Math.abs(jc.loss)));
    expect(maxParamDiff(tensors(join(dir, 'cpu.safetensors')), tensors(join(dir, 'gpu.safetensors')))).toBeLessThan(1e-5);

    const s = ['sample', join(dir, 'cpu.safetensors'), '--n', '6', '--steps', '10', '--class', '3', '--seed', '1', '--json', '--quiet'];
    const sc = await ebm(...s, '--out', join(dir, 's-cpu.csv'));
    expect(sc.code, sc.stderr).toBe(0);
    const sg = child([...s, '--out', join(dir, 's-gpu.csv')], { EBM_BACKEND: 'webgpu' });
    expect(sg.code, sg.stderr).toBe(0);
    expect(JSON.parse(sg.stdout).backend).toMatchObject({ name: 'webgpu' });
    const x = readCsv(join(dir, 's-cpu.csv')), y = readCsv(join(dir, 's-gpu.csv'));
    expect(x.length).toBe(6 * 64);
    expect(worstRel(x, y, 1)).toBeLessThan(1e-4);

    const a = ['score', join(dir, 'cpu.safetensors'), '--data', 'digits', '--limit', '30', '--json'];
    const c = await ebm(...a, '--out', join(dir, 'sc-cpu.csv'));
    expect(c.code, c.stderr).toBe(0);
    const g = child([...a, '--out', join(dir, 'sc-gpu.csv')], { EBM_BACKEND: 'webgpu' });
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(c.stdout).backend.name).not.toBe('webgpu');
    expect(JSON.parse(g.stdout).backend).toMatchObject({ name: 'webgpu' });
    const u = readCsv(join(dir, 'sc-cpu.csv')), v = readCsv(join(dir, 'sc-gpu.csv'));
    expect(u.length).toBe(30 * 4);
    expect(worstRel(u, v, 1e-3)).toBeLessThan(1e-4);
  }, 300_000);
});
