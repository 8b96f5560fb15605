/**
 * Parallel-tempering negatives, the sampler's gradient clip and spectral normalisation of deep-EBM CD on WebGPU
 * against the CPU (test/gpu/checkTempered.ts, run in a child process: Dawn's threads and Vitest's worker pool do not
 * mix). Skips, saying why, where this machine has no WebGPU adapter (CI has SwiftShader).
 */
import { gpuCheckSuite } from './_checkSuite.js';

// ~15 s of CPU on an idle machine (55 s wall on 2 loaded cores).
gpuCheckSuite('checkTempered.ts', 'tempered negatives, sampler clip and spectral norm of deep-EBM CD on WebGPU match the CPU', { minChecks: 57, timeoutMs: 900_000 });
