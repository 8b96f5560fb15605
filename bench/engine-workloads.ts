/**
 * The engine rows of `npm run bench` (bench/run.ts) and of its CPU-time mode (bench/engine-cpu.ts), as step
 * functions: the same shapes and algorithms as the PyTorch anchor script (../shared/anchors/torch_ebm_bench.py) and
 * its CPU-time mirror (bench/torch_engine_cpu.py). Each factory builds its state once; each call of `step` is one
 * timed iteration. The DSM, SSM and Langevin steps run in buffer-reuse scopes, as the library's training steps and
 * samplers do (`withBufferReuse`: the new state is handed back, every other intermediate is recycled).
 */
import { adam, applyUpdates } from '../src/optim/index.js';
import { applyMLP, initMLP, type MLPParams } from '../src/nn/index.js';
import { cdStep, createRBM, initRbmCdState } from '../src/models/rbm/index.js';
import { loadMnist } from '../src/data/mnist.js';
import { key, normal, normalInto, split, uniform, foldIn, type Key } from '../src/random/index.js';
import * as T from '../src/tensor/index.js';

/** One timed iteration, and the last loss where the workload has one. */
export interface EngineWorkload { readonly step: () => void; readonly loss?: () => number }

/** CD-1 step of a Bernoulli RBM 784×500 on batches of 100 binarised MNIST rows (random bits without MNIST). */
export function cd1Workload(): EngineWorkload {
  let data: T.Tensor;
  try {
    data = loadMnist('train', { binarize: 'threshold', limit: 10000 }).x;
  } catch {
    data = T.tensor(T.toDType(uniform(key(1), [10000, 784]), 'float32').data.map((u) => (u < 0.13 ? 1 : 0)), [10000, 784]);
  }
  let params = createRBM({ nVisible: 784, nHidden: 500, key: key(0) });
  let state = initRbmCdState();
  let i = 0;
  let k: Key = key(2);
  const batches: T.Tensor[] = [];
  for (let s = 0; s + 100 <= 10000; s += 100) batches.push(T.sliceAxis(data, 0, s, s + 100));
  return {
    step: () => {
      const b = batches[i++ % batches.length];
      k = foldIn(k, i);
      const r = cdStep(params, b, k, state, { lr: 0.05, k: 1, inPlace: true });
      params = r.params;
      state = r.state;
    },
  };
}

/** A 60-step Langevin chain `x ← clamp(x − 10∇E + 0.005ξ, 0, 1)` on an MLP energy 784-256-256-1 (SiLU), 128 chains. */
export function langevinWorkload(): EngineWorkload {
  const p = initMLP(key(3), [784, 256, 256, 1], { activation: 'silu' });
  const x0 = uniform(key(4), [128, 784]);
  const energy = (x: T.Tensor) => T.sum(applyMLP(p, x, 'silu'));
  const g = T.grad(energy);
  const noise = new Float32Array(128 * 784);
  let k = key(5);
  const pool = T.createBufferPool();
  return {
    step: () => {
      let x = x0;
      for (let s = 0; s < 60; s++) {
        x = T.withBufferReuse(pool, () => {
          const gx = g(x);
          [k] = split(k, 1);
          normalInto(k, noise);
          const nx = T.add(T.sub(x, T.mul(gx, 10)), T.mul(new T.Tensor(noise, [128, 784]), 0.005));
          return T.clamp(nx, 0, 1);
        });
      }
    },
  };
}

/** Eight Gaussians on a circle of radius 2 (sd 0.1): the anchor's `toy2d`. */
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

/** An Adam training step of `loss(params, x, noise)` on 512 rows of eight Gaussians, in a buffer-reuse scope. */
function adamWorkload(params0: MLPParams, seed: number, loss: (q: MLPParams, x: T.Tensor, noise: T.Tensor) => T.Tensor): EngineWorkload {
  let params = params0;
  const opt = adam(1e-3);
  let st = opt.init(params);
  let k = key(seed);
  let last = 0;
  const vg = T.valueAndGrad(loss);
  const pool = T.createBufferPool();
  return {
    step: () => {
      const [k1, k2, k3] = split(k, 3);
      k = k3;
      [params, st, last] = T.withBufferReuse(pool, () => {
        const x = eightGaussians(k1, 512);
        const noise = normal(k2, [512, 2]);
        const [l, g] = vg(params, x, noise);
        const [u, s2] = opt.update(g, st, params);
        return [applyUpdates(params, u), s2, l.item()] as const;
      });
    },
    loss: () => last,
  };
}

/** DSM training step of a score MLP 2-128-128-2 (SiLU), σ = 0.1: `½σ²‖s(x + σε) + ε/σ‖²`, batch 512, Adam. */
export function dsmWorkload(): EngineWorkload {
  const sigma = 0.1;
  return adamWorkload(initMLP(key(6), [2, 128, 128, 2], { activation: 'silu' }), 7, (q, x, eps) => {
    const s = applyMLP(q, T.add(x, T.mul(eps, sigma)), 'silu');
    return T.mul(T.mean(T.sum(T.square(T.add(s, T.mul(eps, 1 / sigma))), 1)), 0.5 * sigma * sigma);
  });
}

/** SSM training step of an energy MLP 2-128-128-1 (SiLU), one Gaussian projection per row (double backward), batch 512, Adam. */
export function ssmWorkload(): EngineWorkload {
  return adamWorkload(initMLP(key(8), [2, 128, 128, 1], { activation: 'silu' }), 9, (q, x, v) => {
    const score = (y: T.Tensor) => T.neg(T.grad((z: T.Tensor) => T.sum(applyMLP(q, z, 'silu')))(y));
    const [s, pull] = T.vjp(score, x); // s = −∇ₓE, pull(v) = vᵀ∂s/∂x
    const gv = pull(v);
    const sv = T.sum(T.mul(s, v), 1);
    return T.mean(T.add(T.sum(T.mul(gv, v), 1), T.mul(T.square(sv), 0.5)));
  });
}
