import { describe, expect, it } from 'vitest';
import { constant, cosineDecay, exponentialDecay, linearSchedule, linearWarmup, piecewiseConstant, warmupCosine } from '../../src/optim/index.js';

describe('schedules', () => {
  it('constant', () => {
    expect(constant(0.3)(0)).toBe(0.3);
    expect(constant(0.3)(1e6)).toBe(0.3);
    expect(() => constant(NaN)).toThrow(/finite/);
  });

  it('exponentialDecay: init·rate^(t/T), staircase, begin, floor', () => {
    const s = exponentialDecay(0.1, 0.5, 100);
    expect(s(0)).toBe(0.1);
    expect(s(200)).toBeCloseTo(0.025, 15);
    expect(s(50)).toBeCloseTo(0.1 * Math.SQRT1_2, 15);
    expect(exponentialDecay(0.1, 0.5, 100, { staircase: true })(199)).toBeCloseTo(0.05, 15);
    expect(exponentialDecay(0.1, 0.5, 100, { transitionBegin: 50 })(150)).toBeCloseTo(0.05, 15);
    expect(exponentialDecay(0.1, 0.5, 100, { endValue: 0.03 })(1000)).toBe(0.03);
  });

  it('cosineDecay: init at 0, half at T/2, α·init from T on', () => {
    const s = cosineDecay(2, 100, 0.1);
    expect(s(0)).toBeCloseTo(2, 15);
    expect(s(50)).toBeCloseTo(2 * (0.9 * 0.5 + 0.1), 14);
    expect(s(100)).toBeCloseTo(0.2, 14);
    expect(s(500)).toBeCloseTo(0.2, 14);
    expect(cosineDecay(1, 100)(25)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)), 15);
  });

  it('linearSchedule and linearWarmup', () => {
    expect(linearSchedule(0, 1, 10)(5)).toBeCloseTo(0.5, 15);
    expect(linearSchedule(1, 0, 10, 5)(0)).toBe(1);
    expect(linearSchedule(1, 0, 10, 5)(20)).toBe(0);
    const w = linearWarmup(1e-3, 100);
    expect(w(0)).toBe(0);
    expect(w(50)).toBeCloseTo(5e-4, 18);
    expect(w(100)).toBe(1e-3);
    expect(w(1e5)).toBe(1e-3);
    const wc = linearWarmup(1, 10, cosineDecay(1, 10));
    expect(wc(15)).toBeCloseTo(0.5, 15);
  });

  it('warmupCosine: peak at the end of warm-up, end value at decaySteps', () => {
    const s = warmupCosine(0, 1e-3, 100, 1100, 1e-5);
    expect(s(0)).toBe(0);
    expect(s(50)).toBeCloseTo(5e-4, 18);
    expect(s(100)).toBeCloseTo(1e-3, 18);
    expect(s(600)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5, 15);
    expect(s(1100)).toBeCloseTo(1e-5, 18);
    expect(s(5000)).toBeCloseTo(1e-5, 18);
    expect(() => warmupCosine(0, 1, 100, 50)).toThrow(/decaySteps/);
  });

  it('piecewiseConstant', () => {
    const s = piecewiseConstant([100, 200], [1e-2, 1e-3, 1e-4]);
    expect([s(0), s(99), s(100), s(199), s(200), s(1e6)]).toEqual([1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4]);
    expect(() => piecewiseConstant([100], [1])).toThrow(/need 2 values/);
    expect(() => piecewiseConstant([200, 100], [1, 2, 3])).toThrow(/increasing/);
  });
});
