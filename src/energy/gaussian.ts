/** Multivariate Gaussian energy with a full covariance, its exact log Z, score and direct sampler. */
import { Tensor, matmul, mul, sub, sum, neg } from '../tensor/index.js';
import { normalArray, type Key } from '../random/index.js';
import type { AnalyticEnergy } from './types.js';
import { checkBatch } from './types.js';
import { Const, fromRows } from './_internal/consts.js';
import { cholesky, inverseFromCholesky, logDetFromCholesky } from './_internal/linalg.js';
import { asRecord, matrixOf, vectorOf, EnergyParamsError } from './_internal/validate.js';
import { InvalidArgumentError } from '../errors.js';

/** Parameters of {@link gaussian} (JSON: `{"mean": [...], "cov": [[...], ...]}`; `cov` defaults to the identity). */
export interface GaussianParams {
  readonly mean: readonly number[];
  readonly cov?: readonly (readonly number[])[];
}

/**
 * Gaussian `N(μ, Σ)` as an energy: `E(x) = ½ (x − μ)ᵀ Σ⁻¹ (x − μ)`, `log Z = (d/2) log 2π + ½ log det Σ`,
 * score `−Σ⁻¹(x − μ)`, exact samples `μ + L z` with `Σ = L Lᵀ`. Shapes: `x [n, d]` → `[n]`.
 * Throws an `EnergyParamsError` when `cov` is not a symmetric positive-definite `d×d` matrix.
 * @example const g = gaussian({ mean: [0, 0], cov: [[1, 0.9], [0.9, 1]] }); g.logZ() // log 2π + ½ log 0.19
 */
export function gaussian(params: GaussianParams): AnalyticEnergy {
  const rec = asRecord(params, 'gaussian', ['mean', 'cov']);
  if (rec.mean === undefined) throw new EnergyParamsError('gaussian: missing required parameter "mean"');
  const mu = vectorOf(rec.mean, '"mean"', 'gaussian');
  const d = mu.length;
  let cov: Float64Array;
  if (rec.cov === undefined) {
    cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++) cov[i * d + i] = 1;
  } else cov = matrixOf(rec.cov, '"cov"', 'gaussian', d);
  return gaussianFromArrays(mu, cov, 'gaussian');
}

/** @internal Gaussian from float64 mean `[d]` and row-major covariance `[d·d]`. */
export function gaussianFromArrays(mu: Float64Array, cov: Float64Array, label: string): AnalyticEnergy {
  const d = mu.length;
  const l = cholesky(cov, d, '"cov"', label);
  const prec = new Const(inverseFromCholesky(l, d), [d, d]);
  const mean = new Const(mu, [d]);
  const logZ = 0.5 * d * Math.log(2 * Math.PI) + 0.5 * logDetFromCholesky(l, d);
  const self: AnalyticEnergy = {
    dim: d,
    name: 'gaussian',
    energy(x: Tensor): Tensor {
      checkBatch(self, x, 'gaussian.energy');
      const diff = sub(x, mean.as(x.dtype));
      return mul(sum(mul(matmul(diff, prec.as(x.dtype)), diff), 1), 0.5);
    },
    logZ: () => logZ,
    score(x: Tensor): Tensor {
      checkBatch(self, x, 'gaussian.score');
      return neg(matmul(sub(x, mean.as(x.dtype)), prec.as(x.dtype)));
    },
    sample(key: Key, n: number, dtype = 'float32'): Tensor {
      const z = normalArray(key, n * d, 'float64');
      const out = new Float64Array(n * d);
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < d; i++) {
          let s = mu[i];
          for (let k = 0; k <= i; k++) s += l[i * d + k] * z[r * d + k];
          out[r * d + i] = s;
        }
      }
      return fromRows(out, n, d, dtype);
    },
    mean: () => new Float64Array(mu),
    covariance: () => new Float64Array(cov),
    smoothed(sigma: number): AnalyticEnergy {
      if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new InvalidArgumentError(`gaussian.smoothed: sigma must be a finite number ≥ 0, got ${sigma}`);
      const c = new Float64Array(cov);
      for (let i = 0; i < d; i++) c[i * d + i] += sigma * sigma;
      return gaussianFromArrays(mu, c, label);
    },
  };
  return self;
}
