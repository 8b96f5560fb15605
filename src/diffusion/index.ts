/** Score-based diffusion: SDEs with their marginals, time-conditioned score networks, the continuous DSM objective, reverse-time samplers and ODE likelihoods. */
export { vpSDE, subVpSDE, veSDE, perturb } from './sde.js';
export type { SDE, VPOptions, VEOptions } from './sde.js';
export {
  timeEmbedding, initTimeMLP, applyTimeMLP, mlpScore, mlpTimeEnergy, initUNet, applyUNet, unetScore, timeColumn,
} from './scoreNets.js';
export type { TimeScoreFn, TimeEnergyFn, TimeMLPOptions, TimeMLPParams, UNetOptions, UNetParams } from './scoreNets.js';
export { continuousDSM } from './objective.js';
export type { ContinuousDSMOptions, ContinuousDSMDraws } from './objective.js';
export {
  bindScore, bindEnergyScore, noiseConditionalEnergy, eulerMaruyama, predictorCorrector, probabilityFlow,
  probabilityFlowDrift, generate,
} from './samplers.js';
export type {
  BoundScore, DiffusionState, DiffusionInfo, ReverseOptions, EulerMaruyamaOptions, PredictorCorrectorOptions,
  ProbabilityFlowOptions, GenerateOptions,
} from './samplers.js';
export { odeLogLikelihood, dequantize, bitsPerDim } from './likelihood.js';
export type { OdeLikelihoodOptions, OdeLikelihoodResult, DequantizationOptions, BitsPerDimResult } from './likelihood.js';
export { integrate, heunStep, rk45Attempt, rk45Factor } from './ode.js';
export type { OdeFn, Rk45Tolerances, Rk45Attempt, IntegrateOptions, IntegrateResult } from './ode.js';
