import { describe, expect, it } from 'vitest';
import { key } from '../../src/random/index.js';
import { DataError } from '../../src/io/errors.js';
import { parseRatings } from '../../src/data/movielens.js';
import { classRatings, formatFeatureCsv, CLASS_RATING_THRESHOLDS } from '../../src/data/cfBenchmark.js';
import { alignRatings, concatRatings, encodeFeatures, parseFeatureTable } from '../../src/models/rbmCf/index.js';

describe('RBM-CF side data', () => {
  it('feature tables: numeric columns standardised, categorical one-hot, missing ids zero', () => {
    const t = parseFeatureTable('user,age,gender\n1,20,M\n2,40,F\n3,30,M\n');
    expect(t.columns).toEqual(['age', 'gender']);
    const f = encodeFeatures(t, [3, 1, 9]);
    expect(f.names).toEqual(['age', 'gender=F', 'gender=M']);
    expect(f.missing).toEqual([9]);
    const sd = Math.sqrt(200 / 3);
    expect(Array.from(f.x)).toEqual([0, 0, 1, -10 / sd, 0, 1, 0, 0, 0]);
    expect(() => parseFeatureTable('user,a\n1,2\n1,3\n', 'u.csv')).toThrow(DataError);
    expect(() => parseFeatureTable('user,a\n1,2,3\n', 'u.csv')).toThrow(/line 2: has 3 fields/);
    expect(() => parseFeatureTable('user,a\nx,2\n', 'u.csv')).toThrow(/column 1: id "x"/);
  });

  it('aligns a test file onto the training numbering, appending unseen users and items', () => {
    const a = parseRatings('1\t10\t3\n2\t20\t4\n'), b = parseRatings('2\t10\t5\n3\t30\t1\n');
    const { a: a2, b: b2 } = alignRatings(a, b);
    expect(a2.userIds).toEqual([1, 2, 3]);
    expect(a2.itemIds).toEqual([10, 20, 30]);
    expect(Array.from(b2.user)).toEqual([1, 2]);
    expect(Array.from(b2.item)).toEqual([0, 2]);
    expect(Array.from(a2.user)).toEqual(Array.from(a.user));
    expect(concatRatings(a2, b2).rating.length).toBe(4);
  });

  it('latent-class generator: deterministic, levels from thresholds, self-selected observation, null features shuffled', () => {
    const g = classRatings(key(3), { nUsers: 300, nItems: 60, density: 0.1 });
    const g2 = classRatings(key(3), { nUsers: 300, nItems: 60, density: 0.1 });
    expect(Array.from(g2.ratings.rating)).toEqual(Array.from(g.ratings.rating));
    const n = g.ratings.rating.length;
    expect(n / (300 * 60)).toBeGreaterThan(0.08);
    expect(n / (300 * 60)).toBeLessThan(0.12);
    for (const v of g.ratings.rating) expect([1, 2, 3, 4, 5]).toContain(v);
    expect(CLASS_RATING_THRESHOLDS).toHaveLength(4);
    // users rate more of what they like: the observed mean score beats the missing-at-random one by a wide margin
    const mar = classRatings(key(3), { nUsers: 300, nItems: 60, density: 0.1, mnar: 0 });
    const m = (v: Float64Array): number => v.reduce((s, x) => s + x, 0) / v.length;
    expect(m(g.score)).toBeGreaterThan(m(mar.score) + 0.3);
    // null tables: same rows, other order
    const rows = (c: string[][]): string[] => c.map((r) => r.join(',')).sort();
    expect(rows(g.userFeaturesNull.cells)).toEqual(rows(g.userFeatures.cells));
    expect(g.userFeaturesNull.cells.map((r) => r.join(','))).not.toEqual(g.userFeatures.cells.map((r) => r.join(',')));
    // the class feature agrees with the latent class far above chance (1/6) but not always (featureNoise 0.15)
    const agree = g.userFeatures.cells.filter((r, u) => r[0] === `c${g.userClass[u]}`).length / 300;
    expect(agree).toBeGreaterThan(0.75);
    expect(agree).toBeLessThan(0.97);
    const csv = formatFeatureCsv(g.itemFeatures, 'item');
    expect(csv.split('\n')[0]).toBe('item,genre,appeal,noise1,noise2');
    expect(encodeFeatures(parseFeatureTable(csv), g.ratings.itemIds).dim).toBe(5 + 1 + 1 + 3);
  });
});
