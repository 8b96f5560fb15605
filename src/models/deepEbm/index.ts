/**
 * Deep energy-based models trained by MCMC (contrastive divergence with a replay buffer or persistent chains):
 * the estimator (architecture, energy, config), the trainer with divergence handling, and buffer utilities.
 * @module
 */
export {
  parseArch, formatArch, archInputSize, checkDeepEbmConfig, initDeepEbm, deepEbmEnergy, deepEbmNoiseEnergy, deepEbmEnergies, standardization,
  ArchSpecError,
} from './estimator.js';
export type { DeepEbmArch, DeepEbmConfig, DeepEbmNoiseLevels, FourierFeatures } from './estimator.js';
export { trainDeepEbm, trainDeepEbmAsync } from './trainer.js';
export { EBM_SCORE_LOSSES, DSM_SIGMA_MIN_FRACTION, ebmScoreLoss, initDeepEbmScoreState, deepEbmScoreTrainStep, deepEbmScoreUpdate } from './scoreMatching.js';
export type { EbmScoreLoss, DeepEbmScoreOptions, DeepEbmScoreState, DeepEbmScoreInfo } from './scoreMatching.js';
export type { TrainDeepEbmOptions, TrainedDeepEbm, DeepEbmLogRecord, DeepEbmResumeState, StoppableRunOptions, StoppedDeepEbm } from './trainer.js';
export { DivergenceGuard, TrainingDivergedError, resolveGuardOptions } from './guard.js';
export type { GuardOptions, GuardInput, GuardState, GuardEvent, ResolvedGuardOptions } from './guard.js';
export { freshChains, summarizeBuffer } from './replayBuffer.js';
export type { BufferSummary, ReinitSource, CDState } from './replayBuffer.js';
export { DEEP_EBM_DEFAULTS, DEEP_EBM_IMAGE_DEFAULTS, deepEbmSettings, deepEbmSetup, deepEbmLossDefaults } from './defaults.js';
export type { DeepEbmSettings, DeepEbmSetup } from './defaults.js';
export { trainDeepEbmDsm } from './dsm.js';
export type { TrainedDeepEbmDsm } from './dsm.js';
export { densityHealthCheck } from './health.js';
export type { DensityHealth, DensityHealthOptions } from './health.js';
export {
  deepEbmGpuUnsupported, deepEbmCdGpuUnsupported, uploadDeepEbm, disposeDeepEbm, deepEbmEnergyGradGpu, deepEbmChainsGpu, sampleDeepEbmGpu,
  deepEbmCdValueAndGradGpu, deepEbmConvNetConfig,
} from './gpu.js';
export type { GpuDeepEbm, DeepEbmGpuSampler } from './gpu.js';
export { deepEbmScoreGpuUnsupported, deepEbmDsmValueAndGradGpu, deepEbmSsmValueAndGradGpu, deepEbmNcDsmValueAndGradGpu, deepEbmScoreTrainStepGpu } from './gpuScore.js';
