import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebm, tempDir } from '../cli/helpers.js';
import { key } from '../../src/random/index.js';
import { formatRatings, syntheticRatings } from '../../src/data/movielens.js';

describe('ebm train rbm-cf / ebm recommend', () => {
  it('trains, reports all baselines side by side, and recommends unrated items', async () => {
    const dir = tempDir();
    const r = join(dir, 'r.tsv'), m = join(dir, 'm.safetensors');
    writeFileSync(r, formatRatings(syntheticRatings(key(0), { nUsers: 120, nItems: 60, density: 0.2 }).ratings));
    const t = await ebm('train', 'rbm-cf', '--ratings', r, '--out', m, '--epochs', '3', '--hidden', '8', '--json');
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    const o = JSON.parse(t.stdout);
    expect(o.results.map((x: { method: string }) => x.method.split(' ')[0])).toEqual(['global', 'user', 'matrix', 'RBM-CF']);
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
});
