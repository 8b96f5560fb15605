import { adam, applyUpdates } from '../src/optim/index.js';
import { applyMLP, initMLP, type MLPParams } from '../src/nn/index.js';
import { key, normal, split } from '../src/random/index.js';
import { initBackend } from '../src/tensor/select.js';
import * as T from '../src/tensor/index.js';
initBackend(); if (process.env.NOBLAS) (await import('../src/tensor/native.js')).setNativeUseBlas(false);
let params: MLPParams = initMLP(key(6), [2, 128, 128, 2], { activation: 'silu' });
const opt = adam(1e-3); let st = opt.init(params); const sigma = 0.1; let k = key(7);
const loss = (q: MLPParams, x: T.Tensor, eps: T.Tensor) => {
  const xn = T.add(x, T.mul(eps, sigma)); const s = applyMLP(q, xn, 'silu');
  return T.mul(T.mean(T.sum(T.square(T.add(s, T.mul(eps, 1 / sigma))), 1)), 0.5 * sigma * sigma);
};
const vg = T.valueAndGrad(loss);
const step = () => { const [k1, k2, k3] = split(k, 3); k = k3; const x = normal(k1, [512, 2]); const eps = normal(k2, [512, 2]);
  const [l, g] = vg(params, x, eps); const [u, s2] = opt.update(g, st, params); params = applyUpdates(params, u); st = s2; return l.item(); };
for (let i = 0; i < 50; i++) step();
const t = performance.now(); for (let i = 0; i < 300; i++) step(); console.log('ms/step', (performance.now() - t) / 300);
