/**
 * The U-Net score-sde training step with buffer reuse (the default) gives the same states, bit for bit, as without it,
 * also when every reused buffer is handed out filled with NaN; states kept by the caller are never overwritten.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, treeLeaves } from '../../src/tensor/index.js';
import { key, foldIn, uniform } from '../../src/random/index.js';
import { makeScoreSdeConfig, initScoreSdeState, scoreSdeTrainStep, type ScoreSdeTrainState } from '../../src/models/scoreSde/index.js';

const values = (s: ScoreSdeTrainState): number[][] => [...treeLeaves(s.params), ...treeLeaves(s.ema!), ...treeLeaves(s.opt as never)].map((t: Tensor) => Array.from(t.data));

describe('scoreSdeTrainStep buffer reuse', () => {
  it('U-Net: reuse on (poisoned pool) and off give identical states; kept states stay as they were', () => {
    const x = new Tensor(new Float32Array(2 * 784).map((_, i) => (i % 256) / 255), [2, 784]);
    const cfg = makeScoreSdeConfig(x, { sde: 'vp', arch: { kind: 'unet', base: 4, embedDim: 8 }, imageShape: [28, 28] });
    const batch = uniform(key(3), [4, 1, 28, 28], { low: -1, high: 1 });
    const run = (reuseBuffers: boolean | { poison: boolean; minBytes: number }) => {
      const o = { lr: 1e-3, ema: 0.9, reuseBuffers };
      const step = scoreSdeTrainStep(cfg, o);
      let s = initScoreSdeState(cfg, key(1), o);
      const kept: { s: ScoreSdeTrainState; v: number[][] }[] = [];
      const losses: number[] = [];
      for (let t = 1; t <= 4; t++) {
        const [next, info] = step(s, batch, foldIn(key(2), t));
        losses.push(info.loss);
        s = next;
        kept.push({ s, v: values(s) });
      }
      return { kept, losses };
    };
    const off = run(false);
    const on = run({ poison: true, minBytes: 0 });
    expect(on.losses).toEqual(off.losses);
    expect(on.losses.every(Number.isFinite)).toBe(true);
    for (let i = 0; i < off.kept.length; i++) {
      expect(on.kept[i].v).toEqual(off.kept[i].v);
      // A state returned by an earlier step still holds its values after the later steps ran.
      expect(values(on.kept[i].s)).toEqual(on.kept[i].v);
    }
  });
});
