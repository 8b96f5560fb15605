import { describe, expect, it } from 'vitest';
import { epochBatchIndices } from '../../src/data/batches.js';
import { key } from '../../src/random/index.js';

describe('epochBatchIndices', () => {
  it('visits every row once per epoch, runs across epoch boundaries, and batch t depends only on (key, t)', () => {
    const n = 10, B = 4;
    const f = epochBatchIndices(key(3), n, B);
    const first = [1, 2, 3, 4, 5].map((t) => Array.from(f(t))).flat(); // 20 positions = 2 epochs
    expect([...first.slice(0, 10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...first.slice(10, 20)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(first.slice(0, 10)).not.toEqual(first.slice(10, 20)); // a fresh permutation per epoch
    // A fresh generator asked for batch 4 directly (as after a resume) gives the same rows.
    expect(Array.from(epochBatchIndices(key(3), n, B)(4))).toEqual(first.slice(12, 16));
    expect(() => epochBatchIndices(key(3), 0, B)).toThrow(/n ≥ 1/);
  });
});
