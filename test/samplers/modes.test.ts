// The 0.8/0.2 mixture at ±5 (σ = 1): only samplers that move mass between modes recover the 0.8 weight.
import { describe, expect, it } from 'vitest';
import { gmm08 } from '../../src/energy/index.js';
import { annealedLangevin, geometricSigmas, geometricTemperatures, parallelTempering, sample, swapRates, ula } from '../../src/samplers/index.js';
import { key, normal } from '../../src/random/index.js';
import { chainsOf, mcse } from '../../src/eval/diagnostics.js';
import { Z } from './helpers.js';

const E = gmm08(); // 1-D, weight 0.8 at +5, 0.2 at −5
const inMajor = (r: ArrayLike<number>): number => (r[0] > 0 ? 1 : 0);

/** Fraction of independent chains whose final state is in the major mode, with its binomial standard error. */
function finalFraction(samples: { data: ArrayLike<number>; shape: readonly number[] }): { p: number; se: number } {
  const [kept, chains] = samples.shape;
  let s = 0;
  for (let c = 0; c < chains; c++) s += samples.data[(kept - 1) * chains + c] > 0 ? 1 : 0;
  const p = s / chains;
  return { p, se: Math.sqrt((0.8 * 0.2) / chains) };
}

describe('gmm08 mode weights', () => {
  it('parallel tempering recovers the 0.8 weight within z·MCSE', () => {
    const alg = parallelTempering(E, { temperatures: geometricTemperatures(40, 8), stepSize: 0.5 });
    const res = sample(alg, { key: key(1), init: normal(key(2), [64, 1]), steps: 1500, burnIn: 300 });
    const s = mcse(chainsOf(res.samples, inMajor));
    expect(Math.abs(s.mean - 0.8), `weight ${s.mean} (mcse ${s.mcse}, ESS ${s.ess})`).toBeLessThan(Z * s.mcse);
    const rates = swapRates(res.infos);
    for (const r of rates) expect(r).toBeGreaterThan(0.1); // every temperature gap is crossed
  });

  it('annealed Langevin (NCSN) recovers the 0.8 weight across independent chains', () => {
    const alg = annealedLangevin((s) => E.smoothed(s), { sigmas: geometricSigmas(20, 0.5, 10), stepsPerLevel: 60, stepSize: 0.05 });
    const chains = 2000;
    const res = sample(alg, { key: key(3), init: normal(key(4), [chains, 1], { std: 20 }), steps: 600, burnIn: 599 });
    const { p, se } = finalFraction(res.samples);
    expect(Math.abs(p - 0.8), `weight ${p} (se ${se})`).toBeLessThan(Z * se);
  });

  it('plain ULA does NOT recover it: chains stay in the basin they start in (shown, not hidden)', () => {
    const chains = 2000;
    const res = sample(ula(E, { stepSize: 0.05 }), { key: key(5), init: normal(key(6), [chains, 1]), steps: 600, burnIn: 599 });
    const { p, se } = finalFraction(res.samples);
    // From N(0, 1) the basin boundary is at x* = log(0.2/0.8)/10 ≈ −0.14, so ≈ Φ(0.14) ≈ 0.555 go to the major mode.
    expect(Math.abs(p - 0.8)).toBeGreaterThan(Z * se);
    expect(Math.abs(p - 0.555)).toBeLessThan(Z * Math.sqrt(0.25 / chains));
  });
});
