/**
 * The `mlp-energy` model kind (a score-trained energy): `E(x) = MLP(z) + ½·c·‖z‖²` on standardised inputs
 * `z = (x − shift)/scale`, trained by denoising or sliced score matching ({@link mlpEnergyTrainStep}, losses of
 * `src/losses`), sampled by unadjusted Langevin dynamics ({@link sampleMlpEnergy}) and evaluated in 2-D by grid
 * quadrature of the normaliser ({@link mlpEnergyAvgLogLik}).
 * @example
 * const cfg = makeMlpEnergyConfig(x, { hidden: [64, 64], loss: 'dsm' });
 * const step = mlpEnergyTrainStep(cfg, { lr: 1e-3 });
 * let s = initMlpEnergyState(cfg, key(0), { lr: 1e-3 });
 * const z = standardize(cfg, x);
 * for (let t = 1; t <= 300; t++) [s] = step(s, z, foldIn(key(1), t));
 * const samples = sampleMlpEnergy(s.params, cfg, key(2), 100);
 */
export {
  MLP_ENERGY_KIND, checkMlpEnergyConfig, makeMlpEnergyConfig, mlpEnergySizes, mlpEnergyLayout, initMlpEnergy, energyZ,
  standardize, unstandardize, energyOf, encodeMlpEnergyModel, decodeMlpEnergyModel,
  type MlpEnergyConfig, type MlpEnergyConfigOptions, type MlpEnergyModel, type ModelCodec, type DecodeMlpEnergyOptions,
} from './model.js';
export {
  mlpEnergyLoss, mlpEnergyGap, initMlpEnergyState, mlpEnergyTrainStep, mlpEnergyCdTrainStep, mlpEnergyTrainStepGpu, mlpEnergyGpuUnsupported,
  type MlpEnergyTrainOptions, type MlpEnergyTrainState, type MlpEnergyStepInfo, type MlpEnergyCdTrainState, type MlpEnergyCdStepInfo,
} from './train.js';
export { mlpSsmValueAndGradGpu, type MlpSsmValueAndGrad } from './gpuSsm.js';
export { sampleMlpEnergy, type MlpEnergySampleOptions } from './sample.js';
export { gridLogZ2d, mlpEnergyAvgLogLik, type GridLogZ } from './evaluate.js';
export { mlpEnergyKind, saveMlpEnergyBytes, mlpEnergyHeatmap, type LoadedMlpEnergy } from './kind.js';
