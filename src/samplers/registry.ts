/** Registry of samplers by name, each built from an energy and validated JSON options (for the CLI). */
import type { AnalyticEnergy, Energy } from '../energy/index.js';
import type { BaseInfo, SamplingAlgorithm, Safeguards } from './types.js';
import { ula } from './ula.js';
import { mala } from './mala.js';
import { hmc } from './hmc.js';
import { annealedLangevin, geometricSigmas } from './annealed.js';
import { geometricTemperatures, parallelTempering, type PtLocalKernel } from './pt.js';
import { EbmError, type EbmErrorCode } from '../errors.js';

/** Names accepted by {@link samplerRegistry}. */
export type SamplerName = 'ula' | 'mala' | 'hmc' | 'annealed' | 'pt';

/** Thrown when sampler options are malformed; names the sampler and the option. */
export class SamplerOptionsError extends EbmError {
  readonly code: EbmErrorCode = 'SAMPLER_OPTIONS';
  override name = 'SamplerOptionsError';
}

type Rec = Record<string, unknown>;

function record(o: unknown, who: string, allowed: readonly string[]): Rec {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new SamplerOptionsError(`${who}: options must be a JSON object`);
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new SamplerOptionsError(`${who}: unknown option "${k}" (allowed: ${allowed.join(', ')})`);
  return o as Rec;
}

function num(r: Rec, k: string, who: string, def?: number, integer = false): number {
  const v = r[k];
  if (v === undefined) {
    if (def === undefined) throw new SamplerOptionsError(`${who}: missing required option "${k}"`);
    return def;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw new SamplerOptionsError(`${who}: "${k}" must be a finite number > 0, got ${JSON.stringify(v)}`);
  if (integer && !Number.isInteger(v)) throw new SamplerOptionsError(`${who}: "${k}" must be an integer, got ${v}`);
  return v;
}

function optNum(r: Rec, k: string, who: string): number | undefined {
  return r[k] === undefined ? undefined : num(r, k, who);
}

function numArray(r: Rec, k: string, who: string): number[] | undefined {
  const v = r[k];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.length || !v.every((e) => typeof e === 'number' && Number.isFinite(e) && e > 0)) {
    throw new SamplerOptionsError(`${who}: "${k}" must be a non-empty array of finite numbers > 0, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

function safeguards(r: Rec, who: string): Safeguards {
  const box = r.box;
  if (box !== undefined && (!Array.isArray(box) || box.length !== 2 || !box.every((e) => typeof e === 'number') || !(box[0] < box[1]))) {
    throw new SamplerOptionsError(`${who}: "box" must be [lo, hi] with lo < hi, got ${JSON.stringify(box)}`);
  }
  return { maxGradNorm: optNum(r, 'maxGradNorm', who), box: box as [number, number] | undefined };
}

const SAFE = ['maxGradNorm', 'box'];

/**
 * Builders of samplers from an energy and untrusted JSON options; unknown or malformed options throw a
 * `SamplerOptionsError`. Options (all numbers > 0; every sampler also takes `maxGradNorm` and `box: [lo, hi]`):
 * - `ula`: `{stepSize, temperature = 1}` or decoupled `{gradStep, noiseScale}` (reports the implied temperature).
 * - `mala`: `{stepSize, temperature = 1}`.
 * - `hmc`: `{stepSize, leapfrogSteps = 10, temperature = 1, inverseMass: [..d]}`.
 * - `annealed`: `{sigmaMax = 10, sigmaMin = 0.1, levels = 10}` or `{sigmas: [...]}`, `{stepsPerLevel = 100,
 *   stepSize = 2e-5 or snr, temperature = 1}`; needs an energy with `smoothed(σ)` (gaussian, gmm).
 * - `pt`: `{temperatures: [...]}` or `{tMax = 20, numTemperatures = 8}`, `{stepSize, local = "mala" | "hmc" | "ula",
 *   leapfrogSteps = 5}`.
 * @example const alg = samplerRegistry.mala(analyticEnergies.banana({}), { stepSize: 0.1 });
 */
export const samplerRegistry: Readonly<Record<SamplerName, (energy: Energy, options: unknown) => SamplingAlgorithm<unknown, BaseInfo>>> = Object.freeze({
  ula(energy: Energy, options: unknown) {
    const r = record(options, 'ula', ['stepSize', 'temperature', 'gradStep', 'noiseScale', ...SAFE]);
    const sg = safeguards(r, 'ula');
    if (r.gradStep !== undefined || r.noiseScale !== undefined) {
      if (r.stepSize !== undefined || r.temperature !== undefined) throw new SamplerOptionsError('ula: give either {stepSize, temperature} or {gradStep, noiseScale}, not both');
      return ula(energy, { gradStep: num(r, 'gradStep', 'ula'), noiseScale: num(r, 'noiseScale', 'ula'), ...sg }) as SamplingAlgorithm<unknown, BaseInfo>;
    }
    return ula(energy, { stepSize: num(r, 'stepSize', 'ula'), temperature: num(r, 'temperature', 'ula', 1), ...sg }) as SamplingAlgorithm<unknown, BaseInfo>;
  },
  mala(energy: Energy, options: unknown) {
    const r = record(options, 'mala', ['stepSize', 'temperature', ...SAFE]);
    return mala(energy, { stepSize: num(r, 'stepSize', 'mala'), temperature: num(r, 'temperature', 'mala', 1), ...safeguards(r, 'mala') }) as SamplingAlgorithm<unknown, BaseInfo>;
  },
  hmc(energy: Energy, options: unknown) {
    const r = record(options, 'hmc', ['stepSize', 'leapfrogSteps', 'temperature', 'inverseMass', ...SAFE]);
    const im = numArray(r, 'inverseMass', 'hmc');
    return hmc(energy, {
      stepSize: num(r, 'stepSize', 'hmc'), leapfrogSteps: num(r, 'leapfrogSteps', 'hmc', 10, true), temperature: num(r, 'temperature', 'hmc', 1),
      inverseMass: im ? Float64Array.from(im) : undefined, ...safeguards(r, 'hmc'),
    }) as SamplingAlgorithm<unknown, BaseInfo>;
  },
  annealed(energy: Energy, options: unknown) {
    const r = record(options, 'annealed', ['sigmas', 'sigmaMax', 'sigmaMin', 'levels', 'stepsPerLevel', 'stepSize', 'snr', 'temperature', ...SAFE]);
    const given = ['stepSize', 'snr'].filter((k) => r[k] !== undefined);
    if (given.length > 1) throw new SamplerOptionsError(`annealed: give one step-size rule, got ${given.join(' and ')}`);
    const smoothed = (energy as Partial<AnalyticEnergy>).smoothed;
    if (typeof smoothed !== 'function') {
      throw new SamplerOptionsError('annealed: this energy has no Gaussian-smoothed family smoothed(σ) (gaussian and gmm do); use "pt" or a noise-conditional model');
    }
    const sigmas = numArray(r, 'sigmas', 'annealed') ?? geometricSigmas(num(r, 'sigmaMax', 'annealed', 10), num(r, 'sigmaMin', 'annealed', 0.1), num(r, 'levels', 'annealed', 10, true));
    return annealedLangevin((s) => smoothed.call(energy, s), {
      sigmas, stepsPerLevel: num(r, 'stepsPerLevel', 'annealed', 100, true),
      ...(r.snr !== undefined ? { snr: num(r, 'snr', 'annealed') } : { stepSize: num(r, 'stepSize', 'annealed', 2e-5) }),
      temperature: num(r, 'temperature', 'annealed', 1), ...safeguards(r, 'annealed'),
    }) as SamplingAlgorithm<unknown, BaseInfo>;
  },
  pt(energy: Energy, options: unknown) {
    const r = record(options, 'pt', ['temperatures', 'tMax', 'numTemperatures', 'stepSize', 'local', 'leapfrogSteps', ...SAFE]);
    const local = r.local ?? 'mala';
    if (local !== 'mala' && local !== 'hmc' && local !== 'ula') throw new SamplerOptionsError(`pt: "local" must be "mala", "hmc" or "ula", got ${JSON.stringify(local)}`);
    const temperatures = numArray(r, 'temperatures', 'pt') ?? geometricTemperatures(num(r, 'tMax', 'pt', 20), num(r, 'numTemperatures', 'pt', 8, true));
    return parallelTempering(energy, {
      temperatures, stepSize: num(r, 'stepSize', 'pt'), local: local as PtLocalKernel, leapfrogSteps: num(r, 'leapfrogSteps', 'pt', 5, true), ...safeguards(r, 'pt'),
    }) as SamplingAlgorithm<unknown, BaseInfo>;
  },
});
