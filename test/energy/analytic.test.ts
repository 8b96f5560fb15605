import { describe, expect, it } from 'vitest';
import {
  gaussian, gaussianMixture, gmm08, doubleWell, banana, ring, funnel, analyticEnergies, EnergyParamsError,
  energyAndGrad, logDensityFromEnergy, scoreFromEnergy, type AnalyticEnergy,
} from '../../src/energy/index.js';
import { Tensor, grad, sum, tensor } from '../../src/tensor/index.js';
import { key } from '../../src/random/index.js';
import { gridLogZ } from '../../src/eval/gridLogZ.js';

function det(n: number, d: number, scale = 2, seed = 1): Tensor {
  const out = new Float64Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = scale * (2 * (((i + 1) * 0.6180339887498949 * seed + 0.17) % 1) - 1);
  return new Tensor(out, [n, d]);
}

const energies: [string, AnalyticEnergy][] = [
  ['gaussian', gaussian({ mean: [1, -0.5, 0.2], cov: [[2, 0.3, 0.1], [0.3, 1, -0.2], [0.1, -0.2, 0.5]] })],
  ['gmm', gaussianMixture({ means: [[0, 1, 0], [2, -1, 1]], covs: [[[1, 0.2, 0], [0.2, 1, 0], [0, 0, 0.5]], [[0.5, 0, 0], [0, 2, 0.4], [0, 0.4, 1]]], weights: [1, 3] })],
  ['gmm08', gmm08(2)],
  ['doublewell', doubleWell({ dim: 3, barrier: 3, center: 1.2, std: 0.7 })],
  ['banana', banana({ dim: 3, curvature: 0.7, mean1: 0.3, std1: 1.2, std2: 0.8 })],
  ['ring', ring({ dim: 3, radius: 2, std: 0.4 })],
  ['funnel', funnel({ dim: 4, scale: 1.5 })],
];

describe.each(energies)('%s', (_name, E) => {
  it('analytic score equals −∇E from autodiff (float64), and energies are one per row', () => {
    const x = det(5, E.dim);
    const auto = grad((y: Tensor) => sum(E.energy(y)))(x);
    const sc = E.score(x);
    expect(sc.shape).toEqual([5, E.dim]);
    expect(E.energy(x).shape).toEqual([5]);
    for (let i = 0; i < sc.size; i++) expect(sc.data[i]).toBeCloseTo(-auto.data[i], 9);
  });
  it('works in float32 too', () => {
    const x = new Tensor(new Float32Array(det(3, E.dim).data), [3, E.dim]);
    expect(E.energy(x).dtype).toBe('float32');
    expect(E.score(x).dtype).toBe('float32');
  });
  it.runIf(E.sample !== undefined && E.mean !== undefined)('exact samples match the closed-form mean within 4 standard errors', () => {
    const n = 20000;
    const s = E.sample!(key(3), n, 'float64');
    const mu = E.mean!();
    const cov = E.covariance?.();
    for (let j = 0; j < E.dim; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += s.data[i * E.dim + j];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (s.data[i * E.dim + j] - m) ** 2;
      v /= n - 1;
      expect(Math.abs(m - mu[j])).toBeLessThan(4 * Math.sqrt(v / n));
      if (cov) expect(v).toBeGreaterThan(0.8 * cov[j * E.dim + j]);
      if (cov && _name !== 'funnel') expect(v).toBeLessThan(1.2 * cov[j * E.dim + j]);
    }
  });
});

describe('log Z', () => {
  it('Gaussian log Z is (d/2) log 2π + ½ log det Σ', () => {
    const g = gaussian({ mean: [0, 0], cov: [[2, 0.5], [0.5, 1]] });
    expect(g.logZ()).toBeCloseTo(Math.log(2 * Math.PI) + 0.5 * Math.log(1.75), 12);
  });
  it('ring in 2-D matches the closed form 2πσ[σ e^{−r²/2σ²} + r√(π/2)(1 + erf(r/σ√2))]', () => {
    // erf(r/(σ√2)) for r = 3, σ = 0.3 is 1 − O(1e-23): 1 to double precision.
    const r = 3, s = 0.3;
    const exact = Math.log(2 * Math.PI * s * (s * Math.exp(-(r * r) / (2 * s * s)) + r * Math.sqrt(Math.PI / 2) * 2));
    expect(ring({ radius: r, std: s }).logZ()).toBeCloseTo(exact, 10);
  });
  it.each([
    ['doublewell', doubleWell({ barrier: 2 })],
    ['banana', banana({ curvature: 0.5 })],
    ['ring', ring({ radius: 2, std: 0.5 })],
    ['gaussian', gaussian({ mean: [0.5, -1], cov: [[1, 0.6], [0.6, 2]] })],
  ] as const)('%s in 2-D agrees with grid quadrature to 1e-6', (_n, E) => {
    const box = E.name === 'banana' ? ([[-8, 8], [-8, 40]] as const) : ([[-14, 14], [-14, 14]] as const);
    const g = gridLogZ(E, { box, points: 1024 });
    expect(g.errorEstimate).toBeLessThan(1e-6);
    expect(g.boundaryRatio).toBeLessThan(1e-12);
    expect(Math.abs(g.logZ - E.logZ())).toBeLessThan(1e-6);
  });
});

describe('conventions', () => {
  const E = gaussian({ mean: [1, 2], cov: [[1, 0], [0, 4]] });
  const x = tensor([[0, 0], [1, 2], [3, -1]], undefined, 'float64');
  it('logDensityFromEnergy is −E/T and scoreFromEnergy is −∇E/T', () => {
    const e = E.energy(x);
    const ld = logDensityFromEnergy(E, 2).logDensity(x);
    for (let i = 0; i < 3; i++) expect(ld.data[i]).toBeCloseTo(-e.data[i] / 2, 12);
    const sc = scoreFromEnergy(E, 2).score(x);
    const ex = E.score(x);
    for (let i = 0; i < 6; i++) expect(sc.data[i]).toBeCloseTo(ex.data[i] / 2, 12);
    expect(() => logDensityFromEnergy(E, 0)).toThrow(/temperature/);
  });
  it('energyAndGrad returns per-row energies and gradients without autodiff history', () => {
    const { energy, grad: g } = energyAndGrad(E, x);
    expect(energy.shape).toEqual([3]);
    expect(g.shape).toEqual([3, 2]);
    expect(energy.requiresGrad || g.requiresGrad).toBe(false);
    expect(g.data[2]).toBeCloseTo(0, 12); // row 1 is the mean
    expect(() => energyAndGrad(E, tensor([[1, 2, 3]]))).toThrow(/expected x of shape \[n, 2\], got \[1, 3\]/);
  });
});

describe('analyticEnergies registry', () => {
  it('builds each energy from JSON', () => {
    const g = analyticEnergies.gmm(JSON.parse('{"means": [[-2, 0], [2, 0]], "std": 0.5, "weights": [1, 1]}'));
    expect(g.dim).toBe(2);
    expect(g.logZ()).toBeCloseTo(Math.log(2 * Math.PI), 12);
    for (const name of ['doublewell', 'banana', 'ring', 'funnel'] as const) expect(analyticEnergies[name]({}).name).toBe(name);
    expect(analyticEnergies.gaussian({ mean: [0, 0, 0] }).dim).toBe(3);
  });
  it('rejects bad parameters with one clear error naming the field', () => {
    expect(() => analyticEnergies.gaussian({ mean: [0, 0], cov: [[1, 2], [2, 1]] })).toThrow(/gaussian: "cov" is not positive definite/);
    expect(() => analyticEnergies.gaussian({ mean: [0, 0], cov: [[1, 0]] })).toThrow(/"cov" must be a 2×2 matrix/);
    expect(() => analyticEnergies.gaussian({ mean: [0, 'a'] })).toThrow(/"mean"\[1\] must be a finite number/);
    expect(() => analyticEnergies.gaussian({ mean: [0], sigma: 1 })).toThrow(/unknown parameter "sigma"/);
    expect(() => analyticEnergies.gaussian([1, 2])).toThrow(/must be a JSON object/);
    expect(() => analyticEnergies.gmm({ means: [[0], [1]], std: 1, covs: [[[1]], [[1]]] })).toThrow(/either "covs" or "std"/);
    expect(() => analyticEnergies.gmm({ means: [[0], [1, 2]] })).toThrow(/"means"\[1\] must have 1 entries/);
    expect(() => analyticEnergies.gmm({ means: [[0], [1]], weights: [1, -1] })).toThrow(/"weights"\[1\] must be > 0/);
    expect(() => analyticEnergies.funnel({ dim: 1 })).toThrow(/"dim" must be ≥ 2/);
    expect(() => analyticEnergies.ring({ std: 0 })).toThrow(EnergyParamsError);
  });
});
