/** Gaussian smoothing of an energy by Gauss–Hermite quadrature: `E_σ` with `exp(−E_σ) = exp(−E) ∗ N(0, σ²I)` up to a constant. */
import { Tensor, add, reshape, broadcastTo, expandDims, logsumexp, neg } from '../tensor/index.js';
import type { Energy } from './types.js';
import { InvalidArgumentError } from '../errors.js';

/** 5-point Gauss–Hermite nodes and weights (`∫ e^{−t²} f(t) dt ≈ Σ wᵢ f(tᵢ)`). */
const GH_T = [-2.0201828704560856, -0.9585724646138185, 0, 0.9585724646138185, 2.0201828704560856];
const GH_W = [0.019953242059045913, 0.3936193231522412, 0.9453087204829419, 0.3936193231522412, 0.019953242059045913];

/**
 * Gaussian smoothing of a `d`-dimensional energy by tensor-product 5-point Gauss–Hermite quadrature (`5ᵈ` nodes):
 * `E_σ(x) = −log E_ε[exp(−E(x + σε))] ≈ −log Σₖ ŵₖ exp(−E(x + σ√2·tₖ))`, `ŵₖ = Πⱼ w_{kⱼ} / π^{d/2}`, evaluated in one
 * call of `E` on the `n·5ᵈ` shifted points (log-sum-exp over the nodes). Exact for polynomial `exp(−E)` of degree ≤ 9 in
 * each coordinate; approximate for large σ relative to the energy's features. For annealed Langevin on targets with
 * no closed-form smoothed family (compare `gaussianMixture(...).smoothed(σ)`, which is exact). `d ≤ 4`.
 * Shapes: `x [n, d]` → `[n]`.
 * @example const family = (s: number) => gaussHermiteSmoothed(banana({ dim: 2 }), s);
 */
export function gaussHermiteSmoothed(e: Energy, sigma: number): Energy {
  const d = typeof e.dim === 'number' ? e.dim : NaN;
  if (!Number.isInteger(d) || d < 1 || d > 4) throw new InvalidArgumentError(`gaussHermiteSmoothed: needs a vector energy of dimension 1 to 4, got dim ${JSON.stringify(e.dim)}`);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new InvalidArgumentError(`gaussHermiteSmoothed: sigma must be a finite number ≥ 0, got ${sigma}`);
  const q = GH_T.length;
  const K = q ** d;
  const off = new Float64Array(K * d);
  const logw = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    // Node k in base q, the first coordinate most significant.
    let w = 1;
    for (let j = 0, r = k; j < d; j++) {
      const a = Math.floor(r / q ** (d - 1 - j));
      r -= a * q ** (d - 1 - j);
      off[k * d + j] = sigma * Math.SQRT2 * GH_T[a];
      w *= GH_W[a];
    }
    logw[k] = Math.log(w / Math.PI ** (d / 2));
  }
  // Nodes and log-weights in the dtype of the points (float32 rounding of the float64 values).
  const consts = { float32: [new Tensor(Float32Array.from(off), [1, K, d]), new Tensor(Float32Array.from(logw), [1, K])], float64: [new Tensor(off, [1, K, d]), new Tensor(logw, [1, K])] };
  return {
    dim: d,
    energy(x: Tensor): Tensor {
      const n = x.shape[0];
      const [offT, logwT] = consts[x.dtype];
      const xs = reshape(add(broadcastTo(expandDims(x, 1), [n, K, d]), offT), [n * K, d]);
      const ek = reshape(e.energy(xs), [n, K]);
      return neg(logsumexp(add(neg(ek), logwT), 1));
    },
  };
}
