/**
 * Classification metrics from predicted class probabilities `probs [n, K]` (rows sum to 1) and integer labels:
 * accuracy, expected calibration error (ECE), negative log-likelihood, and a reliability table.
 * @module
 */
import { Tensor, ShapeError } from '../tensor/index.js';
import { InvalidArgumentError } from '../errors.js';

function checkProbs(probs: Tensor, labels: ArrayLike<number>, fn: string): [number, number] {
  if (!(probs instanceof Tensor) || probs.ndim !== 2) throw new ShapeError(`${fn}: probs must be a tensor [n, K], got ${probs instanceof Tensor ? `[${probs.shape.join(', ')}]` : typeof probs}`);
  const [n, K] = probs.shape;
  if (n < 1) throw new ShapeError(`${fn}: probs has no rows`);
  if (labels.length !== n) throw new ShapeError(`${fn}: ${n} rows of probabilities but ${labels.length} labels`);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= K) throw new InvalidArgumentError(`${fn}: label at row ${i} is ${y}, expected an integer in [0, ${K})`);
    for (let k = 0; k < K; k++) {
      const p = probs.data[i * K + k];
      if (!Number.isFinite(p)) throw new InvalidArgumentError(`${fn}: probability at row ${i}, class ${k} is ${p}`);
    }
  }
  return [n, K];
}

/**
 * Row-wise softmax of logits `[n, K]` in float64 (max-shifted): `p_ik = exp(f_ik − max_k f_ik) / Σ_k exp(…)`.
 * @example softmaxRows(tensor([[0, 0]])) // [[0.5, 0.5]]
 */
export function softmaxRows(logits: Tensor): Tensor {
  if (!(logits instanceof Tensor) || logits.ndim !== 2) throw new ShapeError(`softmaxRows: logits must be [n, K], got [${logits.shape.join(', ')}]`);
  const [n, K] = logits.shape;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits.data[i * K + k]);
    if (!Number.isFinite(m)) throw new InvalidArgumentError(`softmaxRows: logits at row ${i} are not finite (max ${m})`);
    let s = 0;
    for (let k = 0; k < K; k++) s += out[i * K + k] = Math.exp(logits.data[i * K + k] - m);
    for (let k = 0; k < K; k++) out[i * K + k] /= s;
  }
  return new Tensor(out, [n, K]);
}

/** Predicted class `argmax_k p_ik` of each row (first maximum on ties). */
export function argmaxRows(probs: Tensor): Int32Array {
  const [n, K] = probs.shape;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs.data[i * K + k] > probs.data[i * K + best]) best = k;
    out[i] = best;
  }
  return out;
}

/**
 * Fraction of rows whose arg-max class equals the label: `acc = (1/n) Σᵢ [argmax_k p_ik = yᵢ]`. Works on
 * probabilities or logits alike (the arg-max is the same).
 * @example accuracy(tensor([[0.9, 0.1], [0.3, 0.7]]), [0, 0]) // 0.5
 */
export function accuracy(probs: Tensor, labels: ArrayLike<number>): number {
  const [n] = checkProbs(probs, labels, 'accuracy');
  const pred = argmaxRows(probs);
  let c = 0;
  for (let i = 0; i < n; i++) if (pred[i] === labels[i]) c++;
  return c / n;
}

/** Mean negative log-likelihood `−(1/n) Σᵢ log p_{i,yᵢ}` (∞ when a true class has probability 0). */
export function negLogLik(probs: Tensor, labels: ArrayLike<number>): number {
  const [n, K] = checkProbs(probs, labels, 'negLogLik');
  let s = 0;
  for (let i = 0; i < n; i++) s -= Math.log(probs.data[i * K + labels[i]]);
  return s / n;
}

/** One confidence bin of a reliability diagram. */
export interface ReliabilityBin {
  /** Bin edges `(lo, hi]` (the first bin also holds confidence exactly `lo = 0`). */
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean confidence `max_k p_ik` of the rows in the bin (NaN when empty). */
  readonly confidence: number;
  /** Accuracy of the rows in the bin (NaN when empty). */
  readonly accuracy: number;
}

/**
 * Reliability table: rows binned by confidence `cᵢ = max_k p_ik` into `bins` equal-width bins `((b−1)/M, b/M]`,
 * with each bin's count, mean confidence and accuracy.
 */
export function reliabilityBins(probs: Tensor, labels: ArrayLike<number>, bins = 15): ReliabilityBin[] {
  const [n, K] = checkProbs(probs, labels, 'reliabilityBins');
  if (!Number.isInteger(bins) || bins < 1) throw new InvalidArgumentError(`reliabilityBins: bins must be a positive integer, got ${bins}`);
  const cnt = new Float64Array(bins), conf = new Float64Array(bins), corr = new Float64Array(bins);
  const pred = argmaxRows(probs);
  for (let i = 0; i < n; i++) {
    const c = probs.data[i * K + pred[i]];
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    cnt[b]++;
    conf[b] += c;
    if (pred[i] === labels[i]) corr[b]++;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: cnt[b],
    confidence: cnt[b] ? conf[b] / cnt[b] : NaN,
    accuracy: cnt[b] ? corr[b] / cnt[b] : NaN,
  }));
}

/**
 * Expected calibration error with `M` equal-width confidence bins (Guo et al. 2017; default M = 15):
 * `ECE = Σ_b (|B_b|/n)·|acc(B_b) − conf(B_b)|`, where `B_b` holds the rows with confidence
 * `max_k p_ik ∈ ((b−1)/M, b/M]`. 0 = perfectly calibrated.
 * @example expectedCalibrationError(tensor([[0.8, 0.2], [0.8, 0.2]]), [0, 1], 10) // |0.5 − 0.8| = 0.3
 */
export function expectedCalibrationError(probs: Tensor, labels: ArrayLike<number>, bins = 15): number {
  const table = reliabilityBins(probs, labels, bins);
  const n = probs.shape[0];
  let ece = 0;
  for (const b of table) if (b.count) ece += (b.count / n) * Math.abs(b.accuracy - b.confidence);
  return ece;
}
