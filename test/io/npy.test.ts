import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/io/errors.js';
import { decodeNpy, encodeNpy, loadNpy, parseNpyHeader, saveNpy } from '../../src/io/npy.js';
import { tensor } from '../../src/tensor/tensor.js';
import { fixture, hasPython, py, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const read = (name: string, dtype?: 'float32' | 'float64') => decodeNpy(readFileSync(fixture(name)), { file: name, dtype });

describe('npy fixtures written by NumPy', () => {
  it('<f4, C order', () => {
    const t = read('f4_2x3.npy');
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.toArray()).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
  });
  it('<f8 Fortran order is reordered to C order', () => {
    // np.asfortranarray(np.arange(12.).reshape(2,3,2) * 1.5): element [i,j,k] = 1.5·(6i + 2j + k)
    const t = read('f8_fortran_2x3x2.npy', 'float64');
    expect(parseNpyHeader(readFileSync(fixture('f8_fortran_2x3x2.npy'))).fortranOrder).toBe(true);
    expect(t.shape).toEqual([2, 3, 2]);
    expect(t.dtype).toBe('float64');
    expect(t.toArray()).toEqual(Array.from({ length: 12 }, (_, i) => 1.5 * i));
  });
  it('big-endian >i8, |u1, bool, <f2, scalar', () => {
    expect(read('i8_be.npy', 'float64').toArray()).toEqual([-5, 2 ** 40, 7]);
    const u = read('u1.npy');
    expect(u.shape).toEqual([1, 3]);
    expect(u.toArray()).toEqual([0, 255, 7]);
    expect(read('b1.npy').toArray()).toEqual([1, 0, 1]);
    const h = read('f2.npy', 'float64').toArray();
    expect(h.slice(0, 3)).toEqual([0.5, -2, 65504]);
    expect(h[3]).toBe(2 ** -23); // 1e-7 rounds to the subnormal half 2·2^-24
    const s = read('scalar_f8.npy');
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(3.25);
  });
  it('version 2.0 and 3.0 headers', () => {
    expect(parseNpyHeader(readFileSync(fixture('v2_i4.npy'))).version).toEqual([2, 0]);
    expect(read('v2_i4.npy').toNested()).toEqual([[1, -2], [3, -4]]);
    expect(parseNpyHeader(readFileSync(fixture('v3_u2.npy'))).version).toEqual([3, 0]);
    expect(read('v3_u2.npy').toArray()).toEqual([1, 65535]);
  });
  it('unsupported dtypes give a clear DataError', () => {
    expect(() => read('structured.npy')).toThrow(DataError);
    expect(() => read('structured.npy')).toThrow(/structured\.npy: unsupported dtype/);
    expect(() => read('complex.npy')).toThrow(/complex\.npy: unsupported dtype '<c8'/);
  });
});

describe('npy encode', () => {
  it('writes a v1.0 header NumPy-style and round-trips', async () => {
    const t = tensor([[1, -2.5, 3], [4, 5, 6e-5]]);
    const b = encodeNpy(t);
    expect(Array.from(b.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const hlen = b[8] | (b[9] << 8);
    expect((10 + hlen) % 64).toBe(0);
    const header = Buffer.from(b.subarray(10, 10 + hlen)).toString('latin1');
    expect(header.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    expect(header.endsWith('\n')).toBe(true);
    expect(b.length).toBe(10 + hlen + 24);
    expect(decodeNpy(b).toArray()).toEqual(t.toArray());
    const d = tensor([Math.PI], [1], 'float64');
    const path = join(tmp.dir, 'd.npy');
    await saveNpy(path, d);
    expect(Buffer.from(readFileSync(path)).toString('latin1')).toContain("'shape': (1,)");
    const back = await loadNpy(path, { dtype: 'float64' });
    expect(back.data[0]).toBe(Math.PI);
    expect(decodeNpy(encodeNpy(tensor(2))).shape).toEqual([]);
  });
});

describe('npy errors', () => {
  const good = encodeNpy(tensor([1, 2, 3]));
  const cases: [string, Uint8Array, RegExp][] = [
    ['bad magic', Uint8Array.from([...Buffer.from('NOTNUMPY'), 0, 0, 0, 0]), /bad magic/],
    ['too short', good.subarray(0, 5), /truncated/],
    ['truncated header', good.subarray(0, 40), /truncated: header length/],
    ['truncated data', good.subarray(0, good.length - 1), /truncated: shape \(3\) of '<f4' needs 12 data bytes but the file has 11/],
    ['extra data', Uint8Array.from([...good, 0]), /1 extra bytes/],
    ['bad version', Uint8Array.from([...good.subarray(0, 6), 9, 0, ...good.subarray(8)]), /unsupported \.npy version 9\.0/],
  ];
  for (const [name, bytes, re] of cases) {
    it(name, () => {
      expect(() => decodeNpy(bytes, { file: 'x.npy' })).toThrow(DataError);
      expect(() => decodeNpy(bytes, { file: 'x.npy' })).toThrow(re);
    });
  }
  it('a garbled header dict', () => {
    const h = "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }";
    const hb = Buffer.from(h + ' '.repeat(128 - 10 - h.length - 1) + '\n', 'latin1');
    const b = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, hb.length, 0, ...hb, 0, 0, 0, 0]);
    expect(() => decodeNpy(b, { file: 'x.npy' })).toThrow(/x\.npy: header: unexpected text/);
  });
  it('loadNpy names a missing file', async () => {
    await expect(loadNpy(join(tmp.dir, 'none.npy'))).rejects.toThrow(/none\.npy: cannot read file \(ENOENT\)/);
  });
});

const haveNumpy = hasPython('numpy');
if (!haveNumpy) console.warn('npy test: python3 with numpy not found; skipping the NumPy round-trip check');
describe('npy interop with NumPy', () => {
  it.skipIf(!haveNumpy)('NumPy reads our file and writes one we read', () => {
    const ours = join(tmp.dir, 'ours.npy');
    const theirs = join(tmp.dir, 'theirs.npy');
    writeFileSync(ours, encodeNpy(tensor([[0.5, -1], [2, 1e-3]], undefined, 'float64')));
    const out = py(`
import numpy as np, json
a = np.load(${JSON.stringify(ours)})
np.save(${JSON.stringify(theirs)}, np.asfortranarray(np.arange(24, dtype='>f4').reshape(2, 3, 4)))
print(json.dumps({'dtype': str(a.dtype), 'shape': a.shape, 'v': a.tolist()}))
`);
    expect(JSON.parse(out)).toEqual({ dtype: 'float64', shape: [2, 2], v: [[0.5, -1], [2, 1e-3]] });
    const t = decodeNpy(readFileSync(theirs));
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.toArray()).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });
});
