/**
 * Toy data sets with exactly evaluable densities: 2-D continuous sets (for density-estimation and sampler tests,
 * where a model's test NLL is compared with the true density's NLL, i.e. the differential entropy) and the binary
 * bars-and-stripes set (for RBMs, with an exactly enumerable distribution).
 *
 * Every continuous set is defined by its density; `sample` draws exactly from it and `logDensity` evaluates it:
 * in closed form (mixtures, checkerboard, rings, pinwheel) or as a Gaussian-smoothed curve
 * `p(x) = Σ_a w_a ∫ q_a(t) N(x; c_a(t), σ² I) dt` (moons, swissroll, spirals) by composite 8-point Gauss–Legendre
 * quadrature on panels of arc length ≤ σ: log p is accurate to ~1e-11 (absolute) near the data and to ~1e-8
 * relative for points hundreds of σ away (panels farther than √(d²_min + 80σ²) are skipped: they contribute below
 * e⁻⁴⁰ of the total).
 *
 * @example
 * const ds = getToy('moons');
 * const x = ds.sample(key(0), 1000);                 // Tensor [1000, 2] float32
 * const nll = -mean(ds.logDensity!(x));              // ≈ differential entropy of the data distribution
 * @module
 */
import { allocate, Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/tensor.js';
import { noGrad } from '../tensor/autodiff.js';
import { gaussianMixture as mixtureEnergy } from '../energy/gmm.js';
import { foldIn, normalArray, randintArray, split, uniformArray } from '../random/index.js';
import type { Key } from '../random/index.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

/** A toy data set: a sampler and, when known, its exact log density (or log probability for binary data). */
export interface ToyDataset {
  /** Registry name, e.g. `'moons'` or `'bars-and-stripes:4'`. */
  readonly name: string;
  /** Human-readable definition (the maths, including scales and noise levels). */
  readonly description: string;
  /** Dimension of one sample (2 for the continuous sets, D² for bars-and-stripes). */
  readonly dim: number;
  /** `'continuous'` (density w.r.t. Lebesgue measure on ℝ²) or `'binary'` (probability mass on {0,1}^dim). */
  readonly kind: 'continuous' | 'binary';
  /**
   * For continuous sets, a box `[xmin, xmax, ymin, ymax]` holding all but < 1e-6 of the mass (for plots and grid
   * integrals); `null` for binary sets.
   */
  readonly bounds: readonly [number, number, number, number] | null;
  /**
   * Draws `n` i.i.d. samples.
   * @param k the random key. @param n number of samples. @param dtype `float32` (default) or `float64`.
   * @returns a tensor `[n, dim]`.
   */
  sample(k: Key, n: number, dtype?: DType): Tensor;
  /**
   * The exact log density (continuous) or log probability (binary) of each row of `x`, a tensor `[n, dim]` or a
   * flat row-major `Float64Array` of length `n·dim`; `null` when no exact form is provided. Rows outside the support
   * give `−∞`; NaN input throws.
   */
  readonly logDensity: ((x: Float64Array | Tensor) => Float64Array) | null;
}

/** The bars-and-stripes data set on a `D×D` grid, with its enumerated patterns. */
export interface BarsAndStripes extends ToyDataset {
  /** Side of the grid. */
  readonly D: number;
  /** All `2·2^D − 2` distinct patterns, one per row, flattened row-major: a float32 tensor `[2·2^D − 2, D²]`. */
  readonly patterns: Tensor;
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

const LOG_2PI = Math.log(2 * Math.PI);

function checkN(n: unknown, fn: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${fn}: n must be a non-negative integer, got ${String(n)}`);
  return n;
}

function checkDType(dtype: unknown, fn: string): DType {
  if (dtype !== 'float32' && dtype !== 'float64') throw new InvalidTypeError(`${fn}: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  return dtype;
}

/** Validates the input of a logDensity and returns its flat data and row count. */
function rowsOf(x: Float64Array | Tensor, dim: number, fn: string): { d: ArrayLike<number>; n: number } {
  let d: ArrayLike<number>;
  if (x instanceof Tensor) {
    if (x.ndim !== 2 || x.shape[1] !== dim) throw new InvalidArgumentError(`${fn}: expected a tensor of shape [n, ${dim}], got [${x.shape.join(', ')}]`);
    d = x.data;
  } else if (x instanceof Float64Array) {
    if (x.length % dim !== 0) throw new InvalidArgumentError(`${fn}: a flat Float64Array must hold n rows of ${dim} values, got length ${x.length}`);
    d = x;
  } else {
    throw new InvalidTypeError(`${fn}: expected a Tensor [n, ${dim}] or a Float64Array`);
  }
  const n = d.length / dim;
  for (let i = 0; i < d.length; i++) {
    if (Number.isNaN(d[i])) throw new InvalidArgumentError(`${fn}: row ${Math.floor(i / dim)}, column ${i % dim} is NaN`);
  }
  return { d, n };
}

function toTensor(data: Float64Array, n: number, dim: number, dtype: DType): Tensor {
  if (dtype === 'float64') return new Tensor(data, [n, dim]);
  const out = allocate(dtype, data.length);
  out.set(data);
  return new Tensor(out, [n, dim]);
}

/** Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1] (Newton iteration on P_n). */
function gaussLegendre(n: number): { x: Float64Array; w: Float64Array } {
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1, p1 = z;
      for (let j = 2; j <= n; j++) {
        const p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x[i] = z;
    w[i] = 2 / ((1 - z * z) * dp * dp);
  }
  return { x, w };
}
const GL8 = gaussLegendre(8);

/** Draws mixture component indices with the given weights (inverse CDF on 53-bit uniforms). */
function drawComponents(k: Key, weights: readonly number[], n: number): Int32Array {
  const K = weights.length;
  const out = new Int32Array(n);
  if (weights.every((w) => w === weights[0])) return randintArray(k, 0, K, n);
  const u = uniformArray(k, n, 'float64');
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w));
  for (let i = 0; i < n; i++) {
    let c = 0;
    while (c < K - 1 && u[i] * acc >= cdf[c]) c++;
    out[i] = c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Gaussian mixtures

/** Options of {@link gaussianMixture}. */
export interface GaussianMixtureSpec {
  name: string;
  description: string;
  /** Component means `[x, y]`. */
  means: readonly (readonly [number, number])[];
  /** Mixture weights (normalised internally). */
  weights: readonly number[];
  /** Isotropic standard deviation of every component. */
  sigma: number;
}

/**
 * A 2-D isotropic Gaussian mixture `p(x) = Σ_k w_k N(x; μ_k, σ² I)`, with
 * `log p = logsumexp_k(log w_k − |x − μ_k|² / 2σ²) − log(2πσ²)`. Sampling and density are those of the mixture
 * energy `gaussianMixture` of src/energy (`log p = −E − log Z`), the library's one Gaussian-mixture implementation.
 * @example gaussianMixture({ name: 'two', description: '', means: [[-1, 0], [1, 0]], weights: [1, 1], sigma: 0.3 }).sample(key(0), 100)
 */
export function gaussianMixture(spec: GaussianMixtureSpec): ToyDataset {
  const K = spec.means.length;
  const sigma = spec.sigma;
  if (!(sigma > 0) || K === 0 || spec.weights.length !== K) throw new InvalidArgumentError(`gaussianMixture(${spec.name}): need σ > 0 and one weight per mean`);
  const mixture = mixtureEnergy({ means: spec.means, std: sigma, weights: spec.weights });
  const logZ = mixture.logZ();
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const [mx, my] of spec.means) {
    xmin = Math.min(xmin, mx); xmax = Math.max(xmax, mx);
    ymin = Math.min(ymin, my); ymax = Math.max(ymax, my);
  }
  const pad = 6 * sigma;
  const fn = `${spec.name}.logDensity`;
  return {
    name: spec.name,
    description: spec.description,
    dim: 2,
    kind: 'continuous',
    bounds: [xmin - pad, xmax + pad, ymin - pad, ymax + pad],
    sample(k: Key, n: number, dtype: DType = 'float32'): Tensor {
      checkN(n, `${spec.name}.sample`);
      checkDType(dtype, `${spec.name}.sample`);
      return mixture.sample!(k, n, dtype);
    },
    logDensity(x: Float64Array | Tensor): Float64Array {
      const { d, n } = rowsOf(x, 2, fn);
      // Rows with an infinite coordinate have density 0; the energy is evaluated on the finite rows only.
      const flat = Float64Array.from(d);
      const far = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(flat[2 * i]) || !Number.isFinite(flat[2 * i + 1])) {
          far[i] = 1;
          flat[2 * i] = flat[2 * i + 1] = 0;
        }
      }
      const e = noGrad(() => mixture.energy(new Tensor(flat, [n, 2]))).data;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = far[i] ? -Infinity : -e[i] - logZ;
      return out;
    },
  };
}

/**
 * `8gaussians`: equal-weight mixture of 8 isotropic Gaussians with std `sigma` (default 0.2) centred on the circle
 * of radius `radius` (default 2) at angles `kπ/4`, k = 0…7.
 */
export function eightGaussians(opts: { radius?: number; sigma?: number } = {}): ToyDataset {
  const R = opts.radius ?? 2;
  const s = opts.sigma ?? 0.2;
  const means = Array.from({ length: 8 }, (_, k) => [R * Math.cos((k * Math.PI) / 4), R * Math.sin((k * Math.PI) / 4)] as const);
  return gaussianMixture({
    name: '8gaussians',
    description: `Equal-weight mixture of 8 N(μ_k, ${s}²I), μ_k = ${R}·(cos kπ/4, sin kπ/4), k = 0…7.`,
    means,
    weights: new Array(8).fill(1),
    sigma: s,
  });
}

/**
 * `gmm-0.8-0.2`: the two-mode toy of Song & Ermon (NCSN, 2019): `0.8·N((5, 5), I) + 0.2·N((−5, −5), I)`.
 */
export function gmm08(): ToyDataset {
  return gaussianMixture({
    name: 'gmm-0.8-0.2',
    description: 'Mixture 0.8·N((5, 5), I) + 0.2·N((−5, −5), I) (the NCSN toy, Song & Ermon 2019).',
    means: [[5, 5], [-5, -5]],
    weights: [0.8, 0.2],
    sigma: 1,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// rings

/**
 * `rings`: concentric rings. With probability `w_k` the radius is `ρ ~ N(r_k, s²)` truncated to `ρ > 0`, and the
 * angle is uniform, so `p(x) = Σ_k w_k · N(‖x‖; r_k, s²) / Φ(r_k/s) / (2π‖x‖)` exactly. Defaults: radii
 * 0.75, 1.5, 2.25, 3 with equal weights, `s = 0.08`; `r_k/s > 8.3` is required so that `Φ(r_k/s) = 1` to double
 * precision (the truncation is then exact but invisible in the formula).
 */
export function rings(opts: { radii?: readonly number[]; weights?: readonly number[]; sigma?: number } = {}): ToyDataset {
  const radii = opts.radii ?? [0.75, 1.5, 2.25, 3];
  const weights = opts.weights ?? radii.map(() => 1);
  const s = opts.sigma ?? 0.08;
  if (weights.length !== radii.length) throw new InvalidArgumentError('rings: need one weight per radius');
  for (const r of radii) if (!(r / s > 8.3)) throw new InvalidArgumentError(`rings: radius ${r} must exceed 8.3·σ = ${8.3 * s} (truncation at 0 must be negligible)`);
  const wsum = weights.reduce((a, b) => a + b, 0);
  const logw = weights.map((w) => Math.log(w / wsum));
  const rmax = Math.max(...radii) + 6 * s;
  return {
    name: 'rings',
    description: `Concentric rings: radius ~ N(r_k, ${s}²) truncated to > 0, angle uniform; r = [${radii.join(', ')}], weights ∝ [${weights.join(', ')}].`,
    dim: 2,
    kind: 'continuous',
    bounds: [-rmax, rmax, -rmax, rmax],
    sample(k: Key, n: number, dtype: DType = 'float32'): Tensor {
      checkN(n, 'rings.sample');
      checkDType(dtype, 'rings.sample');
      const [kc, kr, ka, kx] = split(k, 4);
      const comp = drawComponents(kc, weights, n);
      const z = normalArray(kr, n, 'float64');
      const u = uniformArray(ka, n, 'float64');
      const out = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        let rho = radii[comp[i]] + s * z[i];
        // exact truncation by rejection (probability < 1e-16 per draw)
        for (let t = 0; rho <= 0; t++) rho = radii[comp[i]] + s * normalArray(foldIn(kx, i * 64 + t), 1, 'float64')[0];
        const th = 2 * Math.PI * u[i];
        out[2 * i] = rho * Math.cos(th);
        out[2 * i + 1] = rho * Math.sin(th);
      }
      return toTensor(out, n, 2, dtype);
    },
    logDensity(x: Float64Array | Tensor): Float64Array {
      const { d, n } = rowsOf(x, 2, 'rings.logDensity');
      const out = new Float64Array(n);
      const norm = 0.5 * LOG_2PI + Math.log(s) + LOG_2PI;
      for (let i = 0; i < n; i++) {
        const rho = Math.hypot(d[2 * i], d[2 * i + 1]);
        if (!Number.isFinite(rho)) {
          out[i] = -Infinity;
          continue;
        }
        let mx = -Infinity;
        const e = radii.map((r, c) => {
          const v = logw[c] - ((rho - r) * (rho - r)) / (2 * s * s);
          if (v > mx) mx = v;
          return v;
        });
        let acc = 0;
        for (const v of e) acc += Math.exp(v - mx);
        out[i] = mx + Math.log(acc) - norm - Math.log(rho); // +∞ exactly at the origin (integrable singularity)
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Gaussian-smoothed curves (moons, swissroll, spirals)

/** One arm of a {@link curveMixture}: a parametric curve with a density on its parameter. */
export interface CurveArm {
  /** Mixture weight (normalised over arms). */
  weight: number;
  /** Parameter interval `[t0, t1]`. */
  t0: number;
  t1: number;
  /** The curve point `c(t)`. */
  point(t: number): [number, number];
  /** `|c'(t)|`, which must be monotone or constant on `[t0, t1]` (used to bound the arc length of a panel). */
  speed(t: number): number;
  /** The density `q(t)` of the parameter on `[t0, t1]` (integrating to 1). */
  q(t: number): number;
  /** Inverse CDF of `q`: maps `u ∈ [0, 1)` to `t`. */
  quantile(u: number): number;
}

/** Options of {@link curveMixture}. */
export interface CurveMixtureSpec {
  name: string;
  description: string;
  arms: readonly CurveArm[];
  /** Isotropic noise std σ. */
  sigma: number;
  /** Bounding box `[xmin, xmax, ymin, ymax]` of the curves (σ-padding is added). */
  curveBox: readonly [number, number, number, number];
  /** Quadrature refinement: panel arc length is `σ / refine` (default 1). */
  refine?: number;
}

/**
 * A density `p(x) = Σ_a w_a ∫ q_a(t) N(x; c_a(t), σ² I) dt`: pick an arm, a parameter `t ~ q_a`, and add isotropic
 * Gaussian noise. `logDensity` integrates over `t` by composite 8-point Gauss–Legendre on panels of arc length
 * ≤ σ/refine, with a running log-sum-exp (finite for far-away points) and panel screening.
 */
export function curveMixture(spec: CurveMixtureSpec): ToyDataset {
  const { arms, sigma } = spec;
  const refine = spec.refine ?? 1;
  const wsum = arms.reduce((a, b) => a + b.weight, 0);
  // Panels of all arms, flattened: mid point, half-length bound, and 8 nodes (x, y, log weight).
  const midX: number[] = [], midY: number[] = [], half: number[] = [];
  const nodeX: number[] = [], nodeY: number[] = [], nodeLogW: number[] = [];
  for (const arm of arms) {
    const fine = 4096;
    let arc = 0;
    for (let j = 0; j < fine; j++) arc += arm.speed(arm.t0 + ((j + 0.5) * (arm.t1 - arm.t0)) / fine) * ((arm.t1 - arm.t0) / fine);
    const P = Math.max(4, Math.ceil((arc * refine) / sigma));
    const dt = (arm.t1 - arm.t0) / P;
    for (let p = 0; p < P; p++) {
      const a = arm.t0 + p * dt;
      const m = a + dt / 2;
      const [cx, cy] = arm.point(m);
      midX.push(cx);
      midY.push(cy);
      half.push(1.0001 * Math.max(arm.speed(a), arm.speed(a + dt), arm.speed(m)) * (dt / 2));
      for (let g = 0; g < 8; g++) {
        const t = m + (dt / 2) * GL8.x[g];
        const [px, py] = arm.point(t);
        nodeX.push(px);
        nodeY.push(py);
        nodeLogW.push(Math.log((arm.weight / wsum) * arm.q(t) * (dt / 2) * GL8.w[g]));
      }
    }
  }
  const P = midX.length;
  const inv2s2 = 1 / (2 * sigma * sigma);
  const cut = 80 * sigma * sigma;
  const norm = Math.log(2 * Math.PI * sigma * sigma);
  const pad = 6 * sigma;
  const [bx0, bx1, by0, by1] = spec.curveBox;
  const name = spec.name;
  const lb2 = new Float64Array(P);
  return {
    name,
    description: spec.description,
    dim: 2,
    kind: 'continuous',
    bounds: [bx0 - pad, bx1 + pad, by0 - pad, by1 + pad],
    sample(k: Key, n: number, dtype: DType = 'float32'): Tensor {
      checkN(n, `${name}.sample`);
      checkDType(dtype, `${name}.sample`);
      const [kc, kt, kz] = split(k, 3);
      const comp = drawComponents(kc, arms.map((a) => a.weight), n);
      const u = uniformArray(kt, n, 'float64');
      const z = normalArray(kz, 2 * n, 'float64');
      for (let i = 0; i < n; i++) {
        const [cx, cy] = arms[comp[i]].point(arms[comp[i]].quantile(u[i]));
        z[2 * i] = cx + sigma * z[2 * i];
        z[2 * i + 1] = cy + sigma * z[2 * i + 1];
      }
      return toTensor(z, n, 2, dtype);
    },
    logDensity(x: Float64Array | Tensor): Float64Array {
      const { d, n } = rowsOf(x, 2, `${name}.logDensity`);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const px = d[2 * i], py = d[2 * i + 1];
        if (!Number.isFinite(px) || !Number.isFinite(py)) {
          out[i] = -Infinity;
          continue;
        }
        // Upper bound on the squared distance to the curves (panel mid points lie on them) and per-panel lower bounds.
        let up2 = Infinity;
        for (let p = 0; p < P; p++) {
          const dx = px - midX[p], dy = py - midY[p];
          const dm = Math.sqrt(dx * dx + dy * dy);
          if (dm * dm < up2) up2 = dm * dm;
          const lb = Math.max(0, dm - half[p]);
          lb2[p] = lb * lb;
        }
        const thr = up2 + cut;
        // Running log-sum-exp of log w − d²/2σ² over the nodes of the retained panels.
        let mx = -Infinity;
        let acc = 0;
        for (let p = 0; p < P; p++) {
          if (lb2[p] > thr) continue;
          for (let g = 8 * p; g < 8 * p + 8; g++) {
            const dx = px - nodeX[g], dy = py - nodeY[g];
            const e = nodeLogW[g] - (dx * dx + dy * dy) * inv2s2;
            if (e <= mx) acc += Math.exp(e - mx);
            else {
              acc = acc * Math.exp(mx - e) + 1;
              mx = e;
            }
          }
        }
        out[i] = mx + Math.log(acc) - norm;
      }
      return out;
    },
  };
}

/**
 * `moons`: two interleaved half circles (the scikit-learn "moons", centred and scaled ×2) with noise `σ`
 * (default 0.2): upper arc `(−1, −½) + 2(cos t, sin t)`, lower arc `(1, ½) − 2(cos t, sin t)`, `t ~ U[0, π]`,
 * equal weights.
 */
export function moons(opts: { sigma?: number; refine?: number } = {}): ToyDataset {
  const s = opts.sigma ?? 0.2;
  const arm = (ox: number, oy: number, sign: number): CurveArm => ({
    weight: 1,
    t0: 0,
    t1: Math.PI,
    point: (t) => [ox + sign * 2 * Math.cos(t), oy + sign * 2 * Math.sin(t)],
    speed: () => 2,
    q: () => 1 / Math.PI,
    quantile: (u) => Math.PI * u,
  });
  return curveMixture({
    name: 'moons',
    description: `Two moons: equal mixture over arcs (−1,−0.5)+2(cos t, sin t) and (1,0.5)−2(cos t, sin t), t ~ U[0,π], plus N(0, ${s}²I) noise.`,
    arms: [arm(-1, -0.5, 1), arm(1, 0.5, -1)],
    sigma: s,
    curveBox: [-3, 3, -1.5, 1.5],
    refine: opts.refine,
  });
}

/**
 * `swissroll`: the 2-D swiss roll `c(t) = t(cos t, sin t)/5`, `t ~ U[1.5π, 4.5π]`, plus `N(0, σ²I)` noise with
 * `σ = 0.2` (scikit-learn's `make_swiss_roll(noise=1)` columns (x, z) divided by 5, as in FFJORD).
 */
export function swissRoll(opts: { sigma?: number; refine?: number } = {}): ToyDataset {
  const s = opts.sigma ?? 0.2;
  const t0 = 1.5 * Math.PI, t1 = 4.5 * Math.PI;
  const R = t1 / 5;
  return curveMixture({
    name: 'swissroll',
    description: `Swiss roll: t(cos t, sin t)/5 with t ~ U[1.5π, 4.5π], plus N(0, ${s}²I) noise.`,
    arms: [{
      weight: 1,
      t0,
      t1,
      point: (t) => [(t * Math.cos(t)) / 5, (t * Math.sin(t)) / 5],
      speed: (t) => Math.sqrt(1 + t * t) / 5,
      q: () => 1 / (t1 - t0),
      quantile: (u) => t0 + (t1 - t0) * u,
    }],
    sigma: s,
    curveBox: [-R, R, -R, R],
    refine: opts.refine,
  });
}

/**
 * `spirals`: two interleaved spirals `±(−t cos t, t sin t)/3`, `t ∈ [0, 3π]` with density `q(t) = 2t/(3π)²`
 * (`t = 3π√u`, as in FFJORD's "2spirals"), equal weights, plus `N(0, σ²I)` noise with `σ = 0.1` (FFJORD adds an
 * extra uniform jitter, which is left out here so that the density stays exact).
 */
export function spirals(opts: { sigma?: number; refine?: number } = {}): ToyDataset {
  const s = opts.sigma ?? 0.1;
  const T = 3 * Math.PI;
  const arm = (sign: number): CurveArm => ({
    weight: 1,
    t0: 0,
    t1: T,
    point: (t) => [(sign * -t * Math.cos(t)) / 3, (sign * t * Math.sin(t)) / 3],
    speed: (t) => Math.sqrt(1 + t * t) / 3,
    q: (t) => (2 * t) / (T * T),
    quantile: (u) => T * Math.sqrt(u),
  });
  const R = T / 3;
  return curveMixture({
    name: 'spirals',
    description: `Two spirals ±(−t cos t, t sin t)/3, t = 3π√u, u ~ U[0,1), plus N(0, ${s}²I) noise.`,
    arms: [arm(1), arm(-1)],
    sigma: s,
    curveBox: [-R, R, -R, R],
    refine: opts.refine,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// checkerboard

/**
 * `checkerboard`: uniform on the 8 "black" cells of a 4×4 board of 2×2 cells covering `[−4, 4)²`; cell
 * `(i, j) = (⌊(x+4)/2⌋, ⌊(y+4)/2⌋)` is black when `i + j` is even (the FFJORD layout). Density `1/32` on black
 * cells, 0 elsewhere; entropy `log 32`.
 */
export function checkerboard(): ToyDataset {
  const cells: [number, number][] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) if ((i + j) % 2 === 0) cells.push([i, j]);
  const logp = -Math.log(32);
  return {
    name: 'checkerboard',
    description: 'Uniform on the 8 cells (i+j even) of a 4×4 board of 2×2 cells on [−4,4)²; density 1/32 there.',
    dim: 2,
    kind: 'continuous',
    bounds: [-4, 4, -4, 4],
    sample(k: Key, n: number, dtype: DType = 'float32'): Tensor {
      checkN(n, 'checkerboard.sample');
      checkDType(dtype, 'checkerboard.sample');
      const [kc, ku] = split(k, 2);
      const c = randintArray(kc, 0, 8, n);
      const u = uniformArray(ku, 2 * n, 'float64');
      const out = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        out[2 * i] = -4 + 2 * cells[c[i]][0] + 2 * u[2 * i];
        out[2 * i + 1] = -4 + 2 * cells[c[i]][1] + 2 * u[2 * i + 1];
      }
      return toTensor(out, n, 2, dtype);
    },
    logDensity(x: Float64Array | Tensor): Float64Array {
      const { d, n } = rowsOf(x, 2, 'checkerboard.logDensity');
      const out = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const px = d[2 * r], py = d[2 * r + 1];
        const inside = px >= -4 && px < 4 && py >= -4 && py < 4;
        const i = Math.floor((px + 4) / 2), j = Math.floor((py + 4) / 2);
        out[r] = inside && (i + j) % 2 === 0 ? logp : -Infinity;
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// pinwheel

/**
 * `pinwheel`: `K` (default 5) curled arms. In polar coordinates: `log ρ ~ N(log r₀, s_r²)` (default r₀ = 2,
 * s_r = 0.2), arm `k ~ U{0…K−1}`, angle `φ ~ WrappedNormal(2πk/K + c·ρ, s_φ²)` (default curl c = 0.6 rad per unit
 * radius, s_φ = 0.1 rad). Exact density:
 * `p(x) = N(log ρ; log r₀, s_r²) / ρ² · (1/K) Σ_k Σ_{j=−1..1} N(φ − μ_k(ρ) + 2πj; 0, s_φ²)`
 * (wrap terms |j| ≥ 2 are below e⁻¹⁷⁰ for s_φ ≤ 0.5). A smooth, exactly evaluable stand-in for FFJORD's pinwheel.
 */
export function pinwheel(opts: { arms?: number; r0?: number; sRadial?: number; curl?: number; sAngle?: number } = {}): ToyDataset {
  const K = opts.arms ?? 5;
  const r0 = opts.r0 ?? 2;
  const sr = opts.sRadial ?? 0.2;
  const curl = opts.curl ?? 0.6;
  const sa = opts.sAngle ?? 0.1;
  if (!(sa > 0 && sa <= 0.5)) throw new InvalidArgumentError(`pinwheel: sAngle must be in (0, 0.5], got ${sa}`);
  const m = Math.log(r0);
  const rmax = Math.exp(m + 6 * sr);
  const TWO_PI = 2 * Math.PI;
  return {
    name: 'pinwheel',
    description: `Pinwheel: log ρ ~ N(log ${r0}, ${sr}²), ${K} arms, angle ~ WrappedNormal(2πk/${K} + ${curl}ρ, ${sa}²).`,
    dim: 2,
    kind: 'continuous',
    bounds: [-rmax, rmax, -rmax, rmax],
    sample(k: Key, n: number, dtype: DType = 'float32'): Tensor {
      checkN(n, 'pinwheel.sample');
      checkDType(dtype, 'pinwheel.sample');
      const [kc, kz] = split(k, 2);
      const c = randintArray(kc, 0, K, n);
      const z = normalArray(kz, 2 * n, 'float64');
      const out = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        const rho = Math.exp(m + sr * z[2 * i]);
        const phi = (TWO_PI * c[i]) / K + curl * rho + sa * z[2 * i + 1];
        out[2 * i] = rho * Math.cos(phi);
        out[2 * i + 1] = rho * Math.sin(phi);
      }
      return toTensor(out, n, 2, dtype);
    },
    logDensity(x: Float64Array | Tensor): Float64Array {
      const { d, n } = rowsOf(x, 2, 'pinwheel.logDensity');
      const out = new Float64Array(n);
      const normR = 0.5 * LOG_2PI + Math.log(sr);
      const normA = 0.5 * LOG_2PI + Math.log(sa) + Math.log(K);
      const e = new Float64Array(3 * K);
      for (let i = 0; i < n; i++) {
        const px = d[2 * i], py = d[2 * i + 1];
        const rho = Math.hypot(px, py);
        if (!Number.isFinite(rho) || rho === 0) {
          out[i] = -Infinity; // the density tends to 0 at the origin (log-normal radius)
          continue;
        }
        const lr = Math.log(rho);
        const logRad = -((lr - m) * (lr - m)) / (2 * sr * sr) - normR - 2 * lr;
        const phi = Math.atan2(py, px);
        let mx = -Infinity;
        for (let c = 0; c < K; c++) {
          let dlt = phi - ((TWO_PI * c) / K + curl * rho);
          dlt -= TWO_PI * Math.round(dlt / TWO_PI); // into [−π, π]
          for (let j = -1; j <= 1; j++) {
            const a = dlt + TWO_PI * j;
            const v = -(a * a) / (2 * sa * sa);
            e[3 * c + j + 1] = v;
            if (v > mx) mx = v;
          }
        }
        let acc = 0;
        for (let q = 0; q < 3 * K; q++) acc += Math.exp(e[q] - mx);
        out[i] = logRad + mx + Math.log(acc) - normA;
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// bars and stripes

/**
 * `bars-and-stripes:D`: the uniform distribution over the `2·2^D − 2` distinct `D×D` binary images whose rows are
 * all constant ("stripes", 2^D patterns) or whose columns are all constant ("bars", 2^D patterns); the all-0 and
 * all-1 images belong to both and are counted once. Images are flattened row-major (pixel `(r, c)` at `r·D + c`).
 * `logDensity` is the log probability `−log(2·2^D − 2)` for a valid pattern (entries exactly 0/1) and `−∞` otherwise.
 * @param D grid side, 1 ≤ D ≤ 12.
 */
export function barsAndStripes(D: number): BarsAndStripes {
  if (!Number.isInteger(D) || D < 1 || D > 12) throw new InvalidArgumentError(`barsAndStripes: D must be an integer in [1, 12], got ${D}`);
  const M = 2 * 2 ** D - 2;
  const dim = D * D;
  const pats = new Float32Array(M * dim);
  let row = 0;
  for (let mask = 0; mask < 2 ** D; mask++) {
    // stripes: row r is on when bit r of mask is set
    for (let r = 0; r < D; r++) for (let c = 0; c < D; c++) pats[row * dim + r * D + c] = (mask >> r) & 1;
    row++;
  }
  for (let mask = 1; mask < 2 ** D - 1; mask++) {
    // bars: column c is on when bit c of mask is set (all-0 and all-1 already listed)
    for (let r = 0; r < D; r++) for (let c = 0; c < D; c++) pats[row * dim + r * D + c] = (mask >> c) & 1;
    row++;
  }
  const patterns = new Tensor(pats, [M, dim]);
  const logp = -Math.log(M);
  const name = `bars-and-stripes:${D}`;
  return {
    name,
    description: `Uniform over the ${M} distinct ${D}×${D} bars-or-stripes binary images, flattened row-major.`,
    dim,
    kind: 'binary',
    bounds: null,
    D,
    patterns,
    sample(k: Key, n: number, dtype: DType = 'float32'): Tensor {
      checkN(n, `${name}.sample`);
      const out = allocate(checkDType(dtype, `${name}.sample`), n * dim);
      const idx = randintArray(k, 0, M, n);
      for (let i = 0; i < n; i++) out.set(pats.subarray(idx[i] * dim, (idx[i] + 1) * dim), i * dim);
      return new Tensor(out, [n, dim]);
    },
    logDensity(x: Float64Array | Tensor): Float64Array {
      const { d, n } = rowsOf(x, dim, `${name}.logDensity`);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const o = i * dim;
        let binary = true;
        for (let j = 0; j < dim; j++) if (d[o + j] !== 0 && d[o + j] !== 1) binary = false;
        let rowsConst = true, colsConst = true;
        for (let r = 0; r < D && binary; r++) {
          for (let c = 1; c < D; c++) {
            if (d[o + r * D + c] !== d[o + r * D]) rowsConst = false;
            if (d[o + c * D + r] !== d[o + r]) colsConst = false;
          }
        }
        out[i] = binary && (rowsConst || colsConst) ? logp : -Infinity;
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// registry

/**
 * The registry of toy data sets with their default parameters:
 * `8gaussians`, `gmm-0.8-0.2`, `rings`, `moons`, `swissroll`, `checkerboard`, `pinwheel`, `spirals`,
 * `bars-and-stripes:3`, `bars-and-stripes:4` ({@link getToy} also accepts `bars-and-stripes:D` for 1 ≤ D ≤ 12).
 */
export const toyDatasets: Readonly<Record<string, ToyDataset>> = Object.freeze({
  '8gaussians': eightGaussians(),
  'gmm-0.8-0.2': gmm08(),
  rings: rings(),
  moons: moons(),
  swissroll: swissRoll(),
  checkerboard: checkerboard(),
  pinwheel: pinwheel(),
  spirals: spirals(),
  'bars-and-stripes:3': barsAndStripes(3),
  'bars-and-stripes:4': barsAndStripes(4),
});

/**
 * Looks up a toy data set by name (see {@link toyDatasets}); `bars-and-stripes:D` works for any 1 ≤ D ≤ 12.
 * @throws InvalidArgumentError listing the valid names ({@link toyNames}) when `name` is unknown.
 * @example getToy('8gaussians').sample(key(0), 512)
 */
export function getToy(name: string): ToyDataset {
  const hit = Object.prototype.hasOwnProperty.call(toyDatasets, name) ? toyDatasets[name] : undefined;
  if (hit) return hit;
  const m = /^bars-and-stripes:(\d+)$/.exec(String(name));
  if (m) return barsAndStripes(Number(m[1]));
  throw new InvalidArgumentError(`unknown toy data set '${String(name)}'; valid names: ${toyNames()}`);
}

/**
 * True when {@link getToy} knows the name: a key of {@link toyDatasets} or `bars-and-stripes:D` (whose `D` getToy then
 * checks).
 * @example isToyName('moons') // true
 */
export function isToyName(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(toyDatasets, name) || /^bars-and-stripes:\d+$/.test(String(name));
}

/**
 * The names {@link getToy} accepts, as one line for messages.
 * @example toyNames() // '8gaussians, moons, …, bars-and-stripes:D (1 ≤ D ≤ 12)'
 */
export function toyNames(): string {
  return `${Object.keys(toyDatasets).filter((k) => !k.startsWith('bars')).join(', ')}, bars-and-stripes:D (1 ≤ D ≤ 12)`;
}
