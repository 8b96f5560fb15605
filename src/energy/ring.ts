/** Ring (shell) energy: mass concentrated at radius r; log Z by 1-D radial quadrature. */
import { Tensor, mul, sub, sum, square, sqrt, add, div } from '../tensor/index.js';
import type { AnalyticEnergy } from './types.js';
import { checkBatch } from './types.js';
import { logGammaHalf, logIntegrate1d } from './_internal/linalg.js';
import { asRecord, numberField } from './_internal/validate.js';

/** Parameters of {@link ring} (JSON, all optional): `dim` ≥ 1 (default 2), `radius` r > 0 (default 3), `std` σ > 0 (default 0.5). */
export interface RingParams {
  readonly dim?: number;
  readonly radius?: number;
  readonly std?: number;
}

/** Added under the square root of ‖x‖ so the gradient at the origin is 0 instead of 0/0 (changes E by < 1e-6σ⁻²·r). */
const NORM_EPS = 1e-12;

/**
 * `E(x) = (‖x‖ − r)² / (2σ²)`. In polar coordinates `log Z = log S_{d−1} + log ∫₀^∞ ρ^{d−1} exp(−(ρ − r)²/(2σ²)) dρ`
 * with the sphere area `S_{d−1} = 2π^{d/2}/Γ(d/2)`; the radial integral by Simpson's rule in float64.
 * Score: `−(‖x‖ − r)/σ² · x/‖x‖`. Mean 0 by symmetry. Shapes: `x [n, d]` → `[n]`.
 * @example ring({ radius: 3, std: 0.5 }).logZ()
 */
export function ring(params: RingParams = {}): AnalyticEnergy {
  const rec = asRecord(params, 'ring', ['dim', 'radius', 'std']);
  const d = numberField(rec, 'dim', 'ring', { default: 2, integer: true, min: 1 });
  const r = numberField(rec, 'radius', 'ring', { default: 3, positive: true });
  const s = numberField(rec, 'std', 'ring', { default: 0.5, positive: true });
  const logSphere = Math.log(2) + (d / 2) * Math.log(Math.PI) - logGammaHalf(d);
  const hi = r + 45 * s; // exp(−(45)²/2) is far below float64 relevance
  const logRadial = logIntegrate1d((rho) => (d > 1 ? (d - 1) * Math.log(rho) : 0) - ((rho - r) ** 2) / (2 * s * s), 0, hi);
  const logZ = logSphere + logRadial;
  const norm = (x: Tensor): Tensor => sqrt(add(sum(square(x), 1, true), NORM_EPS));
  const self: AnalyticEnergy = {
    dim: d,
    name: 'ring',
    energy(x: Tensor): Tensor {
      checkBatch(self, x, 'ring.energy');
      return mul(sum(square(sub(norm(x), r)), 1), 1 / (2 * s * s));
    },
    logZ: () => logZ,
    score(x: Tensor): Tensor {
      checkBatch(self, x, 'ring.score');
      const nx = norm(x);
      return mul(div(mul(sub(nx, r), x), nx), -1 / (s * s));
    },
    mean: () => new Float64Array(d),
  };
  return self;
}
