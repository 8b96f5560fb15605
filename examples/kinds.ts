// Each model kind from the library, in a few lines: the same calls `ebm train …` makes (see README, "Model kinds in
// code"). Step counts are tiny here so the examples run in seconds; the README's CLI sections give real settings.
import {
  key, split, foldIn, bernoulli, gatherRows, toy, ula, contrastiveDivergence, rbm, deepEbm, scoreSde, mlpEnergy,
  decodeModel, type Tensor,
} from '../src/index.js';
import { epochBatchIndices } from '../src/data/batches.js';

// begin README kinds
/** Score SDE: a VP diffusion on 2-D data; pure train steps, then reverse-time samples and the exact ODE likelihood. */
export function scoreSdeExample(steps = 200): { samples: Tensor; avgLogLik: number; file: Uint8Array } {
  const x = toy.getToy('moons').sample(key(0), 2000);
  const cfg = scoreSde.makeScoreSdeConfig(x, { sde: 'vp', arch: { kind: 'mlp', hidden: [64, 64], embedDim: 16, activation: 'silu' } });
  const [kInit, kTrain, kData] = split(key(1), 3);
  const step = scoreSde.scoreSdeTrainStep(cfg, { lr: 2e-3 });
  let state = scoreSde.initScoreSdeState(cfg, kInit, { lr: 2e-3 });           // { step, params, opt, ema }: a value
  const z = scoreSde.toModelSpace(cfg, x);
  const batch = epochBatchIndices(kData, x.shape[0], 256);
  for (let t = 1; t <= steps; t++) [state] = step(state, gatherRows(z, batch(t)), foldIn(kTrain, t));
  const samples = scoreSde.sampleScoreSde(state.params, cfg, key(2), 500, { sampler: 'em' });
  const { avgLogLik } = scoreSde.scoreSdeLogLik(state.params, cfg, toy.getToy('moons').sample(key(3), 200), key(4));
  const file = scoreSde.encodeScoreSdeModel({ cfg, params: state.params, provenance: { data: 'toy:moons' } });
  return { samples, avgLogLik, file };
}

/** Score-trained energy (mlp-energy): E(x) = MLP(z) + ½c‖z‖², trained by DSM; Langevin samples, log Z by quadrature. */
export function mlpEnergyExample(steps = 200): { samples: Tensor; avgLogLik: number } {
  const x = toy.getToy('8gaussians').sample(key(0), 2000);
  const cfg = mlpEnergy.makeMlpEnergyConfig(x, { hidden: [64, 64], loss: 'dsm', sigma: 0.1 });
  const step = mlpEnergy.mlpEnergyTrainStep(cfg, { lr: 2e-3 });
  let state = mlpEnergy.initMlpEnergyState(cfg, key(1), { lr: 2e-3 });
  const z = mlpEnergy.standardize(cfg, x);
  const batch = epochBatchIndices(key(2), x.shape[0], 256);
  for (let t = 1; t <= steps; t++) [state] = step(state, gatherRows(z, batch(t)), foldIn(key(3), t));
  const samples = mlpEnergy.sampleMlpEnergy(state.params, cfg, key(4), 500, { steps: 500, stepSize: 0.01 });
  const { avgLogLik } = mlpEnergy.mlpEnergyAvgLogLik(state.params, cfg, toy.getToy('8gaussians').sample(key(5), 1000));
  return { samples, avgLogLik };
}

/** RBM: a scikit-learn-style estimator trained by CD-1; free energies and block-Gibbs samples. */
export function rbmExample(epochs = 5): { freeEnergy: Tensor; samples: Tensor } {
  const x = bernoulli(key(0), 0.3, [500, 16]);                                       // any 0/1 data [n, d]
  const model = new rbm.BernoulliRBM({ nHidden: 16, key: key(1) }).fit(x, { epochs, batchSize: 50 });
  return { freeEnergy: model.freeEnergy(x), samples: model.sample(key(2), 10, 200) };
}

/** Deep EBM: an MLP energy trained by contrastive divergence with Langevin negatives from a replay buffer. */
export function deepEbmExample(steps = 100): deepEbm.TrainedDeepEbm<Record<string, Tensor>> {
  const x = toy.getToy('moons').sample(key(0), 2000);
  const cfg = { arch: deepEbm.parseArch('mlp:2-64-64-1'), activation: 'silu' as const, confine: 0.01, ...deepEbm.standardization(x) };
  const loss = contrastiveDivergence<Record<string, Tensor>>({
    energy: (p) => deepEbm.deepEbmEnergy(p, cfg),
    sampler: (E) => ula(E, { stepSize: 0.01 }),
    steps: 20, negatives: 'buffer', bufferSize: 1000, reinitFrom: { kind: 'uniform', low: -3, high: 3 }, alpha: 0.1,
  });
  return deepEbm.trainDeepEbm({ params: deepEbm.initDeepEbm(key(1), cfg), loss, data: x, steps, batchSize: 128, key: key(2), lr: 1e-3 });
}

/** Any model file, whatever its kind: the registry validates it and gives sample / energy / evaluate. */
export function anyModelExample(bytes: Uint8Array): Tensor {
  const m = decodeModel(bytes, 'model.safetensors');          // or: await openModel('model.safetensors')
  return m.sample!({ key: key(0), n: 100 });
}
// end README kinds
