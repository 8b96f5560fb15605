import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { backendsUnderTest } from './backends.js';

const { tensor } = T;

for (const be of backendsUnderTest()) {
  describe(`engine basics (${be.name} backend)`, () => {
    it('broadcasts like numpy', () => {
      be.use();
      const a = tensor([[1, 2, 3], [4, 5, 6]]);
      const b = tensor([10, 20, 30]);
      expect(T.add(a, b).toNested()).toEqual([[11, 22, 33], [14, 25, 36]]);
      const c = tensor([[1], [2]]);
      expect(T.mul(a, c).toNested()).toEqual([[1, 2, 3], [8, 10, 12]]);
      expect(T.sub(c, b).shape).toEqual([2, 3]);
      expect(() => T.add(a, tensor([1, 2]))).toThrow(/do not broadcast/);
    });

    it('matmul matches a hand computation for every transpose flag', () => {
      be.use();
      const a = tensor([[1, 2], [3, 4], [5, 6]]); // 3x2
      const b = tensor([[1, 0, 2], [0, 1, 3]]); // 2x3
      expect(T.matmul(a, b).toNested()).toEqual([[1, 2, 8], [3, 4, 18], [5, 6, 28]]);
      expect(T.matmul(T.transpose(a), T.transpose(b), { transA: true, transB: true }).toNested()).toEqual([[1, 2, 8], [3, 4, 18], [5, 6, 28]]);
      expect(T.matmul(a, a, { transA: true }).toNested()).toEqual([[35, 44], [44, 56]]);
      expect(T.matmul(a, a, { transB: true }).toNested()).toEqual([[5, 11, 17], [11, 25, 39], [17, 39, 61]]);
      expect(() => T.matmul(a, a)).toThrow(/inner sizes differ/);
    });

    it('stable softplus, logSigmoid, sigmoid and logsumexp at ±1e4', () => {
      be.use();
      for (const dt of ['float32', 'float64'] as const) {
        const x = tensor([-1e4, -50, 0, 50, 1e4], [5], dt);
        expect(T.softplus(x).toArray()).toEqual([0, expect.closeTo(Math.exp(-50), 1e-25), expect.closeTo(Math.LN2, 6), 50, 1e4]);
        expect(T.logSigmoid(x).toArray()).toEqual([-1e4, -50, expect.closeTo(-Math.LN2, 6), expect.closeTo(-Math.exp(-50), 1e-25), -0]);
        expect(T.sigmoid(x).toArray()).toEqual([0, expect.closeTo(Math.exp(-50), 1e-25), 0.5, 1, 1]);
        const l = T.logsumexp(tensor([[1e4, 1e4], [-1e4, -1e4]], undefined, dt), 1).toArray();
        expect(l[0]).toBeCloseTo(1e4 + Math.LN2, 2);
        expect(l[1]).toBeCloseTo(-1e4 + Math.LN2, 2);
        for (const v of [...T.grad((y: T.Tensor) => T.sum(T.softplus(y)))(x).toArray(), ...T.grad((y: T.Tensor) => T.sum(T.logSigmoid(y)))(x).toArray()]) {
          expect(Number.isFinite(v)).toBe(true);
        }
        // float32 keeps ~4 significant digits of 1e4 + log 2, which bounds the accuracy of exp(x − lse) there.
        const tol = dt === 'float32' ? 2e-3 : 1e-9;
        const gl = T.grad((y: T.Tensor) => T.sum(T.logsumexp(y, 1)))(tensor([[1e4, 1e4], [-1e4, 0]], undefined, dt)).toArray();
        [0.5, 0.5, 0, 1].forEach((e, i) => expect(Math.abs(gl[i] - e)).toBeLessThan(tol));
      }
    });

    it('grad of grad: d²/dx² of x³ and Hessian-vector products of a quadratic', () => {
      be.use();
      const x = tensor([1, 2, 3], [3], 'float64');
      const d1 = (y: T.Tensor) => T.sum(T.grad((z: T.Tensor) => T.sum(T.mul(T.square(z), z)))(y));
      expect(T.grad(d1)(x).toArray()).toEqual([6, 12, 18]);
      // f = ½ xᵀAx with symmetric A: Hv = Av
      const A = tensor([[2, 1, 0], [1, 3, 1], [0, 1, 4]], undefined, 'float64');
      const f = (y: T.Tensor) => T.mul(T.sum(T.mul(T.matmul(T.reshape(y, [1, 3]), A), T.reshape(y, [1, 3]))), 0.5);
      const v = tensor([1, -1, 2], [3], 'float64');
      const hv = T.grad((y: T.Tensor) => T.sum(T.mul(T.grad(f)(y), v)))(x);
      expect(hv.toArray()).toEqual([1, 0, 7]);
    });

    it('∇θ of a loss that contains ∇ₓE (create_graph)', () => {
      be.use();
      // E(x; θ) = θ x²/2 → ∇ₓE = θx; loss = Σ (θx)² → dloss/dθ = 2θ Σx²
      const x = tensor([1, 2], [2], 'float64');
      const loss = (th: T.Tensor) => {
        const gx = T.grad((y: T.Tensor) => T.sum(T.mul(T.mul(T.square(y), 0.5), th)))(x);
        return T.sum(T.square(gx));
      };
      const [val, g] = T.valueAndGrad(loss)(tensor(3, [], 'float64'));
      expect(val.item()).toBeCloseTo(45, 10);
      expect(g.item()).toBeCloseTo(30, 10);
    });

    it('valueAndGrad over a record of parameters, hasAux, and untouched parameters get zeros', () => {
      be.use();
      const p = { w: tensor([1, 2]), b: tensor([0.5]), unused: tensor([7, 7]) };
      const f = (q: typeof p) => {
        const y = T.add(T.sum(T.square(q.w)), T.sum(q.b));
        return [y, { note: 'aux' }] as [T.Tensor, { note: string }];
      };
      const [v, g, aux] = T.valueAndGrad(f, { hasAux: true })(p);
      expect(v.item()).toBeCloseTo(5.5);
      expect(g.w.toArray()).toEqual([2, 4]);
      expect(g.b.toArray()).toEqual([1]);
      expect(g.unused.toArray()).toEqual([0, 0]);
      expect(aux.note).toBe('aux');
      expect(v.requiresGrad).toBe(false);
      expect(g.w.node).toBeNull();
    });

    it('noGrad and detach stop gradients', () => {
      be.use();
      const g = T.grad((x: T.Tensor) => T.add(T.sum(T.square(x)), T.sum(T.noGrad(() => T.square(x)))))(tensor([3]));
      expect(g.toArray()).toEqual([6]);
      const g2 = T.grad((x: T.Tensor) => T.sum(T.mul(x, T.detach(x))))(tensor([3]));
      expect(g2.toArray()).toEqual([3]);
    });

    it('rejects a non-scalar output and mismatched dtypes with named errors', () => {
      be.use();
      expect(() => T.grad((x: T.Tensor) => T.square(x))(tensor([1, 2]))).toThrow(/one element/);
      expect(() => T.add(tensor([1]), tensor([1], [1], 'float64'))).toThrow(T.DTypeError);
      expect(() => T.reshape(tensor([1, 2, 3]), [2, 2])).toThrow(T.ShapeError);
    });

    it('conv2d matches a direct loop and avgPool2d averages windows', () => {
      be.use();
      const x = tensor(Array.from({ length: 2 * 3 * 5 * 5 }, (_, i) => Math.sin(i)), [2, 3, 5, 5], 'float64');
      const w = tensor(Array.from({ length: 4 * 3 * 3 * 3 }, (_, i) => Math.cos(i)), [4, 3, 3, 3], 'float64');
      const b = tensor([0.1, 0.2, 0.3, 0.4], [4], 'float64');
      const y = T.conv2d(x, w, b, { stride: 2, padding: 1 });
      expect(y.shape).toEqual([2, 4, 3, 3]);
      const at = (n: number, o: number, r: number, c: number) => {
        let s = b.data[o];
        for (let ch = 0; ch < 3; ch++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
          const h = r * 2 - 1 + i;
          const ww = c * 2 - 1 + j;
          if (h < 0 || h >= 5 || ww < 0 || ww >= 5) continue;
          s += w.data[((o * 3 + ch) * 3 + i) * 3 + j] * x.data[((n * 3 + ch) * 5 + h) * 5 + ww];
        }
        return s;
      };
      for (const [n, o, r, c] of [[0, 0, 0, 0], [1, 3, 2, 1], [0, 2, 1, 2]]) {
        expect(y.data[((n * 4 + o) * 3 + r) * 3 + c]).toBeCloseTo(at(n, o, r, c), 10);
      }
      const p = T.avgPool2d(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]), 2);
      expect(p.toArray()).toEqual([3.5, 5.5, 11.5, 13.5]);
    });

    it('cast converts gradients back to the input dtype', () => {
      be.use();
      const g = T.grad((x: T.Tensor) => T.sum(T.mul(T.cast(x, 'float32'), 3)))(tensor([1, 2], [2], 'float64'));
      expect(g.dtype).toBe('float64');
      expect(g.toArray()).toEqual([3, 3]);
    });

    it('reductions over several axes', () => {
      be.use();
      const x = T.arange(24);
      const y = T.reshape(x, [2, 3, 4]);
      expect(T.sum(y, [0, 2]).toArray()).toEqual([60, 92, 124]);
      expect(T.max(y, 1).shape).toEqual([2, 4]);
      expect(T.mean(y, [1], true).shape).toEqual([2, 1, 4]);
      expect(T.softmax(tensor([[0, 0], [0, Math.log(3)]])).toNested()).toEqual([[0.5, 0.5], [expect.closeTo(0.25), expect.closeTo(0.75)]]);
    });
  });
}
