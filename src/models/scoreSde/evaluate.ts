/** Evaluation of the `score-sde` kind: exact log-likelihoods by the probability-flow ODE (and 8-bit images' bits/dim). */
import { Tensor, tensor } from '../../tensor/index.js';
import { split, foldIn, type Key } from '../../random/index.js';
import { DataError } from '../../io/errors.js';
import { NonFiniteError } from '../../errors.js';
import { odeLogLikelihood, dequantize, bitsPerDim, type BoundScore } from '../../diffusion/index.js';
import { sdeOf, netShape, toModelSpace, type ScoreSdeConfig } from './config.js';
import { scoreFn, type ScoreParams } from './score.js';

/** Options of {@link scoreSdeLogLik}. */
export interface ScoreLogLikOptions {
  /** RK45 tolerance (`rtol = atol`, default 1e-5). */
  tol?: number;
  /** Rows per ODE solve (default: about 2·10⁵ values per solve). */
  chunk?: number;
  /** Divergence: exact trace (default for D ≤ 16) or Rademacher Hutchinson probes. */
  probe?: 'exact' | 'rademacher';
  /** Called after each chunk of rows: `done` of `total` rows. */
  onProgress?(done: number, total: number): void;
}

/** Result of {@link scoreSdeLogLik}. */
export interface ScoreLogLik {
  /** Per-row log density in nats: data space for vectors; dequantised data on `[−1, 1]` for 8-bit images. */
  logp: Float64Array;
  /** Mean of `logp`. */
  avgLogLik: number;
  /** Standard error of `avgLogLik` over rows. */
  stdErr: number;
  /** Images only: bits/dim (upper bound on the discrete model's). */
  bitsPerDim?: number;
  /** How image data were dequantised (images only). */
  dequantization?: string;
  /** Score evaluations of the augmented ODE, summed over chunks. */
  nfe: number;
  probe: 'exact' | 'rademacher';
}

/**
 * Exact log-likelihoods by the probability-flow ODE (`odeLogLikelihood`, RK45 from `eps` to 1). Vectors:
 * `log p_x(x) = log p_z(z) − Σ_j log scale_j`. 8-bit images: values `k/255` become `k`, are uniformly dequantised to
 * `y = −1 + 2(k + u)/256` (key `key`), and `log p(y)` is reported with `bitsPerDim` (256 bins, range `[−1, 1]`).
 */
export function scoreSdeLogLik(p: ScoreParams, cfg: ScoreSdeConfig, x: Tensor, key: Key, o: ScoreLogLikOptions = {}): ScoreLogLik {
  if (x.ndim !== 2 || x.shape[1] !== cfg.dim) throw new DataError(`data has shape [${x.shape.join(', ')}] but the model takes rows of ${cfg.dim}`, { flag: 'data' });
  const n = x.shape[0];
  const D = cfg.dim;
  const sde = sdeOf(cfg);
  // Not bindScore: that evaluates under noGrad, and the divergence needs vector–Jacobian products through the net.
  const net = scoreFn(cfg, sde);
  const score: BoundScore = (z, t) => net(p, z, tensor(new Float64Array(z.shape[0]).fill(t), [z.shape[0]], z.dtype));
  const [kDq, kProbe] = split(key, 2);
  let z: Tensor;
  let logJac = 0;
  let image = false;
  if (cfg.imageShape) {
    if (cfg.bins === null) throw new DataError('the model was trained on images that are not 8-bit (values k/255): no dequantised likelihood', { flag: 'data' });
    image = true;
    const k = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i] * 255;
      const r = Math.round(v);
      if (Math.abs(v - r) > 1e-3 || r < 0 || r > 255) throw new DataError(`value ${x.data[i]} at row ${Math.floor(i / D) + 1}, column ${(i % D) + 1} is not an 8-bit level k/255`, { flag: 'data' });
      k[i] = r;
    }
    const y = dequantize(kDq, new Tensor(k, [n, D]), { bins: 256, range: [-1, 1] });
    z = new Tensor(y.data as Float32Array, netShape(cfg, n));
  } else {
    z = toModelSpace(cfg, x);
    for (const s of cfg.scale) logJac += Math.log(s);
  }
  const probe = o.probe ?? (D <= 16 ? 'exact' : 'rademacher');
  const tol = o.tol ?? 1e-5;
  const chunk = Math.max(1, o.chunk ?? Math.floor(200_000 / D));
  const logp = new Float64Array(n);
  let nfe = 0;
  for (let a = 0; a < n; a += chunk) {
    const b = Math.min(n, a + chunk);
    const rows = new Tensor((z.data as Float32Array).slice(a * D, b * D), netShape(cfg, b - a));
    const r = odeLogLikelihood(sde, score, rows, foldIn(kProbe, a), { probe, rtol: tol, atol: tol, eps: cfg.eps });
    for (let i = 0; i < b - a; i++) logp[a + i] = r.logp[i] - logJac;
    nfe += r.nfe;
    o.onProgress?.(b, n);
  }
  let s = 0, s2 = 0;
  for (const v of logp) {
    if (!Number.isFinite(v)) throw new NonFiniteError('scoreSdeLogLik: the ODE likelihood is not finite for some rows');
    s += v;
    s2 += v * v;
  }
  const avg = s / n;
  const stdErr = n > 1 ? Math.sqrt(Math.max(0, s2 / n - avg * avg) / (n - 1)) : NaN;
  const out: ScoreLogLik = { logp, avgLogLik: avg, stdErr, nfe, probe };
  if (image) {
    const bpd = bitsPerDim(logp, D, { bins: 256, range: [-1, 1] });
    out.bitsPerDim = bpd.bitsPerDim;
    out.dequantization = bpd.dequantization;
  }
  return out;
}

