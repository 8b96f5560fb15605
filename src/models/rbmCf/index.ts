/**
 * Collaborative filtering with restricted Boltzmann machines (Salakhutdinov, Mnih & Hinton 2007): softmax visible
 * units over K rating levels, only rated items visible per user (missing ratings masked), CD with increasing T,
 * expected-value prediction; baselines (global mean, biases, matrix factorisation) and RMSE.
 * @module
 */
export { createRbmCf, trainRbmCf, predictRatings, predictDistribution, hiddenInput, groupByUser, recommendForUser, cdStepsAt } from './model.js';
export type { RbmCfParams, UserRatings, CreateRbmCfOptions, TrainRbmCfOptions } from './model.js';
export { rmse, fitGlobalMean, fitBiases, fitMatrixFactorization } from './baselines.js';
export type { RatingPredictor, BiasOptions, MFOptions } from './baselines.js';
export { compareCf } from './evaluate.js';
export type { CompareCfOptions, CfScore } from './evaluate.js';
export { saveRbmCf, loadRbmCf, RBM_CF_KIND } from './io.js';
