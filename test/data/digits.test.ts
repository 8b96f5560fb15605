import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { loadDataSpec, parseDigitsCsv, SKLEARN_DIGITS_PATH } from '../../src/data/spec.js';
import { DataError } from '../../src/io/errors.js';

describe('digits data source', () => {
  it('parses pixels 0…16 to [0, 1] with labels and names bad lines', () => {
    const row = (v: number, lab: number) => [...new Array(64).fill(v), lab].join(',');
    const d = parseDigitsCsv(`${row(16, 3)}\n${row(8, 7)}\n`, 'd.csv');
    expect(d.x.shape).toEqual([2, 64]);
    expect(d.x.data[0]).toBe(1);
    expect(d.x.data[64]).toBe(0.5);
    expect(Array.from(d.labels)).toEqual([3, 7]);
    expect(() => parseDigitsCsv(row(17, 1), 'd.csv')).toThrow(/row 1.*column 1|pixel/);
    expect(() => parseDigitsCsv(row(1, 1) + ',2', 'd.csv')).toThrow(DataError);
    expect(() => parseDigitsCsv(row(1, 12), 'd.csv')).toThrow(/label/);
  });

  it.skipIf(!existsSync(SKLEARN_DIGITS_PATH))('loads the 1797 sklearn digits as 8×8 images', async () => {
    const d = await loadDataSpec('digits');
    expect(d.rows).toBe(1797);
    expect(d.cols).toBe(64);
    expect(d.imageShape).toEqual([8, 8]);
    expect(d.source).toBe('digits');
    let mx = 0, mn = 1;
    for (const v of d.x.data) { mx = Math.max(mx, v); mn = Math.min(mn, v); }
    expect(mn).toBe(0);
    expect(mx).toBe(1);
    // Roughly balanced classes (~180 each).
    const counts = new Array(10).fill(0);
    for (const l of d.labels!) counts[l]++;
    for (const c of counts) expect(c).toBeGreaterThan(170);
    expect((await loadDataSpec('digits:8x8', { limit: 10 })).rows).toBe(10);
    await expect(loadDataSpec('digits:16x16')).rejects.toThrow(/unknown digits variant/);
  });
});
