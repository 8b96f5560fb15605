import { describe, expect, it } from 'vitest';
import { gridLogZ } from '../../src/eval/gridLogZ.js';
import { gaussianMixture, gmm08, mlpEnergy, initMlpEnergy } from '../../src/energy/index.js';
import { key } from '../../src/random/index.js';

describe('gridLogZ', () => {
  const mix = gaussianMixture({
    means: [[-2, 0], [2, 1], [0, -2]],
    covs: [[[1, 0.5], [0.5, 1]], [[0.5, 0], [0, 2]], [[0.3, -0.1], [-0.1, 0.4]]],
    weights: [0.5, 0.3, 0.2],
  });
  it('matches the analytic log Z of a mixture within 1e-3 (given box)', () => {
    const r = gridLogZ(mix, { box: [[-10, 10], [-10, 10]], points: 256 });
    expect(Math.abs(r.logZ - mix.logZ())).toBeLessThan(1e-3);
    expect(r.errorEstimate).toBeLessThan(1e-3);
    expect(r.boundaryRatio).toBeLessThan(1e-9);
  });
  it('finds the box from samples and flags a box that truncates the mass', () => {
    const s = gmm08(2).sample!(key(1), 2000, 'float64');
    const r = gridLogZ(gmm08(2), { samples: s, points: 256 });
    expect(Math.abs(r.logZ - gmm08(2).logZ())).toBeLessThan(1e-3);
    const cut = gridLogZ(mix, { box: [[-2, 2], [-2, 2]], points: 64 });
    expect(cut.boundaryRatio).toBeGreaterThan(1e-3);
    expect(cut.logZ).toBeLessThan(mix.logZ());
  });
  it('at temperature T integrates exp(−E/T)', () => {
    // Isotropic unit Gaussian: E = ½‖x‖², so ∫exp(−E/T) dx = 2πT.
    const g = gaussianMixture({ means: [[0, 0]], std: 1 });
    const r = gridLogZ(g, { box: [[-15, 15], [-15, 15]], points: 256, temperature: 2 });
    expect(r.logZ).toBeCloseTo(Math.log(2 * Math.PI * 2), 6);
  });
  it('works for neural energies and rejects non-2-D ones', () => {
    const E = mlpEnergy(initMlpEnergy(key(2), { dim: 2, hidden: [8], dtype: 'float64' }));
    const quad = { dim: 2, energy: (x: Parameters<typeof E.energy>[0]) => E.energy(x) };
    expect(Number.isFinite(gridLogZ(quad, { box: [[-1, 1], [-1, 1]], points: 32 }).logZ)).toBe(true);
    expect(() => gridLogZ(gmm08(1), { box: [[-1, 1], [-1, 1]] })).toThrow(/needs a 2-D energy/);
    expect(() => gridLogZ(mix, {})).toThrow(/give a box or samples/);
    expect(() => gridLogZ(mix, { box: [[1, -1], [-1, 1]] })).toThrow(/invalid box/);
  });
});
