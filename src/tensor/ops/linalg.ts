/** Matrix products (plain and batched, with transpose flags) and the linear layer op, with their gradients. */
import { needsGrad, record } from '../autodiff.js';
import { getBackend } from '../backend.js';
import { DTypeError, ShapeError, Tensor } from '../tensor.js';
import { add, sumToShape } from './elementwise.js';
import { reshape } from './shape.js';
import { outputBuffer } from '../bufferPool.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use `aᵀ` (the last two axes of `a` swapped). */
  readonly transA?: boolean;
  /** Use `bᵀ` (the last two axes of `b` swapped). */
  readonly transB?: boolean;
}

/**
 * Matrix product `op(a)·op(b)` over the last two axes, `op(x) = xᵀ` when its flag is set.
 * Shapes: `a [..., m, k]` (or `[..., k, m]` with transA), `b [k, n]` shared by every batch, or `b [B, k, n]` with the
 * same batch `B` as a 3-D `a`. A 2-D `b` with an untransposed batched `a` is computed as one GEMM over all rows.
 *
 * Gradients (for `C = A·B`): `∂A = G·Bᵀ`, `∂B = Aᵀ·G`, and the transposed variants, all as matmuls — so the
 * second derivative is available too.
 * @example matmul(x, w) // x [n, 784], w [784, 500] → [n, 500]
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const ta = opts.transA === true;
  const tb = opts.transB === true;
  if (a.dtype !== b.dtype) throw new DTypeError(`matmul: dtypes differ (${a.dtype} vs ${b.dtype})`);
  if (a.ndim < 2 || b.ndim < 2) throw new ShapeError(`matmul: needs at least 2-D inputs, got [${a.shape}] and [${b.shape}]`);
  if (b.ndim === 2 && a.ndim > 2 && !ta) {
    // Fold the batch into rows: one large GEMM.
    const k = a.shape[a.ndim - 1];
    const rows = a.size / Math.max(k, 1);
    const out2 = matmul2d(reshape(a, [rows, k]), b, false, tb);
    return reshape(out2, [...a.shape.slice(0, -1), out2.shape[1]]);
  }
  if (a.ndim === 2 && b.ndim === 2) return matmul2d(a, b, ta, tb);
  if (a.ndim === 3 && (b.ndim === 3 || b.ndim === 2)) return matmulBatched(a, b, ta, tb);
  throw new ShapeError(`matmul: unsupported shapes [${a.shape}] and [${b.shape}] (2-D, or 3-D with 2-D/3-D)`);
}

function dims(a: Tensor, b: Tensor, ta: boolean, tb: boolean): [number, number, number] {
  const ar = a.shape[a.ndim - 2];
  const ac = a.shape[a.ndim - 1];
  const br = b.shape[b.ndim - 2];
  const bc = b.shape[b.ndim - 1];
  const m = ta ? ac : ar;
  const k = ta ? ar : ac;
  const kb = tb ? bc : br;
  const n = tb ? br : bc;
  if (k !== kb) {
    throw new ShapeError(`matmul: inner sizes differ: [${a.shape}]${ta ? 'ᵀ' : ''} · [${b.shape}]${tb ? 'ᵀ' : ''} (${k} vs ${kb})`);
  }
  return [m, n, k];
}

function matmul2d(a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  const [m, n, k] = dims(a, b, ta, tb);
  const out = outputBuffer(a.dtype, m * n);
  if (m > 0 && n > 0) getBackend().gemm(ta, tb, m, n, k, 1, a.data, 0, a.shape[1], b.data, 0, b.shape[1], 0, out, 0, n);
  const C = new Tensor(out, [m, n]);
  return record(C, 'matmul', [a, b], (g) => [needsGrad(a) ? gradA(g, a, b, ta, tb) : null, needsGrad(b) ? gradB(g, a, b, ta, tb) : null], { transA: ta, transB: tb });
}

function gradA(g: Tensor, a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  // C = op(A) op(B). ∂op(A) = G op(B)ᵀ; ∂A = that, transposed when ta.
  const r = ta ? matmul(b, g, { transA: tb, transB: true }) : matmul(g, b, { transB: !tb });
  return sumToShape(r, a.shape);
}

function gradB(g: Tensor, a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  // ∂op(B) = op(A)ᵀ G; ∂B = that, transposed when tb.
  if (b.ndim === 2 && a.ndim === 3) {
    // Shared B: sum the per-batch contributions, as one GEMM over all rows of the batch.
    const [bs, ar, ac] = a.shape;
    const gm = g.shape[2];
    if (!ta) {
      const A2 = reshape(a, [bs * ar, ac]);
      const G2 = reshape(g, [bs * ar, gm]);
      return tb ? matmul(G2, A2, { transA: true }) : matmul(A2, G2, { transA: true });
    }
  }
  const r = tb ? matmul(g, a, { transA: true, transB: ta }) : matmul(a, g, { transA: !ta });
  return sumToShape(r, b.shape);
}

function matmulBatched(a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  const bs = a.shape[0];
  if (b.ndim === 3 && b.shape[0] !== bs) throw new ShapeError(`matmul: batch sizes differ ([${a.shape}] vs [${b.shape}])`);
  const [m, n, k] = dims(a, b, ta, tb);
  const out = outputBuffer(a.dtype, bs * m * n);
  const be = getBackend();
  const aStride = a.shape[1] * a.shape[2];
  const bStride = b.ndim === 3 ? b.shape[1] * b.shape[2] : 0;
  const lda = a.shape[2];
  const ldb = b.shape[b.ndim - 1];
  for (let i = 0; i < bs; i++) {
    if (m > 0 && n > 0) be.gemm(ta, tb, m, n, k, 1, a.data, i * aStride, lda, b.data, i * bStride, ldb, 0, out, i * m * n, n);
  }
  const C = new Tensor(out, [bs, m, n]);
  return record(C, 'matmulBatched', [a, b], (g) => [needsGrad(a) ? gradA(g, a, b, ta, tb) : null, needsGrad(b) ? gradB(g, a, b, ta, tb) : null], { transA: ta, transB: tb });
}

/**
 * Affine map `x·W + b`: `x [..., in]`, `W [in, out]`, `b [out]` → `[..., out]`.
 *
 * With a bias the map is one fused kernel call: every output row is first set to `b`, then the GEMM accumulates
 * `x·W` into it (`β = 1`), so no separate `[..., out]` temporary or broadcast pass is made. Gradients (for
 * `Y = X·W + 1bᵀ`, `X` the rows of `x`): `∂X = G·Wᵀ`, `∂W = Xᵀ·G`, `∂b = Σ_rows G`, all written with
 * differentiable ops, so higher derivatives work as for `add(matmul(x, w), b)`.
 * @example linear(h, w, b) // h [512, 128], w [128, 128], b [128] → [512, 128]
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  if (!b || b.ndim !== 1 || w.ndim !== 2 || x.ndim < 2 || x.dtype !== w.dtype || b.dtype !== w.dtype ||
      b.shape[0] !== w.shape[1] || x.shape[x.ndim - 1] !== w.shape[0]) {
    // General (or invalid) case: matmul reports shape errors, add broadcasts any bias shape.
    const y = matmul(x, w);
    return b ? add(y, b) : y;
  }
  const k = w.shape[0];
  const n = w.shape[1];
  const rows = k > 0 ? x.size / k : x.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const total = rows * n;
  const out = outputBuffer(x.dtype, total);
  if (total > 0 && n > 0) {
    // Replicate b into every row by doubling copies (log₂(rows) calls), then C ← X·W + C.
    out.set(b.data, 0);
    for (let len = n; len < total; len *= 2) out.copyWithin(len, 0, Math.min(len, total - len));
    if (k > 0) getBackend().gemm(false, false, rows, n, k, 1, x.data, 0, k, w.data, 0, n, 1, out, 0, n);
  }
  const outShape = [...x.shape.slice(0, -1), n];
  const y = new Tensor(out, outShape);
  const x2 = x.ndim === 2 ? x : reshape(x, [rows, k]);
  return record(y, 'linear', [x, w, b], (g) => {
    const g2 = g.ndim === 2 ? g : reshape(g, [rows, n]);
    return [
      needsGrad(x) ? (x.ndim === 2 ? matmul(g2, w, { transB: true }) : reshape(matmul(g2, w, { transB: true }), x.shape)) : null,
      needsGrad(w) ? matmul(x2, g2, { transA: true }) : null,
      needsGrad(b) ? sumToShape(g2, b.shape) : null,
    ];
  });
}
