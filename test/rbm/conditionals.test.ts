import { describe, expect, it } from 'vitest';
import {
  createRBM, exactLogZ, gibbsSample, hiddenProbabilities, sampleHidden, sampleVisible, visibleMean, freeEnergy, energy,
  type RBMParams,
} from '../../src/models/rbm/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { key, normalArray, split } from '../../src/random/index.js';
import { allBinary, allOneHot, lse, negEnergy } from './helpers.js';

function tiny(visible: 'bernoulli' | 'softmax' | 'gaussian', nv: number, nh: number, seed: number, scale = 1, K?: number): RBMParams {
  const [k1, k2, k3] = split(key(seed), 3);
  return createRBM({
    visible, nVisible: nv, nHidden: nh, key: k1, weightScale: scale, dtype: 'float64',
    ...(K ? { categories: K } : {}), ...(visible === 'gaussian' ? { sigma: Array.from({ length: nv }, (_, i) => 0.5 + 0.3 * i) } : {}),
    visibleBias: Array.from(normalArray(k2, nv, 'float64')), hiddenBias: Array.from(normalArray(k3, nh, 'float64')),
  });
}

/** Gaussian −E(v,h) from the definition. */
function gaussNegEnergy(p: RBMParams, v: number[], h: number[]): number {
  const [nv, nh] = p.W.shape;
  let e = 0;
  for (let i = 0; i < nv; i++) {
    const s2 = Math.exp(p.logVar!.data[i]);
    e -= (v[i] - p.b.data[i]) ** 2 / (2 * s2);
    for (let j = 0; j < nh; j++) e += (v[i] / s2) * p.W.data[i * nh + j] * h[j];
  }
  for (let j = 0; j < nh; j++) e += p.c.data[j] * h[j];
  return e;
}

describe('RBM conditionals vs brute-force enumeration', () => {
  it('p(h_j = 1 | v) matches Σ_h h_j e^{−E} / Σ_h e^{−E} (Bernoulli, softmax and Gaussian visible units)', () => {
    const cases: [RBMParams, number[][], (p: RBMParams, v: number[], h: number[]) => number][] = [
      [tiny('bernoulli', 5, 4, 1), allBinary(5).slice(3, 12), negEnergy],
      [tiny('softmax', 6, 3, 2, 1, 3), allOneHot(2, 3), negEnergy],
      [tiny('gaussian', 3, 4, 3), [[0.2, -1, 2], [1.5, 0.3, -0.7]], gaussNegEnergy],
    ];
    for (const [p, vs, ne] of cases) {
      const nh = p.W.shape[1];
      const ph = hiddenProbabilities(p, new Tensor(Float64Array.from(vs.flat()), [vs.length, p.W.shape[0]])).data;
      const hs = allBinary(nh);
      vs.forEach((v, r) => {
        const lw = hs.map((h) => ne(p, v, h));
        const z = lse(lw);
        for (let j = 0; j < nh; j++) {
          const want = hs.reduce((s, h, t) => s + h[j] * Math.exp(lw[t] - z), 0);
          expect(ph[r * nh + j]).toBeCloseTo(want, 10);
        }
      });
      // Free energy of the Gaussian model too: F(v) = −log Σ_h e^{−E(v,h)}.
      const F = freeEnergy(p, new Tensor(Float64Array.from(vs.flat()), [vs.length, p.W.shape[0]])).data;
      vs.forEach((v, r) => expect(F[r]).toBeCloseTo(-lse(hs.map((h) => ne(p, v, h))), 9));
      const E = energy(p, new Tensor(Float64Array.from(vs[0]), [1, vs[0].length]), new Tensor(Float64Array.from(hs[3]), [1, nh])).data[0];
      expect(E).toBeCloseTo(-ne(p, vs[0], hs[3]), 10);
    }
  });

  it('E[v | h] matches brute force: Bernoulli sigmoid, softmax per group, Gaussian mean b + Wh', () => {
    const hs = allBinary(3);
    const H = new Tensor(Float64Array.from(hs.flat()), [hs.length, 3]);
    const pb = tiny('bernoulli', 4, 3, 4);
    const mb = visibleMean(pb, H).data;
    const vsB = allBinary(4);
    hs.forEach((h, r) => {
      const lw = vsB.map((v) => negEnergy(pb, v, h));
      const z = lse(lw);
      for (let i = 0; i < 4; i++) expect(mb[r * 4 + i]).toBeCloseTo(vsB.reduce((s, v, t) => s + v[i] * Math.exp(lw[t] - z), 0), 10);
    });
    const ps = tiny('softmax', 6, 3, 5, 1, 3);
    const ms = visibleMean(ps, H).data;
    const vsS = allOneHot(2, 3);
    hs.forEach((h, r) => {
      const lw = vsS.map((v) => negEnergy(ps, v, h));
      const z = lse(lw);
      for (let i = 0; i < 6; i++) expect(ms[r * 6 + i]).toBeCloseTo(vsS.reduce((s, v, t) => s + v[i] * Math.exp(lw[t] - z), 0), 10);
    });
    const pg = tiny('gaussian', 2, 3, 6);
    const mg = visibleMean(pg, H).data;
    hs.forEach((h, r) => {
      for (let i = 0; i < 2; i++) {
        let m = pg.b.data[i];
        for (let j = 0; j < 3; j++) m += pg.W.data[i * 3 + j] * h[j];
        expect(mg[r * 2 + i]).toBeCloseTo(m, 12);
      }
    });
  });

  it('Gaussian visible samples have mean b + Wh and variance σ² (within Monte Carlo error)', () => {
    const p = tiny('gaussian', 3, 2, 7);
    const N = 20000;
    const h = new Float64Array(N * 2);
    for (let r = 0; r < N; r++) h[r * 2] = 1;
    const { sample } = sampleVisible(p, new Tensor(h, [N, 2]), key(8));
    for (let i = 0; i < 3; i++) {
      const s2 = Math.exp(p.logVar!.data[i]);
      const mu = p.b.data[i] + p.W.data[i * 2];
      let m = 0, v = 0;
      for (let r = 0; r < N; r++) m += sample.data[r * 3 + i] / N;
      for (let r = 0; r < N; r++) v += (sample.data[r * 3 + i] - m) ** 2 / (N - 1);
      expect(Math.abs(m - mu)).toBeLessThan(4 * Math.sqrt(s2 / N));
      expect(Math.abs(v - s2)).toBeLessThan(4 * s2 * Math.sqrt(2 / N));
    }
  });

  it('hidden samples follow p(h|v) (Monte Carlo)', () => {
    const p = tiny('bernoulli', 4, 3, 9);
    const N = 20000;
    const v = new Float64Array(N * 4).fill(1);
    const { prob, sample } = sampleHidden(p, new Tensor(v, [N, 4]), key(10));
    for (let j = 0; j < 3; j++) {
      const pj = prob.data[j];
      let f = 0;
      for (let r = 0; r < N; r++) f += sample.data[r * 3 + j] / N;
      expect(Math.abs(f - pj)).toBeLessThan(4 * Math.sqrt((pj * (1 - pj)) / N));
    }
  });

  it('block Gibbs reaches the exact p(v) (Bernoulli and softmax), within 4 binomial standard errors per state', () => {
    const models: [RBMParams, number[][], number][] = [
      [tiny('bernoulli', 4, 3, 11, 1), allBinary(4), 4],
      [tiny('softmax', 6, 3, 12, 1, 3), allOneHot(2, 3), 6],
    ];
    for (const [p, vs, nv] of models) {
      const N = 20000;
      const init = new Float64Array(N * nv);
      for (let r = 0; r < N; r++) for (let i = 0; i < nv; i++) init[r * nv + i] = vs[0][i];
      const { v } = gibbsSample(p, new Tensor(init, [N, nv]), key(13), 40);
      const logZ = exactLogZ(p);
      const F = freeEnergy(p, new Tensor(Float64Array.from(vs.flat()), [vs.length, nv])).data;
      const counts = new Map<string, number>();
      for (let r = 0; r < N; r++) {
        const s = Array.from(v.data.subarray(r * nv, (r + 1) * nv)).join('');
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
      let total = 0;
      vs.forEach((cfg, t) => {
        const pv = Math.exp(-F[t] - logZ);
        total += pv;
        const f = (counts.get(cfg.join('')) ?? 0) / N;
        expect(Math.abs(f - pv)).toBeLessThan(4 * Math.sqrt((pv * (1 - pv)) / N) + 1e-4);
      });
      expect(total).toBeCloseTo(1, 10);
    }
  });
});
