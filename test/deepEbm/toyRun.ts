/** A short deep-EBM training run on a 2-D toy set, evaluated by the grid harness (shared by the fast benchmark tests). */
import type { Tensor } from '../../src/tensor/index.js';
import { key, split } from '../../src/random/index.js';
import { getToy } from '../../src/data/toy.js';
import { geometricTemperatures } from '../../src/samplers/index.js';
import { cosineDecay } from '../../src/optim/index.js';
import { evaluate2d, toyModes, widenBox } from '../../src/eval/harness2d.js';
import { contrastiveDivergence } from '../../src/losses/contrastiveDivergence.js';
import { initDeepEbm, deepEbmEnergy, standardization, trainDeepEbm, type DeepEbmConfig } from '../../src/models/deepEbm/index.js';

export interface ToyRun {
  toy: string;
  seed: number;
  /** The model config, given the training data's standardisation. */
  config: (std: { shift: number[]; scale: number[] }) => DeepEbmConfig;
  steps: number;
  /** PT transitions per step, hottest temperature, number of temperatures, MALA step at T = 1, peak lr, grid points. */
  mcmcSteps: number; tMax: number; temps: number; stepSize: number; lr: number; points: number;
}

/** Trains by CD with parallel-tempering negatives (4000 training rows, batch 128, EMA 0.95) and evaluates on 2000 test rows. */
export function runToy(o: ToyRun): ReturnType<typeof evaluate2d> {
  const toy = getToy(o.toy);
  const [kd, kt, ki, kr] = split(key(o.seed), 4);
  const data = toy.sample(kd, 4000);
  const test = toy.sample(kt, 2000);
  const cfg = o.config(standardization(data));
  const b = toy.bounds!;
  const cd = contrastiveDivergence({
    energy: (p: Record<string, Tensor>) => deepEbmEnergy(p, cfg),
    steps: o.mcmcSteps, negatives: 'tempered', chains: 128,
    tempering: { temperatures: geometricTemperatures(o.tMax, o.temps), stepSize: o.stepSize, local: 'mala', box: [-20, 20] },
    reinitFrom: { kind: 'uniform', low: [b[0], b[2]], high: [b[1], b[3]] },
  });
  const res = trainDeepEbm({ params: initDeepEbm(ki, cfg), loss: cd, data, steps: o.steps, batchSize: 128, key: kr, lr: cosineDecay(o.lr, o.steps, 0.05), emaDecay: 0.95 });
  return evaluate2d({ energy: deepEbmEnergy(res.emaParams!, cfg), test, trueLogDensity: (x) => toy.logDensity!(x), box: widenBox(b, 0.25), points: o.points, modes: toyModes(o.toy) });
}
