/**
 * The bundled GEMM's persistent thread pool: products from several Node worker threads at once (one owns the pool,
 * the others fall back to fresh pthreads) give bit-identical results to the same products on the main thread, and
 * nothing deadlocks.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeBackend, setNativeThreads, setNativeUseBlas } from '../../src/tensor/native.js';

const addon = join(process.cwd(), 'build', 'Release', 'ebm_native.node');
const loaded = loadNativeBackend();

/** Runs `reps` 100×784×500 float32 products (2 threads, bundled kernel) and returns the sum of every C. */
const WORK = `
const { parentPort, workerData } = require('node:worker_threads');
const nb = require(workerData.addon);
nb.setUseBlas(false);
nb.setThreads(2);
const m = 100, k = 784, n = 500;
let s = workerData.seed >>> 0;
const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 - 0.5; };
const a = Float32Array.from({ length: m * k }, rnd), b = Float32Array.from({ length: k * n }, rnd), c = new Float32Array(m * n);
const sums = [];
for (let r = 0; r < workerData.reps; r++) {
  nb.gemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, c, 0, n);
  let t = 0; for (let i = 0; i < c.length; i++) t += c[i];
  sums.push(t);
}
parentPort.postMessage(sums);
`;

function runWorker(seed: number, reps: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORK, { eval: true, workerData: { addon, seed, reps } });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe.skipIf(!loaded.backend || !existsSync(addon))('bundled GEMM thread pool', () => {
  it('concurrent products from 3 worker threads match the main thread bit for bit', async () => {
    const reps = 40;
    const results = await Promise.all([runWorker(1, reps), runWorker(2, reps), runWorker(1, reps)]);
    // Same inputs (seed 1) in workers 0 and 2: identical sums on every repetition, and constant across repetitions.
    expect(results[2]).toEqual(results[0]);
    expect(new Set(results[0]).size).toBe(1);
    expect(new Set(results[1]).size).toBe(1);
    // The main thread (owning the pool now) computes the same numbers.
    const nb = loaded.backend!;
    const before = loaded.info?.threads ?? 1;
    setNativeUseBlas(false);
    setNativeThreads(2);
    try {
      let s = 1;
      const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 - 0.5; };
      const m = 100, k = 784, n = 500;
      const a = Float32Array.from({ length: m * k }, rnd), b = Float32Array.from({ length: k * n }, rnd), c = new Float32Array(m * n);
      for (let r = 0; r < 3; r++) {
        nb.gemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, c, 0, n);
        let t = 0;
        for (let i = 0; i < c.length; i++) t += c[i];
        expect(t).toBe(results[0][0]);
      }
    } finally {
      setNativeThreads(before);
    }
  }, 60_000);
});
