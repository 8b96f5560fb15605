import { describe, expect, it } from 'vitest';
import { aisEstimate, checkAisBetas, linearBetas, salakhutdinovBetas } from '../../src/eval/annealedImportance.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('aisEstimate (model-free AIS statistics)', () => {
  it('matches the closed form on two weights, including far out of exp range', () => {
    for (const shift of [0, 800, -800]) {
      // w = (1, 3)·e^shift: w̄ = 2e^shift, s_w = √2·e^shift, se = 1·e^shift.
      const r = aisEstimate(Float64Array.of(shift, shift + Math.log(3)), 0.25);
      expect(r.logZ).toBeCloseTo(0.25 + shift + Math.log(2), 12);
      expect(r.logZStd).toBeCloseTo(0.5, 12);
      expect(r.logZLow).toBe(-Infinity); // 2 − 3·1 ≤ 0
      expect(r.logZHigh).toBeCloseTo(0.25 + shift + Math.log(5), 12);
      expect(r.ess).toBeCloseTo(16 / 10, 12);
    }
  });

  it('treats −∞ as a zero weight and refuses NaN, +∞ and all-zero weights', () => {
    expect(aisEstimate(Float64Array.of(0, -Infinity), 0).logZ).toBeCloseTo(Math.log(0.5), 12);
    expect(() => aisEstimate(Float64Array.of(0, NaN), 0)).toThrow(InvalidArgumentError);
    expect(() => aisEstimate(Float64Array.of(Infinity), 0)).toThrow(InvalidArgumentError);
    expect(() => aisEstimate(Float64Array.of(-Infinity, -Infinity), 0)).toThrow(InvalidArgumentError);
    expect(() => aisEstimate(new Float64Array(0), 0)).toThrow(InvalidArgumentError);
  });

  it('schedules start at 0, end at 1 and are checked', () => {
    expect(Array.from(linearBetas(4))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const b = salakhutdinovBetas();
    expect(b.length).toBe(14501);
    expect(checkAisBetas(b)).toEqual(b);
    expect(() => checkAisBetas([0, 0.7, 0.5, 1])).toThrow(InvalidArgumentError);
    expect(() => checkAisBetas([0.1, 1])).toThrow(InvalidArgumentError);
  });
});
