import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { key } from '../../src/random/index.js';
import { splitRatings, syntheticRatings, type Ratings } from '../../src/data/movielens.js';
import {
  compareCf, compareCfAsync, createRbmCf, trainRbmCf, trainRbmCfAsync, fitBiases, fitGlobalMean, hiddenInput, loadRbmCf, predictDistribution, predictRatings,
  recommendForUser, rmse, saveRbmCf, cdStepsAt,
} from '../../src/models/rbmCf/index.js';

function tiny(): Ratings {
  return { user: Int32Array.from([0, 0, 1]), item: Int32Array.from([0, 1, 1]), rating: Float64Array.from([1, 3, 2]), nUsers: 2, nItems: 3, userIds: [10, 20], itemIds: [100, 200, 300] };
}

describe('RBM-CF', () => {
  it('predictive distribution equals brute-force marginalisation over the hidden units', () => {
    const p = createRbmCf({ nItems: 3, levels: [1, 2, 3], nHidden: 4, key: key(0), weightScale: 1 });
    for (let q = 0; q < p.b.length; q++) p.b[q] = 0.3 * Math.sin(q);
    for (let j = 0; j < 4; j++) p.c[j] = 0.2 * j - 0.3;
    // user rated item 0 = level 0 and item 1 = level 2; query item 2
    const items = [0, 1], lv = [0, 2];
    const a = new Float64Array(4);
    hiddenInput(p, items, lv, a);
    const pr = new Float64Array(3);
    predictDistribution(p, a, 2, pr);
    // brute force: p(v_2 = k | V) ∝ Σ_h exp(−E(V, v_2 = k, h))
    const w = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      for (let hm = 0; hm < 16; hm++) {
        let negE = p.b[0 * 3 + 0] + p.b[1 * 3 + 2] + p.b[2 * 3 + k];
        for (let j = 0; j < 4; j++) {
          if (!(hm & (1 << j))) continue;
          negE += p.c[j] + p.W[(0 * 3 + 0) * 4 + j] + p.W[(1 * 3 + 2) * 4 + j] + p.W[(2 * 3 + k) * 4 + j];
        }
        w[k] += Math.exp(negE);
      }
    }
    const z = w[0] + w[1] + w[2];
    for (let k = 0; k < 3; k++) expect(pr[k]).toBeCloseTo(w[k] / z, 12);
  });

  it('CD steps increase over the phases', () => {
    expect([0, 3, 4, 7, 8, 11].map((e) => cdStepsAt([1, 3, 5], e, 12))).toEqual([1, 1, 3, 3, 5, 5]);
    expect(cdStepsAt(2, 5, 10)).toBe(2);
  });

  it('rejects ratings that are not model levels and bad queries', () => {
    const p = createRbmCf({ nItems: 3, levels: [1, 2], key: key(0) });
    expect(() => predictRatings(p, tiny(), { user: [0], item: [2] })).toThrow(/is 3, not one of the model's levels/);
    const p2 = createRbmCf({ nItems: 3, levels: [1, 2, 3], key: key(0) });
    expect(() => predictRatings(p2, tiny(), { user: [5], item: [0] })).toThrow(/user index 5/);
  });

  it('on synthetic low-rank ratings the RBM beats the user+item bias baseline; all baselines reported', () => {
    const { ratings } = syntheticRatings(key(0), { nUsers: 2000, nItems: 200, rank: 5, density: 0.1 });
    const { train, test } = splitRatings(ratings, key(1), 0.1);
    const { scores } = compareCf(train, test, key(2), { nHidden: 20, epochs: 14, weightScale: 0.3, blendFraction: 0 });
    const by = Object.fromEntries(scores.map((s) => [s.method.split(' ')[0], s.rmse]));
    expect(scores.map((s) => s.method)).toHaveLength(4);
    // biases beat the global mean, MF beats biases (a low-rank truth)
    expect(by.user).toBeLessThan(by.global);
    expect(by.matrix).toBeLessThan(by.user);
    // the done criterion: RBM-CF below the bias baseline's RMSE, by a margin well above the paired noise (~0.005 at 4k ratings)
    expect(by['RBM-CF']).toBeLessThan(by.user - 0.03);
    for (const s of scores) expect(Number.isFinite(s.rmse)).toBe(true);
  }, 60_000);

  it('baselines: global mean is the mean; RMSE is computed exactly', () => {
    const r = tiny();
    expect(fitGlobalMean(r).mu).toBeCloseTo(2, 12);
    expect(rmse([1, 2], [2, 4])).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(() => rmse([NaN], [1])).toThrow(/prediction 0 is NaN/);
    const b = fitBiases(r, { lambda: 0 });
    expect(Array.from(b.predict(r))).toEqual(expect.arrayContaining([expect.any(Number)]));
  });

  it('saves and loads the model with its ratings; recommendations skip rated items', async () => {
    const { ratings } = syntheticRatings(key(3), { nUsers: 50, nItems: 30, density: 0.3 });
    const p = createRbmCf({ nItems: 30, levels: [1, 2, 3, 4, 5], nHidden: 6, key: key(4), ratings });
    const path = join(mkdtempSync(join(tmpdir(), 'rbmcf-')), 'm.safetensors');
    await saveRbmCf(path, p, ratings, { seed: 4 });
    const back = await loadRbmCf(path);
    expect(Array.from(back.params.W)).toEqual(Array.from(p.W));
    expect(back.params.levels).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(back.ratings.rating)).toEqual(Array.from(ratings.rating));
    const recs = recommendForUser(back.params, back.ratings, 0, 5);
    expect(recs).toHaveLength(5);
    const rated = new Set<number>();
    for (let q = 0; q < ratings.user.length; q++) if (ratings.user[q] === 0) rated.add(ratings.item[q]);
    for (const r of recs) expect(rated.has(r.item)).toBe(false);
    for (let i = 1; i < recs.length; i++) expect(recs[i].expected).toBeLessThanOrEqual(recs[i - 1].expected);
  });
});

describe('trainRbmCfAsync / compareCfAsync', () => {
  it('compute exactly what the synchronous versions compute, and stop after a mini-batch when aborted', async () => {
    const { ratings } = syntheticRatings(key(3), { nUsers: 60, nItems: 30, density: 0.3 });
    const { train, test } = splitRatings(ratings, key(4), 0.2);
    const p0 = createRbmCf({ nItems: train.nItems, levels: [1, 2, 3, 4, 5], nHidden: 6, key: key(5), ratings: train });
    const opts = { epochs: 3, batchSize: 10 };
    const sync = trainRbmCf(p0, train, key(6), opts);
    const asy = await trainRbmCfAsync(p0, train, key(6), opts, { yieldMs: 0 });
    expect(asy.stoppedIn).toBeUndefined();
    expect(Array.from(asy.params.W)).toEqual(Array.from(sync.params.W));
    expect(asy.reconError).toEqual(sync.reconError);
    const ac = new AbortController();
    const stopped = await trainRbmCfAsync(p0, train, key(6), { ...opts, onEpoch: (e) => { if (e.epoch === 2) ac.abort(); } }, { signal: ac.signal });
    expect(stopped.stoppedIn).toBe(3); // aborted at the end of epoch 2: stops after the first batch of epoch 3
    const c = compareCf(train, test, key(7), { nHidden: 6, epochs: 2, variants: [{}, { conditional: true }] });
    const ca = await compareCfAsync(train, test, key(7), { nHidden: 6, epochs: 2, variants: [{}, { conditional: true }] }, { yieldMs: 0 });
    expect('stoppedIn' in ca).toBe(false);
    if (!('stoppedIn' in ca)) expect(ca.scores.map((s) => s.rmse)).toEqual(c.scores.map((s) => s.rmse));
  });
});
