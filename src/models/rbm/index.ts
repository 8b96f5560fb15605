/**
 * Restricted Boltzmann machines: Bernoulli, Gaussian–Bernoulli and softmax visible units with binary hidden units;
 * energies, conditionals, block Gibbs sampling, CD-k/PCD training (functional `cdStep` and estimator classes) and
 * the exact log partition function for small models, AIS estimates of it (`ais.ts`) and the evaluation metrics
 * (`metrics.ts`: average log-likelihood, pseudo-log-likelihood, reconstruction error, free-energy gap).
 * @module
 */
export {
  createRBM, cloneParams, validateParams, checkVisible, oneHotCategories, nVisibleOf, nHiddenOf, NotFittedError,
} from './params.js';
export type { RBMParams, VisibleType, CreateRBMOptions } from './params.js';
export { initRbmForData } from './initForData.js';
export { rbmStandardization, rbmApplyStandardization } from './standardize.js';
export type { RbmInitConfig } from './initForData.js';
export {
  freeEnergy, energy, hiddenProbabilities, visibleMean, sampleHidden, sampleVisible, gibbsSample,
  freeEnergyRaw, hiddenProbsRaw, visibleMeanRaw, visibleSampleRaw, visiblePreactivation, hiddenPreactivation,
  scaledVisible, groupSoftmaxInPlace, gibbsRaw, gibbsBuffers,
} from './core.js';
export type { GibbsBuffers } from './core.js';
export { exactLogZ } from './exact.js';
export type { ExactLogZOptions } from './exact.js';
export { cdStep, initRbmCdState, learningRateAt } from './train.js';
export { cdStepGpu, cdGpuUnsupported, rbmGibbsSampleGpu } from './gpu.js';
export type { RbmCdOptions, RbmCdState, CDMetrics, Velocity, LearningRateSchedule } from './train.js';
export { aisLogZ, aisLogZRatio, baseRateBias, salakhutdinovBetas, linearBetas } from './ais.js';
export type { AISOptions, AISLogZOptions, AISRatioOptions, AISResult } from './ais.js';
export { averageLogLikelihood, pseudoLogLikelihood, reconstructionError, freeEnergyGap } from './metrics.js';
export type {
  LikelihoodProtocol, LogLikelihoodResult, PLLOptions, PLLResult, ReconstructionOptions, FreeEnergyGapResult,
} from './metrics.js';
export { RBM, BernoulliRBM, GaussianBernoulliRBM, SoftmaxRBM } from './estimator.js';
export type { RBMOptions, RBMFitOptions, EpochInfo } from './estimator.js';
