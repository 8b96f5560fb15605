/**
 * Anomaly and out-of-distribution detection with energy-based models: scorers (`fit(normal) → score(x)`, higher =
 * more anomalous) for RBMs, deep EBMs, score norms, JEMs and any energy; baselines (Gaussian, k-NN); thresholds by
 * contamination quantile. Metrics (AUROC, AUPRC, FPR@95TPR) are in `src/eval/detection.ts`.
 * @module
 */
export {
  energyScorer, scoreNormScorer, jemScorer, rbmScorer, deepEbmScorer, gaussianScorer, knnScorer, checkRowsFinite,
} from './scorers.js';
export type { AnomalyScorer, DeepEbmScorerOptions } from './scorers.js';
export { AnomalyDetector, contaminationThreshold } from './detector.js';
export type { AnomalyDetectorOptions } from './detector.js';
export { auroc, auprc, fprAtTpr, detectionMetrics, rocCurve, inOutLabels } from '../eval/detection.js';
export type { DetectionMetrics, OperatingPoint } from '../eval/detection.js';
