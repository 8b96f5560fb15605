import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/io/atomic.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe('writeFileAtomic', () => {
  it('writes bytes and strings, replaces an existing file, leaves no temp file', async () => {
    const p = join(dir, 'out.bin');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(p)]).toEqual([1, 2, 3]);
    await writeFileAtomic(p, 'héllo');
    expect(readFileSync(p, 'utf8')).toBe('héllo');
    writeFileAtomicSync(p, new Uint8Array([9]));
    expect([...readFileSync(p)]).toEqual([9]);
    expect(readdirSync(dir)).toEqual(['out.bin']);
  });

  it('on failure removes the temp file and leaves the target untouched', async () => {
    // the target is a non-empty directory: the rename fails after the temp file was written
    const target = join(dir, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
    expect(() => writeFileAtomicSync(target, 'data')).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['target']);
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('x');
  });

  it('fails cleanly when the directory does not exist', async () => {
    await expect(writeFileAtomic(join(dir, 'nope', 'f.txt'), 'x')).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
