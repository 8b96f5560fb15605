// Annealed Langevin beyond the shared contract: energy and score families agree, the snr rule and the one-step-per-level
// corrector-only loop (the score-SDE CLI's former hand-written sampler) are reproduced exactly, Tweedie's step, options.
import { describe, expect, it } from 'vitest';
import { gaussian, gaussianMixture } from '../../src/energy/index.js';
import {
  annealedLangevin, annealedSnrStepSize, geometricSigmas, sample, samplerRegistry, tweedieDenoise, SamplerOptionsError,
} from '../../src/samplers/index.js';
import { foldIn, key, normal, split, type Key } from '../../src/random/index.js';
import { Tensor, tensor } from '../../src/tensor/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

const mix = gaussianMixture({ means: [[-2, 0], [2, 1]], std: 0.7, weights: [0.4, 0.6] });

describe('annealedLangevin on a score family', () => {
  it('follows the energy family step for step (same keys, analytic score vs autodiff gradient)', () => {
    const opts = { sigmas: geometricSigmas(2, 0.2, 4), stepsPerLevel: 5, stepSize: 0.02 };
    const x0 = normal(key(4), [16, 2], { dtype: 'float64' });
    const a = sample(annealedLangevin((s) => mix.smoothed(s), opts), { key: key(8), init: x0, steps: 30 });
    const b = sample(annealedLangevin({ score: (s) => (x) => mix.smoothed(s).score(x) }, opts), { key: key(8), init: x0, steps: 30 });
    expect(b.samples.shape).toEqual(a.samples.shape);
    let worst = 0;
    for (let i = 0; i < a.samples.size; i++) worst = Math.max(worst, Math.abs(a.samples.data[i] - b.samples.data[i]));
    expect(worst).toBeLessThan(1e-10);
    expect(b.infos.map((i) => i.level)).toEqual(a.infos.map((i) => i.level));
  });

  it('reproduces the score-SDE CLI\'s corrector-only sampler bit for bit (float64 chain, float32 score, Tweedie step)', () => {
    // The loop src/cli/kinds/scoreSde.ts wrote by hand: on tᵢ = T − i(T − eps)/(N − 1), z ← z + e·s(z, tᵢ) + √(2e)·ξ,
    // e = 2(r‖ξ‖/‖s‖)², ξ from split(k, N)[i]; then ẑ = (z + σ(eps)²·s(z, eps))/m(eps) in float32.
    const N: number = 6, T = 1, eps = 0.05, r = 0.16, n = 12, D = 2;
    const std = (t: number) => 0.1 * 20 ** t;
    const meanCoef = (t: number) => Math.exp(-0.1 * t);
    const net = (x: Tensor, t: number) => mix.smoothed(std(t)).score(x); // evaluated in float32, like the CLI's network
    const zT = normal(key(5), [n, D], { dtype: 'float32' });
    const kRun = key(3);
    const ref = (() => {
      let z = Float64Array.from(zT.data);
      const keys = split(kRun, N);
      for (let i = 0; i < N; i++) {
        const t = N === 1 ? eps : T - (i * (T - eps)) / (N - 1);
        const s = net(tensor(z, [n, D], 'float32'), t).data;
        const xi = normal(keys[i], [n * D], { dtype: 'float64' }).data;
        let sn = 0, xn = 0;
        for (let q = 0; q < n; q++) {
          let a = 0, b = 0;
          for (let j = 0; j < D; j++) {
            a += s[q * D + j] ** 2;
            b += xi[q * D + j] ** 2;
          }
          sn += Math.sqrt(a) / n;
          xn += Math.sqrt(b) / n;
        }
        const e = sn > 0 ? 2 * ((r * xn) / sn) ** 2 : 0;
        const c = Math.sqrt(2 * e);
        const next = new Float64Array(z.length);
        for (let q = 0; q < z.length; q++) next[q] = z[q] + e * s[q] + c * xi[q];
        z = next;
      }
      const s = net(tensor(z, [n, D], 'float32'), eps).data;
      const v = std(eps) ** 2, m = meanCoef(eps);
      const out = new Float32Array(z.length);
      for (let q = 0; q < z.length; q++) out[q] = (z[q] + v * s[q]) / m;
      return out;
    })();
    // The same sampler through the library: levels σ(tᵢ), the level index picks tᵢ, one step per level, the snr rule.
    const ts = Array.from({ length: N }, (_, i) => (N === 1 ? eps : T - (i * (T - eps)) / (N - 1)));
    const f32 = (x: Tensor) => tensor(x.data, x.shape, 'float32');
    const alg = annealedLangevin({ score: (_sigma, i) => (x) => net(f32(x), ts[i]) }, { sigmas: ts.map(std), stepsPerLevel: 1, snr: r });
    const keys = split(kRun, N);
    let st = alg.init(tensor(zT.data, zT.shape, 'float64'));
    for (let i = 0; i < N; i++) {
      const [next, info] = alg.step(keys[i], st);
      expect(info.divergent.every((d) => d === 0)).toBe(true);
      st = next;
    }
    const out = tweedieDenoise(st.position, net(f32(st.position), eps), std(eps), meanCoef(eps));
    expect(Array.from(f32(out).data)).toEqual(Array.from(ref));
  });

  it('annealedSnrStepSize averages row norms: 2(r·mean‖ξ‖ / mean‖s‖)², 0 for a zero score', () => {
    const s = [3, 4, 0, 0], xi = [1, 0, 0, 2];
    expect(annealedSnrStepSize(s, xi, 2, 0.16)).toBeCloseTo(2 * ((0.16 * 1.5) / 2.5) ** 2, 15);
    expect(annealedSnrStepSize([0, 0], [1, 1], 1, 0.16)).toBe(0);
  });

  it('tweedieDenoise is the posterior mean of x₀ for a Gaussian: x/(1 + σ²) for x₀ ~ N(0, 1)', () => {
    const sigma = 0.8;
    const smoothed = gaussian({ mean: [0, 0], cov: [[1, 0], [0, 1]] }).smoothed!(sigma);
    const x = tensor([[1, -2], [0.5, 3]], undefined, 'float64');
    const d = tweedieDenoise(x, smoothed.score(x), sigma);
    for (let i = 0; i < 4; i++) expect(d.data[i]).toBeCloseTo(x.data[i] / (1 + sigma * sigma), 12);
    // VP-type: x = m·x₀ + σε → (x + σ² s)/m.
    expect(tweedieDenoise(x, smoothed.score(x), sigma, 0.5).data[0]).toBeCloseTo((2 * 1) / (1 + sigma * sigma), 12);
    expect(() => tweedieDenoise(x, tensor([1]), sigma)).toThrow(InvalidArgumentError);
  });

  it('takes exactly one step-size rule and keeps eps as the old name of stepSize', () => {
    const fam = (s: number) => mix.smoothed(s);
    const sigmas = [1, 0.5];
    expect(() => annealedLangevin(fam, { sigmas, stepsPerLevel: 2 })).toThrow(InvalidArgumentError);
    expect(() => annealedLangevin(fam, { sigmas, stepsPerLevel: 2, stepSize: 0.1, snr: 0.1 })).toThrow(InvalidArgumentError);
    expect(() => annealedLangevin(fam, { sigmas, stepsPerLevel: 2, snr: -1 })).toThrow(InvalidArgumentError);
    // one name for the step size: the former `eps` is refused (the registry names the unknown option)
    expect(() => samplerRegistry.annealed(mix, { eps: 0.1 })).toThrow(SamplerOptionsError);
    expect(() => samplerRegistry.annealed(mix, { stepSize: 0.1, snr: 0.1 })).toThrow(SamplerOptionsError);
    expect(samplerRegistry.annealed(mix, { snr: 0.1, stepsPerLevel: 1 }).name).toBe('annealed');
  });

  it('flags a row that turns non-finite and keeps its old point', () => {
    const bad = (_s: number) => (x: Tensor) => new Tensor(Float64Array.from(x.data, (v, i) => (i < 2 && Math.abs(v) > 0 ? Infinity : -v)), x.shape);
    const alg = annealedLangevin({ score: bad }, { sigmas: [1], stepsPerLevel: 1, stepSize: 0.1 });
    const st = alg.init(tensor([[0, 0], [1, 1]], undefined, 'float64'));
    const k: Key = foldIn(key(0), 1);
    const [next, info] = alg.step(k, st);
    expect(Array.from(info.divergent)).toEqual([1, 0]);
    expect(Array.from(next.position.data.subarray(0, 2))).toEqual([0, 0]);
  });
});
