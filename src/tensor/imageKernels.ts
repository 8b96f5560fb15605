/**
 * Image kernels (convolution) a backend may accelerate, and their pure-TypeScript reference: per-image `im2col`
 * into a `[K, P]` patch matrix feeding GEMM, the same algorithm as native/conv.c, so both backends agree to rounding.
 */
import { jsBackend } from './backend.js';
import { outputBuffer } from './bufferPool.js';
import type { TypedArray } from './tensor.js';

export type { Conv2dGeom, Conv2dKind, ImageKernels } from './imageTypes.js';
import type { Conv2dGeom, Conv2dKind, ImageKernels } from './imageTypes.js';


function im2colImage(g: Conv2dGeom, x: TypedArray, xOff: number, col: TypedArray): void {
  const P = g.oh * g.ow;
  for (let c = 0; c < g.c; c++) {
    const xc = xOff + c * g.h * g.w;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const row = ((c * g.kh + i) * g.kw + j) * P;
        for (let oy = 0; oy < g.oh; oy++) {
          const y = oy * g.sh - g.ph + i;
          const dst = row + oy * g.ow;
          if (y < 0 || y >= g.h) {
            for (let ox = 0; ox < g.ow; ox++) col[dst + ox] = 0;
            continue;
          }
          const src = xc + y * g.w;
          for (let ox = 0; ox < g.ow; ox++) {
            const xx = ox * g.sw - g.pw + j;
            col[dst + ox] = xx >= 0 && xx < g.w ? x[src + xx] : 0;
          }
        }
      }
    }
  }
}

function col2imImage(g: Conv2dGeom, col: TypedArray, x: TypedArray, xOff: number): void {
  const P = g.oh * g.ow;
  for (let c = 0; c < g.c; c++) {
    const xc = xOff + c * g.h * g.w;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const row = ((c * g.kh + i) * g.kw + j) * P;
        for (let oy = 0; oy < g.oh; oy++) {
          const y = oy * g.sh - g.ph + i;
          if (y < 0 || y >= g.h) continue;
          const src = row + oy * g.ow;
          const dst = xc + y * g.w;
          for (let ox = 0; ox < g.ow; ox++) {
            const xx = ox * g.sw - g.pw + j;
            if (xx >= 0 && xx < g.w) x[dst + xx] += col[src + ox];
          }
        }
      }
    }
  }
}

function conv2dJs(kind: Conv2dKind, g: Conv2dGeom, a: TypedArray, b: TypedArray, bias: TypedArray | null, out: TypedArray): void {
  const P = g.oh * g.ow;
  const K = g.c * g.kh * g.kw;
  const O = g.o;
  const CHW = g.c * g.h * g.w;
  // Scratch patch matrix (every element is written before it is read): pooled inside a buffer-reuse scope.
  const col = outputBuffer(a instanceof Float32Array ? 'float32' : 'float64', K * P);
  const gemm = jsBackend.gemm;
  if (kind === 2) out.fill(0, 0, O * K);
  for (let n = 0; n < g.n; n++) {
    if (kind === 0) {
      im2colImage(g, a, n * CHW, col);
      const o0 = n * O * P;
      const b0 = bias && g.n > 1 && bias.length === g.n * O ? n * O : 0;
      if (bias) for (let r = 0; r < O; r++) out.fill(bias[b0 + r], o0 + r * P, o0 + (r + 1) * P);
      gemm(false, false, O, P, K, 1, b, 0, K, col, 0, P, bias ? 1 : 0, out, o0, P);
    } else if (kind === 1) {
      gemm(true, false, K, P, O, 1, b, 0, K, a, n * O * P, P, 0, col, 0, P);
      out.fill(0, n * CHW, (n + 1) * CHW);
      col2imImage(g, col, out, n * CHW);
    } else {
      im2colImage(g, a, n * CHW, col);
      gemm(false, true, O, K, P, 1, b, n * O * P, P, col, 0, P, 1, out, 0, K);
    }
  }
}

/** The pure-TypeScript image kernels (every backend without its own uses these). */
export const jsImageKernels: ImageKernels = { conv2d: conv2dJs };
