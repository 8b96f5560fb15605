import { describe, expect, it } from 'vitest';
import { minimiseEnergy, projectBox, projectSimplex, simulatedAnnealing, geometricCooling } from '../../src/inference/index.js';
import { doubleWell, gaussian, gmm08, type Energy } from '../../src/energy/index.js';
import { malaKernel, ulaKernel } from '../../src/samplers/index.js';
import { key, normal } from '../../src/random/index.js';
import { tensor, sum, square, sub, matmul } from '../../src/tensor/index.js';
import { sgd } from '../../src/optim/index.js';

describe('minimiseEnergy', () => {
  const g = gaussian({ mean: [1, -2], cov: [[1, 0.5], [0.5, 2]] });
  it.each(['adam', 'gd'] as const)('%s finds the Gaussian mode from many starts at once', (optimizer) => {
    const r = minimiseEnergy(g, normal(key(1), [8, 2], { std: 3 }), { optimizer, lr: optimizer === 'gd' ? 0.3 : 0.05, steps: 3000, tol: 1e-7 });
    expect(r.converged).toBe(true);
    for (let i = 0; i < 8; i++) {
      expect(r.x.data[2 * i]).toBeCloseTo(1, 3);
      expect(r.x.data[2 * i + 1]).toBeCloseTo(-2, 3);
    }
    expect(r.trace[r.trace.length - 1]).toBeLessThan(r.trace[0]);
  });
  it('accepts any gradient transformation', () => {
    const r = minimiseEnergy(g, tensor([[0, 0]]), { optimizer: sgd(0.2, { momentum: 0.5 }), steps: 2000 });
    expect(r.x.data[0]).toBeCloseTo(1, 3);
  });
  it('box projection: the constrained minimum sits on the boundary (KKT)', () => {
    const r = minimiseEnergy(g, tensor([[0, 0]]), { projection: projectBox(-1, 0.5), steps: 3000, lr: 0.02 });
    expect(r.x.data[0]).toBeCloseTo(0.5, 3);
    expect(r.x.data[1]).toBeCloseTo(-1, 3);
  });
  it('simplex projection: minimum of ‖x − c‖² over the simplex is the projection of c', () => {
    const c = tensor([[0.9, 0.6, -0.2]]);
    const E: Energy = { dim: 3, energy: (x) => sum(square(sub(x, c)), 1) };
    const r = minimiseEnergy(E, tensor([[1 / 3, 1 / 3, 1 / 3]]), { optimizer: 'gd', projection: projectSimplex(), steps: 3000, lr: 0.1 });
    // Projection of (0.9, 0.6, −0.2): θ = (1.5 − 1)/2 = 0.25 → (0.65, 0.35, 0).
    expect(r.x.data[0]).toBeCloseTo(0.65, 3);
    expect(r.x.data[1]).toBeCloseTo(0.35, 3);
    expect(r.x.data[2]).toBeCloseTo(0, 3);
    const p = projectSimplex()(tensor([[0.5, 0.9], [3, -1]]));
    expect(Array.from(p.data).map((v) => +v.toFixed(6))).toEqual([0.3, 0.7, 1, 0]);
  });
  it('throws on a non-finite energy, naming the step', () => {
    const bad: Energy = { dim: 1, energy: (x) => sum(matmul(x, tensor([[Number.NaN]])), 1) };
    expect(() => minimiseEnergy(bad, tensor([[1]]), { steps: 3 })).toThrow(/non-finite energy or gradient at step 0/);
  });
  it('gradient descent gets stuck in the nearest well of a double well', () => {
    const r = minimiseEnergy(doubleWell({ dim: 1, barrier: 4 }), tensor([[-0.1], [0.1]]), { steps: 2000 });
    expect(r.x.data[0]).toBeCloseTo(-1, 3);
    expect(r.x.data[1]).toBeCloseTo(1, 3);
  });
});

describe('simulatedAnnealing', () => {
  it('with a MALA kernel, finds the global (major) minimum of the 0.8/0.2 mixture from the minor basin', () => {
    const E = gmm08();
    const steps = 1500;
    const r = simulatedAnnealing(E, tensor(new Array(16).fill([-5])), {
      key: key(3), steps, schedule: geometricCooling(40, 0.01, steps),
      kernel: (k, s, T) => malaKernel(E, k, s, { stepSize: 0.3 * T, temperature: T }),
    });
    // Global minimum of E = −log(0.8 e^{−(x−5)²/2} + 0.2 e^{−(x+5)²/2}) is at x ≈ 5.
    let atMajor = 0;
    for (let i = 0; i < 16; i++) if (Math.abs(r.best.data[i] - 5) < 0.2) atMajor++;
    expect(atMajor).toBeGreaterThanOrEqual(12);
    expect(Math.min(...r.bestEnergy)).toBeCloseTo(-Math.log(0.8), 2);
  });
  it('works with a ULA kernel too and is deterministic given the key', () => {
    const E = doubleWell({ dim: 2 });
    const run = () => simulatedAnnealing(E, normal(key(4), [4, 2]), {
      key: key(5), steps: 200, schedule: geometricCooling(1, 0.01, 200), kernel: (k, s, T) => ulaKernel(E, k, s, { stepSize: 0.01, temperature: T }),
    });
    const a = run();
    expect(Array.from(a.best.data)).toEqual(Array.from(run().best.data));
    for (const e of a.bestEnergy) expect(e).toBeLessThan(0.1);
  });
});
