/** Samplers as kernels (ULA, MALA, HMC, annealed Langevin, parallel tempering, block Gibbs) and the sampling driver. */
export { DivergenceError } from './types.js';
export type { SamplingAlgorithm, BaseInfo, EnergyState, PerRow, Safeguards } from './types.js';
export { ula, ulaInit, ulaKernel, impliedTemperature } from './ula.js';
export type { UlaState, UlaInfo, UlaParams, UlaOptions } from './ula.js';
export { mala, malaInit, malaKernel } from './mala.js';
export type { MalaState, MalaInfo, MalaParams, MalaOptions } from './mala.js';
export { hmc, hmcInit, hmcKernel } from './hmc.js';
export type { HmcState, HmcInfo, HmcParams, HmcOptions } from './hmc.js';
export { annealedLangevin, geometricSigmas, annealedSnrStepSize, tweedieDenoise } from './annealed.js';
export type {
  AnnealedState, AnnealedScoreState, AnnealedInfo, AnnealedOptions, AnnealedTarget, NoiseConditionalEnergy, NoiseConditionalScore,
} from './annealed.js';
export { parallelTempering, geometricTemperatures, swapRates, ptStepSizes } from './pt.js';
export type { PtState, PtInfo, PtOptions, PtLocalKernel } from './pt.js';
export { blockGibbs } from './blockGibbs.js';
export type { GibbsState, GibbsBlock, GibbsInfo, BlockGibbsOptions } from './blockGibbs.js';
export { gridSample } from './gridSample.js';
export { sample } from './sample.js';
export type { SampleOptions, SampleResult } from './sample.js';
export { samplerRegistry, SamplerOptionsError } from './registry.js';
export type { SamplerName } from './registry.js';
