import { describe, expect, it } from 'vitest';
import { choleskyLower, choleskySolve } from '../../src/tensor/linalg.js';

const fail = (j: number, p: number): Error => new Error(`pivot ${j} is ${p}`);

describe('tensor/linalg: Cholesky factor and solve (float64)', () => {
  it('L·Lᵀ = A and A·x = b for a random SPD matrix (A = MᵀM + I)', () => {
    const d = 7;
    const M = Float64Array.from({ length: d * d }, (_, i) => Math.sin(1.7 * i + 0.3));
    const A = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < d; k++) s += M[k * d + i] * M[k * d + j];
      A[i * d + j] = s;
    }
    const L = choleskyLower(A, d, fail);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      if (j > i) expect(L[i * d + j]).toBe(0);
      let s = 0;
      for (let k = 0; k < d; k++) s += L[i * d + k] * L[j * d + k];
      expect(Math.abs(s - A[i * d + j])).toBeLessThan(1e-12 * Math.max(1, Math.abs(A[i * d + j])));
    }
    const b = Float64Array.from({ length: d }, (_, i) => i - 3);
    const x = choleskySolve(L, b, d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += A[i * d + k] * x[k];
      expect(Math.abs(s - b[i])).toBeLessThan(1e-10);
    }
  });

  it('names the first pivot that is not positive (singular, indefinite, NaN)', () => {
    expect(() => choleskyLower(Float64Array.from([1, 1, 1, 1]), 2, fail)).toThrow('pivot 1 is 0');
    expect(() => choleskyLower(Float64Array.from([1, 0, 0, -2]), 2, fail)).toThrow('pivot 1 is -2');
    expect(() => choleskyLower(Float64Array.from([NaN, 0, 0, 1]), 2, fail)).toThrow('pivot 0 is NaN');
  });
});
