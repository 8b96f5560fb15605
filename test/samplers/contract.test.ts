// The shared sampler contract: determinism given the key, shapes, finite Info, divergence handling, options.
import { describe, expect, it } from 'vitest';
import { doubleWell, gaussian, type Energy } from '../../src/energy/index.js';
import {
  ula, ulaKernel, ulaInit, mala, hmc, annealedLangevin, parallelTempering, blockGibbs, sample, impliedTemperature,
  DivergenceError, samplerRegistry, SamplerOptionsError, type SamplingAlgorithm, type BaseInfo,
} from '../../src/samplers/index.js';
import { key, normal } from '../../src/random/index.js';
import { Tensor, add, mul, sum, square, tensor, zeros, pow } from '../../src/tensor/index.js';

const E = gaussian({ mean: [0, 0], cov: [[1, 0.5], [0.5, 1]] });
type Alg = SamplingAlgorithm<unknown, BaseInfo, unknown>;
const table: [string, Alg, () => unknown][] = [
  ['ula', ula(E, { stepSize: 0.1 }) as Alg, () => normal(key(9), [8, 2])],
  ['mala', mala(E, { stepSize: 0.1 }) as Alg, () => normal(key(9), [8, 2])],
  ['hmc', hmc(E, { stepSize: 0.1, leapfrogSteps: 3 }) as Alg, () => normal(key(9), [8, 2])],
  ['annealed', annealedLangevin((s) => E.smoothed!(s), { sigmas: [2, 1, 0.5], stepsPerLevel: 3, stepSize: 0.05 }) as Alg, () => normal(key(9), [8, 2])],
  ['annealed (score family)', annealedLangevin({ score: (s) => (x) => E.smoothed!(s).score(x) }, { sigmas: [2, 1, 0.5], stepsPerLevel: 3, stepSize: 0.05 }) as Alg,
    () => normal(key(9), [8, 2])],
  ['annealed (snr rule)', annealedLangevin({ energy: (s) => E.smoothed!(s) }, { sigmas: [2, 1, 0.5], stepsPerLevel: 1, snr: 0.16 }) as Alg, () => normal(key(9), [8, 2])],
  ['pt', parallelTempering(E, { temperatures: [1, 3], stepSize: 0.1 }) as Alg, () => normal(key(9), [8, 2])],
  ['gibbs', blockGibbs<{ x: Tensor }>({ blocks: [{ name: 'x', sample: (k, s) => normal(k, s.x.shape) }], observe: (s) => s.x }) as Alg,
    () => ({ x: normal(key(9), [8, 2]) })],
];

describe.each(table)('%s contract', (_name, alg, init) => {
  it('is deterministic given the key, has the documented shapes and finite infos', () => {
    const a = sample(alg, { key: key(1), init: init(), steps: 12, burnIn: 2, thin: 2, trajectory: true });
    const b = sample(alg, { key: key(1), init: init(), steps: 12, burnIn: 2, thin: 2 });
    const c = sample(alg, { key: key(2), init: init(), steps: 12, burnIn: 2, thin: 2 });
    expect(a.samples.shape).toEqual([5, 8, 2]);
    expect(a.trajectory!.shape).toEqual([13, 8, 2]);
    expect(Array.from(a.samples.data)).toEqual(Array.from(b.samples.data));
    expect(Array.from(a.samples.data)).not.toEqual(Array.from(c.samples.data));
    expect(a.infos).toHaveLength(12);
    for (const inf of a.infos) {
      expect(inf.divergent).toHaveLength(inf.divergent.length);
      const p = (inf as { acceptanceProb?: Float64Array }).acceptanceProb;
      if (p) for (const v of p) expect(v >= 0 && v <= 1).toBe(true);
    }
    expect(a.divergences).toBe(0);
    if (a.energyTrace) expect(a.energyTrace.every((e) => e.length === 8 && e.every(Number.isFinite))).toBe(true);
  });
});

// E(x) = x⁴ summed: ULA with a large step explodes (|x| grows like x³η), producing non-finite values.
const quartic: Energy = { dim: 1, energy: (x) => sum(pow(x, 4), 1) };

describe('divergence', () => {
  it('ULA: non-finite steps become a named DivergenceError from the driver', () => {
    const run = () => sample(ula(quartic, { stepSize: 1 }), { key: key(3), init: tensor([[3], [0.1]]), steps: 20 });
    expect(run).toThrow(DivergenceError);
    try {
      run();
    } catch (e) {
      expect((e as DivergenceError).chains).toContain(0);
      expect((e as Error).message).toMatch(/ula: non-finite .* step \d+ in chain\(s\) 0/);
    }
  });
  it('ULA with onDivergence "record": divergent chains keep their last finite point', () => {
    const res = sample(ula(quartic, { stepSize: 1 }), { key: key(3), init: tensor([[3], [0.1]]), steps: 20, onDivergence: 'record' });
    expect(res.divergences).toBeGreaterThan(0);
    for (const v of res.samples.data) expect(Number.isFinite(v)).toBe(true);
  });
  it('MALA and HMC reject non-finite proposals, flag them, and never carry NaN', () => {
    for (const alg of [mala(quartic, { stepSize: 1 }), hmc(quartic, { stepSize: 1, leapfrogSteps: 3 })] as Alg[]) {
      const res = sample(alg, { key: key(4), init: tensor([[3000], [0.5]]), steps: 20 });
      expect(res.divergences).toBeGreaterThan(0);
      for (const v of res.samples.data) expect(Number.isFinite(v)).toBe(true);
    }
  });
});

describe('ULA modes and safeguards', () => {
  it('decoupled mode equals ULA at the implied temperature, and reports it', () => {
    expect(impliedTemperature(1, 0.01)).toBeCloseTo(5e-5, 15);
    const x = normal(key(5), [4, 2]);
    const a = ula(E, { gradStep: 0.2, noiseScale: 0.3 });
    const [s1, info] = a.step(key(6), a.init(x));
    expect(info.temperature as number).toBeCloseTo(0.09 / 0.4, 12);
    // @ts-expect-error the standard and decoupled parametrisations are exclusive
    expect(() => ula(E, { stepSize: 0.1, gradStep: 1, noiseScale: 0.1 })).toThrow(/either/);
    const [s2] = ulaKernel(E, key(6), ulaInit(E, x), { stepSize: 0.045, temperature: 0.225 });
    for (let i = 0; i < s1.position.size; i++) expect(s1.position.data[i]).toBeCloseTo(s2.position.data[i], 5);
    // A different temperature gives a different step from the same key (the drift is scaled by 1/T).
    const [s3] = ulaKernel(E, key(6), ulaInit(E, x), { stepSize: 0.045, temperature: 1 });
    expect(Array.from(s3.position.data)).not.toEqual(Array.from(s1.position.data));
  });
  it('box: ULA clamps into the box, MALA and HMC stay inside it', () => {
    for (const alg of [ula(E, { stepSize: 0.5, box: [-0.5, 0.5] }), mala(E, { stepSize: 0.5, box: [-0.5, 0.5] }), hmc(E, { stepSize: 0.3, leapfrogSteps: 3, box: [-0.5, 0.5] })] as Alg[]) {
      const res = sample(alg, { key: key(7), init: zeros([16, 2]), steps: 50 });
      for (const v of res.samples.data) expect(Math.abs(v)).toBeLessThanOrEqual(0.5);
    }
  });
  it('gradient clipping bounds the ULA drift', () => {
    const steep: Energy = { dim: 1, energy: (x) => sum(mul(square(x), 1e6), 1) };
    const s = ulaInit(steep, tensor([[1]]));
    const [n1] = ulaKernel(steep, key(8), s, { stepSize: 1e-12, maxGradNorm: 1 }); // noise √(2e-12) ≈ 1.4e-6
    expect(Math.abs(n1.position.data[0] - 1)).toBeLessThan(1e-5);
  });
});

describe('samplerRegistry', () => {
  it('builds every sampler from JSON options and rejects bad ones by name', () => {
    const dw = doubleWell({ dim: 2 });
    expect(samplerRegistry.mala(dw, { stepSize: 0.1 }).name).toBe('mala');
    expect(samplerRegistry.hmc(dw, { stepSize: 0.1, leapfrogSteps: 4, inverseMass: [1, 2] }).name).toBe('hmc');
    expect(samplerRegistry.pt(dw, { stepSize: 0.1, tMax: 10, numTemperatures: 4 }).name).toBe('pt');
    expect(samplerRegistry.ula(dw, { gradStep: 1, noiseScale: 0.01 }).name).toBe('ula');
    expect(samplerRegistry.annealed(E, {}).name).toBe('annealed');
    expect(() => samplerRegistry.mala(dw, {})).toThrow(/mala: missing required option "stepSize"/);
    expect(() => samplerRegistry.mala(dw, { stepSize: -1 })).toThrow(SamplerOptionsError);
    expect(() => samplerRegistry.hmc(dw, { stepSize: 0.1, leapfrog: 3 })).toThrow(/unknown option "leapfrog"/);
    expect(() => samplerRegistry.annealed(dw, {})).toThrow(/no Gaussian-smoothed family/);
    expect(() => samplerRegistry.ula(dw, { stepSize: 0.1, noiseScale: 0.1 })).toThrow(/either/);
    expect(() => samplerRegistry.pt(dw, { stepSize: 0.1, local: 'gibbs' })).toThrow(/"local"/);
  });
});
void add;

describe.each(table.filter(([name]) => name !== 'gibbs'))('%s with and without buffer reuse', (_name, alg) => {
  it('gives the same run, bit for bit (600 chains, so the step buffers are pooled)', () => {
    const run = (reuseBuffers: boolean) => sample(alg, { key: key(4), init: normal(key(9), [600, 2]), steps: 8, trajectory: true, onDivergence: 'record', reuseBuffers });
    const a = run(true);
    const b = run(false);
    expect(Array.from(a.trajectory!.data)).toEqual(Array.from(b.trajectory!.data));
    expect(Array.from(a.samples.data)).toEqual(Array.from(b.samples.data));
    expect(a.divergences).toBe(b.divergences);
  });
});
