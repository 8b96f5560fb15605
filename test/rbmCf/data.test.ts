import { describe, expect, it } from 'vitest';
import { key } from '../../src/random/index.js';
import { DataError } from '../../src/io/errors.js';
import { parseRatings, ratingLevels, splitRatings, syntheticRatings, formatRatings } from '../../src/data/movielens.js';

describe('MovieLens-format loader', () => {
  it('reads tab, comma, :: and space separated files, with or without header and timestamp', () => {
    const tab = parseRatings('196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n');
    expect(tab.nUsers).toBe(2);
    expect(tab.nItems).toBe(3);
    expect(Array.from(tab.rating)).toEqual([3, 3, 1]);
    expect(tab.userIds).toEqual([196, 186]);
    expect(Array.from(tab.user)).toEqual([0, 1, 0]);
    const csv = parseRatings('userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n');
    expect(csv.rating.length).toBe(2);
    expect(ratingLevels(csv)).toEqual([2.5, 3]);
    const ml1m = parseRatings('1::1193::5::978300760\n2::1193::4::978298413\n');
    expect(ml1m.nUsers).toBe(2);
    expect(ml1m.nItems).toBe(1);
    expect(parseRatings('# comment\n\n1 2 4\n').rating[0]).toBe(4);
  });

  it('names file, line and column on bad input', () => {
    const bad = (t: string): string => { try { parseRatings(t, { file: 'r.tsv' }); } catch (e) { expect(e).toBeInstanceOf(DataError); return (e as Error).message; } return 'no error'; };
    expect(bad('1\t2\t3\n1\tx\t4\n')).toMatch(/r\.tsv: line 2: column 2: item id "x"/);
    expect(bad('1\t2\t3\n1\t3\tNaN\n')).toMatch(/line 2: column 3: rating "NaN"/);
    expect(bad('1\t2\t3\n1\t2\t4\n')).toMatch(/line 2: user 1 rates item 2 twice \(first on line 1\)/);
    expect(bad('1\t2\t3\n4\t5\n')).toMatch(/line 2: expected at least 3 fields/);
    expect(bad('\n')).toMatch(/no ratings/);
  });

  it('synthetic ratings: levels in range, density within binomial error, round trip through text', () => {
    const nU = 200, nI = 100, d = 0.1;
    const { ratings, score } = syntheticRatings(key(0), { nUsers: nU, nItems: nI, density: d });
    const n = ratings.rating.length;
    const se = Math.sqrt(nU * nI * d * (1 - d));
    expect(Math.abs(n - nU * nI * d)).toBeLessThan(4 * se);
    expect(score.length).toBe(n);
    for (const v of ratings.rating) expect([1, 2, 3, 4, 5]).toContain(v);
    expect(ratingLevels(ratings).length).toBe(5);
    const back = parseRatings(formatRatings(ratings));
    expect(back.rating.length).toBe(n);
    const { train, test } = splitRatings(ratings, key(1), 0.2);
    expect(test.rating.length).toBe(Math.round(0.2 * n));
    expect(train.rating.length + test.rating.length).toBe(n);
  });
});
