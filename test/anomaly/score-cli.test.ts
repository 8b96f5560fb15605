/** `ebm score`: scores of a model file equal its energies, metrics with --labels, errors naming the file/flag. */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebm, tempDir, filesIn } from '../cli/helpers.js';
import { Tensor } from '../../src/tensor/index.js';
import { key, normalArray } from '../../src/random/index.js';
import { saveModel } from '../../src/io/model.js';
import { formatCsv } from '../../src/io/csv.js';
import { initMlpEnergy, energyOf, type MlpEnergyConfig } from '../../src/cli/kinds/mlpEnergy.js';
import { auroc } from '../../src/eval/detection.js';

describe('ebm score', () => {
  const dir = tempDir('ebm-score-');
  // A 2-D mlp-energy with a confining term ½‖z‖²: energy grows away from the origin.
  const cfg: MlpEnergyConfig = { dim: 2, hidden: [8], activation: 'silu', shift: [0, 0], scale: [1, 1], confine: 1, loss: 'dsm', sigma: 0.1, bounds: [-6, 6, -6, 6] };
  const params = initMlpEnergy(key(0), cfg);
  const model = join(dir, 'm.safetensors');
  // 40 normal rows ~ N(0, I), 10 planted anomalies at radius 5
  const z = normalArray(key(1), 100, 'float64');
  const x = new Float32Array(100);
  const y = new Float32Array(50);
  for (let i = 0; i < 50; i++) {
    if (i < 40) { x[2 * i] = z[2 * i]; x[2 * i + 1] = z[2 * i + 1]; }
    else { const a = (2 * Math.PI * i) / 10; x[2 * i] = 5 * Math.cos(a); x[2 * i + 1] = 5 * Math.sin(a); y[i] = 1; }
  }
  const xt = new Tensor(x, [50, 2]);
  const dataCsv = join(dir, 'x.csv'), labelsCsv = join(dir, 'y.csv');
  writeFileSync(dataCsv, formatCsv(xt, ['a', 'b']));
  writeFileSync(labelsCsv, formatCsv(new Tensor(y, [50, 1]), ['anomaly']));

  it('writes the energies as scores and reports AUROC/AUPRC/FPR95 in JSON', async () => {
    await saveModel(model, { kind: 'mlp-energy', config: cfg, provenance: {}, tensors: params });
    const out = join(dir, 'scores.csv');
    const r = await ebm('score', model, '--data', dataCsv, '--out', out, '--labels', labelsCsv, '--contamination', '0.2', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('score');
    const scores = lines.slice(1).map(Number);
    const e = energyOf(params, cfg, xt);
    expect(scores.length).toBe(50);
    for (let i = 0; i < 50; i++) expect(scores[i]).toBeCloseTo(e[i], 6);
    expect(res.auroc).toBeCloseTo(auroc(e, Array.from(y)), 12);
    expect(res.auroc).toBeGreaterThan(0.95); // radius-5 anomalies vs N(0, I): P(‖z‖ > 5) ≈ 4e-6
    expect(res.anomalies).toBe(10);
    expect(res.flagged).toBe(10); // 20 % of 50 rows
    for (const k of ['auprc', 'fpr95', 'threshold', 'meanScore']) expect(typeof res[k]).toBe('number');
  });

  it('human output without --out / --labels', async () => {
    const r = await ebm('score', model, '--data', dataCsv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/meanScore/);
  });

  it('errors: bad labels, wrong width, bad output type — and no file written', async () => {
    const d2 = tempDir('ebm-score-err-');
    const bad = join(d2, 'bad.csv');
    writeFileSync(bad, 'y\n' + Array.from({ length: 50 }, (_, i) => (i === 3 ? '2' : '0')).join('\n') + '\n');
    let r = await ebm('score', model, '--data', dataCsv, '--labels', bad, '--out', join(d2, 's.csv'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.csv.*line 5.*not 0 or 1|line 5/);
    const short = join(d2, 'short.csv');
    writeFileSync(short, '0\n1\n');
    r = await ebm('score', model, '--data', dataCsv, '--labels', short);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/2 labels but --data has 50 rows/);
    const wide = join(d2, 'wide.csv');
    writeFileSync(wide, '1,2,3\n4,5,6\n');
    r = await ebm('score', model, '--data', wide);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/3 columns but the model takes 2/);
    r = await ebm('score', model, '--data', dataCsv, '--out', join(d2, 's.png'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out/);
    expect(filesIn(d2)).toEqual(['bad.csv', 'short.csv', 'wide.csv']);
  });
});
