/** Hardening, library pieces in-process: size parsing, budget errors, write targets, stale temp files, error lines. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BudgetError, checkBudget, formatBytes, parseSize } from '../../src/io/limits.js';
import { removeStaleTemps, resolveWriteTarget, writeFileAtomic } from '../../src/io/atomic.js';
import { DataError } from '../../src/io/errors.js';
import { checkInputFile } from '../../src/io/safeFile.js';
import { estimateFromOptions } from '../../src/cli/budget.js';
import { exitCodeFor, formatError, InterruptedError, NonFiniteResultError } from '../../src/cli/errors.js';
import { firstNonFinite } from '../../src/cli/context.js';
import { deadPid, tempDir } from './helpers.js';

describe('sizes and budgets', () => {
  it('parses sizes with binary units and rejects junk', () => {
    expect(parseSize('1024')).toBe(1024);
    expect(parseSize('64K')).toBe(65536);
    expect(parseSize('1.5g')).toBe(1.5 * 2 ** 30);
    expect(parseSize('2GB')).toBe(2 ** 31);
    for (const bad of ['', 'x', '-1', '1Q', '0', '1e3']) expect(parseSize(bad)).toBeUndefined();
    expect(formatBytes(3 * 2 ** 30)).toBe('3.0 GiB');
  });
  it('checkBudget refuses over-budget and non-finite estimates with a BudgetError (a DataError: exit 2)', () => {
    process.env.EBM_MAX_MEMORY = '1M';
    try {
      expect(() => checkBudget(2 ** 21, 'x', { flag: '--n' })).toThrow(BudgetError);
      expect(() => checkBudget(NaN, 'x')).toThrow(BudgetError);
      expect(() => checkBudget(2 ** 19, 'x')).not.toThrow();
      const e = (() => { try { checkBudget(2 ** 30, 'y'); } catch (err) { return err; } })();
      expect(e).toBeInstanceOf(DataError);
      expect(exitCodeFor(e)).toBe(2);
    } finally {
      delete process.env.EBM_MAX_MEMORY;
    }
  });
  it('estimates grow with every size flag (lower bounds)', () => {
    const base = estimateFromOptions({ hidden: [64, 64], batch: 128 })[0].bytes;
    expect(estimateFromOptions({ hidden: [640, 640], batch: 128 })[0].bytes).toBeGreaterThan(5 * base);
    expect(estimateFromOptions({ arch: 'mlp:2-128-128-1' })[0].flag).toBe('--arch');
    expect(estimateFromOptions({ grid: 1000 })[0].bytes).toBe(1000 * 1000 * 256);
    expect(estimateFromOptions({ chains: 10, temps: 4 })[0].what).toBe('40 chains');
  });
});

describe('write targets and temp files', () => {
  it('resolveWriteTarget: new and regular paths as is, links to files followed, anything else refused', () => {
    const d = tempDir();
    writeFileSync(join(d, 'f'), 'x');
    symlinkSync(join(d, 'f'), join(d, 'l'));
    symlinkSync(join(d, 'l'), join(d, 'll'));
    mkdirSync(join(d, 'sub'));
    symlinkSync(join(d, 'sub'), join(d, 'ld'));
    expect(resolveWriteTarget(join(d, 'new'))).toBe(join(d, 'new'));
    expect(resolveWriteTarget(join(d, 'f'))).toBe(join(d, 'f'));
    expect(resolveWriteTarget(join(d, 'll'))).toMatch(/\/f$/);
    for (const p of ['sub', 'ld', '/dev/null']) expect(() => resolveWriteTarget(p.startsWith('/') ? p : join(d, p))).toThrow(DataError);
  });
  it('writeFileAtomic through a link keeps the link and replaces its target', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'f'), 'old');
    symlinkSync('f', join(d, 'l'));
    await writeFileAtomic(join(d, 'l'), 'new');
    expect(readFileSync(join(d, 'f'), 'utf8')).toBe('new');
    await expect(writeFileAtomic('/dev/null', 'x')).rejects.toBeInstanceOf(DataError);
  });
  it('removeStaleTemps removes only its own pattern of dead pids', () => {
    const d = tempDir();
    const dead = deadPid();
    const names = { stale: `.t.csv.${dead}.7.k3j.tmp`, live: `.t.csv.${process.pid}.1.a.tmp`, other: `.u.csv.${dead}.1.a.tmp`, odd: `.t.csv.${dead}.x.a.tmp` };
    for (const n of Object.values(names)) writeFileSync(join(d, n), '');
    expect(removeStaleTemps(join(d, 't.csv'))).toEqual([join(d, names.stale)]);
    expect(existsSync(join(d, names.live)) && existsSync(join(d, names.other)) && existsSync(join(d, names.odd))).toBe(true);
  });
  it('checkInputFile refuses devices and oversize files', () => {
    const d = tempDir();
    writeFileSync(join(d, 'f'), Buffer.alloc(100));
    expect(() => checkInputFile('/dev/zero')).toThrow(/character device/);
    expect(() => checkInputFile(join(d, 'f'), 99)).toThrow(/over the input limit/);
    expect(checkInputFile(join(d, 'f'), 100).size).toBe(100);
  });
});

describe('error lines', () => {
  it('allocation failures become one exit-2 line; long messages are cut', () => {
    let e: unknown;
    try {
      new Float64Array(2 ** 53);
    } catch (err) {
      e = err;
    }
    expect(exitCodeFor(e)).toBe(2);
    expect(formatError(e)).toMatch(/^error: out of memory/);
    const long = formatError(new DataError('v'.repeat(10_000)));
    expect(long.length).toBeLessThan(1100);
    expect(long).toMatch(/more characters\)$/);
  });
  it('interrupts map to 130/143 and non-finite results to 2', () => {
    expect(exitCodeFor(new InterruptedError('SIGINT', 'x'))).toBe(130);
    expect(exitCodeFor(new InterruptedError('SIGTERM', 'x'))).toBe(143);
    expect(exitCodeFor(new NonFiniteResultError('x'))).toBe(2);
  });
  it('firstNonFinite finds the first NaN/Infinity with its path', () => {
    expect(firstNonFinite({ a: 1, b: [2, { c: NaN }] })).toEqual({ at: '"b[1].c"', value: NaN });
    expect(firstNonFinite({ a: 1, b: 'NaN', c: null })).toBeUndefined();
    expect(firstNonFinite({ m: [1, -Infinity] })).toEqual({ at: '"m[1]"', value: -Infinity });
  });
});
