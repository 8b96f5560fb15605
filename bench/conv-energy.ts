/**
 * The conv-energy workloads of the engine bench (mirrored by bench/torch_conv_bench.py): a 3-layer conv energy
 * 1→32→64→64 channels, 3×3 filters, strides 1/2/2, padding 1, SiLU, then a linear head 64·7·7 → 1, on a batch of
 * 64×1×28×28 float32 images. Workloads: forward (energy of the batch), a Langevin step (forward + input gradient +
 * update), and a training step (contrastive loss mean E(x⁺) − mean E(x⁻) + 0.1·mean(E²) on 64 + 64 images, gradient
 * in the parameters, Adam).
 */
import { adam, applyUpdates } from '../src/optim/index.js';
import { key, normal, normalInto, split, uniform, type Key } from '../src/random/index.js';
import * as T from '../src/tensor/index.js';

/** Parameters of the bench net. */
export type ConvEnergyParams = Record<'w1' | 'b1' | 'w2' | 'b2' | 'w3' | 'b3' | 'wo' | 'bo', T.Tensor>;

/** He-style initialisation from a key (float32). */
export function initConvEnergy(k: Key): ConvEnergyParams {
  const ks = split(k, 4);
  const w = (kk: Key, shape: number[], fanIn: number) => T.mul(normal(kk, shape), Math.sqrt(1 / fanIn));
  return {
    w1: w(ks[0], [32, 1, 3, 3], 9), b1: T.zeros([32]),
    w2: w(ks[1], [64, 32, 3, 3], 288), b2: T.zeros([64]),
    w3: w(ks[2], [64, 64, 3, 3], 576), b3: T.zeros([64]),
    wo: w(ks[3], [64 * 7 * 7, 1], 64 * 49), bo: T.zeros([1]),
  };
}

/** Per-image energies `[n]` of `x [n, 1, 28, 28]`. */
export function convEnergy(p: ConvEnergyParams, x: T.Tensor): T.Tensor {
  let h = T.silu(T.conv2d(x, p.w1, p.b1, { stride: 1, padding: 1 }));
  h = T.silu(T.conv2d(h, p.w2, p.b2, { stride: 2, padding: 1 }));
  h = T.silu(T.conv2d(h, p.w3, p.b3, { stride: 2, padding: 1 }));
  const n = x.shape[0];
  return T.reshape(T.linear(T.reshape(h, [n, 64 * 49]), p.wo, p.bo), [n]);
}

/** The three workloads as closures over fixed data; each call runs one iteration. */
export function convWorkloads(opts: { reuseBuffers?: boolean } = {}): { forward: () => void; langevin: () => void; train: () => void } {
  // With reuseBuffers each iteration runs in a buffer-reuse scope (the state it keeps is its return value).
  const pool = opts.reuseBuffers ? T.createBufferPool() : null;
  const scoped = <R>(fn: () => R): R => (pool ? T.withBufferReuse(pool, fn) : fn());
  const params = initConvEnergy(key(21));
  const x0 = uniform(key(22), [64, 1, 28, 28]);
  const forward = () => { scoped(() => T.noGrad(() => T.sum(convEnergy(params, x0))).item()); };
  const gx = T.grad((x: T.Tensor) => T.sum(convEnergy(params, x)));
  const noise = new Float32Array(64 * 784);
  let kl = key(23);
  let x = x0;
  const langevin = () => {
    [kl] = split(kl, 1);
    normalInto(kl, noise);
    x = scoped(() => {
      const g = gx(x);
      return T.noGrad(() => T.add(T.sub(x, T.mul(g, 1)), T.mul(new T.Tensor(noise, [64, 1, 28, 28]), 0.01)));
    });
  };
  let tp: ConvEnergyParams = initConvEnergy(key(24));
  const opt = adam(1e-4);
  let st = opt.init(tp);
  const xPos = uniform(key(25), [64, 1, 28, 28]);
  const xNeg = uniform(key(26), [64, 1, 28, 28]);
  const loss = (q: ConvEnergyParams) => {
    const ep = convEnergy(q, xPos);
    const en = convEnergy(q, xNeg);
    return T.add(T.sub(T.mean(ep), T.mean(en)), T.mul(T.add(T.mean(T.square(ep)), T.mean(T.square(en))), 0.1));
  };
  const vg = T.valueAndGrad(loss);
  const train = () => {
    [tp, st] = scoped(() => {
      const [l, g] = vg(tp);
      const [u, s2] = opt.update(g, st, tp);
      l.item();
      return [applyUpdates(tp, u), s2] as const;
    });
  };
  return { forward, langevin, train };
}
