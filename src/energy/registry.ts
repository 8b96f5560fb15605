/** Registry of analytic energies by name, building each from validated JSON parameters (for the CLI). */
import type { AnalyticEnergy } from './types.js';
import { gaussian, type GaussianParams } from './gaussian.js';
import { gaussianMixture, type GaussianMixtureParams } from './gmm.js';
import { doubleWell, type DoubleWellParams } from './doubleWell.js';
import { banana, type BananaParams } from './banana.js';
import { ring, type RingParams } from './ring.js';
import { funnel, type FunnelParams } from './funnel.js';

/** Names accepted by {@link analyticEnergies}. */
export type AnalyticEnergyName = 'gaussian' | 'gmm' | 'doublewell' | 'banana' | 'ring' | 'funnel';

/**
 * Builders of the analytic energies from untrusted JSON parameters; each validates its input and throws an
 * `EnergyParamsError` naming the field. Parameters:
 * - `gaussian`: `{"mean": [..d], "cov": [[..d]..d]}` (`cov` optional, identity).
 * - `gmm`: `{"means": [[..d]..K], "covs": [[[..d]..d]..K]}` or `"std": σ` (isotropic, default 1), `"weights": [..K]` (optional, uniform).
 * - `doublewell`: `{"dim": 2, "barrier": 4, "center": 1, "std": 1}` (all optional).
 * - `banana`: `{"dim": 2, "curvature": 1, "mean1": 0, "std1": 1, "std2": 1}` (all optional).
 * - `ring`: `{"dim": 2, "radius": 3, "std": 0.5}` (all optional).
 * - `funnel`: `{"dim": 10, "scale": 3}` (all optional).
 * @example analyticEnergies.gmm(JSON.parse('{"means": [[-2], [2]], "std": 0.5}')).logZ()
 */
export const analyticEnergies: Readonly<Record<AnalyticEnergyName, (params: unknown) => AnalyticEnergy>> = Object.freeze({
  gaussian: (p: unknown) => gaussian(p as GaussianParams),
  gmm: (p: unknown) => gaussianMixture(p as GaussianMixtureParams),
  doublewell: (p: unknown) => doubleWell(p as DoubleWellParams),
  banana: (p: unknown) => banana(p as BananaParams),
  ring: (p: unknown) => ring(p as RingParams),
  funnel: (p: unknown) => funnel(p as FunnelParams),
});
