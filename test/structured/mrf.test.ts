import { describe, expect, it } from 'vitest';
import { key } from '../../src/random/index.js';
import {
  createMRF, isingModel, mrfEnergy, icm, gibbsAnneal, meanField, meanFieldFreeEnergy, localEnergies, type DiscreteMRF,
} from '../../src/structured/index.js';
import { normalArray } from '../../src/random/index.js';

/** A random frustrated model: n variables, K states, all pairs with random tables. */
function randomModel(n: number, K: number, seed: number): DiscreteMRF {
  const u = normalArray(key(seed), n * K, 'float64');
  const edges = [];
  let s = 1;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) edges.push({ i, j, table: Array.from(normalArray(key(seed * 100 + s++), K * K, 'float64')) });
  return createMRF({ nVars: n, states: K, unary: u, edges });
}

function allConfigs(n: number, K: number): number[][] {
  const out: number[][] = [];
  const x = new Array(n).fill(0);
  for (;;) {
    out.push(x.slice());
    let i = 0;
    while (i < n && ++x[i] === K) x[i++] = 0;
    if (i === n) return out;
  }
}

describe('discrete MRF energies', () => {
  it('energy is the sum of unary and pairwise terms; Ising sign convention', () => {
    const m = createMRF({ nVars: 3, states: 2, unary: [0, 1, 2, 0, 0.5, 0.5], edges: [{ i: 0, j: 1, table: [0, 3, -1, 0] }, { i: 1, j: 2, potts: 2 }] });
    expect(mrfEnergy(m, [0, 1, 1])).toBeCloseTo(0 + 0 + 0.5 + 3 + 2, 12);
    expect(mrfEnergy(m, [1, 0, 1])).toBeCloseTo(1 + 2 + 0.5 - 1 + 0, 12);
    const ising = isingModel(2, [{ i: 0, j: 1, J: 1.5 }], [0.25, 0]);
    // E(s) = −J s0 s1 − h0 s0
    expect(mrfEnergy(ising, [1, 1])).toBeCloseTo(-1.5 - 0.25, 12);
    expect(mrfEnergy(ising, [0, 1])).toBeCloseTo(1.5 + 0.25, 12);
  });

  it('local energies give exact energy differences', () => {
    const m = randomModel(5, 3, 1);
    const x = Int32Array.from([0, 2, 1, 1, 0]);
    const le = new Float64Array(3);
    for (let i = 0; i < 5; i++) {
      localEnergies(m, x, i, le);
      for (let k = 0; k < 3; k++) {
        const y = x.slice(); y[i] = k;
        expect(mrfEnergy(m, y) - mrfEnergy(m, x)).toBeCloseTo(le[k] - le[x[i]], 10);
      }
    }
  });

  it('rejects bad input with a clear message', () => {
    expect(() => createMRF({ nVars: 2, states: 2, edges: [{ i: 0, j: 0, potts: 1 }] })).toThrow(/itself/);
    expect(() => createMRF({ nVars: 2, states: 2, edges: [{ i: 0, j: 5, potts: 1 }] })).toThrow(/edge 0/);
    expect(() => createMRF({ nVars: 2, states: 2, unary: [0, NaN, 0, 0] })).toThrow(/unary\[1\]/);
    expect(() => mrfEnergy(createMRF({ nVars: 2, states: 2 }), [0, 2])).toThrow(/x\[1\]/);
  });
});

describe('inference', () => {
  it('ICM stops at a local minimum and never increases the energy', () => {
    const m = randomModel(8, 3, 2);
    const init = [0, 0, 0, 0, 0, 0, 0, 0];
    const r = icm(m, { init });
    expect(r.converged).toBe(true);
    expect(r.energy).toBeLessThanOrEqual(mrfEnergy(m, init) + 1e-12);
    const le = new Float64Array(3);
    for (let i = 0; i < 8; i++) {
      localEnergies(m, r.x, i, le);
      for (let k = 0; k < 3; k++) expect(le[k]).toBeGreaterThanOrEqual(le[r.x[i]] - 1e-12);
    }
  });

  it('annealed Gibbs finds the exact ground state of small frustrated models', () => {
    for (const seed of [3, 4, 5]) {
      const m = randomModel(7, 3, seed);
      let best = Infinity;
      for (const x of allConfigs(7, 3)) best = Math.min(best, mrfEnergy(m, x));
      const r = gibbsAnneal(m, key(seed), { sweeps: 400, tStart: 3, tEnd: 0.02 });
      expect(r.bestEnergy).toBeCloseTo(best, 9);
    }
  });

  it('fixed-temperature Gibbs samples the Boltzmann distribution (frequencies within Monte Carlo error)', () => {
    const m = randomModel(3, 2, 6);
    const T = 1.5;
    const configs = allConfigs(3, 2);
    const w = configs.map((x) => Math.exp(-mrfEnergy(m, x) / T));
    const Z = w.reduce((a, b) => a + b, 0);
    const counts = new Map<string, number>();
    const chains = 400, steps = 30;
    for (let c = 0; c < chains; c++) {
      // independent chains, last state of each: iid draws after burn-in
      const r = gibbsAnneal(m, key(1000 + c), { sweeps: steps, tStart: T, tEnd: T });
      const s = Array.from(r.x).join('');
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    configs.forEach((x, q) => {
      const p = w[q] / Z;
      const f = (counts.get(x.join('')) ?? 0) / chains;
      const se = Math.sqrt((p * (1 - p)) / chains);
      expect(Math.abs(f - p)).toBeLessThan(4.5 * se + 1e-9);
    });
  });

  it('mean field: exact without couplings, free energy decreases and bounds −T log Z', () => {
    const free = createMRF({ nVars: 2, states: 3, unary: [0, 1, 2, 2, 0, 1] });
    const r0 = meanField(free, { temperature: 1 });
    const z0 = 1 + Math.exp(-1) + Math.exp(-2);
    expect(r0.q[0]).toBeCloseTo(1 / z0, 12);
    expect(r0.q[4]).toBeCloseTo(1 / z0, 12);

    const m = randomModel(6, 2, 7);
    const T = 1;
    let logZ = 0;
    const es = allConfigs(6, 2).map((x) => -mrfEnergy(m, x) / T);
    const mx = Math.max(...es);
    logZ = mx + Math.log(es.reduce((a, e) => a + Math.exp(e - mx), 0));
    let prev = Infinity;
    for (const iters of [1, 2, 3, 5, 10, 50]) {
      const r = meanField(m, { temperature: T, maxIters: iters, tol: 0 });
      expect(r.freeEnergy).toBeLessThanOrEqual(prev + 1e-9);
      prev = r.freeEnergy;
      expect(r.freeEnergy).toBeGreaterThanOrEqual(-T * logZ - 1e-9);
      expect(meanFieldFreeEnergy(m, r.q, T)).toBeCloseTo(r.freeEnergy, 12);
    }
  });
});
