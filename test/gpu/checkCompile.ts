/**
 * Checks the traced `compile` (src/gpu/compile.ts) against the CPU backend's eager results and prints one JSON line
 * (`{ available, reason?, adapter?, checks }`). Run by test/gpu/compile.test.ts in a child process (Dawn's threads and
 * Vitest's worker pool do not mix), and usable by hand: `npx tsx test/gpu/checkCompile.ts`.
 */
import { useSwiftShader, checkList, close, closeFinite } from './_checkScript.js';
import { GpuKernels, GpuTensor } from '../../src/gpu/kernels.js';
import { compile, UnsupportedOpError } from '../../src/gpu/compile.js';
import { releaseGpu } from '../../src/gpu/device.js';
import { key, foldIn } from '../../src/random/index.js';
import { normal } from '../../src/random/sample.js';
import { initBackend } from '../../src/tensor/select.js';
import {
  Tensor, valueAndGrad, grad, sum, mul, add, sub, logsumexp, noGrad, clamp, maximum, pow, square, mean, treeLeaves, tensor,
  softmax, logSoftmax, max, sliceAxis, padAxis, concat, permute, tanh, where, less, reshape,
} from '../../src/tensor/index.js';
import { applyMLP, initMLP } from '../../src/nn/mlp.js';
import { initMlpEnergy, energyZ, type MlpEnergyConfig } from '../../src/models/mlpEnergy/model.js';
import { denoisingScoreMatchingWithNoise, slicedScoreMatchingWithProbes } from '../../src/losses/scoreMatching.js';
import type { MLPParams } from '../../src/nn/mlp.js';
import type { Activation } from '../../src/nn/index.js';

useSwiftShader();
initBackend();

const { checks, check } = checkList();

function cfgOf(activation: Activation, hidden: number[], confine: number, dim = 2): MlpEnergyConfig {
  return { dim, hidden, activation, confine, sigma: 0.3, loss: 'dsm', shift: new Array(dim).fill(0), scale: new Array(dim).fill(1) } as MlpEnergyConfig;
}

/** '' when every leaf of `got` (device) is within tolerance of the same leaf of `want` (CPU). */
async function closeTrees(got: unknown, want: unknown, rtol: number, atol: number, what: string): Promise<string> {
  const wl = treeLeaves(want as Tensor);
  const gl: GpuTensor[] = [];
  const walk = (t: unknown): void => {
    if (t instanceof GpuTensor) gl.push(t);
    else if (Array.isArray(t)) t.forEach(walk);
    else for (const k of Object.keys(t as object)) walk((t as Record<string, unknown>)[k]);
  };
  walk(got);
  if (gl.length !== wl.length) return `${what}: ${gl.length} results, want ${wl.length}`;
  for (let i = 0; i < wl.length; i++) {
    if (gl[i].shape.join(',') !== wl[i].shape.join(',')) return `${what} leaf ${i}: shape [${gl[i].shape}] vs [${wl[i].shape}]`;
    // Relative to the leaf's largest entry: a gradient's small components carry the rounding of its large ones.
    let scale = 0;
    for (const v of wl[i].data) scale = Math.max(scale, Math.abs(v));
    const d = closeFinite(await gl[i].read(), wl[i].data, rtol, atol + rtol * scale);
    if (d) return `${what} leaf ${i}: ${d}`;
  }
  return '';
}

const made = await GpuKernels.create();
if (!(made instanceof GpuKernels)) {
  console.log(JSON.stringify({ available: false, reason: made.reason, checks }));
} else {
  const gpu = made;
  const n = 24;
  const stats: string[] = [];

  // (a) Energy and input gradient of an MLP energy, and a ULA step, for activations with and without the confining term.
  for (const [act, hidden, confine] of [['silu', [16, 16], 0.5], ['tanh', [12], 0], ['relu', [16, 8], 0.1], ['softplus', [8, 8, 8], 0.2]] as const) {
    const cfg = cfgOf(act, [...hidden], confine);
    const p = initMlpEnergy(key(1), cfg);
    const z = normal(key(2), [n, 2]);
    const energyAndGrad = (pp: MLPParams, zz: Tensor): [Tensor, Tensor] => {
      const [e, g] = valueAndGrad((y: Tensor) => sum(energyZ(pp, cfg, y)))(zz);
      return [e, g];
    };
    const f = compile(gpu, energyAndGrad);
    const got = f(p, gpu.upload(z));
    const want = energyAndGrad(p, z);
    check(`energy and input gradient (${act}, hidden ${hidden.join('-')}, confine ${confine})`, await closeTrees(got, want, 1e-5, 1e-6, 'E, ∇E'));

    // ULA: z ← z − η∇E(z) + √(2η)ξ, chains on the device for 15 steps, noise from GPU Philox normals of the CPU's keys.
    const eta = 0.05;
    const ulaStep = (pp: MLPParams, zz: Tensor, xi: Tensor): Tensor => {
      const g = grad((y: Tensor) => sum(energyZ(pp, cfg, y)))(zz);
      return add(sub(zz, mul(g, eta)), mul(xi, Math.sqrt(2 * eta)));
    };
    const step = compile(gpu, ulaStep);
    const pDev = { ...p } as MLPParams; // CPU tensors: uploaded on each call
    let zc = z;
    let zg: GpuTensor = gpu.upload(z);
    for (let s = 0; s < 15; s++) {
      const k = foldIn(key(3), s);
      zc = noGrad(() => ulaStep(p, zc, normal(k, [n, 2])));
      zg = step(pDev, zg, gpu.normal(k, [n, 2]));
    }
    check(`ULA chain, 15 steps (${act}): traced once, chains stay on the device`, step.stats.traces !== 1 ? `traced ${step.stats.traces} times` : close(await zg.read(), zc.data, 1e-4, 1e-4));
  }

  // (b) DSM and SSM losses of an MLP energy and their parameter gradients (gradients of input gradients).
  for (const [act, hidden, confine] of [['silu', [16, 16], 0.5], ['tanh', [16], 0], ['softplus', [8, 8], 0.1], ['relu', [12, 12], 0], ['sigmoid', [10], 0.3]] as const) {
    const cfg = cfgOf(act, [...hidden], confine);
    const p = initMlpEnergy(key(4), cfg);
    const z = normal(key(5), [n, 2]);
    const eps = normal(key(6), [n, 2]);
    const model = { energy: (pp: MLPParams, y: Tensor) => energyZ(pp, cfg, y) };
    const dsm = denoisingScoreMatchingWithNoise<MLPParams>(model, { sigma: 0.3, weighting: 'sigma2' });
    const ssm = slicedScoreMatchingWithProbes<MLPParams>(model);
    for (const [name, loss] of [['dsm', dsm], ['ssm', ssm]] as const) {
      const vg = (pp: MLPParams, zz: Tensor, noise: Tensor): [Tensor, MLPParams] => valueAndGrad((q: MLPParams) => loss(q, zz, noise).loss)(pp);
      const f = compile(gpu, vg);
      const got = f(p, gpu.upload(z), gpu.upload(eps));
      const want = vg(p, z, eps);
      check(`${name} loss and parameter gradient (${act}, hidden ${hidden.join('-')}, confine ${confine})`, await closeTrees(got, want, 1e-4, 1e-6, `${name} (loss, ∇θ)`));
      if (act === 'silu') {
        // One dispatch per op as the reference: the fused program computes the same values in fewer dispatches.
        const u = compile(gpu, vg, { fuse: false });
        const unfused = u(p, gpu.upload(z), gpu.upload(eps));
        const fewer = f.stats.dispatches < u.stats.dispatches ? '' : `fused ${f.stats.dispatches} dispatches, unfused ${u.stats.dispatches}`;
        check(`${name} unfused (one dispatch per op) agrees; fusion takes fewer dispatches`, fewer || await closeTrees(unfused, want, 1e-4, 1e-6, `${name} unfused`));
        stats.push(`${name}: ${f.stats.dispatches} fused / ${u.stats.dispatches} unfused dispatches`);
      }
    }
  }

  // Parameters stay on the device between calls: SGD on the SSM loss with the compiled step fed its own outputs.
  {
    const cfg = cfgOf('silu', [16, 16], 0.2);
    const model = { energy: (pp: MLPParams, y: Tensor) => energyZ(pp, cfg, y) };
    const ssm = slicedScoreMatchingWithProbes<MLPParams>(model);
    const sgd = (pp: MLPParams, zz: Tensor, v: Tensor): [Tensor, MLPParams] => {
      const [l, g] = valueAndGrad((q: MLPParams) => ssm(q, zz, v).loss)(pp);
      const next: Record<string, Tensor> = {};
      for (const k of Object.keys(pp)) next[k] = sub(pp[k], mul(g[k], 0.05));
      return [l, next as MLPParams];
    };
    const f = compile(gpu, sgd);
    let pc = initMlpEnergy(key(7), cfg);
    let pg: unknown = pc;
    const z = normal(key(8), [n, 2]);
    const zg = gpu.upload(z);
    for (let s = 0; s < 10; s++) {
      const v = normal(foldIn(key(9), s), [n, 2]);
      pc = noGrad(() => sgd(pc, z, v))[1];
      pg = (f as unknown as (a: unknown, b: unknown, c: unknown) => [GpuTensor, unknown])(pg, zg, gpu.normal(foldIn(key(9), s), [n, 2]))[1];
    }
    check('10 SGD steps of the SSM loss with parameters kept on the device', (f.stats.traces !== 1 ? `traced ${f.stats.traces} times` : '') || await closeTrees(pg, pc, 1e-4, 1e-6, 'params'));
  }

  // A new input shape traces again; closure constants are uploaded; broadcasting of every kind (fused and not).
  for (const fuse of [true, false]) {
    const w = normal(key(10), [3, 1, 5]);
    const fn = (x: Tensor): Tensor[] => [mul(x, w), sum(add(x, 2), [0, 2], true), sub(pow(x, 3), clamp(x, -0.5, 0.5)), maximum(x, 0.1), mean(square(x), 1)];
    const f = compile(gpu, fn, { fuse });
    let detail = '';
    for (const shape of [[3, 4, 5], [3, 7, 5], [1, 2, 1], [3, 4, 5]]) {
      const x = normal(foldIn(key(11), shape[1]), shape);
      detail ||= await closeTrees(f(gpu.upload(x)), fn(x), 1e-5, 1e-6, `shape [${shape}]`);
    }
    check(`retrace on a new shape; constants, broadcasts, reductions, pow, clamp, maximum (fuse ${fuse})`, detail || (f.stats.traces !== 3 ? `traced ${f.stats.traces} times, want 3` : ''));
  }

  // A classifier energy E(x) = −logsumexp f(x) (JEM's): its input gradient and a second-order objective's parameter
  // gradient (softmax and logsumexp backward, twice); softmax, logSoftmax, max; SSM with two projections (concat).
  {
    const p = initMLP(key(13), [3, 16, 5], { activation: 'silu' });
    const x = normal(key(14), [n, 3]);
    const energy = (q: MLPParams, y: Tensor): Tensor => mul(logsumexp(applyMLP(q, y, 'silu'), 1), -1);
    const fn = (q: MLPParams, y: Tensor): [Tensor, MLPParams, Tensor, Tensor, Tensor] => {
      const [l, g] = valueAndGrad((r: MLPParams) => sum(square(grad((u: Tensor) => sum(energy(r, u)))(y))))(q);
      const f = applyMLP(q, y, 'silu');
      return [l, g, softmax(f, 1), logSoftmax(f, 0), max(f, 1)];
    };
    check('JEM energy −logsumexp f: ∇θ‖∇ₓE‖², softmax, logSoftmax, max', await closeTrees(compile(gpu, fn)(p, gpu.upload(x)), fn(p, x), 1e-4, 1e-6, 'jem'));
    const cfg = cfgOf('tanh', [12], 0.1, 3);
    const ssm2 = slicedScoreMatchingWithProbes<MLPParams>({ energy: (pp: MLPParams, y: Tensor) => energyZ(pp, cfg, y) }, { nProjections: 2 });
    const q = initMlpEnergy(key(15), cfg);
    const v = normal(key(16), [2 * n, 3]);
    const vg = (pp: MLPParams, y: Tensor, w: Tensor): [Tensor, MLPParams] => valueAndGrad((r: MLPParams) => ssm2(r, y, w).loss)(pp);
    check('ssm with two projections per row (concat) and its parameter gradient', await closeTrees(compile(gpu, vg)(q, gpu.upload(x), gpu.upload(v)), vg(q, x, v), 1e-4, 1e-6, 'ssm2'));
    const shapes = (t: Tensor): [Tensor, Tensor] => {
      const y = concat([sliceAxis(t, 1, 1, 3), padAxis(t, 1, 2, 1)], 1);
      return valueAndGrad((u: Tensor) => sum(mul(tanh(permute(concat([sliceAxis(u, 0, 2), padAxis(u, 0, 1, 0)], 0), [1, 0])), 1.5)))(y);
    };
    const t = normal(key(17), [5, 4]);
    check('slice, pad, concat, permute and their gradients', await closeTrees(compile(gpu, shapes)(gpu.upload(t)), shapes(t), 1e-5, 1e-6, 'shapes'));
  }

  // A Metropolis–Hastings selection as tensor ops: rows of the proposal where log u < log α, else the current rows.
  for (const fuse of [true, false]) {
    const mh = (cur: Tensor, prop: Tensor, logU: Tensor, logAlpha: Tensor): Tensor => where(reshape(less(logU, logAlpha), [n, 1]), prop, add(cur, 0));
    const [c0, p0, u0, a0] = [normal(key(18), [n, 3]), normal(key(19), [n, 3]), normal(key(20), [n]), normal(key(21), [n])];
    const f = compile(gpu, mh, { fuse });
    check(`where with a broadcast condition (a Metropolis–Hastings selection; fuse ${fuse})`, await closeTrees(f(gpu.upload(c0), gpu.upload(p0), gpu.upload(u0), gpu.upload(a0)), mh(c0, p0, u0, a0), 0, 0, 'where'));
  }

  // An op with no lowering, and a value made outside the traced ops, give one clear error naming the problem.
  const refuses = (f: () => unknown, re: RegExp): string => {
    try { f(); return 'did not throw'; } catch (e) {
      if (!(e instanceof UnsupportedOpError)) return `threw ${(e as Error).name}: ${(e as Error).message}`;
      return re.test(e.message) && e.code === 'BACKEND' ? '' : `message: ${e.message}`;
    }
  };
  const x = gpu.upload(normal(key(12), [4, 3]));
  check('an op with no lowering is named (logsumexp over two axes)', refuses(() => compile(gpu, (t: Tensor) => logsumexp(t))(x), /op 'logsumexp' \{"axes":\[0,1\]\}.* is lowered over one axis only/));
  check('a gradient through where (its mask is made on the host) is refused', refuses(() => compile(gpu, (t: Tensor) => grad((u: Tensor) => sum(where(less(u, 0), u, 0)))(t))(x), /op .mul. reads a tensor \[4, 3\] that no traced op made/));
  check('a gradient through max (its mask is made on the host) is refused', refuses(() => compile(gpu, (t: Tensor) => grad((u: Tensor) => sum(max(u, 1)))(t))(x), /op .div. reads a tensor \[4, 1\] that no traced op made/));
  check('a random draw inside the function is refused', refuses(() => compile(gpu, (t: Tensor) => add(t, normal(key(0), [4, 3])))(x), /op 'add' reads a tensor \[4, 3\] that no traced op made/));
  check('a value computed on the host from an input is refused', refuses(() => compile(gpu, (t: Tensor) => add(t, tensor(Array.from(t.data).map((v) => v * v), t.shape)))(x), /op 'add' reads a tensor \[4, 3\] that no traced op made/));

  console.error(stats.join('\n'));
  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, software: gpu.info.software, checks }));
  await releaseGpu();
}
