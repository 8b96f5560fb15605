/** Hamiltonian Monte Carlo: leapfrog integration with a diagonal mass matrix and a Metropolis test on the Hamiltonian. */
import { Tensor } from '../tensor/index.js';
import { normalArray, split, uniformArray, type Key } from '../random/index.js';
import type { Energy } from '../energy/index.js';
import type { BaseInfo, EnergyState, PerRow, Safeguards, SamplingAlgorithm } from './types.js';
import { at, checkPositive, checkSafeguards, clipFactor, evaluate, like, rowFinite, rowInside, selectRows } from './_internal/rows.js';
import { ulaInit } from './ula.js';
import { InvalidArgumentError } from '../errors.js';

/** State of HMC: position with cached energy and gradient. */
export type HmcState = EnergyState;

/** Per-step diagnostics of HMC (per chain). */
export interface HmcInfo extends BaseInfo {
  readonly acceptanceProb: Float64Array;
  readonly accepted: Uint8Array;
  /** Change of the Hamiltonian `H(x', p') − H(x, p)` along the trajectory (NaN where divergent). */
  readonly energyError: Float64Array;
}

/** Parameters of {@link hmcKernel}, given on every call. */
export interface HmcParams extends Safeguards {
  /** Leapfrog step size ε > 0 (per row allowed). */
  readonly stepSize: PerRow;
  /** Number of leapfrog steps L ≥ 1. */
  readonly leapfrogSteps: number;
  /** Temperature T > 0 (per row allowed); default 1. */
  readonly temperature?: PerRow;
  /**
   * Diagonal of the inverse mass matrix `M⁻¹` (length = scalars per row; default all ones). Set it to the target's
   * marginal variances to equalise scales.
   */
  readonly inverseMass?: Float64Array;
  /** A trajectory whose Hamiltonian grows by more than this is flagged divergent (default 1000). */
  readonly divergenceThreshold?: number;
}

/** Builds the HMC state at `position [n, ...dim]`. */
export function hmcInit(energy: Energy, position: Tensor): HmcState {
  return ulaInit(energy, position);
}

/**
 * One HMC step for all chains (Duane et al. 1987; Neal 2011). Draw `p ~ N(0, M)`, run `L` leapfrog steps of
 * `H(x, p) = E(x)/T + ½ pᵀM⁻¹p` (each an energy+gradient evaluation of the whole batch), accept with
 * `min(1, exp(−ΔH))`. Leapfrog with a (clipped) position-dependent force stays volume-preserving and reversible, so
 * the chain is exact for `exp(−E/T)`. Trajectories leaving `box` are rejected; non-finite ones or `ΔH >` threshold
 * are rejected and flagged `divergent`.
 */
export function hmcKernel(energy: Energy, key: Key, state: HmcState, params: HmcParams): readonly [HmcState, HmcInfo] {
  const x0 = state.position;
  const n = x0.shape[0];
  const D = x0.size / Math.max(n, 1);
  const T = params.temperature ?? 1;
  const L = params.leapfrogSteps;
  if (!Number.isInteger(L) || L < 1) throw new InvalidArgumentError(`hmc: leapfrogSteps must be an integer ≥ 1, got ${L}`);
  checkPositive(params.stepSize, n, 'hmc: stepSize');
  checkPositive(T, n, 'hmc: temperature');
  checkSafeguards(params, 'hmc');
  const minv = params.inverseMass;
  if (minv) {
    if (minv.length !== D) throw new InvalidArgumentError(`hmc: inverseMass has ${minv.length} entries for ${D} coordinates`);
    for (let j = 0; j < D; j++) if (!(minv[j] > 0)) throw new InvalidArgumentError(`hmc: inverseMass[${j}] must be > 0, got ${minv[j]}`);
  }
  const thr = params.divergenceThreshold ?? 1000;
  const [kMom, kAccept] = split(key, 2);
  const p = normalArray(kMom, x0.size, 'float64');
  const kinetic = (i: number): number => {
    let k = 0;
    for (let j = 0; j < D; j++) {
      const v = p[i * D + j];
      k += v * v * (minv ? minv[j] : 1);
    }
    return 0.5 * k;
  };
  const h0 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < D; j++) p[i * D + j] /= Math.sqrt(minv ? minv[j] : 1); // p ~ N(0, M)
    h0[i] = state.energy.data[i] / at(T, i) + kinetic(i);
  }
  const outside = new Uint8Array(n);
  const kick = (g: Float64Array | Float32Array, scale: number): void => {
    for (let i = 0; i < n; i++) {
      const c = (scale * at(params.stepSize, i) * clipFactor(g, i, D, params.maxGradNorm)) / at(T, i);
      for (let j = i * D; j < (i + 1) * D; j++) p[j] -= c * g[j];
    }
  };
  let cur = state;
  kick(cur.grad.data, 0.5);
  for (let l = 0; l < L; l++) {
    const xd = like(x0);
    for (let i = 0; i < n; i++) {
      const eps = at(params.stepSize, i);
      for (let j = 0; j < D; j++) xd[i * D + j] = cur.position.data[i * D + j] + eps * (minv ? minv[j] : 1) * p[i * D + j];
      if (!rowInside(xd, i, D, params.box)) outside[i] = 1;
    }
    cur = evaluate(energy, new Tensor(xd, x0.shape));
    kick(cur.grad.data, l === L - 1 ? 0.5 : 1);
  }
  const u = uniformArray(kAccept, n, 'float64');
  const acceptanceProb = new Float64Array(n);
  const accepted = new Uint8Array(n);
  const divergent = new Uint8Array(n);
  const energyError = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const dH = cur.energy.data[i] / at(T, i) + kinetic(i) - h0[i];
    energyError[i] = dH;
    if (!rowFinite(cur.position.data, cur.energy.data, i, D) || !Number.isFinite(dH) || dH > thr) {
      divergent[i] = 1;
      energyError[i] = Number.isFinite(dH) ? dH : NaN;
      continue;
    }
    if (outside[i]) continue;
    const a = dH <= 0 ? 1 : Math.exp(-dH);
    acceptanceProb[i] = a;
    if (u[i] < a) accepted[i] = 1;
  }
  return [selectRows(accepted, cur, state), { acceptanceProb, accepted, divergent, energyError }];
}

/** Options of {@link hmc}. */
export interface HmcOptions extends Safeguards {
  readonly stepSize: number;
  readonly leapfrogSteps: number;
  readonly temperature?: number;
  readonly inverseMass?: Float64Array;
  readonly divergenceThreshold?: number;
}

/**
 * HMC with fixed parameters, targeting `exp(−E/T)` exactly.
 * @example const alg = hmc(gaussian({ mean: new Array(10).fill(0) }), { stepSize: 0.2, leapfrogSteps: 10 });
 */
export function hmc(energy: Energy, opts: HmcOptions): SamplingAlgorithm<HmcState, HmcInfo> {
  const params: HmcParams = { ...opts, temperature: opts.temperature ?? 1 };
  checkPositive(params.stepSize, 1, 'hmc: stepSize');
  if (!Number.isInteger(opts.leapfrogSteps) || opts.leapfrogSteps < 1) throw new InvalidArgumentError(`hmc: leapfrogSteps must be an integer ≥ 1, got ${opts.leapfrogSteps}`);
  checkSafeguards(params, 'hmc');
  return {
    name: 'hmc',
    rejectsDivergent: true,
    init: (position) => hmcInit(energy, position),
    step: (key, state) => hmcKernel(energy, key, state, params),
    observe: (s) => s.position,
    energyOf: (s) => s.energy,
  };
}
