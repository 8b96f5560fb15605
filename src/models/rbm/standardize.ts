/** Per-column standardisation of vector data for Gaussian RBMs (CLI files and the library's anomaly scorer). */
import { Tensor } from '../../tensor/tensor.js';
import { columnMeanSd } from '../../data/columns.js';

/**
 * Per-column mean and standard deviation of `x [n, d]` (two passes; a constant column gets scale 1), the
 * standardisation `ebm train rbm --visible gaussian` applies so that the units of the data do not decide how well
 * (or whether) CD trains: with σ = 1 in data units a column of scale 0.05 is invisible, and with σ = std the
 * `v/σ²` statistics of a column with a large offset make CD diverge.
 * @example rbmStandardization(x) // { shift: [1000, -3], scale: [200, 0.05] }
 */
export function rbmStandardization(x: Tensor): { shift: number[]; scale: number[] } {
  const { mean, sd } = columnMeanSd(x);
  return { shift: Array.from(mean), scale: Array.from(sd, (s) => (s > 0 && Number.isFinite(s) ? s : 1)) };
}

/** `(x − shift)/scale` per column (`dir = 1`) or `shift + scale·z` (`dir = −1`), float32 `[n, d]`. */
export function rbmApplyStandardization(x: Tensor, shift: readonly number[], scale: readonly number[], dir: 1 | -1): Tensor {
  const [n, d] = x.shape;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x.data[i * d + j];
      out[i * d + j] = dir === 1 ? (v - shift[j]) / scale[j] : shift[j] + scale[j] * v;
    }
  }
  return new Tensor(out, [n, d]);
}
