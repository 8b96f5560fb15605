/** Shape ops: reshape, transpose/permute, slice, concat/stack, gather rows, one-hot — each with its adjoint. */
import { record } from '../autodiff.js';
import { DTypeError, ShapeError, Tensor, normAxis, sameShape, shapeSize, stridesOf, type DType, type Shape } from '../tensor.js';
import { add, mul } from './elementwise.js';
import { InvalidArgumentError } from '../../errors.js';
import { outputBuffer, zeroedOutputBuffer } from '../bufferPool.js';

/**
 * Reinterprets `x` with a new shape of the same size (shares the buffer). One entry may be `-1` (inferred).
 * @example reshape(x, [-1, 784])
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const s = shape.slice();
  const inferAt = s.indexOf(-1);
  if (inferAt >= 0) {
    if (s.lastIndexOf(-1) !== inferAt) throw new ShapeError('reshape: only one -1 allowed');
    const rest = s.reduce((p, d, i) => (i === inferAt ? p : p * d), 1);
    if (rest === 0 || x.size % rest !== 0) throw new ShapeError(`reshape: cannot reshape [${x.shape}] to [${shape}]`);
    s[inferAt] = x.size / rest;
  }
  if (shapeSize(s) !== x.size) throw new ShapeError(`reshape: cannot reshape [${x.shape}] (${x.size} elements) to [${shape}]`);
  if (sameShape(s, x.shape)) return x;
  const out = new Tensor(x.data, s);
  return record(out, 'reshape', [x], (g) => [reshape(g, x.shape)]);
}

/** Inserts an axis of length 1 at `axis`. */
export function expandDims(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.ndim + 1, 'expandDims');
  const s = x.shape.slice();
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** Removes axes of length 1 (all of them, or the one given). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis(axis, x.ndim, 'squeeze');
  if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${axis} has length ${x.shape[a]}, not 1`);
  const s = x.shape.slice();
  s.splice(a, 1);
  return reshape(x, s);
}

/** Permutes axes: `out.shape[i] = x.shape[perm[i]]`. Materialises a contiguous copy. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const nd = x.ndim;
  if (perm.length !== nd) throw new ShapeError(`permute: perm of length ${perm.length} for ${nd}-d tensor`);
  const p = perm.map((a) => normAxis(a, nd, 'permute'));
  if (new Set(p).size !== nd) throw new ShapeError(`permute: [${perm}] is not a permutation`);
  if (p.every((a, i) => a === i)) return x;
  const outShape = p.map((a) => x.shape[a]);
  const inStr = stridesOf(x.shape);
  const st = p.map((a) => inStr[a]);
  const out = outputBuffer(x.dtype, x.size);
  const src = x.data;
  if (nd === 2) {
    // Blocked 2-D transpose for cache friendliness.
    const [r, c] = outShape;
    const s0 = st[0];
    const s1 = st[1];
    const B = 32;
    for (let i0 = 0; i0 < r; i0 += B) {
      for (let j0 = 0; j0 < c; j0 += B) {
        const i1 = Math.min(r, i0 + B);
        const j1 = Math.min(c, j0 + B);
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[i * c + j] = src[i * s0 + j * s1];
      }
    }
  } else if (x.size > 0) {
    const idx = new Array<number>(nd).fill(0);
    const inner = outShape[nd - 1];
    const sIn = st[nd - 1];
    for (let o = 0; o < x.size; o += inner) {
      let base = 0;
      for (let d = 0; d < nd - 1; d++) base += idx[d] * st[d];
      for (let j = 0; j < inner; j++) out[o + j] = src[base + j * sIn];
      for (let d = nd - 2; d >= 0; d--) {
        if (++idx[d] < outShape[d]) break;
        idx[d] = 0;
      }
    }
  }
  const inv = new Array<number>(nd);
  for (let i = 0; i < nd; i++) inv[p[i]] = i;
  return record(new Tensor(out, outShape), 'permute', [x], (g) => [permute(g, inv)], { perm: [...perm] });
}

/** Swaps two axes (default: the last two). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  if (x.ndim < 2) throw new ShapeError(`transpose: needs at least 2 axes, got [${x.shape}]`);
  const a = normAxis(axis0, x.ndim, 'transpose');
  const b = normAxis(axis1, x.ndim, 'transpose');
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/**
 * Slices `x` along `axis` from `start` (inclusive) to `end` (exclusive); negative indices count from the end.
 * @example sliceAxis(x, 1, 0, 2) // first two columns
 */
export function sliceAxis(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = normAxis(axis, x.ndim, 'slice');
  const n = x.shape[a];
  let s = start < 0 ? start + n : start;
  let e = end === undefined ? n : end < 0 ? end + n : end;
  s = Math.max(0, Math.min(n, s));
  e = Math.max(s, Math.min(n, e));
  if (s === 0 && e === n) return x;
  const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const len = e - s;
  const outShape = x.shape.slice();
  outShape[a] = len;
  const out = outputBuffer(x.dtype, outer * len * inner);
  for (let o = 0; o < outer; o++) {
    out.set(x.data.subarray((o * n + s) * inner, (o * n + e) * inner), o * len * inner);
  }
  return record(new Tensor(out, outShape), 'slice', [x], (g) => [padAxis(g, a, s, n - e)], { axis: a, start: s, end: e });
}

/** Pads `x` with zeros along `axis`: `before` entries in front and `after` behind. The adjoint of a slice. */
export function padAxis(x: Tensor, axis: number, before: number, after: number): Tensor {
  const a = normAxis(axis, x.ndim, 'pad');
  const n = x.shape[a];
  const m = n + before + after;
  const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const outShape = x.shape.slice();
  outShape[a] = m;
  const out = zeroedOutputBuffer(x.dtype, outer * m * inner);
  for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * n * inner, (o + 1) * n * inner), (o * m + before) * inner);
  return record(new Tensor(out, outShape), 'pad', [x], (g) => [sliceAxis(g, a, before, before + n)], { axis: a, before, after });
}

/** Slices along several axes at once: `starts[i]..ends[i]` on axis i (missing axes are kept whole). */
export function slice(x: Tensor, starts: readonly number[], ends?: readonly number[]): Tensor {
  let y = x;
  for (let i = 0; i < starts.length; i++) y = sliceAxis(y, i, starts[i], ends ? ends[i] : undefined);
  return y;
}

/** Joins tensors along an existing axis. All other axes and the dtype must agree. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: no tensors');
  const first = xs[0];
  const a = normAxis(axis, first.ndim, 'concat');
  for (const t of xs) {
    if (t.dtype !== first.dtype) throw new DTypeError(`concat: dtypes differ (${first.dtype} vs ${t.dtype})`);
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`concat: shapes [${first.shape}] and [${t.shape}] differ off axis ${axis}`);
    }
  }
  if (xs.length === 1) return first;
  const outer = first.shape.slice(0, a).reduce((p, d) => p * d, 1);
  const inner = first.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const total = xs.reduce((p, t) => p + t.shape[a], 0);
  const outShape = first.shape.slice();
  outShape[a] = total;
  const out = outputBuffer(first.dtype, outer * total * inner);
  let off = 0;
  for (const t of xs) {
    const len = t.shape[a];
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * len * inner, (o + 1) * len * inner), (o * total + off) * inner);
    off += len;
  }
  return record(new Tensor(out, outShape), 'concat', xs, (g) => {
    const parts: Tensor[] = [];
    let o = 0;
    for (const t of xs) {
      parts.push(sliceAxis(g, a, o, o + t.shape[a]));
      o += t.shape[a];
    }
    return parts;
  }, { axis: a });
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('stack: no tensors');
  const a = normAxis(axis, xs[0].ndim + 1, 'stack');
  return concat(xs.map((t) => {
    const s = t.shape.slice();
    s.splice(a, 0, 1);
    return reshape(t, s);
  }), a);
}

/** Integer indices as accepted by {@link gatherRows}. */
export type Indices = Int32Array | Uint32Array | readonly number[];

/**
 * Selects rows (entries along axis 0): `out[i] = x[idx[i]]`. Gradient: scatter-add into the rows.
 * @example gatherRows(data, batchIdx) // a mini-batch
 */
export function gatherRows(x: Tensor, idx: Indices): Tensor {
  if (x.ndim < 1) throw new ShapeError('gatherRows: needs at least 1 axis');
  const n = x.shape[0];
  const row = x.size / Math.max(1, n);
  const out = outputBuffer(x.dtype, idx.length * row);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i];
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new InvalidArgumentError(`gatherRows: index ${r} out of range [0, ${n})`);
    out.set(x.data.subarray(r * row, (r + 1) * row), i * row);
  }
  const outShape = [idx.length, ...x.shape.slice(1)];
  return record(new Tensor(out, outShape), 'gatherRows', [x], (g) => [scatterAddRows(g, idx, n)]);
}

/** `out[idx[i]] += g[i]` into `n` zero rows: the adjoint of {@link gatherRows}. */
export function scatterAddRows(g: Tensor, idx: Indices, n: number): Tensor {
  const row = g.size / Math.max(1, g.shape[0]);
  const out = zeroedOutputBuffer(g.dtype, n * row);
  for (let i = 0; i < idx.length; i++) {
    const o = idx[i] * row;
    const s = i * row;
    for (let j = 0; j < row; j++) out[o + j] += g.data[s + j];
  }
  return record(new Tensor(out, [n, ...g.shape.slice(1)]), 'scatterAddRows', [g], (gg) => [gatherRows(gg, idx)]);
}

/**
 * Picks one entry per row: `out[i] = x[i, idx[i]]` for `x` of shape `[n, k]`. Used for log p(y|x) with integer labels.
 */
export function takeAlongRows(x: Tensor, idx: Indices): Tensor {
  if (x.ndim !== 2 || idx.length !== x.shape[0]) throw new ShapeError(`takeAlongRows: need [n,k] and n indices, got [${x.shape}] and ${idx.length}`);
  const [n, k] = x.shape;
  const out = outputBuffer(x.dtype, n);
  for (let i = 0; i < n; i++) {
    const j = idx[i];
    if (!Number.isInteger(j) || j < 0 || j >= k) throw new InvalidArgumentError(`takeAlongRows: index ${j} out of range [0, ${k})`);
    out[i] = x.data[i * k + j];
  }
  return record(new Tensor(out, [n]), 'takeAlongRows', [x], (g) => [mul(oneHot(idx, k, g.dtype), reshape(g, [n, 1]))]);
}

/** One-hot rows: `out[i, idx[i]] = 1`, shape `[n, k]` (constant, no gradient). */
export function oneHot(idx: Indices, k: number, dtype: DType = 'float32'): Tensor {
  const out = zeroedOutputBuffer(dtype, idx.length * k);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i];
    if (!Number.isInteger(j) || j < 0 || j >= k) throw new InvalidArgumentError(`oneHot: index ${j} out of range [0, ${k})`);
    out[i * k + j] = 1;
  }
  return new Tensor(out, [idx.length, k]);
}

/** Sum of a list of tensors (same shape). */
export function addN(xs: readonly Tensor[]): Tensor {
  if (!xs.length) throw new ShapeError('addN: no tensors');
  let acc = xs[0];
  for (let i = 1; i < xs.length; i++) acc = add(acc, xs[i]);
  return acc;
}
