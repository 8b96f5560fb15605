/**
 * Small dense float64 linear algebra on row-major `Float64Array`s, outside autodiff: the Cholesky factor of a `d×d`
 * symmetric positive-definite matrix and solves with it. Used where a covariance or a Gram matrix is factored once
 * (the Gaussian energies, the Gaussian anomaly baseline, the RBM-CF blend's normal equations).
 */

/**
 * Lower Cholesky factor `L` of a symmetric positive-definite `d×d` matrix, `A = L·Lᵀ` (row-major, float64; only the
 * lower triangle of `A` is read). Column `j` is `L_jj = √(A_jj − Σ_{k<j} L_jk²)`, `L_ij = (A_ij − Σ_{k<j} L_ik·L_jk) / L_jj`
 * for `i > j`. When a pivot `A_jj − Σ_{k<j} L_jk²` is not > 0 (or NaN), `A` is not positive definite and the error
 * `notPositiveDefinite(j, pivot)` is thrown: the caller names what was being factored.
 * @example
 * const L = choleskyLower(A, 2, (j, p) => new InvalidArgumentError(`fit: covariance not positive definite (pivot ${j} is ${p})`));
 */
export function choleskyLower(a: Float64Array, d: number, notPositiveDefinite: (pivot: number, value: number) => Error): Float64Array {
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j];
    for (let k = 0; k < j; k++) s -= l[j * d + k] * l[j * d + k];
    if (!(s > 0)) throw notPositiveDefinite(j, s);
    const ljj = Math.sqrt(s);
    l[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j];
      for (let k = 0; k < j; k++) t -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = t / ljj;
    }
  }
  return l;
}

/**
 * Solves `A·x = b` given the lower Cholesky factor `L` of `A` ({@link choleskyLower}): `L·z = b` by forward
 * substitution, then `Lᵀ·x = z` by back substitution. `b` has `d` entries; the result is a new array.
 * @example const x = choleskySolve(choleskyLower(A, d, fail), b, d);   // A·x = b
 */
export function choleskySolve(l: Float64Array, b: Float64Array, d: number): Float64Array {
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * d + k] * z[k];
    z[i] = s / l[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < d; k++) s -= l[k * d + i] * x[k];
    x[i] = s / l[i * d + i];
  }
  return x;
}
