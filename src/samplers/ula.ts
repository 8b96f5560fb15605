/** Unadjusted Langevin algorithm (ULA), with the IGEBM/JEM "decoupled" step/noise mode and its implied temperature. */
import { Tensor, allFinite } from '../tensor/index.js';
import { normalArray, type Key } from '../random/index.js';
import { checkBatch, type Energy } from '../energy/index.js';
import type { BaseInfo, EnergyState, PerRow, Safeguards, SamplingAlgorithm } from './types.js';
import { at, checkInit, checkPositive, checkSafeguards, clipFactor, evaluate, like, rowFinite, selectRows } from './_internal/rows.js';
import { InvalidArgumentError, NonFiniteError } from '../errors.js';

/** State of ULA: position with cached energy and gradient. */
export type UlaState = EnergyState;

/** Per-step diagnostics of ULA. */
export interface UlaInfo extends BaseInfo {
  /** The temperature the step targets (for the decoupled mode, the implied one); per row when given per row. */
  readonly temperature: PerRow;
}

/** Parameters of {@link ulaKernel}, given on every call. */
export interface UlaParams extends Safeguards {
  /** Step size η > 0 (per row allowed). */
  readonly stepSize: PerRow;
  /** Temperature T > 0 (per row allowed); default 1. */
  readonly temperature?: PerRow;
}

/**
 * Builds the ULA state at `position [n, ...dim]`: evaluates energy and gradient once (batched).
 * Throws when a starting point or its energy is not finite.
 */
export function ulaInit(energy: Energy, position: Tensor): UlaState {
  checkBatch(energy, position, 'ula.init');
  checkInit(position, 'ula');
  const s = evaluate(energy, position);
  if (!allFinite(s.energy)) throw new NonFiniteError('ula.init: energy is not finite at some starting positions');
  return s;
}

/**
 * One ULA step for all chains: `x' = Π_box(x − η·clip(∇E(x))/T + √(2η)·ξ)`, `ξ ~ N(0, I)`, the Euler–Maruyama
 * discretisation of the Langevin diffusion whose stationary law is `exp(−E/T)` (biased by O(η) without a
 * correction step; use MALA to remove it). Rows whose new energy or position is non-finite keep their old point
 * and are flagged in `info.divergent`.
 */
export function ulaKernel(energy: Energy, key: Key, state: UlaState, params: UlaParams): readonly [UlaState, UlaInfo] {
  const x = state.position;
  const n = x.shape[0];
  const D = x.size / Math.max(n, 1);
  const T = params.temperature ?? 1;
  checkPositive(params.stepSize, n, 'ula: stepSize');
  checkPositive(T, n, 'ula: temperature');
  checkSafeguards(params, 'ula');
  const xi = normalArray(key, x.size, x.dtype);
  const g = state.grad.data;
  const out = like(x);
  for (let i = 0; i < n; i++) {
    const eta = at(params.stepSize, i);
    const drift = (eta * clipFactor(g, i, D, params.maxGradNorm)) / at(T, i);
    const noise = Math.sqrt(2 * eta);
    for (let j = i * D; j < (i + 1) * D; j++) {
      let v = x.data[j] - drift * g[j] + noise * xi[j];
      if (params.box) v = v < params.box[0] ? params.box[0] : v > params.box[1] ? params.box[1] : v;
      out[j] = v;
    }
  }
  const proposed = evaluate(energy, new Tensor(out, x.shape));
  const ok = new Uint8Array(n);
  const divergent = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    ok[i] = rowFinite(proposed.position.data, proposed.energy.data, i, D) && rowFinite(proposed.grad.data, proposed.energy.data, i, D) ? 1 : 0;
    divergent[i] = 1 - ok[i];
  }
  return [selectRows(ok, proposed, state), { divergent, temperature: T }];
}

/**
 * The temperature implied by a "decoupled" Langevin update `x' = x − α∇E(x) + s·ξ` (IGEBM/JEM set `α` and `s`
 * independently): it equals ULA with `η = s²/2` at `T = η/α = s²/(2α)`. JEM's α = 1, s = 0.01 gives T = 5·10⁻⁵.
 * @example impliedTemperature(1, 0.01) // 5e-5
 */
export function impliedTemperature(gradStep: number, noiseScale: number): number {
  if (!(gradStep > 0) || !(noiseScale > 0)) throw new InvalidArgumentError(`impliedTemperature: gradStep and noiseScale must be > 0, got ${gradStep}, ${noiseScale}`);
  return (noiseScale * noiseScale) / (2 * gradStep);
}

/** Options of {@link ula}: either `stepSize`/`temperature`, or the decoupled `gradStep`/`noiseScale` pair. */
export type UlaOptions = Safeguards & (
  | { readonly stepSize: number; readonly temperature?: number; readonly gradStep?: undefined; readonly noiseScale?: undefined }
  | { readonly gradStep: number; readonly noiseScale: number; readonly stepSize?: undefined; readonly temperature?: undefined }
);

/**
 * ULA with fixed parameters. Standard mode `{stepSize: η, temperature: T}` targets `exp(−E/T)`; decoupled mode
 * `{gradStep: α, noiseScale: s}` runs `x' = x − α∇E + s·ξ` and reports `T = s²/(2α)` in `info.temperature`.
 * @example
 * const alg = ula(gmm08(), { stepSize: 0.05 });
 * const res = sample(alg, { key: key(0), init: zeros([64, 1]), steps: 2000 });
 */
export function ula(energy: Energy, opts: UlaOptions): SamplingAlgorithm<UlaState, UlaInfo> {
  let params: UlaParams;
  const o = opts as { stepSize?: number; temperature?: number; gradStep?: number; noiseScale?: number };
  if ((o.gradStep !== undefined || o.noiseScale !== undefined) && (o.stepSize !== undefined || o.temperature !== undefined)) {
    throw new InvalidArgumentError('ula: give either {stepSize, temperature} or the decoupled {gradStep, noiseScale}, not both');
  }
  if (opts.gradStep !== undefined) {
    const eta = (opts.noiseScale * opts.noiseScale) / 2;
    params = { stepSize: eta, temperature: impliedTemperature(opts.gradStep, opts.noiseScale), maxGradNorm: opts.maxGradNorm, box: opts.box };
  } else {
    params = { stepSize: opts.stepSize, temperature: opts.temperature ?? 1, maxGradNorm: opts.maxGradNorm, box: opts.box };
  }
  checkPositive(params.stepSize, 1, 'ula: stepSize');
  checkPositive(params.temperature ?? 1, 1, 'ula: temperature');
  checkSafeguards(params, 'ula');
  return {
    name: 'ula',
    rejectsDivergent: false,
    init: (position) => ulaInit(energy, position),
    step: (key, state) => ulaKernel(energy, key, state, params),
    observe: (s) => s.position,
    energyOf: (s) => s.energy,
  };
}
