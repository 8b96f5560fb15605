/**
 * GPU bench mode (issue 17): steps/s of an MLP energy's Langevin (ULA) chain on the WebGPU device next to this
 * project's CPU backend, same model, key and chains; with `--workload rbm`, an RBM's block-Gibbs sweeps and CD-1
 * training steps (784 visible, 500 hidden, batch 128: `rbmGibbsSampleGpu` and `cdStepGpu` beside `rbmGibbsSample`
 * and `cdStep`); with `--workload score`, a score SDE's training steps and Euler–Maruyama sampling chain (time-conditioned
 * MLP 784-256-256-784, VP, batch 128: `scoreSdeTrainStepGpu` and `sampleScoreSdeGpu` beside `scoreSdeTrainStep` and
 * `sampleScoreSde`).
 *
 *   npx tsx bench/gpu.ts [--sizes 784,256,256] [--batch 128] [--steps 60] [--repeats 3] [--activation silu]
 *   npx tsx bench/gpu.ts --workload rbm [--sizes 784,500] [--batch 128] [--steps 60] [--repeats 3]
 *   npx tsx bench/gpu.ts --workload score [--sizes 784,256,256] [--batch 128] [--steps 60] [--repeats 3] [--activation silu]
 *   npx tsx bench/gpu.ts --workload conv [--sizes 32,64,64] [--batch 64] [--steps 20] [--repeats 3]   (bench/gpuConv.ts)
 *
 * The workload of docs/webgpu.md's table: MLP 784-256-256-1 SiLU, batch 128, a 60-step chain. With a real adapter it
 * prints steps/s of both backends (best of `repeats` after a warm-up run that compiles the pipelines) and the GPU's
 * dispatches and read-backs per step. With only a software adapter (SwiftShader, llvmpipe) or none it says so,
 * claims no GPU timing, and prints the design's expected figures instead; the software run is still made (a few
 * steps) to show that the chain runs and agrees with the CPU.
 *
 * Prints one JSON line last. Dawn in Node: set VK_ICD_FILENAMES to a Vulkan driver's ICD file when the loader does
 * not find one (SwiftShader's is /usr/lib/chromium/vk_swiftshader_icd.json on Debian).
 */
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend, backendInfo } from '../src/tensor/select.js';
import { key } from '../src/random/index.js';
import { initMlpEnergy, type MlpEnergyConfig } from '../src/models/mlpEnergy/model.js';
import { sampleMlpEnergy as langevinSample } from '../src/models/mlpEnergy/sample.js';
import { GpuKernels } from '../src/gpu/kernels.js';
import { releaseGpu } from '../src/gpu/device.js';
import { mlpLangevinChainGpu } from '../src/gpu/mlpLangevin.js';
import type { Activation } from '../src/nn/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { foldIn, uniformArray } from '../src/random/index.js';
import { createRBM } from '../src/models/rbm/params.js';
import { cdStep, initRbmCdState } from '../src/models/rbm/train.js';
import { cdStepGpu, rbmGibbsSampleGpu } from '../src/models/rbm/gpu.js';
import { rbmGibbsSample } from '../src/models/rbm/kind.js';
import { makeScoreSdeConfig, initScoreSdeState, scoreSdeTrainStep, sampleScoreSde, type ScoreSdeTrainState } from '../src/models/scoreSde/index.js';
import { scoreSdeTrainStepGpu, sampleScoreSdeGpu } from '../src/models/scoreSde/gpu.js';
import { normalArray } from '../src/random/index.js';
import { convBench } from './gpuConv.js';

const { values: a } = parseArgs({
  options: {
    sizes: { type: 'string', default: '784,256,256' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '60' },
    repeats: { type: 'string', default: '3' },
    activation: { type: 'string', default: 'silu' },
    'software-steps': { type: 'string', default: '5' },
    workload: { type: 'string', default: 'mlp' },
  },
});
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/ebm-ts-xdg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
}
initBackend();
if (a.workload === 'rbm') {
  await rbmBench();
  process.exit(0);
}
if (a.workload === 'score') {
  await scoreBench();
  process.exit(0);
}
if (a.workload === 'conv') {
  await convBench(a);
  process.exit(0);
}
if (a.workload !== 'mlp') throw new Error(`--workload must be mlp, rbm, score or conv, got ${a.workload}`);
const [dim, ...hidden] = a.sizes!.split(',').map(Number);
const n = Number(a.batch), steps = Number(a.steps), repeats = Number(a.repeats);
const cfg: MlpEnergyConfig = {
  dim, hidden, activation: a.activation as Activation, shift: new Array(dim).fill(0), scale: new Array(dim).fill(1),
  confine: 0.01, loss: 'dsm', sigma: 0.1, bounds: null,
};
const params = initMlpEnergy(key(0), cfg);
const eta = 1e-3;
const sizes = [dim, ...hidden, 1];
let macs = 0;
for (let i = 0; i + 1 < sizes.length; i++) macs += sizes[i] * sizes[i + 1];
// Forward and input-gradient products per step: 2 FLOPs per multiply-add, twice (forward + backward).
const flopsPerStep = 2 * 2 * n * macs;

function best(run: () => Promise<number> | number): Promise<number[]> {
  return (async () => {
    const out: number[] = [];
    for (let r = 0; r < repeats; r++) out.push(await run());
    return out;
  })();
}

const cpuName = backendInfo().backend;
const cpuTimes = await best(() => {
  const t0 = performance.now();
  langevinSample(params, cfg, key(1), n, { steps, stepSize: eta });
  return (performance.now() - t0) / 1000;
});
const cpuStepsPerS = steps / Math.min(...cpuTimes);
console.log(`MLP ${sizes.join('-')} ${cfg.activation}, batch ${n}, ${steps}-step ULA chain (${(flopsPerStep * steps / 1e9).toFixed(2)} GFLOP per chain)`);
console.log(`cpu (${cpuName}): ${cpuStepsPerS.toFixed(1)} steps/s (runs ${cpuTimes.map((t) => t.toFixed(3)).join(', ')} s)`);

const gpu = await GpuKernels.create();
const report: Record<string, unknown> = {
  workload: { sizes, activation: cfg.activation, batch: n, steps, flopsPerStep },
  cpu: { backend: cpuName, stepsPerS: cpuStepsPerS, seconds: cpuTimes },
};
if (!(gpu instanceof GpuKernels)) {
  console.log(`gpu: none — ${gpu.reason}. No GPU figures; docs/webgpu.md gives the expected ones (MLP chain: ~1–3 ms per 60-step chain on an H100-class GPU).`);
  report.gpu = { available: false, reason: gpu.reason };
} else {
  const software = gpu.info.software;
  const gSteps = software ? Math.min(steps, Number(a['software-steps'])) : steps;
  const run = async (): Promise<{ s: number; z: Float32Array }> => {
    const t0 = performance.now();
    const z = await mlpLangevinChainGpu(gpu, params, cfg.activation, cfg.confine, key(1), n, { steps: gSteps, stepSize: eta });
    return { s: (performance.now() - t0) / 1000, z: z.data as Float32Array };
  };
  const warm = await run(); // compiles the pipelines
  const d0 = gpu.stats.dispatches, r0 = gpu.stats.reads;
  const times: number[] = [];
  for (let r = 0; r < (software ? 1 : repeats); r++) times.push((await run()).s);
  const runs = software ? 1 : repeats;
  const dispatchesPerStep = (gpu.stats.dispatches - d0) / runs / gSteps;
  const readsPerChain = (gpu.stats.reads - r0) / runs;
  // Agreement with the CPU chain of the same length and key.
  const ref = langevinSample(params, cfg, key(1), n, { steps: gSteps, stepSize: eta }).data;
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - warm.z[i]));
  const desc = gpu.info.adapter?.description ?? '?';
  if (software) {
    console.log(`gpu: only a software adapter (${desc}) — it emulates the GPU on the CPU, so no GPU timing is claimed; ran ${gSteps} steps to check: max |GPU − CPU| = ${maxDiff.toExponential(2)}, ${dispatchesPerStep.toFixed(1)} dispatches/step, ${readsPerChain} read-back(s) per chain.`);
    console.log('Expected on an H100-class GPU (docs/webgpu.md): launch-bound, ~1–3 ms per 60-step chain of this workload.');
  } else {
    const gStepsPerS = gSteps / Math.min(...times);
    console.log(`gpu (${desc}): ${gStepsPerS.toFixed(1)} steps/s (runs ${times.map((t) => t.toFixed(4)).join(', ')} s), ${dispatchesPerStep.toFixed(1)} dispatches/step, ${readsPerChain} read-back(s) per chain; GPU/CPU ${(gStepsPerS / cpuStepsPerS).toFixed(2)}×; max |GPU − CPU| = ${maxDiff.toExponential(2)}`);
    report.gpuStepsPerS = gStepsPerS;
  }
  report.gpu = { available: true, adapter: gpu.info.adapter, software, steps: gSteps, seconds: times, warmupSeconds: warm.s, dispatchesPerStep, readsPerChain, maxAbsDiffVsCpu: maxDiff, timingsClaimed: !software };
  await releaseGpu();
}
console.log(JSON.stringify(report));

/** `--workload rbm`: Gibbs sweeps and CD-1 steps of a Bernoulli RBM on both backends (same keys and batches). */
async function rbmBench(): Promise<void> {
  const sizes = a.sizes === '784,256,256' ? [784, 500] : a.sizes!.split(',').map(Number);
  const [nv, nh] = sizes;
  const n = Number(a.batch), steps = Number(a.steps), repeats = Number(a.repeats);
  const p = createRBM({ visible: 'bernoulli', nVisible: nv, nHidden: nh, key: key(0), weightScale: 0.05 });
  const batch = new Tensor(uniformArray(key(2), n * nv, 'float32').map((u) => (u < 0.13 ? 1 : 0)), [n, nv]);
  const cdOpts = { lr: 0.05, k: 1, momentum: 0.5 };
  const time = async (f: () => unknown): Promise<number> => { const t0 = performance.now(); await f(); return (performance.now() - t0) / 1000; };
  const cpuName = backendInfo().backend;
  const cpuGibbs: number[] = [], cpuCd: number[] = [];
  for (let r = 0; r < repeats; r++) {
    cpuGibbs.push(await time(() => rbmGibbsSample(p, key(1), n, steps)));
    cpuCd.push(await time(() => { let s = initRbmCdState(), q = p; for (let t = 0; t < steps; t++) ({ params: q, state: s } = cdStep(q, batch, foldIn(key(3), t), s, cdOpts)); }));
  }
  const flopsSweep = 2 * 2 * n * nv * nh;
  console.log(`RBM ${nv}-${nh} (Bernoulli), batch ${n}: ${steps} Gibbs sweeps (${(flopsSweep * steps / 1e9).toFixed(2)} GFLOP) and ${steps} CD-1 steps`);
  console.log(`cpu (${cpuName}): Gibbs ${(steps / Math.min(...cpuGibbs)).toFixed(1)} sweeps/s (runs ${cpuGibbs.map((t) => t.toFixed(3)).join(', ')} s); CD-1 ${(steps / Math.min(...cpuCd)).toFixed(1)} steps/s (runs ${cpuCd.map((t) => t.toFixed(3)).join(', ')} s)`);
  const report: Record<string, unknown> = { workload: { kind: 'rbm', nv, nh, batch: n, steps }, cpu: { backend: cpuName, gibbsSeconds: cpuGibbs, cdSeconds: cpuCd } };
  const gpu = await GpuKernels.create();
  if (!(gpu instanceof GpuKernels)) {
    console.log(`gpu: none — ${gpu.reason}. No GPU figures.`);
    report.gpu = { available: false, reason: gpu.reason };
  } else {
    const software = gpu.info.software;
    const gSteps = software ? Math.min(steps, Number(a['software-steps'])) : steps;
    const gibbs = (): Promise<Tensor> => rbmGibbsSampleGpu(gpu, p, key(1), n, gSteps);
    const cd = async (): Promise<void> => { let s = initRbmCdState(), q = p; for (let t = 0; t < gSteps; t++) ({ params: q, state: s } = await cdStepGpu(gpu, q, batch, foldIn(key(3), t), s, cdOpts)); };
    const warm = await gibbs();
    await cd();
    const gGibbs: number[] = [], gCd: number[] = [];
    for (let r = 0; r < (software ? 1 : repeats); r++) { gGibbs.push(await time(gibbs)); gCd.push(await time(cd)); }
    const ref = rbmGibbsSample(p, key(1), n, gSteps).data;
    let same = 0;
    for (let i = 0; i < ref.length; i++) if (ref[i] === warm.data[i]) same++;
    const desc = gpu.info.adapter?.description ?? '?';
    if (software) console.log(`gpu: only a software adapter (${desc}) — no GPU timing is claimed; ${gSteps} sweeps agree with the CPU's on ${(100 * same / ref.length).toFixed(2)} % of the bits.`);
    else console.log(`gpu (${desc}): Gibbs ${(gSteps / Math.min(...gGibbs)).toFixed(1)} sweeps/s, CD-1 ${(gSteps / Math.min(...gCd)).toFixed(1)} steps/s; ${(100 * same / ref.length).toFixed(2)} % of the bits equal to the CPU's`);
    report.gpu = { available: true, adapter: gpu.info.adapter, software, steps: gSteps, gibbsSeconds: gGibbs, cdSeconds: gCd, bitsEqualFraction: same / ref.length, timingsClaimed: !software };
    await releaseGpu();
  }
  console.log(JSON.stringify(report));
}

/**
 * `--workload score`: training steps (DSM loss, gradient, Adam) and an `em` sampling chain of a score SDE with a
 * time-conditioned MLP on both backends (same keys and batches).
 */
async function scoreBench(): Promise<void> {
  const [D, ...hidden] = a.sizes!.split(',').map(Number);
  const n = Number(a.batch), steps = Number(a.steps), repeats = Number(a.repeats);
  const data = new Tensor(normalArray(key(5), 4 * n * D, 'float32'), [4 * n, D]);
  const cfg = makeScoreSdeConfig(data, { sde: 'vp', arch: { kind: 'mlp', hidden, embedDim: 16, activation: a.activation as Activation }, tSampling: 'mixed' });
  const o = { lr: 1e-3 };
  const batchOf = (t: number): Tensor => new Tensor((data.data as Float32Array).subarray((t % 4) * n * D, ((t % 4) + 1) * n * D), [n, D]);
  const time = async (f: () => unknown): Promise<number> => { const t0 = performance.now(); await f(); return (performance.now() - t0) / 1000; };
  const trainCpu = (k: number): ScoreSdeTrainState => { const step = scoreSdeTrainStep(cfg, o); let s = initScoreSdeState(cfg, key(1), o); for (let t = 1; t <= k; t++) [s] = step(s, batchOf(t), foldIn(key(2), t)); return s; };
  const cpuName = backendInfo().backend;
  const cpuTrain: number[] = [], cpuSample: number[] = [];
  const p0 = initScoreSdeState(cfg, key(1), o).params;
  for (let r = 0; r < repeats; r++) {
    cpuTrain.push(await time(() => trainCpu(steps)));
    cpuSample.push(await time(() => sampleScoreSde(p0, cfg, key(3), n, { sampler: 'em', steps })));
  }
  console.log(`score SDE (VP), MLP ${[D + 16, ...hidden, D].join('-')} ${a.activation}, batch ${n}: ${steps} training steps and a ${steps}-step em chain`);
  console.log(`cpu (${cpuName}): training ${(steps / Math.min(...cpuTrain)).toFixed(1)} steps/s, em chain ${(steps / Math.min(...cpuSample)).toFixed(1)} steps/s`);
  const report: Record<string, unknown> = { workload: { kind: 'score', sizes: [D + 16, ...hidden, D], batch: n, steps }, cpu: { backend: cpuName, trainSeconds: cpuTrain, sampleSeconds: cpuSample } };
  const gpu = await GpuKernels.create();
  if (!(gpu instanceof GpuKernels)) {
    console.log(`gpu: none — ${gpu.reason}. No GPU figures.`);
    report.gpu = { available: false, reason: gpu.reason };
  } else {
    const software = gpu.info.software;
    const gSteps = software ? Math.min(steps, Number(a['software-steps'])) : steps;
    const trainGpu = async (k: number): Promise<ScoreSdeTrainState> => { const step = scoreSdeTrainStepGpu(gpu, cfg, o); let s = initScoreSdeState(cfg, key(1), o); for (let t = 1; t <= k; t++) [s] = await step(s, batchOf(t), foldIn(key(2), t)); return s; };
    const sampleGpu = (): Promise<Tensor> => sampleScoreSdeGpu(gpu, p0, cfg, key(3), n, { sampler: 'em', steps: gSteps });
    const warmTrain = await trainGpu(gSteps);
    const warmSample = await sampleGpu();
    const gTrain: number[] = [], gSample: number[] = [];
    const d0 = gpu.stats.dispatches;
    for (let r = 0; r < (software ? 1 : repeats); r++) { gTrain.push(await time(() => trainGpu(gSteps))); gSample.push(await time(sampleGpu)); }
    const dispatchesPerStep = (gpu.stats.dispatches - d0) / (software ? 1 : repeats) / gSteps / 2;
    const refTrain = trainCpu(gSteps), refSample = sampleScoreSde(p0, cfg, key(3), n, { sampler: 'em', steps: gSteps });
    let dParams = 0, dSample = 0;
    for (const k of Object.keys(refTrain.params)) for (let i = 0; i < refTrain.params[k].size; i++) dParams = Math.max(dParams, Math.abs(refTrain.params[k].data[i] - warmTrain.params[k].data[i]));
    for (let i = 0; i < refSample.size; i++) dSample = Math.max(dSample, Math.abs(refSample.data[i] - warmSample.data[i]));
    const desc = gpu.info.adapter?.description ?? '?';
    if (software) console.log(`gpu: only a software adapter (${desc}) — no GPU timing is claimed; ${gSteps} steps agree with the CPU's: parameters max |Δ| ${dParams.toExponential(2)}, samples max |Δ| ${dSample.toExponential(2)}; ~${dispatchesPerStep.toFixed(0)} dispatches per step.`);
    else console.log(`gpu (${desc}): training ${(gSteps / Math.min(...gTrain)).toFixed(1)} steps/s, em chain ${(gSteps / Math.min(...gSample)).toFixed(1)} steps/s; parameters max |Δ| ${dParams.toExponential(2)}, samples ${dSample.toExponential(2)}`);
    report.gpu = { available: true, adapter: gpu.info.adapter, software, steps: gSteps, trainSeconds: gTrain, sampleSeconds: gSample, maxParamDiff: dParams, maxSampleDiff: dSample, timingsClaimed: !software };
    await releaseGpu();
  }
  console.log(JSON.stringify(report));
}
