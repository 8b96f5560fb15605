/**
 * The signal path of atomic writes: a signal handler runs at the first await after a long synchronous computation,
 * which is usually the output's temp-file open, still running on a worker thread. `stopAtomicWrites` must wait for
 * it, so that no temp file appears after the process has cleaned up and exited. (Own file: stopping is for good.)
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomicWritesInFlight, stopAtomicWrites, writeFileAtomic } from '../../src/io/atomic.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe('stopAtomicWrites', () => {
  it('waits for writes whose temp-file open is in flight; they remove the temp file, leave the target alone and never settle', async () => {
    const keep = join(dir, 'kept.csv');
    writeFileSync(keep, 'old\n');
    const settled: string[] = [];
    const big = new Uint8Array(8 << 20).fill(65);
    for (const [name, data] of [['new.csv', 'a,b\n'], ['kept.csv', 'new\n'], ['big.bin', big]] as const) {
      void writeFileAtomic(join(dir, name), data).then(
        () => settled.push(`${name} resolved`),
        () => settled.push(`${name} rejected`),
      );
    }
    // the three opens were handed to worker threads and have not completed: a synchronous unlink now would miss them
    expect(atomicWritesInFlight()).toBe(3);
    await stopAtomicWrites();
    expect(atomicWritesInFlight()).toBe(0);
    expect(readdirSync(dir)).toEqual(['kept.csv']);
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toEqual([]);
    // writes started after the stop never create anything either
    void writeFileAtomic(join(dir, 'late.csv'), 'x\n').then(() => settled.push('late resolved'));
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(dir, 'late.csv'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['kept.csv']);
    expect(settled).toEqual([]);
  });
});
