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
import { Tensor, ShapeError, valueAndGrad, grad, noGrad, add, sub, mul, neg, sum, mean, square, reshape, gatherRows, logsumexp, allFinite } from '../../tensor/index.js';
import { key as makeKey, split, normal, permutation, foldIn, type Key } from '../../random/index.js';
import { initMLP, applyMLP, isActivation, type Activation, type MLPParams } from '../../nn/index.js';
import { adam, applyUpdates, globalNorm, type OptState, type GradientTransformation } from '../../optim/index.js';
import { DataError } from '../../io/errors.js';
import type { TensorLayout } from '../../io/model.js';
import type { StateTree } from '../../io/checkpoint.js';
import { trainLoop, type LogRecord } from '../trainLoop.js';

/** The model-file kind string. */
export const MLP_ENERGY_KIND = 'mlp-energy';

/** Configuration of an `mlp-energy` model (stored as the model file's `config`). */
export interface MlpEnergyConfig {
  /** Input dimension `d`. */
  dim: number;
  /** Hidden layer widths. */
  hidden: number[];
  /** Activation between layers (smooth ones — silu, softplus, tanh — give a smooth score). */
  activation: Activation;
  /** Standardisation: `z = (x − shift)/scale`, per dimension (length `d`). */
  shift: number[];
  scale: number[];
  /** Strength `c` of the confining term `½c‖z‖²` that keeps `exp(−E)` integrable. */
  confine: number;
  /** Training objective. */
  loss: 'dsm' | 'ssm';
  /** DSM noise level in standardised units (also used for the energy-gap diagnostic of SSM). */
  sigma: number;
  /** Box `[xmin, xmax, ymin, ymax]` (data space) for plots and 2-D quadrature; `null` when `d ≠ 2`. */
  bounds: [number, number, number, number] | null;
}

/** Validates a config read from a file; throws a DataError naming `file` and the bad field. */
export function checkMlpEnergyConfig(c: Record<string, unknown>, file: string): MlpEnergyConfig {
  const bad = (f: string): never => {
    throw new DataError(`mlp-energy config field "${f}" is missing or invalid`, { file });
  };
  const isPosInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  if (!isPosInt(c.dim)) bad('dim');
  const d = c.dim as number;
  if (!Array.isArray(c.hidden) || !c.hidden.every(isPosInt)) bad('hidden');
  if (!isActivation(c.activation)) bad('activation');
  for (const f of ['shift', 'scale'] as const) {
    const v = c[f];
    if (!Array.isArray(v) || v.length !== d || !v.every((e) => typeof e === 'number' && Number.isFinite(e))) bad(f);
  }
  if (!(c.scale as number[]).every((s) => s > 0)) bad('scale');
  if (typeof c.confine !== 'number' || !(c.confine >= 0)) bad('confine');
  if (c.loss !== 'dsm' && c.loss !== 'ssm') bad('loss');
  if (typeof c.sigma !== 'number' || !(c.sigma > 0)) bad('sigma');
  if (c.bounds !== null && (!Array.isArray(c.bounds) || c.bounds.length !== 4 || !c.bounds.every((e) => typeof e === 'number' && Number.isFinite(e)))) bad('bounds');
  return c as unknown as MlpEnergyConfig;
}

/** Layer widths `[d, …hidden, 1]`. */
export function mlpEnergySizes(cfg: MlpEnergyConfig): number[] {
  return [cfg.dim, ...cfg.hidden, 1];
}

/** Tensor layout of the model file: `l{i}.w [in, out]`, `l{i}.b [out]` float32 (the naming of `src/nn`). */
export function mlpEnergyLayout(cfg: MlpEnergyConfig): TensorLayout {
  const s = mlpEnergySizes(cfg);
  const out: TensorLayout = {};
  for (let i = 0; i + 1 < s.length; i++) {
    out[`l${i}.w`] = { shape: [s[i], s[i + 1]], dtype: 'float32' };
    out[`l${i}.b`] = { shape: [s[i + 1]], dtype: 'float32' };
  }
  return out;
}

/** Fresh parameters (init of `src/nn` for the activation, one key). */
export function initMlpEnergy(k: Key, cfg: MlpEnergyConfig): MLPParams {
  return initMLP(k, mlpEnergySizes(cfg), { activation: cfg.activation });
}

/** `E(z)` for standardised inputs `z [n, d]` → `[n]` (differentiable in the parameters and in `z`). */
export function energyZ(p: MLPParams, cfg: MlpEnergyConfig, z: Tensor): Tensor {
  const n = z.shape[0];
  let e = reshape(applyMLP(p, z, cfg.activation), [n]);
  if (cfg.confine > 0) e = add(e, mul(sum(square(z), 1), 0.5 * cfg.confine));
  return e;
}

/** Standardises data rows: `z = (x − shift)/scale`, `x [n, d]` (untraced). */
export function standardize(cfg: MlpEnergyConfig, x: Tensor): Tensor {
  if (x.ndim !== 2 || x.shape[1] !== cfg.dim) throw new ShapeError(`mlp-energy: data has shape [${x.shape.join(', ')}] but the model takes [n, ${cfg.dim}]`);
  const d = cfg.dim;
  const out = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) out[i] = (x.data[i] - cfg.shift[i % d]) / cfg.scale[i % d];
  return new Tensor(out, x.shape);
}

/** Inverse of {@link standardize}: `x = shift + scale·z`. */
export function unstandardize(cfg: MlpEnergyConfig, z: Tensor): Tensor {
  const d = cfg.dim;
  const out = new Float32Array(z.size);
  for (let i = 0; i < z.size; i++) out[i] = cfg.shift[i % d] + cfg.scale[i % d] * z.data[i];
  return new Tensor(out, z.shape);
}

/** `E(x)` per row of data-space `x [n, d]`, as float64 numbers (no graph). */
export function energyOf(p: MLPParams, cfg: MlpEnergyConfig, x: Tensor): Float64Array {
  return noGrad(() => Float64Array.from(energyZ(p, cfg, standardize(cfg, x)).data));
}

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
export interface TrainMlpEnergyOptions {
  /** Training data `[n, d]` (data space). */
  x: Tensor;
  cfgIn: { hidden: number[]; activation?: Activation; loss: 'dsm' | 'ssm'; sigma?: number; confine?: number; bounds?: [number, number, number, number] | null };
  steps: number;
  lr: number;
  batch: number;
  seed: number;
  checkpointEvery?: number;
  checkpointPath?: string;
  /** State to continue from (from a checkpoint). */
  resume?: { step: number; state: StateTree };
  /** Settings recorded in checkpoints (compared on resume). */
  meta?: Record<string, unknown>;
  onLog?(rec: LogRecord): void | Promise<void>;
  onProgress?(done: number, metrics?: Record<string, number>): void;
  logEvery?: number;
}

/** The result of training. */
export interface TrainedMlpEnergy {
  cfg: MlpEnergyConfig;
  params: MLPParams;
  /** Metrics of the last logged step. */
  last: Record<string, number>;
}

/** Builds the config from data (standardisation, plotting box) and user options. */
export function makeMlpEnergyConfig(x: Tensor, o: TrainMlpEnergyOptions['cfgIn']): MlpEnergyConfig {
  if (x.ndim !== 2 || x.shape[0] < 2) throw new DataError(`mlp-energy needs at least 2 rows of data, got shape [${x.shape.join(', ')}]`, { flag: 'data' });
  const [n, d] = x.shape;
  const shift: number[] = [];
  const scale: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let j = 0; j < d; j++) {
    let s = 0, s2 = 0, mn = Infinity, mx = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = x.data[i * d + j];
      s += v;
      s2 += v * v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const m = s / n;
    const sd = Math.sqrt(Math.max(0, s2 / n - m * m));
    if (!(sd > 0)) throw new DataError(`column ${j + 1} is constant (${m}): an energy model cannot be fitted`, { flag: 'data' });
    shift.push(Math.fround(m));
    scale.push(Math.fround(sd));
    lo.push(mn);
    hi.push(mx);
  }
  let bounds: MlpEnergyConfig['bounds'] = null;
  if (d === 2) {
    if (o.bounds) bounds = o.bounds;
    else {
      const mx = 0.1 * (hi[0] - lo[0]);
      const my = 0.1 * (hi[1] - lo[1]);
      bounds = [lo[0] - mx, hi[0] + mx, lo[1] - my, hi[1] + my];
    }
  }
  return {
    dim: d,
    hidden: o.hidden.slice(),
    activation: o.activation ?? 'silu',
    shift,
    scale,
    confine: o.confine ?? 0.01,
    loss: o.loss,
    sigma: o.sigma ?? 0.1,
    bounds,
  };
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
  const cfg = makeMlpEnergyConfig(o.x, o.cfgIn);
  const z = standardize(cfg, o.x);
  const [n, d] = z.shape;
  const [kInit, kTrain, kData] = split(makeKey(o.seed), 3);
  const opt: GradientTransformation<OptState[]> = adam(o.lr);
  let state: TrainState;
  let start = 0;
  if (o.resume) {
    const s = o.resume.state as unknown as TrainState;
    const layout = mlpEnergyLayout(cfg);
    for (const [name, want] of Object.entries(layout)) {
      const t = s.params?.[name];
      if (!(t instanceof Tensor) || t.shape.join(',') !== want.shape.join(',')) throw new DataError(`checkpoint parameter "${name}" is missing or has the wrong shape`, { flag: 'checkpoint' });
    }
    state = { params: s.params, opt: s.opt };
    start = o.resume.step;
  } else {
    const params = initMlpEnergy(kInit, cfg);
    state = { params, opt: opt.init(params) };
  }
  const B = Math.min(o.batch, n);
  const perms = new Map<number, Int32Array>();
  const permOf = (e: number): Int32Array => {
    let p = perms.get(e);
    if (!p) {
      p = permutation(foldIn(kData, e), n);
      perms.clear(); // only the current (and at most the next) epoch is needed
      perms.set(e, p);
    }
    return p;
  };
  const batchIdx = (t: number): Int32Array => {
    const idx = new Int32Array(B);
    for (let j = 0; j < B; j++) {
      const pos = (t - 1) * B + j;
      const e = Math.floor(pos / n);
      idx[j] = permOf(e)[pos - e * n];
    }
    return idx;
  };
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
      if (!Number.isFinite(lv)) throw new Error(`training diverged at step ${t}: loss is ${lv} (try a smaller --lr)`);
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
