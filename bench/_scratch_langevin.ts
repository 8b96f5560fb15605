import * as T from '../src/tensor/index.js';
const init = async () => { try { const m = await import('../src/tensor/select.js'); (m as any).initBackend?.(); } catch (e) { console.log('no select', (e as Error).message); } };
await init();
console.log('backend', T.getBackend().name, T.getBackend().blas);
function rnd(shape: number[], s: number) { const n = shape.reduce((a, b) => a * b, 1); const d = new Float32Array(n); for (let i = 0; i < n; i++) d[i] = (((i * 0.618033 + 0.1) % 1) - 0.5) * s; return new T.Tensor(d, shape); }
const W1 = rnd([784, 256], 0.07), b1 = rnd([256], 0.1), W2 = rnd([256, 256], 0.1), b2 = rnd([256], 0.1), W3 = rnd([256, 1], 0.1), b3 = rnd([1], 0.1);
const E = (x: T.Tensor) => T.sum(T.linear(T.silu(T.linear(T.silu(T.linear(x, W1, b1)), W2, b2)), W3, b3));
let x = rnd([128, 784], 1);
const g = T.grad(E);
for (let i = 0; i < 20; i++) g(x);
const t0 = performance.now(); const N = 200;
for (let i = 0; i < N; i++) { const gx = g(x); x = T.clamp(T.sub(x, T.mul(gx, 10)), 0, 1); }
console.log('ms/step', (performance.now() - t0) / N);
const A = rnd([256, 784], 1), B = rnd([784, 500], 1);
for (let i = 0; i < 5; i++) T.matmul(A, B);
const t1 = performance.now(); for (let i = 0; i < 20; i++) T.matmul(A, B); const dt = (performance.now() - t1) / 20;
console.log('gemm 256x784x500 GFLOP/s', (2 * 256 * 784 * 500 / dt / 1e6).toFixed(1));
