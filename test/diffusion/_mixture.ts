/** A 2-D Gaussian mixture target and its exact diffusion marginals, shared by the diffusion tests. */
import { gaussianMixture, type GaussianMixtureEnergy } from '../../src/energy/index.js';
import type { SDE } from '../../src/diffusion/index.js';

export const target = gaussianMixture({ means: [[-2, -1], [2, -1], [0, 2]], std: 0.5, weights: [0.3, 0.3, 0.4] });

/** The exact marginal p_t = Σ wₖ N(m(t)μₖ, m(t)²Σₖ + σ(t)²I) of the forward SDE started at the mixture. */
export function marginal(sde: SDE, t: number, base: GaussianMixtureEnergy = target): GaussianMixtureEnergy {
  const m = sde.meanCoef(t);
  const s2 = sde.std(t) ** 2;
  const d = base.dim;
  return gaussianMixture({
    means: base.means.map((mu) => Array.from(mu, (v) => m * v)),
    covs: base.covs.map((c) => Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => m * m * c[i * d + j] + (i === j ? s2 : 0)))),
    weights: Array.from(base.weights),
  });
}
