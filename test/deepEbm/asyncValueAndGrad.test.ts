/**
 * `trainDeepEbmAsync` with an asynchronous `valueAndGrad` (the contract the WebGPU CD step uses): the same run as the
 * synchronous trainer, a rejected step handled by the guard like a thrown one, and a clear error from the synchronous
 * trainer.
 */
import { describe, it, expect } from 'vitest';
import { key, normalArray } from '../../src/random/index.js';
import { ula } from '../../src/samplers/index.js';
import { Tensor } from '../../src/tensor/index.js';
import { contrastiveDivergence, cdValueAndGrad, CDDivergenceError } from '../../src/losses/contrastiveDivergence.js';
import { parseArch, initDeepEbm, deepEbmEnergy, trainDeepEbm, trainDeepEbmAsync, type DeepEbmConfig } from '../../src/models/deepEbm/index.js';

const cfg: DeepEbmConfig = { arch: parseArch('mlp:2-6-1'), activation: 'silu', shift: [0], scale: [1], confine: 0.1 };
const cd = contrastiveDivergence({
  energy: (p: Record<string, Tensor>) => deepEbmEnergy(p, cfg), sampler: (E) => ula(E, { stepSize: 0.01 }), steps: 2,
  negatives: 'buffer', bufferSize: 40, reinitFrom: { kind: 'uniform', low: -3, high: 3 },
});
const data = new Tensor(normalArray(key(1), 120, 'float32'), [60, 2]);
const base = { params: initDeepEbm(key(2), cfg), loss: cd, data, steps: 6, batchSize: 8, key: key(3), lr: 1e-2 };
const sync = cdValueAndGrad(cd);

describe('trainDeepEbmAsync with an asynchronous valueAndGrad', () => {
  it('computes what the synchronous trainer computes', async () => {
    const want = trainDeepEbm(base);
    const got = await trainDeepEbmAsync({ ...base, valueAndGrad: async (...a) => sync(...a) });
    for (const k of Object.keys(want.params)) expect(Array.from(got.params[k].data)).toEqual(Array.from(want.params[k].data));
    expect(Array.from(got.state.buffer!.data)).toEqual(Array.from(want.state.buffer!.data));
  });

  it('rolls back when a step rejects with a divergence, as when it throws', async () => {
    let calls = 0;
    const failOnce = (async (...a: Parameters<typeof sync>) => {
      calls++;
      if (calls === 4) throw new CDDivergenceError('injected divergence');
      return sync(...a);
    });
    const r = await trainDeepEbmAsync({ ...base, valueAndGrad: failOnce, guard: { snapshotEvery: 2 } });
    expect(r.events.length).toBe(1);
    expect(r.events[0].reason).toMatch(/injected divergence/);
    expect(r.history[r.history.length - 1].step).toBe(6);
  });

  it('is refused by the synchronous trainer', () => {
    expect(() => trainDeepEbm({ ...base, valueAndGrad: async (...a) => sync(...a) })).toThrow(/trainDeepEbmAsync/);
  });
});
