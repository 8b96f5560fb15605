/** `subset`: n rows drawn without replacement, in their original order, with their labels; the draw follows the key. */
import { describe, it, expect } from 'vitest';
import { loadDataSpec } from '../../src/data/spec.js';
import { key } from '../../src/random/index.js';
import { DataError } from '../../src/io/errors.js';

describe('loadDataSpec subset', () => {
  it('keeps n distinct rows of the source in order, with their labels, reproducibly', async () => {
    const full = await loadDataSpec('mnist:test', { limit: 500 });
    const a = await loadDataSpec('mnist:test', { limit: 500, subset: { n: 60, key: key(3) } });
    const b = await loadDataSpec('mnist:test', { limit: 500, subset: { n: 60, key: key(3) } });
    const c = await loadDataSpec('mnist:test', { limit: 500, subset: { n: 60, key: key(4) } });
    expect(a.rows).toBe(60);
    expect(a.x.shape).toEqual([60, 784]);
    expect(a.imageShape).toEqual([28, 28]);
    expect(Array.from(a.x.data)).toEqual(Array.from(b.x.data));
    expect(Array.from(a.x.data)).not.toEqual(Array.from(c.x.data));
    // Each kept row is a source row (found by content), in increasing source position, with that row's label.
    let last = -1;
    const rowOf = (d: typeof full, i: number) => Array.from(d.x.data.subarray(i * 784, (i + 1) * 784)).join(',');
    const index = new Map<string, number[]>();
    for (let i = 0; i < full.rows; i++) index.set(rowOf(full, i), [...(index.get(rowOf(full, i)) ?? []), i]);
    let spread = 0;
    for (let i = 0; i < a.rows; i++) {
      const pos = (index.get(rowOf(a, i)) ?? []).find((p) => p > last);
      expect(pos).toBeDefined();
      expect(a.labels![i]).toBe(full.labels![pos!]);
      spread = Math.max(spread, pos!);
      last = pos!;
    }
    // Drawn from the whole source, not its head: the last kept row sits past the first 60 (P(fail) ≈ 0).
    expect(spread).toBeGreaterThan(300);
  });

  it('refuses more rows than the source has, or a non-positive count, naming the flag', async () => {
    await expect(loadDataSpec('mnist:test', { limit: 10, subset: { n: 11, key: key(0) } })).rejects.toThrow(DataError);
    await expect(loadDataSpec('mnist:test', { limit: 10, subset: { n: 11, key: key(0) } })).rejects.toThrow(/11 rows.*has 10/);
    await expect(loadDataSpec('mnist:test', { subset: { n: 0, key: key(0) } })).rejects.toThrow(/positive integer/);
  });
});
