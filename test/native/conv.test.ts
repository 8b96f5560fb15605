import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidTypeError } from '../../src/errors.js';
import { jsImageKernels, type Conv2dGeom, type Conv2dKind } from '../../src/tensor/imageKernels.js';
import { loadNativeBackend, setNativeThreads } from '../../src/tensor/native.js';

const loaded = loadNativeBackend();
const image = loaded.backend?.image;
const skip = image ? '' : ` — SKIPPED: native addon without conv kernels (${loaded.error ?? 'stale build'})`;
const threadsAtStart = loaded.info?.threads ?? 1;
afterAll(() => { if (loaded.backend) setNativeThreads(threadsAtStart); });

function data(n: number, seed: number, f64: boolean): Float32Array | Float64Array {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 4294967296 - 0.5; }
  return a;
}

function geom(n: number, c: number, h: number, w: number, o: number, k: number, s: number, p: number): Conv2dGeom {
  const oh = Math.floor((h + 2 * p - k) / s) + 1, ow = Math.floor((w + 2 * p - k) / s) + 1;
  return { n, c, h, w, o, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p, oh, ow };
}

const cases: [string, Conv2dGeom][] = [
  ['32→16 channels, stride 2 (plain filter-gradient orientation)', geom(6, 8, 16, 16, 16, 3, 2, 1)],
  ['1→32 channels, stride 1 (transposed filter-gradient orientation, K = 9)', geom(8, 1, 28, 28, 32, 3, 1, 1)],
  ['odd sizes, stride 3, padding 2', geom(5, 3, 11, 9, 7, 3, 3, 2)],
  ['64 channels: 4 images per GEMM with a remainder chunk', geom(10, 64, 14, 14, 8, 3, 1, 1)],
  ['16→1 channel (small-product loops, O ≤ 2; a score net\'s output layer)', geom(5, 16, 28, 28, 1, 3, 1, 1)],
  ['1→16 channels, 5 images (small-product loops, K = 9, column remainder blocks)', geom(5, 1, 28, 28, 16, 3, 1, 1)],
  ['3→2 channels, stride 2, odd size (small-product loops, O = 2, K > 16)', geom(3, 3, 13, 11, 2, 3, 2, 1)],
  ['8→3 channels, stride 1, no padding (input gradient as the flipped-filter forward, padding 2)', geom(3, 8, 9, 7, 3, 3, 1, 0)],
  ['6→4 channels, stride 1, padding 2 (input gradient as the flipped-filter forward, padding 0)', geom(2, 6, 8, 8, 4, 3, 1, 2)],
  ['5→2 channels, 5×5 filter, stride 1 (flipped-filter input gradient, small-product loops)', geom(2, 5, 9, 9, 2, 5, 1, 2)],
];

describe(`native conv2d kernels${skip}`, () => {
  for (const [name, g] of cases) {
    for (const f64 of [false, true]) {
      it.skipIf(!image)(`${name}, ${f64 ? 'float64' : 'float32'}: equal to the TS kernels for 1 and 2 threads; 2-thread runs repeat bit for bit`, () => {
        const X = g.n * g.c * g.h * g.w, W = g.o * g.c * g.kh * g.kw, Y = g.n * g.o * g.oh * g.ow;
        const x = data(X, 1, f64), w = data(W, 2, f64), y = data(Y, 3, f64), b = data(g.o, 4, f64);
        const args: [Conv2dKind, ArrayLike<number>, ArrayLike<number>, ArrayLike<number> | null, number][] = [
          [0, x, w, b, Y], [1, y, w, null, X], [2, x, y, null, W],
        ];
        for (const [kind, a, bb, bias, len] of args) {
          const ref = f64 ? new Float64Array(len) : new Float32Array(len);
          jsImageKernels.conv2d(kind, g, a as Float32Array, bb as Float32Array, bias as Float32Array | null, ref);
          const runs: (Float32Array | Float64Array)[] = [];
          for (const t of [1, 2, 2]) {
            setNativeThreads(t);
            const out = f64 ? new Float64Array(len).fill(NaN) : new Float32Array(len).fill(NaN);
            image!.conv2d(kind, g, a as Float32Array, bb as Float32Array, bias as Float32Array | null, out);
            runs.push(out);
          }
          const tol = f64 ? 1e-12 : 1e-4;
          for (const out of runs) {
            let err = 0;
            for (let i = 0; i < len; i++) err = Math.max(err, Math.abs(out[i] - ref[i]));
            expect(err, `kind ${kind}`).toBeLessThan(tol);
          }
          expect(Array.from(runs[1])).toEqual(Array.from(runs[2]));
        }
        // Forward with a per-image bias [n][o].
        const bn = data(g.n * g.o, 5, f64);
        const ref = f64 ? new Float64Array(Y) : new Float32Array(Y);
        jsImageKernels.conv2d(0, g, x, w, bn, ref);
        const out = f64 ? new Float64Array(Y).fill(NaN) : new Float32Array(Y).fill(NaN);
        image!.conv2d(0, g, x, w, bn, out);
        let err = 0;
        for (let i = 0; i < Y; i++) err = Math.max(err, Math.abs(out[i] - ref[i]));
        expect(err, 'per-image bias').toBeLessThan(f64 ? 1e-12 : 1e-4);
      });
    }
  }

  it.skipIf(!image)('bad geometry or short arrays throw InvalidArgumentError, mixed element types InvalidTypeError', () => {
    const g = geom(1, 1, 4, 4, 1, 3, 1, 0);
    const f = new Float32Array(16), w = new Float32Array(9), o = new Float32Array(4);
    // the addon's N-API argument errors reach the caller as the library's error classes (src/tensor/native.ts)
    expect(() => image!.conv2d(0, g, f.subarray(0, 8), w, null, o)).toThrow(InvalidArgumentError);
    expect(() => image!.conv2d(0, { ...g, sh: 0 }, f, w, null, o)).toThrow(InvalidArgumentError);
    expect(() => image!.conv2d(0, g, f, new Float64Array(9), null, o)).toThrow(InvalidTypeError);
  });
});
