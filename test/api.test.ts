import { describe, expect, expectTypeOf, it } from 'vitest';
import * as ebm from '../src/index.js';

describe('public API (src/index.ts)', () => {
  it('exports every area of the library from one barrel', () => {
    const fns = [
      'tensor', 'grad', 'valueAndGrad', 'vjp', 'noGrad', 'matmul', 'conv2d', 'logsumexp', 'key', 'split', 'foldIn',
      'normal', 'uniform', 'initMLP', 'applyMLP', 'adam', 'sgd', 'applyUpdates', 'gaussian', 'gaussianMixture',
      'energyAndGrad', 'ula', 'mala', 'hmc', 'parallelTempering', 'annealedLangevin', 'blockGibbs', 'sample', 'ess',
      'essMultiChain', 'splitRhat', 'gridLogZ', 'aisLogZ', 'mmd', 'auroc', 'minimiseEnergy', 'denoisingScoreMatching',
      'slicedScoreMatching', 'exactScoreMatching', 'contrastiveDivergence', 'vpSDE', 'veSDE', 'odeLogLikelihood',
      'initBackend', 'backendInfo',
    ];
    for (const f of fns) expect(typeof (ebm as Record<string, unknown>)[f], f).toBe('function');
    for (const ns of ['rbm', 'deepEbm', 'jem', 'rbmCf', 'anomaly', 'structured', 'io', 'toy']) {
      expect(typeof (ebm as Record<string, unknown>)[ns], ns).toBe('object');
    }
    expect(typeof ebm.rbm.BernoulliRBM).toBe('function');
    expect(typeof ebm.structured.solveSudoku).toBe('function');
  });

  it('types follow the sign conventions and shapes', () => {
    expectTypeOf(ebm.grad).returns.toBeFunction();
    expectTypeOf<ebm.Energy['energy']>().parameters.toEqualTypeOf<[ebm.Tensor]>();
    expectTypeOf<ebm.Energy['energy']>().returns.toEqualTypeOf<ebm.Tensor>();
    // A seed is not a key: randomness only comes from explicit keys (a type error, and a clear runtime error).
    // @ts-expect-error a number is not a Key
    expect(() => ebm.normal(0, [2])).toThrow(/expected a random Key/);
  });
});
