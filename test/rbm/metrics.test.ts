import { describe, expect, it } from 'vitest';
import { createRBM, exactLogZ, type RBMParams } from '../../src/models/rbm/index.js';
import { averageLogLikelihood, freeEnergyGap, pseudoLogLikelihood, reconstructionError } from '../../src/models/rbm/metrics.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { key, normalArray, split } from '../../src/random/index.js';
import { allBinary, allOneHot, bruteLogPv } from './helpers.js';

function model(nv: number, nh: number, seed: number, softmaxK?: number): RBMParams {
  const [k1, k2] = split(key(seed), 2);
  return createRBM({ nVisible: nv, nHidden: nh, key: k1, weightScale: 1, dtype: 'float64', visibleBias: Array.from(normalArray(k2, nv, 'float64')),
    ...(softmaxK ? { visible: 'softmax' as const, categories: softmaxK } : {}) });
}

describe('RBM metrics', () => {
  it('average log-likelihood with exact log Z equals the brute-force mean log p(v); protocol is stamped', () => {
    const p = model(5, 3, 1);
    const vs = allBinary(5);
    const lp = bruteLogPv(p, vs);
    const r = averageLogLikelihood(p, new Tensor(Float64Array.from(vs.flat()), [32, 5]), exactLogZ(p), { logZMethod: 'exact', binarisation: 'none' });
    expect(r.mean).toBeCloseTo(lp.reduce((s, x) => s + x, 0) / 32, 10);
    expect(r.protocol).toEqual({ logZMethod: 'exact', binarisation: 'none' });
    expect(r.stderr).toBeGreaterThan(0);
    // p sums to one over all states
    expect(lp.reduce((s, x) => s + Math.exp(x), 0)).toBeCloseTo(1, 12);
  });

  it('exact PLL = Σ_i log p(v_i | v_−i) computed by brute force; softmax groups too', () => {
    for (const [p, vs] of [[model(5, 3, 2), allBinary(5)], [model(6, 3, 3, 3), allOneHot(2, 3)]] as const) {
      const nv = p.W.shape[0];
      const lp = bruteLogPv(p, vs);
      const idx = new Map(vs.map((v, t) => [v.join(''), t]));
      const rows = vs.slice(0, 9);
      const r = pseudoLogLikelihood(p, new Tensor(Float64Array.from(rows.flat()), [rows.length, nv]));
      const K = p.categories;
      rows.forEach((v, t) => {
        let want = 0;
        if (K === 1) {
          for (let i = 0; i < nv; i++) {
            const f = v.slice(); f[i] = 1 - f[i];
            const a = lp[idx.get(v.join(''))!], b = lp[idx.get(f.join(''))!];
            want += a - Math.log(Math.exp(a) + Math.exp(b));
          }
        } else {
          for (let g = 0; g < nv; g += K) {
            const alts = [...Array(K).keys()].map((k) => { const f = v.slice(); for (let q = 0; q < K; q++) f[g + q] = q === k ? 1 : 0; return lp[idx.get(f.join(''))!]; });
            want += lp[idx.get(v.join(''))!] - Math.log(alts.reduce((s, x) => s + Math.exp(x), 0));
          }
        }
        expect(r.perRow[t]).toBeCloseTo(want, 9);
      });
      expect(r.perDimension).toBeCloseTo(r.mean / (K === 1 ? nv : nv / K), 12);
    }
  });

  it("sklearn-convention PLL is an unbiased estimate of the exact PLL (mean over many rows within 4 SE)", () => {
    const p = model(6, 4, 4);
    const N = 20000;
    const v = new Float64Array(N * 6);
    for (let r = 0; r < N; r++) v[r * 6 + (r % 6)] = 1; // six distinct rows, repeated
    const x = new Tensor(v, [N, 6]);
    const exact = pseudoLogLikelihood(p, x).mean;
    const sk = pseudoLogLikelihood(p, x, { mode: 'sklearn', key: key(5) });
    let m = 0, s2 = 0;
    for (const y of sk.perRow) { m += y / N; }
    for (const y of sk.perRow) s2 += (y - m) ** 2 / (N - 1);
    expect(Math.abs(sk.mean - exact)).toBeLessThan(4 * Math.sqrt(s2 / N));
    expect(() => pseudoLogLikelihood(p, x, { mode: 'sklearn' })).toThrow(/key/);
  });

  it('free-energy gap and reconstruction error', () => {
    const p = model(5, 3, 6);
    const a = new Tensor(Float64Array.from(allBinary(5).slice(0, 16).flat()), [16, 5]);
    const b = new Tensor(Float64Array.from(allBinary(5).slice(16).flat()), [16, 5]);
    const g = freeEnergyGap(p, a, b);
    expect(g.gap).toBeCloseTo(g.heldOut - g.train, 12);
    // log-likelihood difference of the two sets = −gap
    const la = averageLogLikelihood(p, a, 0).mean, lb = averageLogLikelihood(p, b, 0).mean;
    expect(lb - la).toBeCloseTo(-g.gap, 10);
    const e = reconstructionError(p, a);
    expect(e).toBeGreaterThan(0);
    expect(e).toBeLessThan(1);
    expect(reconstructionError(p, a, { key: key(7) })).toBeGreaterThan(0);
  });
});
