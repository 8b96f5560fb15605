/** Reductions over axes (sum, mean, max, logsumexp) and softmax, each with its vector–Jacobian product. */
import { record } from '../autodiff.js';
import { Tensor, allocate, normAxis, type Shape } from '../tensor.js';
import { broadcastTo, div, exp, mul, sub } from './elementwise.js';
import { reshape } from './shape.js';
import { outputBuffer, zeroedOutputBuffer } from '../bufferPool.js';

/** Axes to reduce: one axis, a list, or `undefined` for all. */
export type Axes = number | readonly number[] | undefined;

interface Plan {
  axes: number[];
  outShape: number[];
  keptShape: number[];
}

function plan(x: Tensor, axes: Axes, keepDims: boolean, op: string): Plan {
  const all = axes === undefined ? x.shape.map((_, i) => i) : (typeof axes === 'number' ? [axes] : axes.slice()).map((a) => normAxis(a, x.ndim, op));
  const set = new Set(all);
  const keptShape = x.shape.map((d, i) => (set.has(i) ? 1 : d));
  const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !set.has(i));
  return { axes: [...set].sort((a, b) => a - b), outShape, keptShape };
}

/**
 * Generic reduction: visits each output element's group. For contiguous groups (reducing trailing axes) and
 * single-axis reductions this is a strided loop; other cases reduce one axis at a time.
 */
function reduceRaw(x: Tensor, axes: number[], kind: 'sum' | 'max'): { data: Float64Array | Float32Array; shape: number[] } {
  let data = x.data;
  let shape = x.shape.slice();
  // Reduce from the last axis to the first so earlier axis indices stay valid.
  for (let k = axes.length - 1; k >= 0; k--) {
    const a = axes[k];
    const outer = shape.slice(0, a).reduce((p, d) => p * d, 1);
    const n = shape[a];
    const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
    const out = zeroedOutputBuffer(x.dtype, outer * inner);
    if (kind === 'sum') {
      if (inner === 1) {
        for (let o = 0; o < outer; o++) {
          let s = 0;
          const base = o * n;
          for (let i = 0; i < n; i++) s += data[base + i];
          out[o] = s;
        }
      } else {
        for (let o = 0; o < outer; o++) {
          const ob = o * inner;
          for (let i = 0; i < n; i++) {
            const base = (o * n + i) * inner;
            for (let j = 0; j < inner; j++) out[ob + j] += data[base + j];
          }
        }
      }
    } else {
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          let m = -Infinity;
          for (let i = 0; i < n; i++) {
            const v = data[(o * n + i) * inner + j];
            if (v > m || Number.isNaN(v)) m = v;
            if (Number.isNaN(m)) break;
          }
          out[o * inner + j] = m;
        }
      }
    }
    data = out;
    shape = shape.slice();
    shape[a] = 1;
  }
  return { data, shape };
}

/** Σ over `axes` (all by default). Gradient: broadcast of the cotangent. @example sum(x, 1) // row sums */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const p = plan(x, axes, keepDims, 'sum');
  let out: Tensor;
  if (p.axes.length === x.ndim) {
    let s = 0;
    const d = x.data;
    for (let i = 0; i < d.length; i++) s += d[i];
    const o = allocate(x.dtype, 1);
    o[0] = s;
    out = new Tensor(o, p.outShape);
  } else {
    out = new Tensor(reduceRaw(x, p.axes, 'sum').data, p.outShape);
  }
  return record(out, 'sum', [x], (g) => [broadcastTo(reshape(g, p.keptShape), x.shape)], { axes: p.axes });
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const p = plan(x, axes, keepDims, 'mean');
  const count = p.axes.reduce((c, a) => c * x.shape[a], 1);
  return mul(sum(x, axes, keepDims), 1 / Math.max(count, 1));
}

/** Maximum over `axes`. The gradient is split equally between tied maxima. */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const p = plan(x, axes, keepDims, 'max');
  const r = reduceRaw(x, p.axes, 'max');
  const out = new Tensor(r.data, p.outShape);
  return record(out, 'max', [x], (g) => {
    const m = broadcastTo(new Tensor(r.data, p.keptShape), x.shape);
    const mask = outputBuffer(x.dtype, x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = x.data[i] === m.data[i] ? 1 : 0;
    const maskT = new Tensor(mask, x.shape);
    const counts = new Tensor(reduceRaw(maskT, p.axes, 'sum').data, p.keptShape);
    return [mul(broadcastTo(div(reshape(g, p.keptShape), counts), x.shape), maskT)];
  }, { axes: p.axes });
}

/** Minimum over `axes`. */
export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const negx = mul(x, -1);
  return mul(max(negx, axes, keepDims), -1);
}

/**
 * `log Σ exp(x)` over `axes`, computed as `m + log Σ exp(x − m)` with `m` the maximum, so it neither overflows nor
 * underflows at |x| = 1e4. Gradient: `softmax(x)` times the cotangent — written with differentiable ops, so second
 * derivatives work.
 */
export function logsumexp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const p = plan(x, axes, keepDims, 'logsumexp');
  const mx = reduceRaw(x, p.axes, 'max');
  const mB = broadcastTo(new Tensor(mx.data, p.keptShape), x.shape).data;
  const e = outputBuffer(x.dtype, x.size);
  for (let i = 0; i < e.length; i++) {
    const m = mB[i];
    e[i] = m === -Infinity || m === Infinity ? (x.data[i] === m ? 1 : 0) : Math.exp(x.data[i] - m);
  }
  const s = reduceRaw(new Tensor(e, x.shape), p.axes, 'sum');
  const out = outputBuffer(x.dtype, s.data.length);
  for (let i = 0; i < out.length; i++) {
    const m = mx.data[i];
    out[i] = m === -Infinity ? -Infinity : m === Infinity ? Infinity : m + Math.log(s.data[i]);
  }
  const y = new Tensor(out, p.outShape);
  return record(y, 'logsumexp', [x], (g) => {
    const yk = broadcastTo(reshape(y, p.keptShape), x.shape);
    const soft = exp(sub(x, yk));
    return [mul(broadcastTo(reshape(g, p.keptShape), x.shape), soft)];
  }, { axes: p.axes });
}

/**
 * Shifted exponentials along one axis: for every slice, `m = max(x)`, `e = exp(x − m)` and `s = Σ e` (float64
 * sums). Slices whose maximum is ±∞ use the limit: `e = [x = m]`.
 */
function shiftedExp(x: Tensor, axis: number): { e: Float64Array; s: Float64Array; m: Float64Array; outer: number; n: number; inner: number } {
  const a = normAxis(axis, x.ndim, 'softmax');
  const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  const n = x.shape[a];
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const d = x.data;
  const e = new Float64Array(x.size);
  const s = new Float64Array(outer * inner);
  const mArr = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let m = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = d[base + i * inner];
        if (v > m || Number.isNaN(v)) m = v;
        if (Number.isNaN(m)) break;
      }
      let acc = 0;
      const infinite = m === Infinity || m === -Infinity;
      for (let i = 0; i < n; i++) {
        const v = d[base + i * inner];
        const ev = infinite ? (v === m ? 1 : 0) : Math.exp(v - m);
        e[base + i * inner] = ev;
        acc += ev;
      }
      s[o * inner + j] = acc;
      mArr[o * inner + j] = m;
    }
  }
  return { e, s, m: mArr, outer, n, inner };
}

/**
 * `log softmax(x)` along `axis`, computed as `(x − m) − log Σ exp(x − m)` with `m` the maximum of the slice, so the
 * float32 result keeps its relative accuracy when the logits are large (~1e4): subtracting a rounded `logsumexp(x)`
 * from `x` would lose `|x|·ε` in absolute terms. Gradient `g − softmax(x)·Σg`, written with differentiable ops
 * (`softmax = exp(y)` of the output `y`), so higher derivatives stay exact.
 * Shapes: any `x`; the output has `x`'s shape.
 * @example logSoftmax(tensor([[1e4, 1e4 + 1]]), -1) // ≈ [[-1.3133, -0.3133]]
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const { e, s, m, outer, n, inner } = shiftedExp(x, axis);
  const out = outputBuffer(x.dtype, x.size);
  const d = x.data;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const k = o * inner + j;
      const mk = m[k];
      const ls = Math.log(s[k]);
      const base = o * n * inner + j;
      for (let i = 0; i < n; i++) {
        const idx = base + i * inner;
        out[idx] = mk === Infinity || mk === -Infinity ? (e[idx] > 0 ? -ls : -Infinity) : d[idx] - mk - ls;
      }
    }
  }
  const y = new Tensor(out, x.shape);
  return record(y, 'logSoftmax', [x], (g) => [sub(g, mul(exp(y), sum(g, axis, true)))], { axis: normAxis(axis, x.ndim) });
}

/**
 * `softmax(x)` along `axis` = `exp(x − m) / Σ exp(x − m)` with `m` the maximum of the slice (relative error ~ε at
 * any logit scale). Gradient `y ⊙ (g − Σ g⊙y)` in differentiable ops on the output `y`, so higher derivatives stay exact.
 * Shapes: any `x`; the output has `x`'s shape and sums to 1 along `axis`.
 * @example softmax(tensor([[0, Math.log(3)]]), -1) // [[0.25, 0.75]]
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const { e, s, outer, n, inner } = shiftedExp(x, axis);
  const out = outputBuffer(x.dtype, x.size);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const inv = 1 / s[o * inner + j];
      const base = o * n * inner + j;
      for (let i = 0; i < n; i++) out[base + i * inner] = e[base + i * inner] * inv;
    }
  }
  const y = new Tensor(out, x.shape);
  return record(y, 'softmax', [x], (g) => [mul(y, sub(g, sum(mul(g, y), axis, true)))], { axis: normAxis(axis, x.ndim) });
}

/** Σ of squares of all entries (a convenience for norms and penalties). */
export function sumSquares(x: Tensor): Tensor {
  return sum(mul(x, x));
}

/** Variance over `axes` (population, divide by n). */
export function variance(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const m = mean(x, axes, true);
  const d = sub(x, broadcastTo(m, x.shape));
  return mean(mul(d, d), axes, keepDims);
}

/** Shape helper re-exported for reductions: the kept shape of reducing `shape` over `axes`. */
export function keptShape(shape: Shape, axes: Axes): number[] {
  const all = axes === undefined ? shape.map((_, i) => i) : (typeof axes === 'number' ? [axes] : axes.slice()).map((a) => normAxis(a, shape.length));
  const s = new Set(all);
  return shape.map((d, i) => (s.has(i) ? 1 : d));
}
