/**
 * Issue 13: Gaussian RBM anomaly scores on unscaled data differed between the library and the CLI. Before: the CLI
 * trained with σ = 1 in data units (a column of scale 0.05 invisible to it: an RBM with σ = 1 fixed gave AUROC 0.54 on this test) and the library's
 * GaussianRBM (σ = column std) diverged (W → ∞) on these columns. Now both standardise per column
 * (`rbmStandardization`, shift/scale kept in the model file / scorer); this test trains both with their own defaults
 * on data whose columns have very different units and checks that their AUROCs agree.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebm, tempDir } from '../cli/helpers.js';
import { Tensor } from '../../src/tensor/index.js';
import { key, normalArray, foldIn } from '../../src/random/index.js';
import { formatCsv } from '../../src/io/csv.js';
import { auroc } from '../../src/eval/detection.js';
import { rbmScorer } from '../../src/anomaly/scorers.js';

/** Column scales and offsets far from 1 and 0: the units of the data. */
const SCALE = [200, 0.05, 30];
const OFFSET = [1000, -3, 50];

/** `nNormal` rows of a correlated Gaussian in data units, then `nAnom` rows shifted by 5 std in column 1 only. */
function unscaled(seed: number, nNormal: number, nAnom: number): { x: Tensor; y: number[] } {
  const n = nNormal + nAnom;
  const z = normalArray(key(seed), 3 * n, 'float64');
  const x = new Float32Array(3 * n);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const z0 = z[3 * i], z1 = 0.8 * z0 + 0.6 * z[3 * i + 1], z2 = z[3 * i + 2];
    const anom = i >= nNormal;
    const w = [z0, z1 + (anom ? (i % 2 ? 5 : -5) : 0), z2];
    for (let j = 0; j < 3; j++) x[3 * i + j] = OFFSET[j] + SCALE[j] * w[j];
    y.push(anom ? 1 : 0);
  }
  return { x: new Tensor(x, [n, 3]), y };
}

describe('Gaussian RBM on unscaled data: CLI and library defaults agree', () => {
  it('`ebm train rbm --visible gaussian` + `ebm score` gives the library rbmScorer\'s AUROC (within 0.05) on columns of scale 0.05…200', async () => {
    const dir = tempDir('ebm-rbm-units-');
    const train = unscaled(42, 1000, 0).x;
    const test = unscaled(43, 200, 40);
    const trainCsv = join(dir, 'train.csv'), testCsv = join(dir, 'test.csv'), labels = join(dir, 'y.csv');
    writeFileSync(trainCsv, formatCsv(train, ['a', 'b', 'c']));
    writeFileSync(testCsv, formatCsv(test.x, ['a', 'b', 'c']));
    writeFileSync(labels, formatCsv(new Tensor(Float32Array.from(test.y), [test.y.length, 1]), ['anomaly']));
    const model = join(dir, 'rbm.safetensors');
    const t = await ebm('train', 'rbm', '--data', trainCsv, '--visible', 'gaussian', '--hidden', '8', '--out', model, '--quiet');
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    const r = await ebm('score', model, '--data', testCsv, '--labels', labels, '--json');
    expect(r.code).toBe(0);
    const cli = JSON.parse(r.stdout).auroc as number;
    const s = rbmScorer({ nHidden: 8, visible: 'gaussian' });
    s.fit(train, foldIn(key(7), 1));
    const lib = auroc(s.score(test.x), test.y);
    // A 5-std shift in the 0.05-scale column: both models see it.
    expect(lib).toBeGreaterThan(0.95);
    expect(cli).toBeGreaterThan(0.95);
    expect(Math.abs(cli - lib)).toBeLessThan(0.05);
    // The file maps back to data units: samples sit at the data's offsets and scales; `ebm eval` reports the
    // log-likelihood of x = log p(z) − Σ log scale, i.e. the free energies `ebm score` writes minus log Z.
    const out = join(dir, 's.csv');
    expect((await ebm('sample', model, '--n', '400', '--out', out, '--steps', '200')).code).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    for (let j = 0; j < 3; j++) {
      const m = rows.reduce((a, r) => a + r[j], 0) / rows.length;
      const sd = Math.sqrt(rows.reduce((a, r) => a + (r[j] - m) ** 2, 0) / rows.length);
      expect(Math.abs(m - OFFSET[j]) / SCALE[j]).toBeLessThan(0.3);
      expect(sd / SCALE[j]).toBeGreaterThan(0.7), expect(sd / SCALE[j]).toBeLessThan(1.4);
    }
    const ev = JSON.parse((await ebm('eval', model, '--data', testCsv, '--json')).stdout);
    const sc = JSON.parse((await ebm('score', model, '--data', testCsv, '--json')).stdout);
    expect(ev.avgLogLik).toBeCloseTo(-sc.meanScore - ev.logZ, 3);
    // Truth for the normal rows: −Σ log scale − 3·1.42 − log 0.6 ≈ −5.70 − 4.26 + 0.51 (the test set adds anomalies).
    expect(ev.avgLogLik).toBeLessThan(0);
    expect(ev.avgLogLik).toBeGreaterThan(-SCALE.reduce((a, v) => a + Math.log(v), 0) - 3 * 1.42 - 3);
  }, 60_000);
});
