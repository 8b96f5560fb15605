/** MAP inference: energy minimisation by gradient descent or Adam with projections, batched over starting points. */
import { Tensor, allFinite } from '../tensor/index.js';
import { energyAndGrad, checkBatch, type Energy } from '../energy/index.js';
import { adam, sgd, applyUpdates, type GradientTransformation, type OptState } from '../optim/index.js';
import type { Projection } from './projections.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link minimiseEnergy}. */
export interface MinimiseOptions {
  /** Optimiser: `'gd'` (plain gradient descent), `'adam'` (default), or any `{init, update}` gradient transformation. */
  readonly optimizer?: 'gd' | 'adam' | GradientTransformation<OptState>;
  /** Learning rate for `'gd'`/`'adam'` (default 0.05). */
  readonly lr?: number;
  /** Maximum number of steps (default 1000). */
  readonly steps?: number;
  /** Projection applied after every step (see `projectBox`, `projectSimplex`); the start is projected too. */
  readonly projection?: Projection;
  /** Stop when every row's projected-step length `‖x_{t+1} − x_t‖∞` is below this (default 1e-6). */
  readonly tol?: number;
}

/** Result of {@link minimiseEnergy}. */
export interface MinimiseResult {
  /** Minimisers `[n, ...dim]`, one per starting row. */
  readonly x: Tensor;
  /** `E(x)`, `[n]`. */
  readonly energy: Tensor;
  /** Steps taken. */
  readonly steps: number;
  /** True when the tolerance was met before `steps` ran out. */
  readonly converged: boolean;
  /** Mean energy over rows after each step. */
  readonly trace: Float64Array;
}

/**
 * Minimises `E` from each row of `x0 [n, ...dim]` in parallel (rows are independent): `x ← Π(x + update(∇E(x)))`
 * with the chosen optimiser and projection `Π`. Because rows are independent, the summed-energy gradient is each
 * row's own gradient; Adam's per-coordinate scaling is per entry, so rows do not interact either.
 * With a projection, `'gd'` is projected gradient descent, which converges to the constrained minimum of a smooth
 * convex energy; Adam's per-coordinate scaling makes projected Adam a heuristic there (it may stall off the optimum).
 * Throws when the energy or gradient becomes non-finite, naming the step.
 * @example minimiseEnergy(doubleWell(), tensor([[0.3, 1], [-0.2, -1]]), { optimizer: 'adam', lr: 0.05 })
 */
export function minimiseEnergy(energy: Energy, x0: Tensor, opts: MinimiseOptions = {}): MinimiseResult {
  checkBatch(energy, x0, 'minimiseEnergy');
  if (!allFinite(x0)) throw new InvalidArgumentError('minimiseEnergy: starting points contain non-finite values');
  const lr = opts.lr ?? 0.05;
  if (!(lr > 0)) throw new InvalidArgumentError(`minimiseEnergy: lr must be > 0, got ${lr}`);
  const maxSteps = opts.steps ?? 1000;
  if (!Number.isInteger(maxSteps) || maxSteps < 0) throw new InvalidArgumentError(`minimiseEnergy: steps must be an integer ≥ 0, got ${maxSteps}`);
  const tol = opts.tol ?? 1e-6;
  const opt: GradientTransformation<OptState> =
    opts.optimizer === undefined || opts.optimizer === 'adam' ? adam(lr) : opts.optimizer === 'gd' ? sgd(lr) : opts.optimizer;
  const project = opts.projection ?? ((x: Tensor) => x);
  let x = project(x0);
  let state = opt.init(x);
  let eg = energyAndGrad(energy, x);
  const trace: number[] = [];
  let converged = false;
  let t = 0;
  while (t < maxSteps) {
    if (!allFinite(eg.energy) || !allFinite(eg.grad)) throw new InvalidArgumentError(`minimiseEnergy: non-finite energy or gradient at step ${t}`);
    const [updates, next] = opt.update(eg.grad, state, x);
    state = next;
    const xn = project(applyUpdates(x, updates));
    let change = 0;
    for (let i = 0; i < xn.size; i++) change = Math.max(change, Math.abs(xn.data[i] - x.data[i]));
    x = xn;
    eg = energyAndGrad(energy, x);
    t++;
    let s = 0;
    for (let i = 0; i < eg.energy.size; i++) s += eg.energy.data[i];
    trace.push(s / eg.energy.size);
    if (change < tol) {
      converged = true;
      break;
    }
  }
  if (!allFinite(eg.energy)) throw new InvalidArgumentError(`minimiseEnergy: non-finite energy at step ${t}`);
  return { x, energy: eg.energy, steps: t, converged, trace: Float64Array.from(trace) };
}
