/**
 * JEM on three 2-D Gaussian blobs (tiny MLP, a few hundred steps). Checks: classifier accuracy, that SGLD samples
 * have lower energy than uniform noise, that class-conditional samples are classified as their class, the energy
 * identities E(x) = −logsumexp f(x) and E(x, y) = −f(x)[y], packing, and the OOD scores.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, noGrad, logsumexp } from '../../src/tensor/index.js';
import { key, normalArray, uniformArray } from '../../src/random/index.js';
import { initMLP } from '../../src/nn/index.js';
import { ula } from '../../src/samplers/index.js';
import {
  mlpClassifier, trainJem, jemPredict, jemEnergy, jemConditionalEnergy, sampleJem, jemScores, jemAnomalyScore,
  packLabelled, unpackLabelled, jemLoss,
} from '../../src/models/jem/index.js';
import { accuracy, expectedCalibrationError } from '../../src/eval/classification.js';
import { auroc, inOutLabels } from '../../src/eval/detection.js';

const CENTERS = [[0.5, 0.5], [-0.5, 0.5], [0, -0.5]];
function blobs(k: ReturnType<typeof key>, n: number): { x: Tensor; y: Int32Array } {
  const z = normalArray(k, n * 2, 'float64');
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    x[2 * i] = CENTERS[c][0] + 0.12 * z[2 * i];
    x[2 * i + 1] = CENTERS[c][1] + 0.12 * z[2 * i + 1];
  }
  return { x: new Tensor(x, [n, 2]), y };
}
const sampler = (E: Parameters<typeof ula>[0]) => ula(E, { stepSize: 0.005 });
const meanOf = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0) / a.length;

describe('JEM', () => {
  const f = mlpClassifier('silu');

  it('energies: E(x) = −logsumexp f(x), E(x, y) = −f(x)[y]', () => {
    const p = initMLP(key(0), [2, 8, 3]);
    const x = blobs(key(1), 5).x;
    const logits = noGrad(() => f(p, x));
    const lse = noGrad(() => logsumexp(logits, 1));
    const e = noGrad(() => jemEnergy(f, p, 2).energy(x));
    const lab = Int32Array.from([0, 1, 2, 1, 0]);
    const ec = noGrad(() => jemConditionalEnergy(f, p, 2, lab).energy(x));
    for (let i = 0; i < 5; i++) {
      expect(e.data[i]).toBeCloseTo(-lse.data[i], 5);
      expect(ec.data[i]).toBeCloseTo(-logits.data[i * 3 + lab[i]], 6);
    }
    expect(() => jemConditionalEnergy(f, p, 2, lab).energy(blobs(key(1), 4).x)).toThrow(/5 rows/);
  });

  it('packs and unpacks labelled rows, rejects bad labels', () => {
    const x = new Tensor(Float32Array.from([1, 2, 3, 4]), [2, 2]);
    const pk = packLabelled(x, [2, -1]);
    expect(Array.from(pk.data)).toEqual([1, 2, 2, 3, 4, -1]);
    const { x: x2, y } = unpackLabelled(pk, 2, 3);
    expect(Array.from(x2.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(y)).toEqual([2, -1]);
    expect(() => unpackLabelled(packLabelled(x, [3, 0]), 2, 3)).toThrow(/label 3/);
    expect(() => packLabelled(x, [0.5, 0])).toThrow(/row 0/);
    expect(() => jemLoss({ classifier: f, dim: 2, numClasses: 3, weights: { clf: 0, px: 0, pxy: 0 } })).toThrow(/all weights/);
  });

  it('trains: accurate classifier, SGLD samples below noise in energy, class-conditional samples on their class', () => {
    const tr = blobs(key(1), 600), te = blobs(key(2), 600);
    const res = trainJem({
      classifier: f, params: initMLP(key(0), [2, 32, 32, 3]), x: tr.x, y: tr.y, numClasses: 3, trainSteps: 200, batchSize: 32,
      key: key(3), steps: 10, bufferSize: 500, sampler, lr: 3e-3, weights: { px: 1, pxy: 0.5 }, alpha: 0.01,
    });
    expect(res.events.length).toBe(0);
    const probs = jemPredict(f, res.params, te.x);
    // blobs 0.7 apart with σ = 0.12: Bayes error < 0.1 %; 600 test rows → require ≥ 97 %
    expect(accuracy(probs, te.y)).toBeGreaterThan(0.97);
    expect(expectedCalibrationError(probs, te.y)).toBeLessThan(0.1);

    // 300 unconditional samples vs 300 uniform-noise rows: the mean energy must be lower (the gap seen in practice
    // is several nats; per-row energy sd is ~1–2, so the standard error of each mean is ≈ 0.1)
    const E = jemEnergy(f, res.params, 2);
    const xs = sampleJem(f, res.params, 2, { key: key(9), n: 300, steps: 200, sampler });
    const noise = new Tensor(Float32Array.from(uniformArray(key(10), 600, 'float64'), (v) => 2 * v - 1), [300, 2]);
    const eS = meanOf(noGrad(() => E.energy(xs)).data), eN = meanOf(noGrad(() => E.energy(noise)).data);
    expect(eS).toBeLessThan(eN - 1);

    // class-conditional samples: the classifier gives their class (chance 1/3; 300 samples → SE ≈ 0.03 at 0.9)
    const lab = Int32Array.from({ length: 300 }, (_, i) => i % 3);
    const xc = sampleJem(f, res.params, 2, { key: key(11), n: 300, steps: 200, labels: lab, sampler });
    expect(accuracy(jemPredict(f, res.params, xc), lab)).toBeGreaterThan(0.9);

    // OOD scores: far-away points (radius 3) vs test data; log p(x) must separate them
    const far = new Tensor(Float32Array.from(uniformArray(key(12), 200, 'float64'), (v, i) => (i % 2 ? Math.sin(v * 2 * Math.PI) : Math.cos(v * 2 * Math.PI)) * 3), [100, 2]);
    const sIn = jemScores(f, res.params, te.x), sOut = jemScores(f, res.params, far);
    const { scores, labels } = inOutLabels(jemAnomalyScore(sIn, 'logPx'), jemAnomalyScore(sOut, 'logPx'));
    expect(auroc(scores, labels)).toBeGreaterThan(0.9);
    expect(sIn.maxProb.every((v) => v > 0 && v <= 1)).toBe(true);
  });
});
