import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebm, filesIn, tempDir, expectUsageError } from './helpers.js';
import { encodeNpy, decodeNpy } from '../../src/io/npy.js';
import { encodeIdx } from '../../src/io/idx.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { decodePng } from '../../src/io/png.js';
import { parseCsv } from '../../src/io/csv.js';
import { tensor } from '../../src/tensor/index.js';
import { loadModel } from '../../src/io/model.js';

/** Asserts a bad-input run: exit 2, exactly one stderr line starting `error:` that contains `needle`, no stdout. */

describe('ebm: framework', () => {
  it('prints help with exit 0 for the program and every command', async () => {
    for (const args of [['--help'], ['train', 'mlp-energy', '--help'], ['sample', '--help'], ['eval', '--help'], ['data-info', '--help'], ['doctor', '--help'], ['demo', '--help']]) {
      const r = await ebm(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: ebm/);
    }
    const s = await ebm('sample', '--help');
    expect(s.stdout).toContain('--seed');
  });

  it('unknown flag, unknown command and missing required option exit 2 with one line', async () => {
    expectUsageError(await ebm('data-info', '--data', 'toy:moons', '--bogus'), "unknown option '--bogus'");
    expectUsageError(await ebm('frobnicate'), "unknown command 'frobnicate'");
    expectUsageError(await ebm('data-info'), '--data');
    expectUsageError(await ebm('sample', '--out', 'x.csv'), 'model');
  });

  it('zero, negative and non-numeric sizes name the flag', async () => {
    expectUsageError(await ebm('data-info', '--data', 'toy:moons', '--n', '0'), '--n');
    expectUsageError(await ebm('data-info', '--data', 'toy:moons', '--n', '-5'), '--n');
    expectUsageError(await ebm('data-info', '--data', 'toy:moons', '--n', 'NaN'), '--n');
    expectUsageError(await ebm('train', 'mlp-energy', '--data', 'toy:moons', '--out', 'm.safetensors', '--steps', '0'), '--steps');
    expectUsageError(await ebm('train', 'mlp-energy', '--data', 'toy:moons', '--out', 'm.safetensors', '--lr', '-1'), '--lr');
    expectUsageError(await ebm('train', 'mlp-energy', '--data', 'toy:moons', '--out', 'm.safetensors', '--hidden', '64,0'), '--hidden');
    expectUsageError(await ebm('sample', 'm.safetensors', '--out', 's.csv', '--n', '0'), '--n');
  });

  it('doctor --json prints one JSON object with backend, GEMM speed, node version and cores', async () => {
    const r = await ebm('doctor', '--json', '--seconds', '0.05');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const j = JSON.parse(r.stdout);
    expect(['js', 'native']).toContain(j.backend);
    expect(typeof j.blas).toBe('boolean');
    expect(j.gemm.gflops).toBeGreaterThan(0);
    expect(j.node).toBe(process.versions.node);
    expect(j.cores).toBeGreaterThanOrEqual(1);
  });
});

describe('ebm data-info: loaders', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    writeFileSync(join(dir, 'ok.csv'), 'a,b,c\n1,2,3\n4,5,6\n-1,0,9\n');
    writeFileSync(join(dir, 'empty.csv'), '');
    writeFileSync(join(dir, 'nan.csv'), '1,2\n3,4\n5,NaN\n');
    writeFileSync(join(dir, 'ragged.csv'), '1,2\n3,4,5\n');
    writeFileSync(join(dir, 'x.npy'), encodeNpy(tensor([[1, 2], [3, 4], [5, 6]])));
    writeFileSync(join(dir, 'nan.npy'), encodeNpy(tensor([[1, 2], [3, NaN]])));
    writeFileSync(join(dir, 'img-idx3-ubyte'), encodeIdx({ dtype: 'u8', shape: [2, 2, 3], data: [0, 255, 0, 255, 0, 0, 51, 51, 51, 51, 51, 51] }));
  });

  it('reads CSV with a header, .npy, IDX, toy sets, bars-and-stripes and MNIST', async () => {
    const c = JSON.parse((await ebm('data-info', '--data', join(dir, 'ok.csv'), '--json')).stdout);
    expect(c).toMatchObject({ rows: 3, cols: 3, min: -1, max: 9, source: 'csv', header: ['a', 'b', 'c'] });
    expect(c.mean).toBeCloseTo(29 / 9, 12);
    const n = JSON.parse((await ebm('data-info', '--data', join(dir, 'x.npy'), '--json')).stdout);
    expect(n).toMatchObject({ rows: 3, cols: 2, min: 1, max: 6, mean: 3.5 });
    const i = JSON.parse((await ebm('data-info', '--data', join(dir, 'img-idx3-ubyte'), '--json')).stdout);
    expect(i).toMatchObject({ rows: 2, cols: 6, min: 0, max: 1, imageShape: [2, 3] });
    const t = JSON.parse((await ebm('data-info', '--data', 'toy:8gaussians', '--n', '500', '--json')).stdout);
    expect(t).toMatchObject({ rows: 500, cols: 2, source: 'toy', binary: false });
    const b = JSON.parse((await ebm('data-info', '--data', 'toy:bars-and-stripes:3', '--n', '50', '--json')).stdout);
    expect(b).toMatchObject({ rows: 50, cols: 9, binary: true });
    const m = JSON.parse((await ebm('data-info', '--data', 'mnist:test', '--limit', '20', '--binarize', 'threshold', '--json')).stdout);
    expect(m).toMatchObject({ rows: 20, cols: 784, binary: true, imageShape: [28, 28] });
    const human = await ebm('data-info', '--data', join(dir, 'ok.csv'));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/rows\s+3/);
  });

  it('same seed gives the same toy data, another seed other data', async () => {
    const a = await ebm('data-info', '--data', 'toy:moons', '--n', '100', '--seed', '3', '--json');
    const b = await ebm('data-info', '--data', 'toy:moons', '--n', '100', '--seed', '3', '--json');
    const c = await ebm('data-info', '--data', 'toy:moons', '--n', '100', '--seed', '4', '--json');
    expect(JSON.parse(a.stdout).mean).toBe(JSON.parse(b.stdout).mean);
    expect(JSON.parse(a.stdout).mean).not.toBe(JSON.parse(c.stdout).mean);
  });

  it('missing file, empty file, NaN cell, ragged row, unknown spec: exit 2 naming the place', async () => {
    expectUsageError(await ebm('data-info', '--data', join(dir, 'missing.csv')), /missing\.csv: cannot read file/);
    expectUsageError(await ebm('data-info', '--data', join(dir, 'empty.csv')), 'empty.csv');
    expectUsageError(await ebm('data-info', '--data', join(dir, 'nan.csv')), /nan\.csv: line 3: column 2/);
    expectUsageError(await ebm('data-info', '--data', join(dir, 'ragged.csv')), /ragged\.csv: line 2: .*ragged/);
    expectUsageError(await ebm('data-info', '--data', join(dir, 'nan.npy')), /nan\.npy: row 2: column 2/);
    expectUsageError(await ebm('data-info', '--data', 'toy:nope'), /"toy:nope": valid names: 8gaussians, .*bars-and-stripes:D/);
    expectUsageError(await ebm('data-info', '--data', 'toy:bars-and-stripes:13'), /"toy:bars-and-stripes:13": .*D must be an integer in \[1, 12\]/);
    expectUsageError(await ebm('data-info', '--data', 'mnist:validation'), 'mnist');
    expectUsageError(await ebm('data-info', '--data', join(dir, 'data.xyz')), 'cannot tell the format');
  });
});

describe('ebm train / sample / eval: mlp-energy', () => {
  let dir: string;
  let model: string;
  beforeAll(async () => {
    dir = tempDir();
    model = join(dir, 'm.safetensors');
    const r = await ebm('train', 'mlp-energy', '--data', 'toy:8gaussians', '--n', '1000', '--hidden', '16,16', '--steps', '60', '--lr', '3e-3',
      '--batch', '64', '--out', model, '--log', join(dir, 'train.jsonl'), '--seed', '1', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it('train writes the model with kind, config and provenance, and a JSON-lines log', async () => {
    const f = await loadModel(model, { kind: 'mlp-energy' });
    expect(f.config).toMatchObject({ dim: 2, hidden: [16, 16], loss: 'dsm', activation: 'silu' });
    expect(f.provenance).toMatchObject({ data: 'toy:8gaussians', seed: 1, steps: 60 });
    expect(Object.keys(f.tensors).sort()).toEqual(['l0.b', 'l0.w', 'l1.b', 'l1.w', 'l2.b', 'l2.w']);
    expect(f.tensors['l0.w'].shape).toEqual([2, 16]);
    const recs = readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(recs[0].step).toBe(1);
    expect(recs[recs.length - 1].step).toBe(60);
    for (const k of ['loss', 'energyGap', 'gradNorm', 'lr', 'time']) expect(Number.isFinite(recs[0][k]), k).toBe(true);
  });

  it('sample writes CSV, .npy and PNG (samples and heat map)', async () => {
    const csv = join(dir, 's.csv');
    const r = await ebm('sample', model, '--n', '50', '--steps', '20', '--out', csv, '--plot', join(dir, 'heat.png'), '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ kind: 'mlp-energy', n: 50, dim: 2 });
    const x = parseCsv(readFileSync(csv, 'utf8')).data;
    expect(x.shape).toEqual([50, 2]);
    expect(Array.from(x.data).every(Number.isFinite)).toBe(true);
    expect(decodePng(readFileSync(join(dir, 'heat.png'))).shape.length).toBeGreaterThanOrEqual(2);
    const npy = join(dir, 's.npy');
    expect((await ebm('sample', model, '--n', '50', '--steps', '20', '--out', npy)).code).toBe(0);
    const y = decodeNpy(readFileSync(npy));
    expect(Array.from(y.data)).toEqual(Array.from(x.data)); // same seed → same samples, CSV round-trips float32 exactly
    expect((await ebm('sample', model, '--n', '20', '--steps', '5', '--out', join(dir, 's.png'))).code).toBe(0);
    expect(existsSync(join(dir, 's.png'))).toBe(true);
  });

  it('eval reports log Z, avgLogLik and the true avgLogLik for toy data', async () => {
    const r = await ebm('eval', model, '--data', 'toy:8gaussians', '--n', '500', '--grid', '60', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Number.isFinite(j.logZ)).toBe(true);
    expect(j.avgLogLik).toBeCloseTo(-j.avgEnergy - j.logZ, 10);
    // The true density is the best possible model: a fitted model cannot beat it by more than Monte Carlo noise.
    expect(j.trueAvgLogLik).toBeGreaterThan(j.avgLogLik - 0.2);
  });

  it('--logz names the partition-function method: grid for 2-D energies, exact/ais only for RBMs', async () => {
    const r = await ebm('eval', model, '--data', 'toy:8gaussians', '--n', '200', '--grid', '40', '--logz', 'grid', '--json');
    expect(r.code).toBe(0);
    expect(Number.isFinite(JSON.parse(r.stdout).logZ)).toBe(true);
    expectUsageError(await ebm('eval', model, '--data', 'toy:8gaussians', '--logz', 'ais'), '--logz ais: only for RBMs');
    expectUsageError(await ebm('eval', model, '--data', 'toy:8gaussians', '--logz', 'bogus'), '--logz');
  });

  it('wrong shape for a model: exit 2, no output written', async () => {
    const d3 = join(dir, 'three.csv');
    writeFileSync(d3, '1,2,3\n4,5,6\n');
    const before = filesIn(dir);
    expectUsageError(await ebm('eval', model, '--data', d3), '3 columns but the model takes 2');
    // A model file whose tensor does not fit its config.
    const st = decodeSafetensors(readFileSync(model));
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, encodeSafetensors({ ...st.tensors, 'l0.w': tensor(new Float32Array(3 * 16), [3, 16]) }, st.metadata));
    const after = filesIn(dir);
    expectUsageError(await ebm('sample', bad, '--n', '5', '--out', join(dir, 'never.csv')), /bad\.safetensors: tensor "l0\.w" has shape \[3, 16\]/);
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
    expect(filesIn(dir)).toEqual(after);
    expect(before.length + 1).toBe(after.length);
    // Not a model file at all.
    const notModel = join(dir, 'plain.safetensors');
    writeFileSync(notModel, encodeSafetensors({ w: tensor([1, 2]) }));
    expectUsageError(await ebm('eval', notModel, '--data', 'toy:moons'), 'not an ebm-ts model file');
    expectUsageError(await ebm('sample', join(dir, 'nope.safetensors'), '--out', join(dir, 'never.csv')), 'nope.safetensors');
  });

  it('bad input to train leaves no file behind', async () => {
    const d = tempDir();
    const nan = join(d, 'nan.csv');
    writeFileSync(nan, 'x,y\n1,2\nNaN,3\n');
    expectUsageError(await ebm('train', 'mlp-energy', '--data', nan, '--out', join(d, 'm.safetensors'), '--log', join(d, 'l.jsonl'), '--checkpoint-every', '5', '--steps', '10'), /line 3: column 1/);
    expect(filesIn(d)).toEqual(['nan.csv']);
    expectUsageError(await ebm('train', 'mlp-energy', '--data', 'toy:moons', '--out', join(d, 'no-such-dir', 'm.safetensors')), 'does not exist');
    expectUsageError(await ebm('sample', model, '--out', join(d, 's.txt')), 'unsupported file type');
    expect(filesIn(d)).toEqual(['nan.csv']);
  });
});

describe('ebm demo', () => {
  it('--quick trains, samples, evaluates, writes the files and prints where they are', async () => {
    const dir = join(tempDir(), 'demo');
    const r = await ebm('demo', '--quick', '--out-dir', dir);
    expect(r.code).toBe(0);
    for (const f of ['model.safetensors', 'samples.csv', 'model-density.png', 'true-density.png', 'train.jsonl']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
      expect(r.stdout).toContain(join(dir, f));
    }
    expect(r.stdout).toMatch(/average log-likelihood: model -?\d/);
    expect(parseCsv(readFileSync(join(dir, 'samples.csv'), 'utf8')).data.shape).toEqual([500, 2]);
    const m = await loadModel(join(dir, 'model.safetensors'), { kind: 'mlp-energy' });
    expect(m.provenance.data).toBe('toy:8gaussians');
  }, 60_000);
});
