/** Forward SDEs of score-based diffusion (VE, VP, sub-VP) with their Gaussian marginals and priors. */
import { Tensor, ShapeError, tensor, reshape, type DType } from '../tensor/index.js';
import { normal, type Key } from '../random/index.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * A linear forward SDE `dx = f(t)·x dt + g(t) dw` on `t ∈ [0, T]`, whose transition from `x₀` is Gaussian:
 * `x_t | x₀ ~ N(m(t)·x₀, σ(t)² I)`. All coefficients are scalars shared by every coordinate.
 */
export interface SDE {
  /** `'ve'`, `'vp'` or `'subvp'`. */
  readonly kind: 've' | 'vp' | 'subvp';
  /** End time `T` (1 for all three). */
  readonly T: number;
  /** Drift coefficient `f(t)`: the drift is `f(t)·x`. */
  driftCoef(t: number): number;
  /** Squared diffusion `g(t)²`. */
  g2(t: number): number;
  /** Mean coefficient of the marginal, `m(t)`. */
  meanCoef(t: number): number;
  /** Standard deviation of the marginal, `σ(t)` (0 at `t = 0`). */
  std(t: number): number;
  /** Standard deviation of the prior `N(0, σ_T² I)` the reverse process starts from. */
  readonly priorStd: number;
  /** Prior samples `[n, ...shape]`. */
  priorSample(key: Key, shape: readonly number[], dtype?: DType): Tensor;
  /** Prior log density per row, `z [n, ...]` → `Float64Array(n)`: `−D/2 log(2πσ_T²) − ‖z‖²/(2σ_T²)`. */
  priorLogProb(z: Tensor): Float64Array;
  /** Short description with the parameters, e.g. `'VP(βmin=0.1, βmax=20)'`. */
  readonly description: string;
}

function prior(std: number): Pick<SDE, 'priorStd' | 'priorSample' | 'priorLogProb'> {
  return {
    priorStd: std,
    priorSample: (key, shape, dtype = 'float32') => normal(key, shape, { std, dtype }),
    priorLogProb: (z) => {
      const n = z.shape[0];
      const D = z.size / n;
      const out = new Float64Array(n);
      const c = -0.5 * D * Math.log(2 * Math.PI * std * std);
      for (let i = 0; i < n; i++) {
        let q = 0;
        for (let j = 0; j < D; j++) q += z.data[i * D + j] ** 2;
        out[i] = c - q / (2 * std * std);
      }
      return out;
    },
  };
}

function checkPos(v: number, what: string, fn: string): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`${fn}: ${what} must be a finite number > 0, got ${v}`);
}

/** Options of {@link vpSDE} and {@link subVpSDE}: the linear schedule `β(t) = βmin + t(βmax − βmin)`. */
export interface VPOptions {
  /** Default 0.1. */
  readonly betaMin?: number;
  /** Default 20. */
  readonly betaMax?: number;
}

function betaSchedule(opts: VPOptions, fn: string): { beta: (t: number) => number; B: (t: number) => number; bmin: number; bmax: number } {
  const bmin = opts.betaMin ?? 0.1;
  const bmax = opts.betaMax ?? 20;
  checkPos(bmin, 'betaMin', fn);
  checkPos(bmax, 'betaMax', fn);
  if (bmax < bmin) throw new InvalidArgumentError(`${fn}: betaMax (${bmax}) must be ≥ betaMin (${bmin})`);
  return { beta: (t) => bmin + t * (bmax - bmin), B: (t) => bmin * t + 0.5 * t * t * (bmax - bmin), bmin, bmax };
}

/**
 * Variance-preserving SDE (DDPM in continuous time, Song et al. 2021): `dx = −½β(t)x dt + √β(t) dw`,
 * `β(t) = βmin + t(βmax − βmin)`. With `B(t) = ∫₀ᵗβ = βmin t + ½t²(βmax − βmin)`: `m(t) = e^{−B/2}`,
 * `σ(t)² = 1 − e^{−B}`. Prior `N(0, I)`.
 * @example const sde = vpSDE(); sde.std(1) // ≈ 1
 */
export function vpSDE(opts: VPOptions = {}): SDE {
  const { beta, B, bmin, bmax } = betaSchedule(opts, 'vpSDE');
  return {
    kind: 'vp',
    T: 1,
    driftCoef: (t) => -0.5 * beta(t),
    g2: (t) => beta(t),
    meanCoef: (t) => Math.exp(-0.5 * B(t)),
    std: (t) => Math.sqrt(-Math.expm1(-B(t))),
    ...prior(1),
    description: `VP(βmin=${bmin}, βmax=${bmax})`,
  };
}

/**
 * Sub-VP SDE (Song et al. 2021): `dx = −½β(t)x dt + √(β(t)(1 − e^{−2B(t)})) dw`; same mean as VP,
 * `σ(t) = 1 − e^{−B(t)}` (never above the VP std). Prior `N(0, I)`.
 * @example subVpSDE({ betaMax: 20 }).std(0.5)
 */
export function subVpSDE(opts: VPOptions = {}): SDE {
  const { beta, B, bmin, bmax } = betaSchedule(opts, 'subVpSDE');
  return {
    kind: 'subvp',
    T: 1,
    driftCoef: (t) => -0.5 * beta(t),
    g2: (t) => beta(t) * -Math.expm1(-2 * B(t)),
    meanCoef: (t) => Math.exp(-0.5 * B(t)),
    std: (t) => -Math.expm1(-B(t)),
    ...prior(1),
    description: `subVP(βmin=${bmin}, βmax=${bmax})`,
  };
}

/** Options of {@link veSDE}. */
export interface VEOptions {
  /** Default 0.01. */
  readonly sigmaMin?: number;
  /** Default 50 (pick about the largest pairwise distance in the data). */
  readonly sigmaMax?: number;
}

/**
 * Variance-exploding SDE (SMLD/NCSN in continuous time): `σ_n(t) = σmin (σmax/σmin)^t`,
 * `dx = √(dσ_n²/dt) dw = σ_n(t)√(2 log(σmax/σmin)) dw`, no drift. The exact marginal from `x₀` at `t = 0` has
 * `m = 1`, `σ(t)² = σ_n(t)² − σmin²` (Song et al.'s code uses `σ_n(t)` itself, treating data as already `σmin`-blurred;
 * we keep the exact form so that `σ(0) = 0`). Prior `N(0, σ(1)² I)`.
 * @example veSDE({ sigmaMin: 0.01, sigmaMax: 10 })
 */
export function veSDE(opts: VEOptions = {}): SDE {
  const smin = opts.sigmaMin ?? 0.01;
  const smax = opts.sigmaMax ?? 50;
  checkPos(smin, 'sigmaMin', 'veSDE');
  checkPos(smax, 'sigmaMax', 'veSDE');
  if (!(smax > smin)) throw new InvalidArgumentError(`veSDE: sigmaMax (${smax}) must exceed sigmaMin (${smin})`);
  const lr = Math.log(smax / smin);
  const sn = (t: number): number => smin * Math.exp(lr * t);
  return {
    kind: 've',
    T: 1,
    driftCoef: () => 0,
    g2: (t) => 2 * lr * sn(t) ** 2,
    meanCoef: () => 1,
    std: (t) => Math.sqrt(Math.max(0, sn(t) ** 2 - smin * smin)),
    ...prior(Math.sqrt(smax * smax - smin * smin)),
    description: `VE(σmin=${smin}, σmax=${smax})`,
  };
}

/**
 * Draws `x_t = m(t)x₀ + σ(t)z` for one time per row: `x0 [n, ...dim]`, `t` length `n` → `{ xt, z, std }` with
 * `z [n, ...dim]` the standard noise (drawn from `key`, or `noise` when given, same shape and dtype as `x0`) and
 * `std` the per-row `σ(t)` as a tensor shaped `[n, 1, …]` for broadcasting.
 * @example const { xt, z } = perturb(vpSDE(), x0, t, key(0));
 */
export function perturb(sde: SDE, x0: Tensor, t: ArrayLike<number>, key: Key, noise?: Tensor): { xt: Tensor; z: Tensor; std: Tensor; mean: Tensor } {
  const n = x0.shape[0];
  if (t.length !== n) throw new InvalidArgumentError(`perturb: got ${t.length} times for ${n} rows`);
  const m = new Float64Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    m[i] = sde.meanCoef(t[i]);
    s[i] = sde.std(t[i]);
  }
  const col = [n, ...x0.shape.slice(1).map(() => 1)];
  const meanT = reshape(tensor(m, [n], x0.dtype), col);
  const stdT = reshape(tensor(s, [n], x0.dtype), col);
  if (noise !== undefined && (noise.dtype !== x0.dtype || noise.shape.length !== x0.shape.length || noise.shape.some((d, i) => d !== x0.shape[i]))) {
    throw new ShapeError(`perturb: noise is ${noise.dtype} [${noise.shape.join(', ')}] but x0 is ${x0.dtype} [${x0.shape.join(', ')}]`);
  }
  const z = noise ?? normal(key, x0.shape, { dtype: x0.dtype });
  const xt = new Tensor(new (x0.dtype === 'float64' ? Float64Array : Float32Array)(x0.size), x0.shape);
  const D = x0.size / n;
  const out = xt.data, xs = x0.data, zs = z.data;
  for (let i = 0, k = 0; i < n; i++) {
    const mi = m[i], si = s[i];
    for (const e = k + D; k < e; k++) out[k] = mi * xs[k] + si * zs[k];
  }
  return { xt, z, std: stdT, mean: meanT };
}
