import { describe, expect, it } from 'vitest';
import { vpSDE, subVpSDE, veSDE, perturb, integrate, dequantize, bitsPerDim } from '../../src/diffusion/index.js';
import { tensor } from '../../src/tensor/index.js';
import { key } from '../../src/random/index.js';
import { mmd } from '../../src/eval/mmd.js';
import { normal } from '../../src/random/index.js';

describe('forward SDEs', () => {
  const sdes = [vpSDE(), subVpSDE(), veSDE({ sigmaMin: 0.01, sigmaMax: 10 })];
  it.each(sdes.map((s) => [s.description, s] as const))('%s: marginal moments solve the moment ODEs', (_name, sde) => {
    // x_t = m x₀ + σ z with dm/dt = f m and dσ²/dt = 2fσ² + g².
    const h = 1e-5;
    for (const t of [0.05, 0.3, 0.7, 0.95]) {
      const dm = (sde.meanCoef(t + h) - sde.meanCoef(t - h)) / (2 * h);
      expect(dm).toBeCloseTo(sde.driftCoef(t) * sde.meanCoef(t), 5);
      const dv = (sde.std(t + h) ** 2 - sde.std(t - h) ** 2) / (2 * h);
      const want = 2 * sde.driftCoef(t) * sde.std(t) ** 2 + sde.g2(t);
      expect(Math.abs(dv - want) / Math.max(1, Math.abs(want))).toBeLessThan(1e-5);
    }
    expect(sde.std(0)).toBe(0);
    expect(sde.meanCoef(0)).toBe(1);
    expect(Math.abs(sde.std(sde.T) - sde.priorStd) / sde.priorStd).toBeLessThan(0.01);
  });

  it('sub-VP variance never exceeds VP variance', () => {
    const vp = vpSDE();
    const sub = subVpSDE();
    for (let t = 0.01; t <= 1; t += 0.07) expect(sub.std(t)).toBeLessThanOrEqual(vp.std(t) + 1e-15);
  });

  it('perturb draws x_t with the marginal mean and std (Monte Carlo, 4 SE)', () => {
    const sde = vpSDE();
    const n = 4000;
    const x0 = tensor(new Float64Array(n).fill(2), [n, 1], 'float64');
    const t = new Float64Array(n).fill(0.3);
    const { xt } = perturb(sde, x0, t, key(0));
    const m = xt.toArray().reduce((a, b) => a + b, 0) / n;
    const v = xt.toArray().reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1);
    const s = sde.std(0.3);
    expect(Math.abs(m - 2 * sde.meanCoef(0.3))).toBeLessThan((4 * s) / Math.sqrt(n));
    expect(Math.abs(v - s * s)).toBeLessThan(4 * s * s * Math.sqrt(2 / n));
  });

  it('rejects bad parameters', () => {
    expect(() => vpSDE({ betaMin: -1 })).toThrow(/betaMin/);
    expect(() => veSDE({ sigmaMin: 1, sigmaMax: 0.5 })).toThrow(/sigmaMax/);
  });
});

describe('ODE integrators', () => {
  it('RK45 meets its tolerance and Heun is second order on y′ = −y·cos t', () => {
    const f = (t: number, y: Float64Array) => y.map((v) => -v * Math.cos(t));
    const exact = Math.exp(-Math.sin(2));
    const r = integrate(f, Float64Array.of(1), 0, 2, { rtol: 1e-8, atol: 1e-10 });
    expect(Math.abs(r.y[0] - exact)).toBeLessThan(1e-7);
    const back = integrate(f, r.y, 2, 0, { rtol: 1e-8, atol: 1e-10 });
    expect(back.y[0]).toBeCloseTo(1, 6);
    const e1 = Math.abs(integrate(f, Float64Array.of(1), 0, 2, { method: 'heun', steps: 50 }).y[0] - exact);
    const e2 = Math.abs(integrate(f, Float64Array.of(1), 0, 2, { method: 'heun', steps: 100 }).y[0] - exact);
    expect(e1 / e2).toBeGreaterThan(3.5);
    expect(e1 / e2).toBeLessThan(4.5);
  });
});

describe('MMD and bits/dim', () => {
  it('unbiased MMD² averages to 0 for equal distributions and is clearly positive for a shifted one', () => {
    const bw = [0.5, 1, 2];
    const vals = Array.from({ length: 30 }, (_, r) => mmd(normal(key(2 * r), [100, 2], { dtype: 'float64' }), normal(key(2 * r + 1), [100, 2], { dtype: 'float64' }), bw));
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1));
    expect(Math.abs(m)).toBeLessThan((4 * sd) / Math.sqrt(vals.length));
    const shifted = mmd(normal(key(1), [100, 2], { dtype: 'float64', mean: 1 }), normal(key(2), [100, 2], { dtype: 'float64' }), bw);
    expect(shifted).toBeGreaterThan(m + 10 * sd);
    expect(() => mmd(tensor([[1, 2]]), tensor([[1], [2]]), bw)).toThrow(/same d/);
  });

  it('uniform dequantisation: a uniform density on [−1, 1]^D has exactly 8 bits/dim', () => {
    const D = 5;
    const xs = dequantize(key(0), tensor([0, 255, 3, 128, 7], [1, 5]));
    for (const v of xs.toArray()) expect(v >= -1 && v < 1).toBe(true);
    const r = bitsPerDim([-D * Math.log(2)], D);
    expect(r.bitsPerDim).toBeCloseTo(8, 12);
    expect(r.dequantization).toMatch(/uniform dequantisation, 256 bins/);
    expect(() => dequantize(key(0), tensor([256]))).toThrow(/element 0 is 256/);
  });
});

describe('bindScore', () => {
  it('keeps the dependence on x inside vjp, so ODE likelihoods see the score Jacobian', async () => {
    const { bindScore } = await import('../../src/diffusion/index.js');
    const T = await import('../../src/tensor/index.js');
    // s(x, t) = −x·w: a linear score whose Jacobian is −w·I.
    const fn = (p: { w: number }, x: InstanceType<typeof T.Tensor>) => T.mul(x, -p.w);
    const s = bindScore(fn, { w: 2 });
    const x = T.tensor([[1, 2], [3, 4]], undefined, 'float64');
    const [, pull] = T.vjp((z) => s(z, 0.5), x);
    expect(pull(T.tensor([[1, 0], [0, 1]], undefined, 'float64')).toNested()).toEqual([[-2, -0], [-0, -2]]);
    // Outside any transform nothing is recorded.
    expect(s(x, 0.5).requiresGrad).toBe(false);
  });
});
