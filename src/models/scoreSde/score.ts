/** The score network of the `score-sde` kind: parameters, file layout and the time-conditioned score `s_θ(z, t)`. */
import { Tensor, reshape, tensor, mul, sub, concat, clamp } from '../../tensor/index.js';
import { key as makeKey, type Key } from '../../random/index.js';
import { fourierFeatureFn } from '../../nn/index.js';
import { layoutOf, type TensorLayout } from '../../io/model.js';
import { initTimeMLP, applyTimeMLP, initUNet, applyUNet, type SDE } from '../../diffusion/index.js';
import { sdeOf, type ScoreSdeConfig } from './config.js';
import { InvalidArgumentError } from '../../errors.js';

/** Network parameters of a score-sde model (MLP or U-Net tensors by name). */
export type ScoreParams = Record<string, Tensor>;

/** Fresh parameters for a config. */
export function initScoreParams(k: Key, cfg: ScoreSdeConfig): ScoreParams {
  if (cfg.arch.kind === 'mlp') {
    const ff = cfg.arch.fourier;
    return initTimeMLP(k, { dim: cfg.dim + (ff ? 2 * ff.features : 0), out: cfg.dim, hidden: cfg.arch.hidden, embedDim: cfg.arch.embedDim, activation: cfg.arch.activation }) as ScoreParams;
  }
  return initUNet(k, { base: cfg.arch.base, embedDim: cfg.arch.embedDim, mid: cfg.arch.mid ?? 0 });
}

/** Tensor layout (names, shapes, dtypes) a model file of this config must hold. */
export function scoreLayout(cfg: ScoreSdeConfig): TensorLayout {
  return layoutOf(initScoreParams(makeKey(0), cfg));
}

/**
 * The network's time input: `τ(t) = ½[(t − eps)/(T − eps) + (ln σ(t) − ln σ(eps))/(ln σ(T) − ln σ(eps))] ∈ [0, 1]`.
 * The log-σ half spreads the small-noise region, where the score is sharp, over the embedding range (as in Karras
 * et al. 2022); the linear half keeps large times apart where σ(t) saturates (VP).
 */
export function noiseLevelInput(sde: SDE, eps: number): (t: number) => number {
  const a = Math.log(sde.std(eps));
  const b = Math.log(sde.std(sde.T));
  return (t) => 0.5 * ((t - eps) / (sde.T - eps) + (Math.log(sde.std(t)) - a) / (b - a));
}

/** Per-row coefficients of the score network at times `t` (float64): `c_in`, `c_in²`, `1/σ(t)` and the time input `τ(t)`. */
export interface ScoreNetCoefficients {
  readonly cin: Float64Array;
  readonly cin2: Float64Array;
  readonly inv: Float64Array;
  readonly tau: Float64Array;
}

/**
 * The coefficients of {@link scoreFn} at times `t`: `c_in = 1/√(m(t)²σ_d² + σ(t)²)`, `c_in²`, `1/σ(t)` and
 * `τ(t)` ({@link noiseLevelInput}); shared by the CPU network and its WebGPU lowering (models/scoreSde/gpu.ts). A time
 * with `σ(t) ≤ 0` throws, naming the row.
 * @example scoreNetCoefficients(cfg, sdeOf(cfg))([0.5]).cin[0]
 */
export function scoreNetCoefficients(cfg: ScoreSdeConfig, sde = sdeOf(cfg)): (t: ArrayLike<number>) => ScoreNetCoefficients {
  const tau = noiseLevelInput(sde, cfg.eps);
  // Variance of the standardised data per coordinate: 1 for vectors; images on [−1, 1] have about 0.5² (EDM's σ_data).
  const dataVar = cfg.imageShape ? 0.25 : 1;
  return (t) => {
    const n = t.length;
    const cin = new Float64Array(n), cin2 = new Float64Array(n), inv = new Float64Array(n), tt = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const ti = t[i];
      const s = sde.std(ti);
      if (!(s > 0)) throw new InvalidArgumentError(`score network: σ(t) = ${s} at t = ${ti} (row ${i + 1}); use times t ≥ eps > 0`);
      cin2[i] = 1 / (sde.meanCoef(ti) ** 2 * dataVar + s * s);
      cin[i] = Math.sqrt(cin2[i]);
      inv[i] = 1 / s;
      tt[i] = tau(ti);
    }
    return { cin, cin2, inv, tau: tt };
  };
}

/**
 * The time-conditioned score `(params, z, t [n]) → [n, …]` in standardised coordinates:
 * `s(z, t) = net(c_in(t)·z, τ(t)) / σ(t) − c_in(t)²·z` with `c_in = 1/√(m(t)²σ_d² + σ(t)²)` (unit-variance inputs
 * at every `t`; `σ_d² = 1` for standardised vectors, 0.25 for images on `[−1, 1]`) and the noise-level input `τ` of
 * {@link noiseLevelInput}. The second term is the exact score of `N(0, σ_d²)` data, so the net learns a residual.
 * Image configs made now carry `inputClip = 5` (`IMAGE_INPUT_CLIP`; older files none) and the network then reads
 * `clamp(c_in·z, −5, 5)`: training inputs lie within 5 units
 * (unit variance, bounded data: only Gaussian-noise tails at large `t` go beyond, ≈ 6·10⁻⁷ of the pixels), so this
 * changes almost nothing there, but off the data a conv net's linear extrapolation can outgrow the baseline and one
 * pixel of a probability-flow trajectory can run away (seen: a test digit whose likelihood ODE reached |x| ≈ 10¹⁰);
 * with the clip the baseline dominates far from the data and every trajectory stays bounded.
 */
export function scoreFn(cfg: ScoreSdeConfig, sde = sdeOf(cfg)): (p: ScoreParams, z: Tensor, t: Tensor) => Tensor {
  const coefficients = scoreNetCoefficients(cfg, sde);
  const clip = cfg.inputClip ?? null;
  const act = cfg.arch.kind === 'mlp' ? cfg.arch.activation : 'silu';
  const ff = cfg.arch.kind === 'mlp' ? cfg.arch.fourier ?? null : null;
  const phi = ff ? { float32: fourierFeatureFn(ff, cfg.dim, 'float32'), float64: fourierFeatureFn(ff, cfg.dim, 'float64') } : null;
  return (p, z, t) => {
    const n = t.shape[0];
    const { cin, cin2, inv, tau: tt } = coefficients(t.data);
    const col = [n, ...z.shape.slice(1).map(() => 1)];
    const zs = mul(z, reshape(tensor(cin, [n], z.dtype), col));
    const zin = clip ? clamp(zs, -clip, clip) : zs;
    const tin = tensor(tt, [n], z.dtype);
    const netIn = phi ? concat([zin, phi[zin.dtype === 'float64' ? 'float64' : 'float32'](zin)], 1) : zin;
    const out = cfg.arch.kind === 'mlp' ? applyTimeMLP(p, netIn, tin, act) : applyUNet(p, zin, tin);
    // Gaussian baseline −c_in²·z: the exact score when the data are N(0, I) (standardised), so the net learns a
    // residual that stays bounded far from the data, where the baseline keeps the flow contracting.
    return sub(mul(out, reshape(tensor(inv, [n], z.dtype), col)), mul(z, reshape(tensor(cin2, [n], z.dtype), col)));
  };
}

