/**
 * Checks every WGSL kernel against the CPU backend on this machine's WebGPU adapter and prints one JSON line:
 * `{ available, reason?, adapter?, checks: [{ name, ok, detail }] }`. Run by test/gpu/kernels.test.ts in a child
 * process (Dawn's threads and Vitest's worker pool do not mix), and usable by hand:
 *   npx tsx test/gpu/checkKernels.ts
 * Without a GPU, SwiftShader (Debian's chromium-common ships its Vulkan driver; libvulkan1 is the loader) is used
 * when present.
 */
import { useSwiftShader, checkList, close } from './_checkScript.js';
import { GpuKernels, GPU_UNARY_OPS, GPU_BINARY_OPS, GPU_GRAD_OPS } from '../../src/gpu/kernels.js';
import { releaseGpu } from '../../src/gpu/device.js';
import { key, split } from '../../src/random/index.js';
import { mlpEnergyGradGpu, mlpLangevinGpu, uploadMlpEnergy, disposeMlpEnergy } from '../../src/gpu/mlpLangevin.js';
import { initMlpEnergy, energyZ, type MlpEnergyConfig } from '../../src/models/mlpEnergy/model.js';
import { sampleMlpEnergy as langevinSample } from '../../src/models/mlpEnergy/sample.js';
import { normal } from '../../src/random/sample.js';
import { grad, noGrad, sum } from '../../src/tensor/index.js';
import { normalArray, uniformArray } from '../../src/random/sample.js';
import { getBackend } from '../../src/tensor/backend.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { initBackend } from '../../src/tensor/select.js';
import { mlpDsmValueAndGradGpu } from '../../src/gpu/mlpDsm.js';
import { mlpEnergyLoss } from '../../src/models/mlpEnergy/train.js';
import { valueAndGrad } from '../../src/tensor/index.js';
import type { MLPParams } from '../../src/nn/mlp.js';
import { rbmGibbsSample } from '../../src/models/rbm/kind.js';
import { createRBM, cloneParams } from '../../src/models/rbm/params.js';
import { cdStep, initRbmCdState } from '../../src/models/rbm/train.js';
import { cdStepGpu, rbmGibbsSampleGpu } from '../../src/models/rbm/gpu.js';
import { foldIn } from '../../src/random/index.js';
import { Tensor as HostTensor } from '../../src/tensor/tensor.js';

useSwiftShader();
initBackend();

function rand(seed: number, n: number, lo = -3, hi = 3): Float32Array {
  const u = uniformArray(key(seed), n, 'float32');
  return u.map((v) => lo + (hi - lo) * v);
}


const { checks, check } = checkList();

const made = await GpuKernels.create();
if (!(made instanceof GpuKernels)) {
  console.log(JSON.stringify({ available: false, reason: made.reason, checks }));
} else {
  const gpu = made;
  const cpu = getBackend();

  // Philox uniforms: bit-identical to uniformArray for several keys and lengths (incl. partial blocks).
  for (const [seed, n] of [[0, 1], [1, 7], [2, 4096], [3, 100_003]] as const) {
    const kk = split(key(seed), 3)[2];
    const got = await gpu.uniform(kk, [n]).read();
    const want = uniformArray(kk, n, 'float32');
    check(`philox uniform n=${n}`, Buffer.from(got.buffer).equals(Buffer.from(want.buffer)) ? '' : close(got, want, 0, 0) || 'bits differ');
  }

  // Every unary kernel, including the stable branches at ±80 and tiny arguments.
  const x = rand(10, 4000);
  x.set([80, -80, 30, -30, 0, 1e-30, -1e-30], 0);
  const xs = gpu.upload(x);
  for (const op of GPU_UNARY_OPS) {
    const input = op === 'log' || op === 'sqrt' ? x.map(Math.abs) : x;
    const xin = input === x ? xs : gpu.upload(input);
    const want = new Float32Array(input.length);
    cpu.unary(op, input, want);
    // exp/log in WGSL are accurate to a few ulp: 2e-6 relative covers SwiftShader and hardware drivers.
    check(`unary ${op}`, close(await gpu.unary(op, xin).read(), want, 2e-6, 1e-37));
  }

  // Every binary kernel, with full, row and scalar broadcasting.
  const a = rand(11, 6 * 50);
  for (const [label, b] of [['full', rand(12, 6 * 50, 0.5, 2)], ['row', rand(13, 50, 0.5, 2)], ['scalar', rand(14, 1, 0.5, 2)]] as const) {
    const ga = gpu.upload(a, [6, 50]), gb = gpu.upload(b);
    for (const op of GPU_BINARY_OPS) {
      const want = new Float32Array(a.length);
      cpu.binary(op, a, b, want);
      check(`binary ${op} (${label})`, close(await gpu.binary(op, ga, gb).read(), want, 1e-7, 0));
    }
  }

  // Matmul with every transpose combination, sizes that are not tile multiples.
  for (const [m, kk, n] of [[1, 1, 1], [17, 33, 5], [64, 784, 40]] as const) {
    for (const ta of [false, true]) for (const tb of [false, true]) {
      const A = rand(20 + m, m * kk), B = rand(30 + n, kk * n);
      const ga = gpu.upload(A, ta ? [kk, m] : [m, kk]), gb = gpu.upload(B, tb ? [n, kk] : [kk, n]);
      const want = new Float32Array(m * n);
      cpu.gemm(ta, tb, m, n, kk, 1, A, 0, ta ? m : kk, B, 0, tb ? kk : n, 0, want, 0, n);
      const c = gpu.matmul(ga, gb, { transA: ta, transB: tb });
      const shape = c.shape.join('×') === `${m}×${n}` ? '' : `shape ${c.shape.join('×')}`;
      // A length-k float32 dot product of terms ≤ 9: error grows like √k ulps of the sum of |terms|.
      check(`matmul ${m}×${kk}×${n}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`, shape || close(await c.read(), want, 1e-5 * Math.sqrt(kk), 9e-6 * Math.sqrt(kk)));
    }
  }

  // Column sums.
  const xr = rand(40, 300 * 7);
  const wantSums = new Float32Array(7);
  cpu.sumRows(xr, 300, 7, wantSums);
  check('sumRows 300×7', close(await gpu.sumRows(gpu.upload(xr, [300, 7])).read(), wantSums, 1e-5, 1e-4));

  // Fused activation backward g·f′(x) against the CPU's unaryGrad (x with the ±80 and tiny entries above).
  const gUp = rand(15, x.length);
  const gGpu = gpu.upload(gUp);
  for (const op of GPU_GRAD_OPS) {
    const want = new Float32Array(x.length);
    cpu.unaryGrad(op, x, null, gUp, want);
    // 1e-5 relative: exp is a few ulp and 4e/(1 + e)² compounds them. silu′ = s·(1 + x(1 − s)) has a root near x = −1.28 where float32 cancels: allow 1e-6 absolute there (|g| ≤ 3). tanh′ at |x| = 30
    // is 4e/(1 + e)² ≈ 1e-26 here and 1 − 1² = 0 on the CPU. The CPU's tanh′ is g·(1 − t²) from its own tanh t (the
    // native float32 tanh is accurate to ≈ 1.2 ulp): where t is near ±1 that cancels, an error δ in t becomes 2|t|δ·|g|
    // in the result, so allow 4 ulp of 1 (4.8e-7) times 2|g| ≤ 6: 3e-6 absolute.
    check(`unaryGrad ${op}`, close(await gpu.unaryGrad(op, xs, gGpu).read(), want, 1e-5, op === 'silu' ? 1e-6 : op === 'tanh' ? 3e-6 : 1e-30));
  }

  // Normals: the same Philox words and Box–Muller pairing as normalArray (float32 maths here, float64 there).
  for (const [seed, n] of [[4, 1], [5, 7], [6, 100_001]] as const) {
    const kk = split(key(seed), 2)[1];
    const want = normalArray(kk, n, 'float32');
    check(`philox normal n=${n}`, close(await gpu.normal(kk, [n]).read(), want, 2e-6, 2e-6));
  }

  // Reductions over the last axis / everything, logsumexp and softmax (max-shifted), in float64 on the host.
  const red = rand(41, 37 * 300, -40, 40);
  red.set([Infinity], 300 * 5 + 3); // a +∞ row
  for (let j = 0; j < 300; j++) red[300 * 6 + j] = -Infinity; // a row of −∞
  const gRed = gpu.upload(red, [37, 300]);
  const rows = (f: (row: Float32Array) => number): Float32Array => Float32Array.from({ length: 37 }, (_, i) => f(red.subarray(i * 300, (i + 1) * 300)));
  const lse = (row: Float32Array): number => {
    const m = Math.max(...row);
    const sh = Number.isFinite(m) ? m : 0;
    let s = 0;
    for (const v of row) s += Math.exp(v - sh);
    return sh + Math.log(s);
  };
  const finiteRed = rand(42, 37 * 300, -1, 1);
  const sumRef = rows.call(null, (r) => r.reduce((a, b) => a + b, 0));
  check('sumLast 37×300', close(await gpu.sumLast(gRed).read(), sumRef, 1e-5, 1e-3));
  check('maxLast 37×300', close(await gpu.maxLast(gRed).read(), rows((r) => Math.max(...r)), 0, 0));
  check('logsumexpLast 37×300 (incl. +∞ and all −∞ rows)', close(await gpu.logsumexpLast(gRed).read(), rows(lse), 2e-6, 1e-6));
  const smWant = new Float32Array(red.length);
  for (let i = 0; i < 37; i++) {
    const r = red.subarray(i * 300, (i + 1) * 300), l = lse(r);
    for (let j = 0; j < 300; j++) smWant[i * 300 + j] = Math.exp(r[j] - l);
  }
  check('softmaxLast 37×300', close(await gpu.softmaxLast(gRed).read(), smWant, 2e-5, 1e-30));
  let total = 0;
  for (const v of finiteRed) total += v;
  check('sumAll 11100', close(await gpu.sumAll(gpu.upload(finiteRed)).read(), new Float32Array([total]), 1e-5, 1e-4));

  // More outputs than one grid row holds (65 535 workgroups): the second grid dimension.
  const tall = rand(45, 70_000 * 2);
  check('sumLast 70000×2 (2-D grid)', close(await gpu.sumLast(gpu.upload(tall, [70_000, 2])).read(), Float32Array.from({ length: 70_000 }, (_, i) => tall[2 * i] + tall[2 * i + 1]), 1e-6, 1e-6));

  // where (full and last-axis mask), clamp, axpby.
  const mask = Float32Array.from(rand(43, 50, 0, 1), (v) => (v < 0.5 ? 0 : 1));
  const ga2 = gpu.upload(a, [6, 50]), gb2 = gpu.upload(rand(44, 300), [6, 50]);
  const bHost = await gb2.read();
  check('where (last-axis mask)', close(await gpu.where(gpu.upload(mask), ga2, gb2).read(), a.map((v, i) => (mask[i % 50] ? v : bHost[i])), 0, 0));
  const withNaN = Float32Array.from(a);
  withNaN[3] = NaN;
  check('clamp [−1, 0.5]', close(await gpu.clamp(gpu.upload(withNaN), -1, 0.5).read(), withNaN.map((v) => (v < -1 ? -1 : v > 0.5 ? 0.5 : v)), 0, 0));
  const axWant = a.map((v, i) => Math.fround(v + Math.fround(-0.3 * a[i]) + Math.fround(0.7 * bHost[i])));
  check('axpby', close(await gpu.axpby(ga2, ga2, gb2, -0.3, 0.7).read(), axWant, 1e-6, 1e-7));

  // The hand-lowered MLP energy: E and ∇_z E against the CPU autodiff of energyZ, and a 20-step ULA chain against
  // langevinSample of the mlp-energy kind with the same key (same Philox normals; float32 maths on both).
  for (const activation of ['silu', 'tanh', 'softplus'] as const) {
    const cfg: MlpEnergyConfig = { dim: 3, hidden: [16, 16], activation, shift: [0, 0, 0], scale: [1, 1, 1], confine: 0.05, loss: 'dsm', sigma: 0.1, bounds: null };
    const p = initMlpEnergy(key(50), cfg);
    const net = uploadMlpEnergy(gpu, p, activation, cfg.confine);
    const z = normal(key(51), [40, 3]);
    const wantE = noGrad(() => energyZ(p, cfg, z)).data as Float32Array;
    const wantG = grad((u: Tensor) => sum(energyZ(p, cfg, u)))(z).data as Float32Array;
    const got = mlpEnergyGradGpu(gpu, net, gpu.upload(z), true);
    check(`mlp energy (${activation})`, close(await got.energy!.read(), wantE, 1e-5, 1e-5));
    check(`mlp ∇z energy (${activation})`, close(await got.grad.read(), wantG, 1e-5, 1e-5));
    const kk = key(52);
    const cpuChain = langevinSample(p, cfg, kk, 40, { steps: 20, stepSize: 0.05 });
    const [k0, kSteps] = split(kk, 2);
    const gpuChain = await mlpLangevinGpu(gpu, net, normal(k0, [40, 3]), { steps: 20, stepSize: 0.05, key: kSteps });
    check(`mlp ULA chain, 20 steps (${activation})`, close(gpuChain.data as Float32Array, cpuChain.data as Float32Array, 1e-4, 1e-4));
    disposeMlpEnergy(net);
  }

  // DSM loss and its parameter gradient (a gradient of an input gradient: second derivatives of the activation)
  // against the library's loss through valueAndGrad, same key (GPU Philox normals ≈ CPU normals to ~1e-6).
  for (const [activation, hidden, confine] of [['silu', [16, 16], 0.05], ['tanh', [16], 0], ['softplus', [8, 8, 8], 0.01], ['sigmoid', [16], 0.02], ['relu', [12, 12], 0.05]] as const) {
    const cfg: MlpEnergyConfig = { dim: 3, hidden: [...hidden], activation, shift: [0, 0, 0], scale: [1, 1, 1], confine, loss: 'dsm', sigma: 0.3, bounds: null };
    const p = initMlpEnergy(key(60), cfg);
    const z = normal(key(61), [37, 3]);
    const kk = key(62);
    const [lv, g] = valueAndGrad((q: MLPParams) => mlpEnergyLoss(cfg)(q, z, kk).loss)(p);
    const got = await mlpDsmValueAndGradGpu(gpu, p, cfg, z, kk);
    const wantLoss = lv.item();
    check(`mlp DSM loss (${activation}, ${hidden.length} hidden)`, Math.abs(got.loss - wantLoss) <= 1e-5 * (1 + Math.abs(wantLoss)) ? '' : `got ${got.loss}, want ${wantLoss}`);
    let detail = '';
    for (const name of Object.keys(p)) {
      const scaleG = Math.max(...Array.from(g[name].data as Float32Array, Math.abs), 1e-3);
      const d = got.grads[name] ? close(got.grads[name].data as Float32Array, g[name].data as Float32Array, 1e-4, 2e-5 * scaleG) : 'missing';
      if (d) { detail = `${name}: ${d}`; break; }
    }
    check(`mlp DSM parameter gradient (${activation}, ${hidden.length} hidden)`, detail);
  }

  // Bernoulli draws 1[u < p] from the same uniforms.
  {
    const pr = uniformArray(key(70), 1000, 'float32'), uu = uniformArray(key(71), 1000, 'float32');
    const want = Float32Array.from(pr, (v, i) => (uu[i] < v ? 1 : 0));
    check('bernoulli 1[u < p]', close(await gpu.bernoulli(gpu.upload(pr), gpu.upload(uu)).read(), want, 0, 0));
  }

  // RBM block Gibbs chains on the device against the rbm kind's CPU sampler, same keys: Bernoulli units give the same
  // bits unless a probability lands within rounding of its uniform (then that chain decorrelates; allow 2 % of rows),
  // Gaussian units the same values to float32 rounding.
  for (const visible of ['bernoulli', 'gaussian'] as const) {
    const p = createRBM({ visible, nVisible: 12, nHidden: 7, key: key(80), weightScale: 0.5, ...(visible === 'gaussian' ? { sigma: 0.7 } : {}) });
    const n = 50, steps = 130; // crosses a 100-sweep key chunk
    const want = rbmGibbsSample(p, key(81), n, steps).data as Float32Array;
    const got = (await rbmGibbsSampleGpu(gpu, p, key(81), n, steps)).data as Float32Array;
    let off = 0;
    for (let r = 0; r < n; r++) if (close(got.subarray(r * 12, r * 12 + 12), want.subarray(r * 12, r * 12 + 12), 1e-3, 1e-3) !== '') off++;
    check(`rbm Gibbs chain on the device, ${steps} sweeps (${visible})`, off <= 1 ? '' : `${off} of ${n} rows differ`);
  }

  // CD-k / PCD-k steps with the sampling and statistics on the device against the CPU cdStep, same keys, 6 steps:
  // parameters, momentum buffers, chains and metrics to float32 rounding.
  for (const [name, visible, o] of [
    ['CD-1, momentum, weight decay', 'bernoulli', { lr: 0.1, k: 1, momentum: 0.5, weightDecay: 1e-3 }],
    ['PCD-2, reconstruction', 'bernoulli', { lr: 0.05, k: 2, persistent: true, reconstruction: true }],
    ['CD-2, weight decay, no momentum', 'gaussian', { lr: 0.02, k: 2, weightDecay: 1e-2 }],
    ['PCD-1, momentum', 'gaussian', { lr: 0.02, k: 1, persistent: true, momentum: 0.9 }],
  ] as const) {
    const nv = 10, nh = 6, B = 16;
    let pc = createRBM({ visible, nVisible: nv, nHidden: nh, key: key(90), weightScale: 0.3, ...(visible === 'gaussian' ? { sigma: 0.8 } : {}) });
    let pg = cloneParams(pc);
    let sc = initRbmCdState(), sg = initRbmCdState();
    let detail = '';
    for (let t = 0; t < 6 && !detail; t++) {
      const raw = uniformArray(foldIn(key(91), t), B * nv, 'float32');
      const batch = new HostTensor(visible === 'bernoulli' ? raw.map((u) => (u < 0.4 ? 1 : 0)) : raw.map((u) => 3 * u - 1), [B, nv]);
      const kt = foldIn(key(92), t);
      const rc = cdStep(pc, batch, kt, sc, o);
      const rg = await cdStepGpu(gpu, pg, batch, kt, sg, o);
      ({ params: pc, state: sc } = rc);
      ({ params: pg, state: sg } = rg);
      for (const f of ['W', 'b', 'c'] as const) {
        const d = close(pg[f].data as Float32Array, pc[f].data as Float32Array, 1e-4, 1e-5);
        if (d) { detail = `step ${t + 1}, ${f}: ${d}`; break; }
      }
      if (!detail && sc.velocity) detail = close(sg.velocity!.W.data as Float32Array, sc.velocity.W.data as Float32Array, 1e-4, 1e-5) && `step ${t + 1}, velocity: ${close(sg.velocity!.W.data as Float32Array, sc.velocity.W.data as Float32Array, 1e-4, 1e-5)}`;
      if (!detail && sc.chains) detail = close(sg.chains!.v.data as Float32Array, sc.chains.v.data as Float32Array, 1e-4, 1e-4) && `step ${t + 1}, chains`;
      const re = (x?: number, y?: number): boolean => (x === undefined ? y === undefined : y !== undefined && Math.abs(x - y) <= 1e-5 * (1 + Math.abs(x)));
      if (!detail && !re(rc.metrics.reconstructionError, rg.metrics.reconstructionError)) detail = `step ${t + 1}: reconstruction ${rg.metrics.reconstructionError} vs ${rc.metrics.reconstructionError}`;
      if (!detail && Math.abs(rc.metrics.meanHidden - rg.metrics.meanHidden) > 1e-5) detail = `step ${t + 1}: meanHidden ${rg.metrics.meanHidden} vs ${rc.metrics.meanHidden}`;
    }
    check(`rbm CD step on the device (${visible}, ${name})`, detail);
  }

  // Shapes that do not fit are refused, naming the op.
  const bad = gpu.upload(new Float32Array(6), [2, 3]);
  const refuses = (f: () => unknown, re: RegExp): string => {
    try { f(); return 'did not throw'; } catch (e) { return re.test((e as Error).message) ? '' : `threw: ${(e as Error).message}`; }
  };
  check('matmul refuses mismatched inner sizes', refuses(() => gpu.matmul(bad, bad), /gpu\.matmul: inner sizes differ/));
  check('binary refuses a non-dividing size', refuses(() => gpu.binary('add', bad, gpu.upload(new Float32Array(4))), /must divide/));

  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, software: gpu.info.software, checks }));
  await releaseGpu();
}
