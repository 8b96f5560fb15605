/**
 * The 2-D targets of the playground: the library's analytic energies (with 2-D parameters and a plotting box) and
 * its continuous toy data sets, whose exact log density becomes an energy `E(x) = −log p(x)`.
 *
 * Toy densities are evaluated by the library as plain numbers (quadrature for the curve sets), so their energy is the
 * library's `finiteDifferenceEnergy` (central differences with `h = 1e-4·(box width)`): samplers then run on the
 * exact data density.
 */
import type { Tensor } from 'ebm-ts/tensor';
import { analyticEnergies, finiteDifferenceEnergy, type AnalyticEnergy, type Energy, type AnalyticEnergyName } from 'ebm-ts/energy';
import { getToy, type ToyDataset } from 'ebm-ts/toy';
import type { Key } from 'ebm-ts/random';

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

/** A toy data set's exact density as an energy `−log p` (gradient by central differences with step `h`). */
function toyEnergy(ds: ToyDataset, h: number): Energy {
  const logp = ds.logDensity;
  if (!logp) throw new Error(`toy data set ${ds.name} has no exact log density`);
  return finiteDifferenceEnergy(logp, ds.dim, h);
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
