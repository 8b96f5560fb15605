import { describe, expect, it } from 'vitest';
import { key, probes } from '../../src/random/index.js';
import { probes as probesFromLosses } from '../../src/losses/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('probes', () => {
  it('Rademacher entries are ±1 with E[v vᵀ] = I (second moments within 4 standard errors)', () => {
    const n = 20000;
    const v = probes(key(3), [n, 2], 'rademacher', 'float64').data;
    let m0 = 0, c01 = 0;
    for (let i = 0; i < n; i++) {
      expect(Math.abs(v[2 * i])).toBe(1);
      m0 += v[2 * i] / n;
      c01 += (v[2 * i] * v[2 * i + 1]) / n;
    }
    expect(Math.abs(m0)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(c01)).toBeLessThan(4 / Math.sqrt(n));
  });

  it('Gaussian probes have unit variance, are a pure function of the key, and a bad kind is refused', () => {
    const n = 20000;
    const a = probes(key(5), [n], 'gaussian', 'float64');
    let s2 = 0;
    for (const x of a.data) s2 += (x * x) / n;
    expect(Math.abs(s2 - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Array.from(probes(key(5), [n], 'gaussian', 'float64').data)).toEqual(Array.from(a.data));
    expect(probes(key(1), [3], 'gaussian').dtype).toBe('float32');
    expect(() => probes(key(1), [3], 'uniform' as never)).toThrow(InvalidArgumentError);
    expect(probesFromLosses).toBe(probes);
  });
});
