import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/index.js';
import { key, split, normalArray } from '../../src/random/index.js';
import { gaussianMixture } from '../../src/energy/index.js';
import { runChains, spectralNormalize } from '../../src/losses/contrastiveDivergence.js';
import { deepEbmSamplerFor } from '../../src/models/deepEbm/kind.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { loadModel } from '../../src/io/model.js';
import { join } from 'node:path';
import { ebm, expectUsageError, tempDir } from '../cli/helpers.js';

/** Sample variance of a 1-D tensor of chain ends. */
function variance(x: Tensor): number {
  let m = 0;
  for (const v of x.data) m += v;
  m /= x.size;
  let s = 0;
  for (const v of x.data) s += (v - m) ** 2;
  return s / (x.size - 1);
}

describe('deep-ebm sampler temperature', () => {
  // E(x) = ½x²: ULA at temperature T, x' = x − (η/T)x + √(2η)ξ, has the exact stationary variance T/(1 − η/(2T));
  // MALA targets exp(−E/T) exactly (variance T). 4000 independent chains started at stationarity: the variance
  // estimate has sd ≈ var·√(2/4000) ≈ 2.2 % of var; the tolerance is 5 sd.
  const E = gaussianMixture({ means: [[0]], std: 1 });
  const n = 4000;
  it.each([[0.25, 0.01, 1], [0.04, 0.002, 2], [1, 0.05, 3]])('ULA at T = %f, η = %f: variance T/(1 − η/2T) (seed %i)', (T, eta, seed) => {
    const want = T / (1 - eta / (2 * T));
    const [k0, k1] = split(key(seed), 2);
    const x0 = new Tensor(Float64Array.from(normalArray(k0, n, 'float64'), (v) => v * Math.sqrt(want)), [n, 1]);
    const x = runChains(deepEbmSamplerFor({ sampler: 'ula', stepSize: eta, clamp: null, temperature: T }), E, x0, k1, 50).x;
    expect(Math.abs(variance(x) - want)).toBeLessThan(5 * want * Math.sqrt(2 / n));
  });
  it('MALA at T = 0.09 targets exp(−E/T) (variance T)', () => {
    const T = 0.09;
    const [k0, k1] = split(key(9), 2);
    const x0 = new Tensor(Float64Array.from(normalArray(k0, n, 'float64'), (v) => v * Math.sqrt(T)), [n, 1]);
    const x = runChains(deepEbmSamplerFor({ sampler: 'mala', stepSize: 0.05, clamp: null, temperature: T }), E, x0, k1, 50).x;
    expect(Math.abs(variance(x) - T)).toBeLessThan(5 * T * Math.sqrt(2 / n));
  });
  it('an absent temperature is 1; a non-positive one is refused', () => {
    const [k0, k1] = split(key(11), 2);
    const x0 = new Tensor(normalArray(k0, n, 'float64'), [n, 1]);
    const x = runChains(deepEbmSamplerFor({ sampler: 'mala', stepSize: 0.3, clamp: null }), E, x0, k1, 30).x;
    expect(Math.abs(variance(x) - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(() => deepEbmSamplerFor({ sampler: 'ula', stepSize: 0.1, clamp: null, temperature: 0 })).toThrow(InvalidArgumentError);
    expect(() => deepEbmSamplerFor({ sampler: 'ula', stepSize: 0.1, clamp: null, temperature: NaN })).toThrow(InvalidArgumentError);
  });
});

describe('ebm train ebm --temperature', () => {
  it('stores the temperature in the model file (ebm sample uses it) and refuses it with tempered negatives', async () => {
    const dir = tempDir();
    const out = join(dir, 'm.safetensors');
    const r = await ebm('train', 'ebm', '--data', 'digits', '--limit', '20', '--steps', '2', '--batch', '8', '--arch', 'conv:1x8x8:4:8', '--mcmc-steps', '2',
      '--step-size', '1e-4', '--temperature', '0.01', '--seed', '0', '--quiet', '--out', out);
    expect(r.code).toBe(0);
    expect((await loadModel(out)).config.temperature).toBe(0.01);
    const s = await ebm('sample', out, '--n', '3', '--steps', '2', '--out', join(dir, 's.csv'), '--quiet');
    expect(s.code).toBe(0);
    expectUsageError(await ebm('train', 'ebm', '--data', 'toy:8gaussians', '--n', '50', '--steps', '1', '--negatives', 'tempered', '--temperature', '0.5', '--out', join(dir, 'b.safetensors')), /--temperature/);
  }, 60_000);
});

describe('ebm train ebm --spectral-norm', () => {
  it('saves the spectrally normalised weights the loss trained (σ(W) = 1 for every weight matrix)', async () => {
    const dir = tempDir();
    const out = join(dir, 'sn.safetensors');
    const r = await ebm('train', 'ebm', '--data', 'digits', '--limit', '20', '--steps', '3', '--batch', '8', '--arch', 'conv:1x8x8:4:8', '--mcmc-steps', '2',
      '--spectral-norm', '--seed', '0', '--quiet', '--out', out);
    expect(r.code).toBe(0);
    const { buffer: _b, ...params } = (await loadModel(out)).tensors;
    const again = spectralNormalize(params, {}, 200).params as Record<string, Tensor>;
    let n = 0;
    for (const [k, w] of Object.entries(params)) {
      if (w.ndim < 2) continue;
      n++;
      for (let i = 0; i < w.size; i++) expect(Math.abs(again[k].data[i] - w.data[i])).toBeLessThan(1e-3 * Math.max(1e-3, Math.abs(w.data[i])) + 1e-6);
    }
    expect(n).toBe(3); // conv0.w, fc0.w, fc1.w
  }, 60_000);
});
