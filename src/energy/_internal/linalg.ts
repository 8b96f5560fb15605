/** Small dense float64 linear algebra for analytic energies: Cholesky factors, triangular inverses, log-determinants. */
import { EnergyParamsError } from './validate.js';
import { choleskyLower } from '../../tensor/linalg.js';

/**
 * Lower Cholesky factor `L` of a symmetric positive-definite `d×d` matrix `A = L·Lᵀ` (row-major, float64): the
 * symmetry check, then `choleskyLower` of `tensor/linalg.ts`. Throws an {@link EnergyParamsError} naming `what` when
 * `A` is not symmetric or not positive definite.
 */
export function cholesky(a: Float64Array, d: number, what: string, energy: string): Float64Array {
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const x = a[i * d + j];
      const y = a[j * d + i];
      if (Math.abs(x - y) > 1e-10 * Math.max(1, Math.abs(x), Math.abs(y))) {
        throw new EnergyParamsError(`${energy}: ${what} is not symmetric (entry [${i}][${j}] = ${x} but [${j}][${i}] = ${y})`);
      }
    }
  }
  return choleskyLower(a, d, (j, s) => new EnergyParamsError(`${energy}: ${what} is not positive definite (pivot ${j} is ${s})`));
}

/** `log det A = 2 Σ log Lᵢᵢ` from the Cholesky factor. */
export function logDetFromCholesky(l: Float64Array, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += Math.log(l[i * d + i]);
  return 2 * s;
}

/** `A⁻¹ = L⁻ᵀ L⁻¹` from the Cholesky factor `L` (row-major, float64). */
export function inverseFromCholesky(l: Float64Array, d: number): Float64Array {
  // Invert L by forward substitution, column by column.
  const li = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    for (let i = c; i < d; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * d + k] * li[k * d + c];
      li[i * d + c] = s / l[i * d + i];
    }
  }
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < d; k++) s += li[k * d + i] * li[k * d + j];
      inv[i * d + j] = s;
      inv[j * d + i] = s;
    }
  }
  return inv;
}

/** `log Γ(d/2)` for a positive integer `d`, exactly by the recurrence Γ(x + 1) = x Γ(x) from Γ(1/2) = √π and Γ(1) = 1. */
export function logGammaHalf(d: number): number {
  let x = d % 2 === 0 ? 1 : 0.5;
  let s = d % 2 === 0 ? 0 : 0.5 * Math.log(Math.PI);
  while (x < d / 2) {
    s += Math.log(x);
    x += 1;
  }
  return s;
}

/**
 * `log ∫_lo^hi exp(logf(t)) dt` by composite Simpson's rule in float64, doubling the number of panels until two
 * successive estimates agree to `1e-13` (relative), starting from 2¹⁰ panels and stopping at 2²⁰.
 * The integrand is evaluated in log space and shifted by its maximum, so large or tiny scales do not overflow.
 */
export function logIntegrate1d(logf: (t: number) => number, lo: number, hi: number): number {
  let prev = NaN;
  for (let panels = 1 << 10; panels <= 1 << 20; panels <<= 1) {
    const h = (hi - lo) / panels;
    const vals = new Float64Array(panels + 1);
    let mx = -Infinity;
    for (let i = 0; i <= panels; i++) {
      vals[i] = logf(lo + i * h);
      if (vals[i] > mx) mx = vals[i];
    }
    let s = 0;
    for (let i = 0; i <= panels; i++) {
      const w = i === 0 || i === panels ? 1 : i % 2 === 1 ? 4 : 2;
      s += w * Math.exp(vals[i] - mx);
    }
    const cur = mx + Math.log((s * h) / 3);
    if (Math.abs(cur - prev) < 1e-13 * Math.max(1, Math.abs(cur))) return cur;
    prev = cur;
  }
  return prev;
}
