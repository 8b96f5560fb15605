/**
 * Joint energy-based models (JEM): any classifier `f(x) → logits` read as an EBM with `E(x) = −logsumexp f(x)` and
 * `E(x, y) = −f(x)[y]`; the hybrid loss (weights for `log p(y|x)`, `log p(x)`, `log p(x|y)`) trained by PCD-SGLD with
 * replay buffers and the deep-EBM stabilisers; class-conditional sampling; out-of-distribution scores.
 * @module
 */
export {
  mlpClassifier, convClassifier, jemEnergy, jemConditionalEnergy, jemPredict, jemScores, jemAnomalyScore, sampleJem,
  jemSgld, flatRows,
} from './model.js';
export type { Classifier, JemScores, JemScoreName, SampleJemOptions } from './model.js';
export { jemLoss, packLabelled, unpackLabelled } from './loss.js';
export type { JemWeights, JemLossOptions, JemState, JemAux, JemLoss } from './loss.js';
export { trainJem } from './train.js';
export type { TrainJemOptions } from './train.js';
export {
  JEM_KIND, JEM_DEFAULTS, jemConfig, initJem, jemConvNet, describeJemNet, jemClassifier, standardizeJem, unstandardizeJem, jemStandardization, jemSampler,
  jemKindLoss, packJemData, initJemTrainState, jemTrainStep, trainJemModel, trainJemModelAsync, sampleJemModel, evaluateJemModel, jemModelScores,
  jemModelPredict, jemModelFeatures, jemToFile, jemFromFile,
} from './kind.js';
export type {
  JemConfig, JemConfigInput, JemOptimOptions, JemTrainState, JemStepInfo, TrainJemModelOptions, SampleJemModelOptions, JemEvaluation,
} from './kind.js';
export { jemGpuUnsupported, jemSgldGpu, jemValueAndGradGpu, sampleJemModelGpu, uploadJemNet, disposeJemNet } from './gpu.js';
export type { GpuJemNet } from './gpu.js';
