/** Simulated annealing: any tempered sampler kernel run under a decreasing temperature, keeping each chain's best point. */
import { Tensor, allFinite } from '../tensor/index.js';
import { foldIn, type Key } from '../random/index.js';
import { checkBatch, energyAndGrad, type Energy } from '../energy/index.js';
import type { EnergyState } from '../samplers/index.js';
import { InvalidArgumentError } from '../errors.js';

/** A kernel at a given temperature, e.g. `(k, s, T) => malaKernel(E, k, s, { stepSize: 0.1 * T, temperature: T })`. */
export type TemperedKernel = (key: Key, state: EnergyState, temperature: number) => readonly [EnergyState, unknown];

/** Options of {@link simulatedAnnealing}. */
export interface SimulatedAnnealingOptions {
  readonly key: Key;
  /** The move at temperature T (any sampler kernel over an {@link EnergyState}). */
  readonly kernel: TemperedKernel;
  /** Temperature at step `t = 0 … steps−1` (see {@link geometricCooling}). */
  readonly schedule: (t: number) => number;
  readonly steps: number;
}

/** Result of {@link simulatedAnnealing}. */
export interface SimulatedAnnealingResult {
  /** Lowest-energy point each chain visited, `[n, ...dim]`. */
  readonly best: Tensor;
  /** Their energies, `[n]` (float64). */
  readonly bestEnergy: Float64Array;
  /** The final state. */
  readonly final: EnergyState;
}

/**
 * Geometric cooling `T(t) = T₀·(T₁/T₀)^{t/(steps−1)}` from `t0` to `t1`.
 * @example geometricCooling(10, 0.01, 2000)
 */
export function geometricCooling(t0: number, t1: number, steps: number): (t: number) => number {
  if (!(t0 > 0) || !(t1 > 0)) throw new InvalidArgumentError(`geometricCooling: temperatures must be > 0, got ${t0}, ${t1}`);
  if (!Number.isInteger(steps) || steps < 1) throw new InvalidArgumentError(`geometricCooling: steps must be an integer ≥ 1, got ${steps}`);
  return (t) => (steps === 1 ? t1 : t0 * Math.pow(t1 / t0, Math.min(t, steps - 1) / (steps - 1)));
}

/**
 * Simulated annealing (Kirkpatrick et al. 1983) from `x0 [n, ...dim]`: step `t` runs `kernel` at temperature
 * `schedule(t)`, so the chains follow `exp(−E/T)` as T falls and concentrate near minima; each chain's lowest-energy
 * visited point is returned. Combine with {@link minimiseEnergy} to polish the result.
 * @example simulatedAnnealing(E, x0, { key: key(0), steps: 2000, schedule: geometricCooling(10, 0.01, 2000),
 *   kernel: (k, s, T) => malaKernel(E, k, s, { stepSize: 0.05 * T, temperature: T }) })
 */
export function simulatedAnnealing(energy: Energy, x0: Tensor, opts: SimulatedAnnealingOptions): SimulatedAnnealingResult {
  checkBatch(energy, x0, 'simulatedAnnealing');
  if (!allFinite(x0)) throw new InvalidArgumentError('simulatedAnnealing: starting points contain non-finite values');
  if (!Number.isInteger(opts.steps) || opts.steps < 0) throw new InvalidArgumentError(`simulatedAnnealing: steps must be an integer ≥ 0, got ${opts.steps}`);
  const n = x0.shape[0];
  const D = x0.size / Math.max(n, 1);
  const eg = energyAndGrad(energy, x0);
  let state: EnergyState = { position: x0, energy: eg.energy, grad: eg.grad };
  const best = x0.data.slice();
  const bestEnergy = Float64Array.from(eg.energy.data);
  for (let t = 0; t < opts.steps; t++) {
    const T = opts.schedule(t);
    if (!(T > 0) || !Number.isFinite(T)) throw new InvalidArgumentError(`simulatedAnnealing: schedule(${t}) = ${T} is not a finite temperature > 0`);
    state = opts.kernel(foldIn(opts.key, t), state, T)[0];
    const e = state.energy.data;
    for (let i = 0; i < n; i++) {
      if (e[i] < bestEnergy[i]) {
        bestEnergy[i] = e[i];
        best.set(state.position.data.subarray(i * D, (i + 1) * D), i * D);
      }
    }
  }
  return { best: new Tensor(best, x0.shape), bestEnergy, final: state };
}
