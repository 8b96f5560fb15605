/** Parallel tempering (replica exchange): K temperatures × chains in one batch, with Metropolis swaps between neighbours. */
import { Tensor, concat, gatherRows, sliceAxis } from '../tensor/index.js';
import { split, uniformArray, type Key } from '../random/index.js';
import type { Energy } from '../energy/index.js';
import type { BaseInfo, EnergyState, Safeguards, SamplingAlgorithm } from './types.js';
import { ulaInit, ulaKernel } from './ula.js';
import { malaKernel } from './mala.js';
import { hmcKernel } from './hmc.js';
import { InvalidArgumentError } from '../errors.js';

/** Local kernel run at every temperature by {@link parallelTempering}. */
export type PtLocalKernel = 'mala' | 'hmc' | 'ula';

/** State of parallel tempering: all replicas (row `k·chains + c` is chain `c` at temperature `k`) and the step count. */
export interface PtState {
  readonly replicas: EnergyState;
  readonly chains: number;
  readonly step: number;
}

/** Per-step diagnostics of parallel tempering. */
export interface PtInfo extends BaseInfo {
  /** Local-move acceptance probability per replica row (1 for ULA). */
  readonly acceptanceProb: Float64Array;
  /** Per adjacent pair `(k, k+1)`: 1 if swaps were attempted this step (even pairs on even steps, odd on odd). */
  readonly swapAttempted: Uint8Array;
  /** Per adjacent pair: mean over chains of the swap acceptance probability (0 where not attempted). */
  readonly swapAcceptance: Float64Array;
}

/** Options of {@link parallelTempering}. */
export interface PtOptions extends Safeguards {
  /** Increasing temperatures `T₁ < … < T_K`; samples are recorded at `T₁` (usually 1). See {@link geometricTemperatures}. */
  readonly temperatures: readonly number[];
  /** Local kernel, default `'mala'`. */
  readonly local?: PtLocalKernel;
  /** Step size: one number (scaled to `η·T_k/T₁` at temperature k, as the target widens) or one per temperature. */
  readonly stepSize: number | readonly number[];
  /** Leapfrog steps for `local: 'hmc'` (default 5). */
  readonly leapfrogSteps?: number;
}

/**
 * `K` temperatures spaced geometrically from `tMin` (default 1) to `tMax`.
 * @example geometricTemperatures(30, 8) // [1, 1.63, …, 30]
 */
export function geometricTemperatures(tMax: number, K: number, tMin = 1): number[] {
  if (!(tMax > tMin) || !(tMin > 0)) throw new InvalidArgumentError(`geometricTemperatures: need tMax > tMin > 0, got ${tMax}, ${tMin}`);
  if (!Number.isInteger(K) || K < 2) throw new InvalidArgumentError(`geometricTemperatures: K must be an integer ≥ 2, got ${K}`);
  return Array.from({ length: K }, (_, k) => tMin * Math.pow(tMax / tMin, k / (K - 1)));
}

/**
 * The local step size at each temperature of {@link parallelTempering}: one number `η` becomes `η·T_k/T₁` (the target
 * widens with the temperature), an array is taken as one entry per temperature. Shapes: `[K]`.
 * @throws InvalidArgumentError when an array has the wrong length or a step size is not > 0.
 * @example ptStepSizes([1, 2, 4], 0.1) // [0.1, 0.2, 0.4]
 */
export function ptStepSizes(temperatures: readonly number[], stepSize: number | readonly number[]): number[] {
  const K = temperatures.length;
  const steps = typeof stepSize === 'number' ? temperatures.map((t) => stepSize * (t / temperatures[0])) : stepSize.slice();
  if (steps.length !== K) throw new InvalidArgumentError(`parallelTempering: stepSize has ${steps.length} entries for ${K} temperatures`);
  steps.forEach((s, k) => {
    if (!(s > 0)) throw new InvalidArgumentError(`parallelTempering: stepSize[${k}] must be > 0, got ${s}`);
  });
  return steps;
}

/**
 * Parallel tempering (Swendsen & Wang 1986; Geyer 1991). Each step: one local move of all `K·chains` replicas as
 * one batch (replica `k` targets `exp(−E/T_k)`), then swaps between adjacent temperatures for every chain, on
 * alternating even/odd pairs (deterministic even–odd scheme), each accepted with the Metropolis probability
 * `min(1, exp((E_i − E_j)(1/T_k − 1/T_{k+1})))`. Swaps exchange the states, keeping the joint
 * `∏ₖ exp(−E(x_k)/T_k)` invariant, so the `T₁` replicas sample `exp(−E/T₁)` while hot replicas cross barriers.
 * `init` takes `[chains, ...dim]` and starts every temperature there.
 * @example const alg = parallelTempering(gmm08(), { temperatures: geometricTemperatures(40, 8), stepSize: 0.5 });
 */
export function parallelTempering(energy: Energy, opts: PtOptions): SamplingAlgorithm<PtState, PtInfo> {
  const temps = opts.temperatures;
  const K = temps.length;
  if (K < 2) throw new InvalidArgumentError(`parallelTempering: need at least 2 temperatures, got ${K}`);
  for (let k = 0; k < K; k++) {
    if (!(temps[k] > 0) || !Number.isFinite(temps[k])) throw new InvalidArgumentError(`parallelTempering: temperatures[${k}] must be a finite number > 0, got ${temps[k]}`);
    if (k > 0 && !(temps[k] > temps[k - 1])) throw new InvalidArgumentError(`parallelTempering: temperatures must increase (temperatures[${k}] = ${temps[k]} ≤ ${temps[k - 1]})`);
  }
  const steps = ptStepSizes(temps, opts.stepSize);
  const local = opts.local ?? 'mala';
  if (!['mala', 'hmc', 'ula'].includes(local)) throw new InvalidArgumentError(`parallelTempering: unknown local kernel "${local}" (mala, hmc, ula)`);
  const rowParams = (C: number): { temperature: Float64Array; stepSize: Float64Array } => {
    const temperature = new Float64Array(K * C);
    const stepSize = new Float64Array(K * C);
    for (let k = 0; k < K; k++) {
      temperature.fill(temps[k], k * C, (k + 1) * C);
      stepSize.fill(steps[k], k * C, (k + 1) * C);
    }
    return { temperature, stepSize };
  };
  const cache = new Map<number, { temperature: Float64Array; stepSize: Float64Array }>();
  const paramsFor = (C: number) => {
    let p = cache.get(C);
    if (!p) {
      p = rowParams(C);
      cache.set(C, p);
    }
    return p;
  };
  return {
    name: 'pt',
    rejectsDivergent: local !== 'ula',
    init(position: Tensor): PtState {
      const C = position.shape[0];
      return { replicas: ulaInit(energy, concat(new Array<Tensor>(K).fill(position), 0)), chains: C, step: 0 };
    },
    step(key: Key, state: PtState): readonly [PtState, PtInfo] {
      const C = state.chains;
      const n = K * C;
      const [kLocal, kSwap] = split(key, 2);
      const pp = paramsFor(C);
      const common = { ...pp, maxGradNorm: opts.maxGradNorm, box: opts.box };
      let moved: EnergyState;
      let acceptanceProb: Float64Array;
      let divergent: Uint8Array;
      if (local === 'ula') {
        const [s, info] = ulaKernel(energy, kLocal, state.replicas, common);
        moved = s;
        acceptanceProb = new Float64Array(n).fill(1);
        divergent = info.divergent;
      } else if (local === 'mala') {
        const [s, info] = malaKernel(energy, kLocal, state.replicas, common);
        moved = s;
        acceptanceProb = info.acceptanceProb;
        divergent = info.divergent;
      } else {
        const [s, info] = hmcKernel(energy, kLocal, state.replicas, { ...common, leapfrogSteps: opts.leapfrogSteps ?? 5 });
        moved = s;
        acceptanceProb = info.acceptanceProb;
        divergent = info.divergent;
      }
      // Swaps on pairs (k, k+1) with k ≡ step (mod 2).
      const u = uniformArray(kSwap, n, 'float64');
      const perm = new Int32Array(n);
      for (let i = 0; i < n; i++) perm[i] = i;
      const swapAttempted = new Uint8Array(K - 1);
      const swapAcceptance = new Float64Array(K - 1);
      const e = moved.energy.data;
      for (let k = state.step % 2; k < K - 1; k += 2) {
        swapAttempted[k] = 1;
        const db = 1 / temps[k] - 1 / temps[k + 1];
        let tot = 0;
        for (let c = 0; c < C; c++) {
          const i = k * C + c;
          const j = (k + 1) * C + c;
          const logA = (e[i] - e[j]) * db;
          const a = logA >= 0 ? 1 : Math.exp(logA);
          tot += a;
          if (u[i] < a) {
            perm[i] = j;
            perm[j] = i;
          }
        }
        swapAcceptance[k] = tot / C;
      }
      const replicas: EnergyState = {
        position: gatherRows(moved.position, perm),
        energy: gatherRows(moved.energy, perm),
        grad: gatherRows(moved.grad, perm),
      };
      return [{ replicas, chains: C, step: state.step + 1 }, { acceptanceProb, divergent, swapAttempted, swapAcceptance }];
    },
    observe: (s) => sliceAxis(s.replicas.position, 0, 0, s.chains),
    energyOf: (s) => sliceAxis(s.replicas.energy, 0, 0, s.chains),
  };
}

/**
 * Swap acceptance rate per adjacent pair over a run: the mean of `swapAcceptance` over the steps where the pair was
 * attempted (NaN for a pair never attempted, i.e. a run of one step). Rates near 0 mean a temperature gap too wide; aim for roughly 0.2–0.5.
 */
export function swapRates(infos: readonly PtInfo[]): Float64Array {
  if (!infos.length) throw new InvalidArgumentError('swapRates: no infos');
  const m = infos[0].swapAcceptance.length;
  const tot = new Float64Array(m);
  const cnt = new Float64Array(m);
  for (const inf of infos) {
    for (let k = 0; k < m; k++) {
      if (inf.swapAttempted[k]) {
        tot[k] += inf.swapAcceptance[k];
        cnt[k]++;
      }
    }
  }
  return tot.map((t, k) => (cnt[k] ? t / cnt[k] : NaN));
}
