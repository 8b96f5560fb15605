/**
 * Benchmark: deep EBMs (MLP 2-128-128-1, SiLU) trained by contrastive divergence with persistent parallel-tempering
 * negatives (MALA at every temperature, the T = 1 chains are the negatives) on toy:8gaussians and toy:rings; test NLL with grid-quadrature log Z next to the true density's
 * NLL on the same points, MMD and mode weights. Writes the section between `<!-- deep-ebm-2d:start -->` and
 * `<!-- deep-ebm-2d:end -->` of bench/RESULTS.md (unless `--no-write`).
 *
 * Usage: `npx tsx bench/deep-ebm-2d.ts [--only 8gaussians|rings] [--steps N] [--no-write]` (experiments:
 * `--lr --chains --temps --t-max --mcmc --batch --fourier m:scale --no-fourier` override the settings and disable writing).
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { key, split, foldIn } from '../src/random/index.js';
import { getToy } from '../src/data/toy.js';
import { mala, geometricTemperatures } from '../src/samplers/index.js';
import { contrastiveDivergence } from '../src/losses/contrastiveDivergence.js';
import { runChains } from '../src/losses/contrastiveDivergence.js';
import { parseArch, initDeepEbm, deepEbmEnergy, standardization, trainDeepEbm, type DeepEbmConfig } from '../src/models/deepEbm/index.js';
import { initFourierFeatures } from '../src/nn/index.js';
import { evaluate2d, toyModes, widenBox } from '../src/eval/harness2d.js';
import { cosineDecay } from '../src/optim/index.js';
import { Tensor } from '../src/tensor/index.js';
import { backendInfo, initBackend } from '../src/tensor/select.js';

initBackend();

function sliceRows(t: Tensor, n: number): Tensor {
  const D = t.size / t.shape[0];
  return new Tensor(t.data.slice(0, n * D), [n, ...t.shape.slice(1)]);
}

interface Setting {
  readonly name: string;
  readonly steps: number;
  /** MALA step size at T = 1 (scaled by T at hotter replicas). */
  readonly stepSize: number;
  /** PT transitions per training step. */
  readonly mcmcSteps: number;
  readonly tMax: number;
  readonly temps: number;
  /** Persistent chains per temperature (= negatives per step). */
  readonly chains: number;
  readonly lr: number;
  readonly batch: number;
  readonly alpha: number;
  readonly confine: number;
  /** Decay of the parameter EMA used for evaluation. */
  readonly ema: number;
  /** Random Fourier input features `m:scale` (see `initFourierFeatures`), or null for the plain MLP on z. */
  readonly fourier: { readonly features: number; readonly scale: number } | null;
}

/** Fourier features used by both settings: 64 frequencies, N(0, 0.5²) cycles per standardised unit. */
const FF = { features: 64, scale: 0.5 } as const;

const SETTINGS: Setting[] = [
  { name: '8gaussians', steps: 1500, stepSize: 4e-3, mcmcSteps: 5, tMax: 10, temps: 6, chains: 256, lr: 2e-3, batch: 256, alpha: 0, confine: 1e-2, ema: 0.99, fourier: FF },
  { name: 'rings', steps: 2000, stepSize: 1e-3, mcmcSteps: 2, tMax: 20, temps: 6, chains: 128, lr: 2e-3, batch: 256, alpha: 0, confine: 1e-2, ema: 0.99, fourier: FF },
];

const args = process.argv.slice(2);
const argVal = (k: string): string | undefined => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = argVal('--only');
const stepsOverride = argVal('--steps') ? Number(argVal('--steps')) : undefined;
const write = !args.includes('--no-write');

interface Row {
  s: Setting;
  steps: number;
  rep: ReturnType<typeof evaluate2d>;
  seconds: number;
  rollbacks: number;
}

function run(s: Setting): Row {
  const toy = getToy(s.name);
  const [kTrain, kTest, kInit, kRun, kSample] = split(key(2024), 5);
  const data = toy.sample(kTrain, 20000);
  const test = toy.sample(kTest, 5000);
  const { shift, scale } = standardization(data);
  const cfg: DeepEbmConfig = {
    arch: parseArch('mlp:2-128-128-1'), activation: 'silu', shift, scale, confine: s.confine,
    ...(s.fourier ? { fourier: initFourierFeatures(foldIn(key(2024), 0xf0), 2, s.fourier.features, s.fourier.scale) } : {}),
  };
  const params = initDeepEbm(kInit, cfg);
  const b = toy.bounds!;
  const cd = contrastiveDivergence({
    energy: (p: Record<string, import('../src/tensor/index.js').Tensor>) => deepEbmEnergy(p, cfg),
    steps: s.mcmcSteps,
    negatives: 'tempered',
    tempering: { temperatures: geometricTemperatures(s.tMax, s.temps), stepSize: s.stepSize, local: 'mala', box: [-20, 20] },
    chains: s.chains,
    alpha: s.alpha,
    reinitFrom: { kind: 'uniform', low: [b[0], b[2]], high: [b[1], b[3]] },
  });
  const steps = s.steps;
  const t0 = performance.now();
  const res = trainDeepEbm({
    params, loss: cd, data, steps, batchSize: s.batch, key: kRun, lr: cosineDecay(s.lr, steps, 0.05), logEvery: 100, emaDecay: s.ema,
    onLog: (r) => console.error(`${s.name} step ${r.step} loss ${r.loss.toFixed(3)} gap ${r.gap.toFixed(3)} E+ ${r.ePos.toFixed(2)} |g| ${r.gradNorm.toFixed(2)} lr ${r.lr.toExponential(2)} ${r.time.toFixed(0)}s`),
    onRollback: (e) => console.error('rollback', e),
  });
  const seconds = (performance.now() - t0) / 1000;
  const ev = (p: typeof params) => {
    const E = deepEbmEnergy(p, cfg);
    // Model samples: the T = 1 chains after 200 more MALA steps under the final model.
    const samples = runChains((en) => mala(en, { stepSize: s.stepSize }), E, sliceRows(res.state.buffer!, s.chains), foldIn(kSample, 0), 200).x;
    return evaluate2d({ energy: E, test, trueLogDensity: (x) => toy.logDensity!(x), box: widenBox(b, 0.25), samples, modes: toyModes(s.name) });
  };
  const repRaw = ev(res.params);
  console.error(s.name, 'raw', JSON.stringify(repRaw));
  const rep = ev(res.emaParams!);
  console.error(s.name, 'ema', JSON.stringify(rep));
  return { s, steps, rep, seconds, rollbacks: res.events.length };
}

// Overrides for experiments (`--lr 5e-3 --chains 128 --temps 6 --t-max 20 --mcmc 4 --batch 256`); they disable writing.
const num = (k: string): number | undefined => (argVal(k) !== undefined ? Number(argVal(k)) : undefined);
const over = { lr: num('--lr'), chains: num('--chains'), temps: num('--temps'), tMax: num('--t-max'), mcmcSteps: num('--mcmc'), batch: num('--batch') };
const ffOver = args.includes('--no-fourier') ? null : argVal('--fourier') !== undefined
  ? { features: Number(argVal('--fourier')!.split(':')[0]), scale: Number(argVal('--fourier')!.split(':')[1]) } : undefined;
const overridden = Object.values(over).some((v) => v !== undefined) || ffOver !== undefined;
const withOver = (s: Setting): Setting => ({
  ...s, ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)),
  ...(ffOver !== undefined ? { fourier: ffOver } : {}),
  steps: stepsOverride ?? s.steps,
});
const rows = SETTINGS.filter((s) => !only || s.name === only).map(withOver).map(run);

const bi = backendInfo();
const f = (v: number, d = 3) => v.toFixed(d);
const lines = [
  '### Deep EBM (contrastive divergence) on 2-D toys',
  '',
  'MLP 2-128-128-1 SiLU on standardised inputs z plus ½·c‖z‖² (c = 10⁻²); with Fourier features (column "FF", m:scale) the',
  'MLP reads φ(z) = [sin 2πzB, cos 2πzB], B ~ N(0, scale²) of shape 2×m, fixed (128 inputs for m = 64). Trained by contrastive divergence (loss',
  '`mean E(x⁺) − mean E(x⁻)`) with parallel-tempering negatives: C persistent chains at each of K temperatures',
  '(geometric ladder 1 … T_max), per training step `PT steps` transitions (MALA at every temperature, step η·T, then',
  'even/odd neighbour swaps) under the current model; the C chains at T = 1 are the negatives. Adam with cosine decay,',
  'parameter EMA (decay 0.99) evaluated, 20 000 training points; test NLL on 5 000 held-out points with log Z by',
  'trapezoid quadrature on 512² points of the data box widened by 25 % per side. Gap = model NLL − true NLL (≈ KL(p‖q));',
  `± is the standard error over test points. Backend: ${bi.backend}${bi.blas ? ' + BLAS' : ''}, 2 shared cores. Command: \`npx tsx bench/deep-ebm-2d.ts\`.`,
  '',
  '| data | FF | steps | PT steps | temps (T_max) | chains | η | lr | true NLL | model NLL | gap (nat) | log Z err | edge ratio | MMD² | mode weights (model, grid) | rollbacks | time |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(({ s, steps, rep, seconds, rollbacks }) =>
    `| toy:${s.name} | ${s.fourier ? `${s.fourier.features}:${s.fourier.scale}` : 'none'} | ${steps} | ${s.mcmcSteps} | ${s.temps} (${s.tMax}) | ${s.chains} | ${s.stepSize} | ${s.lr} | ${f(rep.trueNll)} | ${f(rep.modelNll)} | ${f(rep.nllGap)} ± ${f(rep.nllGapStdErr)} | ${rep.logZError.toExponential(1)} | ` +
    `${rep.boundaryRatio.toExponential(1)} | ${rep.mmd === null ? '–' : rep.mmd.toExponential(2)} | ${rep.modes ? rep.modes.modelWeights.map((w) => w.toFixed(3)).join(' ') : '–'} | ` +
    `${rollbacks} | ${seconds.toFixed(0)} s |`),
  '',
  'Target: gap ≤ 0.15 nat (goal 0.05).',
  '',
  'Without Fourier features (the plain MLP on z, same harness, earlier runs): 8gaussians 0.043 ± 0.003 after 1500 steps;',
  'rings 0.230 ± 0.008 after 16 000 steps (lr 5e-3), and the gap fell only slowly with training length (2500 steps: 0.387,',
  '5000: 0.348, 8000: 0.249). The thin rings (σ = 0.08) are high-frequency structure that a coordinate MLP learns slowly',
  '(spectral bias); with the features the rings reach 0.035 in 2000 steps. A scale of 1 instead of 0.5 was worse in a',
  'score-model sweep (rings 0.44 vs 0.22 at 6000 steps).',
  'The CLI reproduces the rings row: `ebm train ebm --data toy:rings --n 20000 --arch mlp:2-128-128-1 --fourier 64:0.5',
  '--negatives tempered --sampler mala --t-max 20 --temps 6 --chains 128 --mcmc-steps 2 --step-size 1e-3 --confine 1e-2',
  '--batch 256 --lr 2e-3 --lr-decay cosine --ema 0.99 --steps 2000` (62 s) then `ebm eval … --data toy:rings --n 10000',
  '--seed 5`: avg log-lik −2.681 vs true −2.627 on 10 000 fresh points (gap 0.055 nat, 200² grid).',
];
const section = lines.join('\n');
console.log(section);

if (write && !only && stepsOverride === undefined && !overridden) {
  const path = new URL('./RESULTS.md', import.meta.url);
  const start = '<!-- deep-ebm-2d:start -->';
  const end = '<!-- deep-ebm-2d:end -->';
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const block = `${start}\n${section}\n${end}`;
  const a = text.indexOf(start), z = text.indexOf(end);
  text = a >= 0 && z > a ? text.slice(0, a) + block + text.slice(z + end.length) : text.replace(/\n*$/, '\n\n') + block + '\n';
  writeFileSync(path, text);
  console.error('wrote bench/RESULTS.md');
}
