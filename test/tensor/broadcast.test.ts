import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { backendsUnderTest, restore } from './backends.js';

function det(shape: number[], lo = -1, hi = 1, seed = 1): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * (((i + 1) * 0.6180339887498949 * seed + 0.3) % 1);
  return new T.Tensor(d, shape);
}

/** `a op b` entry by entry through explicit indices (the oracle for the broadcast fast paths). */
function ref(a: T.Tensor, b: T.Tensor, f: (x: number, y: number) => number): number[] {
  const [N, C, H, W] = a.shape;
  const out: number[] = [];
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) {
    const bi = b.shape.length === 4 ? n * b.shape[1] + (b.shape[1] === 1 ? 0 : c) : n;
    out.push(f(a.data[(n * C + c) * H * W + i], b.data[bi]));
  }
  return out;
}

for (const be of backendsUnderTest()) {
  describe(`column broadcasts ([N, C, 1, 1] and [N, 1, 1, 1] against [N, C, H, W]) (${be.name} backend)`, () => {
    const ops: [string, (a: T.Tensor, b: T.Tensor) => T.Tensor, (x: number, y: number) => number][] = [
      ['add', T.add, (x, y) => x + y], ['sub', T.sub, (x, y) => x - y], ['mul', T.mul, (x, y) => x * y], ['div', T.div, (x, y) => x / y],
    ];
    for (const bShape of [[2, 3, 1, 1], [2, 1, 1, 1]]) {
      it(`add/sub/mul/div with b [${bShape}] equal the indexed formula; broadcastTo and sumToShape agree; gradients check to second order`, () => {
        be.use();
        const a = det([2, 3, 4, 5], -1, 1, 3);
        const b = det(bShape, 0.5, 1.5, 5);
        for (const [name, op, f] of ops) {
          const y = op(a, b);
          expect(y.shape, name).toEqual([2, 3, 4, 5]);
          const r = ref(a, b, f);
          for (let i = 0; i < r.length; i++) expect(Math.abs(y.data[i] - r[i]), name).toBeLessThan(1e-14);
        }
        const bb = T.broadcastTo(b, [2, 3, 4, 5]);
        const r = ref(a, b, (_x, y) => y);
        for (let i = 0; i < r.length; i++) expect(bb.data[i]).toBe(r[i]);
        // sumToShape is the adjoint of broadcastTo: ⟨broadcast(b), a⟩ = ⟨b, sumToShape(a)⟩.
        const lhs = T.sum(T.mul(bb, a)).item();
        const rhs = T.sum(T.mul(b, T.sumToShape(a, bShape))).item();
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-12);
        const probe = (y: T.Tensor) => T.sum(T.mul(T.tanh(y), det(y.shape as number[], -1, 1, 11)));
        for (const [name, op] of ops) {
          const fb = (z: T.Tensor) => probe(op(T.mul(a, a), z));
          const fa = (z: T.Tensor) => probe(op(T.mul(z, z), b));
          for (const [f, x] of [[fb, b], [fa, a]] as const) {
            expect(T.checkGrad(f, x).ok, `${name} first order`).toBe(true);
            expect(T.checkGrad2(f, x, det(x.shape as number[], -1, 1, 13)).ok, `${name} second order`).toBe(true);
          }
        }
        restore();
      });
    }
  });
}
