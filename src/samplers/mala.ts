/** Metropolis-adjusted Langevin algorithm (MALA): a Langevin proposal corrected by a Metropolis–Hastings test. */
import { Tensor } from '../tensor/index.js';
import { normalArray, split, uniformArray, type Key } from '../random/index.js';
import type { Energy } from '../energy/index.js';
import type { BaseInfo, EnergyState, PerRow, Safeguards, SamplingAlgorithm } from './types.js';
import { at, checkPositive, checkSafeguards, clipFactor, evaluate, like, rowFinite, rowInside, selectRows } from './_internal/rows.js';
import { ulaInit } from './ula.js';

/** State of MALA: position with cached energy and gradient. */
export type MalaState = EnergyState;

/** Per-step diagnostics of MALA (per chain). */
export interface MalaInfo extends BaseInfo {
  /** Metropolis–Hastings acceptance probability `min(1, α)` of each chain's proposal. */
  readonly acceptanceProb: Float64Array;
  /** 1 where the proposal was accepted. */
  readonly accepted: Uint8Array;
}

/** Parameters of {@link malaKernel}, given on every call. */
export interface MalaParams extends Safeguards {
  /** Step size η > 0 (per row allowed). */
  readonly stepSize: PerRow;
  /** Temperature T > 0 (per row allowed); default 1. */
  readonly temperature?: PerRow;
}

/** Builds the MALA state at `position [n, ...dim]` (one batched energy+gradient evaluation). */
export function malaInit(energy: Energy, position: Tensor): MalaState {
  return ulaInit(energy, position);
}

/**
 * One MALA step for all chains (Roberts & Tweedie 1996). With drift `μ(x) = x − η·clip(∇E(x))/T`, propose
 * `y = μ(x) + √(2η)·ξ` and accept with probability `min(1, exp(−(E(y) − E(x))/T + log q(x|y) − log q(y|x)))`,
 * `log q(b|a) = −‖b − μ(a)‖²/(4η)`. Exact for `exp(−E/T)`, also with clipping (the same drift is used both ways).
 * Proposals outside `box` are rejected; non-finite proposals are rejected and flagged `divergent`.
 */
export function malaKernel(energy: Energy, key: Key, state: MalaState, params: MalaParams): readonly [MalaState, MalaInfo] {
  const x = state.position;
  const n = x.shape[0];
  const D = x.size / Math.max(n, 1);
  const T = params.temperature ?? 1;
  checkPositive(params.stepSize, n, 'mala: stepSize');
  checkPositive(T, n, 'mala: temperature');
  checkSafeguards(params, 'mala');
  const [kNoise, kAccept] = split(key, 2);
  const xi = normalArray(kNoise, x.size, 'float64');
  const u = uniformArray(kAccept, n, 'float64');
  const gx = state.grad.data;
  const yd = like(x);
  for (let i = 0; i < n; i++) {
    const eta = at(params.stepSize, i);
    const c = (eta * clipFactor(gx, i, D, params.maxGradNorm)) / at(T, i);
    const noise = Math.sqrt(2 * eta);
    for (let j = i * D; j < (i + 1) * D; j++) yd[j] = x.data[j] - c * gx[j] + noise * xi[j];
  }
  const prop = evaluate(energy, new Tensor(yd, x.shape));
  const gy = prop.grad.data;
  const acceptanceProb = new Float64Array(n);
  const accepted = new Uint8Array(n);
  const divergent = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!rowFinite(yd, prop.energy.data, i, D) || !rowFinite(gy, prop.energy.data, i, D)) {
      divergent[i] = 1;
      continue;
    }
    if (!rowInside(yd, i, D, params.box)) continue;
    const eta = at(params.stepSize, i);
    const t = at(T, i);
    const cx = (eta * clipFactor(gx, i, D, params.maxGradNorm)) / t;
    const cy = (eta * clipFactor(gy, i, D, params.maxGradNorm)) / t;
    // In float64: the forward residual is √(2η)ξ exactly as drawn; the reverse one is x − μ(y).
    let fwd = 0;
    let rev = 0;
    for (let j = i * D; j < (i + 1) * D; j++) {
      const r = yd[j] - (x.data[j] - cx * gx[j]);
      const rr = x.data[j] - (yd[j] - cy * gy[j]);
      fwd += r * r;
      rev += rr * rr;
    }
    const logA = -(prop.energy.data[i] - state.energy.data[i]) / t - (rev - fwd) / (4 * eta);
    const a = logA >= 0 ? 1 : Math.exp(logA);
    acceptanceProb[i] = a;
    if (u[i] < a) accepted[i] = 1;
  }
  return [selectRows(accepted, prop, state), { acceptanceProb, accepted, divergent }];
}

/** Options of {@link mala}. */
export interface MalaOptions extends Safeguards {
  readonly stepSize: number;
  readonly temperature?: number;
}

/**
 * MALA with fixed parameters, targeting `exp(−E/T)` exactly.
 * @example const alg = mala(gaussian({ mean: [0, 0], cov: [[1, 0.9], [0.9, 1]] }), { stepSize: 0.1 });
 */
export function mala(energy: Energy, opts: MalaOptions): SamplingAlgorithm<MalaState, MalaInfo> {
  const params: MalaParams = { stepSize: opts.stepSize, temperature: opts.temperature ?? 1, maxGradNorm: opts.maxGradNorm, box: opts.box };
  checkPositive(params.stepSize, 1, 'mala: stepSize');
  checkPositive(params.temperature ?? 1, 1, 'mala: temperature');
  checkSafeguards(params, 'mala');
  return {
    name: 'mala',
    rejectsDivergent: true,
    init: (position) => malaInit(energy, position),
    step: (key, state) => malaKernel(energy, key, state, params),
    observe: (s) => s.position,
    energyOf: (s) => s.energy,
  };
}
