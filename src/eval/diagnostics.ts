/** MCMC diagnostics: effective sample size (Geyer's initial monotone sequence), split-R̂, MCSE, acceptance and traces. */
import { ShapeError, type Tensor } from '../tensor/index.js';
import { InvalidArgumentError, ZeroVarianceError } from '../errors.js';

function checkChain(x: ArrayLike<number>, fn: string, minLen = 4): void {
  if (x.length < minLen) throw new InvalidArgumentError(`${fn}: need a chain of at least ${minLen} draws, got ${x.length}`);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new InvalidArgumentError(`${fn}: draw ${i} is not finite (${x[i]})`);
}

function meanOf(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Biased (÷n) autocovariance at `lag` of a centred chain. */
function autocov(c: Float64Array, lag: number): number {
  let s = 0;
  for (let t = 0; t + lag < c.length; t++) s += c[t] * c[t + lag];
  return s / c.length;
}

/**
 * Geyer's initial monotone sequence estimator of the integrated autocorrelation time from a function `rho(t)`
 * giving the (combined) autocorrelation at lag `t`: sum pairs `Γₖ = ρ(2k) + ρ(2k+1)` while positive, forcing them
 * non-increasing, `τ = −1 + 2 Σ Γₖ`. Bounded below by `1/log10(n)` as in Stan, so an antithetic chain has
 * `ESS ≤ n·log10(n)`.
 */
function tauFromRho(rho: (t: number) => number, maxLag: number, n: number): number {
  let sum = 0;
  let prev = Infinity;
  for (let k = 0; 2 * k + 1 < maxLag; k++) {
    let g = rho(2 * k) + rho(2 * k + 1);
    if (!(g > 0)) break;
    if (g > prev) g = prev; // monotone: pairs must not increase
    sum += g;
    prev = g;
  }
  const tau = -1 + 2 * sum;
  return Math.max(tau, 1 / Math.log10(Math.max(n, 10)));
}

/**
 * Effective sample size of one chain, `n/τ`, with `τ` from Geyer's (1992) initial monotone sequence on the
 * empirical autocorrelations (computed directly, lag by lag, stopping at the first non-positive pair: O(n·τ)).
 * For an AR(1) chain with coefficient ρ the true value is `n(1 − ρ)/(1 + ρ)`.
 * A constant chain throws: its variance is zero and ESS is undefined.
 * @param chain draws in order, length ≥ 4.
 * @example ess(Float64Array.from(draws))
 */
export function ess(chain: ArrayLike<number>): number {
  checkChain(chain, 'ess');
  const n = chain.length;
  const m = meanOf(chain);
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = chain[i] - m;
  const c0 = autocov(c, 0);
  if (!(c0 > 0)) throw new ZeroVarianceError('ess: the chain is constant (zero variance), ESS is undefined');
  return n / tauFromRho((t) => autocov(c, t) / c0, n, n);
}

function checkChains(chains: readonly ArrayLike<number>[], fn: string, minLen = 4): number {
  if (!chains.length) throw new InvalidArgumentError(`${fn}: no chains`);
  const n = chains[0].length;
  chains.forEach((c, j) => {
    if (c.length !== n) throw new ShapeError(`${fn}: chain ${j} has ${c.length} draws, chain 0 has ${n}`);
    checkChain(c, `${fn} (chain ${j})`, minLen);
  });
  return n;
}

/**
 * Effective sample size of several chains of equal length (Stan's estimator, Vehtari et al. 2021 without
 * rank-normalisation): `ρₜ = 1 − (W − mean_j γ_{j,t}) / var⁺` with within-chain variance `W`, `var⁺ = (n−1)/n·W + B/n`,
 * then Geyer's initial monotone sequence, `ESS = m·n/τ`. Between-chain disagreement (chains stuck in different
 * modes) lowers it.
 * @param chains `m` chains of `n` draws each.
 */
export function essMultiChain(chains: readonly ArrayLike<number>[]): number {
  const n = checkChains(chains, 'essMultiChain');
  const m = chains.length;
  const centred = chains.map((c) => {
    const mu = meanOf(c);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = c[i] - mu;
    return out;
  });
  const means = chains.map(meanOf);
  const grand = meanOf(means);
  let B = 0;
  for (const mu of means) B += (mu - grand) ** 2;
  B = m > 1 ? (B * n) / (m - 1) : 0;
  // W with the unbiased within-chain variance; γ_{j,t} biased autocovariances (as in Stan).
  let W = 0;
  for (const c of centred) W += (autocov(c, 0) * n) / (n - 1);
  W /= m;
  const varPlus = ((n - 1) / n) * W + B / n;
  if (!(varPlus > 0)) throw new ZeroVarianceError('essMultiChain: all chains are constant (zero variance), ESS is undefined');
  const rho = (t: number): number => {
    let g = 0;
    for (const c of centred) g += autocov(c, t);
    return 1 - (W - g / m) / varPlus;
  };
  return (m * n) / tauFromRho(rho, n, m * n);
}

/**
 * Split-R̂ (Gelman et al. 2013): each chain is halved, then `R̂ = √(var⁺/W)` over the `2m` halves. Values above
 * ~1.01 indicate the chains have not mixed (e.g. stuck in different modes).
 * @param chains `m ≥ 1` chains of equal length `n ≥ 4`.
 */
export function splitRhat(chains: readonly ArrayLike<number>[]): number {
  const n = checkChains(chains, 'splitRhat');
  const h = Math.floor(n / 2);
  const halves: ArrayLike<number>[] = [];
  for (const c of chains) {
    halves.push(Array.prototype.slice.call(c, 0, h) as number[]);
    halves.push(Array.prototype.slice.call(c, n - h) as number[]);
  }
  const means = halves.map(meanOf);
  const grand = meanOf(means);
  let B = 0;
  for (const mu of means) B += (mu - grand) ** 2;
  B = (B * h) / (halves.length - 1);
  let W = 0;
  halves.forEach((c, j) => {
    let s = 0;
    for (let i = 0; i < h; i++) s += (c[i] - means[j]) ** 2;
    W += s / (h - 1);
  });
  W /= halves.length;
  if (!(W > 0)) throw new ZeroVarianceError('splitRhat: chains have zero within-chain variance, R̂ is undefined');
  const varPlus = ((h - 1) / h) * W + B / h;
  return Math.sqrt(varPlus / W);
}

/** Summary of a scalar quantity over several chains. */
export interface McseSummary {
  readonly mean: number;
  /** Sample standard deviation over all draws. */
  readonly sd: number;
  readonly ess: number;
  /** Monte Carlo standard error of the mean, `sd/√ESS`. */
  readonly mcse: number;
}

/**
 * Monte Carlo standard error of the mean of a quantity over chains: `sd/√ESS` with {@link essMultiChain}.
 * A sampler test asserts `|mean − truth| < z·mcse`; with z = 4 a correct sampler fails with probability ≈ 6·10⁻⁵ per check.
 */
export function mcse(chains: readonly ArrayLike<number>[]): McseSummary {
  const e = essMultiChain(chains);
  let s = 0;
  let cnt = 0;
  for (const c of chains) for (let i = 0; i < c.length; i++, cnt++) s += c[i];
  const mean = s / cnt;
  let v = 0;
  for (const c of chains) for (let i = 0; i < c.length; i++) v += (c[i] - mean) ** 2;
  const sd = Math.sqrt(v / (cnt - 1));
  return { mean, sd, ess: e, mcse: sd / Math.sqrt(e) };
}

/**
 * Per-chain series of a scalar function of each recorded sample. `samples [kept, chains, ...dim]` (as returned by
 * `sample`) → `chains` arrays of length `kept`. `f` receives the flat row of one sample.
 * @example chainsOf(res.samples, (x) => x[0]) // first coordinate
 */
export function chainsOf(samples: Tensor, f: (row: ArrayLike<number>) => number): Float64Array[] {
  if (samples.ndim < 2) throw new ShapeError(`chainsOf: samples must be [kept, chains, ...], got [${samples.shape}]`);
  const [kept, m] = samples.shape;
  const D = kept * m ? samples.size / (kept * m) : 0;
  const out = Array.from({ length: m }, () => new Float64Array(kept));
  for (let t = 0; t < kept; t++) {
    for (let j = 0; j < m; j++) {
      const off = (t * m + j) * D;
      out[j][t] = f(samples.data.subarray(off, off + D));
    }
  }
  return out;
}

/** Mean acceptance rate over steps and chains from infos carrying `acceptanceProb` (MALA, HMC, PT). */
export function acceptanceRate(infos: readonly { readonly acceptanceProb: Float64Array }[]): number {
  if (!infos.length) throw new InvalidArgumentError('acceptanceRate: no infos');
  let s = 0;
  let c = 0;
  for (const inf of infos) for (let i = 0; i < inf.acceptanceProb.length; i++, c++) s += inf.acceptanceProb[i];
  return s / c;
}

/** Mean energy per step across chains from an energy trace (`SampleResult.energyTrace`): a burn-in / stability trace. */
export function meanEnergyTrace(trace: readonly Float64Array[]): Float64Array {
  return Float64Array.from(trace, (e) => meanOf(e));
}

/** Summary statistics of MCMC output `samples [kept, chains, d]`. */
export interface ChainSummary {
  /** Sample mean per dimension over all recorded draws. */
  mean: number[];
  /** Sample covariance `d × d` (divisor `N − 1`). */
  cov: number[][];
  /** Multi-chain effective sample size per dimension (null where a coordinate is constant). */
  ess: (number | null)[];
  /** Split-R̂ per dimension (null where undefined). */
  rhat: (number | null)[];
  /** Monte Carlo standard error of each mean, `sd_j / √ESS_j`. */
  mcse: (number | null)[];
}

/**
 * Mean, covariance, ESS (Stan's multi-chain estimator), split-R̂ and MCSE per dimension of `samples [kept, chains, d]`.
 * Undefined diagnostics (constant coordinates) are `null`, never NaN. (What `ebm sample --energy` reports.)
 * @example const { mean, ess, mcse } = summarizeChains(sample(alg, { key, init, steps: 2000, burnIn: 500 }).samples);
 */
export function summarizeChains(samples: Tensor): ChainSummary {
  const [kept, C, d] = samples.shape;
  const N = kept * C;
  const a = samples.data;
  const mean = new Array<number>(d).fill(0);
  for (let r = 0; r < N; r++) for (let j = 0; j < d; j++) mean[j] += a[r * d + j] / N;
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let r = 0; r < N; r++) {
    for (let i = 0; i < d; i++) {
      const di = a[r * d + i] - mean[i];
      for (let j = i; j < d; j++) cov[i][j] += di * (a[r * d + j] - mean[j]);
    }
  }
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cov[j][i] = cov[i][j] = cov[i][j] / Math.max(1, N - 1);
  const ess: (number | null)[] = [], rhat: (number | null)[] = [], mcse: (number | null)[] = [];
  for (let j = 0; j < d; j++) {
    const ch = chainsOf(samples, (row) => row[j]);
    // null only where the diagnostic is undefined because the coordinate never moved (zero variance); any other
    // error propagates.
    const safe = (f: () => number): number | null => {
      try {
        return f();
      } catch (err) {
        if (err instanceof ZeroVarianceError) return null;
        throw err;
      }
    };
    const e = safe(() => essMultiChain(ch));
    ess.push(e);
    rhat.push(safe(() => splitRhat(ch)));
    mcse.push(e !== null && e > 0 ? Math.sqrt(cov[j][j] / e) : null);
  }
  return { mean, cov, ess, rhat, mcse };
}
