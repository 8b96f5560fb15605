import { describe, expect, it } from 'vitest';
import { ess, essMultiChain, splitRhat, mcse, chainsOf, acceptanceRate, meanEnergyTrace, summarizeChains } from '../../src/eval/diagnostics.js';
import { key, normal, normalArray, split } from '../../src/random/index.js';
import { Tensor } from '../../src/tensor/index.js';

/** Stationary AR(1): x_t = ρ x_{t−1} + √(1 − ρ²) ε_t, started from N(0, 1). */
function ar1(rho: number, n: number, seed: number, shift = 0): Float64Array {
  const e = normalArray(key(seed), n, 'float64');
  const x = new Float64Array(n);
  x[0] = e[0];
  const s = Math.sqrt(1 - rho * rho);
  for (let t = 1; t < n; t++) x[t] = rho * x[t - 1] + s * e[t];
  for (let t = 0; t < n; t++) x[t] += shift;
  return x;
}

describe('ESS against AR(1) chains, whose ESS is n(1 − ρ)/(1 + ρ)', () => {
  // The estimator's relative sd is ≈ √(2(2M+1)/n)·(…) for truncation lag M; with n = 1e5 it is a few percent at
  // ρ = 0.9 (M ≈ 40), so 15 % is a ≥ 4-sd band for every ρ below.
  it.each([0, 0.5, 0.9, -0.5])('ρ = %s', (rho) => {
    const n = 100000;
    const truth = (n * (1 - rho)) / (1 + rho);
    const got = ess(ar1(rho, n, 7 + Math.round(rho * 10)));
    expect(Math.abs(got / truth - 1), `ESS ${got.toFixed(0)} vs ${truth.toFixed(0)}`).toBeLessThan(0.15);
  });
  it('multi-chain ESS adds chains of an AR(1)', () => {
    const rho = 0.8;
    const n = 20000;
    const chains = [1, 2, 3, 4].map((s) => ar1(rho, n, 100 + s));
    const truth = (4 * n * (1 - rho)) / (1 + rho);
    const got = essMultiChain(chains);
    expect(Math.abs(got / truth - 1), `ESS ${got.toFixed(0)} vs ${truth.toFixed(0)}`).toBeLessThan(0.15);
  });
  it('chains stuck at different levels have low multi-chain ESS and R̂ ≫ 1', () => {
    const good = [1, 2, 3, 4].map((s) => ar1(0.5, 4000, 200 + s));
    const bad = [1, 2, 3, 4].map((s) => ar1(0.5, 4000, 300 + s, s % 2 ? 3 : -3));
    expect(splitRhat(good)).toBeLessThan(1.01);
    expect(splitRhat(bad)).toBeGreaterThan(1.5);
    expect(essMultiChain(bad)).toBeLessThan(0.05 * essMultiChain(good));
  });
  it('split-R̂ detects a trend within chains', () => {
    const trend = [1, 2].map((s) => Float64Array.from(ar1(0.3, 2000, 400 + s), (v, t) => v + t / 200));
    expect(splitRhat(trend)).toBeGreaterThan(1.2);
  });
  it('MCSE of iid draws is sd/√n', () => {
    const ks = split(key(9), 4);
    const chains = ks.map((k) => normalArray(k, 5000, 'float64'));
    const s = mcse(chains);
    expect(Math.abs(s.ess / 20000 - 1)).toBeLessThan(0.1);
    expect(Math.abs(s.mcse - s.sd / Math.sqrt(20000)) / s.mcse).toBeLessThan(0.06);
  });
  it('rejects constant, short, ragged or non-finite input', () => {
    expect(() => ess(new Float64Array(10).fill(1))).toThrow(/constant/);
    expect(() => ess([1, 2])).toThrow(/at least 4/);
    expect(() => ess([1, 2, NaN, 4, 5])).toThrow(/draw 2 is not finite/);
    expect(() => essMultiChain([new Float64Array(10), new Float64Array(11)])).toThrow(/chain 1 has 11 draws/);
  });
});

describe('helpers', () => {
  it('chainsOf splits [kept, chains, d] samples per chain', () => {
    const s = new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2]);
    const c = chainsOf(s, (r) => r[0] + r[1]);
    expect(Array.from(c[0])).toEqual([3, 11]);
    expect(Array.from(c[1])).toEqual([7, 15]);
  });
  it('acceptanceRate and meanEnergyTrace average their inputs', () => {
    expect(acceptanceRate([{ acceptanceProb: Float64Array.from([1, 0]) }, { acceptanceProb: Float64Array.from([0.5, 0.5]) }])).toBe(0.5);
    expect(Array.from(meanEnergyTrace([Float64Array.from([1, 3]), Float64Array.from([2, 2])]))).toEqual([2, 2]);
  });
});

describe('summarizeChains (what ebm sample --energy reports)', () => {
  it('mean and covariance of all draws, per-coordinate ESS/R̂/MCSE as the chain diagnostics give them; null for a constant coordinate', () => {
    const kept = 400, C = 4;
    const z = normal(key(21), [kept, C, 2], { dtype: 'float64' }).data;
    const data = new Float64Array(kept * C * 3);
    for (let r = 0; r < kept * C; r++) {
      data[3 * r] = z[2 * r];
      data[3 * r + 1] = 0.5 * z[2 * r] + z[2 * r + 1];
      data[3 * r + 2] = 7; // never moves
    }
    const samples = new Tensor(data, [kept, C, 3]);
    const s = summarizeChains(samples);
    const N = kept * C;
    const m0 = Array.from({ length: N }, (_, r) => data[3 * r]).reduce((a, b) => a + b, 0) / N;
    expect(s.mean[0]).toBeCloseTo(m0, 12);
    expect(s.mean[2]).toBeCloseTo(7, 10);
    // Cov of (x, 0.5x + y) for x, y ~ N(0, 1): [[1, 0.5], [0.5, 1.25]] within 4 standard errors (≈ √(2/N)·scale).
    expect(Math.abs(s.cov[0][0] - 1)).toBeLessThan(4 * Math.sqrt(2 / N));
    expect(Math.abs(s.cov[0][1] - 0.5)).toBeLessThan(4 * Math.sqrt(1.25 / N + 0.25 / N));
    expect(s.cov[1][0]).toBe(s.cov[0][1]);
    const ch = chainsOf(samples, (row) => row[1]);
    expect(s.ess[1]).toBe(essMultiChain(ch));
    expect(s.rhat[1]).toBe(splitRhat(ch));
    expect(s.mcse[1]).toBeCloseTo(Math.sqrt(s.cov[1][1] / s.ess[1]!), 12);
    expect([s.ess[2], s.rhat[2], s.mcse[2]]).toEqual([null, null, null]);
  });
});
