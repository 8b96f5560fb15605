/**
 * `ebm sample --energy NAME`: MCMC on an analytic energy (issue 4). Builds the energy from `--params` JSON with the
 * energy registry, the sampler from `--sampler` (+ `--step-size`, `--sampler-options` JSON) with the sampler registry,
 * runs `--chains` chains for `--steps` transitions from `N(0, I)` starts, discards `--burn-in`, writes the recorded
 * samples and reports acceptance, ESS and split-R̂ per dimension, the sample mean and covariance, and the analytic
 * moments where known. The options are added to `ebm sample` by {@link addEnergySampleOptions}.
 */
import type { Command } from 'commander';
import { Tensor, noGrad } from '../../tensor/index.js';
import { key as makeKey, normal, split } from '../../random/index.js';
import { analyticEnergies, type AnalyticEnergyName } from '../../energy/registry.js';
import { EnergyParamsError, type AnalyticEnergy } from '../../energy/index.js';
import { samplerRegistry, SamplerOptionsError, type SamplerName } from '../../samplers/registry.js';
import { sample as runSampler } from '../../samplers/sample.js';
import { DivergenceError, type BaseInfo } from '../../samplers/types.js';
import { swapRates, type PtInfo } from '../../samplers/pt.js';
import { summarizeChains } from '../../eval/diagnostics.js';
import { heatmapPng } from '../../io/png.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { printResult, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseChoice, parseNonNegativeInt, parsePositiveInt } from '../options.js';
import { SAMPLE_EXTS, checkOutputPath, fmt, writeSamples } from '../common.js';
import { progressBar } from '../progress.js';
import { InvalidArgumentError, InvalidTypeError } from '../../errors.js';

/** Energy names accepted by `--energy`. */
export const ENERGY_NAMES = Object.keys(analyticEnergies) as AnalyticEnergyName[];
/** Sampler names accepted by `--sampler`. */
export const SAMPLER_NAMES = Object.keys(samplerRegistry) as SamplerName[];

/** Help text listing the `--params` and `--sampler-options` JSON of every energy and sampler. */
export const ENERGY_SAMPLE_HELP = `
Analytic energies (ebm sample --energy NAME --params '<json>'):
  gaussian    {"mean":[0,0],"cov":[[1,0.5],[0.5,1]]}          cov optional (identity)
  gmm         {"means":[[-2,0],[2,0]],"covs":[[[1,0],[0,1]],[[1,0],[0,1]]],"weights":[0.5,0.5]}
              or {"means":[…],"std":0.5}                      std: isotropic σ (default 1); weights optional (uniform)
  doublewell  {"dim":2,"barrier":4,"center":1,"std":1}        all optional
  banana      {"dim":2,"curvature":1,"mean1":0,"std1":1,"std2":1}   all optional
  ring        {"dim":2,"radius":3,"std":0.5}                  all optional
  funnel      {"dim":10,"scale":3}                            all optional
Samplers (--sampler NAME, --step-size S (default 0.1), extra options as --sampler-options '<json>'):
  ula         {"temperature":1}                 unadjusted Langevin, x ← x − S∇E + √(2S)ξ
  mala        {"temperature":1}                 Metropolis-adjusted Langevin
  hmc         {"leapfrogSteps":10,"inverseMass":[…]} Hamiltonian Monte Carlo, leapfrog step S
  annealed    {"sigmaMax":10,"sigmaMin":0.1,"levels":10,"stepsPerLevel":100}   annealed Langevin
              (gaussian and gmm only; --step-size is the base step ε, default 0.1·sigmaMin²)
  pt          {"tMax":20,"numTemperatures":8,"local":"mala"}   parallel tempering, local step S
  every sampler also takes {"maxGradNorm":c,"box":[lo,hi]}.
Example:
  ebm sample --energy gmm --params '{"means":[[-3,0],[3,0]],"std":0.7}' --sampler pt --chains 16 \\
    --steps 4000 --burn-in 1000 --step-size 0.3 --seed 1 --out s.csv --plot p.png --json
`;

/** Values of the `ebm sample` options used in `--energy` mode. */
export interface EnergySampleOptions {
  energy: AnalyticEnergyName;
  params?: string;
  sampler: SamplerName;
  samplerOptions?: string;
  chains: number;
  steps?: number;
  burnIn?: number;
  stepSize?: number;
  seed: number;
  out: string;
  plot?: string;
  quiet?: boolean;
  json?: boolean;
}

/** Adds the `--energy` mode options (`--energy`, `--params`, `--sampler`, `--sampler-options`, `--chains`, `--burn-in`) and help text to `ebm sample`. */
export function addEnergySampleOptions(cmd: Command): Command {
  return cmd
    .option('--energy <name>', `sample an analytic energy instead of a model file: ${ENERGY_NAMES.join(', ')}`, parseChoice(ENERGY_NAMES))
    .option('--params <json>', 'energy parameters as a JSON object (see below)')
    .option('--sampler <name>', `--energy: MCMC sampler, ${SAMPLER_NAMES.join(', ')}`, parseChoice(SAMPLER_NAMES), 'mala' as SamplerName)
    .option('--sampler-options <json>', '--energy: extra sampler options as a JSON object (see below)')
    .option('--chains <c>', '--energy: number of chains', parsePositiveInt, 16)
    .option('--burn-in <b>', '--energy: transitions discarded before recording (default: half of --steps)', parseNonNegativeInt)
    .addHelpText('after', ENERGY_SAMPLE_HELP);
}

/**
 * Parses a JSON command-line value; a syntax error is a {@link UsageError} naming the flag.
 * @example parseJsonFlag('{"mean":[0]}', '--params') // { mean: [0] }
 */
export function parseJsonFlag(raw: string, flag: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new UsageError(`${flag} is not valid JSON (${(e as Error).message}): ${raw.length > 80 ? raw.slice(0, 77) + '…' : raw}`);
  }
}

/**
 * A heat map of a 2-D energy `E` on `box = [xmin, xmax, ymin, ymax]` (`res × res` cells, colour = E clipped to
 * `[min E, min E + 15]`, i.e. densities down to e⁻¹⁵ of the mode; low energy dark) with `points [m, 2]` drawn on top.
 */
export function energyHeatmapPng(E: AnalyticEnergy, box: [number, number, number, number], points?: Tensor, res = 160, scale = 3): Uint8Array {
  const [x0, x1, y0, y1] = box;
  const pts = new Float64Array(res * res * 2);
  for (let i = 0; i < res; i++) {
    const y = y1 - ((i + 0.5) * (y1 - y0)) / res;
    for (let j = 0; j < res; j++) {
      pts[2 * (i * res + j)] = x0 + ((j + 0.5) * (x1 - x0)) / res;
      pts[2 * (i * res + j) + 1] = y;
    }
  }
  const e = noGrad(() => E.energy(new Tensor(pts, [res * res, 2])));
  const vals = Float64Array.from(e.data);
  let mn = Infinity;
  for (const v of vals) if (v < mn) mn = v;
  return heatmapPng(new Tensor(vals, [res, res]), {
    extent: box, scale, colormap: 'viridis', vmin: mn, vmax: mn + 15,
    ...(points ? { points: { x: points, color: [255, 80, 60] as const, radius: 1 } } : {}),
  });
}

/** The plotting box: a square (equal scales on both axes) around the samples' central 99.8 % range, widened by 15 %. */
function plotBox(x: Tensor): [number, number, number, number] {
  const n = x.shape[0];
  const lo: number[] = [], hi: number[] = [];
  for (let k = 0; k < 2; k++) {
    const col = Float64Array.from({ length: n }, (_, i) => x.data[2 * i + k]).sort();
    lo.push(col[Math.floor(0.001 * (n - 1))]);
    hi.push(col[Math.ceil(0.999 * (n - 1))]);
  }
  const half = 0.5 * 1.3 * Math.max(hi[0] - lo[0], hi[1] - lo[1], 1e-3);
  const cx = 0.5 * (lo[0] + hi[0]), cy = 0.5 * (lo[1] + hi[1]);
  return [cx - half, cx + half, cy - half, cy + half];
}

/**
 * Runs `ebm sample --energy …` (called inside `runCommand` by `ebm sample`): validates everything before sampling,
 * samples, then writes `--out` (CSV/NPY: one row per recorded draw, step-major — draw t of chain c is row `t·C + c`;
 * PNG: the `--plot` picture) and `--plot`, and prints the result.
 */
export async function sampleEnergy(ctx: CliContext, o: EnergySampleOptions): Promise<void> {
  checkOutputPath(o.out, '--out', SAMPLE_EXTS);
  if (o.plot) checkOutputPath(o.plot, '--plot', ['.png']);
  let E: AnalyticEnergy;
  const params = o.params === undefined ? {} : parseJsonFlag(o.params, '--params');
  try {
    E = analyticEnergies[o.energy](params);
  } catch (e) {
    if (e instanceof EnergyParamsError || e instanceof InvalidArgumentError || e instanceof InvalidTypeError) throw new UsageError(`--params: ${(e as Error).message}`);
    throw e;
  }
  const d = E.dim;
  const wantsPng = o.out.toLowerCase().endsWith('.png');
  if ((o.plot || wantsPng) && d !== 2) throw new UsageError(`${o.plot ? '--plot' : `--out ${o.out}`}: a picture needs a 2-D energy, ${o.energy} has dimension ${d}`);
  const extra = o.samplerOptions === undefined ? {} : parseJsonFlag(o.samplerOptions, '--sampler-options');
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) throw new UsageError('--sampler-options must be a JSON object');
  const sOpts: Record<string, unknown> = { ...(extra as Record<string, unknown>) };
  const stepKey = 'stepSize';
  if (o.stepSize !== undefined) {
    if (sOpts[stepKey] !== undefined) throw new UsageError(`give the step size either as --step-size or as "${stepKey}" in --sampler-options, not both`);
    sOpts[stepKey] = o.stepSize;
  } else if (o.sampler === 'annealed') {
    // Default ε = 0.1·σ_min²: each level then gets 100·ε/σ_min² = 10 relaxation times' worth of Langevin time per
    // 100 steps relative to its variance scale σᵢ² (NCSN's ε = 2e-5 is tuned for images with σ_min = 0.01).
    const sig = Array.isArray(sOpts.sigmas) ? (sOpts.sigmas as unknown[]) : null;
    const last = sig && typeof sig[sig.length - 1] === 'number' ? (sig[sig.length - 1] as number) : undefined;
    const sMin = last ?? (typeof sOpts.sigmaMin === 'number' ? sOpts.sigmaMin : 0.1);
    if (sOpts.stepSize === undefined && sOpts.snr === undefined && sMin > 0) sOpts.stepSize = 0.1 * sMin * sMin;
  } else if (sOpts.stepSize === undefined && sOpts.gradStep === undefined) {
    sOpts.stepSize = 0.1;
  }
  let alg;
  try {
    alg = samplerRegistry[o.sampler](E, sOpts);
  } catch (e) {
    if (e instanceof SamplerOptionsError || e instanceof InvalidArgumentError) throw new UsageError(`--sampler ${o.sampler}: ${(e as Error).message}`);
    throw e;
  }
  const steps = o.steps ?? 2000;
  const burnIn = o.burnIn ?? Math.floor(steps / 2);
  if (steps - burnIn < 4) throw new UsageError(`--burn-in ${burnIn} leaves ${Math.max(0, steps - burnIn)} of --steps ${steps} recorded; at least 4 are needed for the diagnostics`);
  const [kInit, kRun] = split(makeKey(o.seed), 2);
  const init = normal(kInit, [o.chains, d], { dtype: 'float64' });
  const bar = progressBar(ctx.io, 'sample', steps, o.quiet);
  const t0 = performance.now();
  let res;
  try {
    res = runSampler(alg, { key: kRun, init, steps, burnIn, onStep: (t) => void bar.update(t) });
  } catch (e) {
    bar.done();
    if (e instanceof DivergenceError) throw new UsageError(`--step-size: ${e.message}`);
    throw e;
  }
  bar.done();
  const seconds = (performance.now() - t0) / 1000;
  const kept = res.samples.shape[0];
  const flat = new Tensor(res.samples.data, [kept * o.chains, d]);
  for (let i = 0; i < flat.data.length; i++) {
    if (!Number.isFinite(flat.data[i])) throw new UsageError(`--step-size: sample ${Math.floor(i / d) + 1} has a non-finite coordinate; lower the step size`);
  }
  const s = summarizeChains(res.samples);
  const post = res.infos.slice(burnIn) as (BaseInfo & { acceptanceProb?: Float64Array })[];
  let acceptance: number | null = null;
  if (post.length && post[0].acceptanceProb && o.sampler !== 'ula' && !(o.sampler === 'pt' && sOpts.local === 'ula')) {
    let sum = 0, cnt = 0;
    for (const inf of post) for (const a of inf.acceptanceProb!) { sum += a; cnt++; }
    acceptance = sum / cnt;
  }
  const analyticMean = E.mean ? Array.from(E.mean()) : null;
  const cv = E.covariance ? E.covariance() : null;
  const analyticCov = cv ? Array.from({ length: d }, (_, i) => Array.from(cv.subarray(i * d, i * d + d))) : null;
  const plotFn = d === 2 ? () => {
    const m = flat.shape[0];
    const show = m > 2000 ? new Tensor(flat.data.subarray((m - 2000) * 2), [2000, 2]) : flat;
    return energyHeatmapPng(E, plotBox(flat), show);
  } : undefined;
  // Work done: write the outputs.
  await writeSamples(o.out, flat, plotFn ? { plot: plotFn } : {});
  if (o.plot && plotFn) await writeFileAtomic(o.plot, plotFn());
  const result: Record<string, unknown> = {
    energy: o.energy, params, dim: d, sampler: o.sampler, samplerOptions: sOpts, chains: o.chains, steps, burnIn,
    kept, samples: kept * o.chains, acceptance,
    ...(o.sampler === 'pt' ? { swapRates: Array.from(swapRates(res.infos as unknown as PtInfo[])) } : {}),
    divergences: res.divergences,
    ess: s.ess, essMin: minOf(s.ess), rhat: s.rhat, rhatMax: maxOf(s.rhat), mcse: s.mcse,
    mean: s.mean, cov: s.cov, analyticMean, analyticCov, logZ: E.logZ(), seconds, out: o.out, plot: o.plot ?? null,
  };
  const vec = (v: readonly (number | null)[]): string => `[${v.slice(0, 6).map((x) => (x === null ? '–' : fmt(x))).join(', ')}${v.length > 6 ? ', …' : ''}]`;
  printResult(ctx, o.json, result, () =>
    [
      `${o.sampler} on ${o.energy} (d=${d}): ${o.chains} chains × ${steps} steps (${burnIn} burn-in) in ${fmt(seconds)} s`,
      ...(acceptance !== null ? [`acceptance    ${fmt(acceptance)}`] : []),
      `ESS           ${vec(s.ess)}`,
      `split-R̂       ${vec(s.rhat)}`,
      `mean          ${vec(s.mean)}`,
      ...(analyticMean ? [`true mean     ${vec(analyticMean)}`] : []),
      `samples       ${o.out}`,
      ...(o.plot ? [`plot          ${o.plot}`] : []),
    ].join('\n'),
  );
}

function minOf(v: readonly (number | null)[]): number | null {
  const f = v.filter((x): x is number => x !== null);
  return f.length ? f.reduce((a, b) => (b < a ? b : a)) : null;
}

function maxOf(v: readonly (number | null)[]): number | null {
  const f = v.filter((x): x is number => x !== null);
  return f.length ? f.reduce((a, b) => (b > a ? b : a)) : null;
}
