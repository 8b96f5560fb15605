/** The training objective of the `score-sde` kind: continuous-time denoising score matching. */
import { Tensor, reshape, tensor, mul, add, div, sum, square } from '../../tensor/index.js';
import { split, uniform, uniformArray, type Key } from '../../random/index.js';
import { perturb, type SDE } from '../../diffusion/index.js';
import { sdeOf, type ScoreSdeConfig } from './config.js';
import { scoreFn, type ScoreParams } from './score.js';

/** `t` with `σ(t) = s` by bisection on `[eps, T]` (σ increases with t). */
function timeOfStd(sde: SDE, s: number, eps: number): number {
  let lo = eps, hi = sde.T;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (sde.std(mid) < s) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * The training times of one step of a config, as the CPU losses draw them from the step's key `k`:
 * `[kt, kz] = split(k, 2)`; `uniform` (`continuousDSM`): `tᵢ = eps + (T − eps)uᵢ`, `u = uniformArray(kt, n)`;
 * `log-sigma`/`mixed` ({@link logSigmaDSM}): `ln σ(tᵢ) ~ U(ln σ(eps), ln σ(T))` (mixed: with probability ½ instead
 * uniform) from `u = uniform(kt, [2n])`. Returns the times, their mean and `kz`, the key of the perturbation noise.
 * Shared by the CPU loss and the WebGPU step (models/scoreSde/gpu.ts), so both use the same times.
 */
export function scoreSdeTrainingTimes(cfg: ScoreSdeConfig, sde = sdeOf(cfg)): (n: number, k: Key) => { t: Float64Array; meanT: number; kz: Key } {
  const a = Math.log(sde.std(cfg.eps));
  const b = Math.log(sde.std(sde.T));
  return (n, k) => {
    const [kt, kz] = split(k, 2);
    const t = new Float64Array(n);
    if (cfg.tSampling === 'uniform') {
      const u = uniformArray(kt, n, 'float64');
      for (let i = 0; i < n; i++) t[i] = cfg.eps + (sde.T - cfg.eps) * u[i];
    } else {
      const u = uniform(kt, [2 * n], { dtype: 'float64' }).data;
      for (let i = 0; i < n; i++) {
        t[i] = cfg.tSampling === 'mixed' && u[n + i] < 0.5 ? cfg.eps + (sde.T - cfg.eps) * u[i] : timeOfStd(sde, Math.exp(a + (b - a) * u[i]), cfg.eps);
      }
    }
    let meanT = 0;
    for (let i = 0; i < n; i++) meanT += t[i] / n;
    return { t, meanT, kz };
  };
}

/** The per-row weights `wᵢ` of the loss `½Σᵢ‖wᵢ(s + εᵢ/σᵢ)‖²/n`: `σ(tᵢ)` (`sigma2`) or `g(tᵢ)` (`likelihood`). */
export function scoreSdeWeights(cfg: ScoreSdeConfig, sde: SDE, t: ArrayLike<number>): Float64Array {
  const w = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) w[i] = cfg.weighting === 'likelihood' ? Math.sqrt(sde.g2(t[i])) : sde.std(t[i]);
  return w;
}

/**
 * DSM with log-σ-uniform times `ln σ(tᵢ) ~ U(ln σ(eps), ln σ(T))` (`mixed`: with probability ½ instead
 * `tᵢ ~ U(eps, T)`), `x_t = m(t)z₀ + σ(t)ε`, and
 * `J = (1/n) Σᵢ λ(tᵢ)·½‖s(x_t, tᵢ) + εᵢ/σ(tᵢ)‖²` (`λ = σ²`: noise-prediction error; `likelihood`: `λ = g²`).
 * Aux: `{ loss, meanT }`.
 */
export function logSigmaDSM(cfg: ScoreSdeConfig, sde = sdeOf(cfg)): (p: ScoreParams, batch: Tensor, k: Key) => { loss: Tensor; aux: Record<string, number> } {
  const score = scoreFn(cfg, sde);
  const a = Math.log(sde.std(cfg.eps));
  const b = Math.log(sde.std(sde.T));
  const times = scoreSdeTrainingTimes(cfg, sde);
  return (p, batch, k) => {
    const n = batch.shape[0];
    const { t, meanT, kz } = times(n, k);
    const w = scoreSdeWeights(cfg, sde, t);
    const { xt, z, std } = perturb(sde, batch, t, kz);
    const sc = score(p, xt, tensor(t, [n], batch.dtype));
    const col = std.shape;
    // λ·½‖s + ε/σ‖² = ½‖w·(s + ε/σ)‖² with w = σ (sigma2) or g (likelihood).
    const r = mul(add(sc, div(z, std)), reshape(tensor(w, [n], batch.dtype), col));
    const loss = mul(sum(square(r)), 0.5 / n);
    return { loss, aux: { loss: loss.data[0], meanT } };
  };
}

