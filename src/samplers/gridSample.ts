/** Exact-to-the-grid i.i.d. sampling of a 2-D energy on a box, by inverse-CDF draws over grid cells. */
import { Tensor } from '../tensor/index.js';
import { uniformArray, type Key } from '../random/index.js';
import type { Energy } from '../energy/index.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * `n` i.i.d. draws from the density `∝ exp(−E)` restricted to the box `[x0, x1] × [y0, y1]` and discretised on a
 * `res × res` grid: a cell is drawn with probability `∝ exp(−E(cell centre))` (inverse CDF by binary search over
 * the cumulative weights `exp(−(E − min E))`; non-finite energies weigh 0), then a point uniformly inside it. Exact
 * up to the grid (cell width `(x1 − x0)/res`); costs one energy call on `res²` points. For training data and
 * references when the energy has no direct sampler. Each draw uses 3 uniforms of `uniformArray(key, 3n)`.
 * Shapes: → `[n, 2]` float32.
 * @example const x = gridSample(banana({ dim: 2 }), [-3.5, 3.5, -3, 6], key(0), 1000);
 */
export function gridSample(energy: Energy, bounds: readonly [number, number, number, number], k: Key, n: number, res = 200): Tensor {
  if (energy.dim !== 2) throw new InvalidArgumentError(`gridSample: needs a 2-D energy, got dim ${JSON.stringify(energy.dim)}`);
  const [x0, x1, y0, y1] = bounds;
  if (!(x1 > x0) || !(y1 > y0) || !bounds.every(Number.isFinite)) throw new InvalidArgumentError(`gridSample: bounds must be finite [xmin, xmax, ymin, ymax] with xmin < xmax, ymin < ymax, got [${bounds.join(', ')}]`);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`gridSample: n must be an integer ≥ 0, got ${n}`);
  if (!Number.isInteger(res) || res < 1) throw new InvalidArgumentError(`gridSample: res must be an integer ≥ 1, got ${res}`);
  const dx = (x1 - x0) / res, dy = (y1 - y0) / res;
  const pts = new Float32Array(res * res * 2);
  for (let i = 0; i < res; i++) for (let j = 0; j < res; j++) {
    pts[2 * (i * res + j)] = x0 + (j + 0.5) * dx;
    pts[2 * (i * res + j) + 1] = y0 + (i + 0.5) * dy;
  }
  const e = energy.energy(new Tensor(pts, [res * res, 2]));
  let emin = Infinity;
  for (const v of e.data) if (v < emin) emin = v;
  const cdf = new Float64Array(res * res);
  let acc = 0;
  for (let i = 0; i < cdf.length; i++) {
    const v = e.data[i];
    acc += Number.isFinite(v) ? Math.exp(-(v - emin)) : 0;
    cdf[i] = acc;
  }
  if (!(acc > 0)) throw new InvalidArgumentError('gridSample: the density vanishes (or is not finite) on the whole box');
  const u = uniformArray(k, 3 * n, 'float64');
  const out = new Float32Array(n * 2);
  for (let s = 0; s < n; s++) {
    const t = u[3 * s] * acc;
    let lo = 0, hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > t) hi = mid; else lo = mid + 1;
    }
    const i = Math.floor(lo / res), j = lo - i * res;
    out[2 * s] = x0 + (j + u[3 * s + 1]) * dx;
    out[2 * s + 1] = y0 + (i + u[3 * s + 2]) * dy;
  }
  return new Tensor(out, [n, 2]);
}
