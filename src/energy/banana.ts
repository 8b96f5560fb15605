/** Banana (twisted Gaussian / Rosenbrock-type) energy with exact log Z, moments and direct sampler. */
import { Tensor, mul, sub, add, sum, square, sliceAxis, concat } from '../tensor/index.js';
import { normalArray, type Key } from '../random/index.js';
import type { AnalyticEnergy } from './types.js';
import { checkBatch } from './types.js';
import { fromRows } from './_internal/consts.js';
import { asRecord, numberField } from './_internal/validate.js';

/**
 * Parameters of {@link banana} (JSON, all optional): `dim` ≥ 2 (default 2), `curvature` b (default 1),
 * `mean1` m (default 0), `std1` s₁ > 0 (default 1), `std2` s₂ > 0 (default 1).
 * Rosenbrock's `exp(−[(1 − x₁)² + 100(x₂ − x₁²)²]/20)` is `{mean1: 1, std1: √10, std2: √0.1, curvature: 1}`.
 */
export interface BananaParams {
  readonly dim?: number;
  readonly curvature?: number;
  readonly mean1?: number;
  readonly std1?: number;
  readonly std2?: number;
}

/**
 * `E(x) = (x₁ − m)²/(2s₁²) + Σ_{i≥2} (xᵢ − b x₁²)²/(2s₂²)`: `x₁ ~ N(m, s₁²)` and `xᵢ | x₁ ~ N(b x₁², s₂²)`, so
 * `log Z = ½ log(2πs₁²) + ((d − 1)/2) log(2πs₂²)` (the shear has unit Jacobian). Mean `(m, b(m² + s₁²), …)`.
 * Shapes: `x [n, d]` → `[n]`.
 * @example banana({ curvature: 1 }).sample(key(0), 100)
 */
export function banana(params: BananaParams = {}): AnalyticEnergy {
  const rec = asRecord(params, 'banana', ['dim', 'curvature', 'mean1', 'std1', 'std2']);
  const d = numberField(rec, 'dim', 'banana', { default: 2, integer: true, min: 2 });
  const b = numberField(rec, 'curvature', 'banana', { default: 1 });
  const m = numberField(rec, 'mean1', 'banana', { default: 0 });
  const s1 = numberField(rec, 'std1', 'banana', { default: 1, positive: true });
  const s2 = numberField(rec, 'std2', 'banana', { default: 1, positive: true });
  const logZ = 0.5 * Math.log(2 * Math.PI * s1 * s1) + 0.5 * (d - 1) * Math.log(2 * Math.PI * s2 * s2);
  const self: AnalyticEnergy = {
    dim: d,
    name: 'banana',
    energy(x: Tensor): Tensor {
      checkBatch(self, x, 'banana.energy');
      const x1 = sliceAxis(x, 1, 0, 1);
      const r = sub(sliceAxis(x, 1, 1), mul(square(x1), b));
      return add(mul(sum(square(sub(x1, m)), 1), 1 / (2 * s1 * s1)), mul(sum(square(r), 1), 1 / (2 * s2 * s2)));
    },
    logZ: () => logZ,
    score(x: Tensor): Tensor {
      checkBatch(self, x, 'banana.score');
      const x1 = sliceAxis(x, 1, 0, 1);
      const r = mul(sub(sliceAxis(x, 1, 1), mul(square(x1), b)), 1 / (s2 * s2)); // (xᵢ − b x₁²)/s₂²
      const g1 = add(mul(sub(x1, m), -1 / (s1 * s1)), mul(mul(sum(r, 1, true), x1), 2 * b));
      return concat([g1, mul(r, -1)], 1);
    },
    sample(key: Key, n: number, dtype = 'float32'): Tensor {
      const z = normalArray(key, n * d, 'float64');
      const out = new Float64Array(n * d);
      for (let i = 0; i < n; i++) {
        const x1 = m + s1 * z[i * d];
        out[i * d] = x1;
        for (let j = 1; j < d; j++) out[i * d + j] = b * x1 * x1 + s2 * z[i * d + j];
      }
      return fromRows(out, n, d, dtype);
    },
    mean(): Float64Array {
      const mu = new Float64Array(d).fill(b * (m * m + s1 * s1));
      mu[0] = m;
      return mu;
    },
    covariance(): Float64Array {
      const varSq = 2 * s1 ** 4 + 4 * m * m * s1 * s1; // Var(x₁²)
      const c = new Float64Array(d * d);
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          if (i === 0 && j === 0) c[0] = s1 * s1;
          else if (i === 0 || j === 0) c[i * d + j] = 2 * b * m * s1 * s1;
          else c[i * d + j] = b * b * varSq + (i === j ? s2 * s2 : 0);
        }
      }
      return c;
    },
  };
  return self;
}
