/**
 * `npx tsx bench/gpu.ts --workload conv`: steps/s of a conv deep-EBM's Langevin (ULA) chain — the conv-EBM Langevin
 * step of issue 17's bench — on the WebGPU device (`sampleDeepEbmGpu`) next to this project's CPU backend
 * (`sampleDeepEbmFromNoise`), same model, key and chain starts. Default net: `conv:1x28x28:32,64,64` (3×3 stride-2
 * convolutions 28 → 14 → 7 → 4, SiLU, one dense output), batch 64 (`--sizes 32,64,64 --batch 64 --steps 20`).
 *
 * Per step: the forward pass and the input gradient (the energy's reverse pass to the images). With a real adapter it
 * prints steps/s of both backends (best of `repeats` after a warm-up run that compiles the pipelines) and the GPU's
 * dispatches per step; with only a software adapter (SwiftShader) or none it claims no GPU timing and runs a few steps
 * to show the chain agrees with the CPU's — on 8 chains and 1 step by default (`--software-steps`), since SwiftShader
 * runs these kernels at a few tens of MFLOP/s on a loaded 2-core machine. Prints one JSON line last.
 */
import { backendInfo } from '../src/tensor/select.js';
import { key } from '../src/random/index.js';
import { GpuKernels } from '../src/gpu/kernels.js';
import { releaseGpu } from '../src/gpu/device.js';
import { parseArch, initDeepEbm } from '../src/models/deepEbm/index.js';
import { sampleDeepEbmFromNoise, type DeepEbmFileConfig } from '../src/models/deepEbm/kind.js';
import { sampleDeepEbmGpu } from '../src/models/deepEbm/gpu.js';
import { convNetShapes } from '../src/nn/convnet.js';
import type { Activation } from '../src/nn/index.js';

/** Options of {@link convBench}: the bench's command-line values. */
export interface ConvBenchOptions {
  readonly sizes?: string;
  readonly batch?: string;
  readonly steps?: string;
  readonly repeats?: string;
  readonly activation?: string;
  readonly 'software-steps'?: string;
}

/**
 * Runs the conv-EBM Langevin bench (see the module doc) and prints its report.
 * @example await convBench({ sizes: '32,64,64', batch: '64', steps: '20' });
 */
export async function convBench(a: ConvBenchOptions): Promise<void> {
  const channels = (a.sizes && a.sizes !== '784,256,256' ? a.sizes : '32,64,64').split(',').map(Number);
  // bench/gpu.ts's defaults (batch 128, 60 steps) are the MLP workload's; this one's are batch 64, 20 steps.
  const n = Number(a.batch === undefined || a.batch === '128' ? 64 : a.batch), steps = Number(a.steps === '60' || a.steps === undefined ? 20 : a.steps), repeats = Number(a.repeats ?? 3);
  const arch = parseArch(`conv:1x28x28:${channels.join(',')}`);
  const cfg: DeepEbmFileConfig = {
    arch, activation: (a.activation ?? 'silu') as Activation, shift: [0], scale: [1], confine: 0,
    sampler: 'ula', stepSize: 1e-3, mcmcSteps: steps, initLow: [0], initHigh: [1], clamp: [0, 1], imageShape: [28, 28],
  } as DeepEbmFileConfig;
  const params = initDeepEbm(key(0), cfg, 1);
  // Multiply-adds of the forward pass: each convolution's output size × C_in·9, the dense output; ×2 FLOPs, ×2 for
  // the input-gradient pass.
  const shapes = convNetShapes({ inChannels: 1, height: 28, width: 28, channels, hidden: [], out: 1, activation: cfg.activation });
  let macs = shapes.flat;
  let cin = 1;
  shapes.spatial.forEach(([h, w], i) => { macs += channels[i] * h * w * cin * 9; cin = channels[i]; });
  const flopsPerStep = 2 * 2 * n * macs;
  const s = { sampler: 'ula' as const, stepSize: cfg.stepSize, temperature: 1, box: cfg.clamp };
  const time = async (f: () => unknown): Promise<number> => { const t0 = performance.now(); await f(); return (performance.now() - t0) / 1000; };

  const cpuName = backendInfo().backend;
  const cpuTimes: number[] = [];
  for (let r = 0; r < repeats; r++) cpuTimes.push(await time(() => sampleDeepEbmFromNoise(params, cfg, key(1), n, steps)));
  const cpuStepsPerS = steps / Math.min(...cpuTimes);
  console.log(`conv EBM 1x28x28:${channels.join(',')} (3×3, stride 2) ${cfg.activation}, batch ${n}, ${steps}-step ULA chain (${(flopsPerStep / 1e9).toFixed(3)} GFLOP per step)`);
  console.log(`cpu (${cpuName}): ${cpuStepsPerS.toFixed(2)} steps/s (runs ${cpuTimes.map((t) => t.toFixed(3)).join(', ')} s)`);
  const report: Record<string, unknown> = {
    workload: { kind: 'conv-ebm-langevin', channels, batch: n, steps, flopsPerStep },
    cpu: { backend: cpuName, stepsPerS: cpuStepsPerS, seconds: cpuTimes },
  };
  const gpu = await GpuKernels.create();
  if (!(gpu instanceof GpuKernels)) {
    console.log(`gpu: none — ${gpu.reason}. No GPU figures; docs/webgpu.md gives the expected ones (conv-EBM Langevin step: ≲ 0.2 ms on an H100-class GPU).`);
    report.gpu = { available: false, reason: gpu.reason };
  } else {
    const software = gpu.info.software;
    const gSteps = software ? Math.min(steps, Number(a['software-steps'] === undefined || a['software-steps'] === '5' ? 1 : a['software-steps'])) : steps;
    const gn = software ? Math.min(n, 8) : n;
    const run = (): Promise<Float32Array> => sampleDeepEbmGpu(gpu, params, cfg, key(1), gn, gSteps, s).then((t) => t.data as Float32Array);
    let warm!: Float32Array;
    const warmSeconds = await time(async () => { warm = await run(); });
    const d0 = gpu.stats.dispatches;
    const times: number[] = [];
    for (let r = 0; r < (software ? 1 : repeats); r++) times.push(await time(run));
    const dispatchesPerStep = (gpu.stats.dispatches - d0) / (software ? 1 : repeats) / gSteps;
    const ref = sampleDeepEbmFromNoise(params, cfg, key(1), gn, gSteps).data;
    let maxDiff = 0;
    for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - warm[i]));
    const desc = gpu.info.adapter?.description ?? '?';
    if (software) {
      console.log(`gpu: only a software adapter (${desc}) — no GPU timing is claimed; ${gn} chains × ${gSteps} step(s) in ${times[0].toFixed(2)} s agree with the CPU's: max |GPU − CPU| = ${maxDiff.toExponential(2)}, ${dispatchesPerStep.toFixed(1)} dispatches/step.`);
      console.log('Expected on an H100-class GPU (docs/webgpu.md): launch-bound, ≲ 0.2 ms per step of this workload.');
    } else {
      const gStepsPerS = gSteps / Math.min(...times);
      console.log(`gpu (${desc}): ${gStepsPerS.toFixed(1)} steps/s (runs ${times.map((t) => t.toFixed(4)).join(', ')} s), ${dispatchesPerStep.toFixed(1)} dispatches/step; GPU/CPU ${(gStepsPerS / cpuStepsPerS).toFixed(2)}×; max |GPU − CPU| = ${maxDiff.toExponential(2)}`);
      report.gpuStepsPerS = gStepsPerS;
    }
    report.gpu = { available: true, adapter: gpu.info.adapter, software, chains: gn, steps: gSteps, seconds: times, warmupSeconds: warmSeconds, dispatchesPerStep, maxAbsDiffVsCpu: maxDiff, timingsClaimed: !software };
    await releaseGpu();
  }
  console.log(JSON.stringify(report));
}
