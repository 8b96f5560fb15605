/**
 * The convolution kernels (src/gpu/convKernels.ts) and the conv-net passes (src/gpu/convNet.ts) against the CPU
 * backend's `conv2d` op and autodiff on this machine's WebGPU adapter; prints one JSON line
 * `{ available, reason?, adapter?, checks: [{ name, ok, detail }] }`. Run by test/gpu/conv.test.ts in a child process
 * (Dawn's threads and Vitest's worker pool do not mix), and usable by hand:
 *   npx tsx test/gpu/checkConv.ts
 * Small shapes: SwiftShader is a CPU driver.
 */
import { useSwiftShader, checkList, closeFinite as close } from './_checkScript.js';
import { GpuKernels } from '../../src/gpu/kernels.js';
import { releaseGpu } from '../../src/gpu/device.js';
import { conv2dGpu, conv2dInputGradGpu, conv2dFilterGradGpu } from '../../src/gpu/convKernels.js';
import { key, uniformArray } from '../../src/random/index.js';
import { initBackend } from '../../src/tensor/select.js';
import { Tensor, valueAndGrad, sum, mul } from '../../src/tensor/index.js';
import { conv2d } from '../../src/tensor/ops/conv.js';
import { upsampleConcat2d, add, reshape } from '../../src/tensor/index.js';
import { upsampleConcat2dGpu, upsampleConcat2dGradGpu, channelBiasGpu, channelSumsGpu } from '../../src/gpu/imageKernels.js';
import { initConvNet, applyConvNet, type ConvNetConfig } from '../../src/nn/convnet.js';
import { uploadConvNet, disposeConvNet, convNetForwardGpu, convNetBackwardGpu, readConvNetGrads, disposeConvNetGrads } from '../../src/gpu/convNet.js';
import { disposeAll } from '../../src/gpu/mlpNet.js';
import { foldIn } from '../../src/random/index.js';
import { energyAndGrad } from '../../src/energy/types.js';
import { parseArch, initDeepEbm, deepEbmEnergy } from '../../src/models/deepEbm/index.js';
import { sampleDeepEbmFromNoise, deepEbmSamplerFor, type DeepEbmFileConfig } from '../../src/models/deepEbm/kind.js';
import { contrastiveDivergence, cdValueAndGrad } from '../../src/losses/contrastiveDivergence.js';
import { runChains } from '../../src/losses/contrastiveDivergence.js';
import {
  jemConfig, initJem, jemKindLoss, jemSampler, jemClassifier, packJemData, initJemTrainState, trainJemModelAsync, sampleJemModel,
  jemEnergy, jemConditionalEnergy, jemModelScores, type JemConfig, type JemState,
} from '../../src/models/jem/index.js';
import { jemSgldGpu, jemValueAndGradGpu, sampleJemModelGpu, jemModelScoresGpu, uploadJemNet, disposeJemNet } from '../../src/models/jem/gpu.js';
import { uploadDeepEbm, disposeDeepEbm, deepEbmEnergyGradGpu, sampleDeepEbmGpu, deepEbmCdValueAndGradGpu, deepEbmCdGpuUnsupported } from '../../src/models/deepEbm/gpu.js';

useSwiftShader();
initBackend();

const { checks, check } = checkList();

function rand(seed: number, shape: number[], lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(uniformArray(key(seed), n, 'float32').map((v) => lo + (hi - lo) * v), shape);
}
/** Compared relative to the largest entry of `want` (float32 sums in another order). */
/** Largest |a − b| over the arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
/** Gradients compared relative to each tensor's largest entry. */
function gradsClose(got: Record<string, Tensor>, want: Record<string, Tensor>, rtol: number): string {
  for (const k of Object.keys(want)) {
    if (!got[k]) return `missing ${k}`;
    const d = closeScaled(got[k].data, want[k].data, rtol);
    if (d) return `${k}: ${d}`;
  }
  return '';
}
function closeScaled(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number): string {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  return close(got, want, 0, rtol * (scale + 1e-6));
}

const made = await GpuKernels.create();
if (!(made instanceof GpuKernels)) {
  console.log(JSON.stringify({ available: false, reason: made.reason, checks }));
} else {
  const gpu = made;

  // ---- conv2d forward, input gradient, filter and bias gradients vs the CPU op and its autodiff ----
  // [N, C, H, W], [O, kh, kw], stride, padding, bias: odd sizes, rectangular images and filters, strides 1–3, paddings.
  const cases: { x: number[]; o: number; k: [number, number]; stride: number | [number, number]; padding: number | [number, number]; bias: 'none' | 'shared' | 'image' }[] = [
    { x: [1, 1, 5, 5], o: 1, k: [3, 3], stride: 1, padding: 0, bias: 'none' },
    { x: [3, 2, 7, 7], o: 4, k: [3, 3], stride: 2, padding: 1, bias: 'shared' },
    { x: [2, 3, 8, 8], o: 5, k: [3, 3], stride: 2, padding: 1, bias: 'shared' },
    { x: [2, 2, 9, 6], o: 3, k: [2, 3], stride: [2, 1], padding: [0, 1], bias: 'image' },
    { x: [4, 1, 28, 28], o: 6, k: [3, 3], stride: 2, padding: 1, bias: 'shared' },
    { x: [2, 3, 6, 7], o: 2, k: [5, 5], stride: 3, padding: 2, bias: 'shared' },
    { x: [2, 4, 4, 4], o: 3, k: [1, 1], stride: 1, padding: 0, bias: 'shared' },
  ];
  for (const [ci, c] of cases.entries()) {
    const [N, C] = c.x;
    const x = rand(100 + ci, c.x, -2, 2);
    const w = rand(200 + ci, [c.o, C, c.k[0], c.k[1]], -0.5, 0.5);
    const b = c.bias === 'none' ? undefined : rand(300 + ci, c.bias === 'shared' ? [c.o] : [N, c.o]);
    const opts = { stride: c.stride, padding: c.padding };
    const yCpu = conv2d(x, w, b, opts);
    const gy = rand(400 + ci, [...yCpu.shape], -1, 1);
    const vg = valueAndGrad((p: { x: Tensor; w: Tensor; b?: Tensor }) => sum(mul(conv2d(p.x, p.w, p.b, opts), gy)));
    const [, g] = vg(b ? { x, w, b } : { x, w });
    const name = `conv ${c.x.join('x')} o${c.o} k${c.k.join('x')} s${c.stride} p${c.padding} bias ${c.bias}`;
    const xg = gpu.upload(x), wg = gpu.upload(w), bg = b ? gpu.upload(b) : null, gyg = gpu.upload(gy);
    const y = conv2dGpu(gpu, xg, wg, bg, opts);
    check(`${name}: shape`, y.shape.join(',') === yCpu.shape.join(',') ? '' : `[${y.shape}] vs [${yCpu.shape}]`);
    check(`${name}: forward`, closeScaled(await y.read(), yCpu.data, 1e-5));
    const dx = conv2dInputGradGpu(gpu, gyg, wg, x.shape, opts);
    check(`${name}: input gradient`, closeScaled(await dx.read(), g.x.data, 1e-5));
    const { dw, db } = conv2dFilterGradGpu(gpu, xg, gyg, w.shape, opts, c.bias === 'shared');
    check(`${name}: filter gradient`, closeScaled(await dw.read(), g.w.data, 1e-5));
    if (c.bias === 'shared') check(`${name}: bias gradient`, closeScaled(await db!.read(), g.b!.data, 1e-5));
    for (const t of [xg, wg, bg, gyg, y, dx, dw, db]) t?.dispose();
  }

  // One dispatch per call, whatever the channel counts.
  {
    const x = gpu.upload(rand(1, [3, 4, 9, 9])), w = gpu.upload(rand(2, [8, 4, 3, 3])), b = gpu.upload(rand(3, [8]));
    const before = gpu.stats.dispatches;
    const y = conv2dGpu(gpu, x, w, b, { stride: 2, padding: 1 });
    const dx = conv2dInputGradGpu(gpu, y, w, x.shape, { stride: 2, padding: 1 });
    const { dw, db } = conv2dFilterGradGpu(gpu, x, y, w.shape, { stride: 2, padding: 1 }, true);
    const used = gpu.stats.dispatches - before;
    check('one dispatch per convolution, input gradient and filter+bias gradient', used === 3 ? '' : `${used} dispatches`);
    for (const t of [x, w, b, y, dx, dw, db]) t?.dispose();
  }

  // The checks can fail: a filter gradient of the wrong padding differs.
  {
    const x = rand(7, [2, 2, 7, 7]), w = rand(8, [3, 2, 3, 3]), gy = rand(9, [2, 3, 4, 4]);
    const [, g] = valueAndGrad((p: { w: Tensor }) => sum(mul(conv2d(x, p.w, undefined, { stride: 2, padding: 1 }), gy)))({ w });
    const xg = gpu.upload(x), gyg = gpu.upload(gy);
    const { dw } = conv2dFilterGradGpu(gpu, xg, gyg, w.shape, { stride: 2, padding: 1 }, false);
    check('filter gradient matches with the right geometry', closeScaled(await dw.read(), g.w.data, 1e-5));
    const wrong = conv2dFilterGradGpu(gpu, gpu.upload(rand(7, [2, 2, 7, 7], -2, 2)), gyg, w.shape, { stride: 2, padding: 1 }, false);
    check('a different input is caught', closeScaled(await wrong.dw.read(), g.w.data, 1e-5) !== '' ? '' : 'not caught');
    for (const t of [xg, gyg, dw, wrong.dw]) t.dispose();
  }

  // ---- the U-Net's other image kernels: upsampling + concatenation and a per-channel bias, with their gradients ----
  for (const [ci, [xs, c2, scale]] of ([[[2, 3, 4, 5], 2, 2], [[1, 2, 3, 3], 3, [2, 3]], [[3, 1, 2, 4], 0, 1], [[2, 4, 7, 7], 4, 2]] as [number[], number, number | [number, number]][]).entries()) {
    const [N, , H, W] = xs;
    const [sh, sw] = typeof scale === 'number' ? [scale, scale] : scale;
    const x = rand(1100 + ci, xs), skip = rand(1110 + ci, [N, c2, H * sh, W * sw]);
    const y = upsampleConcat2d(x, skip, scale);
    const G = rand(1120 + ci, [...y.shape]);
    const [, g] = valueAndGrad((q: { x: Tensor; s: Tensor }) => sum(mul(upsampleConcat2d(q.x, q.s, scale), G)))({ x, s: skip });
    const name = `upsampleConcat2d x [${xs}] skip channels ${c2} scale ${scale}`;
    const xg = gpu.upload(x), sg = gpu.upload(skip), Gg = gpu.upload(G);
    const yg = upsampleConcat2dGpu(gpu, xg, sg, scale);
    check(`${name}: forward`, yg.shape.join(',') === y.shape.join(',') ? close(await yg.read(), y.data, 0, 0) : `shape [${yg.shape}]`);
    const { gx, gskip } = upsampleConcat2dGradGpu(gpu, Gg, xs[1], scale);
    check(`${name}: gradients`, closeScaled(await gx.read(), g.x.data, 1e-6) || (c2 > 0 ? close(await gskip.read(), g.s.data, 0, 0) : ''));
    disposeAll([xg, sg, Gg, yg, gx, gskip]);
  }
  for (const [ci, [xs, perImage]] of ([[[3, 4, 5, 6], false], [[3, 4, 5, 6], true], [[2, 70, 1, 1], false], [[1, 2, 9, 13], true]] as [number[], boolean][]).entries()) {
    const [N, O] = xs;
    const x = rand(1200 + ci, xs), b = rand(1210 + ci, perImage ? [N, O] : [O]);
    const f = (q: { x: Tensor; b: Tensor }): Tensor => add(q.x, reshape(q.b, perImage ? [N, O, 1, 1] : [1, O, 1, 1]));
    const y = f({ x, b });
    const G = rand(1220 + ci, xs);
    const [, g] = valueAndGrad((q: { x: Tensor; b: Tensor }) => sum(mul(f(q), G)))({ x, b });
    const name = `channel bias x [${xs}] ${perImage ? 'per image' : 'shared'}`;
    const xg = gpu.upload(x), bg = gpu.upload(b), Gg = gpu.upload(G);
    const yg = channelBiasGpu(gpu, xg, bg);
    check(`${name}: forward`, closeScaled(await yg.read(), y.data, 1e-6));
    const db = channelSumsGpu(gpu, Gg, perImage);
    check(`${name}: gradient (plane sums)`, closeScaled(await db.read(), g.b.data, 1e-5));
    disposeAll([xg, bg, Gg, yg, db]);
    if (ci === 0) {
      const wrong = channelSumsGpu(gpu, gpu.upload(G), true);
      check('channel sums over the wrong axes are caught', wrong.size !== g.b.size || closeScaled(await wrong.read(), g.b.data, 1e-5) !== '' ? '' : 'not caught');
      wrong.dispose();
    }
  }

  // ---- the conv-net passes vs applyConvNet and its autodiff (parameters and input) ----
  const nets: { cfg: ConvNetConfig; n: number }[] = [
    { cfg: { inChannels: 1, height: 8, width: 8, channels: [4, 6], hidden: [8], out: 1, activation: 'silu' }, n: 3 },
    { cfg: { inChannels: 1, height: 7, width: 9, channels: [3], hidden: [], out: 4, activation: 'tanh' }, n: 2 },
    { cfg: { inChannels: 2, height: 6, width: 6, channels: [3, 4, 2], hidden: [5, 4], out: 3, activation: 'softplus' }, n: 4 },
    { cfg: { inChannels: 1, height: 8, width: 8, channels: [4], hidden: [6], out: 10, activation: 'relu', stride: 1, padding: 0 }, n: 2 },
  ];
  for (const [ni, { cfg, n }] of nets.entries()) {
    const p0 = initConvNet(key(500 + ni), cfg);
    // Non-zero biases, so a dropped bias term is seen.
    const params: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(p0)) params[k] = k.endsWith('.b') ? rand(600 + ni + k.length, [...v.shape], -0.3, 0.3) : v;
    const D = cfg.inChannels * cfg.height * cfg.width;
    const x = rand(700 + ni, [n, D], -1, 1);
    const G = rand(800 + ni, [n, cfg.out], -1, 1);
    const [, g] = valueAndGrad((q: { p: Record<string, Tensor>; x: Tensor }) => sum(mul(applyConvNet(q.p, q.x, cfg), G)))({ p: params, x });
    const out = applyConvNet(params, x, cfg);
    const name = `conv net ${cfg.inChannels}x${cfg.height}x${cfg.width}:${cfg.channels.join(',')}:${cfg.hidden}→${cfg.out} ${cfg.activation}`;
    const net = uploadConvNet(gpu, params, cfg);
    const xg = gpu.upload(x), Gg = gpu.upload(G);
    const before = gpu.stats.dispatches;
    const f = convNetForwardGpu(gpu, net, xg);
    const fwdDispatches = gpu.stats.dispatches - before;
    check(`${name}: forward`, closeScaled(await f.out.read(), out.data, 1e-5));
    const b = convNetBackwardGpu(gpu, net, f, Gg, { params: true, input: true });
    check(`${name}: input gradient`, closeScaled(await b.input!.read(), g.x.data, 1e-4));
    const grads = await readConvNetGrads(params, b);
    let d = '';
    for (const k of Object.keys(params)) {
      if (!grads[k]) { d = `missing ${k}`; break; }
      d = closeScaled(grads[k].data, g.p[k].data, 1e-4);
      if (d) { d = `${k}: ${d}`; break; }
    }
    check(`${name}: parameter gradient`, d);
    const L = cfg.channels.length, F = (Array.isArray(cfg.hidden) ? cfg.hidden.length : 0) + 1;
    check(`${name}: forward dispatches 2 per convolution + 3 per dense layer − 1`, fwdDispatches === 2 * L + 3 * F - 1 ? '' : `${fwdDispatches}`);
    disposeConvNetGrads(b);
    disposeAll([...f.temp, xg, Gg]);
    // Input gradient only: the same values without the parameter gradients.
    const x2 = gpu.upload(x), G2 = gpu.upload(G);
    const f2 = convNetForwardGpu(gpu, net, x2);
    const b2 = convNetBackwardGpu(gpu, net, f2, G2, { params: false, input: true });
    check(`${name}: input gradient alone`, closeScaled(await b2.input!.read(), g.x.data, 1e-4) + (b2.convW.every((t) => t === null) ? '' : 'parameter gradients computed'));
    disposeConvNetGrads(b2);
    disposeAll([...f2.temp, x2, G2]);
    if (ni === 0) {
      // A dropped bias is caught: the same net without conv0.b.
      const noBias = { ...params };
      delete noBias['conv0.b'];
      const net2 = uploadConvNet(gpu, noBias, cfg);
      const f3 = convNetForwardGpu(gpu, net2, gpu.upload(x));
      check('a dropped convolution bias is caught', closeScaled(await f3.out.read(), out.data, 1e-5) !== '' ? '' : 'not caught');
      disposeAll([...f3.temp]);
      disposeConvNet(net2);
    }
    disposeConvNet(net);
  }

  // ---- conv deep-EBMs: energy and input gradient, ULA/MALA sampling, the CD step (α, temperature, spectral norm) ----
  const ecfg = (o: Partial<DeepEbmFileConfig> = {}): DeepEbmFileConfig => ({
    arch: parseArch('conv:1x8x8:4,6:8'), activation: 'silu', shift: [0.3], scale: [0.7], confine: 0.02,
    sampler: 'ula', stepSize: 0.01, mcmcSteps: 5, initLow: [0], initHigh: [1], clamp: [0, 1], imageShape: [8, 8], ...o,
  } as DeepEbmFileConfig);
  const images = (seed: number, n: number): Tensor => rand(seed, [n, 64], 0, 1);
  for (const [name, cfg] of [
    ['conv 1x8x8:4,6:8 silu, standardised, confined', ecfg()],
    ['conv 1x7x7:3:— tanh, identity', ecfg({ arch: parseArch('conv:1x7x7:3'), activation: 'tanh', shift: [0], scale: [1], confine: 0, imageShape: [7, 7] })],
  ] as const) {
    const params = initDeepEbm(key(900), cfg, 1);
    const D = cfg.arch.kind === 'conv' ? cfg.arch.shape[1] * cfg.arch.shape[2] : 0;
    const xe = rand(901, [6, D], 0, 1);
    const want = energyAndGrad(deepEbmEnergy(params, cfg), xe);
    const m = uploadDeepEbm(gpu, params, cfg);
    const xg = gpu.upload(xe);
    const { energy, grad } = deepEbmEnergyGradGpu(gpu, m, xg);
    check(`deep-ebm ${name}: energy`, close(await energy.read(), want.energy.data, 1e-5, 1e-5));
    check(`deep-ebm ${name}: input gradient`, gradsClose({ g: await grad.toTensor() }, { g: want.grad }, 1e-4));
    disposeAll([energy, grad, xg]);
    disposeDeepEbm(m);
  }
  for (const [name, cfg, frac] of [
    ['ula, box [0, 1]', ecfg(), 1],
    ['ula, temperature 0.5', ecfg({ temperature: 0.5 }), 1],
    ['mala', ecfg({ sampler: 'mala', stepSize: 0.005 }), 0.9],
  ] as const) {
    const params = initDeepEbm(key(902), cfg, 1);
    const s = { sampler: cfg.sampler, stepSize: cfg.stepSize, temperature: cfg.temperature ?? 1, box: cfg.clamp };
    const want = sampleDeepEbmFromNoise(params, cfg, key(903), 10, 20);
    const got = await sampleDeepEbmGpu(gpu, params, cfg, key(903), 10, 20, s);
    let rows = 0;
    for (let i = 0; i < 10; i++) if (maxDiff(got.data.subarray(64 * i, 64 * i + 64), want.data.subarray(64 * i, 64 * i + 64)) < 1e-4) rows++;
    check(`deep-ebm conv sample ${name}: 20 steps match the CPU sampler (${rows}/10 rows)`, rows >= frac * 10 ? '' : `only ${rows}/10 rows agree; max |Δ| ${maxDiff(got.data, want.data)}`);
    if (name.startsWith('ula, box')) {
      const other = await sampleDeepEbmGpu(gpu, params, cfg, foldIn(key(903), 1), 10, 20, s);
      check(`deep-ebm conv sample ${name}: a wrong key is caught`, maxDiff(other.data, want.data) > 0.05 ? '' : 'no difference');
    }
  }
  for (const [name, cfg, alpha, spectral] of [
    ['conv ula, α = 0.1', ecfg(), 0.1, false],
    ['conv ula, temperature 2, spectral norm', ecfg({ temperature: 2, activation: 'softplus' }), 0, true],
    ['conv mala, α = 0.05', ecfg({ sampler: 'mala', stepSize: 0.005 }), 0.05, false],
    ['mlp:64-16-1, spectral norm, α = 0.1', ecfg({ arch: parseArch('mlp:64-16-1') }), 0.1, true],
  ] as const) {
    const params = initDeepEbm(key(904), cfg);
    const mk = (a: number, sn: boolean) => contrastiveDivergence({
      energy: (p: Record<string, Tensor>) => deepEbmEnergy(p, cfg), sampler: deepEbmSamplerFor(cfg), steps: 4, negatives: 'buffer', bufferSize: 32,
      reinit: 0.2, reinitFrom: { kind: 'uniform', low: cfg.initLow, high: cfg.initHigh }, alpha: a, dataNoise: 0.02, spectralNorm: sn,
    });
    const cd = mk(alpha, spectral);
    const data = images(905, 40);
    let st = cd.initState(key(906), params, data);
    const batch = new Tensor(Float32Array.from(data.data).subarray(0, 64 * 12), [12, 64]);
    const s = { sampler: cfg.sampler, stepSize: cfg.stepSize, temperature: cfg.temperature ?? 1, box: cfg.clamp };
    const vg = deepEbmCdGpuUnsupported(cfg, cd.options) ?? deepEbmCdValueAndGradGpu(gpu, cfg, cd, s);
    if (typeof vg === 'string') { check(`deep-ebm cd ${name}: runs on the GPU`, vg); continue; }
    // Two steps (the second from the first's state: the spectral-norm vectors and buffer carried over).
    for (let step = 0; step < 2; step++) {
      const want = cdValueAndGrad(cd)(params, batch, key(907 + step), st);
      const got = await vg(params, batch, key(907 + step), st);
      const gb = got.state.buffer!.data, wb = want.state.buffer!.data;
      let same = 0;
      for (let i = 0; i < gb.length / 64; i++) if (maxDiff(gb.subarray(64 * i, 64 * i + 64), wb.subarray(64 * i, 64 * i + 64)) < 1e-4) same++;
      const all = same === gb.length / 64;
      const tag = `deep-ebm cd ${name}, step ${step + 1}`;
      check(`${tag}: buffer (${same}/${gb.length / 64} rows agree)`, all || (cfg.sampler === 'mala' && same >= 0.9 * gb.length / 64) ? '' : `${same} rows agree`);
      const tol = all ? 1e-5 : 1e-2;
      check(`${tag}: loss, ePos, eNeg`, close([got.loss, got.aux.ePos, got.aux.eNeg], [want.loss, want.aux.ePos, want.aux.eNeg], tol, tol));
      check(`${tag}: gradients`, gradsClose(got.grads, want.grads, all ? 1e-4 : 5e-2));
      if (spectral) {
        const ks = Object.keys(want.state.sn);
        check(`${tag}: spectral-norm vectors`, ks.length > 0 && ks.every((k) => got.state.sn[k] && maxDiff(got.state.sn[k].data, want.state.sn[k].data) < 1e-6) ? '' : `keys ${ks.join(',')} vs ${Object.keys(got.state.sn).join(',')}`);
      }
      if (step === 0) {
        const wrong = await vg(params, batch, foldIn(key(907), 1), st);
        check(`${tag}: a wrong key is caught`, maxDiff(wrong.state.buffer!.data, want.state.buffer!.data) > 0.05 ? '' : 'no difference');
        if (alpha > 0) {
          const noReg = await deepEbmCdValueAndGradGpu(gpu, cfg, mk(0, spectral), s)(params, batch, key(907), st);
          check(`${tag}: a dropped α term is caught`, gradsClose(noReg.grads, want.grads, 1e-3) !== '' ? '' : 'the α term changes nothing');
        }
        if (spectral) {
          const plain = await deepEbmCdValueAndGradGpu(gpu, cfg, mk(alpha, false), s)(params, batch, key(907), st);
          check(`${tag}: a dropped spectral norm is caught`, gradsClose(plain.grads, want.grads, 1e-3) !== '' ? '' : 'the normalisation changes nothing');
        }
      }
      st = want.state;
    }
  }

  // ---- the conv JEM classifier: SGLD chains, the hybrid loss step, training, sampling, scores ----
  {
    const D = 64, K = 3, n = 24;
    const X = rand(1000, [n, D], 0, 1);
    const yr = Array.from({ length: n }, (_, i) => (i % 7 === 6 ? -1 : i % K));
    const base = (over: Partial<Parameters<typeof jemConfig>[0]>): JemConfig => jemConfig({
      dim: D, classes: [0, 1, 2], hidden: [8], conv: [4, 6], imageShape: [8, 8], shift: [0.5], scale: [0.5],
      sgld: { steps: 4, sampleSteps: 10, gradStep: 0.5, noise: 0.05, box: [-1, 1] },
      weights: { clf: 1, px: 0.5, pxy: 0 }, alpha: 0.1, dataNoise: 0.03, bufferSize: 30, reinit: 0.2, ...over,
    });
    const configs: [string, JemConfig][] = [
      ['conv silu, clf + px, α, data noise', base({})],
      ['conv tanh, clf + pxy', base({ activation: 'tanh', conv: [3], hidden: [], weights: { clf: 1, px: 0, pxy: 0.7 }, alpha: 0 })],
    ];
    const cfg0 = configs[0][1];
    const params0 = initJem(key(1001), cfg0);
    const x0 = rand(1002, [8, D], -1, 1);
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % K);
    const net = uploadJemNet(gpu, params0, cfg0);
    for (const cond of [false, true]) {
      const E = cond ? jemConditionalEnergy(jemClassifier(cfg0), params0, D, labels) : jemEnergy(jemClassifier(cfg0), params0, D);
      const want = runChains(jemSampler(cfg0), E, x0, key(1003), 15).x.data;
      const got = (await jemSgldGpu(gpu, net, cfg0, x0, key(1003), 15, cond ? labels : undefined)).x.data;
      check(`jem conv SGLD chains, 15 steps (${cond ? 'class-conditional' : 'p(x)'})`, close(got, want, 1e-4, 1e-4));
      if (!cond) check('jem conv SGLD with a wrong key is caught', close((await jemSgldGpu(gpu, net, cfg0, x0, key(1004), 15)).x.data, want, 1e-4, 1e-4) ? '' : 'not caught');
    }
    disposeJemNet(net);
    for (const [name, cfg] of configs) {
      const data = packJemData(cfg, X, yr);
      const s0 = initJemTrainState(key(1010), cfg, data);
      const batch = new Tensor((data.data as Float32Array).slice(0, 16 * (D + 1)), [16, D + 1]);
      const want = cdValueAndGrad(jemKindLoss(cfg))(s0.params, batch, key(1011), s0.chains);
      const vg = jemValueAndGradGpu(gpu, cfg);
      const got = await vg(s0.params, batch, key(1011), s0.chains);
      const ws = want.state as JemState, gs = got.state as JemState;
      let detail = close([got.loss], [want.loss], 1e-5, 1e-5);
      detail ||= gradsClose(got.grads, want.grads, 1e-4);
      if (!detail && ws.buffer) detail = close(gs.buffer!.data, ws.buffer.data, 1e-4, 1e-4) && 'replay buffer differs';
      if (!detail && ws.condBuffer) detail = close(gs.condBuffer!.data, ws.condBuffer.data, 1e-4, 1e-4) && 'class-conditional buffer differs';
      const wa = want.aux as typeof got.aux & { ce: number; acc: number; condGap: number }, ga = got.aux as typeof wa;
      for (const f of ['ePos', 'eNeg', 'gap', 'reg', 'ce', 'acc', 'condGap', 'samplerDivergent'] as const) if (!detail) detail = close([ga[f]], [wa[f]], 1e-5, 1e-5) && `${f}: ${close([ga[f]], [wa[f]], 1e-5, 1e-5)}`;
      check(`jem conv loss, gradient and buffers (${name})`, detail);
      if (name === configs[0][0]) {
        const wrong = await vg(s0.params, batch, key(1012), s0.chains);
        check('jem conv step with a wrong key is caught', gradsClose(wrong.grads, want.grads, 1e-4) ? '' : 'not caught');
        const noAlpha = await jemValueAndGradGpu(gpu, { ...cfg, alpha: 0 })(s0.params, batch, key(1011), s0.chains);
        check('jem conv step without the α term is caught', gradsClose(noAlpha.grads, want.grads, 1e-4) || close([noAlpha.loss], [want.loss], 1e-5, 1e-5) ? '' : 'not caught');
      }
    }
    {
      const o = { cfg: cfg0, x: X, y: yr, steps: 3, batchSize: 10, key: key(1020), lr: 1e-2, warmup: 1, logEvery: 1 };
      const cpu = await trainJemModelAsync(o);
      const gpuRun = await trainJemModelAsync({ ...o, valueAndGrad: jemValueAndGradGpu(gpu, cfg0) });
      let detail = '';
      for (const k of Object.keys(cpu.params)) {
        const d = close(gpuRun.params[k].data, cpu.params[k].data, 1e-4, 1e-5);
        if (d) { detail = `${k}: ${d}`; break; }
      }
      if (!detail) detail = close(gpuRun.state.buffer!.data, cpu.state.buffer!.data, 1e-3, 1e-3) && 'replay buffer differs';
      check('jem conv training, 3 steps with the device\'s value and gradient', detail);
    }
    for (const classIndex of [undefined, 2]) {
      const o = { key: key(1031), n: 6, steps: 10, ...(classIndex !== undefined ? { classIndex } : {}) };
      const want = sampleJemModel(params0, cfg0, o).data;
      const got = (await sampleJemModelGpu(gpu, params0, cfg0, o)).data;
      check(`jem conv sampling (${classIndex === undefined ? 'p(x)' : 'p(x|y = 2)'})`, close(got, want, 1e-4, 1e-4));
    }
    {
      const want = jemModelScores(params0, cfg0, X);
      const got = await jemModelScoresGpu(gpu, params0, cfg0, X, 7);
      let detail = '';
      for (const f of ['logPx', 'maxProb', 'gradNorm'] as const) if (!detail) detail = close(got[f], want[f], 1e-5, 1e-6) && `${f}: ${close(got[f], want[f], 1e-5, 1e-6)}`;
      check('jem conv OOD scores', detail);
    }
  }

  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, checks }));
  await releaseGpu();
}
