/**
 * 2-D convolution and average pooling (NCHW), built from `im2col` and its adjoint `col2im` plus a matmul, so that
 * input and filter gradients — and their derivatives — come from ops that are themselves differentiable.
 */
import { record } from '../autodiff.js';
import { ShapeError, Tensor, allocate } from '../tensor.js';
import { add } from './elementwise.js';
import { matmul } from './linalg.js';
import { mean } from './reduce.js';
import { reshape, transpose } from './shape.js';

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
  const out = allocate(x.dtype, N * P * K);
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
  const out = allocate(cols.dtype, N * C * H * W);
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

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  readonly stride?: number;
  readonly padding?: number;
}

/**
 * 2-D cross-correlation (what deep-learning libraries call convolution), NCHW:
 * `out[n, o, y, x] = b[o] + Σ_{c,i,j} w[o, c, i, j] · xpad[n, c, y·s + i, x·s + j]`.
 * Shapes: `x [N, C, H, W]`, `w [O, C, kh, kw]`, `b [O]` → `[N, O, OH, OW]` with `OH = ⌊(H + 2p − kh)/s⌋ + 1`.
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor, opts: Conv2dOptions = {}): Tensor {
  if (w.ndim !== 4) throw new ShapeError(`conv2d: filter must be [O, C, kh, kw], got [${w.shape}]`);
  if (x.ndim !== 4 || x.shape[1] !== w.shape[1]) {
    throw new ShapeError(`conv2d: input [${x.shape}] does not match filter [${w.shape}] (channels)`);
  }
  const stride = opts.stride ?? 1;
  const padding = opts.padding ?? 0;
  if (!(stride >= 1) || !(padding >= 0)) throw new RangeError('conv2d: stride must be ≥ 1 and padding ≥ 0');
  const [O, C, kh, kw] = w.shape;
  const [N, , H, W] = x.shape;
  const OH = outSize(H, kh, stride, padding);
  const OW = outSize(W, kw, stride, padding);
  const cols = im2col(x, { kh, kw, stride, padding }); // [N, P, K]
  const y = matmul(cols, reshape(w, [O, C * kh * kw]), { transB: true }); // [N, P, O]
  let out = reshape(transpose(y, 1, 2), [N, O, OH, OW]);
  if (b) {
    if (b.size !== O) throw new ShapeError(`conv2d: bias has ${b.size} entries for ${O} output channels`);
    out = add(out, reshape(b, [1, O, 1, 1]));
  }
  return out;
}

/** Average pooling over `k×k` windows with the given stride (default `k`), NCHW, no padding. */
export function avgPool2d(x: Tensor, k: number, stride = k): Tensor {
  if (x.ndim !== 4) throw new ShapeError(`avgPool2d: input must be [N, C, H, W], got [${x.shape}]`);
  const [N, C, H, W] = x.shape;
  const OH = outSize(H, k, stride, 0);
  const OW = outSize(W, k, stride, 0);
  const cols = im2col(reshape(x, [N * C, 1, H, W]), { kh: k, kw: k, stride, padding: 0 }); // [N·C, P, k·k]
  return reshape(mean(cols, 2), [N, C, OH, OW]);
}
