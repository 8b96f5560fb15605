import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { backendsUnderTest } from './backends.js';

const { tensor, checkGrad, checkGrad2 } = T;
type F = (x: T.Tensor) => T.Tensor;

// Deterministic float64 inputs without touching the RNG module (a fixed low-discrepancy sequence).
function det(shape: number[], lo = -1.5, hi = 1.5, seed = 1): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * (((i + 1) * 0.6180339887498949 * seed + 0.3) % 1);
  return new T.Tensor(d, shape);
}

const W = det([3, 4], -1, 1, 3);
const W3 = det([2, 4, 3], -1, 1, 5);
const B = det([4], -1, 1, 7);
const FILT = det([2, 2, 2, 2], -1, 1, 11);
const s = (x: T.Tensor) => T.sum(x);
const w = (x: T.Tensor) => T.sum(T.mul(x, det(x.shape as number[], -1, 1, 13))); // weighted sum: non-symmetric cotangent

// [name, f, input, secondOrder]
const cases: [string, F, T.Tensor, boolean][] = [
  ['add', (x) => w(T.add(x, T.mul(x, x))), det([2, 3]), true],
  ['add broadcast', (x) => w(T.add(x, T.reshape(T.sliceAxis(x, 0, 0, 1), [3]))), det([2, 3]), true],
  ['sub', (x) => w(T.sub(T.square(x), x)), det([2, 3]), true],
  ['mul', (x) => w(T.mul(x, T.sin(x))), det([2, 3]), true],
  ['mul broadcast', (x) => w(T.mul(x, B)), det([3, 4]), true],
  ['div', (x) => w(T.div(T.sin(x), T.add(T.square(x), 1))), det([2, 3]), true],
  ['neg', (x) => w(T.neg(T.square(x))), det([5]), false],
  ['square', (x) => w(T.square(x)), det([5]), true],
  ['pow', (x) => w(T.pow(T.add(T.square(x), 0.5), 1.7)), det([5]), true],
  ['sqrt', (x) => w(T.sqrt(T.add(T.square(x), 0.3))), det([5]), true],
  ['exp', (x) => w(T.exp(x)), det([5]), true],
  ['log', (x) => w(T.log(T.add(T.square(x), 0.2))), det([5]), true],
  ['log1p', (x) => w(T.log1p(T.square(x))), det([5]), true],
  ['abs', (x) => w(T.abs(x)), det([5]), false],
  ['sin', (x) => w(T.sin(x)), det([5]), true],
  ['cos', (x) => w(T.cos(x)), det([5]), true],
  ['sigmoid', (x) => w(T.sigmoid(x)), det([5], -4, 4), true],
  ['logSigmoid', (x) => w(T.logSigmoid(x)), det([5], -4, 4), true],
  ['tanh', (x) => w(T.tanh(x)), det([5], -3, 3), true],
  ['softplus', (x) => w(T.softplus(x)), det([5], -4, 4), true],
  ['relu', (x) => w(T.mul(T.relu(x), x)), det([6]), true],
  ['leakyRelu', (x) => w(T.mul(T.leakyRelu(x, 0.1), x)), det([6]), true],
  ['elu', (x) => w(T.elu(x, 0.7)), det([6]), true],
  ['silu', (x) => w(T.silu(x)), det([6], -4, 4), true],
  ['sum axis', (x) => w(T.square(T.sum(x, 1))), det([3, 4]), true],
  ['mean axis', (x) => w(T.square(T.mean(x, 0))), det([3, 4]), true],
  ['sum all', (x) => T.square(T.sum(T.square(x))), det([3, 4]), true],
  ['mean all', (x) => T.square(T.mean(T.exp(x))), det([3, 4]), true],
  ['max axis', (x) => w(T.max(x, 1)), det([3, 4]), false],
  ['logsumexp', (x) => w(T.logsumexp(x, 1)), det([3, 4], -3, 3), true],
  ['logsumexp all', (x) => T.logsumexp(T.square(x)), det([3, 4], -2, 2), true],
  ['softmax', (x) => w(T.softmax(x, -1)), det([3, 4]), true],
  ['logSoftmax', (x) => w(T.logSoftmax(x, 0)), det([3, 4]), true],
  ['matmul', (x) => w(T.tanh(T.matmul(x, W))), det([2, 3]), true],
  ['matmul x·xᵀ', (x) => w(T.matmul(x, x, { transB: true })), det([2, 3]), true],
  ['matmul transA', (x) => w(T.matmul(x, det([2, 4]), { transA: true })), det([2, 3]), true],
  ['matmul both', (x) => w(T.matmul(x, det([4, 3]), { transA: true, transB: true })), det([3, 2]), true],
  ['matmul batched 3d·3d', (x) => w(T.matmul(x, W3)), det([2, 5, 4]), true],
  ['matmul batched 3d·2d', (x) => w(T.matmul(x, W)), det([2, 5, 3]), true],
  ['matmul batched B', (x) => w(T.matmul(det([2, 5, 3]), T.reshape(x, [3, 4]))), det([12]), true],
  ['conv2d input', (x) => w(T.conv2d(x, FILT, undefined, { stride: 1, padding: 1 })), det([1, 2, 4, 4]), true],
  ['conv2d filter', (f) => w(T.conv2d(det([2, 2, 5, 5]), f, undefined, { stride: 2, padding: 1 })), det([2, 2, 2, 2]), true],
  ['avgPool2d', (x) => w(T.square(T.avgPool2d(x, 2))), det([1, 2, 4, 4]), true],
  ['transpose/permute', (x) => w(T.permute(T.square(x), [2, 0, 1])), det([2, 3, 4]), true],
  ['slice', (x) => w(T.square(T.sliceAxis(x, 1, 1, 3))), det([2, 4]), true],
  ['concat/stack', (x) => w(T.stack([T.concat([x, T.square(x)], 1), T.exp(T.concat([x, x], 1))], 0)), det([2, 2]), true],
  ['gatherRows', (x) => w(T.square(T.gatherRows(x, [2, 0, 2]))), det([3, 2]), true],
  ['takeAlongRows', (x) => w(T.takeAlongRows(T.logSoftmax(x), [1, 0, 2])), det([3, 3]), true],
  ['where', (x) => w(T.where(T.greater(x, 0), T.square(x), T.exp(x))), det([6]), true],
  ['clamp', (x) => w(T.square(T.clamp(x, -0.5, 0.7))), det([6]), true],
  ['maximum', (x) => w(T.maximum(T.square(x), x)), det([6]), true],
  ['broadcastTo', (x) => w(T.square(T.broadcastTo(x, [3, 2, 4]))), det([2, 1]), true],
];

for (const be of backendsUnderTest()) {
  describe(`gradient checks (${be.name} backend)`, () => {
    for (const [name, f, x, second] of cases) {
      it(`${name}: first order matches central differences`, () => {
        be.use();
        const r = checkGrad(f, x);
        expect(r.maxAbsError, `${name}: max abs err ${r.maxAbsError}`).toBeLessThan(1e-5 + 1e-4);
        expect(r.ok).toBe(true);
      });
      if (second) {
        it(`${name}: second order (Hessian-vector product) matches`, () => {
          be.use();
          const v = det(x.shape as number[], -1, 1, 17);
          const r = checkGrad2(f, x, v);
          expect(r.ok, `${name}: max abs err ${r.maxAbsError}, rel ${r.maxRelError}`).toBe(true);
        });
      }
    }
  });
}
