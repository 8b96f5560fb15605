/** Evaluation: MCMC diagnostics, partition functions (grid quadrature, the model-free parts of AIS), sample metrics, detection and classification metrics. */
export * from './diagnostics.js';
export * from './gridLogZ.js';
export * from './annealedImportance.js';
export * from './mmd.js';
export * from './fisherDivergence.js';
export * from './harness2d.js';
export * from './classification.js';
export * from './detection.js';
export * from './sampleQuality.js';
