/** Exact log-likelihoods of score-based models via the probability-flow ODE with a Hutchinson trace estimator, and bits/dim. */
import { Tensor, ShapeError, vjp, noGrad, detach, tensor, type DType } from '../tensor/index.js';
import { uniformArray, type Key } from '../random/index.js';
import { probes, type ProbeDistribution } from '../random/index.js';
import type { SDE } from './sde.js';
import type { BoundScore } from './samplers.js';
import { integrate, type IntegrateOptions } from './ode.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link odeLogLikelihood}. */
export interface OdeLikelihoodOptions extends IntegrateOptions {
  /**
   * Divergence estimator: `'rademacher'` (default) or `'gaussian'` Hutchinson probes `v` (fixed along the trajectory,
   * `div s ≈ vᵀ(∂s/∂x)v`), or `'exact'` (D backward passes per evaluation; small D only).
   */
  readonly probe?: ProbeDistribution | 'exact';
  /** Probes averaged per evaluation (default 1). */
  readonly nProbes?: number;
  /** Start time: the result is `log p_eps(x)` (default 1e-5). */
  readonly eps?: number;
}

/** Result of {@link odeLogLikelihood}. */
export interface OdeLikelihoodResult {
  /** `log p(xᵢ)` in nats, per row. */
  readonly logp: Float64Array;
  /** `log p_T(x_T)` under the prior, per row. */
  readonly priorLogp: Float64Array;
  /** `∫ div F dt` along each trajectory, per row (`logp = priorLogp + deltaLogp`). */
  readonly deltaLogp: Float64Array;
  /** The prior points `x_T`, `[n, ...dim]`. */
  readonly xT: Tensor;
  /** Evaluations of the augmented ODE right-hand side. */
  readonly nfe: number;
}

/**
 * `log p(x)` of the model defined by a score through its probability-flow ODE (Song et al. 2021, after FFJORD):
 * integrate `dx/dt = F(x, t) = f(t)x − ½g(t)² s(x, t)` together with `dℓ/dt = div F = D f(t) − ½g(t)² div s` from
 * `eps` to `T`, then `log p_eps(x) = log p_T(x_T) + ℓ(T)`. `div s` uses the Hutchinson estimator `vᵀ(∂s/∂x)v` with
 * `E[vvᵀ] = I` (unbiased for the integrand; the probes are drawn once per row from `key` and kept along the path), or
 * the exact trace. For an energy-defined score the vector–Jacobian product is a Hessian–vector product of `E`.
 * Shapes: `x [n, ...dim]` → per-row results. Default solver: RK45 (`rtol = atol = 1e-5`), whose step is accepted
 * only when every row's own error norm passes (`groups: n`; a row's result does not depend on the rows solved with it
 * beyond the shared steps).
 * @example odeLogLikelihood(vpSDE(), bindEnergyScore(E, p), xTest, key(0), { probe: 'exact' }).logp
 */
export function odeLogLikelihood(sde: SDE, score: BoundScore, x: Tensor, key: Key, opts: OdeLikelihoodOptions = {}): OdeLikelihoodResult {
  if (!(x instanceof Tensor) || x.ndim < 2 || x.shape[0] === 0) throw new ShapeError(`odeLogLikelihood: x must be [n, ...dim], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  const n = x.shape[0];
  const D = x.size / n;
  const eps = opts.eps ?? 1e-5;
  if (!(eps > 0 && eps < sde.T)) throw new InvalidArgumentError(`odeLogLikelihood: eps must be in (0, ${sde.T}), got ${eps}`);
  const probe = opts.probe ?? 'rademacher';
  const K = opts.nProbes ?? 1;
  if (!Number.isInteger(K) || K < 1) throw new InvalidArgumentError(`odeLogLikelihood: nProbes must be a positive integer, got ${K}`);
  const dtype: DType = x.dtype;
  let vs: Tensor[];
  if (probe === 'exact') {
    vs = Array.from({ length: D }, (_, j) => {
      const e = new Float64Array(n * D);
      for (let i = 0; i < n; i++) e[i * D + j] = 1;
      return tensor(e, x.shape, dtype);
    });
  } else {
    const all = probes(key, [K, ...x.shape], probe, dtype);
    vs = Array.from({ length: K }, (_, k) => new Tensor(all.data.slice(k * x.size, (k + 1) * x.size), x.shape));
  }
  const scaleDiv = probe === 'exact' ? 1 : 1 / K;
  const shape = x.shape;
  // State: row-contiguous blocks [x_i (D values), ℓ_i], one block per row, so the solver controls each row's error
  // on its own (groups: n) instead of one RMS over n·(D + 1) components that dilutes a row's unstable pixels.
  const W = D + 1;
  const rhs = (t: number, y: Float64Array): Float64Array => {
    const xs = new Float64Array(n * D);
    for (let i = 0; i < n; i++) xs.set(y.subarray(i * W, i * W + D), i * D);
    const xt = tensor(xs, shape, dtype);
    const [s, pull] = vjp((z: Tensor) => score(z, t), xt);
    if (s.shape.length !== shape.length || s.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`odeLogLikelihood: score returned [${s.shape.join(', ')}] for x [${shape.join(', ')}]`);
    }
    const div = new Float64Array(n);
    for (const v of vs) {
      const vJ = noGrad(() => detach(pull(v)));
      for (let i = 0; i < n; i++) {
        let a = 0;
        for (let j = 0; j < D; j++) a += v.data[i * D + j] * vJ.data[i * D + j];
        div[i] += a * scaleDiv;
      }
    }
    const f = sde.driftCoef(t);
    const h = 0.5 * sde.g2(t);
    const out = new Float64Array(n * W);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < D; j++) out[i * W + j] = f * y[i * W + j] - h * s.data[i * D + j];
      out[i * W + D] = f * D - h * div[i];
    }
    return out;
  };
  const y0 = new Float64Array(n * W);
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) y0[i * W + j] = x.data[i * D + j];
  const res = integrate(rhs, y0, eps, sde.T, { ...opts, groups: n });
  const xTdata = new Float64Array(n * D);
  const deltaLogp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xTdata.set(res.y.subarray(i * W, i * W + D), i * D);
    deltaLogp[i] = res.y[i * W + D];
  }
  const xT = tensor(xTdata, shape, dtype);
  const priorLogp = sde.priorLogProb(tensor(xTdata, shape, 'float64'));
  const logp = new Float64Array(n);
  for (let i = 0; i < n; i++) logp[i] = priorLogp[i] + deltaLogp[i];
  return { logp, priorLogp, deltaLogp, xT, nfe: res.nfe };
}

/** Options of {@link dequantize} and {@link bitsPerDim}. */
export interface DequantizationOptions {
  /** Number of discrete levels per value (default 256). */
  readonly bins?: number;
  /** Continuous range the data are mapped to (default `[-1, 1]`). */
  readonly range?: readonly [number, number];
}

function dq(opts: DequantizationOptions): { bins: number; lo: number; hi: number } {
  const bins = opts.bins ?? 256;
  const [lo, hi] = opts.range ?? [-1, 1];
  if (!Number.isInteger(bins) || bins < 2) throw new InvalidArgumentError(`dequantization: bins must be an integer ≥ 2, got ${bins}`);
  if (!(hi > lo)) throw new InvalidArgumentError(`dequantization: range must have hi > lo, got [${lo}, ${hi}]`);
  return { bins, lo, hi };
}

/**
 * Uniform dequantisation: integer data `k ∈ {0, …, bins−1}` become `y = lo + (hi − lo)(k + u)/bins`, `u ~ U[0, 1)`.
 * Throws on a value that is not an integer in range (naming the index).
 * @example dequantize(key(0), images255) // values in [−1, 1)
 */
export function dequantize(key: Key, x: Tensor, opts: DequantizationOptions = {}): Tensor {
  const { bins, lo, hi } = dq(opts);
  const u = uniformArray(key, x.size, 'float64');
  const out = new (x.dtype === 'float64' ? Float64Array : Float32Array)(x.size);
  for (let i = 0; i < x.size; i++) {
    const k = x.data[i];
    if (!Number.isInteger(k) || k < 0 || k >= bins) throw new InvalidArgumentError(`dequantize: element ${i} is ${k}, expected an integer in [0, ${bins - 1}]`);
    out[i] = lo + ((hi - lo) * (k + u[i])) / bins;
  }
  return new Tensor(out, x.shape);
}

/** Result of {@link bitsPerDim}. */
export interface BitsPerDimResult {
  /** Mean bits per dimension over the rows. */
  readonly bitsPerDim: number;
  /** Per-row bits/dim. */
  readonly perRow: Float64Array;
  /** How the number was obtained, e.g. `'uniform dequantisation, 256 bins, data scaled to [-1, 1]'`. */
  readonly dequantization: string;
}

/**
 * Bits per dimension of discrete data from the continuous log-density `log p(y)` (nats) of uniformly dequantised,
 * rescaled data (see {@link dequantize}): `log P(k) ≥ log p(y) + D log((hi − lo)/bins)`, so
 * `bpd = −(log p(y) + D log((hi − lo)/bins)) / (D ln 2)` — an upper bound on the discrete model's bits/dim.
 * @example bitsPerDim(odeLogLikelihood(sde, score, y, key(1)).logp, 784).bitsPerDim
 */
export function bitsPerDim(logp: ArrayLike<number>, D: number, opts: DequantizationOptions = {}): BitsPerDimResult {
  const { bins, lo, hi } = dq(opts);
  if (!Number.isInteger(D) || D < 1) throw new InvalidArgumentError(`bitsPerDim: D must be a positive integer, got ${D}`);
  const per = new Float64Array(logp.length);
  let m = 0;
  const c = D * Math.log((hi - lo) / bins);
  for (let i = 0; i < logp.length; i++) {
    if (!Number.isFinite(logp[i])) throw new InvalidArgumentError(`bitsPerDim: log-likelihood of row ${i} is ${logp[i]}`);
    per[i] = -(logp[i] + c) / (D * Math.LN2);
    m += per[i] / logp.length;
  }
  return { bitsPerDim: m, perRow: per, dequantization: `uniform dequantisation, ${bins} bins, data scaled to [${lo}, ${hi}]` };
}
