/**
 * GEMM and call-overhead benchmark of the compute backends: `npx tsx bench/gemm.ts [seconds]`.
 * Prints GFLOP/s (best of 5 runs) for MNIST-RBM-like shapes (batch×784 · 784×500) and 1024³, for the pure-TS backend, the native
 * bundled kernel (1 thread and all threads) and OpenBLAS when linked, then the per-call cost of tiny native ops.
 */
import { jsBackend, type Backend } from '../src/tensor/backend.js';
import { loadNativeBackend, setNativeThreads, setNativeUseBlas } from '../src/tensor/native.js';
import { measureGemmGflops } from '../src/tensor/select.js';

const seconds = Number(process.argv[2] ?? '0.6');
/** [m, n, k]: C (m×n) = A (m×k) · B (k×n). */
const shapes: [number, number, number][] = [[100, 500, 784], [256, 500, 784], [1024, 1024, 1024]];
const nat = loadNativeBackend();
const info = nat.info;
const defaultThreads = info?.threads ?? 1;
console.log(`OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}  native: ${nat.backend ? `${info?.simd}, blas linked: ${info?.blasLinked} ${info?.blasLibrary ?? ''}` : nat.error}`);

function row(label: string, b: Backend, dtype: 'float32' | 'float64', skipBig = false): void {
  const cells = shapes.map(([m, n, k]) => {
    if (skipBig && m * n * k > 1e8) return '     -       ';
    // Best of 5 short runs: on a shared machine the maximum is the least disturbed estimate.
    const runs = Array.from({ length: 5 }, () => measureGemmGflops(m, n, k, dtype, seconds / 5, b));
    return Math.max(...runs).toFixed(1).padStart(13);
  });
  console.log(`${label.padEnd(34)}${cells.join('')}`);
}

console.log(`${'GFLOP/s (best of 5)'.padEnd(34)}${shapes.map(([m, n, k]) => `${m}x${k}x${n}`.padStart(13)).join('')}`);
for (const dtype of ['float32', 'float64'] as const) {
  row(`js ${dtype}`, jsBackend, dtype, true);
  if (nat.backend) {
    setNativeUseBlas(false);
    setNativeThreads(1);
    row(`native bundled 1 thread ${dtype}`, nat.backend, dtype);
    setNativeThreads(defaultThreads);
    row(`native bundled ${defaultThreads} threads ${dtype}`, nat.backend, dtype);
    if (info?.blasLinked) {
      setNativeUseBlas(true);
      row(`native OpenBLAS ${info.blasThreads} threads ${dtype}`, nat.backend, dtype);
    }
  }
}

if (nat.backend) {
  const b = nat.backend;
  for (const n of [1, 16, 256, 4096]) {
    const x = new Float32Array(n).fill(0.5), out = new Float32Array(n);
    const reps = 200000;
    for (let i = 0; i < 1000; i++) b.unary('neg', x, out);
    let t0 = performance.now();
    for (let i = 0; i < reps; i++) b.unary('neg', x, out);
    const tNat = ((performance.now() - t0) * 1e6) / reps;
    for (let i = 0; i < 1000; i++) jsBackend.unary('neg', x, out);
    t0 = performance.now();
    for (let i = 0; i < reps; i++) jsBackend.unary('neg', x, out);
    const tJs = ((performance.now() - t0) * 1e6) / reps;
    t0 = performance.now();
    for (let i = 0; i < reps / 10; i++) b.unary('sigmoid', x, out);
    const tSig = ((performance.now() - t0) * 1e6) / (reps / 10);
    t0 = performance.now();
    for (let i = 0; i < reps / 10; i++) jsBackend.unary('sigmoid', x, out);
    const tSigJs = ((performance.now() - t0) * 1e6) / (reps / 10);
    console.log(`unary n=${String(n).padEnd(5)} neg: native ${tNat.toFixed(0).padStart(6)} ns, js ${tJs.toFixed(0).padStart(6)} ns | sigmoid: native ${tSig.toFixed(0).padStart(6)} ns, js ${tSigJs.toFixed(0).padStart(6)} ns`);
  }
  const a = new Float32Array(4), c = new Float32Array(4);
  const reps = 200000;
  let t0 = performance.now();
  for (let i = 0; i < reps; i++) b.gemm(false, false, 2, 2, 2, 1, a, 0, 2, a, 0, 2, 0, c, 0, 2);
  console.log(`gemm 2x2x2 call: native ${(((performance.now() - t0) * 1e6) / reps).toFixed(0)} ns`);
  t0 = performance.now();
  for (let i = 0; i < reps; i++) jsBackend.gemm(false, false, 2, 2, 2, 1, a, 0, 2, a, 0, 2, 0, c, 0, 2);
  console.log(`gemm 2x2x2 call: js ${(((performance.now() - t0) * 1e6) / reps).toFixed(0)} ns`);
}
