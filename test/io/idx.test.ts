import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/io/errors.js';
import { encodeIdx, idxToTensor, loadIdx, parseIdx, type IdxDType } from '../../src/io/idx.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('IDX', () => {
  it('parses a hand-built u8 file (big-endian dims)', () => {
    const b = new Uint8Array([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255]);
    const a = parseIdx(b);
    expect(a.dtype).toBe('u8');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 255]);
    const t = idxToTensor(a, { scale: 1 / 255 });
    expect(t.shape).toEqual([2, 3]);
    expect(t.data[5]).toBe(1);
    expect(encodeIdx({ dtype: 'u8', shape: [2, 3], data: [1, 2, 3, 4, 5, 255] })).toEqual(b);
  });

  it('parses a hand-built i32 file (big-endian data)', () => {
    const b = new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0]);
    expect(Array.from(parseIdx(b).data)).toEqual([-2, 256]);
  });

  it('round-trips every dtype and reads gzipped files', async () => {
    const vals: Record<IdxDType, number[]> = {
      u8: [0, 7, 255],
      i8: [-128, 0, 127],
      i16: [-32768, 1, 32767],
      i32: [-2147483648, 5, 2147483647],
      f32: [1.5, -0.25, 2 ** 30],
      f64: [Math.PI, -1e-300, 0],
    };
    for (const [dtype, v] of Object.entries(vals) as [IdxDType, number[]][]) {
      const enc = encodeIdx({ dtype, shape: [1, 3], data: v });
      for (const bytes of [enc, gzipSync(enc)]) {
        const a = parseIdx(bytes);
        expect(a.dtype).toBe(dtype);
        expect(a.shape).toEqual([1, 3]);
        expect(Array.from(a.data)).toEqual(v);
      }
    }
    const p = join(tmp.dir, 'x-idx1-ubyte.gz');
    writeFileSync(p, gzipSync(encodeIdx({ dtype: 'u8', shape: [2], data: [9, 8] })));
    expect(Array.from((await loadIdx(p)).data)).toEqual([9, 8]);
  });

  const good = encodeIdx({ dtype: 'u8', shape: [2, 2], data: [1, 2, 3, 4] });
  const errors: [string, Uint8Array, RegExp][] = [
    ['bad magic (nonzero first bytes)', Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), /f\.idx: bad magic 01 00 08 01: not an IDX file/],
    ['unknown type code', Uint8Array.from([0, 0, 0x0a, 1, 0, 0, 0, 0]), /unknown IDX type code 0x0a/],
    ['zero dims', Uint8Array.from([0, 0, 8, 0]), /zero dimensions/],
    ['too short', Uint8Array.from([0, 0]), /truncated: 2 bytes/],
    ['truncated header', good.subarray(0, 9), /truncated: header needs 12 bytes/],
    ['truncated data', good.subarray(0, good.length - 1), /truncated: dims \[2, 2\] of u8 need 4 data bytes but the file has 3/],
    ['extra bytes', Uint8Array.from([...good, 0, 0]), /2 unexpected bytes/],
    ['corrupt gzip', Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), /corrupt gzip/],
  ];
  for (const [name, bytes, re] of errors) {
    it(`error: ${name}`, () => {
      expect(() => parseIdx(bytes, 'f.idx')).toThrow(DataError);
      expect(() => parseIdx(bytes, 'f.idx')).toThrow(re);
    });
  }
  it('loadIdx names a missing file', async () => {
    await expect(loadIdx(join(tmp.dir, 'nope'))).rejects.toThrow(/nope: cannot read file \(ENOENT\)/);
  });
});
