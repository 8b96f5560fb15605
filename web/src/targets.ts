/**
 * The 2-D targets of the playground: the library's analytic energies (with 2-D parameters and a plotting box) and
 * its continuous toy data sets, whose exact log density becomes an energy `E(x) = −log p(x)`.
 *
 * Toy densities are evaluated by the library as plain numbers (quadrature for the curve sets), so their energy gets
 * its gradient by central differences, `∂E/∂xⱼ ≈ (E(x + h·eⱼ) − E(x − h·eⱼ)) / 2h` with `h = 1e-4·(box width)`, attached
 * as a custom autodiff node: samplers then run on the exact data density.
 */
import { Tensor, mul, expandDims } from 'ebm-ts/tensor';
import { record } from 'ebm-ts/tensor';
import { analyticEnergies, type AnalyticEnergy, type Energy, type AnalyticEnergyName } from 'ebm-ts/energy';
import { getToy, type ToyDataset } from 'ebm-ts/toy';
import { uniformArray, type Key } from 'ebm-ts/random';

/** Plotting / integration box `[xmin, xmax, ymin, ymax]`. */
export type Bounds = readonly [number, number, number, number];

/** A 2-D target: its energy (differentiable in `x`), box, exact sampler and, when closed-form, a smoothed family. */
export interface Target {
  /** Id used in the UI, `energy:<name>` or `toy:<name>`. */
  readonly id: string;
  /** Label for menus. */
  readonly label: string;
  readonly energy: Energy;
  readonly bounds: Bounds;
  /** Exact i.i.d. samples `[n, 2]` (toy sets, gaussian, gmm, banana, funnel), else `null`. */
  readonly sample: ((k: Key, n: number) => Tensor) | null;
  /** `σ ↦ E_σ`, the law of `x + σε`, where closed-form (gaussian, gmm). */
  readonly smoothed: ((sigma: number) => Energy) | null;
  /** Description shown under the menu. */
  readonly description: string;
}

interface AnalyticSpec { name: AnalyticEnergyName; label: string; params: unknown; bounds: Bounds; description: string }

const ANALYTIC: readonly AnalyticSpec[] = [
  { name: 'gmm', label: 'Gaussian mixture (4 modes)', params: { means: [[-2.5, -2.5], [2.5, 2.5], [-2.5, 2.5], [2.5, -2.5]], std: 0.6, weights: [0.4, 0.3, 0.2, 0.1] }, bounds: [-5, 5, -5, 5], description: 'Σₖ wₖ N(μₖ, 0.6²I), weights 0.4/0.3/0.2/0.1: well-separated modes.' },
  { name: 'banana', label: 'Banana', params: { dim: 2, curvature: 1 }, bounds: [-3.5, 3.5, -3, 6], description: 'x₁ ~ N(0,1), x₂ | x₁ ~ N(x₁², 1): a curved ridge.' },
  { name: 'doublewell', label: 'Double well', params: { dim: 2, barrier: 4, center: 1.5, std: 0.7 }, bounds: [-3.5, 3.5, -3, 3], description: 'Two wells at x₁ = ±1.5 with a barrier of 4 nats between them.' },
  { name: 'ring', label: 'Ring', params: { dim: 2, radius: 2.5, std: 0.35 }, bounds: [-4, 4, -4, 4], description: 'Mass on a circle of radius 2.5 (radial std 0.35).' },
  { name: 'funnel', label: "Neal's funnel", params: { dim: 2, scale: 1.5 }, bounds: [-5, 5, -6, 6], description: 'v ~ N(0, 1.5²), x | v ~ N(0, eᵛ): scales vary across the space.' },
  { name: 'gaussian', label: 'Correlated Gaussian', params: { mean: [0, 0], cov: [[1, 0.9], [0.9, 1]] }, bounds: [-3.5, 3.5, -3.5, 3.5], description: 'N(0, Σ) with correlation 0.9.' },
];

const TOY: readonly { name: string; label: string }[] = [
  { name: '8gaussians', label: '8 Gaussians (toy data)' },
  { name: 'moons', label: 'Two moons (toy data)' },
  { name: 'rings', label: 'Rings (toy data)' },
  { name: 'pinwheel', label: 'Pinwheel (toy data)' },
  { name: 'swissroll', label: 'Swiss roll (toy data)' },
  { name: 'spirals', label: 'Spirals (toy data)' },
  { name: 'checkerboard', label: 'Checkerboard (toy data)' },
];

/** Menu entries `{ id, label }` of every target, analytic energies first. */
export const TARGET_MENU: readonly { id: string; label: string }[] = [
  ...ANALYTIC.map((a) => ({ id: `energy:${a.name}`, label: a.label })),
  ...TOY.map((t) => ({ id: `toy:${t.name}`, label: t.label })),
];

/**
 * An energy from a toy data set's exact log density, `E(x) = −log p(x)` per row of `x [n, 2]`, with a
 * central-difference gradient (step `h`) recorded as the autodiff rule (first order only).
 */
export function toyEnergy(ds: ToyDataset, h: number): Energy {
  const logp = ds.logDensity;
  if (!logp) throw new Error(`toy data set ${ds.name} has no exact log density`);
  const dim = ds.dim;
  return {
    dim,
    energy(x: Tensor): Tensor {
      const n = x.shape[0];
      const pts = Float64Array.from(x.data);
      const e = logp(pts);
      const out = x.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = -e[i];
      const y = new Tensor(out, [n]);
      return record(y, 'toyEnergy', [x], (g: Tensor) => {
        // ∇E by central differences, all 2·dim shifted copies of the batch in one call.
        const shifted = new Float64Array(2 * dim * n * dim);
        for (let j = 0; j < dim; j++) {
          for (const [s, sign] of [[0, 1], [1, -1]] as const) {
            const base = (2 * j + s) * n * dim;
            shifted.set(pts, base);
            for (let i = 0; i < n; i++) shifted[base + i * dim + j] += sign * h;
          }
        }
        const es = logp(shifted);
        const gd = x.dtype === 'float64' ? new Float64Array(n * dim) : new Float32Array(n * dim);
        for (let j = 0; j < dim; j++) {
          for (let i = 0; i < n; i++) {
            const ep = -es[(2 * j) * n + i];
            const em = -es[(2 * j + 1) * n + i];
            gd[i * dim + j] = (ep - em) / (2 * h);
          }
        }
        return [mul(expandDims(g, 1), new Tensor(gd, [n, dim]))];
      });
    },
  };
}

/**
 * Exact-to-the-grid samples of a 2-D energy: a cell of a `res × res` grid over `bounds` is drawn with probability
 * `∝ exp(−E(cell centre))`, then a point uniformly inside it. Used as training data for energies without a direct sampler.
 */
export function gridSample(energy: Energy, bounds: Bounds, k: Key, n: number, res = 200): Tensor {
  const [x0, x1, y0, y1] = bounds;
  const dx = (x1 - x0) / res, dy = (y1 - y0) / res;
  const pts = new Float32Array(res * res * 2);
  for (let i = 0; i < res; i++) for (let j = 0; j < res; j++) {
    pts[2 * (i * res + j)] = x0 + (j + 0.5) * dx;
    pts[2 * (i * res + j) + 1] = y0 + (i + 0.5) * dy;
  }
  const e = energy.energy(new Tensor(pts, [res * res, 2]));
  // Cumulative weights exp(−(E − min E)), then inverse-CDF draws by binary search.
  let emin = Infinity;
  for (const v of e.data) if (v < emin) emin = v;
  const cdf = new Float64Array(res * res);
  let acc = 0;
  for (let i = 0; i < cdf.length; i++) {
    const v = e.data[i];
    acc += Number.isFinite(v) ? Math.exp(-(v - emin)) : 0;
    cdf[i] = acc;
  }
  if (!(acc > 0)) throw new Error('gridSample: the density vanishes on the whole box');
  const u = uniformArray(k, 3 * n, 'float64');
  const out = new Float32Array(n * 2);
  for (let s = 0; s < n; s++) {
    const t = u[3 * s] * acc;
    let lo = 0, hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > t) hi = mid; else lo = mid + 1;
    }
    const i = Math.floor(lo / res), j = lo - i * res;
    out[2 * s] = x0 + (j + u[3 * s + 1]) * dx;
    out[2 * s + 1] = y0 + (i + u[3 * s + 2]) * dy;
  }
  return new Tensor(out, [n, 2]);
}

/** Builds a target by id (`energy:<name>` or `toy:<name>`); throws naming the id when unknown. */
export function makeTarget(id: string): Target {
  const [kind, name] = id.split(':');
  if (kind === 'energy') {
    const spec = ANALYTIC.find((a) => a.name === name);
    if (!spec) throw new Error(`unknown analytic energy "${name}"`);
    const e: AnalyticEnergy = analyticEnergies[spec.name](spec.params);
    return {
      id, label: spec.label, energy: e, bounds: spec.bounds, description: spec.description,
      sample: e.sample ? (k, n) => e.sample!(k, n) : null,
      smoothed: e.smoothed ? (s) => e.smoothed!(s) : null,
    };
  }
  if (kind === 'toy') {
    const spec = TOY.find((t) => t.name === name);
    if (!spec) throw new Error(`unknown toy data set "${name}"`);
    const ds = getToy(spec.name);
    const b = ds.bounds!;
    return {
      id, label: spec.label, energy: toyEnergy(ds, 1e-4 * (b[1] - b[0])), bounds: b, description: ds.description,
      sample: (k, n) => ds.sample(k, n), smoothed: null,
    };
  }
  throw new Error(`unknown target id "${id}" (expected energy:<name> or toy:<name>)`);
}
