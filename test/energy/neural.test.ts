import { describe, expect, it } from 'vitest';
import { mlpEnergy, initMlpEnergy, convEnergy, initConvEnergy, energyAndGrad } from '../../src/energy/index.js';
import { Tensor, checkGrad, sum, valueAndGrad, mul } from '../../src/tensor/index.js';
import { key, normal } from '../../src/random/index.js';

describe('neural energies: ∇ₓE against finite differences (float64)', () => {
  it('MLP energy', () => {
    const p = initMlpEnergy(key(1), { dim: 3, hidden: [8, 8], dtype: 'float64' });
    const E = mlpEnergy(p, 'silu');
    const x = normal(key(2), [4, 3], { dtype: 'float64' });
    const w = normal(key(3), [4], { dtype: 'float64' }); // weighted sum: distinct cotangent per row
    const r = checkGrad((y) => sum(mul(E.energy(y), w)), x);
    expect(r.ok, `max abs err ${r.maxAbsError}`).toBe(true);
    expect(E.energy(x).shape).toEqual([4]);
  });
  it('conv energy', () => {
    const p = initConvEnergy(key(4), { shape: [2, 6, 6], filters: [3, 4], dtype: 'float64' });
    const E = convEnergy(p, [2, 6, 6], 'tanh');
    const x = normal(key(5), [2, 2, 6, 6], { dtype: 'float64' });
    const r = checkGrad((y) => sum(E.energy(y)), x);
    expect(r.ok, `max abs err ${r.maxAbsError}`).toBe(true);
    const { grad } = energyAndGrad(E, x);
    expect(grad.shape).toEqual([2, 2, 6, 6]);
  });
  it('rows are independent: per-row gradients equal single-row gradients', () => {
    const E = mlpEnergy(initMlpEnergy(key(6), { dim: 2, hidden: [5], dtype: 'float64' }));
    const x = normal(key(7), [3, 2], { dtype: 'float64' });
    const all = energyAndGrad(E, x).grad;
    const one = energyAndGrad(E, new Tensor(x.data.slice(2, 4), [1, 2])).grad;
    expect(all.data[2]).toBeCloseTo(one.data[0], 12);
    expect(all.data[3]).toBeCloseTo(one.data[1], 12);
  });
  it('parameters are a pytree that grad can differentiate', () => {
    const p = initMlpEnergy(key(8), { dim: 2, hidden: [4] });
    const x = normal(key(9), [5, 2]);
    const [, g] = valueAndGrad((q: typeof p) => sum(mlpEnergy(q).energy(x)))(p);
    expect(g.layers[0].w.shape).toEqual([2, 4]);
    expect(g.layers[1].b.shape).toEqual([1]);
    expect(() => initMlpEnergy(key(1), { dim: 0, hidden: [] })).toThrow(/dim must be a positive integer/);
  });
});
