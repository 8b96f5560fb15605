// Shared statistical checks for sampler tests: tolerances from Monte Carlo standard errors.
import { expect } from 'vitest';
import type { Tensor } from '../../src/tensor/index.js';
import { chainsOf, mcse } from '../../src/eval/diagnostics.js';

/**
 * z = 4: a correct sampler fails one check with probability 2(1 − Φ(4)) ≈ 6.3·10⁻⁵ (two-sided, if the MCSE is
 * right); over the ~80 checks of this folder the family-wise false-failure rate is ≈ 0.5 %.
 */
export const Z = 4;

/** Asserts |mean − truth| < Z·sd/√ESS for every coordinate of samples [kept, chains, d]. */
export function expectMeans(samples: Tensor, truth: ArrayLike<number>, label: string): void {
  const d = samples.shape[2];
  for (let j = 0; j < d; j++) {
    const s = mcse(chainsOf(samples, (r) => r[j]));
    const err = Math.abs(s.mean - truth[j]);
    expect(err, `${label}: coordinate ${j} mean ${s.mean.toFixed(4)} vs ${truth[j]} (mcse ${s.mcse.toFixed(4)}, ESS ${s.ess.toFixed(0)})`).toBeLessThan(Z * s.mcse);
  }
}

/** Asserts the second moments E[xᵢxⱼ] within Z·MCSE for a (small) set of index pairs. */
export function expectSecondMoments(samples: Tensor, mean: ArrayLike<number>, cov: ArrayLike<number>, pairs: [number, number][], label: string): void {
  const d = samples.shape[2];
  for (const [i, j] of pairs) {
    const s = mcse(chainsOf(samples, (r) => r[i] * r[j]));
    const truth = cov[i * d + j] + mean[i] * mean[j];
    expect(Math.abs(s.mean - truth), `${label}: E[x${i}x${j}] ${s.mean.toFixed(4)} vs ${truth.toFixed(4)} (mcse ${s.mcse.toFixed(4)})`).toBeLessThan(Z * s.mcse);
  }
}
