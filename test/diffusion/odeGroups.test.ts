/** RK45 `groups`: each block's error is controlled on its own, not diluted by the RMS over quiet blocks. */
import { describe, expect, it } from 'vitest';
import { integrate } from '../../src/diffusion/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('integrate: groups (per-block error control)', () => {
  // 200 rows of 4 components; row 0 grows as y' = 6y, every other row is constant: one busy system among quiet ones.
  const rows = 200, D = 4;
  const f = (_t: number, y: Float64Array): Float64Array => {
    const out = new Float64Array(y.length);
    for (let j = 0; j < D; j++) out[j] = 6 * y[j];
    return out;
  };
  const y0 = new Float64Array(rows * D).fill(1);
  const relErr = (y: Float64Array) => Math.abs(y[0] - Math.exp(6)) / Math.exp(6);

  it('keeps the busy row within tolerance, where one RMS over all rows lets its error grow ~√rows larger', () => {
    const tol = { rtol: 1e-5, atol: 1e-5 };
    const pooled = integrate(f, y0, 0, 1, tol);
    const grouped = integrate(f, y0, 0, 1, { ...tol, groups: rows });
    expect(relErr(grouped.y)).toBeLessThan(2e-5);
    expect(relErr(pooled.y)).toBeGreaterThan(5 * relErr(grouped.y));
    expect(grouped.nfe).toBeGreaterThan(pooled.nfe); // the busy row now sets the step
    // One group is the old behaviour exactly.
    expect(Array.from(integrate(f, y0, 0, 1, { ...tol, groups: 1 }).y)).toEqual(Array.from(pooled.y));
  });

  it('refuses a group count that does not divide the state', () => {
    expect(() => integrate(f, y0, 0, 1, { groups: 3 })).toThrow(InvalidArgumentError);
    expect(() => integrate(f, y0, 0, 1, { groups: 0 })).toThrow(/groups/);
  });
});
