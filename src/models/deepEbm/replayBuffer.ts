/**
 * The replay buffer of MCMC-trained EBMs lives in the contrastive-divergence state (`CDState.buffer`, a plain
 * `[N, ...dim]` tensor, so it is checkpointed with everything else); this module re-exports its helpers and adds a
 * summary for logs.
 * @module
 */
import type { Tensor } from '../../tensor/index.js';
export { freshChains } from '../../losses/contrastiveDivergence.js';
export type { ReinitSource, CDState } from '../../losses/contrastiveDivergence.js';

/** Summary statistics of a buffer `[N, ...dim]`: size, per-coordinate-pooled mean and std, and non-finite count. */
export interface BufferSummary {
  readonly size: number;
  readonly mean: number;
  readonly std: number;
  readonly nonFinite: number;
}

/**
 * Pooled mean and standard deviation of all buffer values and the number of non-finite entries (reported, never
 * hidden: a NaN in the buffer is a divergence).
 * @example summarizeBuffer(state.buffer!) // { size: 10000, mean: 0.01, std: 1.9, nonFinite: 0 }
 */
export function summarizeBuffer(buffer: Tensor): BufferSummary {
  let s = 0, s2 = 0, bad = 0, n = 0;
  for (const v of buffer.data) {
    if (!Number.isFinite(v)) {
      bad++;
      continue;
    }
    s += v;
    s2 += v * v;
    n++;
  }
  const mean = n ? s / n : NaN;
  return { size: buffer.shape[0], mean, std: n ? Math.sqrt(Math.max(0, s2 / n - mean * mean)) : NaN, nonFinite: bad };
}
