/**
 * The mlp-energy training steps (DSM, SSM — a gradient of a gradient — and CD with a replay buffer) with buffer reuse
 * (the default) give the same states, bit for bit, as without it, also when every reused buffer is handed out filled
 * with NaN; states kept by the caller are never overwritten.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, treeLeaves } from '../../src/tensor/index.js';
import { key, foldIn, normal } from '../../src/random/index.js';
import { ula } from '../../src/samplers/index.js';
import { contrastiveDivergence } from '../../src/losses/contrastiveDivergence.js';
import type { MLPParams } from '../../src/nn/index.js';
import {
  makeMlpEnergyConfig, initMlpEnergyState, mlpEnergyTrainStep, mlpEnergyCdTrainStep, energyZ, standardize,
  type MlpEnergyTrainState, type MlpEnergyCdTrainState,
} from '../../src/models/mlpEnergy/index.js';

const values = (s: MlpEnergyTrainState): number[][] => [...treeLeaves(s.params), ...treeLeaves(s.opt as never)].map((t: Tensor) => Array.from(t.data));
type Reuse = boolean | { poison: boolean; minBytes: number };
const POISONED: Reuse = { poison: true, minBytes: 0 };

describe('mlp-energy training steps with buffer reuse', () => {
  const x = normal(key(5), [64, 2]);
  for (const loss of ['dsm', 'ssm'] as const) {
    it(`${loss}: reuse on (poisoned pool) and off give identical states; kept states stay as they were`, () => {
      const cfg = makeMlpEnergyConfig(x, { hidden: [16, 16], loss });
      const z = standardize(cfg, x);
      const run = (reuseBuffers: Reuse) => {
        const o = { lr: 1e-2, reuseBuffers };
        const step = mlpEnergyTrainStep(cfg, o);
        let s = initMlpEnergyState(cfg, key(1), o);
        const kept: { s: MlpEnergyTrainState; v: number[][] }[] = [];
        const losses: number[] = [];
        for (let t = 1; t <= 4; t++) {
          const [next, info] = step(s, z, foldIn(key(2), t));
          losses.push(info.loss);
          s = next;
          kept.push({ s, v: values(s) });
        }
        return { kept, losses };
      };
      const off = run(false);
      const on = run(POISONED);
      expect(on.losses.every(Number.isFinite)).toBe(true);
      expect(on.losses).toEqual(off.losses);
      for (let i = 0; i < off.kept.length; i++) {
        expect(on.kept[i].v).toEqual(off.kept[i].v);
        expect(values(on.kept[i].s)).toEqual(on.kept[i].v);
      }
    });
  }

  it('cd (replay buffer): reuse on (poisoned pool) and off give identical states and buffers', () => {
    const cfg = makeMlpEnergyConfig(x, { hidden: [16, 16], loss: 'dsm' });
    const z = standardize(cfg, x);
    const run = (reuseBuffers: Reuse) => {
      const cd = contrastiveDivergence<MLPParams>({ energy: (p) => ({ dim: 2, energy: (q: Tensor) => energyZ(p, cfg, q) }), sampler: (E) => ula(E, { stepSize: 0.01 }), steps: 5, negatives: 'buffer' });
      const o = { lr: 1e-2, reuseBuffers };
      const step = mlpEnergyCdTrainStep(cd, o);
      const s0 = initMlpEnergyState(cfg, key(1), o);
      let s: MlpEnergyCdTrainState = { ...s0, cd: cd.initState(key(3), s0.params, z) };
      const kept: { s: MlpEnergyCdTrainState; v: number[][] }[] = [];
      const all = (q: MlpEnergyCdTrainState) => [...values(q), ...treeLeaves(q.cd as never).map((t: Tensor) => Array.from(t.data))];
      for (let t = 1; t <= 4; t++) {
        [s] = step(s, z, foldIn(key(2), t));
        kept.push({ s, v: all(s) });
      }
      return { kept, all };
    };
    const off = run(false);
    const on = run(POISONED);
    for (let i = 0; i < off.kept.length; i++) {
      expect(on.kept[i].v.flat().every(Number.isFinite)).toBe(true);
      expect(on.kept[i].v).toEqual(off.kept[i].v);
      expect(on.all(on.kept[i].s)).toEqual(on.kept[i].v);
    }
  });
});
