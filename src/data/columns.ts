/** Per-column statistics of a data matrix, as the model configs standardise with them. */
import type { Tensor } from '../tensor/index.js';

/** Column moments and ranges of data `[n, d]` ({@link columnMoments}). */
export interface ColumnMoments {
  /** Column means `m_j = Σᵢ x_ij / n`. */
  readonly mean: Float64Array;
  /** Population standard deviations `√max(0, Σᵢ x_ij²/n − m_j²)` (one pass; 0 for a constant column). */
  readonly sd: Float64Array;
  /** Column minima and maxima. */
  readonly min: Float64Array;
  readonly max: Float64Array;
}

/**
 * Mean, standard deviation (population, one pass in float64), minimum and maximum of every column of `x [n, d]`
 * (`n ≥ 1`). The callers decide what a constant column (`sd = 0`) means and how to round.
 * @example columnMoments(tensor([[0, 0], [2, 4]])).sd // Float64Array [1, 2]
 */
export function columnMoments(x: Tensor): ColumnMoments {
  const [n, d] = x.shape;
  const mean = new Float64Array(d), sd = new Float64Array(d), min = new Float64Array(d), max = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0, s2 = 0, mn = Infinity, mx = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = x.data[i * d + j];
      s += v;
      s2 += v * v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const m = s / n;
    mean[j] = m;
    sd[j] = Math.sqrt(Math.max(0, s2 / n - m * m));
    min[j] = mn;
    max[j] = mx;
  }
  return { mean, sd, min, max };
}

/**
 * Column means `m_j = Σᵢ x_ij / n` and population standard deviations `√(Σᵢ (x_ij − m_j)² / n)` of `x [n, d]`, by two
 * passes in float64 (centre, then square: the one-pass `E[x²] − m²` of {@link columnMoments} leaves rounding residue on
 * a constant column). The standardisations of the model kinds (deep EBM, JEM, Gaussian RBM) build on it and decide
 * what a constant column means.
 * @example columnMeanSd(tensor([[0, 0], [2, 4]])).sd // Float64Array [1, 2]
 */
export function columnMeanSd(x: Tensor): { readonly mean: Float64Array; readonly sd: Float64Array } {
  const [n, d] = x.shape;
  const mean = new Float64Array(d), sd = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x.data[i * d + j];
    const m = s / n;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const c = x.data[i * d + j] - m;
      s2 += c * c;
    }
    mean[j] = m;
    sd[j] = Math.sqrt(s2 / n);
  }
  return { mean, sd };
}
