/**
 * Energy maths that lived in the playground and moved to the library: Gauss–Hermite smoothing (against the exact
 * smoothed Gaussian) and the finite-difference energy of a plain-number log density (against an analytic score).
 */
import { describe, expect, it } from 'vitest';
import { Tensor, tensor, grad, sum } from '../../src/tensor/index.js';
import { key, normal } from '../../src/random/index.js';
import { gaussian, gaussHermiteSmoothed, finiteDifferenceEnergy, banana } from '../../src/energy/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

const g = gaussian({ mean: [0.5, -1], cov: [[1, 0.3], [0.3, 0.8]] });
const x = normal(key(1), [20, 2], { dtype: 'float64' });

describe('gaussHermiteSmoothed', () => {
  it('matches the exact smoothed Gaussian up to a constant (σ small against the target, and σ = 0 is the energy)', () => {
    for (const [sigma, tol] of [[0, 1e-5], [0.2, 1e-3], [0.5, 2e-2]] as const) {
      const approx = gaussHermiteSmoothed(g, sigma).energy(x).data;
      const exact = g.smoothed!(sigma).energy(x).data;
      const c = approx[0] - exact[0];
      for (let i = 0; i < 20; i++) expect(Math.abs(approx[i] - exact[i] - c), `σ = ${sigma}, row ${i}`).toBeLessThan(tol);
    }
  });

  it('is differentiable (annealed Langevin takes its gradient) and refuses bad dims and σ', () => {
    const E = gaussHermiteSmoothed(banana({ dim: 2 }), 0.3);
    const gx = grad((z: Tensor) => sum(E.energy(z)))(x);
    expect(gx.shape).toEqual([20, 2]);
    for (const v of gx.data) expect(Number.isFinite(v)).toBe(true);
    expect(() => gaussHermiteSmoothed(g, -1)).toThrow(InvalidArgumentError);
    expect(() => gaussHermiteSmoothed({ dim: [28, 28], energy: (z) => z }, 0.1)).toThrow(InvalidArgumentError);
  });
});

describe('finiteDifferenceEnergy', () => {
  it('is −log p with the gradient of the analytic energy to O(h²)', () => {
    const logp = (pts: Float64Array): Float64Array => {
      const e = g.energy(tensor(pts, [pts.length / 2, 2], 'float64')).data;
      return Float64Array.from(e, (v) => -v);
    };
    const E = finiteDifferenceEnergy(logp, 2, 1e-4);
    expect(Array.from(E.energy(x).data)).toEqual(Array.from(g.energy(x).data));
    const fd = grad((z: Tensor) => sum(E.energy(z)))(x).data;
    const exact = g.score(x).data;
    for (let i = 0; i < fd.length; i++) expect(Math.abs(fd[i] + exact[i])).toBeLessThan(1e-6);
    expect(() => finiteDifferenceEnergy(logp, 2, 0)).toThrow(InvalidArgumentError);
  });
});
