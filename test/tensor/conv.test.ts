import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { backendsUnderTest, restore } from './backends.js';

function det(shape: number[], lo = -1, hi = 1, seed = 1, dtype: T.DType = 'float64'): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * (((i + 1) * 0.6180339887498949 * seed + 0.3) % 1);
  return new T.Tensor(d, shape);
}

/** Direct six-loop cross-correlation in float64: the oracle. */
/** A fixed nonlinear probe of a conv output: Σ tanh(y)·r with fixed r (so the checked gradients are not trivial). */
function probe(y: T.Tensor): T.Tensor {
  return T.sum(T.mul(T.tanh(y), det(y.shape as number[], -1, 1, 11)));
}

/** First- and second-order gradient checks of conv2d in each of x, w and b (the other two fixed). */
function checkConvGrads(x0: T.Tensor, w0: T.Tensor, b0: T.Tensor, opts: { stride: number | readonly [number, number]; padding: number | readonly [number, number] }): void {
  const fx = (x: T.Tensor) => probe(T.conv2d(x, w0, b0, opts));
  const fw = (w: T.Tensor) => probe(T.conv2d(x0, w, b0, opts));
  const fb = (b: T.Tensor) => probe(T.conv2d(x0, w0, b, opts));
  for (const [f, x] of [[fx, x0], [fw, w0], [fb, b0]] as const) {
    const r1 = T.checkGrad(f, x);
    expect(r1.ok, `first order max abs err ${r1.maxAbsError}`).toBe(true);
    const r2 = T.checkGrad2(f, x, det(x.shape as number[], -1, 1, 13));
    expect(r2.ok, `second order max abs err ${r2.maxAbsError}`).toBe(true);
  }
}

function convRef(x: T.Tensor, w: T.Tensor, b: T.Tensor | null, s: [number, number], p: [number, number]): { data: Float64Array; shape: number[] } {
  const [N, C, H, W] = x.shape;
  const [O, , KH, KW] = w.shape;
  const OH = Math.floor((H + 2 * p[0] - KH) / s[0]) + 1;
  const OW = Math.floor((W + 2 * p[1] - KW) / s[1]) + 1;
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let acc = b ? b.data[o] : 0;
    for (let c = 0; c < C; c++) for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) {
      const y = oy * s[0] - p[0] + i, xx = ox * s[1] - p[1] + j;
      if (y >= 0 && y < H && xx >= 0 && xx < W) acc += w.data[((o * C + c) * KH + i) * KW + j] * x.data[((n * C + c) * H + y) * W + xx];
    }
    out[((n * O + o) * OH + oy) * OW + ox] = acc;
  }
  return { data: out, shape: [N, O, OH, OW] };
}

const geoms: { s: [number, number]; p: [number, number]; x: number[]; w: number[] }[] = [
  { s: [1, 1], p: [1, 1], x: [2, 3, 7, 6], w: [4, 3, 3, 3] },
  { s: [2, 2], p: [1, 1], x: [3, 2, 9, 8], w: [5, 2, 3, 3] },
  { s: [1, 2], p: [0, 2], x: [1, 2, 6, 7], w: [3, 2, 2, 3] },
  { s: [3, 1], p: [2, 0], x: [2, 1, 8, 5], w: [2, 1, 3, 2] },
  { s: [1, 1], p: [0, 1], x: [2, 4, 6, 7], w: [2, 4, 2, 3] }, // fewer outputs than inputs: native input gradient as a flipped-filter forward
];

for (const be of backendsUnderTest()) {
  describe(`conv2d kernels (${be.name} backend)`, () => {
    for (const g of geoms) {
      it(`forward equals the direct sum: x [${g.x}] w [${g.w}] stride [${g.s}] padding [${g.p}], float64 and float32`, () => {
        be.use();
        for (const dtype of ['float64', 'float32'] as const) {
          const x = det(g.x, -1, 1, 3, dtype), w = det(g.w, -1, 1, 5, dtype), b = det([g.w[0]], -1, 1, 7, dtype);
          const y = T.conv2d(x, w, b, { stride: g.s, padding: g.p });
          const ref = convRef(x, w, b, g.s, g.p);
          expect(y.shape).toEqual(ref.shape);
          let err = 0;
          for (let i = 0; i < ref.data.length; i++) err = Math.max(err, Math.abs(y.data[i] - ref.data[i]));
          expect(err).toBeLessThan(dtype === 'float64' ? 1e-12 : 2e-5);
        }
        restore();
      });

      it(`first and second order gradients in x, w, b match finite differences: stride [${g.s}] padding [${g.p}]`, () => {
        be.use();
        const x0 = det(g.x, -1, 1, 3), w0 = det(g.w, -0.5, 0.5, 5), b0 = det([g.w[0]], -1, 1, 7);
        const opts = { stride: g.s, padding: g.p };
        checkConvGrads(x0, w0, b0, opts);
        // Mixed second order: ∇_w of a loss containing ∇_x (score matching / Langevin-through-gradient shape).
        const mixed = (w: T.Tensor) => T.sumSquares(T.grad((x: T.Tensor) => probe(T.conv2d(x, w, b0, opts)))(x0));
        const rm = T.checkGrad(mixed, w0);
        expect(rm.ok, `mixed max abs err ${rm.maxAbsError}`).toBe(true);
        restore();
      });
    }

    it('a per-image bias [N, O] adds row n to image n, float64 and float32; its gradients (x, w, b, mixed) check to second order', () => {
      be.use();
      const opts = { stride: 2, padding: 1 } as const;
      for (const dtype of ['float64', 'float32'] as const) {
        const x = det([3, 2, 7, 6], -1, 1, 3, dtype), w = det([4, 2, 3, 3], -1, 1, 5, dtype), b = det([3, 4], -1, 1, 7, dtype);
        const y = T.conv2d(x, w, b, opts);
        const ref = convRef(x, w, null, opts.stride === 2 ? [2, 2] : [1, 1], [1, 1]);
        const P = y.shape[2] * y.shape[3];
        let err = 0;
        for (let i = 0; i < ref.data.length; i++) err = Math.max(err, Math.abs(y.data[i] - (ref.data[i] + b.data[Math.floor(i / P)])));
        expect(err).toBeLessThan(dtype === 'float64' ? 1e-12 : 2e-5);
      }
      expect(() => T.conv2d(det([3, 2, 7, 6]), det([4, 2, 3, 3]), det([2, 4]), opts)).toThrow(T.ShapeError);
      const x0 = det([3, 2, 7, 6], -1, 1, 3), w0 = det([4, 2, 3, 3], -0.5, 0.5, 5), b0 = det([3, 4], -1, 1, 7);
      checkConvGrads(x0, w0, b0, opts);
      // Mixed: ∇_b of a loss containing ∇_x (the per-image bias of a time-conditioned net under score matching).
      const mixed = (b: T.Tensor) => T.sumSquares(T.grad((x: T.Tensor) => probe(T.conv2d(x, w0, b, opts)))(x0));
      expect(T.checkGrad(mixed, b0).ok).toBe(true);
      restore();
    });

    it('conv2dTranspose is the adjoint of conv2d (⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩) with PyTorch output sizes, and its gradients check', () => {
      be.use();
      const w = det([3, 2, 3, 3], -1, 1, 5); // conv: 2 → 3 channels; transpose: 3 → 2
      const x = det([2, 2, 8, 7], -1, 1, 3);
      const y = det([2, 3, 4, 4], -1, 1, 9);
      const opts = { stride: 2, padding: 1 };
      const cx = T.conv2d(x, w, undefined, opts);
      expect(cx.shape).toEqual([2, 3, 4, 4]);
      const ty = T.conv2dTranspose(y, w, undefined, { ...opts, outputPadding: [1, 0] });
      expect(ty.shape).toEqual([2, 2, 8, 7]);
      const lhs = T.sum(T.mul(cx, y)).item();
      const rhs = T.sum(T.mul(x, ty)).item();
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10);
      const f = (z: T.Tensor) => T.sum(T.mul(T.sin(T.conv2dTranspose(z, w, det([2]), { stride: 2, padding: 1 })), det([2, 2, 7, 7], -1, 1, 17)));
      expect(T.checkGrad(f, y).ok).toBe(true);
      expect(T.checkGrad2(f, y, det([2, 3, 4, 4], -1, 1, 19)).ok).toBe(true);
      restore();
    });
  });
}

describe('conv2d backends agree', () => {
  it('native and js give the same float32 results to rounding on a 3-layer conv net and its input gradient', () => {
    const bs = backendsUnderTest();
    if (bs.length < 2) return;
    const x = det([4, 1, 12, 12], 0, 1, 3, 'float32');
    const w1 = det([8, 1, 3, 3], -0.5, 0.5, 5, 'float32'), w2 = det([16, 8, 3, 3], -0.2, 0.2, 7, 'float32');
    const e = (z: T.Tensor) => T.sum(T.conv2d(T.silu(T.conv2d(z, w1, undefined, { padding: 1 })), w2, undefined, { stride: 2, padding: 1 }));
    const outs = bs.map((b) => { b.use(); const g = T.grad(e)(x); return [e(x).item(), g] as const; });
    restore();
    expect(Math.abs(outs[0][0] - outs[1][0]) / Math.abs(outs[0][0])).toBeLessThan(1e-5);
    let err = 0;
    for (let i = 0; i < x.size; i++) err = Math.max(err, Math.abs(outs[0][1].data[i] - outs[1][1].data[i]));
    expect(err).toBeLessThan(1e-4);
  });
});
