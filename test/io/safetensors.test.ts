import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/io/errors.js';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors } from '../../src/io/safetensors.js';
import { tensor } from '../../src/tensor/tensor.js';
import { hasPython, py, tempDir } from './helpers.js';
import { InvalidTypeError } from '../../src/errors.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Builds a file from a header object/string and a data buffer, as the spec lays it out (no validation). */
function build(header: unknown, data: number[] = [], pad = true): Uint8Array {
  let h = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) while (h.length % 8 !== 0) h += ' ';
  const hb = Buffer.from(h, 'utf8');
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

describe('safetensors encode', () => {
  it('matches a hand-built file byte for byte', () => {
    const bytes = encodeSafetensors({ w: tensor([1.5, -2]), n: { dtype: 'U8', shape: [3], data: [1, 2, 255] } }, { format: 'pt' });
    const header = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"n":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}';
    expect(header.length).toBe(138);
    const expected = [
      144, 0, 0, 0, 0, 0, 0, 0, // u64 LE header length, padded 138 → 144
      ...Buffer.from(header + '      ', 'utf8'),
      0x00, 0x00, 0xc0, 0x3f, // 1.5f LE
      0x00, 0x00, 0x00, 0xc0, // -2.0f LE
      1, 2, 255,
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('puts 8-byte dtypes first so every tensor is aligned to its element size', () => {
    const bytes = encodeSafetensors({
      u: { dtype: 'U8', shape: [3], data: [1, 2, 3] },
      f: tensor([1, 2, 3]),
      d: tensor([1], [1], 'float64'),
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const h = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
    expect(h.d.data_offsets).toEqual([0, 8]);
    expect(h.f.data_offsets).toEqual([8, 20]);
    expect(h.u.data_offsets).toEqual([20, 23]);
    expect(h.__metadata__).toBeUndefined();
  });

  it('rejects bad entries', () => {
    expect(() => encodeSafetensors({ a: { dtype: 'I32', shape: [2], data: [1, 2.5] } })).toThrow(/not an integer/);
    expect(() => encodeSafetensors({ a: { dtype: 'U8', shape: [1], data: [256] } })).toThrow(/not an integer in \[0, 255\]/);
    expect(() => encodeSafetensors({ a: { dtype: 'I32', shape: [3], data: [1, 2] } })).toThrow(/needs 3/);
    expect(() => encodeSafetensors({ __metadata__: tensor([1]) })).toThrow(/reserved/);
    expect(() => encodeSafetensors({ a: tensor([1]) }, { k: 3 as unknown as string })).toThrow(/must be a string/);
  });
});

describe('safetensors round trip', () => {
  it('preserves F32, F64, integer dtypes, shapes and metadata', async () => {
    const f32 = tensor([[0.1, -2, 3e-8], [Math.PI, 1e30, -0]]);
    const f64 = tensor([Math.PI, 1 / 3, -1e-300], [3], 'float64');
    const scalar = tensor(2.5);
    const empty = tensor([], [0, 4]);
    const contents = {
      f32,
      f64,
      scalar,
      empty,
      step: { dtype: 'I64' as const, shape: [], data: [123456789012] },
      big: { dtype: 'I64' as const, shape: [2], data: [-(2n ** 62n), 5n] },
      ids: { dtype: 'I32' as const, shape: [2, 2], data: new Int32Array([-1, 0, 2147483647, -2147483648]) },
      mask: { dtype: 'U8' as const, shape: [4], data: [0, 1, 254, 255] },
    };
    const meta = { config: JSON.stringify({ lr: 0.01, layers: [784, 500] }), note: 'ünïcode ok' };
    const path = join(tmp.dir, 'm.safetensors');
    await saveSafetensors(path, contents, meta);
    const r = await loadSafetensors(path);
    expect(r.metadata).toEqual(meta);
    expect(Object.keys(r.tensors).sort()).toEqual(Object.keys(contents).filter((k) => k !== 'big').sort());
    expect(Array.from(r.raw.big.data as BigInt64Array)).toEqual([-(2n ** 62n), 5n]);
    expect(r.tensors.f32.dtype).toBe('float32');
    expect(r.tensors.f32.shape).toEqual([2, 3]);
    expect(Array.from(r.tensors.f32.data)).toEqual(Array.from(f32.data));
    expect(Object.is(r.tensors.f32.data[5], -0)).toBe(true);
    expect(r.tensors.f64.dtype).toBe('float64');
    expect(Array.from(r.tensors.f64.data)).toEqual(Array.from(f64.data));
    expect(r.tensors.scalar.shape).toEqual([]);
    expect(r.tensors.scalar.item()).toBe(2.5);
    expect(r.tensors.empty.shape).toEqual([0, 4]);
    expect(r.tensors.step.item()).toBe(123456789012);
    expect(r.tensors.step.dtype).toBe('float64');
    expect(r.raw.step.data).toBeInstanceOf(BigInt64Array);
    expect(r.raw.ids.data).toEqual(new Int32Array([-1, 0, 2147483647, -2147483648]));
    expect(Array.from(r.tensors.mask.data)).toEqual([0, 1, 254, 255]);
    expect(r.raw.mask.dtype).toBe('U8');
    expect(r.raw.f32).toBeUndefined();
  });

  it('I64 beyond 2^53 is only available from raw (a float64 Tensor would round it)', () => {
    const bytes = encodeSafetensors({ big: { dtype: 'I64', shape: [2], data: [2n ** 60n + 1n, 1n] }, ok: { dtype: 'I64', shape: [1], data: [2 ** 53 - 1] } });
    const r = decodeSafetensors(bytes, 'x.safetensors');
    expect(r.tensors.big).toBeUndefined();
    expect(Array.from(r.raw.big.data as BigInt64Array)).toEqual([2n ** 60n + 1n, 1n]);
    expect(r.tensors.ok.item()).toBe(2 ** 53 - 1);
  });

  it('reads F16 and BF16 as float32', () => {
    // F16: 1.0 = 0x3c00, -2 = 0xc000, 65504 = 0x7bff; BF16: 1.0 = 0x3f80, -0.5 = 0xbf00
    const data = [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x80, 0x3f, 0x00, 0xbf];
    const f = build({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] } }, data);
    const r = decodeSafetensors(f);
    expect(Array.from(r.tensors.h.data)).toEqual([1, -2, 65504]);
    expect(Array.from(r.tensors.b.data)).toEqual([1, -0.5]);
  });

  it('reads an unpadded header and tensors at unaligned offsets', () => {
    const f32 = Array.from(new Uint8Array(new Float32Array([7.25]).buffer));
    const f = build({ u: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, f: { dtype: 'F32', shape: [1], data_offsets: [1, 5] } }, [9, ...f32], false);
    const r = decodeSafetensors(f);
    expect(r.tensors.f.item()).toBe(7.25);
    expect(r.tensors.u.item()).toBe(9);
  });
});

describe('safetensors 8-bit floats (read-only, widened to float32)', () => {
  // Reference values of the OCP FP8 formats (PyTorch float8_e4m3fn / float8_e5m2): 1.0, −1.0, the largest finite
  // value (448 / 57344), the smallest subnormal (2⁻⁹ / 2⁻¹⁶), 0.5·smallest normal, NaN and (E5M2 only) +∞.
  const bytes = (dtype: string, codes: number[]): Uint8Array => build({ a: { dtype, shape: [codes.length], data_offsets: [0, codes.length] } }, codes);
  it('F8_E4M3', () => {
    const t = decodeSafetensors(bytes('F8_E4M3', [0x38, 0xb8, 0x7e, 0x01, 0x04, 0x7f, 0x00])).tensors.a;
    expect(t.dtype).toBe('float32');
    expect(Array.from(t.data)).toEqual([1, -1, 448, 2 ** -9, 2 ** -7, NaN, 0]);
  });
  it('F8_E5M2', () => {
    const t = decodeSafetensors(bytes('F8_E5M2', [0x3c, 0xbc, 0x7b, 0x01, 0x02, 0x7f, 0x7c, 0xfc])).tensors.a;
    expect(Array.from(t.data)).toEqual([1, -1, 57344, 2 ** -16, 2 ** -15, NaN, Infinity, -Infinity]);
  });
  it('writing F8 is refused', () => {
    expect(() => encodeSafetensors({ a: { dtype: 'F8_E4M3', shape: [1], data: [1] } })).toThrow(InvalidTypeError);
  });
});

describe('safetensors corrupted input', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const eight = [0, 0, 0, 0, 0, 0, 0, 0];
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', new Uint8Array([1, 2, 3]), /truncated: 3 bytes/],
    ['header length past end', build(ok, eight).subarray(0, 20), /runs past the end of the file/],
    ['header too big', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true); return b; })(), /header too big/],
    ['not JSON', build('{"a": nope}'), /not valid JSON/],
    ['not an object', build('["a"]'), /does not start with "\{"/],
    ['unknown dtype', build({ a: { dtype: 'F8', shape: [2], data_offsets: [0, 8] } }, eight), /unsupported dtype "F8" \(supported: F64, F32, F16, BF16, F8_E4M3, F8_E5M2, /],
    ['bad shape', build({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, eight), /shape \[-2\]/],
    ['size mismatch', build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight), /size mismatch.*needs 12 bytes/],
    ['out of range', build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, eight), /run past the end of the data/],
    ['end before begin', build({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, eight), /end before they begin/],
    [
      'overlap',
      build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight),
      /"b".*overlap/,
    ],
    ['gap', build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight), /gap in the data/],
    ['trailing bytes', build(ok, [...eight, 1, 2]), /data section is 10 bytes but the tensors cover 8/],
    ['truncated data', build(ok, [0, 0, 0, 0]), /run past the end of the data/],
    ['metadata not strings', build({ __metadata__: { n: 1 }, ...ok }, eight), /"__metadata__" value "n" is not a string/],
    ['entry not object', build({ a: 3 }), /entry is not an object/],
  ];
  for (const [name, bytes, re] of cases) {
    it(name, () => {
      let err: unknown;
      try {
        decodeSafetensors(bytes, 'bad.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).message).toMatch(re);
      expect((err as DataError).message.startsWith('bad.safetensors: ')).toBe(true);
    });
  }

  it('loadSafetensors names a missing file', async () => {
    await expect(loadSafetensors(join(tmp.dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: cannot read file \(ENOENT\)/);
  });
});

const haveNumpy = hasPython('numpy');
const haveSafetensors = hasPython('safetensors');
if (!haveNumpy) console.warn('safetensors test: python3 with numpy not found; skipping the independent NumPy reader/writer checks');
// torch alone cannot read safetensors files, so only the reference package itself is checked (not packaged for Debian 12).
if (!haveSafetensors) console.warn('safetensors test: the python "safetensors" package is not installed; skipping the reference-library check');

describe('safetensors interop with an independent Python reader/writer (json + numpy)', () => {
  it.skipIf(!haveNumpy)('Python parses our file and gets the same values', () => {
    const path = join(tmp.dir, 'py.safetensors');
    writeFileSync(path, encodeSafetensors({
      a: tensor([[1.5, -2, 3.25]]),
      b: tensor([Math.E], [1], 'float64'),
      c: { dtype: 'I64', shape: [2], data: [-7, 1099511627776] },
      d: { dtype: 'U8', shape: [2], data: [3, 200] },
    }, { k: 'v' }));
    const out = py(`
import json, struct, numpy as np
b = open(${JSON.stringify(path)}, 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8+n])
buf = b[8+n:]
dt = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8', 'U8': 'u1'}
res = {'meta': h.pop('__metadata__')}
for k, v in h.items():
    s, e = v['data_offsets']
    res[k] = {'shape': v['shape'], 'values': np.frombuffer(buf[s:e], dtype=dt[v['dtype']]).reshape(v['shape']).tolist()}
print(json.dumps(res))
`);
    const r = JSON.parse(out);
    expect(r.meta).toEqual({ k: 'v' });
    expect(r.a).toEqual({ shape: [1, 3], values: [[1.5, -2, 3.25]] });
    expect(r.b.values).toEqual([Math.E]);
    expect(r.c.values).toEqual([-7, 1099511627776]);
    expect(r.d.values).toEqual([3, 200]);
  });

  it.skipIf(!haveNumpy)('we read a file written by Python', () => {
    const path = join(tmp.dir, 'from-py.safetensors');
    py(`
import json, struct, numpy as np
x = (np.arange(6, dtype='<f4') / 8).reshape(2, 3)
y = np.array([10, -20], dtype='<i4')
hdr = {'y': {'dtype': 'I32', 'shape': [2], 'data_offsets': [24, 32]},
       'x': {'dtype': 'F32', 'shape': [2, 3], 'data_offsets': [0, 24]},
       '__metadata__': {'format': 'np'}}
h = json.dumps(hdr).encode()
h += b' ' * (-len(h) % 8)
open(${JSON.stringify(path)}, 'wb').write(struct.pack('<Q', len(h)) + h + x.tobytes() + y.tobytes())
`);
    const r = decodeSafetensors(readFileSync(path));
    expect(r.tensors.x.shape).toEqual([2, 3]);
    expect(Array.from(r.tensors.x.data)).toEqual([0, 0.125, 0.25, 0.375, 0.5, 0.625]);
    expect(Array.from(r.raw.y.data as Int32Array)).toEqual([10, -20]);
    expect(r.metadata).toEqual({ format: 'np' });
  });

  it.skipIf(!haveSafetensors)('the reference Python implementation reads our file', () => {
    const path = join(tmp.dir, 'ref.safetensors');
    writeFileSync(path, encodeSafetensors({ a: tensor([[1, 2], [3, 4.5]]), s: { dtype: 'I64', shape: [], data: [42] } }, { m: 'x' }));
    const r = JSON.parse(py(`
import json
from safetensors.numpy import load_file
from safetensors import safe_open
t = load_file(${JSON.stringify(path)})
with safe_open(${JSON.stringify(path)}, 'np') as f: meta = f.metadata()
print(json.dumps({'a': t['a'].tolist(), 's': int(t['s']), 'meta': meta}))`));
    expect(r).toEqual({ a: [[1, 2], [3, 4.5]], s: 42, meta: { m: 'x' } });
  });
});
