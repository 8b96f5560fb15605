/** The Tensor type: a dense, contiguous, row-major array of float32 or float64 with an optional autodiff node. */

import { InvalidArgumentError, EbmError, type EbmErrorCode } from '../errors.js';
import { activeTracer, type OpAttrs } from './trace.js';

/** Element type of a tensor. `float32` is the default; `float64` is for gradient checks and long accumulations. */
export type DType = 'float32' | 'float64';

/** The typed array backing a tensor of the given dtype. */
export type TypedArray = Float32Array | Float64Array;

/** Shape of a tensor: one non-negative integer per axis; `[]` is a scalar. */
export type Shape = readonly number[];

/**
 * A node of the autodiff graph: the inputs of the op that produced a tensor and the vector–Jacobian product
 * that maps the cotangent of the output to cotangents of the inputs (each already reduced to its input's shape,
 * or `null` where an input gets no gradient). Backward rules are written with differentiable ops, so the graph of a
 * gradient can itself be differentiated.
 */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Backward rule: the cotangent `g` of the output (its shape) → one cotangent per input, `null` for none. */
  readonly vjp: (g: Tensor) => readonly (Tensor | null)[];
  /** The op's attributes that the inputs' shapes do not give (axes, scalar operands, transpose flags), if any. */
  readonly attrs?: OpAttrs;
}

let nextId = 1;

/**
 * A dense n-dimensional array. Storage is always contiguous and row-major (C order): element `[i0,…,ik]` lives at
 * `Σ ij·stride_j` with `stride_k = 1`. Tensors are treated as immutable by every op in the library; `data` is
 * exposed for kernels and I/O, and writing to it is only safe on a tensor you created and have not yet used.
 */
export class Tensor {
  /** Unique id, used by the autodiff engine to key gradients. */
  readonly id: number;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly data: TypedArray;
  /** Number of elements, the product of `shape`. */
  readonly size: number;
  /** True when gradients flow through this tensor (it is a traced input or was computed from one). */
  requiresGrad: boolean;
  /** The op that produced this tensor while tracing, or `null` for leaves and untraced values. */
  node: GradNode | null;

  constructor(data: TypedArray, shape: Shape, requiresGrad = false, node: GradNode | null = null) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new ShapeError(`Tensor: data has ${data.length} elements but shape [${shape.join(', ')}] needs ${size}`);
    }
    this.id = nextId++;
    this.shape = Object.freeze(shape.slice());
    this.dtype = data instanceof Float64Array ? 'float64' : 'float32';
    this.data = data;
    this.size = size;
    this.requiresGrad = requiresGrad;
    this.node = node;
  }

  /** Number of axes. */
  get ndim(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor, as a JS number. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item(): tensor has shape [${this.shape.join(', ')}], not one element`);
    return this.data[0];
  }

  /** The values as a flat JS array (a copy). */
  toArray(): number[] {
    return Array.from(this.data);
  }

  /** The values as nested JS arrays following the shape (a copy); a scalar gives a number. */
  toNested(): unknown {
    const build = (axis: number, offset: number): unknown => {
      if (axis === this.shape.length) return this.data[offset];
      const n = this.shape[axis];
      let step = 1;
      for (let a = axis + 1; a < this.shape.length; a++) step *= this.shape[a];
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = build(axis + 1, offset + i * step);
      return out;
    };
    return build(0, 0);
  }

  /** `Tensor(float32, [2, 3])`: dtype and shape, no values. */
  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

/** Thrown when shapes do not fit an op; the message names the op and both shapes. */
export class ShapeError extends EbmError {
  readonly code: EbmErrorCode = 'SHAPE';
  override name = 'ShapeError';
}

/** Thrown when dtypes of the inputs of an op differ. */
export class DTypeError extends EbmError {
  readonly code: EbmErrorCode = 'DTYPE';
  override name = 'DTypeError';
}

/** Product of the entries of a shape; validates that each entry is a non-negative integer. */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape [${shape.join(', ')}]: sizes must be non-negative integers`);
    n *= d;
  }
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Allocates a zero-filled typed array of the dtype. */
export function allocate(dtype: DType, size: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/** True when two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Normalises a possibly negative axis against `ndim`, throwing a ShapeError when out of range. */
export function normAxis(axis: number, ndim: number, op = 'op'): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim) throw new ShapeError(`${op}: axis ${axis} out of range for ${ndim}-d tensor`);
  return a;
}

/** Nested number arrays accepted by {@link tensor}. */
export type NestedArray = number | readonly NestedArray[];

function inferShape(v: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

/**
 * Creates a tensor from nested arrays, a flat array or a typed array.
 * @param values nested JS arrays (shape inferred), or flat values with `shape` given.
 * @param shape required for flat input with more than one axis; defaults to the inferred shape.
 * @param dtype `float32` (default) or `float64`; a typed-array input keeps its own dtype unless one is given.
 * @example tensor([[1, 2], [3, 4]]) // shape [2, 2], float32
 */
export function tensor(values: NestedArray | ArrayLike<number>, shape?: Shape, dtype?: DType): Tensor {
  if (values instanceof Float32Array || values instanceof Float64Array) {
    const dt = dtype ?? (values instanceof Float64Array ? 'float64' : 'float32');
    const data = allocate(dt, values.length);
    data.set(values);
    return new Tensor(data, shape ?? [values.length]);
  }
  const dt = dtype ?? 'float32';
  if (typeof values === 'number') {
    const data = allocate(dt, 1);
    data[0] = values;
    return new Tensor(data, shape ?? []);
  }
  const inferred = Array.isArray(values) ? inferShape(values as NestedArray) : [(values as ArrayLike<number>).length];
  const flat: number[] = [];
  const walk = (v: NestedArray, depth: number): void => {
    if (Array.isArray(v)) {
      if (depth >= inferred.length || v.length !== inferred[depth]) throw new ShapeError('tensor(): ragged nested array');
      for (const e of v) walk(e, depth + 1);
    } else {
      if (depth !== inferred.length) throw new ShapeError('tensor(): ragged nested array');
      flat.push(v as number);
    }
  };
  if (Array.isArray(values)) walk(values as NestedArray, 0);
  else for (let i = 0; i < (values as ArrayLike<number>).length; i++) flat.push((values as ArrayLike<number>)[i]);
  const data = allocate(dt, flat.length);
  for (let i = 0; i < flat.length; i++) data[i] = flat[i];
  return new Tensor(data, shape ?? inferred);
}

/** A tensor of the given shape filled with `value`. */
export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const data = allocate(dtype, shapeSize(shape));
  if (value !== 0) data.fill(value);
  const t = new Tensor(data, shape);
  if (activeTracer !== null) activeTracer.constant(t);
  return t;
}

/** A tensor of zeros. */
export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return full(shape, 0, dtype);
}

/** A tensor of ones. */
export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

/** A scalar (shape `[]`) tensor. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return full([], value, dtype);
}

/** Zeros with the shape and dtype of `x`. */
export function zerosLike(x: Tensor): Tensor {
  return full(x.shape, 0, x.dtype);
}

/** Ones with the shape and dtype of `x`. */
export function onesLike(x: Tensor): Tensor {
  return full(x.shape, 1, x.dtype);
}

/** `[start, start+step, …)` up to but excluding `stop`, as a 1-D tensor. */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0) throw new InvalidArgumentError('arange: step must be non-zero');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
}

/** `n` evenly spaced values from `start` to `stop` inclusive. */
export function linspace(start: number, stop: number, n: number, dtype: DType = 'float32'): Tensor {
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = n === 1 ? start : start + ((stop - start) * i) / (n - 1);
  return new Tensor(data, [n]);
}

/** The `n × n` identity matrix. */
export function eye(n: number, dtype: DType = 'float32'): Tensor {
  const data = allocate(dtype, n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return new Tensor(data, [n, n]);
}

/** A copy of `x` converted to `dtype` (not differentiable; use {@link cast} from the ops for a traced conversion). */
export function toDType(x: Tensor, dtype: DType): Tensor {
  const data = allocate(dtype, x.size);
  data.set(x.data);
  return new Tensor(data, x.shape);
}

/** True when every element of `x` is finite. */
export function allFinite(x: Tensor): boolean {
  const d = x.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}
