/** The benches' integration box for 2-D data: the rows' bounding box padded by `pad` of its width on each side. */
import type { Tensor } from '../src/tensor/tensor.js';

/**
 * `[lo, hi]` per coordinate of the 2-D rows `x [n, 2]`, each side moved out by `pad × (max − min)`.
 * @example const [lo, hi] = paddedBox2d(train, 0.35);
 */
export function paddedBox2d(x: Tensor, pad: number): [number[], number[]] {
  const lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
  for (let i = 0; i < x.shape[0]; i++) for (let j = 0; j < 2; j++) { const v = x.data[2 * i + j]; lo[j] = Math.min(lo[j], v); hi[j] = Math.max(hi[j], v); }
  return [lo.map((v, j) => v - pad * (hi[j] - lo[j])), hi.map((v, j) => v + pad * (hi[j] - lo[j]))];
}
