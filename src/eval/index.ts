/** Evaluation: MCMC diagnostics, partition functions (grid quadrature, AIS), likelihood metrics, sample metrics, detection and classification metrics. */
export * from './diagnostics.js';
export * from './gridLogZ.js';
export * from './ais.js';
export * from './rbmMetrics.js';
export * from './mmd.js';
export * from './fisherDivergence.js';
export * from './harness2d.js';
export * from './classification.js';
export * from './detection.js';
