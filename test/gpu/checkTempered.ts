/**
 * Parallel tempering, the sampler's gradient clip and spectral normalisation of deep-EBM CD on the WebGPU device
 * (src/gpu/tempering.ts, src/models/deepEbm/gpu.ts) against the CPU on this machine's adapter; prints one JSON line
 * `{ available, reason?, adapter?, checks: [{ name, ok, detail }] }`. Run by test/gpu/tempered.test.ts in a child
 * process (Dawn's threads and Vitest's worker pool do not mix), and usable by hand:
 *   npx tsx test/gpu/checkTempered.ts
 * Tiny nets and few steps: SwiftShader is a CPU driver.
 */
import { useSwiftShader, checkList, closeFinite as close } from './_checkScript.js';
import { GpuKernels, type GpuTensor } from '../../src/gpu/kernels.js';
import { releaseGpu } from '../../src/gpu/device.js';
import { ptSwapGpu, parallelTemperingGpu, gpuTemperingUnsupported } from '../../src/gpu/tempering.js';
import { key, foldIn, split, uniformArray, normalArray } from '../../src/random/index.js';
import { initBackend } from '../../src/tensor/select.js';
import { Tensor } from '../../src/tensor/index.js';
import { initFourierFeatures } from '../../src/nn/index.js';
import { parallelTempering, ulaInit, geometricTemperatures, ptStepSizes, type PtState } from '../../src/samplers/index.js';
import { parseArch, initDeepEbm, deepEbmEnergy } from '../../src/models/deepEbm/index.js';
import { deepEbmSamplerFor, type DeepEbmFileConfig } from '../../src/models/deepEbm/kind.js';
import { contrastiveDivergence, cdValueAndGrad, type CDOptions } from '../../src/losses/contrastiveDivergence.js';
import { uploadDeepEbm, disposeDeepEbm, deepEbmEnergyGradGpu, deepEbmCdValueAndGradGpu, deepEbmCdGpuUnsupported } from '../../src/models/deepEbm/gpu.js';

useSwiftShader();
initBackend();

const { checks, check } = checkList();

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
/** Rows (of width `d`) whose values agree within `tol`. */
function sameRows(a: ArrayLike<number>, b: ArrayLike<number>, d: number, tol = 1e-4): number {
  let same = 0;
  for (let i = 0; i < a.length / d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += Math.abs(a[i * d + j] - b[i * d + j]);
    if (s < tol) same++;
  }
  return same;
}
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
  const dcfg = (o: Partial<DeepEbmFileConfig> = {}): DeepEbmFileConfig => ({
    arch: parseArch('mlp:2-12-10-1'), activation: 'silu', shift: [3, -1], scale: [2, 0.6], confine: 0.05,
    sampler: 'mala', stepSize: 0.02, mcmcSteps: 2, initLow: [-2, -3], initHigh: [8, 1], clamp: null, imageShape: null, ...o,
  } as DeepEbmFileConfig);
  const fourierCfg = dcfg({ activation: 'tanh', fourier: initFourierFeatures(key(12), 2, 6, 0.5) });
  const down = async (t: GpuTensor): Promise<Float32Array> => { const v = await t.read(); t.dispose(); return v; };

  // ---- the swap kernel against the CPU's rule (pt.ts), both parities ----
  {
    const K = 4, C = 37, D = 3, n = K * C;
    const temps = geometricTemperatures(10, K);
    const x = Float32Array.from(uniformArray(key(1), n * D, 'float32'), (v) => 4 * v - 2);
    const g = Float32Array.from(uniformArray(key(2), n * D, 'float32'), (v) => v - 0.5);
    // Energies spread so that some swaps are certain, some impossible, some in between.
    const e = Float32Array.from(uniformArray(key(3), n, 'float32'), (v) => 6 * v - 3);
    for (const parity of [0, 1]) {
      const kSwap = foldIn(key(4), parity);
      const u = uniformArray(kSwap, n, 'float64');
      const perm = Int32Array.from({ length: n }, (_, i) => i);
      let swaps = 0;
      for (let k = parity; k < K - 1; k += 2) {
        const db = 1 / temps[k] - 1 / temps[k + 1];
        for (let c = 0; c < C; c++) {
          const i = k * C + c, j = (k + 1) * C + c;
          const logA = (e[i] - e[j]) * db;
          if (u[i] < (logA >= 0 ? 1 : Math.exp(logA))) { perm[i] = j; perm[j] = i; swaps++; }
        }
      }
      const logU = gpu.upload(Float32Array.from(u, Math.log), [n]);
      const xs = gpu.upload(x, [n, D]), es = gpu.upload(e, [n]), gs = gpu.upload(g, [n, D]);
      const r = ptSwapGpu(gpu, xs, es, gs, logU, temps, C, parity);
      const [gx, ge, gg] = [await down(r.x), await down(r.energy), await down(r.grad)];
      const want = (src: Float32Array, w: number) => Float32Array.from({ length: n * w }, (_, q) => src[perm[Math.floor(q / w)] * w + (q % w)]);
      check(`pt swap kernel, parity ${parity}: rows, energies and gradients moved as the CPU's rule moves them (${swaps} swaps of ${Math.ceil((K - 1 - parity) / 2) * C} pairs)`,
        close(gx, want(x, D), 0, 0) || close(ge, want(e, 1), 0, 0) || close(gg, want(g, D), 0, 0) || (swaps > 0 && swaps < Math.ceil((K - 1 - parity) / 2) * C ? '' : `degenerate test: ${swaps} swaps`));
      const wrong = ptSwapGpu(gpu, xs, es, gs, logU, temps, C, 1 - parity);
      check(`pt swap kernel, parity ${parity}: the other parity is caught`, maxDiff(await down(wrong.x), want(x, D)) > 0.1 ? '' : 'no difference');
      [wrong.energy, wrong.grad, logU, xs, es, gs].forEach((t) => t.dispose());
    }
  }

  // ---- PT chains: parallelTempering's steps on the CPU vs parallelTemperingGpu, same keys ----
  for (const [name, cfg, local, frac] of [
    ['mala, standardised silu', dcfg(), 'mala', 0.9],
    ['mala, Fourier features, tanh, gradient clip 2', fourierCfg, 'mala', 0.9],
    ['ula, standardised silu, box', dcfg(), 'ula', 1],
  ] as const) {
    const clip = /clip/.test(name) ? 2 : undefined;
    const box = /box/.test(name) ? ([-1, 6] as [number, number]) : undefined;
    const params = initDeepEbm(key(15), cfg, 1);
    const E = deepEbmEnergy(params, cfg);
    const K = 4, C = 24, steps = 6, step0 = 3;
    const temps = geometricTemperatures(10, K);
    const x0 = new Tensor(Float32Array.from(uniformArray(key(16), K * C * 2, 'float32'), (v, i) => (i % 2 ? 4 * v - 3 : 10 * v - 2)), [K * C, 2]);
    const alg = parallelTempering(E, { temperatures: temps, stepSize: 0.02, local, ...(clip ? { maxGradNorm: clip } : {}), ...(box ? { box } : {}) });
    let s: PtState = { replicas: ulaInit(E, x0), chains: C, step: step0 };
    const kChain = key(17);
    const keys = split(kChain, steps);
    let swapRate = 0;
    for (let t = 0; t < steps; t++) {
      const [next, info] = alg.step(keys[t], s);
      s = next;
      for (const a of info.swapAcceptance) swapRate += a / (steps * Math.ceil((K - 1) / 2));
    }
    const want = s.replicas.position.data;
    const m = uploadDeepEbm(gpu, params, cfg);
    const plan = { temperatures: temps, stepSizes: ptStepSizes(temps, 0.02), local, chains: C, step0, ...(clip ? { maxGradNorm: clip } : {}), ...(box ? { box } : {}) };
    const run = async (k: typeof kChain, p = plan) => down(parallelTemperingGpu(gpu, (x) => deepEbmEnergyGradGpu(gpu, m, x), x0, k, steps, p));
    const got = await run(kChain);
    const rows = sameRows(got, want, 2);
    check(`pt chains ${name}: ${steps} steps of ${K}×${C} replicas match the CPU (${rows}/${K * C} rows; mean swap acceptance ${swapRate.toFixed(2)})`,
      rows >= frac * K * C ? '' : `only ${rows} rows agree; max |Δ| ${maxDiff(got, want)}`);
    check(`pt chains ${name}: a wrong key is caught`, sameRows(await run(foldIn(kChain, 1)), want, 2) < 0.5 * K * C ? '' : 'no difference');
    check(`pt chains ${name}: the wrong swap parity is caught`, sameRows(await run(kChain, { ...plan, step0: step0 + 1 }), want, 2) < frac * K * C - 4 ? '' : 'no difference');
    if (clip) check(`pt chains ${name}: a dropped gradient clip is caught`, sameRows(await run(kChain, { ...plan, maxGradNorm: undefined } as typeof plan), want, 2) < frac * K * C - 4 ? '' : 'the clip changes nothing');
    disposeDeepEbm(m);
  }

  // ---- one CD step: tempered negatives, the sampler clip, spectral normalisation ----
  const data = data2d(19, 100);
  const batch = new Tensor(Float32Array.from(data.data).subarray(0, 2 * 24), [24, 2]);
  const cdFor = (cfg: DeepEbmFileConfig, o: Partial<CDOptions<Record<string, Tensor>>> & { clip?: number }) => contrastiveDivergence({
    energy: (p: Record<string, Tensor>) => deepEbmEnergy(p, cfg), sampler: deepEbmSamplerFor(cfg, cfg.stepSize, o.clip), steps: 2,
    reinitFrom: { kind: 'uniform', low: cfg.initLow, high: cfg.initHigh }, ...o,
  });
  const tempered = (cfg: DeepEbmFileConfig, local: 'ula' | 'mala', extra: Partial<CDOptions<Record<string, Tensor>>> = {}) => ({
    negatives: 'tempered' as const, tempering: { temperatures: geometricTemperatures(10, 4), stepSize: cfg.stepSize, local }, chains: 16, reinit: 0.25, ...extra,
  });
  for (const [name, cfg, opts, frac] of [
    ['tempered mala, α = 0.1, data noise', dcfg(), tempered(dcfg(), 'mala', { alpha: 0.1, dataNoise: 0.05 }), 0.9],
    ['tempered mala, Fourier features', fourierCfg, tempered(fourierCfg, 'mala'), 0.9],
    ['tempered ula', dcfg({ sampler: 'ula' }), tempered(dcfg(), 'ula'), 1],
    ['buffer ula, sampler clip 0.05', dcfg({ sampler: 'ula' }), { negatives: 'buffer' as const, bufferSize: 64, clip: 0.05 }, 1],
    ['buffer mala, sampler clip 0.05', dcfg(), { negatives: 'buffer' as const, bufferSize: 64, clip: 0.05 }, 0.9],
    ['buffer ula, spectral norm', dcfg({ sampler: 'ula' }), { negatives: 'buffer' as const, bufferSize: 64, spectralNorm: true }, 1],
    ['tempered mala, spectral norm, Fourier', fourierCfg, tempered(fourierCfg, 'mala', { spectralNorm: true }), 0.9],
  ] as const) {
    const params = initDeepEbm(key(18), cfg);
    const cd = cdFor(cfg, opts);
    let st = cd.initState(key(20), params, data);
    const clip = 'clip' in opts ? opts.clip : undefined;
    const s = { sampler: cfg.sampler, stepSize: cfg.stepSize, temperature: 1, box: cfg.clamp, ...(clip ? { maxGradNorm: clip } : {}) };
    const vg = deepEbmCdValueAndGradGpu(gpu, cfg, cd, s);
    // Two steps (the second from the CPU's state), so the swap parity and the spectral-norm vectors carry over.
    st = cdValueAndGrad(cd)(params, batch, key(21), st).state;
    const want = cdValueAndGrad(cd)(params, batch, key(22), st);
    const got = await vg(params, batch, key(22), st);
    const gb = got.state.buffer!.data, wb = want.state.buffer!.data;
    const same = sameRows(gb, wb, 2);
    const all = same === gb.length / 2;
    check(`cd ${name}: state after the step (${same}/${gb.length / 2} rows agree)`, same >= frac * gb.length / 2 ? '' : `${same} rows agree`);
    const tol = all ? 1e-5 : 2e-2;
    check(`cd ${name}: loss, ePos, eNeg`, close([got.loss, got.aux.ePos, got.aux.eNeg], [want.loss, want.aux.ePos, want.aux.eNeg], tol, tol));
    check(`cd ${name}: negatives are the T₁ rows / chains`, close(got.aux.negatives.data, want.aux.negatives.data, all ? 1e-4 : Infinity, all ? 1e-4 : Infinity) || (got.aux.negatives.shape.join() === want.aux.negatives.shape.join() ? '' : 'shape'));
    check(`cd ${name}: gradients`, gradsClose(got.grads, want.grads, all ? 1e-4 : 5e-2));
    if ('spectralNorm' in opts) {
      let snd = 0;
      for (const k of Object.keys(want.state.sn)) snd = Math.max(snd, maxDiff(got.state.sn[k].data, want.state.sn[k].data));
      check(`cd ${name}: power-iteration vectors carried as on the CPU`, Object.keys(want.state.sn).length > 0 && snd < 1e-6 ? '' : `max |Δ| ${snd}`);
      // A dropped chain rule (the gradient w.r.t. W/σ(W) taken for W's) must be caught.
      const noSn = await deepEbmCdValueAndGradGpu(gpu, cfg, cdFor(cfg, { ...opts, spectralNorm: false }), s)(params, batch, key(22), st);
      check(`cd ${name}: a dropped normalisation is caught`, gradsClose(noSn.grads, want.grads, 1e-2) !== '' ? '' : 'no difference');
    }
    if (clip) {
      const noClip = await deepEbmCdValueAndGradGpu(gpu, cfg, cd, { ...s, maxGradNorm: undefined })(params, batch, key(22), st);
      check(`cd ${name}: a dropped clip is caught`, sameRows(noClip.state.buffer!.data, wb, 2) < same - 4 ? '' : 'the clip changes nothing');
    }
    const wrong = await vg(params, batch, foldIn(key(22), 1), st);
    check(`cd ${name}: a wrong key is caught`, maxDiff(wrong.state.buffer!.data, wb) > 0.05 ? '' : 'no difference');
  }
  check('tempered hmc stays on the CPU with a reason', /hmc/.test(deepEbmCdGpuUnsupported(dcfg(), tempered(dcfg(), 'hmc' as 'mala') as never) ?? '') ? '' : 'no reason');
  check('more temperatures than the kernels hold: a reason', /temperatures/.test(gpuTemperingUnsupported({ local: 'mala', temperatures: geometricTemperatures(10, 65) }) ?? '') ? '' : 'no reason');

  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, checks }));
  await releaseGpu();
}
