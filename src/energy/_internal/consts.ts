/** Float64 parameters of analytic energies, converted once per dtype to tensors that combine with a batch. */
import { Tensor, type DType, type Shape } from '../../tensor/index.js';

/** A float64 constant with lazily created float32/float64 tensor views (parameters must match the batch dtype). */
export class Const {
  private readonly cache: Partial<Record<DType, Tensor>> = {};
  constructor(readonly data: Float64Array, readonly shape: Shape) {}
  /** The constant as a tensor of `dtype` (created on first use, then reused). */
  as(dtype: DType): Tensor {
    let t = this.cache[dtype];
    if (!t) {
      const d = dtype === 'float64' ? new Float64Array(this.data) : new Float32Array(this.data);
      t = new Tensor(d, this.shape);
      this.cache[dtype] = t;
    }
    return t;
  }
}

/** Copies a float64 row-major `[n, d]` result into a new tensor of `dtype`. */
export function fromRows(data: Float64Array, n: number, d: number, dtype: DType): Tensor {
  return new Tensor(dtype === 'float64' ? data : new Float32Array(data), [n, d]);
}
