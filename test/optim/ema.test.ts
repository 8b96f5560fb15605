/** emaUpdate: the debiased EMA is the (1 − d)·d^{t−i}-weighted average of the iterates alone, whatever it started at. */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/index.js';
import { emaUpdate } from '../../src/optim/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

const leaf = (v: number[]) => new Tensor(Float64Array.from(v), [v.length]);

describe('emaUpdate', () => {
  it('equals Σ (1−d) d^{t−i} θ_i / (1 − dᵗ) at every t, and gives the starting point no weight', () => {
    const d = 0.9;
    const thetas = Array.from({ length: 30 }, (_, i) => [Math.sin(i + 1), (i + 1) ** 0.5]);
    let ema: Record<string, Tensor> = { w: leaf([1e6, -1e6]) }; // a wild start: must not leak into the average
    for (let t = 1; t <= thetas.length; t++) {
      ema = emaUpdate(ema, { w: leaf(thetas[t - 1]) }, d, t);
      for (let j = 0; j < 2; j++) {
        let num = 0;
        for (let i = 1; i <= t; i++) num += (1 - d) * d ** (t - i) * thetas[i - 1][j];
        expect(ema.w.data[j]).toBeCloseTo(num / (1 - d ** t), 12);
      }
    }
    // t = 1 returns θ₁ exactly.
    expect(Array.from(emaUpdate({ w: leaf([5, 5]) }, { w: leaf([2, 3]) }, 0.999, 1).w.data)).toEqual([2, 3]);
  });

  it('tends to the plain EMA d·ē + (1 − d)·θ for t ≫ 1/(1 − d), keeps dtypes, and does not touch its inputs', () => {
    const e = { a: new Tensor(Float32Array.from([1, 2]), [2]), b: [leaf([3])] };
    const p = { a: new Tensor(Float32Array.from([2, 0]), [2]), b: [leaf([4])] };
    const r = emaUpdate(e, p, 0.99, 10_000);
    expect(r.a.dtype).toBe('float32');
    expect(r.b[0].dtype).toBe('float64');
    expect(r.a.data[0]).toBeCloseTo(0.99 * 1 + 0.01 * 2, 6);
    expect(r.b[0].data[0]).toBeCloseTo(0.99 * 3 + 0.01 * 4, 12);
    expect(Array.from(e.a.data)).toEqual([1, 2]);
    expect(Array.from(p.a.data)).toEqual([2, 0]);
  });

  it('rejects a decay outside [0, 1), a step < 1 and mismatched trees', () => {
    const x = { w: leaf([1]) };
    expect(() => emaUpdate(x, x, 1, 1)).toThrow(InvalidArgumentError);
    expect(() => emaUpdate(x, x, 0.9, 0)).toThrow(/1-based/);
    expect(() => emaUpdate(x, { w: leaf([1, 2]) }, 0.9, 1)).toThrow(/values/);
  });
});
