/** Double-well energy: two wells along the first axis, Gaussian in the others; log Z by 1-D quadrature. */
import { Tensor, mul, sub, add, sum, square, sliceAxis, concat } from '../tensor/index.js';
import type { AnalyticEnergy } from './types.js';
import { checkBatch } from './types.js';
import { logIntegrate1d } from './_internal/linalg.js';
import { asRecord, numberField } from './_internal/validate.js';

/**
 * Parameters of {@link doubleWell} (JSON, all optional): `dim` (≥ 1, default 2), `barrier` h > 0 (default 4:
 * energy of the saddle at x₁ = 0 above the wells), `center` a > 0 (wells at x₁ = ±a, default 1), `std` σ > 0 of
 * the other coordinates (default 1).
 */
export interface DoubleWellParams {
  readonly dim?: number;
  readonly barrier?: number;
  readonly center?: number;
  readonly std?: number;
}

/**
 * `E(x) = h ((x₁/a)² − 1)² + Σ_{i≥2} xᵢ² / (2σ²)`. The normaliser factorises:
 * `log Z = log ∫ exp(−h((t/a)² − 1)²) dt + ((d − 1)/2) log(2πσ²)`, the 1-D integral by Simpson's rule in float64
 * refined to 1e-13 (effectively exact). Score: `−4h x₁((x₁/a)² − 1)/a²` and `−xᵢ/σ²`. Mean 0 by symmetry.
 * Shapes: `x [n, d]` → `[n]`.
 * @example doubleWell({ dim: 2, barrier: 4 }).logZ()
 */
export function doubleWell(params: DoubleWellParams = {}): AnalyticEnergy {
  const rec = asRecord(params, 'doublewell', ['dim', 'barrier', 'center', 'std']);
  const d = numberField(rec, 'dim', 'doublewell', { default: 2, integer: true, min: 1 });
  const h = numberField(rec, 'barrier', 'doublewell', { default: 4, positive: true });
  const a = numberField(rec, 'center', 'doublewell', { default: 1, positive: true });
  const s = numberField(rec, 'std', 'doublewell', { default: 1, positive: true });
  const half = a * Math.sqrt(1 + Math.sqrt(800 / h)) + a; // beyond this exp(−E) < e^{−800}
  const logZ = logIntegrate1d((t) => -h * ((t / a) ** 2 - 1) ** 2, -half, half) + 0.5 * (d - 1) * Math.log(2 * Math.PI * s * s);
  const self: AnalyticEnergy = {
    dim: d,
    name: 'doublewell',
    energy(x: Tensor): Tensor {
      checkBatch(self, x, 'doublewell.energy');
      const x1 = sliceAxis(x, 1, 0, 1);
      let e = mul(square(sub(mul(square(x1), 1 / (a * a)), 1)), h);
      if (d > 1) e = add(e, mul(sum(square(sliceAxis(x, 1, 1)), 1, true), 1 / (2 * s * s)));
      return sum(e, 1);
    },
    logZ: () => logZ,
    score(x: Tensor): Tensor {
      checkBatch(self, x, 'doublewell.score');
      const x1 = sliceAxis(x, 1, 0, 1);
      const g1 = mul(mul(x1, sub(mul(square(x1), 1 / (a * a)), 1)), (-4 * h) / (a * a));
      return d > 1 ? concat([g1, mul(sliceAxis(x, 1, 1), -1 / (s * s))], 1) : g1;
    },
    mean: () => new Float64Array(d),
  };
  return self;
}
