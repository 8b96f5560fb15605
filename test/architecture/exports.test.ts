// The code moved to respect the layering keeps its public names: the barrel and the old module paths give the same
// bindings as the new homes.
import { describe, expect, it } from 'vitest';
import * as ebm from '../../src/index.js';
import * as losses from '../../src/losses/index.js';
import * as energy from '../../src/energy/index.js';
import * as random from '../../src/random/index.js';
import * as rbm from '../../src/models/rbm/index.js';
import { getNativeRandom, setNativeRandom } from '../../src/random/philox.js';
import * as hook from '../../src/tensor/randomHook.js';

describe('public names after the moves', () => {
  it('energyToScore/modelScore (energy) and probes (random) are the same bindings under losses and the barrel', () => {
    expect(losses.energyToScore).toBe(energy.energyToScore);
    expect(losses.modelScore).toBe(energy.modelScore);
    expect(losses.probes).toBe(random.probes);
    expect(ebm.energyToScore).toBe(energy.energyToScore);
    expect(ebm.probes).toBe(random.probes);
  });

  it('RBM AIS and metrics keep their top-level names and are also under rbm.*', () => {
    for (const f of ['aisLogZ', 'aisLogZRatio', 'baseRateBias', 'averageLogLikelihood', 'pseudoLogLikelihood', 'reconstructionError', 'freeEnergyGap'] as const) {
      expect(typeof ebm[f], f).toBe('function');
      expect(ebm[f]).toBe(rbm[f]);
    }
    expect(ebm.salakhutdinovBetas).toBe(rbm.salakhutdinovBetas);
    expect(typeof ebm.aisEstimate).toBe('function');
  });

  it('the native random slot is one value, reachable from random/philox.ts and tensor/randomHook.ts', () => {
    expect(setNativeRandom).toBe(hook.setNativeRandom);
    expect(getNativeRandom).toBe(hook.getNativeRandom);
  });

  it('new library entry points for the CLI and playground callers are exported', () => {
    for (const f of ['tweedieDenoise', 'annealedSnrStepSize', 'denoisingScoreMatchingWithNoise', 'slicedScoreMatchingWithProbes'] as const) {
      expect(typeof ebm[f], f).toBe('function');
    }
  });
});
