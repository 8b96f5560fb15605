/**
 * The anomaly-detection estimator: fit a scorer on normal data, set the decision threshold from the expected
 * contamination, predict and evaluate.
 * @module
 */
import type { Tensor } from '../tensor/index.js';
import { key as makeKey, type Key } from '../random/index.js';
import { detectionMetrics, type DetectionMetrics } from '../eval/detection.js';
import type { AnomalyScorer } from './scorers.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * The threshold flagging a fraction `contamination` of the given (training) scores: the empirical
 * `(1 − contamination)`-quantile with linear interpolation between order statistics
 * (`q = s₍ⱼ₎ + (h − j)(s₍ⱼ₊₁₎ − s₍ⱼ₎)`, `h = (n − 1)(1 − c)`, 0-based sorted `s`). Rows with `score > threshold` are
 * anomalies.
 * @example contaminationThreshold([1, 2, 3, 4, 5], 0.25) // h = 3 → 4
 */
export function contaminationThreshold(scores: ArrayLike<number>, contamination: number): number {
  if (!(contamination >= 0 && contamination < 1)) throw new InvalidArgumentError(`contaminationThreshold: contamination must be in [0, 1), got ${contamination}`);
  const n = scores.length;
  if (n < 1) throw new InvalidArgumentError('contaminationThreshold: no scores');
  const s = Float64Array.from(scores);
  for (let i = 0; i < n; i++) if (!Number.isFinite(s[i])) throw new InvalidArgumentError(`contaminationThreshold: score at row ${i} is ${s[i]}`);
  s.sort();
  const h = (n - 1) * (1 - contamination);
  const j = Math.floor(h);
  return j + 1 < n ? s[j] + (h - j) * (s[j + 1] - s[j]) : s[n - 1];
}

/** Options of {@link AnomalyDetector}. */
export interface AnomalyDetectorOptions {
  /** Expected fraction of anomalies; the threshold flags this fraction of the training rows (default 0.05). */
  readonly contamination?: number;
}

/**
 * Anomaly detection with any {@link AnomalyScorer}: `fit(normal rows)` trains the scorer and sets
 * `threshold = contaminationThreshold(score(train), contamination)`; `predict` flags `score > threshold`.
 * @example
 * const det = new AnomalyDetector(rbmScorer({ nHidden: 64 }), { contamination: 0.01 }).fit(xNormal, key(0));
 * det.predict(xTest)                       // Uint8Array, 1 = anomaly
 * det.evaluate(xTest, isAnomaly).auroc     // AUROC, AUPRC, FPR@95TPR
 */
export class AnomalyDetector {
  readonly contamination: number;
  /** Decision threshold (NaN before fitting). */
  threshold = NaN;
  /** Scores of the training rows. */
  trainScores: Float64Array | null = null;

  constructor(readonly scorer: AnomalyScorer, opts: AnomalyDetectorOptions = {}) {
    this.contamination = opts.contamination ?? 0.05;
    if (!(this.contamination >= 0 && this.contamination < 1)) throw new InvalidArgumentError(`AnomalyDetector: contamination must be in [0, 1), got ${this.contamination}`);
  }

  /** Fits the scorer on normal rows `x [n, d]` and sets the threshold. */
  fit(x: Tensor, k: Key = makeKey(0)): this {
    this.scorer.fit(x, k);
    this.trainScores = this.scorer.score(x);
    this.threshold = contaminationThreshold(this.trainScores, this.contamination);
    return this;
  }

  /** Anomaly scores `[m]` (higher = more anomalous). */
  score(x: Tensor): Float64Array {
    return this.scorer.score(x);
  }

  /** 1 where `score > threshold` (anomaly), else 0. */
  predict(x: Tensor): Uint8Array {
    if (!Number.isFinite(this.threshold)) throw new InvalidArgumentError('AnomalyDetector: call fit(x) first');
    const s = this.score(x);
    return Uint8Array.from(s, (v) => (v > this.threshold ? 1 : 0));
  }

  /** AUROC, AUPRC and FPR@95TPR of the scores against labels (1 = anomaly). */
  evaluate(x: Tensor, labels: ArrayLike<number>): DetectionMetrics {
    return detectionMetrics(this.score(x), labels);
  }
}
