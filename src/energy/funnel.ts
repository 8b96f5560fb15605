/** Neal's funnel energy with exact log Z, score and direct sampler. */
import { Tensor, mul, add, sum, square, sliceAxis, concat, exp, neg, sub } from '../tensor/index.js';
import { normalArray, type Key } from '../random/index.js';
import type { AnalyticEnergy } from './types.js';
import { checkBatch } from './types.js';
import { fromRows } from './_internal/consts.js';
import { asRecord, numberField } from './_internal/validate.js';

/** Parameters of {@link funnel} (JSON, all optional): `dim` ≥ 2 (default 10), `scale` s > 0 of the neck variable (default 3). */
export interface FunnelParams {
  readonly dim?: number;
  readonly scale?: number;
}

/**
 * Neal's funnel (Neal 2003): `v = x₁ ~ N(0, s²)`, `xᵢ | v ~ N(0, eᵛ)` for `i ≥ 2`:
 * `E(x) = v²/(2s²) + ½ e^{−v} Σᵢ xᵢ² + (d − 1) v / 2`, `log Z = ½ log(2πs²) + ((d − 1)/2) log 2π`.
 * Score: `∂v = −v/s² + ½ e^{−v} Σ xᵢ² − (d − 1)/2`, `∂xᵢ = −e^{−v} xᵢ`. Mean 0, covariance
 * `diag(s², e^{s²/2}, …)`. Shapes: `x [n, d]` → `[n]`.
 * @example funnel({ dim: 10 }).sample(key(0), 1000)
 */
export function funnel(params: FunnelParams = {}): AnalyticEnergy {
  const rec = asRecord(params, 'funnel', ['dim', 'scale']);
  const d = numberField(rec, 'dim', 'funnel', { default: 10, integer: true, min: 2 });
  const s = numberField(rec, 'scale', 'funnel', { default: 3, positive: true });
  const logZ = 0.5 * Math.log(2 * Math.PI * s * s) + 0.5 * (d - 1) * Math.log(2 * Math.PI);
  const self: AnalyticEnergy = {
    dim: d,
    name: 'funnel',
    energy(x: Tensor): Tensor {
      checkBatch(self, x, 'funnel.energy');
      const v = sum(sliceAxis(x, 1, 0, 1), 1);
      const ss = sum(square(sliceAxis(x, 1, 1)), 1);
      return add(add(mul(square(v), 1 / (2 * s * s)), mul(mul(exp(neg(v)), ss), 0.5)), mul(v, (d - 1) / 2));
    },
    logZ: () => logZ,
    score(x: Tensor): Tensor {
      checkBatch(self, x, 'funnel.score');
      const v = sliceAxis(x, 1, 0, 1);
      const rest = sliceAxis(x, 1, 1);
      const ev = exp(neg(v));
      const gv = sub(add(mul(v, -1 / (s * s)), mul(mul(ev, sum(square(rest), 1, true)), 0.5)), (d - 1) / 2);
      return concat([gv, neg(mul(rest, ev))], 1);
    },
    sample(key: Key, n: number, dtype = 'float32'): Tensor {
      const z = normalArray(key, n * d, 'float64');
      const out = new Float64Array(n * d);
      for (let i = 0; i < n; i++) {
        const v = s * z[i * d];
        out[i * d] = v;
        const sd = Math.exp(v / 2);
        for (let j = 1; j < d; j++) out[i * d + j] = sd * z[i * d + j];
      }
      return fromRows(out, n, d, dtype);
    },
    mean: () => new Float64Array(d),
    covariance(): Float64Array {
      const c = new Float64Array(d * d);
      c[0] = s * s;
      for (let i = 1; i < d; i++) c[i * d + i] = Math.exp((s * s) / 2);
      return c;
    },
  };
  return self;
}
