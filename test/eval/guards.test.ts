import { describe, expect, it } from 'vitest';
import { gridLogZ } from '../../src/eval/gridLogZ.js';
import { gaussian } from '../../src/energy/index.js';
import { standardization } from '../../src/models/deepEbm/index.js';
import { tensor } from '../../src/tensor/index.js';

describe('input guards that would otherwise hang or hide a problem', () => {
  it('gridLogZ rejects a non-positive batch instead of looping forever', () => {
    const E = gaussian({ mean: [0, 0], cov: [[1, 0], [0, 1]] });
    expect(() => gridLogZ(E, { box: [[-5, 5], [-5, 5]], points: 16, batch: 0 })).toThrow(/batch must be a positive integer/);
  });

  it('standardization calls a constant column constant even when E[x²] − m² leaves rounding residue', () => {
    // 0.1 seven times: the one-pass variance is ≈ 1.7e-18, not 0, which used to give sd ≈ 1e-9.
    const x = tensor(Array.from({ length: 7 }, (_, i) => [0.1, i]), undefined, 'float64');
    expect(() => standardization(x)).toThrow(/column 1 is constant/);
    const bad = tensor([[0, 1], [Number.NaN, 2], [1, 3]], undefined, 'float64');
    expect(() => standardization(bad)).toThrow(/row 2, column 1 is NaN/);
    expect(standardization(tensor([[0, 1], [2, 3]], undefined, 'float64')).scale).toEqual([1, 1]);
  });
});
