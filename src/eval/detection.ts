/**
 * Detection metrics for scores where **higher means "more likely positive"** (an anomaly, an out-of-distribution
 * input): area under the ROC curve (with ties counted as one half), area under the precision–recall curve (average
 * precision) and the false-positive rate at 95 % true-positive rate. Labels are 1 (positive) / 0 (negative).
 * Scores must be finite: a NaN score is an error, never silently ranked.
 * @module
 */

import { InvalidArgumentError } from '../errors.js';

/** Scores and 0/1 labels, validated: equal lengths, finite scores, both classes present. */
function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<number>, fn: string): { n: number; nPos: number; nNeg: number } {
  const n = scores.length;
  if (labels.length !== n) throw new InvalidArgumentError(`${fn}: ${n} scores but ${labels.length} labels`);
  let nPos = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (!Number.isFinite(s)) throw new InvalidArgumentError(`${fn}: score at row ${i} is ${s} (scores must be finite)`);
    const l = labels[i];
    if (l === 1) nPos++;
    else if (l !== 0) throw new InvalidArgumentError(`${fn}: label at row ${i} is ${l} (labels must be 0 or 1)`);
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) throw new InvalidArgumentError(`${fn}: need both classes, got ${nPos} positive and ${nNeg} negative labels`);
  return { n, nPos, nNeg };
}

/** Row indices sorted by score, descending. */
function orderDesc(scores: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b] - scores[a]);
  return idx;
}

/** One point of an ROC / PR sweep: predict positive when `score ≥ threshold`. */
export interface OperatingPoint {
  readonly threshold: number;
  /** True positives and false positives at this threshold. */
  readonly tp: number;
  readonly fp: number;
  /** `tp / P`. */
  readonly tpr: number;
  /** `fp / N`. */
  readonly fpr: number;
  /** `tp / (tp + fp)`. */
  readonly precision: number;
}

/**
 * The ROC sweep: one operating point per distinct score (descending), predicting positive for `score ≥ threshold`.
 * Tied scores enter together, so the curve goes diagonally through a tie block. `scores [n]`, `labels [n]` (0/1).
 * @example rocCurve([0.9, 0.1], [1, 0]) // [{threshold: 0.9, tpr: 1, fpr: 0, …}, {threshold: 0.1, tpr: 1, fpr: 1, …}]
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): OperatingPoint[] {
  const { n, nPos, nNeg } = checkInputs(scores, labels, 'rocCurve');
  const idx = orderDesc(scores);
  const out: OperatingPoint[] = [];
  let tp = 0, fp = 0;
  for (let i = 0; i < n; ) {
    const t = scores[idx[i]];
    while (i < n && scores[idx[i]] === t) {
      if (labels[idx[i]] === 1) tp++;
      else fp++;
      i++;
    }
    out.push({ threshold: t, tp, fp, tpr: tp / nPos, fpr: fp / nNeg, precision: tp / (tp + fp) });
  }
  return out;
}

/**
 * Area under the ROC curve, equal to the Mann–Whitney probability
 * `AUROC = P(s⁺ > s⁻) + ½·P(s⁺ = s⁻)` over pairs of a positive and a negative row, computed from mid-ranks in
 * `O(n log n)`: `AUROC = (Σ_{i positive} rank_i − P(P+1)/2) / (P·N)` with tied scores sharing their average rank.
 * 0.5 = chance, 1 = every positive scores above every negative.
 * @example auroc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]) // (1 + 1 + 1 + 0.5) / 4 = 0.875
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { n, nPos, nNeg } = checkInputs(scores, labels, 'auroc');
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j < n && scores[idx[j]] === scores[idx[i]]) j++;
    const mid = (i + 1 + j) / 2; // average of ranks i+1 … j (1-based)
    for (let k = i; k < j; k++) if (labels[idx[k]] === 1) rankSum += mid;
    i = j;
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Area under the precision–recall curve as average precision (the step-wise sum used by scikit-learn):
 * `AP = Σ_k (R_k − R_{k−1})·P_k` over the distinct thresholds in descending order, where `R_k`, `P_k` are recall
 * and precision when predicting positive for `score ≥ t_k` (tied scores enter together). Chance level is the
 * positive fraction `P/n`.
 * @example auprc([0.9, 0.8, 0.1], [1, 0, 1]) // 1·½ + (2/3)·½ = 0.8333
 */
export function auprc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const pts = rocCurve(scores, labels);
  let ap = 0, prevR = 0;
  for (const p of pts) {
    ap += (p.tpr - prevR) * p.precision;
    prevR = p.tpr;
  }
  return ap;
}

/**
 * False-positive rate at the first threshold (scanning from the highest score down) whose true-positive rate
 * reaches `tpr` (default 0.95): `FPR@95TPR = min { FPR(t) : TPR(t) ≥ 0.95 }` with `t` ranging over the scores.
 * Lower is better; 0 = positives separable from negatives at 95 % recall.
 * @example fprAtTpr([4, 3, 2, 1], [1, 0, 1, 0], 0.95) // positives need threshold 2 → FPR = 1/2
 */
export function fprAtTpr(scores: ArrayLike<number>, labels: ArrayLike<number>, tpr = 0.95): number {
  if (!(tpr > 0 && tpr <= 1)) throw new InvalidArgumentError(`fprAtTpr: tpr must be in (0, 1], got ${tpr}`);
  for (const p of rocCurve(scores, labels)) if (p.tpr >= tpr - 1e-12) return p.fpr;
  return 1; // unreachable: the last point has TPR = 1
}

/** All detection metrics of one score. */
export interface DetectionMetrics {
  readonly auroc: number;
  readonly auprc: number;
  readonly fpr95: number;
  readonly positives: number;
  readonly negatives: number;
}

/**
 * AUROC, AUPRC (average precision) and FPR at 95 % TPR in one call (higher score = positive).
 * @example detectionMetrics(scores, labels).auroc
 */
export function detectionMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>): DetectionMetrics {
  const { nPos, nNeg } = checkInputs(scores, labels, 'detectionMetrics');
  return { auroc: auroc(scores, labels), auprc: auprc(scores, labels), fpr95: fprAtTpr(scores, labels), positives: nPos, negatives: nNeg };
}

/**
 * Scores of in-distribution rows (label 0) and out-of-distribution rows (label 1) concatenated with their labels,
 * for the functions above.
 * @example const { scores, labels } = inOutLabels(sIn, sOut); auroc(scores, labels)
 */
export function inOutLabels(inScores: ArrayLike<number>, outScores: ArrayLike<number>): { scores: Float64Array; labels: Uint8Array } {
  const scores = new Float64Array(inScores.length + outScores.length);
  const labels = new Uint8Array(scores.length);
  for (let i = 0; i < inScores.length; i++) scores[i] = inScores[i];
  for (let i = 0; i < outScores.length; i++) {
    scores[inScores.length + i] = outScores[i];
    labels[inScores.length + i] = 1;
  }
  return { scores, labels };
}
