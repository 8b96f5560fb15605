/** Training losses for energy-based models and score networks. */
export {
  energyToScore, modelScore, probes, exactScoreMatching, slicedScoreMatching, slicedScoreMatchingWithProbes,
  denoisingScoreMatching, denoisingScoreMatchingWithNoise, multiScaleDenoisingScoreMatching,
  noiseConditionalDenoisingScoreMatching,
} from './scoreMatching.js';
// energyToScore, modelScore and their types live in src/energy, probes in src/random: re-exported (same bindings).
export type {
  EnergyFn, ScoreFn, ScoreModel, ProbeDistribution, ScoreLossOutput, ScoreLoss, SlicedScoreMatchingOptions,
  DenoisingScoreMatchingOptions, MultiScaleDSMOptions, NoiseConditionalDSMOptions,
} from './scoreMatching.js';
export {
  contrastiveDivergence, cdValueAndGrad, runChains, freshChains, spectralNormalize, spectralNormPullback, treeAllFinite, CDDivergenceError,
} from './contrastiveDivergence.js';
export type {
  CDOptions, CDState, CDAux, CDOutput, CDLoss, CDValueAndGrad, NegativeSampler, ReinitSource,
} from './contrastiveDivergence.js';
