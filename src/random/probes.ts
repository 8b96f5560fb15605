/** Probe vectors for Hutchinson trace estimators and sliced score matching: Gaussian or Rademacher, `E[v vᵀ] = I`. */
import { affine, type Tensor } from '../tensor/index.js';
import type { Key } from './key.js';
import { bernoulli, normal } from './sample.js';
import { InvalidArgumentError } from '../errors.js';

/** Probe distribution for sliced score matching and Hutchinson trace estimators. */
export type ProbeDistribution = 'gaussian' | 'rademacher';

/**
 * Random probe vectors with `E[v vᵀ] = I`: standard normal, or Rademacher (±1 with probability ½ each).
 * Shape `shape`, dtype `dtype`.
 * @example probes(k, [8, 2], 'rademacher') // entries in {−1, +1}
 */
export function probes(key: Key, shape: readonly number[], kind: ProbeDistribution, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  if (kind === 'gaussian') return normal(key, shape, { dtype });
  if (kind === 'rademacher') return affine(bernoulli(key, 0.5, shape, { dtype }), 2, -1);
  throw new InvalidArgumentError(`probes: projection must be 'gaussian' or 'rademacher', got '${String(kind)}'`);
}
