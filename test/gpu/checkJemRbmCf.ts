/**
 * Checks the GPU lowerings of the jem kind (MLP classifier: SGLD chains, the hybrid loss's value and gradient, a few
 * training steps, sampling) and of the rbm-cf kind (the CD statistics of a mini-batch, training) against their CPU
 * versions on this machine's WebGPU adapter, and prints one JSON line `{ available, reason?, adapter?, checks }`. Run
 * by test/gpu/jemRbmCf.test.ts in a child process (Dawn's threads and Vitest's worker pool do not mix), or by hand:
 *   npx tsx test/gpu/checkJemRbmCf.ts
 * Each comparison is also run once with a deliberate fault (a wrong key, a dropped term) to show that it would fail.
 */
import { useSwiftShader, checkList, close } from './_checkScript.js';
import { GpuKernels } from '../../src/gpu/kernels.js';
import { releaseGpu } from '../../src/gpu/device.js';
import { key, permutation, uniformArray } from '../../src/random/index.js';
import { initBackend } from '../../src/tensor/select.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { MLPParams } from '../../src/nn/mlp.js';
import { cdValueAndGrad, runChains } from '../../src/losses/contrastiveDivergence.js';
import {
  jemConfig, initJem, jemKindLoss, jemSampler, jemClassifier, packJemData, initJemTrainState, trainJemModelAsync, sampleJemModel,
  jemEnergy, jemConditionalEnergy, jemModelScores, type JemConfig, type JemState,
} from '../../src/models/jem/index.js';
import { jemSgldGpu, jemValueAndGradGpu, sampleJemModelGpu, jemModelScoresGpu } from '../../src/models/jem/gpu.js';
import { uploadMlp, disposeMlp } from '../../src/gpu/mlpNet.js';
import { syntheticRatings, ratingLevels } from '../../src/data/movielens.js';
import {
  createRbmCf, groupByUser, implicitFeedback, rbmCfBatchStatistics, trainRbmCf, trainRbmCfAsync, visibleBias, zeroGradients, recommendForUser,
  type CfSideInfo, type FeatureMatrix, type RbmCfBatchInput, type RbmCfGradients,
} from '../../src/models/rbmCf/model.js';
import { rbmCfBatchStatisticsGpu, rbmCfStatisticsGpu, recommendForUserGpu } from '../../src/models/rbmCf/gpu.js';

useSwiftShader();
initBackend();

const num = (got: number, want: number, rtol: number): string => (Math.abs(got - want) <= rtol * (1 + Math.abs(want)) || (Number.isNaN(got) && Number.isNaN(want)) ? '' : `got ${got}, want ${want}`);

/** Gradients of every parameter within `rtol` of the largest component of that parameter's gradient. */
function closeGrads(got: MLPParams, want: MLPParams, rtol: number): string {
  for (const k of Object.keys(want)) {
    if (!got[k]) return `${k}: missing`;
    const w = want[k].data as Float32Array;
    const scale = Math.max(...Array.from(w, Math.abs), 1e-6);
    const d = close(got[k].data as Float32Array, w, rtol, rtol * scale);
    if (d) return `${k}: ${d}`;
  }
  return '';
}

const { checks, check } = checkList();
/** A deliberate fault must make the comparison fail. */
const caught = (name: string, detail: string): void => check(`${name} is caught`, detail ? '' : 'the faulty version passed the comparison');

const made = await GpuKernels.create();
if (!(made instanceof GpuKernels)) {
  console.log(JSON.stringify({ available: false, reason: made.reason, checks }));
} else {
  const gpu = made;

  // ---- jem -------------------------------------------------------------------------------------------------------
  // A small labelled problem: 3 classes in 5 dimensions, 30 rows (a few unlabelled, −1).
  const D = 5, K = 3, n = 30;
  const xr = uniformArray(key(200), n * D, 'float32').map((u) => 4 * u - 2);
  const yr = Array.from({ length: n }, (_, i) => (i % 7 === 6 ? -1 : i % K));
  const X = new Tensor(xr, [n, D]);
  const base = (over: Partial<Parameters<typeof jemConfig>[0]>): JemConfig => jemConfig({
    dim: D, classes: [0, 1, 2], hidden: [12, 12], shift: [0], scale: [1], sgld: { steps: 6, sampleSteps: 15, gradStep: 0.5, noise: 0.05, box: [-2.5, 2.5] },
    weights: { clf: 1, px: 0.5, pxy: 0 }, alpha: 0.1, dataNoise: 0.03, bufferSize: 40, reinit: 0.2, ...over,
  });
  const configs: [string, JemConfig][] = [
    ['silu, clf + px, α, data noise', base({})],
    ['tanh, clf + pxy, α', base({ activation: 'tanh', weights: { clf: 1, px: 0, pxy: 0.7 } })],
    ['softplus, px + pxy, no α', base({ activation: 'softplus', hidden: [8], weights: { clf: 0.5, px: 0.3, pxy: 0.4 }, alpha: 0, dataNoise: 0 })],
  ];

  // SGLD chains on the device against runChains with the config's sampler, same keys.
  {
    const cfg = configs[0][1];
    const params = initJem(key(201), cfg);
    const x0 = new Tensor(uniformArray(key(202), 16 * D, 'float32').map((u) => 5 * u - 2.5), [16, D]);
    const labels = Int32Array.from({ length: 16 }, (_, i) => i % K);
    const net = uploadMlp(gpu, params, cfg.activation);
    for (const cond of [false, true]) {
      const E = cond ? jemConditionalEnergy(jemClassifier(cfg), params, D, labels) : jemEnergy(jemClassifier(cfg), params, D);
      const want = runChains(jemSampler(cfg), E, x0, key(203), 25).x.data as Float32Array;
      const got = (await jemSgldGpu(gpu, net, cfg, x0, key(203), 25, cond ? labels : undefined)).x.data as Float32Array;
      const d = close(got, want, 1e-4, 1e-4);
      check(`jem SGLD chains on the device, 25 steps (${cond ? 'class-conditional' : 'p(x)'})`, d);
      if (!cond) caught('jem SGLD with a wrong key', close((await jemSgldGpu(gpu, net, cfg, x0, key(204), 25)).x.data as Float32Array, want, 1e-4, 1e-4));
    }
    disposeMlp(net);
  }

  // The hybrid loss's value, gradient, buffers and diagnostics against cdValueAndGrad of the CPU loss, same key.
  for (const [name, cfg] of configs) {
    const data = packJemData(cfg, X, yr);
    const s0 = initJemTrainState(key(210), cfg, data);
    const batch = new Tensor((data.data as Float32Array).slice(0, 20 * (D + 1)), [20, D + 1]);
    const kk = key(211);
    const want = cdValueAndGrad(jemKindLoss(cfg))(s0.params, batch, kk, s0.chains);
    const vg = jemValueAndGradGpu(gpu, cfg);
    const got = await vg(s0.params, batch, kk, s0.chains);
    const ws = want.state as JemState, gs = got.state as JemState;
    let detail = num(got.loss, want.loss, 1e-5) && `loss: ${num(got.loss, want.loss, 1e-5)}`;
    detail ||= closeGrads(got.grads, want.grads, 1e-4);
    if (!detail && ws.buffer) detail = close(gs.buffer!.data as Float32Array, ws.buffer.data as Float32Array, 1e-4, 1e-4) && 'replay buffer differs';
    if (!detail && ws.condBuffer) detail = close(gs.condBuffer!.data as Float32Array, ws.condBuffer.data as Float32Array, 1e-4, 1e-4) && 'class-conditional buffer differs';
    const wa = want.aux as typeof got.aux & { ce: number; acc: number; condGap: number }, ga = got.aux as typeof wa;
    for (const f of ['ePos', 'eNeg', 'gap', 'reg', 'ce', 'acc', 'condGap', 'samplerDivergent'] as const) if (!detail && num(ga[f], wa[f], 1e-5)) detail = `${f}: ${num(ga[f], wa[f], 1e-5)}`;
    check(`jem loss, gradient and buffers on the device (${name})`, detail);
    if (name === configs[0][0]) {
      // A wrong key (other negatives and restarts) and a dropped term (α) must show.
      const wrong = await vg(s0.params, batch, key(212), s0.chains);
      caught('jem step with a wrong key', closeGrads(wrong.grads, want.grads, 1e-4));
      const noAlpha = await jemValueAndGradGpu(gpu, { ...cfg, alpha: 0 })(s0.params, batch, kk, s0.chains);
      caught('jem step without the α term', closeGrads(noAlpha.grads, want.grads, 1e-4) || num(noAlpha.loss, want.loss, 1e-5));
    }
  }

  // A few guarded training steps (Adam, clipping, warm-up) with the device's value and gradient end at the CPU's
  // parameters and buffers.
  {
    const cfg = configs[0][1];
    const o = { cfg, x: X, y: yr, steps: 5, batchSize: 12, key: key(220), lr: 1e-2, warmup: 2, logEvery: 1 };
    const cpu = await trainJemModelAsync(o);
    const logs: number[] = [];
    const gpuRun = await trainJemModelAsync({ ...o, valueAndGrad: jemValueAndGradGpu(gpu, cfg), onLog: (r) => logs.push(r.ce) });
    let detail = '';
    for (const k of Object.keys(cpu.params)) {
      const d = close(gpuRun.params[k].data as Float32Array, cpu.params[k].data as Float32Array, 1e-4, 1e-5);
      if (d) { detail = `${k}: ${d}`; break; }
    }
    if (!detail) detail = close(gpuRun.state.buffer!.data as Float32Array, cpu.state.buffer!.data as Float32Array, 1e-3, 1e-3) && 'replay buffer differs';
    if (!detail && !(logs.length === 5 && logs.every(Number.isFinite))) detail = `logged cross-entropies ${JSON.stringify(logs)}`;
    check('jem training, 5 steps with the device\'s value and gradient', detail);
  }

  // Sampling: sampleJemModel against its device version, from p(x) and from p(x|y).
  {
    const cfg = configs[1][1];
    const params = initJem(key(230), cfg);
    for (const classIndex of [undefined, 2]) {
      const o = { key: key(231), n: 12, steps: 20, ...(classIndex !== undefined ? { classIndex } : {}) };
      const want = sampleJemModel(params, cfg, o).data as Float32Array;
      const got = (await sampleJemModelGpu(gpu, params, cfg, o)).data as Float32Array;
      check(`jem sampling on the device (${classIndex === undefined ? 'p(x)' : 'p(x|y = 2)'})`, close(got, want, 1e-4, 1e-4));
    }
  }
  // OOD scores (ebm score): log p̃(x), max p(y|x) and ‖∇ₓ log p̃‖ against jemModelScores.
  {
    const cfg = configs[0][1];
    const params = initJem(key(240), cfg);
    const want = jemModelScores(params, cfg, X);
    const got = await jemModelScoresGpu(gpu, params, cfg, X, 7); // blocks of 7 rows: a partial last block
    let detail = '';
    for (const f of ['logPx', 'maxProb', 'gradNorm'] as const) if (!detail) detail = close(got[f], want[f], 1e-5, 1e-6) && `${f}: ${close(got[f], want[f], 1e-5, 1e-6)}`;
    check('jem OOD scores on the device', detail);
  }

  // ---- rbm-cf ----
  // The categorical kernel: one draw per group from exp(z − max z), masked groups all zero, against the host rule.
  {
    const G = 300, Kc = 5;
    const z = uniformArray(key(290), G * Kc, 'float32').map((u) => 8 * u - 4);
    const u = uniformArray(key(291), G, 'float32');
    const mk = Float32Array.from(uniformArray(key(292), G, 'float32'), (v) => (v < 0.8 ? 1 : 0));
    const want = new Float32Array(G * Kc);
    for (let i = 0; i < G; i++) {
      if (!mk[i]) continue;
      const row = Array.from(z.subarray(i * Kc, (i + 1) * Kc));
      const m = Math.max(...row), e = row.map((v) => Math.exp(v - m)), tot = e.reduce((a, b) => a + b, 0);
      let acc = 0, pick = Kc - 1;
      for (let k = 0; k < Kc; k++) { acc += e[k]; if (u[i] * tot < acc) { pick = k; break; } }
      want[i * Kc + pick] = 1;
    }
    const got = await gpu.categorical(gpu.upload(z, [G, Kc]), gpu.upload(u), gpu.upload(mk)).read();
    check('categorical draws (masked)', close(got, want, 0, 0));
  }
  // Synthetic ratings: 40 users, 25 items, 5 levels; three model variants.
  const { ratings } = syntheticRatings(key(300), { nUsers: 40, nItems: 25, density: 0.3 });
  const levels = ratingLevels(ratings);
  const feats = (k: number, rows: number, dim: number): FeatureMatrix => ({ rows, dim, x: Float64Array.from(uniformArray(key(k), rows * dim, 'float64'), (u) => (u < 0.3 ? 0 : 2 * u - 1)) });
  const implicit = implicitFeedback(ratings);
  const variants: [string, Parameters<typeof createRbmCf>[0], CfSideInfo][] = [
    ['plain', { nItems: 25, levels, nHidden: 7, key: key(301), ratings }, {}],
    ['conditional (1/√n), factored rank 3', { nItems: 25, levels, nHidden: 6, key: key(302), ratings, conditional: true, implicitNorm: 'sqrt', factorRank: 3 }, { implicit }],
    ['user and item features', { nItems: 25, levels, nHidden: 5, key: key(303), ratings, userFeatureDim: 3, itemFeatureDim: 2 }, { userFeatures: feats(304, 40, 3), itemFeatures: feats(305, 25, 2) }],
  ];
  const g = groupByUser(ratings, levels);
  const users = permutation(key(306), g.nUsers).subarray(0, 12);
  for (const [name, opts, side] of variants) {
    const p = createRbmCf({ ...opts, weightScale: 0.5 });
    for (let q = 0; q < p.c.length; q++) p.c[q] = 0.3 * Math.sin(q);
    for (const T of [1, 3]) {
      const input = (seed: number, TT = T): RbmCfBatchInput => {
        let need = 0;
        for (const u of users) need += TT * (p.nHidden + g.start[u + 1] - g.start[u]);
        return { p, side, ratings: g, users, T: TT, rnd: uniformArray(key(seed), need, 'float64'), bias: visibleBias(p, side) };
      };
      const want = zeroGradients(p), got = zeroGradients(p);
      const cw = rbmCfBatchStatistics(input(307), want);
      const cg = await rbmCfBatchStatisticsGpu(gpu, input(307), got);
      const cmp = (gg: RbmCfGradients): string => {
        for (const f of ['W', 'b', 'c', 'D', 'U', 'G'] as const) {
          if (!want[f]) continue;
          const d = close(gg[f]!, want[f]!, 1e-4, 1e-5);
          if (d) return `${f}: ${d}`;
        }
        return '';
      };
      let detail = cmp(got);
      if (!detail && JSON.stringify(cg) !== JSON.stringify(cw)) detail = `counts ${JSON.stringify(cg)} vs ${JSON.stringify(cw)}`;
      check(`rbm-cf CD-${T} statistics of a mini-batch on the device (${name})`, detail);
      if (name === 'plain' && T === 1) {
        const other = zeroGradients(p);
        await rbmCfBatchStatisticsGpu(gpu, input(308), other);
        caught('rbm-cf statistics with other uniforms', cmp(other));
        const longer = zeroGradients(p);
        await rbmCfBatchStatisticsGpu(gpu, input(307, 2), longer);
        caught('rbm-cf statistics with one Gibbs step too many', cmp(longer));
      }
    }
  }
  // Training: two epochs (CD-1 then CD-2) with every batch's statistics on the device end at the CPU's parameters.
  for (const [name, opts, side] of variants) {
    const p0 = createRbmCf(opts);
    const o = { epochs: 2, batchSize: 10, cdSteps: [1, 2], side };
    const cpu = trainRbmCf(p0, ratings, key(310), o);
    const dev = await trainRbmCfAsync(p0, ratings, key(310), { ...o, statistics: rbmCfStatisticsGpu(gpu) });
    let detail = '';
    for (const f of ['W', 'b', 'c', 'D', 'U', 'G'] as const) {
      if (!cpu.params[f]) continue;
      const d = close(dev.params[f]!, cpu.params[f]!, 1e-4, 1e-5);
      if (d) { detail = `${f}: ${d}`; break; }
    }
    if (!detail && cpu.params.factors) detail = close(dev.params.factors!.B, cpu.params.factors.B, 1e-4, 1e-5) && 'factor B differs';
    if (!detail) detail = close(dev.reconError, cpu.reconError, 0, 1e-12) && `reconstruction errors ${dev.reconError} vs ${cpu.reconError}`;
    check(`rbm-cf training, 2 epochs with the statistics on the device (${name})`, detail);
    // Recommendations: the same items, expected ratings to float32 rounding.
    if (name !== 'plain') continue;
    const want = recommendForUser(cpu.params, ratings, 3, 8, side);
    const got = await recommendForUserGpu(gpu, cpu.params, ratings, 3, 8, side);
    check('rbm-cf recommendations on the device', JSON.stringify(got.map((r) => r.item)) === JSON.stringify(want.map((r) => r.item))
      ? close(got.map((r) => r.expected), want.map((r) => r.expected), 1e-5, 0) : `items ${got.map((r) => r.item)} vs ${want.map((r) => r.item)}`);
  }

  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, software: gpu.info.software, checks }));
  await releaseGpu();
}
