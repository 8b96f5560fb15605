/**
 * trainDeepEbm with buffer reuse (the default; each sampler step a nested scope) computes exactly what it computes
 * without, also when every reused buffer is handed out filled with NaN, through a rollback to a kept snapshot.
 */
import { describe, it, expect } from 'vitest';
import { key, split } from '../../src/random/index.js';
import { getToy } from '../../src/data/toy.js';
import { ula } from '../../src/samplers/index.js';
import { treeLeaves, type Tensor } from '../../src/tensor/index.js';
import { contrastiveDivergence } from '../../src/losses/contrastiveDivergence.js';
import { parseArch, initDeepEbm, deepEbmEnergy, standardization, trainDeepEbm, type DeepEbmConfig } from '../../src/models/deepEbm/index.js';

describe('trainDeepEbm buffer reuse', () => {
  it('reuse with a poisoned pool gives the same run as no reuse, rollback included', () => {
    const toy = getToy('8gaussians');
    const [kd, ki] = split(key(5), 2);
    const data = toy.sample(kd, 1000);
    const { shift, scale } = standardization(data);
    const cfg: DeepEbmConfig = { arch: parseArch('mlp:2-32-32-1'), activation: 'silu', shift, scale, confine: 1e-3 };
    const cd = contrastiveDivergence({
      energy: (p: Record<string, Tensor>) => deepEbmEnergy(p, cfg),
      sampler: (E) => ula(E, { stepSize: 1e-3 }),
      steps: 4, negatives: 'buffer', bufferSize: 300, reinit: 0.05, reinitFrom: { kind: 'uniform', low: -3, high: 3 },
    });
    const run = (reuseBuffers: boolean | { poison: boolean; minBytes: number }) => trainDeepEbm({
      params: initDeepEbm(ki, cfg), loss: cd, data, steps: 30, batchSize: 64, key: key(9), lr: 2e-3, emaDecay: 0.9,
      guard: { snapshotEvery: 5, maxRollbacks: 3 }, logEvery: 1,
      lrMultiplier: (t, stream) => (stream === 0 && t >= 18 && t <= 19 ? 5000 : 1),
      reuseBuffers,
    });
    const off = run(false);
    const on = run({ poison: true, minBytes: 0 });
    expect(off.events.length).toBeGreaterThanOrEqual(1);
    expect(on.events).toEqual(off.events);
    expect(on.history.map((h) => [h.loss, h.gap, h.gradNorm])).toEqual(off.history.map((h) => [h.loss, h.gap, h.gradNorm]));
    const vals = (r: typeof on) => [...treeLeaves(r.params), ...treeLeaves(r.emaParams!), r.state.buffer!].map((t) => Array.from(t.data));
    expect(vals(on)).toEqual(vals(off));
  });
});
