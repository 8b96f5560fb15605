/** Data-dependent initialisation of an RBM (kept apart from the file codec so the browser bundle can use it). */
import type { Tensor } from '../../tensor/tensor.js';
import type { Key } from '../../random/index.js';
import { DataError } from '../../io/errors.js';
import { createRBM, type RBMParams, type VisibleType } from './params.js';

/** The parts of an RBM config that {@link initRbmForData} reads (an `RbmConfig` is one). */
export interface RbmInitConfig {
  readonly visible: VisibleType;
  /** States per categorical visible unit (`softmax`); 1 otherwise. */
  readonly categories: number;
  readonly nVisible: number;
  readonly nHidden: number;
}

/**
 * Fresh parameters for training data `x [n, nVisible]`: `W ~ N(0, 0.01²)` from `key`, visible biases
 * `bᵢ = log(pᵢ/(1 − pᵢ))` of the smoothed data means `pᵢ = (nx̄ᵢ + 1)/(n + 2)` for Bernoulli units (Hinton's guide
 * §8), the data means for Gaussian units, hidden biases 0.
 * @example const p0 = initRbmForData(key(0), x, { visible: 'bernoulli', categories: 1, nVisible: 784, nHidden: 64 });
 */
export function initRbmForData(key: Key, x: Tensor, cfg: RbmInitConfig): RBMParams {
  const [n, nv] = x.shape;
  if (nv !== cfg.nVisible) throw new DataError(`data has ${nv} columns but the config has nVisible = ${cfg.nVisible}`, { flag: 'data' });
  const mean = new Float64Array(nv);
  for (let r = 0; r < n; r++) for (let i = 0; i < nv; i++) mean[i] += x.data[r * nv + i] / n;
  let visibleBias: number[];
  if (cfg.visible === 'gaussian') visibleBias = Array.from(mean);
  else {
    visibleBias = Array.from(mean, (m) => {
      const p = (m * n + 1) / (n + 2);
      return Math.log(p / (1 - p));
    });
  }
  return createRBM({
    visible: cfg.visible, nVisible: nv, nHidden: cfg.nHidden, key, weightScale: 0.01, visibleBias,
    ...(cfg.visible === 'softmax' ? { categories: cfg.categories } : {}),
  });
}
