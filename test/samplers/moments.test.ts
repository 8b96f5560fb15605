import { describe, expect, it } from 'vitest';
import { gaussian, gaussianMixture, type AnalyticEnergy } from '../../src/energy/index.js';
import {
  ula, mala, hmc, annealedLangevin, geometricSigmas, parallelTempering, sample, blockGibbs, type SamplingAlgorithm, type BaseInfo,
} from '../../src/samplers/index.js';
import { key, normal, uniform } from '../../src/random/index.js';
import { Tensor, add, mul, concat } from '../../src/tensor/index.js';
import { acceptanceRate } from '../../src/eval/diagnostics.js';
import { expectMeans, expectSecondMoments } from './helpers.js';

const corr = gaussian({ mean: [1, -1], cov: [[1, 0.8], [0.8, 1]] });
// Overlapping 2-D mixture (mixes for local samplers): mean (0.6, 0.7).
const mix = gaussianMixture({ means: [[-1.5, 0], [1.5, 1]], std: 1, weights: [0.3, 0.7] });
const CHAINS = 64;

type Alg = SamplingAlgorithm<unknown, BaseInfo>;
const cases: [string, (e: AnalyticEnergy) => Alg, number, number][] = [
  // name, factory, steps, burn-in
  ['ula', (e) => ula(e, { stepSize: 0.02 }) as Alg, 3000, 500],
  ['mala', (e) => mala(e, { stepSize: 0.15 }) as Alg, 2000, 300],
  ['hmc', (e) => hmc(e, { stepSize: 0.25, leapfrogSteps: 5 }) as Alg, 800, 100],
  ['pt', (e) => parallelTempering(e, { temperatures: [1, 2, 4], stepSize: 0.15 }) as Alg, 1500, 300],
  // After the anneal (5 levels × 40 steps) chains run ULA on the σ = 0.3 smoothed target, whose mean is the target's.
  ['annealed', (e) => annealedLangevin((s) => e.smoothed!(s), { sigmas: geometricSigmas(3, 0.3, 5), stepsPerLevel: 40, stepSize: 0.03 }) as Alg, 2700, 200],
  ['annealed (score family)', (e) => annealedLangevin({ score: (s) => (x) => e.smoothed!(s).score(x) }, { sigmas: geometricSigmas(3, 0.3, 5), stepsPerLevel: 40, stepSize: 0.03 }) as Alg, 2700, 200],
];

describe.each(cases)('%s: mean within z·MCSE', (name, make, steps, burnIn) => {
  it('on a correlated 2-D Gaussian', () => {
    const res = sample(make(corr), { key: key(11), init: normal(key(12), [CHAINS, 2]), steps, burnIn });
    expect(res.samples.shape).toEqual([steps - burnIn, CHAINS, 2]);
    expectMeans(res.samples, corr.mean!(), `${name}/gaussian`);
  });
  it('on a 2-D Gaussian mixture', () => {
    const res = sample(make(mix), { key: key(21), init: normal(key(22), [CHAINS, 2]), steps, burnIn });
    expectMeans(res.samples, mix.mean!(), `${name}/mixture`);
  });
});

describe('exact samplers also match second moments', () => {
  it.each([
    ['mala', mala(corr, { stepSize: 0.15 }) as Alg, 2000],
    ['hmc', hmc(corr, { stepSize: 0.25, leapfrogSteps: 5 }) as Alg, 800],
  ] as const)('%s on the correlated Gaussian', (name, alg, steps) => {
    const res = sample(alg, { key: key(31), init: normal(key(32), [CHAINS, 2]), steps, burnIn: 200 });
    expectSecondMoments(res.samples, corr.mean!(), corr.covariance!(), [[0, 0], [0, 1], [1, 1]], name);
    expect(acceptanceRate(res.infos as unknown as { acceptanceProb: Float64Array }[])).toBeGreaterThan(0.4);
  });
});

describe('10-D Gaussian (MALA and HMC)', () => {
  const d = 10;
  const mean = Array.from({ length: d }, (_, i) => (i % 3) - 1);
  // Σ = A Aᵀ/d + ½I with a fixed A: correlated, scales between ~0.5 and ~2.
  const A = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => Math.sin(1.7 * i + 0.9 * j + 0.3)));
  const cov = A.map((ri) => A.map((rj) => ri.reduce((s, v, k) => s + v * rj[k], 0) / d + 0));
  for (let i = 0; i < d; i++) cov[i][i] += 0.5;
  const E = gaussian({ mean, cov });
  it.each([
    ['mala', mala(E, { stepSize: 0.08 }) as Alg, 2500],
    ['hmc', hmc(E, { stepSize: 0.2, leapfrogSteps: 8 }) as Alg, 600],
  ] as const)('%s', (name, alg, steps) => {
    const res = sample(alg, { key: key(41), init: normal(key(42), [CHAINS, d]), steps, burnIn: 300 });
    expectMeans(res.samples, E.mean!(), `${name}/10-D`);
    expectSecondMoments(res.samples, E.mean!(), E.covariance!(), [[0, 0], [3, 3], [0, 1], [2, 7]], `${name}/10-D`);
  });
});

describe('block Gibbs', () => {
  const rho = 0.8;
  const sd = Math.sqrt(1 - rho * rho);
  it('samples the correlated 2-D Gaussian from its conditionals', () => {
    // x | y ~ N(1 + ρ(y + 1), 1 − ρ²), y | x ~ N(−1 + ρ(x − 1), 1 − ρ²): the Gaussian with mean (1, −1), ρ = 0.8.
    const alg = blockGibbs<{ x: Tensor; y: Tensor }>({
      blocks: [
        { name: 'x', sample: (k, s) => add(add(mul(add(s.y, 1), rho), 1), normal(k, s.y.shape, { std: sd })) },
        { name: 'y', sample: (k, s) => add(add(mul(add(s.x, -1), rho), -1), normal(k, s.x.shape, { std: sd })) },
      ],
      observe: (s) => concat([s.x, s.y], 1),
    });
    const res = sample(alg, { key: key(51), init: { x: normal(key(52), [CHAINS, 1]), y: normal(key(53), [CHAINS, 1]) }, steps: 1500, burnIn: 100 });
    expect(res.samples.shape).toEqual([1400, CHAINS, 2]);
    expectMeans(res.samples, corr.mean!(), 'gibbs/gaussian');
  });
  it('samples the 2-D mixture with the component label as a block', () => {
    // z | x ∝ wₖ N(x; μₖ, I); x | z ~ N(μ_z, I).
    const [m0, m1] = mix.means;
    const [w0, w1] = mix.weights;
    const alg = blockGibbs<{ x: Tensor; z: Tensor }>({
      blocks: [
        {
          name: 'z',
          sample: (k, s) => {
            const u = uniform(k, [s.x.shape[0]]).data;
            const out = new Float32Array(s.x.shape[0]);
            for (let i = 0; i < out.length; i++) {
              const a = s.x.data[2 * i], b = s.x.data[2 * i + 1];
              const l0 = Math.log(w0) - 0.5 * ((a - m0[0]) ** 2 + (b - m0[1]) ** 2);
              const l1 = Math.log(w1) - 0.5 * ((a - m1[0]) ** 2 + (b - m1[1]) ** 2);
              out[i] = u[i] < 1 / (1 + Math.exp(l0 - l1)) ? 1 : 0;
            }
            return new Tensor(out, [out.length, 1]);
          },
        },
        {
          name: 'x',
          sample: (k, s) => {
            const z = normal(k, s.x.shape).data;
            const out = new Float32Array(z.length);
            for (let i = 0; i < s.z.size; i++) {
              const m = s.z.data[i] ? m1 : m0;
              out[2 * i] = m[0] + z[2 * i];
              out[2 * i + 1] = m[1] + z[2 * i + 1];
            }
            return new Tensor(out, s.x.shape);
          },
        },
      ],
      observe: (s) => s.x,
    });
    const res = sample(alg, { key: key(61), init: { x: normal(key(62), [CHAINS, 2]), z: new Tensor(new Float32Array(CHAINS), [CHAINS, 1]) }, steps: 1500, burnIn: 100 });
    expectMeans(res.samples, mix.mean!(), 'gibbs/mixture');
  });
});
