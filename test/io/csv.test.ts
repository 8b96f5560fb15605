import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatCsv, loadCsv, parseCsv, saveCsv } from '../../src/io/csv.js';
import { DataError } from '../../src/io/errors.js';
import { tensor } from '../../src/tensor/tensor.js';
import { fixture, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Runs parseCsv expecting a DataError; returns it. */
function fails(text: string, opts = {}): DataError {
  try {
    parseCsv(text, { file: 'data.csv', ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

describe('parseCsv', () => {
  it('reads a file with a header (auto), numbers in several notations', async () => {
    const r = await loadCsv(fixture('small.csv'));
    expect(r.header).toEqual(['x', 'y', 'label']);
    expect(r.delimiter).toBe(',');
    expect(r.data.shape).toEqual([3, 3]);
    expect(r.data.dtype).toBe('float32');
    expect(r.data.toArray()).toEqual([0.5, -1, 0, Math.fround(1e-3), 2.25, 1, 3, 4, 1]);
  });

  it('detects tabs, semicolons and whitespace; no header when all cells are numbers', async () => {
    const t = await loadCsv(fixture('small.tsv'));
    expect(t.delimiter).toBe('\t');
    expect(t.header).toBeNull();
    expect(t.data.toNested()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(parseCsv('1;2\n3;4\n').data.toNested()).toEqual([[1, 2], [3, 4]]);
    const ws = parseCsv('  1   2 3\n4\t5  6  \n');
    expect(ws.delimiter).toBe(' ');
    expect(ws.data.toNested()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(parseCsv('7\n8\n').data.shape).toEqual([2, 1]);
  });

  it('handles CRLF, BOM, spaces around cells, quotes, trailing blank lines', () => {
    const r = parseCsv('\ufeff"a, b",c\r\n 1 , "2"\r\n+3,-.5e1\r\n\r\n  \n\n');
    expect(r.header).toEqual(['a, b', 'c']);
    expect(r.data.toNested()).toEqual([[1, 2], [3, -5]]);
  });

  it('header option forces or forbids a header', () => {
    const r = parseCsv('1,2\n3,4\n', { header: true });
    expect(r.header).toEqual(['1', '2']);
    expect(r.data.toNested()).toEqual([[3, 4]]);
    const e = fails('a,b\n1,2\n', { header: false });
    expect(e.message).toBe('data.csv: line 1: column 1: value "a" is not a number');
  });

  it('parses numbers exactly as Number() does (float64)', () => {
    const cells = ['-1e-30', '-123456789012345678', '0.1', '-2.5e-3', '123456789012345', '1234567890123456789', '3.14159265358979323846', '1e22', '1e23', '5e-324', '.5', '7.', '-0', '0.000001', '1E+5'];
    const r = parseCsv(cells.join(',') + '\n', { dtype: 'float64' });
    expect(r.data.dtype).toBe('float64');
    expect(Array.from(r.data.data)).toEqual(cells.map(Number));
    expect(Object.is(r.data.data[12], -0)).toBe(true);
  });

  it('delimiter can be forced', () => {
    expect(parseCsv('1;2\n', { delimiter: ';' }).data.toArray()).toEqual([1, 2]);
    expect(fails('1;2\n', { delimiter: ',', header: false }).message).toBe('data.csv: line 1: column 1: value "1;2" is not a number');
  });
});

describe('parseCsv errors', () => {
  it('empty file', () => {
    expect(fails('').message).toBe('data.csv: file is empty');
    expect(fails('\n \n\r\n').message).toBe('data.csv: file is empty');
  });
  it('header without data', () => {
    expect(fails('a,b\n').message).toBe('data.csv: has a header but no data rows');
  });
  it('ragged rows name the line and both column counts', () => {
    const e = fails('a,b,c\n1,2,3\n4,5\n');
    expect(e.message).toBe('data.csv: line 3: ragged row: expected 3 columns (as in line 1) but found 2');
    expect(e.line).toBe(3);
    expect(fails('1,2\n3,4,5\n').message).toMatch(/line 2: ragged row: expected 2 columns .* but found 3/);
    expect(fails('1 2\n3 4 5\n', { delimiter: ' ' }).message).toMatch(/line 2: ragged row/);
    expect(fails('"a",b\n"1","2","3"\n').message).toMatch(/line 2: ragged row: expected 2 columns .* but found 3/);
  });
  it('NaN, infinity, empty and non-numeric cells name line and column', () => {
    let e = fails('x,y\n1,2\n3,NaN\n');
    expect(e.message).toBe('data.csv: line 3: column 2: value "NaN" is NaN');
    expect([e.line, e.column]).toEqual([3, 2]);
    expect(fails('1,2\nnan,2\n').message).toBe('data.csv: line 2: column 1: value "nan" is NaN');
    expect(fails('NaN,1\n').message).toBe('data.csv: line 1: column 1: value "NaN" is NaN'); // not mistaken for a header
    expect(fails('1,-inf\n').message).toBe('data.csv: line 1: column 2: value "-inf" is not finite');
    expect(fails('1,1e999\n').message).toBe('data.csv: line 1: column 2: value "1e999" overflows to Infinity');
    e = fails('1,2,3\n4,,6\n');
    expect(e.message).toBe('data.csv: line 2: column 2: cell is empty');
    expect(fails('1,2\n3,\n').message).toBe('data.csv: line 2: column 2: cell is empty');
    expect(fails('1,,2\n').message).toBe('data.csv: line 1: column 2: cell is empty');
    expect(fails('1,2\n3,4x\n').message).toBe('data.csv: line 2: column 2: value "4x" is not a number');
    expect(fails('1,2\n3,"abc"\n').message).toBe('data.csv: line 2: column 2: value "abc" is not a number');
    expect(fails('1,2\n3,1e\n').message).toBe('data.csv: line 2: column 2: value "1e" is not a number');
    expect(fails('1,2\n3,0x10\n').message).toBe('data.csv: line 2: column 2: value "0x10" is not a number');
  });
  it('blank lines in the middle', () => {
    expect(fails('1,2\n\n3,4\n').message).toBe('data.csv: line 2: line is blank (blank lines are only allowed at the end)');
    expect(fails('a\n1\n  \n2\n').message).toBe('data.csv: line 3: line is blank (blank lines are only allowed at the end)');
  });
  it('loadCsv names a missing file', async () => {
    await expect(loadCsv(join(tmp.dir, 'none.csv'))).rejects.toThrow(/none\.csv: cannot read file \(ENOENT\)/);
  });
});

describe('formatCsv', () => {
  it('round-trips float32 and float64 exactly with short numbers', async () => {
    const t = tensor([[0.1, 1 / 3, -1e-30], [123456.7, 0, 2]]);
    const s = formatCsv(t, ['a', 'b,c', 'd"e']);
    expect(s).toBe('a,"b,c","d""e"\n0.1,0.33333334,-1e-30\n123456.7,0,2\n');
    const r = parseCsv(s);
    expect(r.header).toEqual(['a', 'b,c', 'd"e']);
    expect(Array.from(r.data.data)).toEqual(Array.from(t.data));
    const d = tensor([[Math.PI, 1e-300], [-0.1, 5]], undefined, 'float64');
    const path = join(tmp.dir, 'd.tsv');
    await saveCsv(path, d, undefined, { delimiter: '\t' });
    expect(readFileSync(path, 'utf8')).toBe(`${Math.PI}\t1e-300\n-0.1\t5\n`);
    expect(Array.from(parseCsv(readFileSync(path, 'utf8'), { dtype: 'float64' }).data.data)).toEqual(Array.from(d.data));
    expect(formatCsv(tensor([1, 2]))).toBe('1\n2\n');
    expect(() => formatCsv(tensor([[1, 2]]), ['a'])).toThrow(/header has 1 names but the tensor has 2 columns/);
  });
  it('writes NaN visibly, which parseCsv then rejects', () => {
    const s = formatCsv(tensor([[1, NaN]]));
    expect(s).toBe('1,NaN\n');
    expect(() => parseCsv(s)).toThrow(/column 2: value "NaN" is NaN/);
  });
});

describe('parseCsv speed', () => {
  it('parses 10 000 × 784 integer cells quickly', () => {
    const row = Array.from({ length: 784 }, (_, j) => (j * 37) % 256).join(',');
    const text = (row + '\n').repeat(10_000);
    const t0 = performance.now();
    const r = parseCsv(text);
    const ms = performance.now() - t0;
    expect(r.data.shape).toEqual([10_000, 784]);
    expect(r.data.data[784 * 9999 + 783]).toBe((783 * 37) % 256);
    // ~0.2 s on an idle core; the bound leaves room for a loaded CI machine
    expect(ms).toBeLessThan(5000);
  });
});
