/** gridSample: i.i.d. draws from a 2-D energy discretised on a grid, against the moments of a Gaussian. */
import { describe, expect, it } from 'vitest';
import { key } from '../../src/random/index.js';
import { full } from '../../src/tensor/index.js';
import { gaussian } from '../../src/energy/index.js';
import { gridSample } from '../../src/samplers/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('gridSample', () => {
  const g = gaussian({ mean: [0.5, -1], cov: [[1, 0.6], [0.6, 2]] });
  const box = [-6, 7, -9, 7] as const;

  it('draws the Gaussian\'s mean and covariance within 4 Monte Carlo standard errors (+ the grid\'s bias)', () => {
    const n = 4000;
    const x = gridSample(g, box, key(3), n).data;
    const m = [0, 0];
    for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) m[j] += x[2 * i + j] / n;
    const c = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const a = x[2 * i] - m[0], b = x[2 * i + 1] - m[1];
      c[0] += (a * a) / (n - 1); c[1] += (a * b) / (n - 1); c[2] += (b * b) / (n - 1);
    }
    const [s00, s01, s11] = [1, 0.6, 2];
    expect(Math.abs(m[0] - 0.5)).toBeLessThan(4 * Math.sqrt(s00 / n));
    expect(Math.abs(m[1] + 1)).toBeLessThan(4 * Math.sqrt(s11 / n));
    // Var of a sample variance ≈ 2σ⁴/n (Gaussian); the cell width (0.065–0.08) adds ≈ h²/12 ≈ 5e-4.
    expect(Math.abs(c[0] - s00)).toBeLessThan(4 * Math.sqrt(2 * s00 ** 2 / n) + 1e-3);
    expect(Math.abs(c[2] - s11)).toBeLessThan(4 * Math.sqrt(2 * s11 ** 2 / n) + 1e-3);
    expect(Math.abs(c[1] - s01)).toBeLessThan(4 * Math.sqrt((s00 * s11 + s01 ** 2) / n));
  });

  it('is deterministic given the key, stays in the box, and refuses bad arguments', () => {
    const a = gridSample(g, box, key(1), 50, 64), b = gridSample(g, box, key(1), 50, 64);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(a.shape).toEqual([50, 2]);
    for (let i = 0; i < 50; i++) {
      expect(a.data[2 * i]).toBeGreaterThanOrEqual(box[0]); expect(a.data[2 * i]).toBeLessThanOrEqual(box[1]);
      expect(a.data[2 * i + 1]).toBeGreaterThanOrEqual(box[2]); expect(a.data[2 * i + 1]).toBeLessThanOrEqual(box[3]);
    }
    expect(() => gridSample(g, [1, 0, 0, 1], key(1), 5)).toThrow(InvalidArgumentError);
    expect(() => gridSample(gaussian({ mean: [0, 0, 0] }), box, key(1), 5)).toThrow(InvalidArgumentError);
    expect(() => gridSample({ dim: 2, energy: (z) => full([z.shape[0]], Infinity) }, box, key(1), 5)).toThrow(InvalidArgumentError); // no mass on the box
  });
});
