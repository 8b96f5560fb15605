/**
 * `CDLoss.prepare` for chains run elsewhere (the WebGPU CD steps): with tempered negatives its plan, run by the CPU's
 * own parallel tempering, reproduces the loss's state and negatives bit for bit; with spectral normalisation its model
 * is the loss's `W/σ(W)` and `spectralNormPullback` turns the gradient w.r.t. the model into the loss's gradient.
 * These run without a GPU: they pin the contract the device code relies on.
 */
import { describe, it, expect } from 'vitest';
import { Tensor, valueAndGrad, reshape, matmul, tanh, sum, mul, add, treeLeaves } from '../../src/tensor/index.js';
import { key, split, normal } from '../../src/random/index.js';
import { parallelTempering, ulaInit, geometricTemperatures, ula, type PtState } from '../../src/samplers/index.js';
import type { Energy } from '../../src/energy/index.js';
import { contrastiveDivergence, cdValueAndGrad, spectralNormalize, spectralNormPullback } from '../../src/losses/contrastiveDivergence.js';

type P = { w1: Tensor; w2: Tensor };
/** A small 2-layer energy E(x) = tanh(x·W₁)·W₂ + ¼‖x‖². */
const energyOf = (p: P): Energy => ({
  dim: 2,
  energy: (x) => {
    const h = tanh(matmul(x, p.w1));
    const q = sum(mul(x, x), 1);
    return add(reshape(matmul(h, p.w2), [x.shape[0]]), mul(q, 0.25));
  },
});
const params = (): P => ({ w1: normal(key(1), [2, 5]), w2: normal(key(2), [5, 1]) });

describe('CDLoss.prepare', () => {
  for (const local of ['mala', 'ula'] as const) {
    it(`tempered (${local}): the plan run by parallelTempering gives the loss's replicas and negatives exactly`, () => {
      const temps = geometricTemperatures(5, 3);
      const cd = contrastiveDivergence<P>({
        energy: energyOf, steps: 3, negatives: 'tempered', tempering: { temperatures: temps, stepSize: 0.05, local, maxGradNorm: 2 },
        chains: 8, reinit: 0.5, reinitFrom: { kind: 'uniform', low: -2, high: 2 },
      });
      const p = params();
      const data = normal(key(3), [50, 2]);
      let st = cd.initState(key(4), p, data);
      const batch = normal(key(5), [16, 2]);
      st = cdValueAndGrad(cd)(p, batch, key(6), st).state; // one step first: the swap parity depends on state.step
      const want = cdValueAndGrad(cd)(p, batch, key(7), st);
      const pr = cd.prepare!(batch, key(7), st);
      const plan = pr.tempered!;
      expect(plan).toMatchObject({ temperatures: temps, local, chains: 8, step0: 1, maxGradNorm: 2 });
      expect(plan.stepSizes.map((s) => s / 0.05)).toEqual(temps);
      const E = energyOf(p);
      const alg = parallelTempering(E, { temperatures: plan.temperatures, stepSize: plan.stepSizes, local: plan.local, maxGradNorm: plan.maxGradNorm });
      let s: PtState = { replicas: ulaInit(E, pr.x0), chains: plan.chains, step: plan.step0 };
      for (const k of split(pr.kChain, 3)) s = alg.step(k, s)[0];
      const next = pr.finish(s.replicas.position);
      expect(Array.from(next.buffer!.data)).toEqual(Array.from(want.state.buffer!.data));
      expect(next.step).toBe(want.state.step);
      expect(Array.from(alg.observe(s).data)).toEqual(Array.from(want.aux.negatives.data));
      // The hottest replicas were restarted (reinit 0.5) and only those: rows 0 … 2C−1 are the state's.
      expect(Array.from(pr.x0.data.subarray(0, 2 * 8 * 2))).toEqual(Array.from(st.buffer!.data.subarray(0, 2 * 8 * 2)));
      expect(Array.from(pr.x0.data.subarray(2 * 8 * 2))).not.toEqual(Array.from(st.buffer!.data.subarray(2 * 8 * 2)));
    });
  }

  it('buffer negatives: x0 and the write-back are the loss\'s (the same keys)', () => {
    const cd = contrastiveDivergence<P>({ energy: energyOf, sampler: (E) => ula(E, { stepSize: 0.05 }), steps: 2, negatives: 'buffer', bufferSize: 40, reinit: 0.3 });
    const p = params();
    const st = cd.initState(key(4), p, normal(key(3), [50, 2]));
    const batch = normal(key(5), [12, 2]);
    const want = cdValueAndGrad(cd)(p, batch, key(7), st);
    const pr = cd.prepare!(batch, key(7), st);
    expect(pr.tempered).toBeUndefined();
    expect(pr.model).toBeUndefined();
    const E = energyOf(p);
    const alg = ula(E, { stepSize: 0.05 });
    let s = alg.init(pr.x0);
    for (const k of split(pr.kChain, 2)) s = alg.step(k, s)[0];
    expect(Array.from(pr.finish(s.position).buffer!.data)).toEqual(Array.from(want.state.buffer!.data));
  });

  it('spectral norm: the model is W/σ(W) and spectralNormPullback gives the loss\'s gradient', () => {
    const cd = contrastiveDivergence<P>({ energy: energyOf, sampler: (E) => ula(E, { stepSize: 0.05 }), steps: 2, negatives: 'buffer', bufferSize: 40, spectralNorm: { iterations: 2 } });
    const p = params();
    let st = cd.initState(key(4), p, normal(key(3), [50, 2]));
    const batch = normal(key(5), [12, 2]);
    st = cdValueAndGrad(cd)(p, batch, key(6), st).state;
    const want = cdValueAndGrad(cd)(p, batch, key(7), st);
    const pr = cd.prepare!(batch, key(7), st, p);
    const model = pr.model!;
    const sn = spectralNormalize(p, st.sn, 2);
    treeLeaves(model).forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(treeLeaves(sn.params)[i].data)));
    expect(pr.snBefore).toBe(st.sn);
    // The loss with the negatives fixed, as a function of the model parameters; its gradient pulled back to p.
    const E = energyOf(model);
    const alg = ula(E, { stepSize: 0.05 });
    let s = alg.init(pr.x0);
    for (const k of split(pr.kChain, 2)) s = alg.step(k, s)[0];
    const xNeg = s.position;
    const [, gModel] = valueAndGrad((m: P) => {
      const Em = energyOf(m);
      return add(mul(sum(Em.energy(pr.xPos)), 1 / 12), mul(sum(Em.energy(xNeg)), -1 / 12));
    })(model);
    const g = spectralNormPullback(p, pr.snBefore, 2, gModel as P);
    for (const k of ['w1', 'w2'] as const) {
      for (let i = 0; i < g[k].size; i++) expect(g[k].data[i]).toBeCloseTo(want.grads[k].data[i], 5);
    }
    // Without the pull-back the gradient differs (σ(W) ≠ 1 here).
    expect(Math.abs((gModel as P).w1.data[0] - want.grads.w1.data[0])).toBeGreaterThan(1e-3);
    const next = pr.finish(xNeg);
    expect(Array.from(next.sn['0'].data)).toEqual(Array.from(want.state.sn['0'].data));
    // Without the parameters: no model, and finish keeps the state's vectors (the caller normalises itself).
    const bare = cd.prepare!(batch, key(7), st);
    expect(bare.model).toBeUndefined();
    expect(bare.finish(xNeg).sn).toBe(st.sn);
  });
});
