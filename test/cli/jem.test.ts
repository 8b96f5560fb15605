/**
 * `ebm train jem` and the `jem` kind in `ebm eval` / `ebm score` / `ebm sample --class`: a labelled CSV of three
 * well-separated 4-D blobs (labels 2, 5, 9 in a named column), the 8×8 digits, and bad inputs (exit 2).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { key, normalArray, uniformArray } from '../../src/random/index.js';
import { loadCsv } from '../../src/io/csv.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { jemConfig, jemFromFile, jemModelPredict } from '../../src/models/jem/index.js';
import { ebm, expectUsageError, tempDir } from './helpers.js';
import { InvalidArgumentError } from '../../src/errors.js';

const CLASSES = [2, 5, 9];
const CENTRES = [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]];

/** `n` rows of 4-D blobs (σ = 0.3 around three centres 2√2 apart: Bayes error ≈ 0) with a label column `cls` in the middle. */
function blobsCsv(seed: number, n: number): string {
  const z = normalArray(key(seed), n * 4, 'float64');
  const lines = ['a,b,cls,c,d'];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const v = CENTRES[c].map((m, j) => (m + 0.3 * z[i * 4 + j]).toFixed(5));
    lines.push([v[0], v[1], CLASSES[c], v[2], v[3]].join(','));
  }
  return lines.join('\n') + '\n';
}

describe('ebm train jem on a labelled CSV', () => {
  const dir = tempDir('ebm-jem-');
  const train = join(dir, 'train.csv'), test = join(dir, 'test.csv'), model = join(dir, 'm.safetensors');
  writeFileSync(train, blobsCsv(1, 300));
  writeFileSync(test, blobsCsv(2, 300));
  const TRAIN = ['train', 'jem', '--data', train, '--label-column', 'cls', '--hidden', '32,32', '--steps', '150', '--batch', '32', '--buffer', '500', '--quiet'];

  it('trains, and eval reports accuracy, ece and nll on held-out rows (label column remembered)', async () => {
    const r = await ebm(...TRAIN, '--out', model, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.kind).toBe('jem');
    expect(o.classes).toEqual(CLASSES);
    expect(o.dim).toBe(4);
    const e = await ebm('eval', model, '--data', test, '--json');
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.rows).toBe(300);
    // chance is 1/3; the blobs are separable, so require chance + 0.6 (300 rows: SE of an accuracy ≤ 0.03)
    expect(ev.accuracy).toBeGreaterThan(1 / 3 + 0.6);
    expect(ev.ece).toBeGreaterThanOrEqual(0);
    expect(ev.ece).toBeLessThan(0.2);
    expect(ev.nll).toBeGreaterThan(0);
    expect(ev.nll).toBeLessThan(Math.log(3));
    const h = await ebm('eval', model, '--data', test);
    expect(h.stdout).toMatch(/accuracy\s+(1|0\.\d+)\n/);
    expect(h.stdout).toMatch(/ece\s+/);
    expect(h.stdout).toMatch(/nll\s+/);
  });

  it('score writes one column per score (energy, log p(x), max p(y|x), ‖∇ₓ log p‖) and AUROCs against far-away rows', async () => {
    // the 300 test rows plus 100 rows far from every blob (uniform on [−6, 6]⁴ outside radius 4), labelled 1
    const u = uniformArray(key(7), 4000, 'float64');
    const far: string[] = [];
    for (let i = 0; far.length < 100; i++) {
      const v = [0, 1, 2, 3].map((j) => 12 * u[(i * 4 + j) % u.length] - 6);
      if (Math.hypot(...v) > 4) far.push([v[0], v[1], 2, v[2], v[3]].map((t) => t.toFixed(4)).join(','));
    }
    const mixed = join(dir, 'mixed.csv'), lab = join(dir, 'y.csv'), out = join(dir, 's.csv');
    writeFileSync(mixed, readFileSync(test, 'utf8') + far.join('\n') + '\n');
    writeFileSync(lab, 'y\n' + [...Array(300).fill(0), ...Array(100).fill(1)].join('\n') + '\n');
    const r = await ebm('score', model, '--data', mixed, '--labels', lab, '--out', out, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.columns).toEqual(['score', 'logPx', 'maxProb', 'gradNorm']);
    expect(o.logPxAnomalous).toBe('lower');
    expect(o.maxProbAnomalous).toBe('lower');
    expect(o.gradNormAnomalous).toBe('higher');
    expect(o.aurocGradNorm).toBeGreaterThanOrEqual(0);
    expect(o.aurocGradNorm).toBeLessThanOrEqual(1);
    expect(o.meanScore).toBeCloseTo(-o.meanLogPx, 10);
    // far rows get a lower log p(x) (the seen AUROC is ≈ 1; 100 vs 300 rows)
    expect(o.auroc).toBeGreaterThan(0.9);
    expect(o.aurocLogPx).toBeCloseTo(o.auroc, 10);
    expect(o.aurocMaxProb).toBeGreaterThanOrEqual(0);
    const { data, header } = await loadCsv(out);
    expect(header).toEqual(['score', 'logPx', 'maxProb', 'gradNorm']);
    expect(data.shape).toEqual([400, 4]);
    for (let i = 0; i < 400; i++) {
      expect(data.data[i * 4]).toBeCloseTo(-data.data[i * 4 + 1], 5);
      expect(data.data[i * 4 + 2]).toBeGreaterThanOrEqual(1 / 3 - 1e-6);
      expect(data.data[i * 4 + 2]).toBeLessThanOrEqual(1 + 1e-6);
      expect(data.data[i * 4 + 3]).toBeGreaterThanOrEqual(0);
    }
  });

  it('sample --class k draws [n, D] samples that the classifier puts in class k', async () => {
    const out = join(dir, 'c5.csv');
    const r = await ebm('sample', model, '--class', '5', '--n', '60', '--out', out, '--json', '--quiet');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).class).toBe(5);
    const { data } = await loadCsv(out);
    expect(data.shape).toEqual([60, 4]);
    const st = decodeSafetensors(readFileSync(model));
    const { params, cfg } = jemFromFile({ config: JSON.parse(st.metadata.config), tensors: st.tensors }, model);
    const p = jemModelPredict(params, cfg, new Tensor(Float32Array.from(data.data), [60, 4]));
    let hits = 0;
    for (let i = 0; i < 60; i++) if (p.data[i * 3 + 1] > 0.5) hits++; // class index 1 = label 5
    expect(hits / 60).toBeGreaterThan(0.8);
  });

  it('bad inputs exit 2 with one error line', async () => {
    expectUsageError(await ebm('train', 'jem', '--data', train, '--out', join(dir, 'x.safetensors')), /has no labels.*--label-column/);
    expectUsageError(await ebm('train', 'jem', '--data', train, '--label-column', 'nope', '--out', join(dir, 'x.safetensors')), /--label-column nope: no such column/);
    expectUsageError(await ebm('train', 'jem', '--data', 'digits', '--label-column', '3', '--out', join(dir, 'x.safetensors')), /carries its own labels/);
    expectUsageError(await ebm('sample', model, '--class', '3', '--out', join(dir, 'x.csv')), /--class 3: not one of the model's classes \(2, 5, 9\)/);
    const unlabelled = join(dir, 'u.csv');
    writeFileSync(unlabelled, 'a,b,c,d\n1,2,3,4\n0,0,0,1\n');
    expectUsageError(await ebm('eval', model, '--data', unlabelled), /has no labels/);
    const wrongLabel = join(dir, 'w.csv');
    writeFileSync(wrongLabel, 'a,b,cls,c,d\n1,2,4,3,4\n');
    expectUsageError(await ebm('eval', model, '--data', wrongLabel), /label 4 .* not one of the model's classes/);
    expectUsageError(await ebm('train', 'jem', '--data', train, '--label-column', 'cls', '--px', '-1', '--out', join(dir, 'x.safetensors')), /--px must be ≥ 0/);
    expect(() => jemConfig({ dim: 2, classes: [1] })).toThrow(InvalidArgumentError);
  });
});

describe('ebm train jem checkpoints', () => {
  it('a run cut at step 15 and resumed writes the same model, byte for byte, as an uninterrupted run', async () => {
    const dir = tempDir('ebm-jem-resume-');
    const A = ['train', 'jem', '--data', 'digits', '--limit', '300', '--hidden', '32', '--warmup', '5', '--buffer', '500', '--quiet', '--seed', '4'];
    const a = join(dir, 'a.safetensors'), b = join(dir, 'b.safetensors');
    expect((await ebm(...A, '--steps', '30', '--out', a)).code).toBe(0);
    expect((await ebm(...A, '--steps', '15', '--checkpoint-every', '5', '--out', b)).code).toBe(0);
    const r = await ebm(...A, '--steps', '30', '--resume', '--checkpoint-every', '5', '--out', b, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).resumedFrom).toBe(15);
    expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
    // a changed setting is refused on resume
    expectUsageError(await ebm(...A, '--steps', '30', '--resume', '--lr', '3e-3', '--out', b), /lr/);
  });
});

describe('ebm train jem on the 8×8 digits', () => {
  it('learns a classifier well above chance on unseen digits, and samples class-conditionally', async () => {
    const dir = tempDir('ebm-jem-digits-');
    const model = join(dir, 'd.safetensors');
    const r = await ebm('train', 'jem', '--data', 'digits', '--limit', '600', '--hidden', '64', '--steps', '150', '--buffer', '1000', '--out', model, '--quiet', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).classes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // all 1 797 digits, 1 197 of them unseen: chance is 0.1, require 0.1 + 0.6
    const e = JSON.parse((await ebm('eval', model, '--data', 'digits', '--json')).stdout);
    expect(e.rows).toBe(1797);
    expect(e.accuracy).toBeGreaterThan(0.7);
    expect(Number.isFinite(e.ece) && Number.isFinite(e.nll)).toBe(true);
    const png = join(dir, 'seven.png');
    const s = await ebm('sample', model, '--class', '7', '--n', '16', '--steps', '50', '--out', png, '--json', '--quiet');
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).dim).toBe(64);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    expectUsageError(await ebm('sample', model, '--class', '10', '--out', join(dir, 'x.png')), /--class 10/);
  });
});

describe('ebm train jem --conv on MNIST images', () => {
  it('trains a conv-net JEM on a tiny subset; eval prints accuracy and ece; sample --class writes an image grid', async () => {
    const dir = tempDir('ebm-jem-conv-');
    const model = join(dir, 'c.safetensors');
    const r = await ebm('train', 'jem', '--data', 'mnist:train', '--limit', '300', '--conv', '4,8', '--hidden', '16', '--steps', '60', '--batch', '32',
      '--sgld-steps', '2', '--buffer', '200', '--lr', '3e-3', '--lr-decay', 'cosine', '--out', model, '--quiet', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.conv).toEqual([4, 8]);
    expect(o.dim).toBe(784);
    const st = decodeSafetensors(readFileSync(model));
    expect(st.tensors['conv0.w'].shape).toEqual([4, 1, 3, 3]);
    const h = await ebm('eval', model, '--data', 'mnist:test', '--limit', '200');
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/jem conv 1x28x28:4,8:16 → 10/);
    const acc = Number(/accuracy\s+([\d.]+)\n/.exec(h.stdout)?.[1]);
    // chance is 0.1; 60 steps on 300 digits give ≈ 0.5 on 200 unseen ones (SE ≈ 0.035), require 0.1 + 0.2
    expect(acc).toBeGreaterThan(0.3);
    expect(h.stdout).toMatch(/ece\s+0\.\d+\n/);
    const png = join(dir, 'threes.png');
    const s = await ebm('sample', model, '--class', '3', '--n', '4', '--steps', '5', '--out', png, '--json', '--quiet');
    expect(s.code).toBe(0);
    const b = readFileSync(png);
    expect(b.subarray(1, 4).toString()).toBe('PNG');
    // 2×2 grid of 28×28 images drawn at scale 2 with 1-pixel padding: 2·56 + 3 = 115 pixels a side
    expect([b.readUInt32BE(16), b.readUInt32BE(20)]).toEqual([115, 115]);
    expectUsageError(await ebm('train', 'jem', '--data', join(dir, 'none.csv'), '--label-column', 'c', '--conv', '4', '--out', join(dir, 'x.safetensors')), /none\.csv/);
  });

  it('--conv on data without images is exit 2', async () => {
    const dir = tempDir('ebm-jem-conv-bad-');
    const csv = join(dir, 'b.csv');
    writeFileSync(csv, blobsCsv(1, 30));
    expectUsageError(await ebm('train', 'jem', '--data', csv, '--label-column', 'cls', '--conv', '4', '--out', join(dir, 'x.safetensors')), /--conv needs image data/);
  });
});
