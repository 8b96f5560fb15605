/** Sampling of the `mlp-energy` kind: unadjusted Langevin dynamics (the library's `ula`) in standardised coordinates. */
import { DivergenceError } from '../../samplers/types.js';
import { Tensor } from '../../tensor/index.js';
import { split, normal, foldIn, type Key } from '../../random/index.js';
import type { MLPParams } from '../../nn/index.js';
import { ula } from '../../samplers/ula.js';
import { energyZ, unstandardize, type MlpEnergyConfig } from './model.js';

/** Options of {@link sampleMlpEnergy}. */
export interface MlpEnergySampleOptions {
  /** Number of ULA steps (default 500). */
  steps?: number;
  /** Step size η in standardised units (default 0.01). */
  stepSize?: number;
  /** Called after each step with the number of steps done. */
  onProgress?(done: number): void;
}

/**
 * Draws `n` samples by ULA on the model in standardised coordinates:
 * `z_{k+1} = z_k − η∇_zE(z_k) + √(2η)·ξ_k`, `ξ_k` from `foldIn(kSteps, k)`, starting at `z_0 ~ N(0, I)` from `k0`
 * (`[k0, kSteps] = split(key, 2)`); returns `x = shift + scale·z_K`, `[n, d]`. ULA has an O(η) bias; smaller η and
 * more steps reduce it. A non-finite step throws (naming the step and row).
 * @example const x = sampleMlpEnergy(params, cfg, key(7), 200, { steps: 1000, stepSize: 0.005 });
 */
export function sampleMlpEnergy(p: MLPParams, cfg: MlpEnergyConfig, key: Key, n: number, o: MlpEnergySampleOptions = {}): Tensor {
  const steps = o.steps ?? 500;
  const eta = o.stepSize ?? 0.01;
  const [k0, kSteps] = split(key, 2);
  const alg = ula({ dim: cfg.dim, energy: (z: Tensor) => energyZ(p, cfg, z) }, { stepSize: eta });
  let st = alg.init(normal(k0, [n, cfg.dim]));
  for (let s = 1; s <= steps; s++) {
    const [next, info] = alg.step(foldIn(kSteps, s), st);
    const bad = info.divergent.indexOf(1);
    if (bad >= 0) throw new DivergenceError(`sampling diverged: Langevin produced non-finite values at step ${s}, row ${bad + 1} (try a smaller --step-size)`, s, [bad]);
    st = next;
    o.onProgress?.(s);
  }
  return unstandardize(cfg, st.position);
}
