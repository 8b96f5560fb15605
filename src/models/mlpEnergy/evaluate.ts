/** Evaluation of the `mlp-energy` kind: energies of data and, in 2-D, the normaliser by grid quadrature. */
import { Tensor, ShapeError, logsumexp } from '../../tensor/index.js';
import type { MLPParams } from '../../nn/index.js';
import { DataError } from '../../io/errors.js';
import { energyOf, type MlpEnergyConfig } from './model.js';

/** Result of {@link gridLogZ2d}. */
export interface GridLogZ {
  /** `log Z ≈ log Σ_cells exp(−E(c))·Δx·Δy` over the box (midpoint rule). */
  logZ: number;
  /** `E` at the cell centres, `[res, res]`, row 0 at the top (`y = ymax`), column 0 at `xmin` (heat-map layout). */
  energy: Tensor;
  box: [number, number, number, number];
}

/**
 * Normaliser of a 2-D model by midpoint quadrature on `res × res` cells of `box` (data space):
 * `log Z = logsumexp_c(−E(c)) + log(Δx·Δy)`. The mass outside the box is not counted (choose a box that holds the data).
 * @example gridLogZ2d(params, cfg, cfg.bounds!, 200).logZ
 */
export function gridLogZ2d(p: MLPParams, cfg: MlpEnergyConfig, box: [number, number, number, number], res = 200): GridLogZ {
  if (cfg.dim !== 2) throw new ShapeError(`grid quadrature needs a 2-D model, this one has dimension ${cfg.dim}`);
  const [x0, x1, y0, y1] = box;
  const dx = (x1 - x0) / res;
  const dy = (y1 - y0) / res;
  const pts = new Float32Array(res * res * 2);
  for (let i = 0; i < res; i++) {
    const y = y1 - (i + 0.5) * dy;
    for (let j = 0; j < res; j++) {
      pts[2 * (i * res + j)] = x0 + (j + 0.5) * dx;
      pts[2 * (i * res + j) + 1] = y;
    }
  }
  const e = energyOf(p, cfg, new Tensor(pts, [res * res, 2]));
  const negE = new Tensor(Float64Array.from(e, (v) => -v), [res * res]);
  const lse = logsumexp(negE).item();
  return { logZ: lse + Math.log(dx * dy), energy: new Tensor(Float32Array.from(e), [res, res]), box };
}

/**
 * Mean log-likelihood of rows `x` under a 2-D model: `mean(−E(x)) − log Z`, with `log Z` by grid quadrature on `box`
 * (default: the config's box); also the count of rows outside the box.
 */
export function mlpEnergyAvgLogLik(p: MLPParams, cfg: MlpEnergyConfig, x: Tensor, res = 200, box = cfg.bounds): { avgLogLik: number; logZ: number; avgEnergy: number; outsideBox: number } {
  if (!box) throw new DataError('log-likelihood by grid quadrature needs a 2-D model');
  if (x.shape[1] !== cfg.dim) throw new DataError(`data has ${x.shape[1]} columns but the model takes ${cfg.dim}`, { flag: 'data' });
  const { logZ } = gridLogZ2d(p, cfg, box, res);
  const e = energyOf(p, cfg, x);
  let s = 0;
  let outside = 0;
  for (let i = 0; i < e.length; i++) {
    s += e[i];
    const a = x.data[2 * i], b = x.data[2 * i + 1];
    if (a < box[0] || a > box[1] || b < box[2] || b > box[3]) outside++;
  }
  const avgEnergy = s / e.length;
  return { avgLogLik: -avgEnergy - logZ, logZ, avgEnergy, outsideBox: outside };
}
