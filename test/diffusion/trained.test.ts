import { describe, expect, it } from 'vitest';
import {
  vpSDE, veSDE, continuousDSM, initTimeMLP, mlpScore, bindScore, perturb, eulerMaruyama, predictorCorrector,
  probabilityFlow, generate, initUNet, applyUNet, unetScore, timeColumn, type SDE,
} from '../../src/diffusion/index.js';
import { key } from '../../src/random/index.js';
import { zerosLike, valueAndGrad, grad, reshape, sum, sliceAxis, allFinite, treeLeaves, type Tensor } from '../../src/tensor/index.js';
import { normal } from '../../src/random/index.js';
import { mmd } from '../../src/eval/mmd.js';
import { fisherDivergence } from '../../src/eval/fisherDivergence.js';
import { train } from '../losses/_helpers.js';
import { target, marginal } from './_mixture.js';

const bw = [0.25, 0.5, 1, 2];
const n = 300;
const truth = target.sample!(key(5), n);
const nullVals = Array.from({ length: 16 }, (_, r) => mmd(target.sample!(key(1000 + 2 * r), n), target.sample!(key(1001 + 2 * r), n), bw));
const nullMean = nullVals.reduce((a, b) => a + b, 0) / nullVals.length;
const nullSd = Math.sqrt(nullVals.reduce((a, b) => a + (b - nullMean) ** 2, 0) / (nullVals.length - 1));

/** Relative Fisher divergence E‖s_θ − ∇log p_t‖² / E‖∇log p_t‖² at time t, x ~ p_t (2000 points). */
function relFisher(sde: SDE, score: (x: Tensor, t: number) => Tensor, t: number): { rel: number; relSe: number } {
  const x0 = target.sample!(key(77), 2000);
  const { xt } = perturb(sde, x0, new Float64Array(2000).fill(t), key(78));
  const f = fisherDivergence((x) => score(x, t), (x) => marginal(sde, t).score(x), xt);
  const scale = fisherDivergence((x) => zerosLike(x), (x) => marginal(sde, t).score(x), xt).value;
  return { rel: f.value / scale, relSe: f.stdError / scale };
}

describe('a time-conditioned MLP trained by continuous DSM on a 2-D mixture', () => {
  for (const sde of [vpSDE(), veSDE({ sigmaMax: 10 })]) {
    it(`${sde.description}: relative Fisher divergence < 0.25 where σ(t) ∈ {0.3, 1}; EM/PC/ODE samples have MMD² within the exact null + 4 sd + 0.01`, () => {
      const { params } = train(continuousDSM(sde, { score: mlpScore(sde) }), initTimeMLP(key(1), { dim: 2 }), (k) => target.sample!(k, 256), 1000, 3e-3, 4);
      const score = bindScore(mlpScore(sde), params);
      // Times where the marginal std is 0.3 and 1 (bisection on σ(t), which increases in t).
      for (const target of [0.3, 1]) {
        let lo = 0;
        let hi = sde.T;
        for (let i = 0; i < 60; i++) (sde.std((lo + hi) / 2) < target ? (lo = (lo + hi) / 2) : (hi = (lo + hi) / 2));
        const { rel } = relFisher(sde, score, lo);
        expect(rel).toBeLessThan(0.25);
      }
      // "Comparable to the true sampler's own MMD": the bound is the exact-vs-exact null mean + 4 null sd, plus a fixed
      // slack of 0.01 for the learned model's bias (a 0.5 shift of the whole target gives MMD² ≈ 0.1, ten times more).
      const bound = nullMean + 4 * nullSd + 0.01;
      for (const alg of [eulerMaruyama(sde, score, { steps: 100 }), predictorCorrector(sde, score, { steps: 100 }), probabilityFlow(sde, score, { steps: 50 })]) {
        const x = generate(alg, key(7), sde.priorSample(key(8), [n, 2]));
        const v = mmd(x, truth, bw);
        expect(v).toBeLessThan(bound);
      }
    });
  }
});

describe('U-Net score network for 28×28 images', () => {
  it('maps [N, 1, 28, 28] × [N] to the same shape, with finite gradients for every parameter, and trains', () => {
    const sde = vpSDE();
    const p = initUNet(key(0), { base: 4, embedDim: 8 });
    const x = normal(key(1), [2, 1, 28, 28]);
    const out = applyUNet(p, x, timeColumn(0.5, 2));
    expect(out.shape).toEqual([2, 1, 28, 28]);
    const loss = continuousDSM(sde, { score: unetScore(sde) });
    const [l, g] = valueAndGrad((q: typeof p) => loss(q, x, key(2)).loss)(p);
    expect(Number.isFinite(l.item())).toBe(true);
    for (const t of treeLeaves(g)) expect(allFinite(t)).toBe(true);
    expect(treeLeaves(g).some((t) => t.toArray().some((v) => v !== 0))).toBe(true);
    const { losses } = train(loss, p, x, 15, 3e-3, 3);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(() => applyUNet(p, normal(key(1), [2, 1, 27, 27]), timeColumn(0.5, 2))).toThrow(/28, 28/);
  });

  it('receptive field: each 7×7 residual block widens what an output pixel sees by 4 pixels per side (8 without blocks)', () => {
    // Output pixel (0, 0) as a function of the input: its gradient is exactly zero outside the receptive field.
    const x = normal(key(3), [1, 1, 28, 28]);
    const reach = (mid: number) => {
      const p = initUNet(key(4), { base: 4, embedDim: 8, mid });
      const g = grad((z: Tensor) => sum(sliceAxis(reshape(applyUNet(p, z, timeColumn(0.5, 1)), [784]), 0, 0, 1)))(x).data;
      let farthest = 0;
      for (let i = 0; i < 784; i++) if (g[i] !== 0) farthest = Math.max(farthest, Math.floor(i / 28), i % 28);
      return { p, farthest };
    };
    expect([0, 2, 4].map((m) => reach(m).farthest)).toEqual([8, 16, 24]);
    const p = reach(2).p;
    expect(Object.keys(p).filter((k) => k.startsWith('mid')).sort()).toEqual(['mid1.b', 'mid1.temb', 'mid1.w', 'mid2.b', 'mid2.temb', 'mid2.w']);
    expect(() => initUNet(key(0), { mid: -1 })).toThrow(/mid/);
  });
});
