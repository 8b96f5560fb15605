import { describe, expect, it } from 'vitest';
import { auroc, auprc, fprAtTpr, rocCurve, detectionMetrics, inOutLabels } from '../../src/eval/detection.js';
import { contaminationThreshold } from '../../src/anomaly/index.js';
import { accuracy, expectedCalibrationError, negLogLik, reliabilityBins, softmaxRows } from '../../src/eval/classification.js';
import { tensor } from '../../src/tensor/index.js';

/** Brute-force Mann–Whitney: P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) over all pairs. */
function pairAuroc(s: number[], y: number[]): number {
  let num = 0, den = 0;
  for (let i = 0; i < s.length; i++) for (let j = 0; j < s.length; j++) {
    if (y[i] === 1 && y[j] === 0) {
      den++;
      num += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return num / den;
}

describe('AUROC / AUPRC / FPR@95TPR', () => {
  it('AUROC matches hand-computed values, ties count one half', () => {
    expect(auroc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])).toBeCloseTo(0.875, 12); // pairs: 1, 1, ½, 1
    expect(auroc([1, 1, 1, 1], [1, 0, 1, 0])).toBe(0.5); // all tied
    expect(auroc([3, 2, 1], [1, 0, 0])).toBe(1);
    expect(auroc([1, 2, 3], [1, 0, 0])).toBe(0);
    // 3 positives {4, 2, 2} × 3 negatives {2, 1, 5}, a 3-way tie at 2: s⁺=4 beats 2 and 1 (2); each s⁺=2 ties 2 (½)
    // and beats 1 (1): (2 + 1.5 + 1.5) / 9
    expect(auroc([4, 2, 2, 2, 1, 5], [1, 1, 1, 0, 0, 0])).toBeCloseTo((2 + 1.5 + 1.5) / 9, 12);
  });

  it('AUROC equals the pairwise count on random data with many ties', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const s = Array.from({ length: 60 }, () => Math.floor(rnd() * 6));
    const y = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    expect(auroc(s, y)).toBeCloseTo(pairAuroc(s, y), 12);
    // the trapezoid area under the ROC sweep (ties → diagonal segments) is the same number
    const pts = rocCurve(s, y);
    let area = 0, px = 0, py = 0;
    for (const p of pts) { area += (p.fpr - px) * (p.tpr + py) / 2; px = p.fpr; py = p.tpr; }
    expect(area).toBeCloseTo(pairAuroc(s, y), 12);
  });

  it('AUPRC is average precision with tied scores entering together', () => {
    expect(auprc([0.9, 0.8, 0.1], [1, 0, 1])).toBeCloseTo(0.5 + (2 / 3) * 0.5, 12);
    expect(auprc([3, 2, 1], [1, 1, 0])).toBe(1);
    // all tied: one threshold, recall 1, precision = positive fraction
    expect(auprc([1, 1, 1, 1], [1, 0, 0, 0])).toBeCloseTo(0.25, 12);
    // tie between a positive and a negative at the top: P = ½ at R = ½, then P = 2/3 at R = 1
    expect(auprc([5, 5, 3, 1], [1, 0, 1, 0])).toBeCloseTo(0.5 * 0.5 + 0.5 * (2 / 3), 12);
  });

  it('FPR at 95 % TPR', () => {
    expect(fprAtTpr([4, 3, 2, 1], [1, 0, 1, 0])).toBe(0.5);
    expect(fprAtTpr([4, 3, 2, 1], [1, 1, 0, 0])).toBe(0);
    // 20 positives: TPR 0.95 needs 19 of them; the 20th is below every negative
    const s = [...Array.from({ length: 19 }, (_, i) => 100 + i), -5, ...Array.from({ length: 10 }, (_, i) => i)];
    const y = [...Array(20).fill(1), ...Array(10).fill(0)];
    expect(fprAtTpr(s, y)).toBe(0);
    expect(fprAtTpr(s, y, 1)).toBe(1);
    const m = detectionMetrics(s, y);
    expect(m.positives).toBe(20);
    expect(m.negatives).toBe(10);
  });

  it('rejects NaN scores, bad labels and a single class', () => {
    expect(() => auroc([1, NaN], [1, 0])).toThrow(/row 1 is NaN/);
    expect(() => auroc([1, 2], [1, 2])).toThrow(/0 or 1/);
    expect(() => auroc([1, 2], [1, 1])).toThrow(/both classes/);
    expect(() => auroc([1, 2, 3], [1, 0])).toThrow(/3 scores but 2 labels/);
  });

  it('inOutLabels concatenates in (0) and out (1)', () => {
    const { scores, labels } = inOutLabels([1, 2], [3]);
    expect(Array.from(scores)).toEqual([1, 2, 3]);
    expect(Array.from(labels)).toEqual([0, 0, 1]);
  });

  it('contamination threshold is the interpolated (1 − c)-quantile', () => {
    expect(contaminationThreshold([5, 1, 4, 2, 3], 0.25)).toBe(4);
    expect(contaminationThreshold([1, 2, 3, 4, 5], 0.1)).toBeCloseTo(4.6, 12);
    expect(contaminationThreshold([1, 2, 3], 0)).toBe(3);
    expect(() => contaminationThreshold([1, NaN], 0.1)).toThrow(/NaN/);
    expect(() => contaminationThreshold([1, 2], 1)).toThrow(/contamination/);
  });
});

describe('classification metrics', () => {
  it('accuracy, NLL and ECE by hand', () => {
    const p = tensor([[0.8, 0.2], [0.8, 0.2], [0.3, 0.7], [0.45, 0.55]], undefined, 'float64');
    const y = [0, 1, 1, 1];
    expect(accuracy(p, y)).toBe(0.75);
    expect(negLogLik(p, y)).toBeCloseTo(-(Math.log(0.8) + Math.log(0.2) + Math.log(0.7) + Math.log(0.55)) / 4, 6);
    // 10 bins: {0.8, 0.8} in (0.7, 0.8] with acc ½; {0.7} in (0.6, 0.7] acc 1; {0.55} in (0.5, 0.6] acc 1
    const ece = (2 / 4) * Math.abs(0.5 - 0.8) + (1 / 4) * Math.abs(1 - 0.7) + (1 / 4) * Math.abs(1 - 0.55);
    expect(expectedCalibrationError(p, y, 10)).toBeCloseTo(ece, 6);
    const bins = reliabilityBins(p, y, 10);
    expect(bins[7].count).toBe(2);
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(4);
  });

  it('softmaxRows is stable for large logits', () => {
    const p = softmaxRows(tensor([[1000, 1000], [0, Math.log(3)]], undefined, 'float64'));
    expect(Array.from(p.data)).toEqual([0.5, 0.5, 0.25, 0.75].map((v) => expect.closeTo(v, 12)) as unknown as number[]);
  });

  it('rejects bad labels', () => {
    expect(() => accuracy(tensor([[0.5, 0.5]]), [2])).toThrow(/row 0/);
    expect(() => accuracy(tensor([[0.5, 0.5]]), [0, 1])).toThrow(/labels/);
  });
});
