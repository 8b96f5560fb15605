/** Energies: sign conventions (Energy, LogDensity, Score) and the conversions between them, analytic targets with exact log Z, and neural energies. */
export {
  energyAndGrad, logDensityFromEnergy, scoreFromEnergy, energyToScore, modelScore, eventShape, eventSize, checkBatch,
} from './types.js';
export type { Energy, AnalyticEnergy, LogDensity, Score, EnergyAndGrad, EnergyFn, ScoreFn, ScoreModel } from './types.js';
export { EnergyParamsError } from './_internal/validate.js';
export { gaussian } from './gaussian.js';
export type { GaussianParams } from './gaussian.js';
export { gaussianMixture, gmm08 } from './gmm.js';
export type { GaussianMixtureParams, GaussianMixtureEnergy } from './gmm.js';
export { doubleWell } from './doubleWell.js';
export type { DoubleWellParams } from './doubleWell.js';
export { banana } from './banana.js';
export type { BananaParams } from './banana.js';
export { ring } from './ring.js';
export type { RingParams } from './ring.js';
export { funnel } from './funnel.js';
export type { FunnelParams } from './funnel.js';
export { mlpEnergy, initMlpEnergy, convEnergy, initConvEnergy } from './neural.js';
export type { MlpEnergyParams, MlpEnergyInit, ConvEnergyParams, ConvEnergyInit, DenseParams, EnergyActivation } from './neural.js';
export { gaussHermiteSmoothed } from './smoothed.js';
export { finiteDifferenceEnergy } from './finiteDifference.js';
export { analyticEnergies } from './registry.js';
export type { AnalyticEnergyName } from './registry.js';
