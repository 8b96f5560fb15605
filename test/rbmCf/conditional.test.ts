import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { key, foldIn, normalArray } from '../../src/random/index.js';
import type { Ratings } from '../../src/data/movielens.js';
import {
  accumulateStatistics, applyBlend, conditioningInput, createRbmCf, factorGradients, fitBlend, hiddenInput, implicitFeedback,
  loadRbmCf, predictDistribution, predictRatings, rmse, saveRbmCf, syncFactoredWeights, trainRbmCf, userFreeEnergy,
  visibleBias, zeroGradients, type CfSideInfo, type RbmCfParams,
} from '../../src/models/rbmCf/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

const K = 3, F = 3, I = 4, Du = 2, Di = 2;

/** A tiny model with every extension, random parameters. */
function tinyModel(factored: boolean): { p: RbmCfParams; side: CfSideInfo } {
  const p = createRbmCf({ nItems: I, levels: [1, 2, 3], nHidden: F, key: key(7), weightScale: 0.8, conditional: true, userFeatureDim: Du, itemFeatureDim: Di, ...(factored ? { factorRank: 2, implicitNorm: 'sqrt' as const } : {}) });
  const fill = (a: Float64Array, s: number, seed: number): void => { const z = normalArray(key(seed), a.length, 'float64'); for (let q = 0; q < a.length; q++) a[q] = s * z[q]; };
  fill(p.b, 0.5, 1); fill(p.c, 0.5, 2); fill(p.D!, 0.6, 3); fill(p.U!, 0.6, 4); fill(p.G!, 0.6, 5);
  const side: CfSideInfo = {
    implicit: { nUsers: 2, start: Int32Array.from([0, 3, 4]), item: Int32Array.from([0, 1, 2, 3]) },
    userFeatures: { rows: 2, dim: Du, x: Float64Array.from([0.7, -1.2, 1, 0]) },
    itemFeatures: { rows: I, dim: Di, x: Float64Array.from([1, 0, 0, 1, -0.5, 0.3, 0, 0]) },
  };
  return { p, side };
}

/** −E(V, h) by the definition in the module header (user 0). */
function negEnergy(p: RbmCfParams, side: CfSideInfo, items: number[], lv: number[], h: number[]): number {
  let s = 0;
  for (let q = 0; q < items.length; q++) {
    const i = items[q], k = lv[q];
    s += p.b[i * K + k];
    for (let d = 0; d < Di; d++) s += side.itemFeatures!.x[i * Di + d] * p.G![d * K + k];
    for (let j = 0; j < F; j++) s += h[j] * p.W[(i * K + k) * F + j];
  }
  for (let j = 0; j < F; j++) {
    let a = p.c[j];
    for (const i of [0, 1, 2]) a += p.D![i * F + j] * (p.implicitNorm === 'sqrt' ? 1 / Math.sqrt(3) : 1); // user 0's implicit set {0, 1, 2}
    for (let d = 0; d < Du; d++) a += side.userFeatures!.x[d] * p.U![d * F + j];
    s += h[j] * a;
  }
  return s;
}

/** Exact log p(V | r, x, y) of user 0 by enumerating all level assignments of its rated items. */
function exactLogLik(p: RbmCfParams, side: CfSideInfo, items: number[], lv: number[]): number {
  const all: number[] = [];
  for (let m = 0; m < K ** items.length; m++) {
    const l = items.map((_, q) => Math.floor(m / K ** q) % K);
    all.push(-userFreeEnergy(p, side, 0, items, l));
  }
  const mx = Math.max(...all);
  return -userFreeEnergy(p, side, 0, items, lv) - (mx + Math.log(all.reduce((s, v) => s + Math.exp(v - mx), 0)));
}

describe('conditional / factored RBM-CF with side features', () => {
  for (const factored of [false, true]) {
    it(`prediction equals brute-force marginalisation over hidden units (${factored ? 'factored' : 'full'} W, D, U, G)`, () => {
      const { p, side } = tinyModel(factored);
      const items = [0, 1], lv = [2, 0];
      const base = new Float64Array(F), a = new Float64Array(F), pr = new Float64Array(K);
      conditioningInput(p, side, 0, base);
      hiddenInput(p, items, lv, a, 0, 2, base);
      predictDistribution(p, a, 2, pr, visibleBias(p, side));
      const w = [0, 0, 0];
      for (let k = 0; k < K; k++) {
        for (let hm = 0; hm < 2 ** F; hm++) {
          const h = Array.from({ length: F }, (_, j) => (hm >> j) & 1);
          w[k] += Math.exp(negEnergy(p, side, [0, 1, 2], [2, 0, k], h));
        }
      }
      const z = w[0] + w[1] + w[2];
      for (let k = 0; k < K; k++) expect(pr[k]).toBeCloseTo(w[k] / z, 12);
      // predictRatings: the same distribution's expectation
      const known: Ratings = { user: Int32Array.from([0, 0]), item: Int32Array.from([0, 1]), rating: Float64Array.from([3, 1]), nUsers: 2, nItems: I, userIds: [1, 2], itemIds: [1, 2, 3, 4] };
      const e = predictRatings(p, known, { user: [0], item: [2] }, side)[0];
      expect(e).toBeCloseTo((w[0] * 1 + w[1] * 2 + w[2] * 3) / z, 12);
      // the model refuses to predict without what it conditions on
      expect(() => predictRatings(p, known, { user: [0], item: [2] }, { ...side, implicit: undefined })).toThrow(InvalidArgumentError);
    });
  }

  for (const norm of ['none', 'sqrt'] as const) it(`exact log-likelihood gradient (data minus model statistics) matches finite differences for W, b, c, D, U, G (implicit scaling ${norm})`, () => {
    const { p, side } = tinyModel(false);
    p.implicitNorm = norm;
    const items = [0, 2], lv = [1, 2];
    const g = zeroGradients(p);
    const ph = (l: number[]): Float64Array => {
      const base = new Float64Array(F), a = new Float64Array(F);
      conditioningInput(p, side, 0, base);
      hiddenInput(p, items, l, a, 0, items.length, base);
      return a.map((v) => 1 / (1 + Math.exp(-v)));
    };
    accumulateStatistics(p, side, 0, items, lv, ph(lv), 1, g);
    const logZ = Math.log(Array.from({ length: K * K }, (_, m) => Math.exp(-userFreeEnergy(p, side, 0, items, [m % K, Math.floor(m / K)]))).reduce((s, v) => s + v, 0));
    for (let m = 0; m < K * K; m++) {
      const l = [m % K, Math.floor(m / K)];
      accumulateStatistics(p, side, 0, items, l, ph(l), -Math.exp(-userFreeEnergy(p, side, 0, items, l) - logZ), g);
    }
    const eps = 1e-6;
    for (const name of ['W', 'b', 'c', 'D', 'U', 'G'] as const) {
      const x = p[name]!, gx = g[name]!;
      let checked = 0;
      for (let q = 0; q < x.length; q++) {
        const x0 = x[q];
        x[q] = x0 + eps; const lp = exactLogLik(p, side, items, lv);
        x[q] = x0 - eps; const lm = exactLogLik(p, side, items, lv);
        x[q] = x0;
        expect(gx[q]).toBeCloseTo((lp - lm) / (2 * eps), 6);
        if (gx[q] !== 0) checked++;
      }
      expect(checked).toBeGreaterThan(0);
    }
  });

  it('factored model: the chain rule through W = A·B matches finite differences in A and B', () => {
    const { p, side } = tinyModel(true);
    const f = p.factors!;
    const items = [1, 3], lv = [0, 2];
    // ∂ log p / ∂W by finite differences on W itself (W is a free function argument here)
    const dW = new Float64Array(p.W.length), eps = 1e-6;
    for (let q = 0; q < p.W.length; q++) {
      const w0 = p.W[q];
      p.W[q] = w0 + eps; const lp = exactLogLik(p, side, items, lv);
      p.W[q] = w0 - eps; const lm = exactLogLik(p, side, items, lv);
      p.W[q] = w0;
      dW[q] = (lp - lm) / (2 * eps);
    }
    const { dA, dB } = factorGradients(f, dW, F);
    for (const [x, gx] of [[f.A, dA], [f.B, dB]] as const) {
      for (let q = 0; q < x.length; q++) {
        const x0 = x[q];
        x[q] = x0 + eps; syncFactoredWeights(p); const lp = exactLogLik(p, side, items, lv);
        x[q] = x0 - eps; syncFactoredWeights(p); const lm = exactLogLik(p, side, items, lv);
        x[q] = x0; syncFactoredWeights(p);
        expect(gx[q]).toBeCloseTo((lp - lm) / (2 * eps), 5);
      }
    }
  });

  it('training returns new parameters, leaves its input alone and is deterministic given the key', () => {
    const { p, side } = tinyModel(true);
    const r: Ratings = { user: Int32Array.from([0, 0, 1]), item: Int32Array.from([0, 1, 3]), rating: Float64Array.from([1, 3, 2]), nUsers: 2, nItems: I, userIds: [1, 2], itemIds: [1, 2, 3, 4] };
    const before = p.factors!.A.slice();
    const a = trainRbmCf(p, r, key(1), { epochs: 3, side });
    const b = trainRbmCf(p, r, key(1), { epochs: 3, side });
    expect(Array.from(p.factors!.A)).toEqual(Array.from(before));
    expect(Array.from(a.params.W)).toEqual(Array.from(b.params.W));
    expect(Array.from(a.params.G!)).toEqual(Array.from(b.params.G!));
    expect(Array.from(a.params.W)).not.toEqual(Array.from(p.W));
    expect(() => trainRbmCf(p, r, key(1), { epochs: 1 })).toThrow(InvalidArgumentError); // side info missing
  });

  it('planted signal: user and item features that carry the class lower RMSE for cold users and items (3 seeds, margins 0.3 users / 0.15 items)', () => {
    // 2 user classes, 24 items: 12 "sensitive" items (class 0 rates even items 5, odd 1; class 1 the reverse) and 12
    // items whose level is the same for everyone and given by an item feature ("good" even items → 5, "bad" odd → 1).
    // Warm users rate many items; cold users rated only class-neutral items in training, so their ratings say nothing
    // about their class — only the user feature (their class, one-hot) does. Items 20–23 are cold items that nobody
    // rated in training: only the item feature (learned on items 12–19) tells their level.
    for (const seed of [0, 1, 2]) {
      const k = key(100 + seed), nU = 240, nI = 24;
      const z = normalArray(foldIn(k, 1), nU * nI, 'float64');
      const cls = Array.from({ length: nU }, (_, u) => u % 2);
      const good = (i: number): boolean => i % 2 === 0;
      const level = (u: number, i: number): number => (i >= 12 ? (good(i) ? 5 : 1) : (i % 2 === cls[u] ? 5 : 1));
      const tr: [number, number, number][] = [], te: [number, number, number][] = [];
      for (let u = 0; u < nU; u++) {
        const cold = u >= 160;
        for (let i = 0; i < nI; i++) {
          const on = z[u * nI + i] < 0.3; // ~60 % of pairs
          if (i >= 20) { if (on && u >= 200) te.push([u, i, level(u, i)]); continue; }
          if (!on) continue;
          if (cold && i < 12) te.push([u, i, level(u, i)]);
          else tr.push([u, i, level(u, i)]);
        }
      }
      const mk = (t: [number, number, number][]): Ratings => ({ user: Int32Array.from(t, (x) => x[0]), item: Int32Array.from(t, (x) => x[1]), rating: Float64Array.from(t, (x) => x[2]), nUsers: nU, nItems: nI, userIds: Array.from({ length: nU }, (_, u) => u + 1), itemIds: Array.from({ length: nI }, (_, i) => i + 1) });
      const train = mk(tr), test = mk(te);
      const itemFeatures = { rows: nI, dim: 2, x: Float64Array.from({ length: nI * 2 }, (_, q) => { const i = q >> 1; return i >= 12 && good(i) === (q % 2 === 0) ? 1 : 0; }) };
      const userFeatures = { rows: nU, dim: 2, x: Float64Array.from({ length: nU * 2 }, (_, q) => (cls[q >> 1] === q % 2 ? 1 : 0)) };
      const opts = { epochs: 30, batchSize: 10, cdSteps: 1 } as const;
      const levels = [1, 3, 5];
      const coldItem = Array.from(test.item, (i) => i >= 20);
      const fit = (u: boolean, it: boolean): [number, number] => {
        const p0 = createRbmCf({ nItems: nI, levels, nHidden: 6, key: foldIn(k, 2), weightScale: 0.3, ratings: train, ...(u ? { userFeatureDim: 2 } : {}), ...(it ? { itemFeatureDim: 2 } : {}) });
        const side: CfSideInfo = { ...(u ? { userFeatures } : {}), ...(it ? { itemFeatures } : {}) };
        const { params } = trainRbmCf(p0, train, foldIn(k, 3), { ...opts, side });
        const pr = predictRatings(params, train, test, side);
        const part = (cold: boolean): number => rmse(pr.filter((_, q) => coldItem[q] === cold), test.rating.filter((_, q) => coldItem[q] === cold));
        return [part(false), part(true)]; // [cold users on warm items, cold items]
      };
      const plain = fit(false, false), userF = fit(true, false), itemF = fit(false, true);
      expect(userF[0]).toBeLessThan(plain[0] - 0.3); // the user feature identifies a cold user's class
      expect(itemF[1]).toBeLessThan(plain[1] - 0.15); // the item feature tells a cold item's level
    }
  }, 30_000);

  it('implicit feedback sets are the distinct items per user across sets', () => {
    const a = { user: [0, 0, 1], item: [2, 1, 0], nUsers: 3, nItems: 4 }, b = { user: [0, 2], item: [2, 3], nUsers: 3, nItems: 4 };
    const r = implicitFeedback(a, b);
    expect(Array.from(r.start)).toEqual([0, 2, 3, 4]);
    expect(Array.from(r.item)).toEqual([1, 2, 0, 3]);
    expect(() => implicitFeedback(a, { ...b, nItems: 5 })).toThrow(InvalidArgumentError);
  });

  it('blend: recovers exact weights on noiseless linear data; clips; rejects bad input', () => {
    const n = 50, p1 = Float64Array.from({ length: n }, (_, q) => Math.sin(q)), p2 = Float64Array.from({ length: n }, (_, q) => Math.cos(q * 0.7));
    const y = Float64Array.from({ length: n }, (_, q) => 0.5 + 0.3 * p1[q] + 0.9 * p2[q]);
    const bl = fitBlend([p1, p2], y, { ridge: 0, lo: -10, hi: 10 });
    expect(bl.intercept).toBeCloseTo(0.5, 6);
    expect(bl.weights[0]).toBeCloseTo(0.3, 6);
    expect(bl.weights[1]).toBeCloseTo(0.9, 6);
    expect(applyBlend({ ...bl, lo: 0, hi: 1 }, [[100], [100]])[0]).toBe(1);
    expect(() => fitBlend([p1], y.subarray(1))).toThrow(InvalidArgumentError);
    expect(() => fitBlend([Float64Array.from([NaN])], [1])).toThrow(InvalidArgumentError);
  });

  it('saves and loads a factored conditional model with features; predictions agree', async () => {
    const { p, side } = tinyModel(true);
    const r: Ratings = { user: Int32Array.from([0, 0, 0, 1]), item: Int32Array.from([0, 1, 2, 3]), rating: Float64Array.from([1, 3, 2, 2]), nUsers: 2, nItems: I, userIds: [1, 2], itemIds: [1, 2, 3, 4] };
    const path = join(mkdtempSync(join(tmpdir(), 'rbmcf-')), 'm.safetensors');
    await saveRbmCf(path, p, r, { seed: 1 }, { user: { ...side.userFeatures!, names: ['a', 'b'] }, item: { ...side.itemFeatures!, names: ['c', 'd'] } });
    const back = await loadRbmCf(path);
    expect(back.params.factors!.rank).toBe(2);
    expect(back.params.implicitNorm).toBe('sqrt');
    expect(Array.from(back.params.W)).toEqual(Array.from(p.W));
    expect(back.features.user!.names).toEqual(['a', 'b']);
    const q = { user: [0, 1], item: [3, 0] };
    const known = { ...r, user: r.user.subarray(0, 2), item: r.item.subarray(0, 2), rating: r.rating.subarray(0, 2) };
    expect(Array.from(predictRatings(back.params, known, q, back.side))).toEqual(Array.from(predictRatings(p, known, q, back.side)));
    await expect(saveRbmCf(path, p, r)).rejects.toThrow(InvalidArgumentError); // features missing
  });
});
