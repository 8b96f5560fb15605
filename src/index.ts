/**
 * ebm-ts: energy-based models for TypeScript. This barrel re-exports the whole library for Node; it selects the
 * compute backend on import (the native addon when it is built, else pure TypeScript; `EBM_BACKEND=js|native`).
 * Browser code imports the individual modules (`ebm-ts/dist/tensor/index.js`, …), which carry no Node built-ins.
 */
import { initBackend } from './tensor/select.js';

export * from './errors.js';
export * from './tensor/index.js';
export { initBackend, backendInfo, measureGemmGflops } from './tensor/select.js';
export type { BackendInfo } from './tensor/select.js';
export * from './random/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './energy/index.js';
export * from './samplers/index.js';
export * from './inference/index.js';
export * from './eval/index.js';
// RBM evaluation lives with the RBM (src/models/rbm); its names stay at the top level too.
export { aisLogZ, aisLogZRatio, baseRateBias } from './models/rbm/ais.js';
export type { AISOptions, AISLogZOptions, AISRatioOptions, AISResult } from './models/rbm/ais.js';
export { averageLogLikelihood, pseudoLogLikelihood, reconstructionError, freeEnergyGap } from './models/rbm/metrics.js';
export type {
  LikelihoodProtocol, LogLikelihoodResult, PLLOptions, PLLResult, ReconstructionOptions, FreeEnergyGapResult,
} from './models/rbm/metrics.js';
export * from './losses/index.js';
export * from './diffusion/index.js';
export * as rbm from './models/rbm/index.js';
export * as deepEbm from './models/deepEbm/index.js';
export * as jem from './models/jem/index.js';
export * as rbmCf from './models/rbmCf/index.js';
export * as scoreSde from './models/scoreSde/index.js';
export * as mlpEnergy from './models/mlpEnergy/index.js';
export { openModel, decodeModel, registerModelKind, modelKinds } from './models/registry.js';
export type { LoadedModel, ModelKindHandler, SampleOptions as ModelSampleOptions, EvalOptions as ModelEvalOptions, PlotOptions as ModelPlotOptions } from './models/registry.js';
export * as anomaly from './anomaly/index.js';
export * as structured from './structured/index.js';
export * as io from './io/index.js';
export * as toy from './data/toy.js';

initBackend();
