/**
 * `ebm train rbm`, `ebm eval` (exact / AIS log Z), `ebm sample` and `ebm filters` on RBM model files, in-process.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebm, filesIn, tempDir, expectUsageError } from './helpers.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { decodePng } from '../../src/io/png.js';
import { parseCsv } from '../../src/io/csv.js';
import { loadModel } from '../../src/io/model.js';


function json(r: { code: number; stdout: string; stderr: string }): Record<string, any> {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout);
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Brute-force log Z of a Bernoulli RBM over all 2^nv visible states (independent of the library's exactLogZ). */
function bruteLogZ(W: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>, nv: number, nh: number): number {
  const terms: number[] = [];
  for (let m = 0; m < 2 ** nv; m++) {
    let t = 0;
    for (let i = 0; i < nv; i++) if ((m >> i) & 1) t += b[i];
    for (let j = 0; j < nh; j++) {
      let a = c[j];
      for (let i = 0; i < nv; i++) if ((m >> i) & 1) a += W[i * nh + j];
      t += softplus(a);
    }
    terms.push(t);
  }
  const mx = Math.max(...terms);
  return mx + Math.log(terms.reduce((s, t) => s + Math.exp(t - mx), 0));
}

const TRAIN = ['train', 'rbm', '--data', 'toy:bars-and-stripes:3', '--n', '300', '--hidden', '6', '--k', '1', '--batch', '20', '--lr', '0.1', '--seed', '3', '--quiet'];

describe('ebm train rbm / eval / sample / filters', () => {
  let dir: string;
  let model: string;
  beforeAll(async () => {
    dir = tempDir('ebm-rbm-');
    model = join(dir, 'bas.safetensors');
    const r = json(await ebm(...TRAIN, '--method', 'pcd', '--epochs', '20', '--momentum', '0.5', '--out', model, '--log', join(dir, 'train.jsonl'), '--json'));
    expect(r).toMatchObject({ kind: 'rbm', nVisible: 9, nHidden: 6, epochs: 20, steps: 20 * 15 });
  });

  it('writes an rbm model file with W, b, c and the config in the metadata', async () => {
    const m = await loadModel(model, { kind: 'rbm' });
    expect(m.config).toMatchObject({ visible: 'bernoulli', categories: 1, nVisible: 9, nHidden: 6, imageShape: [3, 3] });
    expect(Object.keys(m.tensors).sort()).toEqual(['W', 'b', 'c']);
    expect(m.tensors.W.shape).toEqual([9, 6]);
    expect(m.provenance).toMatchObject({ data: 'toy:bars-and-stripes:3', method: 'pcd', seed: 3 });
    const log = readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log[0].step).toBe(1);
    expect(log[log.length - 1].step).toBe(300);
    expect(log[log.length - 1].reconstructionError).toBeGreaterThan(0);
  });

  it('eval --logz exact matches a brute-force log Z and avgLogLik = −mean F − log Z', async () => {
    const j = json(await ebm('eval', model, '--data', 'toy:bars-and-stripes:3', '--n', '200', '--logz', 'exact', '--json'));
    const { tensors } = decodeSafetensors(readFileSync(model));
    const lz = bruteLogZ(tensors.W.data, tensors.b.data, tensors.c.data, 9, 6);
    expect(Math.abs(j.logZ - lz)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lz)));
    expect(j.logZStd).toBe(0);
    expect(j.n).toBe(200);
    expect(j.avgLogLik).toBeCloseTo(-j.avgFreeEnergy - j.logZ, 9);
    expect(j.avgLogLik).toBeLessThan(0);
    expect(j.pseudoLogLik).toBeLessThan(0);
    expect(j.reconstructionError).toBeGreaterThan(0);
    expect(j.reconstructionError).toBeLessThan(1);
    expect(j.protocol).toMatchObject({ logZMethod: 'exact', data: 'toy:bars-and-stripes:3', rows: 200 });
  });

  it('eval --logz ais agrees with exact within its Monte Carlo error', async () => {
    const ex = json(await ebm('eval', model, '--data', 'toy:bars-and-stripes:3', '--n', '200', '--logz', 'exact', '--json'));
    const ais = json(await ebm('eval', model, '--data', 'toy:bars-and-stripes:3', '--n', '200', '--logz', 'ais', '--ais-betas', '1000', '--ais-runs', '64', '--seed', '5', '--json'));
    expect(ais.protocol).toMatchObject({ logZMethod: 'ais', betas: 1001, runs: 64 });
    expect(ais.logZStd).toBeGreaterThan(0);
    // 5 delta-method standard deviations, plus a little for the (second-order) bias of log of a mean.
    expect(Math.abs(ais.logZ - ex.logZ)).toBeLessThan(5 * ais.logZStd + 1e-3);
  });

  it('sample writes a PNG image grid for square visible layers and binary CSV rows', async () => {
    const png = join(dir, 'g.png');
    const r = json(await ebm('sample', model, '--n', '16', '--gibbs-steps', '50', '--out', png, '--seed', '1', '--json'));
    expect(r).toMatchObject({ kind: 'rbm', n: 16, dim: 9 });
    const img = decodePng(readFileSync(png));
    // 4×4 grid of 3×3 images at scale 8 with 1-pixel padding: 4·24 + 5 = 101.
    expect(img.shape.slice(0, 2)).toEqual([101, 101]);
    const csv = join(dir, 'g.csv');
    json(await ebm('sample', model, '--n', '16', '--gibbs-steps', '50', '--out', csv, '--seed', '1', '--json'));
    const x = parseCsv(readFileSync(csv, 'utf8')).data;
    expect(x.shape).toEqual([16, 9]);
    expect(Array.from(x.data).every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('filters draws one image per hidden unit', async () => {
    const out = join(dir, 'f.png');
    const r = json(await ebm('filters', model, '--out', out, '--json'));
    expect(r).toMatchObject({ filters: 6, imageShape: [3, 3] });
    const img = decodePng(readFileSync(out));
    // 6 filters: 3 columns × 2 rows of 24-pixel images.
    expect(img.shape.slice(0, 2)).toEqual([2 * 24 + 3, 3 * 24 + 4]);
  });

  it('--resume continues bit-identically: 2 epochs + resume to 4 equals 4 epochs straight', async () => {
    const a = join(dir, 'a.safetensors'), b = join(dir, 'b.safetensors');
    const args = [...TRAIN, '--method', 'pcd', '--momentum', '0.5', '--weight-decay', '1e-4'];
    json(await ebm(...args, '--epochs', '4', '--out', a, '--json'));
    json(await ebm(...args, '--epochs', '2', '--out', b, '--checkpoint-every', '7', '--json'));
    expect(existsSync(join(dir, 'b.ckpt.safetensors'))).toBe(true);
    const r = json(await ebm(...args, '--epochs', '4', '--out', b, '--checkpoint-every', '7', '--resume', '--json'));
    expect(r.resumedFrom).toBe(30);
    const ta = decodeSafetensors(readFileSync(a)).tensors, tb = decodeSafetensors(readFileSync(b)).tensors;
    for (const k of ['W', 'b', 'c']) expect(Buffer.from(tb[k].data.buffer).equals(Buffer.from(ta[k].data.buffer))).toBe(true);
    // Different settings are refused.
    expectUsageError(await ebm(...args.map((v) => (v === '0.1' ? '0.2' : v)), '--epochs', '4', '--out', b, '--resume'), 'lr');
  });

  it('gaussian and softmax visible units train and evaluate exactly', async () => {
    const g = join(dir, 'g.safetensors');
    json(await ebm('train', 'rbm', '--data', 'toy:moons', '--n', '200', '--visible', 'gaussian', '--hidden', '5', '--epochs', '3', '--lr', '0.01', '--out', g, '--quiet', '--json'));
    const jg = json(await ebm('eval', g, '--data', 'toy:moons', '--n', '100', '--json'));
    expect(Number.isFinite(jg.avgLogLik)).toBe(true);
    expect(jg.pseudoLogLik).toBeUndefined();
    const csv = join(dir, 'onehot.csv');
    const rows: string[] = [];
    for (let r = 0; r < 60; r++) {
      const a = r % 3, b2 = (r * 7) % 3;
      rows.push([0, 1, 2].map((k) => (k === a ? 1 : 0)).concat([0, 1, 2].map((k) => (k === b2 ? 1 : 0))).join(','));
    }
    writeFileSync(csv, rows.join('\n') + '\n');
    const s = join(dir, 's.safetensors');
    json(await ebm('train', 'rbm', '--data', csv, '--visible', 'softmax:3', '--hidden', '3', '--epochs', '5', '--batch', '10', '--out', s, '--quiet', '--json'));
    const js = json(await ebm('eval', s, '--data', csv, '--json'));
    expect(js.protocol.logZMethod).toBe('exact');
    expect(js.avgLogLik).toBeLessThan(0);
    // Two 3-state units: the initial model (biases = data marginals) already scores ≈ log(1/9); training keeps it there or better.
    expect(js.avgLogLik).toBeGreaterThan(Math.log(1 / 9) - 0.1);
    expect(js.pseudoLogLik).toBeLessThan(0);
  });

  it('bad input: non-binary data, --logz exact on a large model, bad --visible: exit 2, one line, no file', async () => {
    const bad = tempDir('ebm-rbm-bad-');
    writeFileSync(join(bad, 'x.csv'), '0,1,1\n1,0,0\n0,0.5,1\n');
    expectUsageError(await ebm('train', 'rbm', '--data', join(bad, 'x.csv'), '--hidden', '2', '--out', join(bad, 'm.safetensors')), /row 3, column 2 is 0\.5.*binary/);
    expectUsageError(await ebm('train', 'rbm', '--data', join(bad, 'x.csv'), '--hidden', '2', '--visible', 'softmax:1', '--out', join(bad, 'm.safetensors')), '--visible');
    expect(filesIn(bad)).toEqual(['x.csv']);
    // A 30-30 RBM: neither layer can be enumerated.
    const rows: string[] = [];
    for (let r = 0; r < 8; r++) rows.push(Array.from({ length: 30 }, (_, j) => ((r * 7 + j * 3) % 5 < 2 ? 1 : 0)).join(','));
    writeFileSync(join(bad, 'big.csv'), rows.join('\n') + '\n');
    const big = join(bad, 'big.safetensors');
    json(await ebm('train', 'rbm', '--data', join(bad, 'big.csv'), '--hidden', '30', '--epochs', '1', '--out', big, '--quiet', '--json'));
    expectUsageError(await ebm('eval', big, '--data', join(bad, 'big.csv'), '--logz', 'exact'), /--logz exact: .*30 visible and 30 hidden.*--logz ais/);
    // Non-binary data for evaluation of a bernoulli RBM is refused too.
    expectUsageError(await ebm('eval', model, '--data', 'toy:moons', '--n', '10'), 'columns');
  });
});
