import { vpSDE, veSDE, eulerMaruyama, predictorCorrector, probabilityFlow, generate, odeLogLikelihood, bindEnergyScore } from '../../src/diffusion/index.js';
import { key } from '../../src/random/index.js';
import { mmd } from '../../src/eval/mmd.js';
import { gridLogZ } from '../../src/eval/gridLogZ.js';
import { target, marginal } from './_mixture.js';
import type { Tensor } from '../../src/tensor/index.js';
const bw = [0.25, 0.5, 1, 2];
const n = 400;
const nul: number[] = [];
for (let r = 0; r < 20; r++) nul.push(mmd(target.sample!(key(1000 + 2 * r), n, 'float64'), target.sample!(key(1001 + 2 * r), n, 'float64'), bw));
const m = nul.reduce((a, b) => a + b) / nul.length; const sd = Math.sqrt(nul.reduce((a, b) => a + (b - m) ** 2, 0) / 19);
console.log('null', m, sd);
const truth = target.sample!(key(5), n, 'float64');
for (const sde of [vpSDE(), veSDE({ sigmaMax: 10 })]) {
  const score = (x: Tensor, t: number) => marginal(sde, t).score(x);
  for (const [name, alg] of [['em', eulerMaruyama(sde, score, { nSteps: 200 })], ['pc', predictorCorrector(sde, score, { nSteps: 100 })], ['heun', probabilityFlow(sde, score, { nSteps: 100 })], ['rk45', probabilityFlow(sde, score, { method: 'rk45', rtol: 1e-4, atol: 1e-4 })]] as const) {
    const t0 = performance.now();
    const x = generate(alg, key(7), sde.priorSample(key(8), [n, 2], 'float64'));
    console.log(sde.kind, name, mmd(x, truth, bw).toExponential(3), (performance.now() - t0).toFixed(0), 'ms');
  }
}
const sde = vpSDE();
const eps = 1e-5;
const E = (p: null, x: Tensor, t: Tensor) => marginal(sde, t.data[0]).energy(x);
const xs = target.sample!(key(9), 50, 'float64');
const me = marginal(sde, eps);
const lz = gridLogZ(me, { box: [[-6, 6], [-6, 6]], points: 512 });
console.log('gridlogz', lz.logZ, Math.log(2 * Math.PI), lz.errorEstimate);
const gridLL = me.energy(xs).toArray().map((e) => -e - lz.logZ);
for (const probe of ['exact', 'rademacher', 'gaussian'] as const) {
  const t0 = performance.now();
  const r = odeLogLikelihood(sde, bindEnergyScore(E, null), xs, key(3), { probe, eps });
  const d = Array.from(r.logp, (v, i) => v - gridLL[i]);
  const md = d.reduce((a, b) => a + b) / d.length;
  console.log(probe, 'maxabs', Math.max(...d.map(Math.abs)).toFixed(4), 'mean', md.toFixed(4), 'sd', Math.sqrt(d.reduce((a, b) => a + (b - md) ** 2, 0) / d.length).toFixed(4), 'nfe', r.nfe, (performance.now() - t0).toFixed(0), 'ms');
}
