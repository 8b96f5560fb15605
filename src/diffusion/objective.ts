/** The continuous-time denoising score-matching objective of score-based diffusion (Song et al. 2021). */
import { Tensor, ShapeError, sum, mul, add, square, div, tensor, detach, type DType } from '../tensor/index.js';
import { split, uniformArray, type Key } from '../random/index.js';
import { modelScore, type ScoreModel } from '../energy/index.js';
import type { ScoreLoss } from '../losses/scoreMatching.js';
import { perturb, type SDE } from './sde.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link continuousDSM}. */
export interface ContinuousDSMOptions {
  /** Smallest training time: `t ~ U(eps, T)` (default 1e-3; `σ(eps)` must be > 0). */
  readonly eps?: number;
  /**
   * `λ(t)`: `'sigma2'` (default) `λ = σ(t)²`, giving `½‖σ(t)s(x_t, t) + z‖²`; `'likelihood'` `λ = g(t)²`, which
   * makes the objective a bound on the negative log-likelihood (Song et al. 2021, "maximum likelihood training").
   */
  readonly weighting?: 'sigma2' | 'likelihood';
}

/**
 * The random draws of one {@link continuousDSM} evaluation, to pass in instead of drawing them from the key (e.g. to
 * reproduce a loss value computed elsewhere): `t` one time per row in `[eps, T]`, `z` standard noise shaped like
 * the batch. Either may be given alone; the other is drawn from the key as usual.
 */
export interface ContinuousDSMDraws {
  /** One time per row, each in `[eps, T]`. */
  readonly t?: ArrayLike<number>;
  /** Standard normal noise, the batch's shape and dtype. */
  readonly z?: Tensor;
}

/**
 * Continuous-time DSM: `t ~ U(eps, T)`, `x_t = m(t)x₀ + σ(t)z` per row, and
 * `J(θ) = (1/n) Σᵢ λ(tᵢ) · ½ ‖s(x_t, tᵢ) + zᵢ/σ(tᵢ)‖²` — the target `−z/σ(t)` is the score of the Gaussian
 * transition kernel. The model gets `t [n]` (one time per row) as its third argument; it may be an energy
 * (`score = −∇ₓE(x, t)`) or a score network. Shapes: batch `[n, ...dim]`; loss `[]`; aux `{ loss, meanT }`.
 * The returned loss takes optional {@link ContinuousDSMDraws} as a fourth argument: times and noise to use instead
 * of drawing them from the key.
 * @example const loss = continuousDSM(vpSDE(), { score: mlpScore(vpSDE()) }); loss(params, x, key(0)).loss
 * @example loss(params, x, key(0), { t: [0.5, 0.5], z })   // the same value as a reference implementation given t, z
 */
export function continuousDSM<P>(sde: SDE, model: ScoreModel<P, [Tensor]>, opts: ContinuousDSMOptions = {}): ScoreLoss<P> & ((params: P, batch: Tensor, key: Key, draws?: ContinuousDSMDraws) => ReturnType<ScoreLoss<P>>) {
  const score = modelScore(model);
  const eps = opts.eps ?? 1e-3;
  if (!(eps > 0 && eps < sde.T)) throw new InvalidArgumentError(`continuousDSM: eps must be in (0, ${sde.T}), got ${eps}`);
  if (!(sde.std(eps) > 0)) throw new InvalidArgumentError(`continuousDSM: σ(eps) = ${sde.std(eps)} for eps = ${eps}; raise eps`);
  const weighting = opts.weighting ?? 'sigma2';
  if (weighting !== 'sigma2' && weighting !== 'likelihood') throw new InvalidArgumentError(`continuousDSM: weighting must be 'sigma2' or 'likelihood', got '${String(weighting)}'`);
  return (params: P, batch: Tensor, key: Key, draws: ContinuousDSMDraws = {}) => {
    if (!(batch instanceof Tensor) || batch.ndim < 2 || batch.shape[0] === 0) {
      throw new ShapeError(`continuousDSM: batch must be [n, ...dim] with n ≥ 1, got ${batch instanceof Tensor ? `[${batch.shape.join(', ')}]` : typeof batch}`);
    }
    const n = batch.shape[0];
    const [kt, kz] = split(key, 2);
    const t = new Float64Array(n);
    if (draws.t !== undefined) {
      if (draws.t.length !== n) throw new InvalidArgumentError(`continuousDSM: draws.t has ${draws.t.length} times for ${n} rows`);
      for (let i = 0; i < n; i++) {
        t[i] = draws.t[i];
        if (!(t[i] >= eps && t[i] <= sde.T)) throw new InvalidArgumentError(`continuousDSM: draws.t[${i}] = ${t[i]} is outside [${eps}, ${sde.T}]`);
      }
    } else {
      const u = uniformArray(kt, n, 'float64');
      for (let i = 0; i < n; i++) t[i] = eps + (sde.T - eps) * u[i];
    }
    let meanT = 0;
    for (let i = 0; i < n; i++) meanT += t[i] / n;
    const { xt, z, std } = perturb(sde, batch, t, kz, draws.z);
    const s = score(params, xt, tensor(t, [n], batch.dtype));
    if (s.shape.length !== batch.shape.length || s.shape.some((d, i) => d !== batch.shape[i])) {
      throw new ShapeError(`continuousDSM: score has shape [${s.shape.join(', ')}] but the batch is [${batch.shape.join(', ')}]`);
    }
    let loss: Tensor;
    if (weighting === 'sigma2') {
      loss = mul(sum(square(add(mul(s, std), z))), 0.5 / n);
    } else {
      const g = new Float64Array(n);
      for (let i = 0; i < n; i++) g[i] = Math.sqrt(sde.g2(t[i]));
      const gcol = tensor(g, std.shape, batch.dtype as DType);
      loss = mul(sum(square(mul(add(s, div(z, std)), gcol))), 0.5 / n);
    }
    return { loss, aux: { loss: detach(loss).data[0], meanT } };
  };
}
