/**
 * The fused kernels behind the ops: activation backward (`Backend.unaryGrad`), row-broadcast binary ops and bias
 * gradients (`Backend.sumRows`). Inputs are large enough (≥ 132 elements) that the native backend runs its C kernels
 * rather than the tiny-size TS fallback, and every check runs on both backends.
 */
import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { backendsUnderTest, restore } from './backends.js';

const { checkGrad, checkGrad2 } = T;
type F = (x: T.Tensor) => T.Tensor;

/** Deterministic inputs in [lo, hi) from a low-discrepancy sequence (no RNG needed). */
function det(shape: number[], lo = -1.5, hi = 1.5, seed = 1, dtype: T.DType = 'float64'): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * (((i + 1) * 0.6180339887498949 * seed + 0.3) % 1);
  return new T.Tensor(d, shape);
}

const R = 12, C = 11; // 132 elements: above every native dispatch threshold
const X = det([R, C], -2, 2, 3);
const WGT = det([R, C], -1, 1, 13);
const w = (y: T.Tensor) => T.sum(T.mul(y, WGT)); // non-symmetric cotangent

const LX = det([R, 7], -2, 2, 41);
const LW = det([7, C], -1, 1, 43);
const LB = det([C], -1, 1, 45);

const acts: [string, (x: T.Tensor) => T.Tensor, number, number][] = [
  ['sigmoid', T.sigmoid, -5, 5],
  ['logSigmoid', T.logSigmoid, -5, 5],
  ['tanh', T.tanh, -3, 3],
  ['softplus', T.softplus, -5, 5],
  ['relu', (x) => T.mul(T.relu(x), x), -2, 2],
  ['silu', T.silu, -5, 5],
];

const cases: [string, F, T.Tensor][] = [
  ...acts.map(([name, f, lo, hi]) => [name, (x: T.Tensor) => w(f(x)), det([R, C], lo, hi, 5)] as [string, F, T.Tensor]),
  // Parameter is the bias: row-broadcast add forward, sumRows (sumToShape) backward.
  ['bias add → silu', (b) => w(T.silu(T.add(X, b))), det([C], -1, 1, 7)],
  ['bias as [1, C] → tanh', (b) => w(T.tanh(T.add(X, b))), det([1, C], -1, 1, 7)],
  ['row-broadcast mul/sub/div', (b) => w(T.div(T.sub(T.mul(X, b), b), T.add(T.square(b), 1))), det([C], -1, 1, 9)],
  // Parameter is the matrix; a [C] constant is broadcast along its rows.
  ['matrix + bias, softplus', (x) => w(T.softplus(T.add(x, det([C], -1, 1, 11)))), det([R, C], -2, 2, 4)],
  // Fused linear (bias folded into the GEMM with β = 1): each argument in turn is the parameter.
  ['linear: x', (x) => w(T.silu(T.linear(x, LW, LB))), det([R, 7], -2, 2, 31)],
  ['linear: W', (wt) => w(T.silu(T.linear(LX, wt, LB))), det([7, C], -1, 1, 33)],
  ['linear: b', (b) => w(T.silu(T.linear(LX, LW, b))), det([C], -1, 1, 35)],
  ['linear: 3-D x', (x) => w(T.reshape(T.tanh(T.linear(x, LW, LB)), [R, C])), det([3, 4, 7], -2, 2, 37)],
  ['3-D batch + bias', (b) => w(T.reshape(T.sigmoid(T.add(T.reshape(X, [3, 4, C]), b)), [R, C])), det([C], -1, 1, 15)],
];

for (const be of backendsUnderTest()) {
  describe(`fused kernels through the ops (${be.name} backend)`, () => {
    for (const [name, f, x] of cases) {
      it(`${name}: first order matches central differences`, () => {
        be.use();
        try {
          const r = checkGrad(f, x);
          expect(r.ok, `${name}: max abs err ${r.maxAbsError}, rel ${r.maxRelError}`).toBe(true);
        } finally {
          restore();
        }
      });
      it(`${name}: second order (through the fused first-order path) matches`, () => {
        be.use();
        try {
          const v = det(x.shape as number[], -1, 1, 17);
          const r = checkGrad2(f, x, v);
          expect(r.ok, `${name}: max abs err ${r.maxAbsError}, rel ${r.maxRelError}`).toBe(true);
        } finally {
          restore();
        }
      });
    }

    for (const dtype of ['float32', 'float64'] as const) {
      it(`${dtype}: the fused first-order backward equals the composite (createGraph) backward`, () => {
        be.use();
        try {
          const wgt = det([64, 33], -1, 1, 19, dtype);
          for (const [name, act, lo, hi] of acts) {
            const x = det([64, 33], lo, hi, 21, dtype);
            const f = (y: T.Tensor) => T.sum(T.mul(act(y), wgt));
            const fast = T.grad(f)(x);
            const composite = T.grad(f, { createGraph: true })(x);
            const eps = dtype === 'float32' ? 2 ** -23 : 2 ** -52;
            for (let i = 0; i < x.size; i++) {
              const a = fast.data[i], b = composite.data[i];
              // The two formulas round differently (e.g. 1 − t² vs g·(1 − t²)): allow a few ulps of |g|·max f′.
              expect(Math.abs(a - b), `${name}[${i}]: fused ${a} vs composite ${b}`).toBeLessThanOrEqual(16 * eps * (Math.abs(b) + Math.abs(wgt.data[i])));
            }
          }
        } finally {
          restore();
        }
      });

      it(`${dtype}: linear(x, W, b) equals add(matmul(x, W), b), forward and gradients`, () => {
        be.use();
        try {
          const x = det([64, 40], -1, 1, 51, dtype), wt = det([40, 24], -1, 1, 53, dtype), b = det([24], -1, 1, 55, dtype);
          const eps = dtype === 'float32' ? 2 ** -23 : 2 ** -52;
          const close = (a: T.Tensor, r: T.Tensor, scale: number) => {
            expect(a.shape).toEqual(r.shape);
            for (let i = 0; i < r.size; i++) expect(Math.abs(a.data[i] - r.data[i])).toBeLessThanOrEqual(64 * eps * scale);
          };
          close(T.linear(x, wt, b), T.add(T.matmul(x, wt), b), 40);
          const fused = T.grad((p: T.Tensor[]) => T.sum(T.square(T.linear(p[0], p[1], p[2]))))([x, wt, b]);
          const ref = T.grad((p: T.Tensor[]) => T.sum(T.square(T.add(T.matmul(p[0], p[1]), p[2]))))([x, wt, b]);
          for (let i = 0; i < 3; i++) close(fused[i], ref[i], 64 * 40);
        } finally {
          restore();
        }
      });

      it(`${dtype}: bias gradient of a row-broadcast add is the column sum of the cotangent`, () => {
        be.use();
        try {
          const x = det([96, 40], -1, 1, 23, dtype);
          const g = det([96, 40], -1, 1, 25, dtype);
          const gb = T.grad((b: T.Tensor) => T.sum(T.mul(T.add(x, b), g)))(det([40], -1, 1, 27, dtype));
          expect(gb.shape).toEqual([40]);
          for (let j = 0; j < 40; j++) {
            let s = 0;
            for (let i = 0; i < 96; i++) s += g.data[i * 40 + j];
            expect(Math.abs(gb.data[j] - s)).toBeLessThanOrEqual(96 * (dtype === 'float32' ? 2 ** -23 : 2 ** -52) * 2 * Math.max(1, Math.abs(s)) * 4);
          }
          // Forward of the row broadcast equals the explicit broadcastTo + add.
          const b = det([40], -3, 3, 29, dtype);
          const direct = T.add(x, b);
          const explicit = T.add(x, T.broadcastTo(b, [96, 40]));
          expect(Array.from(direct.data)).toEqual(Array.from(explicit.data));
        } finally {
          restore();
        }
      });
    }
  });
}
