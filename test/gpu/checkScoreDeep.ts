/**
 * The score-sde and deep-ebm lowerings of src/models/{scoreSde,deepEbm}/gpu.ts (and the kernels they added:
 * lincomb, trig, snrLangevin) against the CPU steps on this machine's WebGPU adapter; prints one JSON line
 * `{ available, reason?, adapter?, checks: [{ name, ok, detail }] }`. Run by test/gpu/scoreDeep.test.ts in a child
 * process (Dawn's threads and Vitest's worker pool do not mix), and usable by hand:
 *   npx tsx test/gpu/checkScoreDeep.ts
 * Tiny nets and few steps: SwiftShader is a CPU driver.
 */
import { useSwiftShader, checkList, closeFinite as close } from './_checkScript.js';
import { GpuKernels } from '../../src/gpu/kernels.js';
import { releaseGpu } from '../../src/gpu/device.js';
import { key, foldIn, uniformArray } from '../../src/random/index.js';
import { initBackend } from '../../src/tensor/select.js';
import { Tensor, valueAndGrad } from '../../src/tensor/index.js';
import { initFourierFeatures } from '../../src/nn/index.js';
import { makeScoreSdeConfig, toModelSpace, scoreSdeLoss, initScoreSdeState, scoreSdeTrainStep, sampleScoreSde, initScoreParams, type ScoreSdeConfig, type ScoreSdeTrainState } from '../../src/models/scoreSde/index.js';
import { scoreSdeValueAndGradGpu, scoreSdeTrainStepGpu, sampleScoreSdeGpu, scoreSdeGpuUnsupported, scoreSdeSampleGpuUnsupported } from '../../src/models/scoreSde/gpu.js';
import { normalArray } from '../../src/random/index.js';
import { energyAndGrad } from '../../src/energy/types.js';
import { parseArch, initDeepEbm, deepEbmEnergy, type DeepEbmConfig } from '../../src/models/deepEbm/index.js';
import { sampleDeepEbmFromNoise, deepEbmSamplerFor, type DeepEbmFileConfig } from '../../src/models/deepEbm/kind.js';
import { contrastiveDivergence, cdValueAndGrad } from '../../src/losses/contrastiveDivergence.js';
import { uploadDeepEbm, disposeDeepEbm, deepEbmEnergyGradGpu, sampleDeepEbmGpu, deepEbmCdValueAndGradGpu, deepEbmCdGpuUnsupported, deepEbmGpuUnsupported } from '../../src/models/deepEbm/gpu.js';

useSwiftShader();
initBackend();

const { checks, check } = checkList();

/** Largest |a − b| over the arrays. */
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
    const d = close(got[k].data, want[k].data, 0, rtol * (scale + 1e-6));
    if (d) return `${k}: ${d} (scale ${scale})`;
  }
  return '';
}

/** `n` rows of a skewed 2-D cloud (columns of different scales and means). */
function data2d(seed: number, n: number): Tensor {
  const e = normalArray(key(seed), 2 * n, 'float32');
  return new Tensor(e.map((v, i) => (i % 2 ? 0.5 * v - 1 : 2 * v + 3) + (i % 2 ? 0.3 * e[i - 1] ** 2 : 0)), [n, 2]);
}

const made = await GpuKernels.create();
if (!(made instanceof GpuKernels)) {
  console.log(JSON.stringify({ available: false, reason: made.reason, checks }));
} else {
  const gpu = made;

  // ---- kernels: lincomb, trig, snrLangevin ----
  {
    const n = 3001;
    const x = uniformArray(key(1), n, 'float32').map((v) => 8 * v - 4);
    const u = uniformArray(key(2), n, 'float32').map((v) => 8 * v - 4);
    const v = uniformArray(key(3), n, 'float32').map((q) => 8 * q - 4);
    const [a, b, c] = [0.75, -1.25, 0.3];
    const got = await gpu.lincomb(gpu.upload(x), gpu.upload(u), gpu.upload(v), a, b, c).read();
    check('lincomb a·x + b·u + c·v', close(got, x.map((xi, i) => Math.fround(a) * xi + Math.fround(b) * u[i] + Math.fround(c) * v[i]), 1e-6, 1e-6));
    const w = uniformArray(key(4), n, 'float32').map((q) => 200 * q - 100);
    w.set([0, 1e-30, -1e-30, Math.PI / 4, -Math.PI / 4, Math.PI / 2, Math.PI, 3 * Math.PI / 2, 2000.5, -4321.25], 0);
    const wg = gpu.upload(w);
    for (const op of ['sin', 'cos'] as const) {
      const want = w.map((q) => Math[op](q));
      check(`trig ${op} on [−100, 100] and special points`, close(await gpu.trig(op, wg).read(), want, 1e-6, 4e-7));
    }
    // snrLangevin against annealedSnrStepSize's rule, with the norms from reductions.
    const rows = 37, d = 3;
    const xs = uniformArray(key(5), rows * d, 'float32').map((q) => 2 * q - 1);
    const ss = uniformArray(key(6), rows * d, 'float32').map((q) => 4 * q - 2);
    const zs = uniformArray(key(7), rows * d, 'float32').map((q) => 2 * q - 1);
    const norm = (arr: Float32Array): number => {
      let t = 0;
      for (let i = 0; i < rows; i++) { let q = 0; for (let j = 0; j < d; j++) q += arr[i * d + j] ** 2; t += Math.sqrt(q); }
      return t;
    };
    const k = 2 * 0.9 * 0.16 ** 2;
    const eps = k * (norm(zs) / norm(ss)) ** 2;
    const want = xs.map((q, i) => q + eps * ss[i] + Math.sqrt(2 * eps) * zs[i]);
    const rn = (arr: Float32Array) => {
      const g = gpu.upload(arr, [rows, d]);
      return gpu.sumAll(gpu.unary('sqrt', gpu.sumLast(gpu.unary('square', g))));
    };
    const got2 = await gpu.snrLangevin(gpu.upload(xs, [rows, d]), gpu.upload(ss, [rows, d]), gpu.upload(zs, [rows, d]), rn(ss), rn(zs), k).read();
    check('snrLangevin: x + εs + √(2ε)z with the snr rule', close(got2, want, 1e-5, 1e-6));
    for (const [seed, len] of [[0, 1], [1, 7], [2, 40_001]] as const) {
      const kk = foldIn(key(seed), 5);
      check(`normal64 n=${len}: the float64 stream`, close(await gpu.normal64(kk, [len]).read(), normalArray(kk, len, 'float64'), 2e-6, 2e-6));
    }
  }

  // ---- score-sde: loss and gradient, training steps, samplers ----
  const x2 = data2d(11, 200);
  const mk = (o: Partial<{ sde: 'vp' | 've' | 'subvp'; activation: 'silu' | 'tanh' | 'softplus'; fourier: boolean; weighting: 'sigma2' | 'likelihood'; tSampling: 'uniform' | 'mixed' | 'log-sigma'; hidden: number[] }>): ScoreSdeConfig =>
    makeScoreSdeConfig(x2, {
      sde: o.sde ?? 'vp',
      arch: { kind: 'mlp', hidden: o.hidden ?? [12, 10], embedDim: 8, activation: o.activation ?? 'silu', ...(o.fourier ? { fourier: initFourierFeatures(key(9), 2, 6, 0.5) } : {}) },
      weighting: o.weighting ?? 'sigma2',
      tSampling: o.tSampling ?? 'mixed',
    });
  const cases: [string, ScoreSdeConfig][] = [
    ['vp, uniform times, sigma2, silu', mk({ tSampling: 'uniform' })],
    ['ve, mixed times, likelihood, tanh, Fourier features', mk({ sde: 've', weighting: 'likelihood', activation: 'tanh', fourier: true })],
    ['subvp, log-sigma times, softplus, one hidden layer', mk({ sde: 'subvp', tSampling: 'log-sigma', activation: 'softplus', hidden: [9] })],
  ];
  for (const [name, cfg] of cases) {
    const z = toModelSpace(cfg, x2);
    const batch = new Tensor(Float32Array.from(z.data).subarray(0, 2 * 48), [48, 2]);
    const params = initScoreParams(key(21), cfg);
    const k = key(33);
    let aux: Record<string, number> = {};
    const [lv, g] = valueAndGrad((p: Record<string, Tensor>) => { const r = scoreSdeLoss(cfg)(p, batch, k); aux = r.aux; return r.loss; })(params);
    const vg = scoreSdeValueAndGradGpu(gpu, cfg);
    const r = await vg(params, batch, k);
    check(`score-sde ${name}: loss`, close([r.loss], [lv.item()], 1e-5, 1e-7));
    check(`score-sde ${name}: meanT`, close([r.meanT], [aux.meanT], 1e-12, 0));
    check(`score-sde ${name}: gradients`, gradsClose(r.grads, g as Record<string, Tensor>, 1e-4));
    // A wrong key (other times and noise) is caught: the loss moves far beyond the tolerance.
    const wrong = await vg(params, batch, foldIn(k, 1));
    check(`score-sde ${name}: a wrong key is caught`, Math.abs(wrong.loss - lv.item()) > 1e-3 * Math.abs(lv.item()) ? '' : `loss ${wrong.loss} vs ${lv.item()}`);
  }
  // A dropped term (no Gaussian baseline −c_in²x: B without it) would change the loss: shown by zeroing the output
  // layer, where the loss is exactly the baseline's residual; the GPU must still agree with the CPU there.
  {
    const cfg = cases[0][1];
    const z = toModelSpace(cfg, x2);
    const batch = new Tensor(Float32Array.from(z.data).subarray(0, 2 * 32), [32, 2]);
    const params = initScoreParams(key(5), cfg);
    const zeroOut = { ...params, 'l2.w': new Tensor(new Float32Array(params['l2.w'].size), params['l2.w'].shape), 'l2.b': new Tensor(new Float32Array(2), [2]) };
    const want = scoreSdeLoss(cfg)(zeroOut, batch, key(8)).loss.item();
    const got = (await scoreSdeValueAndGradGpu(gpu, cfg)(zeroOut, batch, key(8))).loss;
    check('score-sde: the baseline term alone (zero network output) gives the CPU loss', close([got], [want], 1e-5, 1e-7));
  }
  // Training: 4 steps of Adam (with EMA) on both, the same keys and batches.
  for (const [name, cfg] of [cases[0], cases[1]]) {
    const z = toModelSpace(cfg, x2);
    const o = { lr: 3e-3, ema: 0.9 };
    let sc: ScoreSdeTrainState = initScoreSdeState(cfg, key(2), o);
    let sg = sc;
    const cpuStep = scoreSdeTrainStep(cfg, o), gpuStep = scoreSdeTrainStepGpu(gpu, cfg, o);
    let infoC = { loss: 0 }, infoG = { loss: 0 };
    for (let t = 1; t <= 4; t++) {
      const batch = new Tensor(Float32Array.from(z.data).subarray(64 * (t - 1), 64 * t), [32, 2]);
      [sc, infoC] = cpuStep(sc, batch, foldIn(key(4), t));
      [sg, infoG] = await gpuStep(sg, batch, foldIn(key(4), t));
    }
    let worst = 0;
    for (const kk of Object.keys(sc.params)) worst = Math.max(worst, maxDiff(sc.params[kk].data, sg.params[kk].data), maxDiff(sc.ema![kk].data, sg.ema![kk].data));
    check(`score-sde train ${name}: parameters and EMA after 4 steps (max |Δ| ${worst.toExponential(2)})`, worst < 1e-5 ? '' : `max |Δ| ${worst}`);
    check(`score-sde train ${name}: loss of step 4`, close([infoG.loss], [infoC.loss], 1e-5, 1e-7));
  }
  // Samplers: em and pc over 25 steps, n = 24, the same keys.
  {
    const [cfgVp, cfgVe] = [cases[0][1], cases[1][1]];
    for (const [name, cfg, sampler] of [['vp em', cfgVp, 'em'], ['vp pc', cfgVp, 'pc'], ['ve pc (Fourier)', cfgVe, 'pc'], ['ve em (Fourier)', cfgVe, 'em']] as const) {
      // A tame network (output layer scaled down): an untrained one drives the 25-step chains far out.
      const p0 = initScoreParams(key(41), cfg);
      const params = { ...p0, 'l2.w': new Tensor(p0['l2.w'].data.map((v) => 0.1 * v), p0['l2.w'].shape) };
      const want = sampleScoreSde(params, cfg, key(6), 24, { sampler, steps: 25 });
      const got = await sampleScoreSdeGpu(gpu, params, cfg, key(6), 24, { sampler, steps: 25 });
      check(`score-sde sample ${name}: 25 steps match the CPU sampler (max |Δ| ${maxDiff(got.data, want.data).toExponential(2)})`, close(got.data, want.data, 1e-4, 1e-4));
      const other = await sampleScoreSdeGpu(gpu, params, cfg, key(7), 24, { sampler, steps: 25 });
      check(`score-sde sample ${name}: a wrong key is caught`, maxDiff(other.data, want.data) > 0.05 ? '' : 'no difference');
    }
    check('score-sde: an activation without a kernel stays on the CPU with a reason', /elu/.test(scoreSdeGpuUnsupported({ ...cfgVp, arch: { kind: 'mlp', hidden: [4], embedDim: 8, activation: 'elu' } }) ?? '') ? '' : 'no reason');
    check('score-sde: ode stays on the CPU with a reason', /ode/.test(scoreSdeSampleGpuUnsupported(cfgVp, 'ode') ?? '') ? '' : 'no reason');
  }


  // ---- deep-ebm: energy and input gradient, samplers, CD value and gradient ----
  const dcfg = (o: Partial<DeepEbmFileConfig> = {}): DeepEbmFileConfig => ({
    arch: parseArch('mlp:2-12-10-1'), activation: 'silu', shift: [3, -1], scale: [2, 0.6], confine: 0.05,
    sampler: 'ula', stepSize: 0.01, mcmcSteps: 5, initLow: [-2, -3], initHigh: [8, 1], clamp: null, imageShape: null, ...o,
  } as DeepEbmFileConfig);
  const dcases: [string, DeepEbmFileConfig][] = [
    ['standardised, silu', dcfg()],
    ['Fourier features, tanh', dcfg({ activation: 'tanh', fourier: initFourierFeatures(key(12), 2, 6, 0.5) })],
    ['identity standardisation, softplus, no confinement', dcfg({ activation: 'softplus', shift: [0], scale: [1], confine: 0, arch: parseArch('mlp:2-9-1') })],
    ['noise-conditional (at σ_min)', dcfg({ noise: { sigmaMin: 0.1, sigmaMax: 2 } } as Partial<DeepEbmFileConfig>)],
  ];
  const xe = data2d(13, 40);
  for (const [name, cfg] of dcases) {
    const params = initDeepEbm(key(14), cfg, 1);
    const want = energyAndGrad(deepEbmEnergy(params, cfg), xe);
    const m = uploadDeepEbm(gpu, params, cfg);
    const { energy, grad } = deepEbmEnergyGradGpu(gpu, m, gpu.upload(xe.data as Float32Array, xe.shape));
    check(`deep-ebm ${name}: energy`, close(await energy.read(), want.energy.data, 1e-5, 1e-5));
    check(`deep-ebm ${name}: input gradient`, gradsClose({ g: await grad.toTensor() }, { g: want.grad }, 1e-4));
    disposeDeepEbm(m);
  }
  // Samplers from noise: ULA (with a clamp box) and MALA, 20 steps, the CPU kernels' keys.
  for (const [name, cfg, frac] of [
    ['ula', dcases[0][1], 1],
    ['ula, clamp box, temperature 0.5', dcfg({ clamp: [-1, 4], temperature: 0.5 }), 1],
    ['mala (Fourier)', { ...dcases[1][1], sampler: 'mala', stepSize: 0.02 } as DeepEbmFileConfig, 0.9],
  ] as const) {
    const params = initDeepEbm(key(15), cfg, 1);
    const want = sampleDeepEbmFromNoise(params, cfg, key(16), 40, 20);
    const got = await sampleDeepEbmGpu(gpu, params, cfg, key(16), 40, 20, { sampler: cfg.sampler, stepSize: cfg.stepSize, temperature: cfg.temperature ?? 1, box: cfg.clamp });
    // ULA: every value to float32 rounding; MALA: a chain whose log-acceptance lands within rounding of its uniform
    // takes the other branch, so most (not all) rows must agree.
    let rows = 0;
    for (let i = 0; i < 40; i++) if (Math.abs(got.data[2 * i] - want.data[2 * i]) + Math.abs(got.data[2 * i + 1] - want.data[2 * i + 1]) < 1e-4) rows++;
    check(`deep-ebm sample ${name}: 20 steps match the CPU sampler (${rows}/40 rows)`, rows >= frac * 40 ? '' : `only ${rows}/40 rows agree; max |Δ| ${maxDiff(got.data, want.data)}`);
    const other = await sampleDeepEbmGpu(gpu, params, cfg, key(17), 40, 20, { sampler: cfg.sampler, stepSize: cfg.stepSize, temperature: cfg.temperature ?? 1, box: cfg.clamp });
    check(`deep-ebm sample ${name}: a wrong key is caught`, maxDiff(other.data, want.data) > 0.05 ? '' : 'no difference');
  }
  // CD: replay-buffer negatives with reinit, data noise and the α regulariser; ULA and MALA.
  for (const [name, cfg, alpha] of [
    ['ula, α = 0.1', dcases[0][1], 0.1],
    ['mala, Fourier, α = 0.05', { ...dcases[1][1], sampler: 'mala', stepSize: 0.02 } as DeepEbmFileConfig, 0.05],
  ] as const) {
    const params = initDeepEbm(key(18), cfg);
    const mk2 = (a: number) => contrastiveDivergence({
      energy: (p: Record<string, Tensor>) => deepEbmEnergy(p, cfg), sampler: deepEbmSamplerFor(cfg), steps: 4, negatives: 'buffer', bufferSize: 64,
      reinit: 0.2, reinitFrom: { kind: 'uniform', low: cfg.initLow, high: cfg.initHigh }, alpha: a, dataNoise: 0.05,
    });
    const cd = mk2(alpha);
    const data = data2d(19, 100);
    const st = cd.initState(key(20), params, data);
    const batch = new Tensor(Float32Array.from(data.data).subarray(0, 2 * 24), [24, 2]);
    const want = cdValueAndGrad(cd)(params, batch, key(21), st);
    const s = { sampler: cfg.sampler, stepSize: cfg.stepSize, temperature: 1, box: cfg.clamp };
    const vg = deepEbmCdValueAndGradGpu(gpu, cfg, cd, s);
    const got = await vg(params, batch, key(21), st);
    // MALA: a chain may take the other accept branch (see sampleDeepEbmGpu's check); then the negatives, and so the
    // loss and gradient, differ by that chain's share, so the tolerances are looser when a row differs.
    const gb = got.state.buffer!.data, wb = want.state.buffer!.data;
    let same = 0;
    for (let i = 0; i < gb.length / 2; i++) if (Math.abs(gb[2 * i] - wb[2 * i]) + Math.abs(gb[2 * i + 1] - wb[2 * i + 1]) < 1e-4) same++;
    const all = same === gb.length / 2;
    check(`deep-ebm cd ${name}: buffer after the step (${same}/${gb.length / 2} rows agree)`, all || (cfg.sampler === 'mala' && same >= 0.95 * gb.length / 2) ? '' : `${same} rows agree`);
    const tol = all ? 1e-5 : 1e-2;
    check(`deep-ebm cd ${name}: loss, ePos, eNeg`, close([got.loss, got.aux.ePos, got.aux.eNeg], [want.loss, want.aux.ePos, want.aux.eNeg], tol, tol));
    check(`deep-ebm cd ${name}: gradients`, gradsClose(got.grads, want.grads, all ? 1e-4 : 5e-2));
    const wrong = await vg(params, batch, foldIn(key(21), 1), st);
    check(`deep-ebm cd ${name}: a wrong key is caught`, maxDiff(wrong.state.buffer!.data, want.state.buffer!.data) > 0.05 ? '' : 'no difference');
    // A dropped regulariser: the GPU step of the α = 0 loss must differ from the CPU's α > 0 gradient.
    const noReg = await deepEbmCdValueAndGradGpu(gpu, cfg, mk2(0), s)(params, batch, key(21), st);
    check(`deep-ebm cd ${name}: a dropped α term is caught`, gradsClose(noReg.grads, want.grads, 1e-3) !== '' ? '' : 'the α term changes nothing');
  }
  check('deep-ebm: an activation without a kernel stays on the CPU with a reason', /elu/.test(deepEbmGpuUnsupported({ ...dcases[0][1], arch: parseArch('conv:1x8x8:4:8'), activation: 'elu' } as DeepEbmConfig) ?? '') ? '' : 'no reason');
  check('deep-ebm: tempered negatives with HMC moves stay on the CPU with a reason', /hmc/.test(deepEbmCdGpuUnsupported(dcases[0][1], { energy: () => { throw new Error('unused'); }, steps: 1, negatives: 'tempered', tempering: { temperatures: [1, 2], stepSize: 0.1, local: 'hmc' } }) ?? '') ? '' : 'no reason');

  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, checks }));
  await releaseGpu();
}
