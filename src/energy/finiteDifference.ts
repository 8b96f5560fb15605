/** An energy from a plain-number log density, with its gradient by central differences recorded as the autodiff rule. */
import { Tensor, mul, expandDims } from '../tensor/index.js';
import { record } from '../tensor/autodiff.js';
import type { Energy } from './types.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * The energy `E(x) = −log p(x)` of a log density evaluated as plain numbers (`logDensity(points)`: flat row-major
 * points `[m·dim]` → `[m]`, e.g. a toy data set's exact density by quadrature), with the gradient by central
 * differences `∂E/∂xⱼ ≈ (E(x + h·eⱼ) − E(x − h·eⱼ)) / 2h` (error `O(h²)`), all `2·dim` shifted copies of the batch in
 * one call, attached as the autodiff rule of the node. First order only: a second derivative through it is zero.
 * Shapes: `x [n, dim]` → `[n]`, in the dtype of `x`.
 * @example const E = finiteDifferenceEnergy(getToy('moons').logDensity!, 2, 1e-3); // samplers run on the exact density
 */
export function finiteDifferenceEnergy(logDensity: (points: Float64Array) => ArrayLike<number>, dim: number, h: number): Energy {
  if (!Number.isInteger(dim) || dim < 1) throw new InvalidArgumentError(`finiteDifferenceEnergy: dim must be an integer ≥ 1, got ${dim}`);
  if (!(h > 0) || !Number.isFinite(h)) throw new InvalidArgumentError(`finiteDifferenceEnergy: h must be a finite number > 0, got ${h}`);
  return {
    dim,
    energy(x: Tensor): Tensor {
      const n = x.shape[0];
      const pts = Float64Array.from(x.data);
      const e = logDensity(pts);
      const out = x.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = -e[i];
      const y = new Tensor(out, [n]);
      return record(y, 'finiteDifferenceEnergy', [x], (g: Tensor) => {
        const shifted = new Float64Array(2 * dim * n * dim);
        for (let j = 0; j < dim; j++) {
          for (const [s, sign] of [[0, 1], [1, -1]] as const) {
            const base = (2 * j + s) * n * dim;
            shifted.set(pts, base);
            for (let i = 0; i < n; i++) shifted[base + i * dim + j] += sign * h;
          }
        }
        const es = logDensity(shifted);
        const gd = x.dtype === 'float64' ? new Float64Array(n * dim) : new Float32Array(n * dim);
        for (let j = 0; j < dim; j++) {
          for (let i = 0; i < n; i++) gd[i * dim + j] = (es[(2 * j + 1) * n + i] - es[2 * j * n + i]) / (2 * h);
        }
        return [mul(expandDims(g, 1), new Tensor(gd, [n, dim]))];
      });
    },
  };
}
