/** Maximum mean discrepancy between two samples with a sum of RBF kernels (unbiased estimator). */
import { Tensor, ShapeError } from '../tensor/index.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Unbiased estimate of the squared MMD between the distributions of the rows of `x [n, d]` and `y [m, d]` with the
 * kernel `k(a, b) = Σ_h exp(−‖a − b‖²/(2h²))` over the `bandwidths` `h`:
 * `MMD²ᵤ = 1/(n(n−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(m(m−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/(nm) Σ_{i,j} k(xᵢ, yⱼ)`.
 * Can be slightly negative when the distributions agree. Float64 accumulation; `O((n + m)² d)` time.
 * @example mmd(samples, truth, [0.2, 0.5, 1, 2]) // ≈ 0 for equal distributions
 */
export function mmd(x: Tensor, y: Tensor, bandwidths: readonly number[]): number {
  if (!(x instanceof Tensor) || !(y instanceof Tensor) || x.ndim !== 2 || y.ndim !== 2 || x.shape[1] !== y.shape[1]) {
    throw new ShapeError(`mmd: x and y must be [n, d] and [m, d] with the same d, got [${x?.shape?.join(', ')}] and [${y?.shape?.join(', ')}]`);
  }
  const [n, d] = x.shape;
  const m = y.shape[0];
  if (n < 2 || m < 2) throw new InvalidArgumentError(`mmd: need at least 2 rows in each sample, got ${n} and ${m}`);
  if (!Array.isArray(bandwidths) || bandwidths.length === 0) throw new InvalidArgumentError('mmd: bandwidths must be a non-empty array');
  const inv = bandwidths.map((h, i) => {
    if (!(h > 0) || !Number.isFinite(h)) throw new InvalidArgumentError(`mmd: bandwidths[${i}] must be a finite number > 0, got ${h}`);
    return -1 / (2 * h * h);
  });
  for (const [name, t] of [['x', x], ['y', y]] as const) {
    for (let i = 0; i < t.size; i++) if (!Number.isFinite(t.data[i])) throw new InvalidArgumentError(`mmd: ${name} has a non-finite value at row ${Math.floor(i / d)}, column ${i % d}`);
  }
  const k = (a: Tensor, i: number, b: Tensor, j: number): number => {
    let r = 0;
    for (let c = 0; c < d; c++) {
      const e = a.data[i * d + c] - b.data[j * d + c];
      r += e * e;
    }
    let s = 0;
    for (const w of inv) s += Math.exp(w * r);
    return s;
  };
  let kxx = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) kxx += k(x, i, x, j);
  let kyy = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) kyy += k(y, i, y, j);
  let kxy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) kxy += k(x, i, y, j);
  return (2 * kxx) / (n * (n - 1)) + (2 * kyy) / (m * (m - 1)) - (2 * kxy) / (n * m);
}
