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
import { initConvNet, applyConvNet, type ConvNetConfig } from '../../src/nn/convnet.js';
import { uploadConvNet, disposeConvNet, convNetForwardGpu, convNetBackwardGpu, readConvNetGrads, disposeConvNetGrads } from '../../src/gpu/convNet.js';
import { disposeAll } from '../../src/gpu/mlpNet.js';

useSwiftShader();
initBackend();

const { checks, check } = checkList();

function rand(seed: number, shape: number[], lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(uniformArray(key(seed), n, 'float32').map((v) => lo + (hi - lo) * v), shape);
}
/** Compared relative to the largest entry of `want` (float32 sums in another order). */
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

  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, checks }));
  await releaseGpu();
}
