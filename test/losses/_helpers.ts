/** Test helpers shared by the score-matching and diffusion tests: a training loop and small float64 linear algebra. */
import { valueAndGrad, type Tensor, type Tree } from '../../src/tensor/index.js';
import { key, split, type Key } from '../../src/random/index.js';
import { adam, applyUpdates, cosineDecay } from '../../src/optim/index.js';
import type { ScoreLoss } from '../../src/losses/index.js';

/** Trains `params` with Adam (cosine-decayed learning rate) on a fixed data set or a batch function; returns the last params and losses. */
export function train<P extends Tree>(
  loss: ScoreLoss<P>, params: P, data: Tensor | ((k: Key, step: number) => Tensor), steps: number, lr: number, seed: number,
): { params: P; losses: number[] } {
  const opt = adam(cosineDecay(lr, steps, 0.01));
  let state = opt.init(params);
  const vg = valueAndGrad((p: P, x: Tensor, k: Key): [Tensor, unknown] => {
    const o = loss(p, x, k);
    return [o.loss, o.aux];
  }, { hasAux: true });
  let k = key(seed);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [kNext, kData, kLoss] = split(k, 3);
    k = kNext;
    const x = typeof data === 'function' ? data(kData, i) : data;
    const [l, g] = vg(params, x, kLoss);
    losses.push(l.item());
    const [u, s2] = opt.update(g, state, params);
    params = applyUpdates(params, u);
    state = s2;
  }
  return { params, losses };
}

/** Inverse of a row-major `d×d` matrix by Gauss–Jordan with partial pivoting (float64). */
export function inverse(a: ArrayLike<number>, d: number): Float64Array {
  const m = new Float64Array(d * 2 * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) m[i * 2 * d + j] = a[i * d + j];
    m[i * 2 * d + d + i] = 1;
  }
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r * 2 * d + c]) > Math.abs(m[p * 2 * d + c])) p = r;
    for (let j = 0; j < 2 * d; j++) [m[c * 2 * d + j], m[p * 2 * d + j]] = [m[p * 2 * d + j], m[c * 2 * d + j]];
    const piv = m[c * 2 * d + c];
    for (let j = 0; j < 2 * d; j++) m[c * 2 * d + j] /= piv;
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = m[r * 2 * d + c];
      for (let j = 0; j < 2 * d; j++) m[r * 2 * d + j] -= f * m[c * 2 * d + j];
    }
  }
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] = m[i * 2 * d + d + j];
  return out;
}

/** Biased (1/n) sample mean and covariance of rows of `x [n, d]`. */
export function sampleMoments(x: Tensor): { mean: Float64Array; cov: Float64Array } {
  const [n, d] = x.shape;
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += x.data[i * d + j] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] += ((x.data[i * d + a] - mu[a]) * (x.data[i * d + b] - mu[b])) / n;
  }
  return { mean: mu, cov };
}
