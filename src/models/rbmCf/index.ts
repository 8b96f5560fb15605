/**
 * Collaborative filtering with restricted Boltzmann machines (Salakhutdinov, Mnih & Hinton 2007): softmax visible
 * units over K rating levels, only rated items visible per user (missing ratings masked), CD with increasing T,
 * expected-value prediction; the conditional model (implicit feedback), the factored model (`W = A·B`), user and item
 * side features; baselines (global mean, biases, matrix factorisation), RMSE and a linear blend.
 * @module
 */
export {
  createRbmCf, trainRbmCf, trainRbmCfAsync, predictRatings, predictDistribution, hiddenInput, groupByUser, recommendForUser, cdStepsAt,
  implicitFeedback, syncFactoredWeights, factorGradients, cloneRbmCf, checkSideInfo, visibleBias, conditioningInput,
  userFreeEnergy, zeroGradients, accumulateStatistics, implicitScale, rbmCfBatchStatistics,
} from './model.js';
export type {
  RbmCfParams, RbmCfFactors, UserRatings, UserItems, FeatureMatrix, CfSideInfo, RbmCfGradients, CreateRbmCfOptions,
  TrainRbmCfOptions, RbmCfBatchInput, RbmCfBatchCounts, RbmCfStatistics,
} from './model.js';
export { rbmCfBatchStatisticsGpu, rbmCfStatisticsGpu, recommendForUserGpu } from './gpu.js';
export { rmse, fitGlobalMean, fitBiases, fitMatrixFactorization } from './baselines.js';
export type { RatingPredictor, BiasOptions, MFOptions } from './baselines.js';
export { fitBlend, applyBlend } from './blend.js';
export type { Blend } from './blend.js';
export { parseFeatureTable, encodeFeatures, alignRatings, concatRatings } from './sideData.js';
export type { FeatureTable, EncodedFeatures } from './sideData.js';
export { compareCf, compareCfAsync, variantName } from './evaluate.js';
export type { CompareCfOptions, CfScore, RbmCfVariant, FittedRbmCf, ComparedCf } from './evaluate.js';
export { saveRbmCf, loadRbmCf, RBM_CF_KIND } from './io.js';
// the rating data helpers, so that `import { rbmCf } from 'ebm-ts'` reaches everything a CF run needs
export { loadRatings, parseRatings, splitRatings, subsetRatings, syntheticRatings, formatRatings } from '../../data/movielens.js';
export type { Ratings } from '../../data/movielens.js';
export { classRatings, formatFeatureCsv, CLASS_RATING_THRESHOLDS } from '../../data/cfBenchmark.js';
export type { ClassRatings, ClassRatingsOptions, GeneratedFeatures } from '../../data/cfBenchmark.js';
