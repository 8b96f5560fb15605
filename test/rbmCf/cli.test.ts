import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebm, tempDir } from '../cli/helpers.js';
import { key } from '../../src/random/index.js';
import { formatRatings, splitRatings, syntheticRatings } from '../../src/data/movielens.js';
import { classRatings, formatFeatureCsv } from '../../src/data/cfBenchmark.js';

describe('ebm train rbm-cf / ebm recommend', () => {
  it('trains, reports all baselines side by side, and recommends unrated items', async () => {
    const dir = tempDir();
    const r = join(dir, 'r.tsv'), m = join(dir, 'm.safetensors');
    writeFileSync(r, formatRatings(syntheticRatings(key(0), { nUsers: 120, nItems: 60, density: 0.2 }).ratings));
    const t = await ebm('train', 'rbm-cf', '--ratings', r, '--out', m, '--epochs', '3', '--hidden', '8', '--json');
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    const o = JSON.parse(t.stdout);
    expect(o.results.map((x: { method: string }) => x.method.split(' ')[0])).toEqual(['global', 'user', 'matrix', 'RBM-CF', 'linear']);
    for (const x of o.results) expect(x.rmse).toBeGreaterThan(0);
    expect(existsSync(m)).toBe(true);
    const rec = await ebm('recommend', m, '--user', '5', '--top', '4', '--json');
    expect(rec.code).toBe(0);
    const ro = JSON.parse(rec.stdout);
    expect(ro.recommendations).toHaveLength(4);
    expect(ro.recommendations[0].expectedRating).toBeGreaterThanOrEqual(ro.recommendations[3].expectedRating);
    const nouser = await ebm('recommend', m, '--user', '99999');
    expect(nouser.code).toBe(2);
    expect(nouser.stderr).toMatch(/--user 99999: no such user/);
  });

  it('bad ratings file: exit 2 naming file and line', async () => {
    const dir = tempDir();
    const r = join(dir, 'bad.tsv');
    writeFileSync(r, '1\t2\t5\n1\tx\t3\n');
    const t = await ebm('train', 'rbm-cf', '--ratings', r, '--out', join(dir, 'm.safetensors'));
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/bad\.tsv: line 2: column 2/);
    expect(existsSync(join(dir, 'm.safetensors'))).toBe(false);
  });

  it('side information end to end: --user-features --item-features --implicit --factored --test --predictions, then recommend and eval', async () => {
    const dir = tempDir();
    const g = classRatings(key(1), { nUsers: 150, nItems: 40, density: 0.15 });
    const { train, test } = splitRatings(g.ratings, key(2), 0.1);
    const f = (n: string): string => join(dir, n);
    writeFileSync(f('r.tsv'), formatRatings(train));
    writeFileSync(f('t.tsv'), formatRatings(test));
    writeFileSync(f('u.csv'), formatFeatureCsv(g.userFeatures, 'user'));
    writeFileSync(f('i.csv'), formatFeatureCsv(g.itemFeatures, 'item'));
    const t = await ebm('train', 'rbm-cf', '--ratings', f('r.tsv'), '--test', f('t.tsv'), '--user-features', f('u.csv'), '--item-features', f('i.csv'),
      '--implicit', '--factored', '3', '--predictions', f('p.csv'), '--out', f('m.safetensors'), '--epochs', '2', '--hidden', '6', '--blend-fraction', '0', '--json');
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    const o = JSON.parse(t.stdout);
    expect(o.test).toBe(test.rating.length);
    expect(o.method).toMatch(/conditional, factored rank 3, user features, item features/);
    expect(o.userFeatureColumns).toContain('class=c0');
    expect(o.results.map((x: { method: string }) => x.method.split(' ')[0])).toEqual(['global', 'user', 'matrix', 'RBM-CF', 'RBM-CF']);
    for (const x of o.results) expect(x.rmse).toBeGreaterThan(0);
    const lines = readFileSync(f('p.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('user,item,prediction');
    expect(lines).toHaveLength(test.rating.length + 1);
    // eval on the same test file gives the saved model's RMSE (the test ratings are not conditioned on; no blend split,
    // so eval conditions on exactly the ratings training did)
    const e = await ebm('eval', f('m.safetensors'), '--ratings', f('t.tsv'), '--json');
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    const saved = o.results.find((x: { method: string }) => x.method === o.method);
    expect(JSON.parse(e.stdout).rmse).toBeCloseTo(saved.rmse, 10);
    const rec = await ebm('recommend', f('m.safetensors'), '--user', '3', '--top', '3', '--user-features', f('u.csv'), '--json');
    expect(rec.code).toBe(0);
    expect(JSON.parse(rec.stdout).recommendations).toHaveLength(3);
    // features whose columns differ from training's: exit 2 naming the flag
    writeFileSync(f('u2.csv'), 'user,age\n1,30\n');
    const bad = await ebm('recommend', f('m.safetensors'), '--user', '3', '--user-features', f('u2.csv'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--user-features .*u2\.csv: encodes to columns/);
  }, 60_000);

  it('bad feature files: exit 2 naming file and line', async () => {
    const dir = tempDir();
    const r = join(dir, 'r.tsv');
    writeFileSync(r, formatRatings(syntheticRatings(key(0), { nUsers: 30, nItems: 20, density: 0.3 }).ratings));
    writeFileSync(join(dir, 'u.csv'), 'user,age\n1,20\n1,30\n');
    const t = await ebm('train', 'rbm-cf', '--ratings', r, '--user-features', join(dir, 'u.csv'), '--out', join(dir, 'm.safetensors'), '--epochs', '1');
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/u\.csv: line 3: id 1 appears twice/);
    writeFileSync(join(dir, 'i.csv'), 'item,genre\n999,a\n');
    const t2 = await ebm('train', 'rbm-cf', '--ratings', r, '--item-features', join(dir, 'i.csv'), '--out', join(dir, 'm.safetensors'), '--epochs', '1');
    expect(t2.code).toBe(2);
    expect(t2.stderr).toMatch(/none of its ids matches/);
    const t3 = await ebm('eval', join(dir, 'nope.safetensors'));
    expect(t3.code).toBe(2);
    expect(t3.stderr).toMatch(/--data is required/);
  });
});
