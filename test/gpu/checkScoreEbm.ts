/**
 * Denoising score matching of deep-EBM MLP energies on the WebGPU device (src/models/deepEbm/gpuScore.ts, on the
 * passes of src/gpu/mlpDsm.ts) against the library's loss through `valueAndGrad` on this machine's adapter; prints one
 * JSON line `{ available, reason?, adapter?, checks: [{ name, ok, detail }] }`. Run by test/gpu/scoreEbm.test.ts in a
 * child process (Dawn's threads and Vitest's worker pool do not mix), and usable by hand:
 *   npx tsx test/gpu/checkScoreEbm.ts
 */
import { useSwiftShader, checkList, closeFinite as close } from './_checkScript.js';
import { GpuKernels } from '../../src/gpu/kernels.js';
import { releaseGpu } from '../../src/gpu/device.js';
import { mlpDsmValueAndGradGpu } from '../../src/gpu/mlpDsm.js';
import { unaryGrad3Gpu } from '../../src/gpu/mlpSsm.js';
import { GPU_GRAD_OPS } from '../../src/gpu/kernels.js';
import { grad, sum, sigmoid, logSigmoid, tanh, softplus, relu, silu } from '../../src/tensor/index.js';
import { key, foldIn, normalArray } from '../../src/random/index.js';
import { normal } from '../../src/random/sample.js';
import { initBackend } from '../../src/tensor/select.js';
import { Tensor, valueAndGrad } from '../../src/tensor/index.js';
import { initFourierFeatures } from '../../src/nn/index.js';
import type { MLPParams } from '../../src/nn/mlp.js';
import { initMlpEnergy, type MlpEnergyConfig } from '../../src/models/mlpEnergy/model.js';
import { mlpEnergyLoss } from '../../src/models/mlpEnergy/train.js';
import { parseArch, initDeepEbm, ebmScoreLoss, initDeepEbmScoreState, deepEbmScoreTrainStep, type DeepEbmConfig } from '../../src/models/deepEbm/index.js';
import { deepEbmDsmValueAndGradGpu, deepEbmSsmValueAndGradGpu, deepEbmNcDsmValueAndGradGpu, deepEbmScoreTrainStepGpu, deepEbmScoreGpuUnsupported } from '../../src/models/deepEbm/gpuScore.js';

useSwiftShader();
initBackend();

const { checks, check } = checkList();

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
/** Gradients compared relative to each tensor's largest entry (float32 accumulation order differs). */
function gradsClose(got: Record<string, Tensor>, want: Record<string, Tensor>, rtol: number): string {
  for (const k of Object.keys(want)) {
    if (!got[k]) return `missing ${k}`;
    let scale = 0;
    for (let i = 0; i < want[k].size; i++) scale = Math.max(scale, Math.abs(want[k].data[i]));
    const d = close(got[k].data, want[k].data, 0, rtol * scale + 1e-6);
    if (d) return `${k}: ${d} (scale ${scale})`;
  }
  return '';
}
function data2d(seed: number, n: number): Tensor {
  const e = normalArray(key(seed), 2 * n, 'float32');
  return new Tensor(e.map((v, i) => (i % 2 ? 0.5 * v - 1 : 2 * v + 3) + (i % 2 ? 0.3 * e[i - 1] ** 2 : 0)), [n, 2]);
}

const made = await GpuKernels.create();
if (!(made instanceof GpuKernels)) {
  console.log(JSON.stringify({ available: false, reason: made.reason, checks }));
} else {
  const gpu = made;

  // The mlp-energy DSM step, now on the shared passes: unchanged against the library's loss.
  for (const [activation, hidden, confine] of [['silu', [16, 16], 0.05], ['softplus', [8, 8, 8], 0]] as const) {
    const cfg: MlpEnergyConfig = { dim: 3, hidden: [...hidden], activation, shift: [0, 0, 0], scale: [1, 1, 1], confine, loss: 'dsm', sigma: 0.3, bounds: null };
    const p = initMlpEnergy(key(60), cfg);
    const z = normal(key(61), [37, 3]);
    const [lv, g] = valueAndGrad((q: MLPParams) => mlpEnergyLoss(cfg)(q, z, key(62)).loss)(p);
    const got = await mlpDsmValueAndGradGpu(gpu, p, cfg, z, key(62));
    check(`mlp-energy DSM (${activation}, ${hidden.length} hidden): loss`, close([got.loss], [lv.item()], 1e-5, 1e-6));
    check(`mlp-energy DSM (${activation}, ${hidden.length} hidden): parameter gradient`, gradsClose(got.grads, g as Record<string, Tensor>, 1e-4));
  }

  // The third-derivative kernel against the CPU's autodiff (grad of grad of grad), every activation, ±12.
  {
    const fns = { sigmoid, logSigmoid, tanh, softplus, relu, silu } as const;
    const xs = Float32Array.from({ length: 241 }, (_, i) => -12 + 0.1 * i + 0.0137);
    const gs = Float32Array.from(normalArray(key(66), 241, 'float32'));
    for (const op of GPU_GRAD_OPS) {
      const f = fns[op];
      const d1 = (t: Tensor): Tensor => grad((u: Tensor) => sum(f(u)))(t);
      const d2 = (t: Tensor): Tensor => grad((u: Tensor) => sum(d1(u)))(t);
      const d3 = grad((u: Tensor) => sum(d2(u)))(new Tensor(xs, [241]));
      const want = Float32Array.from(d3.data as ArrayLike<number>, (v, i) => v * gs[i]);
      const got = await unaryGrad3Gpu(gpu, op, gpu.upload(xs), gpu.upload(gs)).read();
      check(`unaryGrad3 ${op}: g·f‴(x) on [−12, 12]`, close(got, want, 1e-4, 1e-5));
    }
  }

  // Deep-EBM single-σ DSM: standardisation, Fourier features, confining term, several activations and depths.
  const base: DeepEbmConfig = { arch: parseArch('mlp:2-12-10-1'), activation: 'silu', shift: [3, -1], scale: [2, 0.6], confine: 0.3 };
  const cases: [string, DeepEbmConfig, number][] = [
    ['standardised, silu, confine 0.3', base, 0.1],
    ['Fourier features, tanh', { ...base, activation: 'tanh', fourier: initFourierFeatures(key(12), 2, 6, 0.5) }, 0.1],
    ['Fourier features, softplus, 3 hidden, identity standardisation', { ...base, arch: parseArch('mlp:2-8-8-8-1'), activation: 'softplus', shift: [0], scale: [1], fourier: initFourierFeatures(key(13), 2, 5, 0.8) }, 0.3],
    ['relu, no confinement', { ...base, activation: 'relu', confine: 0 }, 0.05],
    ['sigmoid, one hidden', { ...base, arch: parseArch('mlp:2-16-1'), activation: 'sigmoid' }, 0.2],
  ];
  const x = data2d(19, 41);
  for (const [name, cfg, sigma] of cases) {
    const params = initDeepEbm(key(14), cfg, 1);
    const loss = ebmScoreLoss('dsm', cfg, sigma);
    const k = key(15);
    const [lv, g] = valueAndGrad((p: Record<string, Tensor>) => loss(p, x, k).loss)(params);
    const got = await deepEbmDsmValueAndGradGpu(gpu, params, cfg, sigma, x, k);
    check(`deep-ebm DSM ${name}: loss`, close([got.loss], [lv.item()], 2e-5, 1e-6));
    check(`deep-ebm DSM ${name}: parameter gradient`, gradsClose(got.grads, g as Record<string, Tensor>, 2e-4));
    const wrong = await deepEbmDsmValueAndGradGpu(gpu, params, cfg, sigma, x, foldIn(k, 1));
    check(`deep-ebm DSM ${name}: a wrong key is caught`, Math.abs(wrong.loss - lv.item()) > 1e-3 * Math.abs(lv.item()) ? '' : 'no difference');
  }
  // A dropped term: without the confining term (c = 0 on the GPU) the loss of a confined energy must differ.
  {
    const [, cfg, sigma] = cases[0];
    const params = initDeepEbm(key(14), cfg, 1);
    const want = ebmScoreLoss('dsm', cfg, sigma)(params, x, key(15)).loss.item();
    const dropped = await deepEbmDsmValueAndGradGpu(gpu, params, { ...cfg, confine: 0 }, sigma, x, key(15));
    check('deep-ebm DSM: a dropped confining term is caught', Math.abs(dropped.loss - want) > 1e-3 * Math.abs(want) ? '' : 'no difference');
  }
  // Training: 5 Adam steps on both, the same keys and batches.
  {
    const [, cfg, sigma] = cases[1];
    const o = { loss: 'dsm' as const, sigma, lr: 3e-3 };
    let sc = initDeepEbmScoreState(cfg, key(2), o);
    let sg = sc;
    const cpuStep = deepEbmScoreTrainStep(cfg, o), gpuStep = deepEbmScoreTrainStepGpu(gpu, cfg, o);
    let lc = 0, lg = 0;
    for (let t = 1; t <= 5; t++) {
      const batch = new Tensor(Float32Array.from(x.data).subarray(0, 2 * 32), [32, 2]);
      const [a, ia] = cpuStep(sc, batch, foldIn(key(4), t));
      const [b, ib] = await gpuStep(sg, batch, foldIn(key(4), t));
      [sc, sg, lc, lg] = [a, b, ia.loss, ib.loss];
    }
    let worst = 0;
    for (const k of Object.keys(sc.params)) worst = Math.max(worst, maxDiff(sc.params[k].data, sg.params[k].data));
    check(`deep-ebm DSM train: parameters after 5 Adam steps (max |Δ| ${worst.toExponential(2)})`, worst < 1e-5 ? '' : `max |Δ| ${worst}`);
    check('deep-ebm DSM train: loss of step 5', close([lg], [lc], 1e-5, 1e-6));
  }
  // Sliced and exact score matching: third derivatives of the activations.
  for (const loss of ['ssm', 'ssm-vr', 'sm'] as const) {
    for (const [name, cfg] of cases) {
      const params = initDeepEbm(key(14), cfg, 1);
      const xs = new Tensor(Float32Array.from(x.data).subarray(0, 2 * 17), [17, 2]);
      const k = key(16);
      const lf = ebmScoreLoss(loss, cfg, 0.1);
      const [lv, g] = valueAndGrad((p: Record<string, Tensor>) => lf(p, xs, k).loss)(params);
      const got = await deepEbmSsmValueAndGradGpu(gpu, params, cfg, loss, xs, k);
      check(`deep-ebm ${loss} ${name}: loss`, close([got.loss], [lv.item()], 2e-5, 2e-5));
      check(`deep-ebm ${loss} ${name}: parameter gradient`, gradsClose(got.grads, g as Record<string, Tensor>, 3e-4));
      if (loss === 'ssm') {
        const wrong = await deepEbmSsmValueAndGradGpu(gpu, params, cfg, loss, xs, foldIn(k, 1));
        check(`deep-ebm ${loss} ${name}: a wrong key is caught`, Math.abs(wrong.loss - lv.item()) > 1e-3 * Math.abs(lv.item()) ? '' : 'no difference');
      }
    }
  }
  {
    // A dropped term: ssm-vr's squared term is ½‖s‖², ssm's ½(vᵀs)²; swapping them must be caught.
    const [, cfg] = cases[1];
    const params = initDeepEbm(key(14), cfg, 1);
    const want = ebmScoreLoss('ssm', cfg, 0.1)(params, x, key(16)).loss.item();
    const vr = await deepEbmSsmValueAndGradGpu(gpu, params, cfg, 'ssm-vr', x, key(16));
    check('deep-ebm ssm: the variance-reduced term in place of the projected one is caught', Math.abs(vr.loss - want) > 1e-3 * Math.abs(want) ? '' : 'no difference');
  }
  // Noise-conditional DSM with the heat-equation term (Laplacian from D probed copies, ∂E/∂log σ, ‖∇E‖²).
  for (const [name, cfg, heat] of [
    ['standardised silu, heat 1', { ...base, noise: { sigmaMin: 0.1, sigmaMax: 1 } }, 1],
    ['Fourier tanh, heat 1', { ...cases[1][1], noise: { sigmaMin: 0.05, sigmaMax: 0.8 } }, 1],
    ['Fourier softplus 3 hidden, heat 0.5', { ...cases[2][1], noise: { sigmaMin: 0.1, sigmaMax: 2 } }, 0.5],
    ['Fourier silu, heat 0', { ...cases[1][1], activation: 'silu', noise: { sigmaMin: 0.05, sigmaMax: 0.8 } }, 0],
  ] as [string, DeepEbmConfig, number][]) {
    const params = initDeepEbm(key(14), cfg, 1);
    const xs = new Tensor(Float32Array.from(x.data).subarray(0, 2 * 23), [23, 2]);
    const k = key(17);
    const lf = ebmScoreLoss('dsm', cfg, 0.1, heat);
    const [lv, g] = valueAndGrad((p: Record<string, Tensor>) => lf(p, xs, k).loss)(params);
    const got = await deepEbmNcDsmValueAndGradGpu(gpu, params, cfg, heat, xs, k);
    check(`deep-ebm noise-conditional DSM ${name}: loss`, close([got.loss], [lv.item()], 2e-5, 2e-5));
    check(`deep-ebm noise-conditional DSM ${name}: parameter gradient`, gradsClose(got.grads, g as Record<string, Tensor>, 3e-4));
    if (heat > 0) {
      const noHeat = await deepEbmNcDsmValueAndGradGpu(gpu, params, cfg, 0, xs, k);
      check(`deep-ebm noise-conditional DSM ${name}: a dropped heat term is caught`, gradsClose(noHeat.grads, g as Record<string, Tensor>, 1e-2) !== '' ? '' : 'the heat term changes nothing');
      const wrong = await deepEbmNcDsmValueAndGradGpu(gpu, params, cfg, heat, xs, foldIn(k, 1));
      check(`deep-ebm noise-conditional DSM ${name}: a wrong key is caught`, Math.abs(wrong.loss - lv.item()) > 1e-3 * Math.abs(lv.item()) ? '' : 'no difference');
    }
  }
  check('deep-ebm: conv score matching stays on the CPU with a reason', /conv/.test(deepEbmScoreGpuUnsupported({ ...base, arch: parseArch('conv:1x8x8:4:8') }, 'dsm') ?? '') ? '' : 'no reason');

  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, checks }));
  await releaseGpu();
}
