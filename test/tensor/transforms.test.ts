import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { backendsUnderTest, restore } from './backends.js';

function det(shape: number[], lo = -1, hi = 1, seed = 1): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * (((i + 1) * 0.6180339887498949 * seed + 0.3) % 1);
  return new T.Tensor(d, shape);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e;
}

/** Central-difference Jacobian of f at x, shape [size(f(x)), size(x)] flattened. */
function fdJacobian(f: (x: T.Tensor) => T.Tensor, x: T.Tensor, h = 1e-6): Float64Array {
  const m = f(x).size;
  const J = new Float64Array(m * x.size);
  for (let j = 0; j < x.size; j++) {
    const p = Float64Array.from(x.data), q = Float64Array.from(x.data);
    p[j] += h; q[j] -= h;
    const fp = f(new T.Tensor(p, x.shape)).data, fq = f(new T.Tensor(q, x.shape)).data;
    for (let i = 0; i < m; i++) J[i * x.size + j] = (fp[i] - fq[i]) / (2 * h);
  }
  return J;
}

// A small MLP-like vector function and a scalar energy with non-trivial curvature.
const A = det([3, 4], -1, 1, 3);
const vecF = (x: T.Tensor) => T.tanh(T.matmul(T.reshape(x, [1, 4]), A, { transB: true })); // [1, 3]
const scalarF = (x: T.Tensor) => T.add(T.sum(T.softplus(T.mul(x, x))), T.sum(T.mul(T.sin(x), T.sliceAxis(T.concat([x, x]), 0, 1, 5))));

for (const be of backendsUnderTest()) {
  describe(`derivative transforms (${be.name} backend)`, () => {
    it('jacobian of a vector function matches finite differences; jvp equals J·v', () => {
      be.use();
      const x = det([4], -1, 1, 5);
      const J = T.jacobian(vecF, x);
      expect(J.shape).toEqual([1, 3, 4]);
      expect(maxDiff(J.data, fdJacobian(vecF, x))).toBeLessThan(1e-8);
      const v = det([4], -1, 1, 7);
      const [y, jv] = T.jvp(vecF, x, v);
      expect(maxDiff(y.data, vecF(x).data)).toBe(0);
      const Jv = [0, 1, 2].map((i) => [0, 1, 2, 3].reduce((s, j) => s + J.data[i * 4 + j] * v.data[j], 0));
      expect(jv.shape).toEqual([1, 3]);
      expect(maxDiff(jv.data, Jv)).toBeLessThan(1e-12);
      restore();
    });

    it('hessian of a cubic equals its analytic Hessian; hvp equals H·v; both agree with finite differences of grad', () => {
      be.use();
      const x = T.tensor([0.5, -1.2, 2], [3], 'float64');
      // f = Σ x³ + x0·x1·x2 → H = diag(6x) + off-diagonals x_k
      const f = (y: T.Tensor) => T.add(T.sum(T.pow(y, 3)), T.mul(T.mul(T.sliceAxis(y, 0, 0, 1), T.sliceAxis(y, 0, 1, 2)), T.sliceAxis(y, 0, 2, 3)));
      const H = T.hessian(f, x);
      const [a, b, c] = [0.5, -1.2, 2];
      const want = [6 * a, c, b, c, 6 * b, a, b, a, 6 * c];
      expect(H.shape).toEqual([3, 3]);
      expect(maxDiff(H.data, want)).toBeLessThan(1e-12);
      const v = T.tensor([1, -2, 0.5], [3], 'float64');
      const hv = T.hvp(f, x, v);
      const want2 = [0, 1, 2].map((i) => [0, 1, 2].reduce((s, j) => s + want[i * 3 + j] * v.data[j], 0));
      expect(maxDiff(hv.data, want2)).toBeLessThan(1e-12);
      const Hs = T.hessian(scalarF, det([4]));
      expect(maxDiff(Hs.data, fdJacobian((y) => T.grad(scalarF)(y), det([4]), 1e-5))).toBeLessThan(1e-7);
      restore();
    });

    it('hessianTrace of a batched energy equals the trace of each sample\'s Hessian (analytic quadratic and finite differences)', () => {
      be.use();
      // E_b = ½ x_bᵀ M x_b with M = SᵀS + diag: tr = tr M for every sample.
      const S = det([3, 3], -1, 1, 9);
      const M = T.add(T.matmul(S, S, { transA: true }), T.mul(T.eye(3, 'float64'), 0.5));
      const quad = (x: T.Tensor) => T.mul(T.sum(T.mul(T.matmul(x, M), x), 1), 0.5);
      const x = det([5, 3], -2, 2, 11);
      const tr = T.hessianTrace(quad, x);
      const trM = M.data[0] + M.data[4] + M.data[8];
      expect(tr.shape).toEqual([5]);
      for (let b = 0; b < 5; b++) expect(tr.data[b]).toBeCloseTo(trM, 12);
      // A non-quadratic energy: compare with the per-sample Hessian from `hessian`.
      const W = det([4, 3], -1, 1, 13);
      const E = (z: T.Tensor) => T.sum(T.softplus(T.matmul(z, W, { transB: true })), 1);
      const t2 = T.hessianTrace(E, x);
      for (let b = 0; b < 5; b++) {
        const xb = T.sliceAxis(x, 0, b, b + 1);
        const Hb = T.hessian((z: T.Tensor) => T.sum(E(z)), xb);
        expect(t2.data[b]).toBeCloseTo(Hb.data[0] + Hb.data[4] + Hb.data[8], 12);
      }
      restore();
    });

    it('transforms compose with grad: ∇θ of a loss built from hessianTrace / hvp / jvp matches finite differences', () => {
      be.use();
      const x = det([4, 3], -1, 1, 3);
      const v = det([4, 3], -1, 1, 5);
      const energy = (W: T.Tensor) => (z: T.Tensor) => T.sum(T.tanh(T.matmul(z, W, { transB: true })), 1);
      const W0 = det([2, 3], -1, 1, 7);
      const lossTr = (W: T.Tensor) => T.sum(T.hessianTrace(energy(W), x));
      const lossHvp = (W: T.Tensor) => T.sumSquares(T.hvp((z) => T.sum(energy(W)(z)), x, v));
      const lossJvp = (W: T.Tensor) => T.sumSquares(T.jvp(energy(W), x, v)[1]);
      for (const f of [lossTr, lossHvp, lossJvp]) {
        const r = T.checkGrad(f, W0);
        expect(r.ok, `max abs err ${r.maxAbsError}`).toBe(true);
      }
      restore();
    });

    it('bad inputs: tangent shape mismatch and an energy that is not per-sample are ShapeErrors', () => {
      be.use();
      expect(() => T.hvp(scalarF, det([4]), det([3]))).toThrow(T.ShapeError);
      expect(() => T.jvp(vecF, det([4]), det([2, 2]))).toThrow(T.ShapeError);
      expect(() => T.hessianTrace((z) => T.sum(z), det([3, 2]))).toThrow(T.ShapeError);
      restore();
    });
  });
}
