/** The sign conventions of the library as types — Energy, LogDensity, Score — and the one place that converts between them. */
import { Tensor, ShapeError, grad, valueAndGrad, noGrad, detach, sum, mul, neg, type DType } from '../tensor/index.js';
import type { Key } from '../random/index.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

/**
 * An energy function `E(x)`: lower is more probable, the target at temperature `T` is `p(x) ∝ exp(−E(x)/T)`.
 * Batched: `energy(x)` maps `x [n, ...dim]` to one value per row, `[n]`. Rows must be independent (no batch
 * statistics), so the gradient of `Σᵢ E(xᵢ)` gives every row's own gradient.
 * @example const e = gaussian({ mean: [0, 0], cov: [[1, 0], [0, 1]] }).energy(x) // x [n, 2] → [n]
 */
export interface Energy {
  /** Shape of one state: a number `d` for vectors (`x [n, d]`) or a shape such as `[C, H, W]` for images. */
  readonly dim: number | readonly number[];
  /** `x [n, ...dim]` → `E(x) [n]`. */
  energy(x: Tensor): Tensor;
}

/**
 * An energy with known normaliser and score, used as ground truth: `p(x) = exp(−E(x) − log Z)` at `T = 1`.
 */
export interface AnalyticEnergy extends Energy {
  /** Vector dimension `d` (analytic energies act on `x [n, d]`). */
  readonly dim: number;
  /** Short name, e.g. `'gaussian'`. */
  readonly name: string;
  /** `log Z = log ∫ exp(−E(x)) dx`, computed in float64. */
  logZ(): number;
  /** Analytic score at `T = 1`: `∇ₓ log p(x) = −∇ₓE(x)`, `x [n, d]` → `[n, d]` (same dtype as `x`). */
  score(x: Tensor): Tensor;
  /** Exact samples `[n, d]` from `p` at `T = 1`, where a direct sampler is known. */
  sample?(key: Key, n: number, dtype?: DType): Tensor;
  /** Mean `E_p[x]` (length `d`) where known in closed form. */
  mean?(): Float64Array;
  /** Covariance `Cov_p[x]` (row-major `d×d`) where known in closed form. */
  covariance?(): Float64Array;
  /**
   * Where closed-form: the law of `x + σε`, `ε ~ N(0, I)`, as an energy (its score is the exact noise-conditional
   * score used by annealed Langevin). Gaussians and Gaussian mixtures have it.
   */
  smoothed?(sigma: number): AnalyticEnergy;
}

/**
 * An unnormalised log density `log p̃(x) = −E(x)/T` (the additive constant is dropped; with the normaliser it is
 * `−E(x)/T − log Z_T`). Batched: `x [n, ...dim]` → `[n]`.
 */
export interface LogDensity {
  readonly dim: number | readonly number[];
  /** The temperature `T` the density was built with. */
  readonly temperature: number;
  /** `log p(x) + const = −E(x)/T`: `x [n, ...dim]` → `[n]`. */
  logDensity(x: Tensor): Tensor;
}

/** A score function `∇ₓ log p(x) = −∇ₓE(x)/T`: `x [n, ...dim]` → `[n, ...dim]`. */
export interface Score {
  readonly dim: number | readonly number[];
  readonly temperature: number;
  /** `∇ₓ log p(x) = −∇ₓE(x)/T`: `x [n, ...dim]` → `[n, ...dim]`. */
  score(x: Tensor): Tensor;
}

/** The state shape of an energy as an array: `d` → `[d]`, `[C, H, W]` stays. */
export function eventShape(e: Energy): number[] {
  return typeof e.dim === 'number' ? [e.dim] : e.dim.slice();
}

/** Number of scalars in one state (`d`, or `C·H·W`). */
export function eventSize(e: Energy): number {
  return eventShape(e).reduce((a, b) => a * b, 1);
}

/** Throws a ShapeError unless `x` is `[n, ...dim]` for the energy. Returns `n`. */
export function checkBatch(e: Energy, x: Tensor, fn: string): number {
  const ev = eventShape(e);
  const ok = x.ndim === ev.length + 1 && ev.every((d, i) => x.shape[i + 1] === d);
  if (!ok) throw new ShapeError(`${fn}: expected x of shape [n, ${ev.join(', ')}], got [${x.shape.join(', ')}]`);
  return x.shape[0];
}

/** Energies and per-row gradients of a batch, returned without autodiff history. */
export interface EnergyAndGrad {
  /** `E(xᵢ)`, shape `[n]`. */
  readonly energy: Tensor;
  /** `∇ₓE(xᵢ)`, shape `[n, ...dim]`. */
  readonly grad: Tensor;
}

/**
 * Energies and their gradients for a batch, first order only: `∇ₓ Σᵢ E(xᵢ)` — per-row gradients because rows are
 * independent. Evaluated without building a graph for higher derivatives (even inside an outer `grad`), which is
 * what samplers need; for a differentiable gradient (score matching) use `valueAndGrad` directly.
 * @param x `[n, ...dim]` → `{ energy [n], grad [n, ...dim] }`.
 * @example const { energy, grad } = energyAndGrad(E, x);
 */
export function energyAndGrad(e: Energy, x: Tensor): EnergyAndGrad {
  checkBatch(e, x, 'energyAndGrad');
  return noGrad(() => {
    const [, g, en] = valueAndGrad((y: Tensor): [Tensor, Tensor] => {
      const v = e.energy(y);
      if (v.ndim !== 1 || v.shape[0] !== x.shape[0]) {
        throw new ShapeError(`energy: must return one value per row, shape [${x.shape[0]}], got [${v.shape.join(', ')}]`);
      }
      return [sum(v), v];
    }, { hasAux: true })(x);
    return { energy: detach(en), grad: g };
  });
}

function checkTemperature(t: number, fn: string): void {
  if (!(t > 0) || !Number.isFinite(t)) throw new InvalidArgumentError(`${fn}: temperature must be a finite number > 0, got ${t}`);
}

/**
 * The one conversion from energy to log density: `log p̃(x) = −E(x)/T`.
 * @example logDensityFromEnergy(E, 1).logDensity(x) // = −E(x)
 */
export function logDensityFromEnergy(e: Energy, temperature = 1): LogDensity {
  checkTemperature(temperature, 'logDensityFromEnergy');
  return {
    dim: e.dim,
    temperature,
    logDensity: (x) => mul(e.energy(x), -1 / temperature),
  };
}

/**
 * The one conversion from energy to score: `∇ₓ log p(x) = −∇ₓE(x)/T`, first order (see {@link energyAndGrad}).
 * @example scoreFromEnergy(E, 2).score(x) // = −∇E(x)/2
 */
export function scoreFromEnergy(e: Energy, temperature = 1): Score {
  checkTemperature(temperature, 'scoreFromEnergy');
  return {
    dim: e.dim,
    temperature,
    score: (x) => (temperature === 1 ? neg(energyAndGrad(e, x).grad) : mul(energyAndGrad(e, x).grad, -1 / temperature)),
  };
}

// Parametric energies and scores (a network with parameters `P`): the conversion used by training losses, the
// diffusion samplers and likelihoods. Unlike {@link scoreFromEnergy} it keeps the inner gradient differentiable.

/** An energy function with parameters: `(params, x [n, ...dim], ...cond) → E [n]` (lower = likelier). */
export type EnergyFn<P, A extends unknown[] = []> = (params: P, x: Tensor, ...cond: A) => Tensor;
/** A score function with parameters: `(params, x [n, ...dim], ...cond) → ∇ₓ log p [n, ...dim]`. */
export type ScoreFn<P, A extends unknown[] = []> = (params: P, x: Tensor, ...cond: A) => Tensor;

/**
 * What a score-matching loss trains: an energy (`score = −∇ₓE`, computed by a differentiable inner gradient so that
 * `∇θ` of the loss is a gradient of a gradient) or a direct score network.
 * @example const m: ScoreModel<MLPParams> = { energy: (p, x) => squeeze(applyMLP(p, x), 1) }; // or { score: (p, x) => applyMLP(p, x) }
 */
export type ScoreModel<P, A extends unknown[] = []> = { readonly energy: EnergyFn<P, A> } | { readonly score: ScoreFn<P, A> };

/**
 * The one conversion from a parametric energy to its score: `s(x) = −∇ₓ Σᵢ E(xᵢ)`, differentiable in the parameters (and in `x`): the inner
 * gradient is recorded whenever an outer `grad`/`valueAndGrad`/`vjp` is tracing, so `∇θ` of anything built from it
 * works (double backward). Rows must be independent. Shapes: `x [n, ...dim]` → `[n, ...dim]`.
 * @example const s = energyToScore((p, x) => quadratic(p, x)); s(params, x) // = −A(x − μ)
 */
export function energyToScore<P, A extends unknown[]>(energy: EnergyFn<P, A>): ScoreFn<P, A> {
  return (params: P, x: Tensor, ...cond: A): Tensor => {
    const n = x.shape[0];
    const g = grad((y: Tensor) => {
      const e = energy(params, y, ...cond);
      if (e.ndim !== 1 || e.shape[0] !== n) {
        throw new ShapeError(`energy: must return one value per row, shape [${n}], got [${e.shape.join(', ')}]`);
      }
      return sum(e);
    })(x);
    return neg(g);
  };
}

/**
 * The score function of a {@link ScoreModel}: {@link energyToScore} of its energy, or its score network as is.
 * @example modelScore({ energy: E })(params, x) // = −∇ₓE(params, x)
 */
export function modelScore<P, A extends unknown[]>(model: ScoreModel<P, A>): ScoreFn<P, A> {
  if ('energy' in model) return energyToScore(model.energy);
  if ('score' in model) return model.score;
  throw new InvalidTypeError('ScoreModel: expected { energy } or { score }');
}
