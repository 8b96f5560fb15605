/**
 * The types of the image kernels a backend may accelerate (see `imageKernels.ts` for the pure-TypeScript reference),
 * in their own module so that `backend.ts` can name them without importing the reference implementation.
 */
import type { TypedArray } from './tensor.js';

/**
 * Geometry of a 2-D convolution: input `[n, c, h, w]`, filter `[o, c, kh, kw]`, strides `sh, sw ≥ 1`, zero padding
 * `ph, pw ≥ 0`, output `[n, o, oh, ow]` with `oh = ⌊(h + 2ph − kh)/sh⌋ + 1` (likewise `ow`).
 */
export interface Conv2dGeom {
  readonly n: number; readonly c: number; readonly h: number; readonly w: number;
  readonly o: number; readonly kh: number; readonly kw: number;
  readonly sh: number; readonly sw: number; readonly ph: number; readonly pw: number;
  readonly oh: number; readonly ow: number;
}

/**
 * Convolution kernel kinds: `0` forward `out = conv(a = x, b = filter) + bias` (`[n, o, oh, ow]`), `1` input gradient
 * `out = convᵀ(a = g, b = filter)` (`[n, c, h, w]`), `2` filter gradient `out = Σₙ gₙ ⋆ xₙ` with `a = x`, `b = g`
 * (`[o, c, kh, kw]`). Every kind overwrites `out`.
 */
export type Conv2dKind = 0 | 1 | 2;

/** Kernels for image ops; all arrays of one call share one element type and are contiguous NCHW. */
export interface ImageKernels {
  /**
   * See {@link Conv2dKind}; `bias` (forward only) is null, `o` entries shared by the batch, or `n·o` entries (one row
   * `[o]` per image, e.g. a time embedding added per example).
   */
  conv2d(kind: Conv2dKind, geom: Conv2dGeom, a: TypedArray, b: TypedArray, bias: TypedArray | null, out: TypedArray): void;
}
