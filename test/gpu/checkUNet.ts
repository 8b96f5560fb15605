/**
 * The U-Net lowering (src/gpu/unetNet.ts) and the score-sde image models' step and samplers (U-Net and MLP, with
 * dequantised batches and the clipped input; src/models/scoreSde/gpu.ts) against the CPU on this machine's WebGPU adapter; prints one JSON line `{ available, reason?, adapter?, checks }`.
 * Run by test/gpu/unet.test.ts in a child process (Dawn's threads and Vitest's worker pool do not mix), and by hand:
 *   npx tsx test/gpu/checkUNet.ts
 * Tiny nets (base 4), batches of 2–4 and few steps: SwiftShader is a CPU driver.
 */
import { useSwiftShader, checkList, closeFinite as close } from './_checkScript.js';
import { GpuKernels } from '../../src/gpu/kernels.js';
import { releaseGpu } from '../../src/gpu/device.js';
import { key, foldIn, normalArray, uniformArray, split } from '../../src/random/index.js';
import { initBackend } from '../../src/tensor/select.js';
import { Tensor, valueAndGrad, sum, mul, silu, conv2d, linear, upsampleConcat2d, tensor } from '../../src/tensor/index.js';
import { initUNet, applyUNet, timeEmbedding } from '../../src/diffusion/index.js';
import { uploadUNet, disposeUNet, unetForwardGpu, unetParamGradGpu, readUNetGrads, disposeUNetGrads } from '../../src/gpu/unetNet.js';
import { disposeAll } from '../../src/gpu/mlpNet.js';
import { makeScoreSdeConfig, toModelSpace, netShape, scoreSdeLoss, initScoreSdeState, scoreSdeTrainStep, sampleScoreSde, initScoreParams, dequantizeBatch, type ScoreSdeConfig, type ScoreSdeTrainState } from '../../src/models/scoreSde/index.js';
import { scoreSdeValueAndGradGpu, scoreSdeTrainStepGpu, sampleScoreSdeGpu, scoreSdeGpuUnsupported, scoreSdeSampleGpuUnsupported } from '../../src/models/scoreSde/gpu.js';

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
    const d = close(got[k].data, want[k].data, 0, rtol * (scale + 1e-6));
    if (d) return `${k}: ${d} (scale ${scale})`;
  }
  return '';
}

/** `applyUNet` with the residual blocks' identity path dropped (`h₃ ← block(h₃)`): the dropped-term reference. */
function unetWithoutResidual(params: Record<string, Tensor>, x: Tensor, t: Tensor): Tensor {
  const emb = timeEmbedding(t, params['enc1.temb'].shape[0]);
  const block = (name: string, h: Tensor, stride: number): Tensor =>
    silu(conv2d(h, params[`${name}.w`], linear(emb, params[`${name}.temb`], params[`${name}.b`]), { stride, padding: 1 }));
  const h1 = block('enc1', x, 1), h2 = block('enc2', h1, 2);
  let h3 = block('enc3', h2, 2);
  for (let m = 1; params[`mid${m}.w`] !== undefined; m++) h3 = block(`mid${m}`, h3, 1);
  const u2 = block('dec2', upsampleConcat2d(h3, h2, 2), 1);
  const u1 = block('dec1', upsampleConcat2d(u2, h1, 2), 1);
  return conv2d(u1, params['out.w'], params['out.b'], { padding: 1 });
}

/** U-Net parameters with every tensor perturbed (non-zero biases, an output conv of ordinary size). */
function unetParams(seed: number, mid: number): Record<string, Tensor> {
  const p = initUNet(key(seed), { base: 4, embedDim: 8, mid });
  const out: Record<string, Tensor> = {};
  Object.entries(p).forEach(([name, v], i) => {
    const e = normalArray(foldIn(key(seed + 100), i), v.size, 'float32');
    const s = name.endsWith('.b') ? 0.2 : name === 'out.w' ? 0.1 : 0;
    out[name] = new Tensor(Float32Array.from(v.data, (w, j) => (name === 'out.w' ? 0 : w) + s * e[j]), v.shape);
  });
  return out;
}

const made = await GpuKernels.create();
if (!(made instanceof GpuKernels)) {
  console.log(JSON.stringify({ available: false, reason: made.reason, checks }));
} else {
  const gpu = made;

  // ---- the network pass: output and every parameter gradient against applyUNet + autodiff ----
  for (const [mid, N] of [[0, 3], [2, 2]] as const) {
    const params = unetParams(3 + mid, mid);
    const x = new Tensor(normalArray(key(10 + mid), N * 784, 'float32'), [N, 1, 28, 28]);
    const t = new Tensor(Float32Array.from(uniformArray(key(20 + mid), N, 'float32')), [N]);
    const G = new Tensor(normalArray(key(30 + mid), N * 784, 'float32'), [N, 1, 28, 28]);
    const want = applyUNet(params, x, t);
    const loss = (p: Record<string, Tensor>): Tensor => sum(mul(applyUNet(p, x, t), G));
    const [, g] = valueAndGrad(loss)(params);
    const net = uploadUNet(gpu, params);
    const emb = timeEmbedding(t, 8);
    const xg = gpu.upload(x.data as Float32Array, x.shape), eg = gpu.upload(emb.data as Float32Array, emb.shape), gg = gpu.upload(G.data as Float32Array, G.shape);
    const f = unetForwardGpu(gpu, net, xg, eg);
    const back = unetParamGradGpu(gpu, net, f, gg);
    const out = await f.out.read();
    const grads = await readUNetGrads(params, back);
    check(`unet mid=${mid} N=${N}: output (max |Δ| ${maxDiff(out, want.data).toExponential(2)})`, close(out, want.data, 1e-4, 1e-5));
    check(`unet mid=${mid} N=${N}: all ${Object.keys(params).length} parameter gradients`, gradsClose(grads, g as Record<string, Tensor>, 1e-4));
    if (mid > 0) {
      // The comparison is tight enough to catch a dropped term: the gradient without the residuals' identity path differs.
      const [, gNoRes] = valueAndGrad((p: Record<string, Tensor>) => sum(mul(unetWithoutResidual(p, x, t), G)))(params);
      check(`unet mid=${mid}: a dropped residual term is caught`, gradsClose(grads, gNoRes as Record<string, Tensor>, 1e-3) !== '' ? '' : 'the residual term changes nothing');
    }
    // One shared time row [1, e] (the sampler's form) gives the per-image output at equal times.
    const tSame = tensor(new Float64Array(N).fill(0.3), [N], 'float32');
    const eOne = gpu.upload(timeEmbedding(tensor([0.3], [1], 'float32'), 8).data as Float32Array, [1, 8]);
    const f1 = unetForwardGpu(gpu, net, xg, eOne);
    check(`unet mid=${mid}: a shared time row matches applyUNet`, close(await f1.out.read(), applyUNet(params, x, tSame).data, 1e-4, 1e-5));
    disposeUNetGrads(back);
    disposeAll([...f.temp, f.out, ...f1.temp, f1.out, xg, eg, gg, eOne]);
    disposeUNet(net);
  }

  // ---- score-sde with --arch unet: DSM loss and gradient, training steps, samplers ----
  // (VE with a small σ_max, so the 6-step chains end mostly inside the clamp box.)
  // 8-bit images (levels k/255, so the config dequantises), 6 rows of a smooth pattern plus noise.
  const rows = 6;
  const img = new Float32Array(rows * 784);
  const u = uniformArray(key(50), rows * 784, 'float32');
  for (let r = 0; r < rows; r++) for (let i = 0; i < 784; i++) {
    const y = Math.floor(i / 28), xx = i % 28;
    img[r * 784 + i] = Math.round(255 * Math.min(1, Math.max(0, 0.5 + 0.4 * Math.sin((y + r) / 4) * Math.cos(xx / 5) + 0.2 * (u[r * 784 + i] - 0.5)))) / 255;
  }
  const data = new Tensor(img, [rows, 784]);
  const cases: [string, ScoreSdeConfig][] = [
    ['unet vp, mixed times, mid 0', makeScoreSdeConfig(data, { sde: 'vp', arch: { kind: 'unet', base: 4, embedDim: 8, mid: 0 }, imageShape: [28, 28], tSampling: 'mixed' })],
    ['unet ve, uniform times, mid 2', makeScoreSdeConfig(data, { sde: 've', arch: { kind: 'unet', base: 4, embedDim: 8, mid: 2 }, imageShape: [28, 28], tSampling: 'uniform', sdeParams: { sigmaMax: 1.5 } })],
    ['mlp on images, vp', makeScoreSdeConfig(data, { sde: 'vp', arch: { kind: 'mlp', hidden: [16], embedDim: 8, activation: 'silu' }, imageShape: [28, 28] })],
  ];
  // The image configs' clip (±5) rarely binds on training inputs; a clip of 0.5 binds on most pixels, so these cases
  // check that the GPU clamps where the CPU does.
  cases.push(['unet vp, input clip 0.5', { ...cases[0][1], inputClip: 0.5 }], ['mlp on images, input clip 0.5', { ...cases[2][1], inputClip: 0.5 }]);
  for (const [name, cfg] of cases) {
    const shape = netShape(cfg, 1).slice(1);
    const rowsOf = (from: number, n: number): Tensor => new Tensor(Float32Array.from(toModelSpace(cfg, data).data).subarray(784 * from, 784 * (from + n)), [n, ...shape]);
    check(`score-sde ${name}: runs on the GPU`, scoreSdeGpuUnsupported(cfg) === null && scoreSdeSampleGpuUnsupported(cfg, 'em') === null && scoreSdeSampleGpuUnsupported(cfg, 'pc') === null ? '' : 'a reason was given');
    check(`score-sde ${name}: the config clips and dequantises`, cfg.inputClip !== undefined && cfg.dequantize === true ? '' : `inputClip ${cfg.inputClip}, dequantize ${cfg.dequantize}`);
    const params = initScoreParams(key(61), cfg);
    const k = key(62);
    const b = dequantizeBatch(cfg, rowsOf(0, 4), split(k, 2)[0]);
    const [lv, g] = valueAndGrad((p: Record<string, Tensor>) => scoreSdeLoss(cfg)(p, b, k).loss)(params);
    const r = await scoreSdeValueAndGradGpu(gpu, cfg)(params, b, k);
    check(`score-sde ${name}: loss`, close([r.loss], [lv.item()], 1e-5, 1e-7));
    check(`score-sde ${name}: gradients`, gradsClose(r.grads, g as Record<string, Tensor>, 1e-4));
    if (cfg.inputClip === 0.5) {
      const noClip = valueAndGrad((p: Record<string, Tensor>) => scoreSdeLoss({ ...cfg, inputClip: undefined })(p, b, k).loss)(params)[1];
      check(`score-sde ${name}: a dropped clip is caught`, gradsClose(r.grads, noClip as Record<string, Tensor>, 1e-3) !== '' ? '' : 'the clip changes nothing');
    }
    // Training: 3 Adam steps with EMA, dequantised batches, the same keys.
    const o = { lr: 3e-3, ema: 0.9 };
    let sc: ScoreSdeTrainState = initScoreSdeState(cfg, key(2), o);
    let sg = sc;
    const cpuStep = scoreSdeTrainStep(cfg, o), gpuStep = scoreSdeTrainStepGpu(gpu, cfg, o);
    let infoC = { loss: 0 }, infoG = { loss: 0 };
    for (let s = 1; s <= 3; s++) {
      const bt = rowsOf(s - 1, 2);
      [sc, infoC] = cpuStep(sc, bt, foldIn(key(4), s));
      [sg, infoG] = await gpuStep(sg, bt, foldIn(key(4), s));
    }
    let worst = 0;
    for (const kk of Object.keys(sc.params)) worst = Math.max(worst, maxDiff(sc.params[kk].data, sg.params[kk].data), maxDiff(sc.ema![kk].data, sg.ema![kk].data));
    check(`score-sde train ${name}: parameters and EMA after 3 steps (max |Δ| ${worst.toExponential(2)})`, worst < 2e-5 ? '' : `max |Δ| ${worst}`);
    check(`score-sde train ${name}: loss of step 3`, close([infoG.loss], [infoC.loss], 1e-4, 1e-6));
    // Samplers: em and pc, 6 steps, 2 images, the trained parameters.
    for (const sampler of ['em', 'pc'] as const) {
      const want = sampleScoreSde(sg.params, cfg, key(6), 2, { sampler, steps: 6 });
      const got = await sampleScoreSdeGpu(gpu, sg.params, cfg, key(6), 2, { sampler, steps: 6 });
      check(`score-sde sample ${name} ${sampler}: 6 steps match the CPU sampler (max |Δ| ${maxDiff(got.data, want.data).toExponential(2)})`, close(got.data, want.data, 1e-4, 1e-4));
      // The comparison sees the chain: many pixels are inside the clamp box (≥ 150 of 1568 compared unclamped).
      const inside = Array.from(want.data).filter((v) => v > 0 && v < 1).length / want.size;
      check(`score-sde sample ${name} ${sampler}: ${(100 * inside).toFixed(0)}% of the pixels unclamped`, inside > 0.1 ? '' : `only ${inside}`);
      // Another key moves them (not with the 0.5 clip: 6 VP steps end on the net's output, x's own coefficient being
      // ≈ 0.003 in the last step, and a net reading a mostly saturated input gives nearly the same output for any x).
      if (cfg.inputClip !== 0.5) {
        const other = await sampleScoreSdeGpu(gpu, sg.params, cfg, key(7), 2, { sampler, steps: 6 });
        check(`score-sde sample ${name} ${sampler}: a wrong key is caught`, maxDiff(other.data, want.data) > 0.05 ? '' : 'no difference');
      }
    }
  }
  const cfg0 = makeScoreSdeConfig(data, { sde: 'vp', arch: { kind: 'unet', base: 4, embedDim: 8 }, imageShape: [28, 28] });
  check('score-sde unet: ode stays on the CPU with a reason', /ode/.test(scoreSdeSampleGpuUnsupported(cfg0, 'ode') ?? '') ? '' : 'no reason');
  check('score-sde unet: annealed stays on the CPU with a reason', /annealed/.test(scoreSdeSampleGpuUnsupported(cfg0, 'annealed') ?? '') ? '' : 'no reason');

  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, checks }));
  await releaseGpu();
}
