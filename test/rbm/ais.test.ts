import { describe, expect, it } from 'vitest';
import { BernoulliRBM, createRBM, exactLogZ } from '../../src/models/rbm/index.js';
import { aisLogZ, aisLogZRatio, baseRateBias, linearBetas, salakhutdinovBetas } from '../../src/models/rbm/ais.js';
import { barsAndStripes } from '../../src/data/toy.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { key } from '../../src/random/index.js';

describe('AIS', () => {
  it('β schedules: the default has 14 501 values 0 → 1 with the Salakhutdinov–Murray steps', () => {
    const b = salakhutdinovBetas();
    expect(b.length).toBe(14501);
    expect(b[0]).toBe(0);
    expect(b[b.length - 1]).toBe(1);
    expect(b[1] - b[0]).toBeCloseTo(1e-3, 12);
    expect(b[600] - b[599]).toBeCloseTo(1e-4, 12);
    expect(b[14000] - b[13999]).toBeCloseTo(1e-5, 12);
    expect(salakhutdinovBetas(3000).length).toBe(3001);
    expect(() => aisLogZ(createRBM({ nVisible: 2, nHidden: 2 }), key(0), { betas: [0, 0.7, 0.5, 1] })).toThrow(/non-decreasing/);
  });

  it('agrees with exact log Z on a random RBM (25 visible, 15 hidden) within 0.1 nat and 3 reported σ', () => {
    const p = createRBM({ nVisible: 25, nHidden: 15, key: key(2), weightScale: 0.6 });
    const exact = exactLogZ(p);
    const r = aisLogZ(p, key(1), { betas: salakhutdinovBetas(3000), runs: 100 });
    const err = Math.abs(r.logZ - exact);
    expect(err).toBeLessThan(0.1);
    expect(err).toBeLessThan(3 * r.logZStd);
    expect(r.logZStd).toBeGreaterThan(0);
    expect(r.ess).toBeGreaterThan(1);
    expect(r.ess).toBeLessThanOrEqual(100);
    expect(r.logZLow).toBeLessThan(r.logZ);
    expect(r.logZHigh).toBeGreaterThan(r.logZ);
    expect(r.protocol).toMatchObject({ runs: 100, betas: 3001 });
  }, 20000);

  it('agrees with exact log Z on a PCD-trained bars-and-stripes RBM (16 visible, 16 hidden), base rates from data', () => {
    const P = barsAndStripes(4).patterns;
    // Skew the data (first pattern ×20) so that the base rates are not all ½.
    const rows = [...Array(10).keys()].flatMap(() => [...Array(P.shape[0]).keys()]).concat(Array(20).fill(0));
    const x = new Float32Array(rows.length * 16);
    rows.forEach((s, r) => x.set(P.data.subarray(s * 16, s * 16 + 16), r * 16));
    const X = new Tensor(x, [rows.length, 16]);
    const rbm = new BernoulliRBM({ nHidden: 16, key: 3 }).fit(X, { epochs: 60, batchSize: 20, lr: 0.1, persistent: true, momentum: 0.5 });
    const exact = exactLogZ(rbm.params!);
    const bA = baseRateBias(X);
    expect(bA.some((v) => Math.abs(v) > 0.05)).toBe(true);
    const r = aisLogZ(rbm.params!, key(4), { betas: salakhutdinovBetas(3000), runs: 100, data: X });
    const err = Math.abs(r.logZ - exact);
    expect(err).toBeLessThan(0.1);
    expect(err).toBeLessThan(3 * r.logZStd);
    expect(r.protocol.base).toMatch(/base rates/);
  }, 30000);

  it('log Z ratio between two RBMs matches the exact difference', () => {
    const a = createRBM({ nVisible: 20, nHidden: 10, key: key(5), weightScale: 0.5 });
    const b = createRBM({ nVisible: 20, nHidden: 14, key: key(6), weightScale: 0.5 });
    const r = aisLogZRatio(a, b, key(7), { betas: linearBetas(2000), runs: 100, burnIn: 200 });
    const exact = exactLogZ(b) - exactLogZ(a);
    expect(Math.abs(r.logZ - exact)).toBeLessThan(0.1);
    expect(Math.abs(r.logZ - exact)).toBeLessThan(3 * r.logZStd + 0.02); // + start-sample bias allowance (burn-in)
  }, 20000);

  it('rejects non-Bernoulli models and bad options with clear errors', () => {
    const g = createRBM({ visible: 'gaussian', nVisible: 3, nHidden: 2 });
    expect(() => aisLogZ(g, key(0))).toThrow(/Bernoulli/);
    expect(() => aisLogZ(createRBM({ nVisible: 3, nHidden: 2 }), key(0), { runs: 0 })).toThrow(/runs/);
  });
});
