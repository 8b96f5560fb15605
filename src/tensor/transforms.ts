/**
 * Derivative transforms built on reverse mode: Jacobian–vector products, Hessian–vector products, full Jacobians and
 * Hessians, and the exact per-sample Hessian trace of a batched energy. Each is written with `grad`/`vjp`, so it
 * composes with them: called inside an outer `grad`, its result is differentiable again.
 */
import { grad, vjp } from './autodiff.js';
import { ShapeError, Tensor, allocate, sameShape } from './tensor.js';
import { mul } from './ops/elementwise.js';
import { addN, reshape, stack } from './ops/shape.js';
import { sum } from './ops/reduce.js';
import { InvalidTypeError } from '../errors.js';

function checkTangent(name: string, x: Tensor, v: Tensor): void {
  if (!(v instanceof Tensor)) throw new InvalidTypeError(`${name}: the tangent must be a Tensor`);
  if (!sameShape(x.shape, v.shape)) throw new ShapeError(`${name}: tangent shape [${v.shape}] differs from input [${x.shape}]`);
}

function zerosOf(t: Tensor): Tensor {
  return new Tensor(allocate(t.dtype, t.size), t.shape);
}

/** One-hot tensor of `shape` with a 1 at flat index `i`. */
function basis(t: Tensor, i: number): Tensor {
  const d = allocate(t.dtype, t.size);
  d[i] = 1;
  return new Tensor(d, t.shape);
}

/**
 * Jacobian–vector product (forward-mode derivative) `J_f(x)·v`, computed by differentiating the linear map
 * `u ↦ uᵀJ` (a pullback) with respect to `u` — the "double-vjp" trick, exact and recorded when nested.
 * Shapes: `x` and `v` alike; returns `[f(x), J·v]` with `J·v` shaped like `f(x)`.
 * @example const [y, dy] = jvp((x) => T.sin(x), x, T.onesLike(x)); // dy = cos(x)
 */
export function jvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): [Tensor, Tensor] {
  checkTangent('jvp', x, v);
  // The value fixes the cotangent's shape: one forward pass for it, then the differentiated pullback.
  const [y] = vjp(f, x);
  const jv = grad((u: Tensor) => sum(mul(vjp(f, x)[1](u), v)))(zerosOf(y));
  return [y, jv];
}

/**
 * Hessian–vector product `∇²f(x)·v` of a scalar `f`, by differentiating `⟨∇f(x), v⟩` (reverse over reverse).
 * Shapes: `x` and `v` alike; the result is shaped like `x`.
 * @example hvp((x) => T.sum(T.pow(x, 3)), x, v) // = 6·x⊙v
 */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  checkTangent('hvp', x, v);
  return grad((y: Tensor) => sum(mul(grad(f)(y), v)))(x);
}

/**
 * Full Jacobian of a tensor function by one pullback per output element.
 * Shapes: `f(x)` of shape `Y`, `x` of shape `X` → `[...Y, ...X]`, entry `[i…, j…] = ∂f(x)[i…]/∂x[j…]`.
 * Costs `size(Y)` backward passes: meant for small problems and tests.
 * @example jacobian((x) => T.mul(x, x), tensor([1, 2])) // [[2, 0], [0, 4]]
 */
export function jacobian(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new InvalidTypeError('jacobian: x must be a Tensor');
  const [y, pull] = vjp(f, x);
  if (!(y instanceof Tensor)) throw new InvalidTypeError('jacobian: f must return a Tensor');
  const rows: Tensor[] = [];
  for (let i = 0; i < y.size; i++) rows.push(pull(basis(y, i)));
  if (rows.length === 0) return zerosOf(new Tensor(allocate(x.dtype, 0), [...y.shape, ...x.shape]));
  return reshape(stack(rows, 0), [...y.shape, ...x.shape]);
}

/**
 * Hessian of a scalar function: the Jacobian of its gradient, `[...X, ...X]` for `x` of shape `X`.
 * @example hessian((x) => T.sum(T.pow(x, 3)), tensor([1, 2])) // [[6, 0], [0, 12]]
 */
export function hessian(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  return jacobian((y: Tensor) => grad(f)(y), x);
}

/**
 * Exact per-sample Hessian trace of a batched energy: `tr ∇ₓ²E(x)_b = Σᵢ ∂²E_b/∂x_{b,i}²` for `E: [n, …] → [n]`
 * whose samples do not interact (row `b` of `E` depends only on row `b` of `x`). One double-backward pullback per
 * feature (`d = size / n` of them), each giving column `i` of every sample's Hessian at once, so the cost is `d`
 * backward passes however large `n` is. Differentiable (score matching needs ∇θ of it).
 * Shapes: `x [n, …]`, `E(x) [n]` (or `[n, 1]`) → `[n]`.
 * @example hessianTrace((x) => T.sum(T.square(x), 1), x) // = 2·d for every row
 */
export function hessianTrace(energy: (x: Tensor) => Tensor, x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new InvalidTypeError('hessianTrace: x must be a Tensor');
  if (x.ndim < 1 || x.shape[0] < 1) throw new ShapeError(`hessianTrace: x must be [n, …] with n ≥ 1, got [${x.shape}]`);
  const n = x.shape[0];
  const d = x.size / n;
  const total = (y: Tensor): Tensor => {
    const e = energy(y);
    if (!(e instanceof Tensor)) throw new InvalidTypeError('hessianTrace: energy must return a Tensor');
    if (e.size !== n) throw new ShapeError(`hessianTrace: energy must return one value per sample ([${n}]), got [${e.shape}]`);
    return sum(e);
  };
  const [, pull] = vjp((y: Tensor) => grad(total, { createGraph: true })(y), x);
  const axes = x.shape.map((_, i) => i).slice(1);
  const terms: Tensor[] = [];
  for (let i = 0; i < d; i++) {
    const e = allocate(x.dtype, x.size);
    for (let b = 0; b < n; b++) e[b * d + i] = 1;
    const ei = new Tensor(e, x.shape);
    const col = pull(ei); // H_b e_i for every sample b
    terms.push(axes.length ? sum(mul(col, ei), axes) : mul(col, ei));
  }
  return addN(terms);
}
