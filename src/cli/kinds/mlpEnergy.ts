/**
 * The `mlp-energy` model kind: an energy `E(x) = MLP(z)+ ½·c·‖z‖²` on standardised inputs `z = (x − shift)/scale`,
 * trained by denoising or sliced score matching, sampled by unadjusted Langevin dynamics (ULA), and evaluated in 2-D
 * by grid quadrature of the normaliser.
 *
 * Score matching works in `z`: the model's score is `s(z) = −∇_z E`.
 * - DSM (Vincent 2011): `z̃ = z + σε`, `ε ~ N(0, I)`;
 *   `L = ½·σ²·‖s(z̃) + (z̃ − z)/σ²‖² = ½‖σ∇_zE(z̃) − ε‖²`, averaged over the batch.
 * - SSM (Song et al. 2019): `v ~ N(0, I)`; `L = vᵀ∇_z(vᵀs(z)) + ½(vᵀs(z))²`, averaged over the batch.
 * Both are computed with nested gradients: `∇_zE` via `grad` inside the loss differentiated by `valueAndGrad`.
 */
import { Tensor, ShapeError, valueAndGrad, grad, noGrad, add, sub, mul, neg, sum, mean, square, gatherRows, logsumexp, allFinite } from '../../tensor/index.js';
import { TrainingDivergedError } from '../../models/deepEbm/guard.js';
import { key as makeKey, split, normal, foldIn, type Key } from '../../random/index.js';
import { epochBatchIndices } from '../../data/batches.js';
import type { MLPParams } from '../../nn/index.js';
import { adam, applyUpdates, globalNorm, type OptState, type GradientTransformation } from '../../optim/index.js';
import { checkCheckpointParams, type StateTree } from '../../io/checkpoint.js';
import { trainLoop, type TrainerRunOptions } from '../trainLoop.js';
import {
  MLP_ENERGY_KIND, makeMlpEnergyConfig, mlpEnergyLayout, initMlpEnergy, energyZ, standardize, unstandardize, energyOf,
  type MlpEnergyConfig, type MlpEnergyConfigOptions,
} from '../../models/mlpEnergy.js';

// The model itself (config, layout, energy, file codec) lives in the browser-safe `src/models/mlpEnergy.ts`;
// re-exported here so the CLI's `kinds/mlpEnergy.js` stays the one import for commands and tests.
export {
  MLP_ENERGY_KIND, checkMlpEnergyConfig, makeMlpEnergyConfig, mlpEnergySizes, mlpEnergyLayout, initMlpEnergy, energyZ,
  standardize, unstandardize, energyOf, type MlpEnergyConfig, type MlpEnergyConfigOptions,
} from '../../models/mlpEnergy.js';

/** DSM loss (see the module doc) for a batch `z [B, d]` and noise `eps [B, d]`. */
export function dsmLoss(p: MLPParams, cfg: MlpEnergyConfig, z: Tensor, eps: Tensor): Tensor {
  const zt = add(z, mul(eps, cfg.sigma));
  const g = grad((u: Tensor) => sum(energyZ(p, cfg, u)))(zt);
  const r = sub(mul(g, cfg.sigma), eps);
  return mul(sum(square(r)), 0.5 / z.shape[0]);
}

/** Sliced score matching loss (see the module doc) for a batch `z [B, d]` and projections `v [B, d]`. */
export function ssmLoss(p: MLPParams, cfg: MlpEnergyConfig, z: Tensor, v: Tensor): Tensor {
  const score = (u: Tensor) => neg(grad((w: Tensor) => sum(energyZ(p, cfg, w)))(u));
  const [, gz, s] = valueAndGrad((u: Tensor): [Tensor, Tensor] => {
    const su = score(u);
    return [sum(mul(su, v)), su];
  }, { hasAux: true })(z);
  const B = z.shape[0];
  const term1 = mul(sum(mul(gz, v)), 1 / B);
  const term2 = mul(sum(square(sum(mul(s, v), 1))), 0.5 / B);
  return add(term1, term2);
}

/** Options of {@link trainMlpEnergy}. */
export interface TrainMlpEnergyOptions extends TrainerRunOptions {
  /** Training data `[n, d]` (data space). */
  x: Tensor;
  cfgIn: MlpEnergyConfigOptions;
  steps: number;
  lr: number;
  batch: number;
  seed: number;
}

/** The result of training. */
export interface TrainedMlpEnergy {
  cfg: MlpEnergyConfig;
  params: MLPParams;
  /** Metrics of the last logged step. */
  last: Record<string, number>;
}

interface TrainState {
  params: MLPParams;
  opt: OptState;
}

/**
 * Trains an mlp-energy model with Adam. Keys: `[kInit, kTrain] = split(key(seed))`; step `t` uses
 * `foldIn(kTrain, t)` split into a noise key and nothing else; the mini-batch of step `t` takes positions
 * `(t−1)·B … t·B−1` of the concatenated epoch permutations, epoch `e` shuffled by `permutation(foldIn(kData, e), n)`.
 * So a resumed run reproduces an uninterrupted one bit for bit.
 */
export async function trainMlpEnergy(o: TrainMlpEnergyOptions): Promise<TrainedMlpEnergy> {
  const cfg = makeMlpEnergyConfig(o.x, o.cfgIn, { flag: 'data' });
  const z = standardize(cfg, o.x);
  const [n, d] = z.shape;
  const [kInit, kTrain, kData] = split(makeKey(o.seed), 3);
  const opt: GradientTransformation<OptState[]> = adam(o.lr);
  let state: TrainState;
  let start = 0;
  if (o.resume) {
    const s = o.resume.state as unknown as TrainState;
    checkCheckpointParams(s.params, mlpEnergyLayout(cfg));
    state = { params: s.params, opt: s.opt };
    start = o.resume.step;
  } else {
    const params = initMlpEnergy(kInit, cfg);
    state = { params, opt: opt.init(params) };
  }
  const B = Math.min(o.batch, n);
  const batchIdx = epochBatchIndices(kData, n, B);
  let last: Record<string, number> = {};
  const final = await trainLoop<TrainState>({
    state,
    startStep: start,
    steps: o.steps,
    key: kTrain,
    step: (s, k, t, want) => {
      const zb = gatherRows(z, batchIdx(t));
      const noise = normal(k, [B, d]);
      const lossFn = (p: MLPParams) => (cfg.loss === 'dsm' ? dsmLoss(p, cfg, zb, noise) : ssmLoss(p, cfg, zb, noise));
      const [loss, g] = valueAndGrad(lossFn)(s.params);
      const lv = loss.item();
      if (!Number.isFinite(lv)) throw new TrainingDivergedError(`training diverged at step ${t}: loss is ${lv} (try a smaller --lr)`, []);
      const [u, nextOpt] = opt.update(g, s.opt as OptState[], s.params);
      const params = applyUpdates(s.params, u);
      let metrics: Record<string, number> | undefined;
      if (want) {
        const gap = noGrad(() => {
          const zt = add(zb, mul(noise, cfg.sigma));
          return mean(energyZ(s.params, cfg, zt)).item() - mean(energyZ(s.params, cfg, zb)).item();
        });
        metrics = { loss: lv, energyGap: gap, gradNorm: globalNorm(g), lr: o.lr };
        last = metrics;
      }
      return { state: { params, opt: nextOpt }, metrics };
    },
    checkpointEvery: o.checkpointEvery,
    checkpointPath: o.checkpointPath,
    checkpointKind: MLP_ENERGY_KIND,
    checkpointMeta: { ...(o.meta ?? {}), config: cfg },
    toCheckpoint: (s) => ({ params: s.params, opt: s.opt as StateTree }),
    logEvery: o.logEvery,
    onLog: o.onLog,
    onProgress: o.onProgress,
  });
  if (!Object.values(final.params).every(allFinite)) throw new Error('training produced non-finite parameters (try a smaller --lr)');
  return { cfg, params: final.params, last };
}

/** Options of {@link langevinSample}. */
export interface LangevinOptions {
  /** Number of ULA steps (default 500). */
  steps?: number;
  /** Step size η in standardised units (default 0.01). */
  stepSize?: number;
  onProgress?(done: number): void;
}

/**
 * Unadjusted Langevin dynamics on the model in standardised coordinates:
 * `z_{k+1} = z_k − η∇_zE(z_k) + √(2η)·ξ_k`, `ξ_k ~ N(0, I)` from `foldIn(key, k)`, starting at `z_0 ~ N(0, I)`;
 * returns `x = shift + scale·z_K`, `[n, d]`. (ULA has an O(η) bias; smaller η and more steps reduce it.)
 */
export function langevinSample(p: MLPParams, cfg: MlpEnergyConfig, k: Key, n: number, o: LangevinOptions = {}): Tensor {
  const steps = o.steps ?? 500;
  const eta = o.stepSize ?? 0.01;
  const [k0, kSteps] = split(k, 2);
  let z = normal(k0, [n, cfg.dim]);
  const gradE = grad((u: Tensor) => sum(energyZ(p, cfg, u)));
  const noiseScale = Math.sqrt(2 * eta);
  for (let s = 1; s <= steps; s++) {
    const g = gradE(z);
    const xi = normal(foldIn(kSteps, s), [n, cfg.dim]);
    const zd = z.data, gd = g.data, nd = xi.data;
    const out = new Float32Array(z.size);
    for (let i = 0; i < out.length; i++) out[i] = zd[i] - eta * gd[i] + noiseScale * nd[i];
    z = new Tensor(out, z.shape);
    o.onProgress?.(s);
  }
  return unstandardize(cfg, z);
}

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
