import { describe, it, expect } from 'vitest';
import { key, split, normal } from '../../src/random/index.js';
import { Tensor, add, mul, div, exp, log, sub, sum, square, reshape, tensor, valueAndGrad } from '../../src/tensor/index.js';
import { noiseConditionalDenoisingScoreMatching, denoisingScoreMatchingWithNoise } from '../../src/losses/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

// The exact noise-conditional energy of N(μ, s²I) smoothed by N(0, σ²I): E(x, σ) = ½‖x − μ‖²/v + (d/2)·log v,
// v = s² + σ² (−log p_σ up to a constant that does not depend on σ), with a scale parameter `a` on the quadratic term.
const mu = [0.5, -1], s2 = 0.3;
function gaussEnergy(withLogTerm: boolean) {
  return (p: { a: Tensor }, x: Tensor, logSigma: Tensor): Tensor => {
    const n = x.shape[0], d = x.shape[1];
    const v = add(exp(mul(logSigma, 2)), s2); // [n]
    const r2 = sum(square(sub(x, tensor(mu, [2], x.dtype))), 1);
    const q = mul(div(mul(r2, p.a), v), 0.5);
    return withLogTerm ? add(q, mul(log(v), d / 2)) : reshape(q, [n]);
  };
}

function batch(n: number): Tensor {
  const z = normal(key(11), [n, 2], { dtype: 'float64' });
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) out[2 * i + j] = mu[j] + Math.sqrt(s2) * z.data[2 * i + j];
  return new Tensor(out, [n, 2]);
}

describe('noiseConditionalDenoisingScoreMatching', () => {
  const x = batch(64);
  const opts = { sigmaMin: 0.05, sigmaMax: 1 };

  it('the heat-equation residual vanishes for the exact smoothed energy and not for one with the wrong σ-dependence', () => {
    const one = { a: tensor([1], [], 'float64') };
    const exact = noiseConditionalDenoisingScoreMatching(gaussEnergy(true), opts)(one, x, key(3));
    expect(exact.aux.heat).toBeLessThan(1e-20); // float64: τR = 0 up to rounding
    // Dropping (d/2)·log v keeps every score (the DSM term is unchanged) but breaks ∂τE: R = −d/(2v), so τR = −τ·d/(2v).
    const wrong = noiseConditionalDenoisingScoreMatching(gaussEnergy(false), opts)(one, x, key(3));
    expect(wrong.aux.dsm).toBeCloseTo(exact.aux.dsm, 12);
    expect(wrong.aux.heat).toBeGreaterThan(0.01);
    expect(wrong.loss.item()).toBeCloseTo(wrong.aux.dsm + wrong.aux.heat, 12);
  });

  it('with pMin = 1 and heat = 0 it is σ²-weighted DSM at σ_min with the same noise', () => {
    const p = { a: tensor([1.7], [], 'float64') };
    const k = key(5);
    const got = noiseConditionalDenoisingScoreMatching(gaussEnergy(true), { ...opts, pMin: 1, heat: 0 })(p, x, k);
    const eps = normal(split(k, 3)[2], x.shape, { dtype: 'float64' });
    const lsMin = tensor(new Float64Array(64).fill(Math.log(opts.sigmaMin)), [64], 'float64');
    const ref = denoisingScoreMatchingWithNoise({ energy: (q: { a: Tensor }, y: Tensor) => gaussEnergy(true)(q, y, lsMin) }, { sigma: opts.sigmaMin, weighting: 'sigma2' })(p, x, eps);
    expect(got.loss.item()).toBeCloseTo(ref.loss.item(), 12);
    // With the heat term, the gradient in the parameters exists and is finite.
    const [l, g] = valueAndGrad((q: { a: Tensor }) => noiseConditionalDenoisingScoreMatching(gaussEnergy(true), opts)(q, x, k).loss)(p);
    expect(Number.isFinite(l.item())).toBe(true);
    expect(Number.isFinite(g.a.item())).toBe(true);
  });

  it('refuses bad noise levels and weights', () => {
    const E = gaussEnergy(true);
    expect(() => noiseConditionalDenoisingScoreMatching(E, { sigmaMin: 1, sigmaMax: 1 })).toThrow(InvalidArgumentError);
    expect(() => noiseConditionalDenoisingScoreMatching(E, { sigmaMin: 0, sigmaMax: 1 })).toThrow(InvalidArgumentError);
    expect(() => noiseConditionalDenoisingScoreMatching(E, { ...opts, pMin: 2 })).toThrow(InvalidArgumentError);
    expect(() => noiseConditionalDenoisingScoreMatching(E, { ...opts, heat: -1 })).toThrow(InvalidArgumentError);
  });
});
