/**
 * The score-sde kind's annealed sampler runs on the library's annealedLangevin (score family, snr rule, one step per
 * level) + tweedieDenoise: its output matches what the hand-written float64 loop it replaced produced (values recorded
 * from that loop; equal bit for bit on the native backend when recorded, compared to 6 significant digits here).
 */
import { describe, expect, it } from 'vitest';
import { key, normal } from '../../src/random/index.js';
import { DivergenceError } from '../../src/samplers/types.js';
import { makeScoreSdeConfig, initScoreSdeState, sampleScoreSde } from '../../src/models/scoreSde/index.js';

const x = normal(key(1), [64, 2], { dtype: 'float32' });
const fixtures = {
  've-1': [-1.8571962118148804, -10.475590705871582, 11.833065032958984, -3.5995914936065674, -0.7832692265510559, 1.4557088613510132, 4.635315418243408, -4.865533351898193, 1.3157776594161987, 4.242648601531982],
  'vp-7': [-1.7496601343154907, -0.3476298451423645, 0.03233202546834946, 1.0987780094146729, 1.191306471824646, 1.799548864364624, -0.5715830326080322, 0.8755428791046143, 0.03215114027261734, 0.21584907174110413],
} as const;

describe('sampleScoreSde --sampler annealed', () => {
  for (const [name, want] of Object.entries(fixtures)) {
    it(`reproduces the replaced hand-written loop (${name})`, () => {
      const [sde, steps] = name.split('-') as ['ve' | 'vp', string];
      const cfg = makeScoreSdeConfig(x, { sde, arch: { kind: 'mlp', hidden: [8, 8], embedDim: 8, activation: 'silu' } });
      const p = initScoreSdeState(cfg, key(2), { lr: 1e-3 }).params;
      const got = sampleScoreSde(p, cfg, key(9), 5, { sampler: 'annealed', steps: Number(steps) });
      expect(got.shape).toEqual([5, 2]);
      expect(got.dtype).toBe('float32');
      for (let i = 0; i < want.length; i++) expect(Math.abs(got.data[i] - want[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want[i])));
    });
  }

  it('reports progress once per level and throws on a divergent chain', () => {
    const cfg = makeScoreSdeConfig(x, { sde: 've', arch: { kind: 'mlp', hidden: [4], embedDim: 8, activation: 'silu' } });
    const p = initScoreSdeState(cfg, key(2), { lr: 1e-3 }).params;
    const seen: number[] = [];
    sampleScoreSde(p, cfg, key(3), 4, { sampler: 'annealed', steps: 5, onProgress: (d) => seen.push(d) });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(() => sampleScoreSde(p, cfg, key(3), 4, { sampler: 'annealed', steps: 5, snr: 1e200 })).toThrow(DivergenceError);
  });
});
