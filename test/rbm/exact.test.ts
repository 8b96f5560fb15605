import { describe, expect, it } from 'vitest';
import { createRBM, exactLogZ, freeEnergy, energy } from '../../src/models/rbm/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { softplusScalar } from '../../src/tensor/backend.js';
import { key, normalArray } from '../../src/random/index.js';
import { allBinary, allOneHot, bruteLogZ, lse, negEnergy } from './helpers.js';

const sp = softplusScalar;

describe('exact log Z', () => {
  it('zero-weight RBM: log Z = Σ softplus(b) + Σ softplus(c) (= (nv+nh) log 2 at zero biases)', () => {
    const nv = 9, nh = 7;
    const b = Array.from(normalArray(key(1), nv, 'float64'));
    const c = Array.from(normalArray(key(2), nh, 'float64'));
    const zero = createRBM({ nVisible: nv, nHidden: nh });
    expect(exactLogZ(zero)).toBeCloseTo((nv + nh) * Math.LN2, 10);
    const p = createRBM({ nVisible: nv, nHidden: nh, visibleBias: b, hiddenBias: c, dtype: 'float64' });
    const want = b.reduce((s, x) => s + sp(x), 0) + c.reduce((s, x) => s + sp(x), 0);
    expect(exactLogZ(p, { enumerate: 'hidden' })).toBeCloseTo(want, 10);
    expect(exactLogZ(p, { enumerate: 'visible' })).toBeCloseTo(want, 10);
  });

  it('Bernoulli: hidden and visible enumeration agree with brute force over (v, h), across block boundaries', () => {
    const p = createRBM({ nVisible: 7, nHidden: 5, key: key(3), weightScale: 1.5, dtype: 'float64',
      visibleBias: Array.from(normalArray(key(4), 7, 'float64')), hiddenBias: Array.from(normalArray(key(5), 5, 'float64')) });
    const brute = bruteLogZ(p, allBinary(7));
    expect(exactLogZ(p, { enumerate: 'hidden', blockSize: 3 })).toBeCloseTo(brute, 9);
    expect(exactLogZ(p, { enumerate: 'visible', blockSize: 5 })).toBeCloseTo(brute, 9);
    expect(exactLogZ(p)).toBeCloseTo(brute, 9);
    // F(v) matches −log Σ_h exp(−E(v,h)); energy matches the definition.
    const vs = allBinary(7).slice(0, 20);
    const F = freeEnergy(p, new Tensor(Float64Array.from(vs.flat()), [20, 7])).data;
    vs.forEach((v, r) => expect(F[r]).toBeCloseTo(-lse(allBinary(5).map((h) => negEnergy(p, v, h))), 9));
    const h = allBinary(5)[13];
    const E = energy(p, new Tensor(Float64Array.from(vs[4]), [1, 7]), new Tensor(Float64Array.from(h), [1, 5])).data[0];
    expect(E).toBeCloseTo(-negEnergy(p, vs[4], h), 10);
  });

  it('float32 parameters: within float32 accuracy of the float64 answer', () => {
    const p = createRBM({ nVisible: 12, nHidden: 10, key: key(6), weightScale: 0.8 });
    const p64 = { ...p, W: new Tensor(Float64Array.from(p.W.data), p.W.shape), b: new Tensor(Float64Array.from(p.b.data), p.b.shape), c: new Tensor(Float64Array.from(p.c.data), p.c.shape) };
    expect(Math.abs(exactLogZ(p) - exactLogZ(p64))).toBeLessThan(1e-9);
  });

  it('softmax RBM: hidden and visible enumeration match brute force over one-hot configurations', () => {
    const G = 3, K = 4, nh = 4;
    const p = createRBM({ visible: 'softmax', categories: K, nVisible: G * K, nHidden: nh, key: key(7), weightScale: 1, dtype: 'float64',
      visibleBias: Array.from(normalArray(key(8), G * K, 'float64')), hiddenBias: Array.from(normalArray(key(9), nh, 'float64')) });
    const brute = bruteLogZ(p, allOneHot(G, K));
    expect(exactLogZ(p, { enumerate: 'hidden' })).toBeCloseTo(brute, 9);
    expect(exactLogZ(p, { enumerate: 'visible', blockSize: 7 })).toBeCloseTo(brute, 9);
  });

  it('Gaussian–Bernoulli: analytic integral over v matches numerical quadrature (2 visible, 3 hidden)', () => {
    const sigma = [0.7, 1.3];
    const p = createRBM({ visible: 'gaussian', nVisible: 2, nHidden: 3, key: key(10), weightScale: 0.8, dtype: 'float64', sigma,
      visibleBias: [0.3, -0.5], hiddenBias: [0.1, -0.4, 0.2] });
    // Z = ∫ exp(−F(v)) dv by the midpoint rule on a wide grid.
    const n = 400, lo = -12, hi = 12, dx = (hi - lo) / n;
    const pts = new Float64Array(n * n * 2);
    for (let a = 0; a < n; a++) for (let c = 0; c < n; c++) { pts[(a * n + c) * 2] = lo + (a + 0.5) * dx; pts[(a * n + c) * 2 + 1] = lo + (c + 0.5) * dx; }
    const F = freeEnergy(p, new Tensor(pts, [n * n, 2])).data;
    const terms = Array.from(F, (f) => -f);
    const numeric = lse(terms) + 2 * Math.log(dx);
    expect(exactLogZ(p)).toBeCloseTo(numeric, 6);
    expect(() => exactLogZ(p, { enumerate: 'visible' })).toThrow(/Gaussian/);
  });

  it('refuses enumerations beyond maxConfigs with a clear error', () => {
    const p = createRBM({ nVisible: 40, nHidden: 30 });
    expect(() => exactLogZ(p)).toThrow(/configurations/);
  });
});
