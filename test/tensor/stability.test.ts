import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { backendsUnderTest, restore } from './backends.js';
import { InvalidArgumentError, InvalidTypeError } from '../../src/errors.js';

/** float64 reference log-softmax of one row, computed in plain JS doubles. */
function refLogSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
  return row.map((v) => v - m - Math.log(s));
}

function maxRelErr(got: ArrayLike<number>, want: number[]): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-30));
  return e;
}

for (const be of backendsUnderTest()) {
  describe(`softmax / logSoftmax accuracy at large logits (${be.name} backend)`, () => {
    for (const scale of [100, 1e4]) {
      it(`float32 logits near ${scale}: relative error ≲ float32 rounding`, () => {
        be.use();
        // Logits that float32 represents exactly, spread over a few units around `scale`.
        const rows = 8, cols = 10;
        const vals: number[] = [];
        for (let i = 0; i < rows * cols; i++) vals.push(Math.fround(scale + ((i * 0.618034) % 1) * 6 - 3));
        const x = T.tensor(vals, [rows, cols], 'float32');
        const ls = T.logSoftmax(x, -1);
        const sm = T.softmax(x, -1);
        let eLs = 0, eSm = 0;
        for (let r = 0; r < rows; r++) {
          const row = vals.slice(r * cols, (r + 1) * cols);
          const ref = refLogSoftmax(row);
          eLs = Math.max(eLs, maxRelErr(ls.data.subarray(r * cols, (r + 1) * cols), ref));
          eSm = Math.max(eSm, maxRelErr(sm.data.subarray(r * cols, (r + 1) * cols), ref.map(Math.exp)));
        }
        // float32 unit roundoff is 6e-8; x − logsumexp(x) gave 2e-6 (100) and 3.8e-4 (1e4).
        expect(eLs, `logSoftmax rel err ${eLs}`).toBeLessThan(2e-7);
        expect(eSm, `softmax rel err ${eSm}`).toBeLessThan(5e-7);
        restore();
      });
    }

    it('float64 softmax and logSoftmax agree with the reference along a non-last axis and sum to one', () => {
      be.use();
      const vals = Array.from({ length: 24 }, (_, i) => 1e4 + Math.sin(i) * 5);
      const x = T.tensor(vals, [2, 3, 4], 'float64');
      const ls = T.logSoftmax(x, 1);
      const sm = T.softmax(x, 1);
      for (let a = 0; a < 2; a++) {
        for (let c = 0; c < 4; c++) {
          const idx = [0, 1, 2].map((b) => a * 12 + b * 4 + c);
          const ref = refLogSoftmax(idx.map((i) => vals[i]));
          idx.forEach((i, k) => {
            expect(Math.abs(ls.data[i] - ref[k])).toBeLessThan(1e-14);
            expect(Math.abs(sm.data[i] - Math.exp(ref[k]))).toBeLessThan(1e-15);
          });
        }
      }
      restore();
    });

    it('gradients of softmax / logSoftmax at logits ~1e4 match the analytic Jacobian (float64) and second order holds', () => {
      be.use();
      const x = T.tensor([1e4, 1e4 + 1, 1e4 - 2, 1e4 + 0.5], [1, 4], 'float64');
      const v = T.tensor([0.3, -1, 2, 0.7], [1, 4], 'float64');
      const p = T.softmax(x).data;
      const gLs = T.grad((y: T.Tensor) => T.sum(T.mul(T.logSoftmax(y), v)))(x).data;
      const gSm = T.grad((y: T.Tensor) => T.sum(T.mul(T.softmax(y), v)))(x).data;
      const sv = 0.3 - 1 + 2 + 0.7;
      const pv = [0, 1, 2, 3].reduce((a, i) => a + p[i] * v.data[i], 0);
      for (let i = 0; i < 4; i++) {
        expect(gLs[i]).toBeCloseTo(v.data[i] - p[i] * sv, 12);
        expect(gSm[i]).toBeCloseTo(p[i] * (v.data[i] - pv), 12);
      }
      const r = T.checkGrad2((y) => T.sum(T.mul(T.softmax(y), v)), x, T.tensor([1, -0.5, 0.25, 2], [1, 4], 'float64'), 1e-5);
      expect(r.ok, `max abs err ${r.maxAbsError}`).toBe(true);
      restore();
    });
  });
}

describe('errors', () => {
  it('grad of a function returning a plain number is a TypeError naming the problem', () => {
    const f = T.grad(((x: T.Tensor) => 3) as unknown as (x: T.Tensor) => T.Tensor);
    expect(() => f(T.tensor([1, 2]))).toThrow(InvalidTypeError);
    expect(() => f(T.tensor([1, 2]))).toThrow(/plain number/);
  });

  it('conv2d refuses a non-integer or negative stride / padding with a RangeError and accepts [sh, sw] pairs', () => {
    const x = T.ones([1, 1, 5, 6], 'float64');
    const w = T.ones([1, 1, 3, 3], 'float64');
    expect(() => T.conv2d(x, w, undefined, { stride: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => T.conv2d(x, w, undefined, { padding: 0.5 })).toThrow(InvalidArgumentError);
    expect(() => T.conv2d(x, w, undefined, { stride: 0 })).toThrow(InvalidArgumentError);
    expect(() => T.conv2d(x, w, undefined, { padding: -1 })).toThrow(InvalidArgumentError);
    expect(() => T.conv2d(x, w, undefined, { stride: [1, 2, 3] as unknown as [number, number] })).toThrow(InvalidArgumentError);
    const y = T.conv2d(x, w, undefined, { stride: [1, 2], padding: [0, 1] });
    expect(y.shape).toEqual([1, 1, 3, 3]);
  });
});
