/**
 * Planted anomalies: every scorer is fitted on normal rows only and must rank held-out anomalies above held-out
 * normals. Bounds: with 200 normals and 50 anomalies, the standard error of an AUROC near 0.95 is ≈ 0.02
 * (Hanley–McNeil), so "AUROC > 0.9" is a ≥ 2.5-SE margin below what a working scorer gets (≈ 0.99), while a
 * broken scorer (random: 0.5 ± 0.045) cannot pass.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/index.js';
import { key, normalArray, uniformArray, split } from '../../src/random/index.js';
import {
  AnomalyDetector, gaussianScorer, knnScorer, rbmScorer, deepEbmScorer, energyScorer, scoreNormScorer, detectionMetrics,
} from '../../src/anomaly/index.js';
import { gaussian } from '../../src/energy/index.js';

/** Normal rows ~ N(0, I_d); anomalies uniform on the sphere shell of radius 4–5 (well outside the bulk for d = 4). */
function continuous(k: ReturnType<typeof key>, nNormal: number, nAnom: number, d = 4): { x: Tensor; y: Uint8Array } {
  const [k1, k2, k3] = split(k, 3);
  const z = normalArray(k1, nNormal * d, 'float64');
  const a = normalArray(k2, nAnom * d, 'float64');
  const r = uniformArray(k3, nAnom, 'float64');
  const x = new Float32Array((nNormal + nAnom) * d);
  for (let i = 0; i < nNormal * d; i++) x[i] = z[i];
  for (let i = 0; i < nAnom; i++) {
    let n2 = 0;
    for (let j = 0; j < d; j++) n2 += a[i * d + j] ** 2;
    const rad = 4 + r[i];
    for (let j = 0; j < d; j++) x[(nNormal + i) * d + j] = (a[i * d + j] / Math.sqrt(n2)) * rad;
  }
  const y = new Uint8Array(nNormal + nAnom);
  y.fill(1, nNormal);
  return { x: new Tensor(x, [nNormal + nAnom, d]), y };
}

/** Binary rows: normals are one of 4 prototypes of 16 bits with 5 % flips; anomalies are uniform random bits. */
function binary(k: ReturnType<typeof key>, nNormal: number, nAnom: number): { x: Tensor; y: Uint8Array } {
  const D = 16;
  const protos = [0x00ff, 0xff00, 0x0f0f, 0xf0f0];
  const u = uniformArray(k, (nNormal + nAnom) * D, 'float64');
  const x = new Float32Array((nNormal + nAnom) * D);
  for (let i = 0; i < nNormal; i++) {
    const p = protos[i % 4];
    for (let j = 0; j < D; j++) x[i * D + j] = ((p >> j) & 1) ^ (u[i * D + j] < 0.05 ? 1 : 0);
  }
  for (let i = nNormal; i < nNormal + nAnom; i++) for (let j = 0; j < D; j++) x[i * D + j] = u[i * D + j] < 0.5 ? 1 : 0;
  const y = new Uint8Array(nNormal + nAnom);
  y.fill(1, nNormal);
  return { x: new Tensor(x, [nNormal + nAnom, D]), y };
}

describe('anomaly scorers on planted anomalies', () => {
  const train = continuous(key(1), 1000, 0);
  const test = continuous(key(2), 200, 50);

  it('Gaussian and k-NN baselines: AUROC > 0.9, threshold flags ≈ contamination of normals', () => {
    for (const s of [gaussianScorer(), knnScorer({ k: 5 })]) {
      const det = new AnomalyDetector(s, { contamination: 0.05 }).fit(train.x, key(3));
      const m = det.evaluate(test.x, test.y);
      expect(m.auroc, s.name).toBeGreaterThan(0.9);
      expect(m.fpr95, s.name).toBeLessThan(0.2);
      const pred = det.predict(test.x);
      let flaggedAnom = 0, flaggedNorm = 0;
      for (let i = 0; i < pred.length; i++) (test.y[i] ? (flaggedAnom += pred[i]) : (flaggedNorm += pred[i]));
      // 5 % of 200 normals = 10 expected, binomial sd ≈ 3.1 (+ threshold estimation noise): allow ≤ 25
      expect(flaggedNorm, s.name).toBeLessThanOrEqual(25);
      expect(flaggedAnom, s.name).toBeGreaterThanOrEqual(45);
    }
  });

  it('exact Gaussian energy and its score norm (pre-trained energies)', () => {
    const E = gaussian({ mean: [0, 0, 0, 0], cov: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] });
    for (const s of [energyScorer(E), scoreNormScorer(E)]) {
      const m = detectionMetrics(s.score(test.x), test.y);
      expect(m.auroc, s.name).toBeGreaterThan(0.9);
    }
    // E = ½‖x‖² + c and ‖∇E‖ = ‖x‖ rank rows identically
    const a = energyScorer(E).score(test.x), b = scoreNormScorer(E).score(test.x);
    expect(detectionMetrics(a, test.y).auroc).toBeCloseTo(detectionMetrics(b, test.y).auroc, 10);
  });

  it('deep EBM energy (replay-buffer CD, few steps): AUROC > 0.9', () => {
    const s = deepEbmScorer({ hidden: [32, 32], steps: 120, batchSize: 64, sgldSteps: 10, stepSize: 0.05 });
    s.fit(train.x, key(4));
    const m = detectionMetrics(s.score(test.x), test.y);
    expect(m.auroc).toBeGreaterThan(0.9);
  });

  it('deep EBM energy with tempered negatives and no confining term: the network itself ranks the shell as anomalous', () => {
    // confine 0 and α 0: no ½c‖z‖² term to fall back on, so AUROC > 0.9 means the learned energy rises away from the
    // data (hot chains visit the shell region during training).
    const s = deepEbmScorer({ hidden: [32, 32], steps: 150, batchSize: 64, sgldSteps: 3, stepSize: 0.05, confine: 0, alpha: 0, negatives: 'tempered', temps: 4, tMax: 10 });
    s.fit(train.x, key(4));
    const m = detectionMetrics(s.score(test.x), test.y);
    expect(m.auroc).toBeGreaterThan(0.9); // measured 0.9994
  });

  it('RBM free energy on binary data: AUROC > 0.9', () => {
    const tr = binary(key(5), 400, 0), te = binary(key(6), 200, 50);
    const det = new AnomalyDetector(rbmScorer({ nHidden: 8 }, { epochs: 30, lr: 0.1, batchSize: 20 }), { contamination: 0.02 }).fit(tr.x, key(7));
    const m = det.evaluate(te.x, te.y);
    expect(m.auroc).toBeGreaterThan(0.9);
    expect(m.auprc).toBeGreaterThan(0.7); // chance level is 50/250 = 0.2
  });

  it('errors: scoring before fit, NaN rows, wrong width', () => {
    expect(() => knnScorer().score(test.x)).toThrow(/fit/);
    const g = gaussianScorer();
    g.fit(train.x, key(0));
    expect(() => g.score(new Tensor(new Float32Array([0, 0, NaN, 0]), [1, 4]))).toThrow(/row 0, column 2 is NaN/);
    expect(() => g.score(new Tensor(new Float32Array([0, 0]), [1, 2]))).toThrow(/4 values/);
    expect(() => new AnomalyDetector(g, { contamination: 1 })).toThrow(/contamination/);
  });
});
