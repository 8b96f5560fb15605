/**
 * 2-D convolution, transposed convolution and average pooling (NCHW). The convolution is one backend kernel per
 * call (forward, input gradient, filter gradient), and each of the three is an op whose gradient is expressed in the
 * other two, so derivatives of every order are exact. `im2col`/`col2im` remain as differentiable building blocks.
 */
import { needsGrad, record } from '../autodiff.js';
import { getBackend } from '../backend.js';
import { jsImageKernels, type Conv2dGeom, type ImageKernels } from '../imageKernels.js';
import { DTypeError, ShapeError, Tensor, allocate, type Shape } from '../tensor.js';
import { add, broadcastTo, sumToShape } from './elementwise.js';
import { reshape } from './shape.js';
import { InvalidArgumentError } from '../../errors.js';
import { outputBuffer, zeroedOutputBuffer } from '../bufferPool.js';

/** Geometry of a sliding window over an image. */
export interface ConvGeometry {
  readonly kh: number;
  readonly kw: number;
  readonly stride: number;
  readonly padding: number;
}

function outSize(n: number, k: number, s: number, p: number): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/**
 * Unfolds image patches: `x [N, C, H, W]` → `[N, OH·OW, C·kh·kw]`, zero padding outside the image.
 * Row `oh·OW + ow` holds the patch at that output position, ordered channel-major then kernel row then column.
 */
export function im2col(x: Tensor, g: ConvGeometry): Tensor {
  if (x.ndim !== 4) throw new ShapeError(`im2col: input must be [N, C, H, W], got [${x.shape}]`);
  const [N, C, H, W] = x.shape;
  const { kh, kw, stride, padding } = g;
  const OH = outSize(H, kh, stride, padding);
  const OW = outSize(W, kw, stride, padding);
  if (OH <= 0 || OW <= 0) throw new ShapeError(`conv: kernel ${kh}×${kw} larger than padded input ${H}×${W}`);
  const K = C * kh * kw;
  const P = OH * OW;
  const out = zeroedOutputBuffer(x.dtype, N * P * K);
  const src = x.data;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const rowBase = (n * P + oh * OW + ow) * K;
        let col = 0;
        for (let c = 0; c < C; c++) {
          const chBase = (n * C + c) * H * W;
          for (let i = 0; i < kh; i++) {
            const h = oh * stride - padding + i;
            for (let j = 0; j < kw; j++, col++) {
              const w = ow * stride - padding + j;
              if (h >= 0 && h < H && w >= 0 && w < W) out[rowBase + col] = src[chBase + h * W + w];
            }
          }
        }
      }
    }
  }
  return record(new Tensor(out, [N, P, K]), 'im2col', [x], (gr) => [col2im(gr, x.shape as [number, number, number, number], g)]);
}

/** Folds patches back, summing overlaps: the adjoint of {@link im2col}. `cols [N, OH·OW, C·kh·kw]` → `[N, C, H, W]`. */
export function col2im(cols: Tensor, shape: readonly [number, number, number, number], g: ConvGeometry): Tensor {
  const [N, C, H, W] = shape;
  const { kh, kw, stride, padding } = g;
  const OH = outSize(H, kh, stride, padding);
  const OW = outSize(W, kw, stride, padding);
  const K = C * kh * kw;
  const P = OH * OW;
  if (cols.size !== N * P * K) throw new ShapeError(`col2im: got [${cols.shape}], expected [${N}, ${P}, ${K}]`);
  const out = zeroedOutputBuffer(cols.dtype, N * C * H * W);
  const src = cols.data;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const rowBase = (n * P + oh * OW + ow) * K;
        let col = 0;
        for (let c = 0; c < C; c++) {
          const chBase = (n * C + c) * H * W;
          for (let i = 0; i < kh; i++) {
            const h = oh * stride - padding + i;
            for (let j = 0; j < kw; j++, col++) {
              const w = ow * stride - padding + j;
              if (h >= 0 && h < H && w >= 0 && w < W) out[chBase + h * W + w] += src[rowBase + col];
            }
          }
        }
      }
    }
  }
  return record(new Tensor(out, shape), 'col2im', [cols], (gr) => [im2col(gr, g)]);
}

/** Options of {@link conv2d}: `stride` and `padding` as one integer for both axes or a pair `[rows, cols]`. */
export interface Conv2dOptions {
  /** Step between windows, an integer ≥ 1 or `[sh, sw]` (default 1). */
  readonly stride?: number | readonly [number, number];
  /** Zero padding on each side, an integer ≥ 0 or `[ph, pw]` (default 0). */
  readonly padding?: number | readonly [number, number];
}

function pair(fn: string, name: string, v: number | readonly [number, number] | undefined, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : null;
  if (p === null) throw new InvalidArgumentError(`${fn}: ${name} must be an integer or a pair [rows, cols], got ${JSON.stringify(v)}`);
  for (const e of p) {
    if (typeof e !== 'number' || !Number.isInteger(e) || e < min) {
      throw new InvalidArgumentError(`${fn}: ${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer (or a pair of them), got ${JSON.stringify(v)}`);
    }
  }
  return p as [number, number];
}

function kernels(): ImageKernels {
  return getBackend().image ?? jsImageKernels;
}

/** Validates a convolution's shapes and options and returns its geometry. */
function geometry(fn: string, xShape: Shape, wShape: Shape, opts: Conv2dOptions): Conv2dGeom {
  if (wShape.length !== 4) throw new ShapeError(`${fn}: filter must be [O, C, kh, kw], got [${wShape}]`);
  if (xShape.length !== 4 || xShape[1] !== wShape[1]) {
    throw new ShapeError(`${fn}: input [${xShape}] does not match filter [${wShape}] (channels)`);
  }
  const [sh, sw] = pair(fn, 'stride', opts.stride, 1, 1);
  const [ph, pw] = pair(fn, 'padding', opts.padding, 0, 0);
  const [o, c, kh, kw] = wShape;
  const [n, , h, w] = xShape;
  if (kh < 1 || kw < 1) throw new ShapeError(`${fn}: empty filter [${wShape}]`);
  const oh = outSize(h, kh, sh, ph);
  const ow = outSize(w, kw, sw, pw);
  if (oh <= 0 || ow <= 0) throw new ShapeError(`${fn}: kernel ${kh}×${kw} larger than padded input ${h}×${w}`);
  return { n, c, h, w, o, kh, kw, sh, sw, ph, pw, oh, ow };
}

function optsOf(g: Conv2dGeom): Conv2dOptions {
  return { stride: [g.sh, g.sw], padding: [g.ph, g.pw] };
}

function checkDType(fn: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) throw new DTypeError(`${fn}: dtypes differ (${a.dtype} and ${b.dtype})`);
}

/**
 * 2-D cross-correlation (what deep-learning libraries call convolution), NCHW:
 * `out[n, o, y, x] = b[o] + Σ_{c,i,j} w[o, c, i, j] · xpad[n, c, y·sh + i, x·sw + j]`.
 * Shapes: `x [N, C, H, W]`, `w [O, C, kh, kw]`, `b [O]` → `[N, O, OH, OW]` with `OH = ⌊(H + 2ph − kh)/sh⌋ + 1`;
 * `b` may also be `[N, O]`, one bias row per image (`out[n, o, y, x] = b[n, o] + …`: a time or class embedding added
 * per example without a separate broadcast pass; its gradient is the per-image plane sum).
 * One kernel call (native: im2col in C feeding the packed GEMM, batch over the worker threads). Gradients: the input
 * gradient is {@link conv2dTranspose}-shaped (`conv2dInputGrad`), the filter gradient `conv2dFilterGrad`, both ops
 * with their own gradients, so derivatives of every order are exact.
 * @example conv2d(x, w, b, { stride: 2, padding: 1 }) // [N, O, ⌈H/2⌉, ⌈W/2⌉] for 3×3 filters
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor, opts: Conv2dOptions = {}): Tensor {
  const g = geometry('conv2d', x.shape, w.shape, opts);
  checkDType('conv2d', x, w);
  // A per-image bias [N, O] (N > 1; with one image it is the shared case).
  const perImage = b !== undefined && g.n > 1 && b.ndim === 2 && b.shape[0] === g.n && b.shape[1] === g.o;
  if (b) {
    if (b.size !== g.o && !perImage) throw new ShapeError(`conv2d: bias [${b.shape}] must have ${g.o} entries (one per output channel) or be [${g.n}, ${g.o}] (one row per image)`);
    checkDType('conv2d', x, b);
  }
  const out = outputBuffer(x.dtype, g.n * g.o * g.oh * g.ow);
  kernels().conv2d(0, g, x.data, w.data, b ? b.data : null, out);
  const y = new Tensor(out, [g.n, g.o, g.oh, g.ow]);
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, 'conv2d', inputs, (gr) => [
    needsGrad(x) ? convInputGrad(gr, w, g) : null,
    needsGrad(w) ? convFilterGrad(x, gr, g) : null,
    b && needsGrad(b) ? (perImage ? reshape(sumToShape(gr, [g.n, g.o, 1, 1]), b.shape) : reshape(sumChannels(gr), b.shape)) : null,
  ]);
}

/**
 * `Σ_{n,y,x} g[n, o, y, x]` → `[O]` (the bias gradient): the batch sum runs as the backend's column-sum kernel over the
 * `[N, O·H·W]` view, then the `O·H·W → O` fold in TS. Gradient: the cotangent broadcast back.
 */
function sumChannels(gr: Tensor): Tensor {
  const [n, o, h, w] = gr.shape;
  const p = h * w;
  const rows = outputBuffer(gr.dtype, o * p);
  getBackend().sumRows(gr.data, n, o * p, rows);
  const out = outputBuffer(gr.dtype, o);
  for (let c = 0; c < o; c++) {
    let s = 0;
    for (let i = c * p, e = i + p; i < e; i++) s += rows[i];
    out[c] = s;
  }
  return record(new Tensor(out, [o]), 'sumChannels', [gr], (u) => [broadcastTo(reshape(u, [1, o, 1, 1]), gr.shape)]);
}

/** `dx = convᵀ(g, w)`: the adjoint of `x ↦ conv2d(x, w)` applied to `g [N, O, OH, OW]`, giving `[N, C, H, W]`. */
function convInputGrad(gr: Tensor, w: Tensor, g: Conv2dGeom): Tensor {
  checkDType('conv2d input gradient', gr, w);
  const out = outputBuffer(gr.dtype, g.n * g.c * g.h * g.w);
  kernels().conv2d(1, g, gr.data, w.data, null, out);
  const y = new Tensor(out, [g.n, g.c, g.h, g.w]);
  // Bilinear in (gr, w): ∂⟨u, dx⟩/∂gr = conv2d(u, w), ∂⟨u, dx⟩/∂w = filter gradient of (u, gr).
  return record(y, 'conv2dInputGrad', [gr, w], (u) => [
    needsGrad(gr) ? conv2d(u, w, undefined, optsOf(g)) : null,
    needsGrad(w) ? convFilterGrad(u, gr, g) : null,
  ]);
}

/** `dw = Σₙ gₙ ⋆ xₙ`: the adjoint of `w ↦ conv2d(x, w)` applied to `g [N, O, OH, OW]`, giving `[O, C, kh, kw]`. */
function convFilterGrad(x: Tensor, gr: Tensor, g: Conv2dGeom): Tensor {
  checkDType('conv2d filter gradient', x, gr);
  const out = outputBuffer(x.dtype, g.o * g.c * g.kh * g.kw);
  kernels().conv2d(2, g, x.data, gr.data, null, out);
  const y = new Tensor(out, [g.o, g.c, g.kh, g.kw]);
  // Bilinear in (x, gr): ∂⟨V, dw⟩/∂x = input gradient of (gr, V), ∂⟨V, dw⟩/∂gr = conv2d(x, V).
  return record(y, 'conv2dFilterGrad', [x, gr], (v) => [
    needsGrad(x) ? convInputGrad(gr, v, g) : null,
    needsGrad(gr) ? conv2d(x, v, undefined, optsOf(g)) : null,
  ]);
}

/** Options of {@link conv2dTranspose}. */
export interface Conv2dTransposeOptions extends Conv2dOptions {
  /** Extra rows/columns added at the bottom/right of the output to pick among the sizes a strided conv maps alike (default 0). */
  readonly outputPadding?: number | readonly [number, number];
}

/**
 * Transposed convolution (the adjoint of {@link conv2d} in its input), NCHW, PyTorch's filter layout:
 * `x [N, Cin, H, W]`, `w [Cin, Cout, kh, kw]`, `b [Cout]` → `[N, Cout, OH, OW]` with
 * `OH = (H − 1)·sh − 2ph + kh + oph`. Upsampling layers of U-Nets use it.
 * @example conv2dTranspose(x, w, undefined, { stride: 2, padding: 1, outputPadding: 1 }) // doubles H and W for 3×3
 */
export function conv2dTranspose(x: Tensor, w: Tensor, b?: Tensor, opts: Conv2dTransposeOptions = {}): Tensor {
  if (w.ndim !== 4 || x.ndim !== 4 || x.shape[1] !== w.shape[0]) {
    throw new ShapeError(`conv2dTranspose: input [${x.shape}] does not match filter [${w.shape}] (expected [Cin, Cout, kh, kw])`);
  }
  checkDType('conv2dTranspose', x, w);
  const [sh, sw] = pair('conv2dTranspose', 'stride', opts.stride, 1, 1);
  const [ph, pw] = pair('conv2dTranspose', 'padding', opts.padding, 0, 0);
  const [oph, opw] = pair('conv2dTranspose', 'outputPadding', opts.outputPadding, 0, 0);
  if (oph >= sh || opw >= sw) throw new InvalidArgumentError(`conv2dTranspose: outputPadding must be smaller than the stride`);
  const [n, cin, h, wd] = x.shape;
  const [, cout, kh, kw] = w.shape;
  const oh = (h - 1) * sh - 2 * ph + kh + oph;
  const ow = (wd - 1) * sw - 2 * pw + kw + opw;
  if (oh <= 0 || ow <= 0) throw new ShapeError(`conv2dTranspose: output would be empty (${oh}×${ow})`);
  // The forward conv this is the adjoint of maps [n, cout, oh, ow] to [n, cin, h, w].
  const g = geometry('conv2dTranspose', [n, cout, oh, ow], [cin, cout, kh, kw], { stride: [sh, sw], padding: [ph, pw] });
  if (g.oh !== h || g.ow !== wd) throw new ShapeError('conv2dTranspose: inconsistent geometry');
  let y = convInputGrad(x, w, g);
  if (b) {
    if (b.size !== cout) throw new ShapeError(`conv2dTranspose: bias has ${b.size} entries for ${cout} output channels`);
    y = add(y, reshape(b, [1, cout, 1, 1]));
  }
  return y;
}

/**
 * Average pooling over `k×k` windows with the given stride (default `k`), NCHW, no padding:
 * `out[n, c, y, x] = mean_{i,j < k} x[n, c, y·s + i, x·s + j]`. Runs as a one-channel convolution with the constant
 * filter `1/k²` over the `[N·C, 1, H, W]` view, so it uses the convolution kernels and their exact gradients.
 * Shapes: `[N, C, H, W]` → `[N, C, ⌊(H − k)/s⌋ + 1, ⌊(W − k)/s⌋ + 1]`.
 * @example avgPool2d(x, 2) // halves H and W
 */
export function avgPool2d(x: Tensor, k: number, stride = k): Tensor {
  if (x.ndim !== 4) throw new ShapeError(`avgPool2d: input must be [N, C, H, W], got [${x.shape}]`);
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`avgPool2d: kernel must be a positive integer, got ${k}`);
  const [N, C, H, W] = x.shape;
  const filt = new Tensor(allocate(x.dtype, k * k).fill(1 / (k * k)), [1, 1, k, k]);
  const y = conv2d(reshape(x, [N * C, 1, H, W]), filt, undefined, { stride });
  return reshape(y, [N, C, y.shape[2], y.shape[3]]);
}
