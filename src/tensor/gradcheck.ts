/** Finite-difference gradient checks (first and second order) for scalar functions of one tensor. */
import { grad } from './autodiff.js';
import { Tensor, allocate } from './tensor.js';
import { mul } from './ops/elementwise.js';
import { sum } from './ops/reduce.js';

/** Result of a gradient check: the largest absolute and relative errors between autodiff and finite differences. */
export interface GradCheckResult {
  readonly maxAbsError: number;
  readonly maxRelError: number;
  readonly ok: boolean;
}

function perturbed(x: Tensor, i: number, h: number): Tensor {
  const d = allocate(x.dtype, x.size);
  d.set(x.data);
  d[i] += h;
  return new Tensor(d, x.shape);
}

function compare(analytic: Tensor, numeric: Float64Array, atol: number, rtol: number): GradCheckResult {
  let maxAbs = 0;
  let maxRel = 0;
  let ok = true;
  for (let i = 0; i < numeric.length; i++) {
    const a = analytic.data[i];
    const n = numeric[i];
    const err = Math.abs(a - n);
    maxAbs = Math.max(maxAbs, err);
    maxRel = Math.max(maxRel, err / Math.max(1e-12, Math.abs(n)));
    if (!(err <= atol + rtol * Math.abs(n))) ok = false;
  }
  return { maxAbsError: maxAbs, maxRelError: maxRel, ok };
}

/**
 * Compares `grad(f)(x)` with central differences `(f(x + h eᵢ) − f(x − h eᵢ)) / 2h`. Use float64 inputs.
 * Passes when `|analytic − numeric| ≤ atol + rtol·|numeric|` for every entry.
 */
export function checkGrad(f: (x: Tensor) => Tensor, x: Tensor, h = 1e-6, atol = 1e-6, rtol = 1e-5): GradCheckResult {
  const g = grad(f)(x);
  const num = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) {
    num[i] = (f(perturbed(x, i, h)).item() - f(perturbed(x, i, -h)).item()) / (2 * h);
  }
  return compare(g, num, atol, rtol);
}

/**
 * Second-order check: the gradient of `x ↦ Σ v ⊙ ∇f(x)` (a Hessian–vector product `H v`, computed by
 * differentiating through the backward pass) against central differences of the first gradient along `v`.
 */
export function checkGrad2(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor, h = 1e-5, atol = 1e-5, rtol = 1e-4): GradCheckResult {
  const hv = grad((y: Tensor) => sum(mul(grad(f)(y), v)))(x);
  const gp = grad(f)(addScaled(x, v, h));
  const gm = grad(f)(addScaled(x, v, -h));
  const num = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) num[i] = (gp.data[i] - gm.data[i]) / (2 * h);
  return compare(hv, num, atol, rtol);
}

function addScaled(x: Tensor, v: Tensor, h: number): Tensor {
  const d = allocate(x.dtype, x.size);
  for (let i = 0; i < d.length; i++) d[i] = x.data[i] + h * v.data[i];
  return new Tensor(d, x.shape);
}
