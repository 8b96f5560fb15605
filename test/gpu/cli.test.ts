/**
 * The CLI on the WebGPU backend: `ebm doctor --json` reports the adapter, and `EBM_BACKEND=webgpu ebm sample` of an
 * mlp-energy model runs its Langevin chain (an rbm model its Gibbs chains) on the GPU with the CPU's result (float32
 * tolerance) and names the backend;
 * a model the GPU cannot run (elu has no fused backward) runs on the CPU and says why; `EBM_BACKEND=webgpu ebm train
 * mlp-energy --loss dsm` runs its training steps' loss and parameter gradient on the GPU and ends at the CPU's model. The GPU runs are child
 * processes (Dawn's threads and Vitest's worker pool do not mix); skipped, saying why, without an adapter.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ebm, tempDir } from '../cli/helpers.js';
import { formatRatings, syntheticRatings } from '../../src/data/movielens.js';
import { key } from '../../src/random/index.js';
import { gpuCli, readCsv, modelTensors as tensors, maxParamDiff } from './_gpuCli.js';

const { child, doctor, gpu } = gpuCli('test/gpu/cli', 120_000);

describe('ebm doctor --json', () => {
  it('reports the WebGPU adapter, or why there is none', () => {
    expect(doctor.code).toBe(0);
    expect(typeof gpu.available).toBe('boolean');
    if (gpu.available) expect(gpu.adapter).toMatch(/\S/);
    else expect(gpu.reason).toMatch(/\S/);
  });
});

describe('EBM_BACKEND=webgpu without an adapter', () => {
  it('samples on the CPU and says why', async () => {
    const dir = tempDir('ebm-gpu-none-');
    const model = join(dir, 'm.safetensors');
    expect((await ebm('train', 'mlp-energy', '--data', 'toy:8gaussians', '--n', '200', '--hidden', '8', '--steps', '5', '--out', model, '--quiet', '--json')).code).toBe(0);
    // A Vulkan ICD list naming no driver: Dawn finds no adapter (or the package is missing): either way a reason.
    const r = child(['sample', model, '--n', '8', '--steps', '5', '--out', join(dir, 's.csv'), '--json', '--quiet'], { EBM_BACKEND: 'webgpu', VK_ICD_FILENAMES: join(dir, 'none.json') });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(['native', 'js']).toContain(j.backend.name);
    expect(j.backend.reason).toMatch(/adapter|package/);
  }, 120_000);
});

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm sample (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-');
  it('runs the mlp-energy Langevin chain on the GPU with the CPU backend\'s result', async () => {
    const model = join(dir, 'silu.safetensors');
    expect((await ebm('train', 'mlp-energy', '--data', 'toy:8gaussians', '--n', '500', '--hidden', '16,16', '--steps', '40', '--out', model, '--quiet', '--json')).code).toBe(0);
    const cpu = await ebm('sample', model, '--n', '64', '--steps', '30', '--seed', '5', '--out', join(dir, 'cpu.csv'), '--json', '--quiet');
    expect(cpu.code).toBe(0);
    expect(JSON.parse(cpu.stdout).backend.name).not.toBe('webgpu');
    const r = child(['sample', model, '--n', '64', '--steps', '30', '--seed', '5', '--out', join(dir, 'gpu.csv'), '--json', '--quiet'], { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    expect(j.backend.reason).toBeUndefined();
    const a = readCsv(join(dir, 'cpu.csv')), b = readCsv(join(dir, 'gpu.csv'));
    expect(b.length).toBe(128);
    // 30 float32 steps on both sides, same keys and normals: agreement to ~1e-6 relative; 1e-4 leaves room, while a
    // wrong noise stream or gradient would differ by O(0.1).
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1e-3 + Math.abs(a[i])));
    expect(worst).toBeLessThan(1e-4);
  }, 180_000);

  it('runs an RBM\'s Gibbs chains on the GPU with the CPU backend\'s draws (Bernoulli and standardised Gaussian units)', async () => {
    for (const [name, trainArgs] of [
      ['bas', ['--data', 'toy:bars-and-stripes:3', '--n', '200', '--hidden', '6', '--epochs', '3']],
      ['gauss', ['--data', 'toy:8gaussians', '--n', '300', '--visible', 'gaussian', '--hidden', '8', '--epochs', '3']],
    ] as const) {
      const model = join(dir, `${name}.safetensors`);
      const t = await ebm('train', 'rbm', ...trainArgs, '--out', model, '--quiet', '--json');
      expect(t.code, t.stderr).toBe(0);
      const cpu = await ebm('sample', model, '--n', '40', '--steps', '60', '--seed', '2', '--out', join(dir, `${name}-cpu.csv`), '--json', '--quiet');
      expect(cpu.code, cpu.stderr).toBe(0);
      const r = child(['sample', model, '--n', '40', '--steps', '60', '--seed', '2', '--out', join(dir, `${name}-gpu.csv`), '--json', '--quiet'], { EBM_BACKEND: 'webgpu' });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).backend).toMatchObject({ name: 'webgpu' });
      const a = readCsv(join(dir, `${name}-cpu.csv`)), b = readCsv(join(dir, `${name}-gpu.csv`));
      expect(b.length).toBe(a.length);
      // Same uniforms (bit-identical Philox) and normals (float32 ulps): every value agrees unless a probability lands
      // within rounding of its uniform, which decorrelates that one chain; a wrong stream would change most values.
      let same = 0;
      for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) <= 1e-3 * (1 + Math.abs(a[i]))) same++;
      expect(same / a.length, name).toBeGreaterThan(0.97);
    }
  }, 240_000);

  it('runs a model with no GPU kernel (elu) on the CPU and says why', async () => {
    const model = join(dir, 'elu.safetensors');
    expect((await ebm('train', 'mlp-energy', '--data', 'toy:8gaussians', '--n', '500', '--hidden', '8', '--activation', 'elu', '--steps', '10', '--out', model, '--quiet', '--json')).code).toBe(0);
    const r = child(['sample', model, '--n', '8', '--steps', '5', '--out', join(dir, 'elu.csv'), '--json', '--quiet'], { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.backend.name).not.toBe('webgpu');
    expect(j.backend.reason).toMatch(/elu/);
  }, 180_000);
});

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train mlp-energy (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-train-');
  const args = (out: string, ...more: string[]): string[] =>
    ['train', 'mlp-energy', '--data', 'toy:8gaussians', '--n', '300', '--hidden', '16,16', '--steps', '25', '--batch', '64', '--seed', '3', '--out', out, '--quiet', '--json', ...more];

  it('trains with DSM on the GPU to the CPU backend\'s model (float32 tolerance) and names the backend', async () => {
    const cpu = await ebm(...args(join(dir, 'cpu.safetensors')));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child(args(join(dir, 'gpu.safetensors')), { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    // Same keys, batches and noise; the loss of the last step agrees to float32 rounding.
    expect(Math.abs(jg.loss - jc.loss)).toBeLessThan(1e-4 * (1 + Math.abs(jc.loss)));
    // 25 Adam steps of lr 1e-3 move each parameter by ≤ 0.025; float32 gradient differences (~1e-6 relative) can
    // only move an Adam step noticeably where a gradient component is ~0, so the models agree to ≪ one step's size
    // (6e-8 was measured on SwiftShader for 30 steps), while a wrong gradient would differ by O(lr) per step.
    const worst = maxParamDiff(tensors(join(dir, 'cpu.safetensors')), tensors(join(dir, 'gpu.safetensors')));
    expect(worst).toBeLessThan(1e-5);
  }, 180_000);

  it('trains with SSM on the GPU (the traced compile) to the CPU backend\'s model (float32 tolerance)', async () => {
    const ssm = ['--loss', 'ssm', '--steps', '30', '--lr', '3e-3'];
    const cpu = await ebm(...args(join(dir, 'ssm-cpu.safetensors'), ...ssm));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child(args(join(dir, 'ssm-gpu.safetensors'), ...ssm), { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    expect(Math.abs(jg.loss - jc.loss)).toBeLessThan(1e-4 * (1 + Math.abs(jc.loss)));
    // 30 Adam steps of lr 3e-3 move a parameter by up to 0.09; the probes (GPU Philox normals, ~1e-6 from the CPU's)
    // and float32 gradients differ by rounding only, while a wrong gradient or probe would differ by O(lr) per step.
    const worst = maxParamDiff(tensors(join(dir, 'ssm-cpu.safetensors')), tensors(join(dir, 'ssm-gpu.safetensors')));
    expect(worst).toBeLessThan(1e-4);
  }, 180_000);
});

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train rbm (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-rbm-');
  it('trains by CD and PCD on the GPU to the CPU backend\'s model (float32 tolerance) and names the backend', async () => {
    for (const [name, more] of [
      ['cd', ['--data', 'toy:bars-and-stripes:3', '--n', '120', '--hidden', '6', '--epochs', '4', '--batch', '20', '--momentum', '0.5', '--weight-decay', '0.001']],
      ['pcd', ['--data', 'toy:bars-and-stripes:3', '--n', '120', '--hidden', '6', '--epochs', '4', '--batch', '20', '--method', 'pcd', '--k', '2']],
      ['gauss', ['--data', 'toy:8gaussians', '--n', '200', '--visible', 'gaussian', '--hidden', '8', '--epochs', '3', '--batch', '25']],
    ] as const) {
      const args = (out: string): string[] => ['train', 'rbm', ...more, '--seed', '4', '--out', out, '--quiet', '--json'];
      const cpu = await ebm(...args(join(dir, `${name}-cpu.safetensors`)));
      expect(cpu.code, cpu.stderr).toBe(0);
      const r = child(args(join(dir, `${name}-gpu.safetensors`)), { EBM_BACKEND: 'webgpu' });
      expect(r.code, r.stderr).toBe(0);
      const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
      expect(jc.backend.name).not.toBe('webgpu');
      expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
      // Same batches and keys; the uniforms are bit-identical, so the draws agree unless a probability lands within
      // float32 rounding of its uniform (none did in these runs); the statistics then agree to float32 rounding,
      // while a wrong draw or update changes the weights by O(lr).
      const worst = maxParamDiff(tensors(join(dir, `${name}-cpu.safetensors`)), tensors(join(dir, `${name}-gpu.safetensors`)));
      expect(worst, name).toBeLessThan(1e-4);
    }
  }, 240_000);

  it('trains with a learned σ on the CPU and says why', () => {
    const r = child(['train', 'rbm', '--data', 'toy:8gaussians', '--n', '100', '--visible', 'gaussian', '--learn-sigma', '--hidden', '4', '--epochs', '1', '--out', join(dir, 'ls.safetensors'), '--quiet', '--json'], { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.backend.name).not.toBe('webgpu');
    expect(j.backend.reason).toMatch(/learned σ/);
  }, 120_000);
});

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train jem / sample (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-jem-');
  const args = (out: string, ...more: string[]): string[] =>
    ['train', 'jem', '--data', 'digits', '--limit', '150', '--hidden', '16', '--steps', '8', '--batch', '16', '--buffer', '60', '--sgld-steps', '4', '--pxy', '0.2', '--seed', '3', '--out', out, '--quiet', '--json', ...more];

  it('trains a JEM (MLP classifier) on the GPU to the CPU backend\'s model and samples it class-conditionally', async () => {
    const cpu = await ebm(...args(join(dir, 'cpu.safetensors')));
    expect(cpu.code, cpu.stderr).toBe(0);
    const r = child(args(join(dir, 'gpu.safetensors')), { EBM_BACKEND: 'webgpu' });
    expect(r.code, r.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(r.stdout);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    expect(Math.abs(jg.loss - jc.loss)).toBeLessThan(1e-4 * (1 + Math.abs(jc.loss)));
    // Same keys, batches, buffers and SGLD noise; 8 Adam steps (lr 1e-3 after the warm-up) move a parameter by ≤ 8e-3,
    // float32 rounding of the gradients by ≪ 1e-5, a wrong negative or a dropped term by O(lr).
    const worst = maxParamDiff(tensors(join(dir, 'cpu.safetensors')), tensors(join(dir, 'gpu.safetensors')));
    expect(worst).toBeLessThan(1e-5);
    // ebm sample --class on the GPU: the CPU's SGLD chains to float32 rounding.
    const s = ['sample', join(dir, 'cpu.safetensors'), '--n', '10', '--steps', '20', '--class', '3', '--seed', '1', '--json', '--quiet'];
    const sc = await ebm(...s, '--out', join(dir, 's-cpu.csv'));
    expect(sc.code, sc.stderr).toBe(0);
    const sg = child([...s, '--out', join(dir, 's-gpu.csv')], { EBM_BACKEND: 'webgpu' });
    expect(sg.code, sg.stderr).toBe(0);
    expect(JSON.parse(sg.stdout).backend).toMatchObject({ name: 'webgpu' });
    const x = readCsv(join(dir, 's-cpu.csv')), y = readCsv(join(dir, 's-gpu.csv'));
    expect(y.length).toBe(640);
    let sw = 0;
    for (let i = 0; i < x.length; i++) sw = Math.max(sw, Math.abs(x[i] - y[i]));
    expect(sw).toBeLessThan(1e-4);
  }, 240_000);

  it('scores data with a JEM on the GPU (energy, log p(x), max p(y|x), gradient norm) as the CPU backend does', async () => {
    const model = join(dir, 'cpu.safetensors');
    expect(existsSync(model)).toBe(true); // from the training test above
    const a = ['score', model, '--data', 'digits', '--limit', '60', '--json'];
    const c = await ebm(...a, '--out', join(dir, 'sc-cpu.csv'));
    expect(c.code, c.stderr).toBe(0);
    const g = child([...a, '--out', join(dir, 'sc-gpu.csv')], { EBM_BACKEND: 'webgpu' });
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(c.stdout).backend.name).not.toBe('webgpu');
    expect(JSON.parse(g.stdout).backend).toMatchObject({ name: 'webgpu' });
    const x = readCsv(join(dir, 'sc-cpu.csv')), y = readCsv(join(dir, 'sc-gpu.csv'));
    expect(y.length).toBe(x.length);
    expect(x.length).toBe(60 * 4);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1e-3 + Math.abs(x[i])));
    expect(worst).toBeLessThan(1e-4);
  }, 120_000);
});

describe.skipIf(!gpu.available)(`EBM_BACKEND=webgpu ebm train rbm-cf / recommend (${gpu.adapter ?? 'no adapter'})`, () => {
  const dir = tempDir('ebm-gpu-cf-');
  it('trains RBM-CF (plain and conditional + factored) on the GPU to the CPU backend\'s RMSE and recommends the same items', async () => {
    const r = join(dir, 'r.tsv');
    writeFileSync(r, formatRatings(syntheticRatings(key(0), { nUsers: 120, nItems: 60, density: 0.2 }).ratings));
    const args = (out: string): string[] => ['train', 'rbm-cf', '--ratings', r, '--epochs', '3', '--hidden', '8', '--implicit', '--factored', '3', '--seed', '2', '--out', out, '--json', '--quiet'];
    const cpu = await ebm(...args(join(dir, 'cpu.safetensors')));
    expect(cpu.code, cpu.stderr).toBe(0);
    const g = child(args(join(dir, 'gpu.safetensors')), { EBM_BACKEND: 'webgpu' });
    expect(g.code, g.stderr).toBe(0);
    const jc = JSON.parse(cpu.stdout), jg = JSON.parse(g.stdout);
    expect(jc.backend.name).not.toBe('webgpu');
    expect(jg.backend).toMatchObject({ name: 'webgpu', software: gpu.software });
    // Same uniforms: the draws agree unless a probability lands within float32 rounding of its uniform (none did
    // here); the statistics then agree to float32 rounding and the test RMSE to ~1e-10 (measured), while a wrong draw
    // or statistic moves it by ≥ 1e-4.
    expect(jg.results.map((x: { method: string }) => x.method)).toEqual(jc.results.map((x: { method: string }) => x.method));
    for (let i = 0; i < jc.results.length; i++) expect(Math.abs(jg.results[i].rmse - jc.results[i].rmse), jc.results[i].method).toBeLessThan(1e-6);
    const user = readFileSync(r, 'utf8').split('\n')[0].split('\t')[0];
    const rc = await ebm('recommend', join(dir, 'cpu.safetensors'), '--user', user, '--top', '5', '--json');
    expect(rc.code, rc.stderr).toBe(0);
    const rg = child(['recommend', join(dir, 'cpu.safetensors'), '--user', user, '--top', '5', '--json'], { EBM_BACKEND: 'webgpu' });
    expect(rg.code, rg.stderr).toBe(0);
    const a = JSON.parse(rc.stdout), b = JSON.parse(rg.stdout);
    expect(b.backend).toMatchObject({ name: 'webgpu' });
    expect(b.recommendations.map((x: { item: number }) => x.item)).toEqual(a.recommendations.map((x: { item: number }) => x.item));
    for (let i = 0; i < a.recommendations.length; i++) expect(Math.abs(b.recommendations[i].expectedRating - a.recommendations[i].expectedRating)).toBeLessThan(1e-5);
  }, 240_000);
});
