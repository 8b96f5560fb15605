import { describe, expect, it } from 'vitest';
import { DataError, ioErrorDetail } from '../../src/io/errors.js';
import { NodeOnlyError } from '../../src/io/nodeOnlyError.js';

describe('DataError', () => {
  it('names file, line, column in the message and keeps the fields', () => {
    const e = new DataError('value "abc" is not a number', { file: 'data.csv', line: 7, column: 3 });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('DataError');
    expect(e.message).toBe('data.csv: line 7: column 3: value "abc" is not a number');
    expect(e.file).toBe('data.csv');
    expect(e.line).toBe(7);
    expect(e.column).toBe(3);
    expect(e.problem).toBe('value "abc" is not a number');
  });
  it('renders row and flag', () => {
    expect(new DataError('bad', { row: 4 }).message).toBe('row 4: bad');
    expect(new DataError('must be positive', { flag: 'lr' }).message).toBe('--lr: must be positive');
    expect(new DataError('must be positive', { flag: '--lr' }).flag).toBe('--lr');
    expect(new DataError('plain').message).toBe('plain');
  });
});

describe('ioErrorDetail', () => {
  it("gives a system error's code, but the message of an ebm-ts error (whose code is not a system code)", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'x.csv'"), { code: 'ENOENT' });
    expect(ioErrorDetail(enoent)).toBe('ENOENT');
    expect(ioErrorDetail(new Error('boom'))).toBe('boom');
    expect(ioErrorDetail(new NodeOnlyError('loadCsv needs Node.js (file system)'))).toBe('loadCsv needs Node.js (file system)');
  });
});
