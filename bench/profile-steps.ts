/**
 * Profiling harness for the engine's training-step workloads (DSM / SSM / Langevin / CD-1 / the MNIST U-Net score step), one per process:
 * `node --cpu-prof --import tsx bench/profile-steps.ts dsm [iters]`. Prints the per-step wall time (noisy on a shared
 * machine; compare CPU profiles and relative numbers instead) and the number of tensors allocated per step.
 */
import { adam, applyUpdates } from '../src/optim/index.js';
import { applyMLP, initMLP, type MLPParams } from '../src/nn/index.js';
import { cdStep, createRBM, initRbmCdState } from '../src/models/rbm/index.js';
import { key, normal, normalInto, split, uniform, foldIn, type Key } from '../src/random/index.js';
import { initBackend, backendInfo } from '../src/tensor/select.js';
import * as T from '../src/tensor/index.js';
import { unetTrainWorkload } from './unet-score.js';

initBackend();
const which = process.argv[2] ?? 'dsm';
const iters = Number(process.argv[3] ?? 200);

function eightGaussians(k: Key, n: number): T.Tensor {
  const [k1, k2] = split(k, 2);
  const idx = uniform(k1, [n]).data;
  const z = normal(k2, [n, 2]).data;
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(idx[i] * 8) * (2 * Math.PI / 8);
    out[2 * i] = 2 * Math.cos(a) + 0.1 * z[2 * i];
    out[2 * i + 1] = 2 * Math.sin(a) + 0.1 * z[2 * i + 1];
  }
  return new T.Tensor(out, [n, 2]);
}

function makeDsm(): () => number {
  let params: MLPParams = initMLP(key(6), [2, 128, 128, 2], { activation: 'silu' });
  const opt = adam(1e-3);
  let st = opt.init(params);
  const sigma = 0.1;
  let k = key(7);
  const loss = (q: MLPParams, x: T.Tensor, eps: T.Tensor) => {
    const xn = T.add(x, T.mul(eps, sigma));
    const s = applyMLP(q, xn, 'silu');
    return T.mul(T.mean(T.sum(T.square(T.add(s, T.mul(eps, 1 / sigma))), 1)), 0.5 * sigma * sigma);
  };
  const vg = T.valueAndGrad(loss);
  return () => {
    const [k1, k2, k3] = split(k, 3);
    k = k3;
    const [l, g] = vg(params, eightGaussians(k1, 512), normal(k2, [512, 2]));
    const [u, s2] = opt.update(g, st, params);
    params = applyUpdates(params, u);
    st = s2;
    return l.item();
  };
}

function makeSsm(): () => number {
  let params: MLPParams = initMLP(key(8), [2, 128, 128, 1], { activation: 'silu' });
  const opt = adam(1e-3);
  let st = opt.init(params);
  let k = key(9);
  const loss = (q: MLPParams, x: T.Tensor, v: T.Tensor) => {
    const score = (y: T.Tensor) => T.neg(T.grad((z: T.Tensor) => T.sum(applyMLP(q, z, 'silu')))(y));
    const [s, pull] = T.vjp(score, x);
    const gv = pull(v);
    const sv = T.sum(T.mul(s, v), 1);
    return T.mean(T.add(T.sum(T.mul(gv, v), 1), T.mul(T.square(sv), 0.5)));
  };
  const vg = T.valueAndGrad(loss);
  return () => {
    const [k1, k2, k3] = split(k, 3);
    k = k3;
    const [l, g] = vg(params, eightGaussians(k1, 512), normal(k2, [512, 2]));
    const [u, s2] = opt.update(g, st, params);
    params = applyUpdates(params, u);
    st = s2;
    return l.item();
  };
}

function makeLangevin(): () => number {
  const p = initMLP(key(3), [784, 256, 256, 1], { activation: 'silu' });
  const x0 = uniform(key(4), [128, 784]);
  const g = T.grad((x: T.Tensor) => T.sum(applyMLP(p, x, 'silu')));
  const noise = new Float32Array(128 * 784);
  let k = key(5);
  return () => {
    let x = x0;
    for (let s = 0; s < 60; s++) {
      const gx = g(x);
      [k] = split(k, 1);
      normalInto(k, noise);
      x = T.clamp(T.add(T.sub(x, T.mul(gx, 10)), T.mul(new T.Tensor(noise, [128, 784]), 0.005)), 0, 1);
    }
    return x.data[0];
  };
}

function makeCd1(): () => number {
  const data = T.tensor(T.toDType(uniform(key(1), [2000, 784]), 'float32').data.map((u) => (u < 0.13 ? 1 : 0)), [2000, 784]);
  let params = createRBM({ nVisible: 784, nHidden: 500, key: key(0) });
  let state = initRbmCdState();
  let i = 0;
  let k: Key = key(2);
  const batches: T.Tensor[] = [];
  for (let s = 0; s + 100 <= 2000; s += 100) batches.push(T.sliceAxis(data, 0, s, s + 100));
  return () => {
    const b = batches[i++ % batches.length];
    k = foldIn(k, i);
    const r = cdStep(params, b, k, state, { lr: 0.05, k: 1, inPlace: true });
    params = r.params;
    state = r.state;
    return 0;
  };
}

const makers: Record<string, () => () => number> = { dsm: makeDsm, ssm: makeSsm, langevin: makeLangevin, cd1: makeCd1, unet: unetTrainWorkload };
const step = makers[which]?.();
if (!step) throw new Error(`unknown workload '${which}' (dsm | ssm | langevin | cd1 | unet)`);
const info = backendInfo();
for (let i = 0; i < Math.min(which === 'unet' ? 3 : 20, iters); i++) step();
const id0 = new T.Tensor(new Float32Array(1), [1]).id;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let last = 0;
for (let i = 0; i < iters; i++) last = step();
const ms = (performance.now() - t0) / iters;
const cpu = process.cpuUsage(cpu0);
const id1 = new T.Tensor(new Float32Array(1), [1]).id;
console.log(JSON.stringify({
  workload: which, backend: info.backend, blas: info.blas, iters, msPerStep: +ms.toFixed(3),
  cpuMsPerStep: +((cpu.user + cpu.system) / 1000 / iters).toFixed(3), tensorsPerStep: Math.round((id1 - id0) / iters), last,
}));
