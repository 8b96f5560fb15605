import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { backendsUnderTest, restore } from './backends.js';
import { InvalidArgumentError } from '../../src/errors.js';

function det(shape: number[], lo = -1, hi = 1, seed = 1): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * (((i + 1) * 0.6180339887498949 * seed + 0.3) % 1);
  return new T.Tensor(d, shape);
}
const probe = (y: T.Tensor) => T.sum(T.mul(T.tanh(y), det(y.shape as number[], -1, 1, 11)));

/** PyTorch's bilinear rule (align_corners=False), one output pixel at a time: the oracle. */
function bilinearRef(x: T.Tensor, s: number): number[] {
  const [N, C, H, W] = x.shape;
  const out: number[] = [];
  const src = (i: number, n: number) => { const v = Math.max(0, (i + 0.5) / s - 0.5); const i0 = Math.min(Math.floor(v), n - 1); return [i0, Math.min(i0 + 1, n - 1), v - i0]; };
  for (let nc = 0; nc < N * C; nc++) for (let y = 0; y < H * s; y++) for (let xx = 0; xx < W * s; xx++) {
    const [y0, y1, ly] = src(y, H), [x0, x1, lx] = src(xx, W);
    const at = (a: number, b: number) => x.data[nc * H * W + a * W + b];
    out.push((1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1)));
  }
  return out;
}

for (const be of backendsUnderTest()) {
  describe(`image ops (${be.name} backend)`, () => {
    it('maxPool2d equals the window maximum (with stride and padding) and its gradients check to second order', () => {
      be.use();
      const x = det([2, 3, 7, 6], -2, 2, 3);
      const y = T.maxPool2d(x, 3, { stride: 2, padding: 1 });
      expect(y.shape).toEqual([2, 3, 4, 3]);
      for (let nc = 0; nc < 6; nc++) for (let oy = 0; oy < 4; oy++) for (let ox = 0; ox < 3; ox++) {
        let m = -Infinity;
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
          const yy = oy * 2 - 1 + i, xx = ox * 2 - 1 + j;
          if (yy >= 0 && yy < 7 && xx >= 0 && xx < 6) m = Math.max(m, x.data[nc * 42 + yy * 6 + xx]);
        }
        expect(y.data[nc * 12 + oy * 3 + ox]).toBe(m);
      }
      const f = (z: T.Tensor) => probe(T.maxPool2d(T.mul(z, z), 2));
      const x0 = det([1, 2, 4, 4], 0.1, 2, 5);
      expect(T.checkGrad(f, x0).ok).toBe(true);
      expect(T.checkGrad2(f, x0, det([1, 2, 4, 4], -1, 1, 7)).ok).toBe(true);
      restore();
    });

    it('upsampleNearest2d repeats pixels; gradient is the block sum; second order checks', () => {
      be.use();
      const x = det([1, 2, 3, 2], -1, 1, 3);
      const y = T.upsampleNearest2d(x, [2, 3]);
      expect(y.shape).toEqual([1, 2, 6, 6]);
      for (let c = 0; c < 2; c++) for (let yy = 0; yy < 6; yy++) for (let xx = 0; xx < 6; xx++) {
        expect(y.data[c * 36 + yy * 6 + xx]).toBe(x.data[c * 6 + Math.floor(yy / 2) * 2 + Math.floor(xx / 3)]);
      }
      const g = T.grad((z: T.Tensor) => T.sum(T.upsampleNearest2d(z, 2)))(x);
      for (let i = 0; i < g.size; i++) expect(g.data[i]).toBe(4);
      const f = (z: T.Tensor) => probe(T.upsampleNearest2d(T.sin(z), 2));
      expect(T.checkGrad(f, x).ok).toBe(true);
      expect(T.checkGrad2(f, x, det([1, 2, 3, 2], -1, 1, 9)).ok).toBe(true);
      restore();
    });

    it('upsampleConcat2d equals concat([upsampleNearest2d(x), skip]) with the same first- and second-order gradients', () => {
      be.use();
      for (const scale of [2, [2, 3]] as const) {
        const x = det([2, 3, 3, 2], -1, 1, 3);
        const sh = typeof scale === 'number' ? scale : scale[0];
        const sw = typeof scale === 'number' ? scale : scale[1];
        const skip = det([2, 2, 3 * sh, 2 * sw], -1, 1, 5);
        const ref = (a: T.Tensor, b: T.Tensor) => T.concat([T.upsampleNearest2d(a, scale), b], 1);
        expect(Array.from(T.upsampleConcat2d(x, skip, scale).data)).toEqual(Array.from(ref(x, skip).data));
        // First order through the fused (unrecorded) backward: the same numbers as the composite's.
        const r = det([2, 5, 3 * sh, 2 * sw], -1, 1, 13);
        const loss = (f: (a: T.Tensor, b: T.Tensor) => T.Tensor) => (p: { a: T.Tensor; b: T.Tensor }) => T.sum(T.mul(T.tanh(f(p.a, p.b)), r));
        const gFused = T.grad(loss((a, b) => T.upsampleConcat2d(a, b, scale)))({ a: x, b: skip });
        const gRef = T.grad(loss(ref))({ a: x, b: skip });
        expect(Array.from(gFused.a.data)).toEqual(Array.from(gRef.a.data));
        expect(Array.from(gFused.b.data)).toEqual(Array.from(gRef.b.data));
        const fx = (z: T.Tensor) => probe(T.upsampleConcat2d(T.sin(z), skip, scale));
        const fs = (z: T.Tensor) => probe(T.upsampleConcat2d(x, T.mul(z, z), scale));
        expect(T.checkGrad(fx, x).ok).toBe(true);
        expect(T.checkGrad2(fx, x, det([2, 3, 3, 2], -1, 1, 9)).ok).toBe(true);
        expect(T.checkGrad(fs, skip).ok).toBe(true);
        expect(T.checkGrad2(fs, skip, det(skip.shape as number[], -1, 1, 7)).ok).toBe(true);
      }
      expect(() => T.upsampleConcat2d(det([1, 1, 2, 2]), det([1, 1, 3, 4]), 2)).toThrow(T.ShapeError);
      restore();
    });

    it('upsampleBilinear2d matches the align_corners=False formula pixel by pixel and its gradients check', () => {
      be.use();
      const x = det([2, 2, 4, 3], -1, 1, 3);
      for (const s of [2, 3]) {
        const y = T.upsampleBilinear2d(x, s);
        expect(y.shape).toEqual([2, 2, 4 * s, 3 * s]);
        const ref = bilinearRef(x, s);
        for (let i = 0; i < ref.length; i++) expect(Math.abs(y.data[i] - ref[i])).toBeLessThan(1e-14);
      }
      const f = (z: T.Tensor) => probe(T.upsampleBilinear2d(T.square(z), 2));
      expect(T.checkGrad(f, x).ok).toBe(true);
      expect(T.checkGrad2(f, x, det([2, 2, 4, 3], -1, 1, 13)).ok).toBe(true);
      restore();
    });

    it('groupNorm / layerNorm give zero-mean unit-variance groups and exact first and second derivatives', () => {
      be.use();
      const x = det([2, 4, 3, 3], -2, 3, 3);
      const y = T.groupNorm(x, 2);
      for (let n = 0; n < 2; n++) for (let g = 0; g < 2; g++) {
        const vals = Array.from(y.data.subarray(n * 36 + g * 18, n * 36 + (g + 1) * 18));
        const m = vals.reduce((a, b) => a + b, 0) / 18;
        const v = vals.reduce((a, b) => a + (b - m) ** 2, 0) / 18;
        expect(Math.abs(m)).toBeLessThan(1e-12);
        expect(v).toBeCloseTo(1, 3); // ε = 1e-5 shrinks it slightly
      }
      const gamma = det([4], 0.5, 1.5, 5), beta = det([4], -1, 1, 7);
      const fg = (z: T.Tensor) => probe(T.groupNorm(z, 2, gamma, beta));
      expect(T.checkGrad(fg, x).ok).toBe(true);
      expect(T.checkGrad2(fg, x, det([2, 4, 3, 3], -1, 1, 9)).ok).toBe(true);
      const fgam = (gm: T.Tensor) => probe(T.groupNorm(x, 4, gm, beta));
      expect(T.checkGrad(fgam, gamma).ok).toBe(true);
      const h = det([3, 5], -2, 2, 3);
      const lg = det([5], 0.5, 1.5, 3), lb = det([5], -1, 1, 5);
      const fl = (z: T.Tensor) => probe(T.layerNorm(z, 1, lg, lb));
      expect(T.checkGrad(fl, h).ok).toBe(true);
      expect(T.checkGrad2(fl, h, det([3, 5], -1, 1, 9)).ok).toBe(true);
      // The fused first-order backward equals the recorded (composite) one.
      const fast = T.grad(fg)(x);
      const slow = T.grad(fg, { createGraph: true })(x);
      for (let i = 0; i < x.size; i++) expect(Math.abs(fast.data[i] - slow.data[i])).toBeLessThan(1e-12);
      const ln = T.layerNorm(h);
      for (let r = 0; r < 3; r++) {
        const row = Array.from(ln.data.subarray(r * 5, r * 5 + 5));
        expect(Math.abs(row.reduce((a, b) => a + b, 0))).toBeLessThan(1e-12);
      }
      restore();
    });

    it('bad arguments are RangeErrors / ShapeErrors', () => {
      be.use();
      const x = det([1, 4, 4, 4]);
      expect(() => T.maxPool2d(x, 1.5)).toThrow(InvalidArgumentError);
      expect(() => T.upsampleNearest2d(x, 0)).toThrow(InvalidArgumentError);
      expect(() => T.groupNorm(x, 3)).toThrow(InvalidArgumentError);
      expect(() => T.maxPool2d(det([4, 4]), 2)).toThrow(T.ShapeError);
      restore();
    });
  });
}
