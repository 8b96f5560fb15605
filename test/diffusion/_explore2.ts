import { initBackend } from "../../src/tensor/select.js"; initBackend();
import { vpSDE, veSDE, eulerMaruyama, predictorCorrector, probabilityFlow, generate, continuousDSM, initTimeMLP, mlpScore, bindScore, perturb } from '../../src/diffusion/index.js';
import { key, split } from '../../src/random/index.js';
import { mmd } from '../../src/eval/mmd.js';
import { fisherDivergence } from '../../src/eval/fisherDivergence.js';
import { target, marginal } from './_mixture.js';
import { train } from '../losses/_helpers.js';
const bw = [0.25, 0.5, 1, 2];
const n = 400;
const truth = target.sample!(key(5), n);
for (const sde of [vpSDE(), veSDE({ sigmaMax: 10 })]) {
  const t0 = performance.now();
  const steps = Number(process.argv[2] ?? 1500);
  const { params, losses } = train(continuousDSM(sde, { score: mlpScore(sde) }, { eps: 1e-3 }), initTimeMLP(key(1), { dim: 2 }), (k) => target.sample!(k, 256), steps, 3e-3, 4);
  console.log(sde.kind, 'train ms', (performance.now() - t0).toFixed(0), 'loss', losses.slice(-50).reduce((a, b) => a + b) / 50);
  const score = bindScore(mlpScore(sde), params);
  for (const t of [0.01, 0.1, 0.5]) {
    const x0 = target.sample!(key(77), 2000);
    const { xt } = perturb(sde, x0, new Float64Array(2000).fill(t), key(78));
    const fd = fisherDivergence((x) => score(x, t), (x) => marginal(sde, t).score(x), xt);
    const ref = fisherDivergence((x) => marginal(sde, t).score(x).data.fill(0) && marginal(sde, t).score(x).constructor === undefined ? x : x.constructor === undefined ? x : (x as any), (x) => marginal(sde, t).score(x), xt);
    console.log(' t', t, 'fisher', fd.value.toFixed(4), '±', fd.stdError.toFixed(4));
  }
  for (const [name, alg] of [['em', eulerMaruyama(sde, score, { nSteps: 200 })], ['pc', predictorCorrector(sde, score, { nSteps: 100 })], ['heun', probabilityFlow(sde, score, { nSteps: 100 })]] as const) {
    const t1 = performance.now();
    const x = generate(alg, key(7), sde.priorSample(key(8), [n, 2]));
    console.log(sde.kind, name, mmd(x, truth, bw).toExponential(3), (performance.now() - t1).toFixed(0), 'ms');
  }
}
