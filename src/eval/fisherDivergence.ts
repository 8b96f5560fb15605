/** Fisher divergence between a learned score and a true score, by Monte Carlo over samples of the data. */
import { Tensor, ShapeError, detach, allFinite } from '../tensor/index.js';
import { InvalidArgumentError } from '../errors.js';

/** Result of {@link fisherDivergence}. */
export interface FisherDivergenceResult {
  /** `(1/n) Σᵢ ‖s(xᵢ) − s*(xᵢ)‖²`. */
  readonly value: number;
  /** Monte Carlo standard error of `value` (sample sd of the per-row terms / √n). */
  readonly stdError: number;
}

/**
 * Monte Carlo Fisher divergence `F = E_p ‖s(x) − s*(x)‖²` between a learned score and the true score, with `x` drawn
 * from `p`. Both functions map `x [n, ...dim]` → `[n, ...dim]`; evaluated without building a graph; float64 sums.
 * Throws on a non-finite score (naming which one).
 * @example fisherDivergence((x) => net(params, x), (x) => gmm.score(x), gmm.sample(key(1), 2000)).value
 */
export function fisherDivergence(scoreFn: (x: Tensor) => Tensor, trueScore: (x: Tensor) => Tensor, x: Tensor): FisherDivergenceResult {
  if (!(x instanceof Tensor) || x.ndim < 2 || x.shape[0] === 0) {
    throw new ShapeError(`fisherDivergence: x must be [n, ...dim] with n ≥ 1, got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  }
  const n = x.shape[0];
  const D = x.size / n;
  const s = detach(scoreFn(x));
  const t = detach(trueScore(x));
  for (const [name, v] of [['learned', s], ['true', t]] as const) {
    if (v.shape.length !== x.shape.length || v.shape.some((d, i) => d !== x.shape[i])) {
      throw new ShapeError(`fisherDivergence: the ${name} score has shape [${v.shape.join(', ')}] but x is [${x.shape.join(', ')}]`);
    }
  }
  if (!allFinite(s)) throw new InvalidArgumentError('fisherDivergence: the learned score has non-finite values');
  if (!allFinite(t)) throw new InvalidArgumentError('fisherDivergence: the true score has non-finite values');
  let m = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let j = 0; j < D; j++) {
      const e = s.data[i * D + j] - t.data[i * D + j];
      r += e * e;
    }
    m += r;
    m2 += r * r;
  }
  m /= n;
  const varr = n > 1 ? Math.max(0, (m2 / n - m * m) * (n / (n - 1))) : 0;
  return { value: m, stdError: Math.sqrt(varr / n) };
}
