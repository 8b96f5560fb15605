/**
 * The convolution kernels and conv-net passes against the CPU backend (test/gpu/checkConv.ts, run in a child process:
 * Dawn's threads and Vitest's worker pool do not mix). Skips, saying why, where this machine has no WebGPU adapter.
 */
import { gpuCheckSuite } from './_checkSuite.js';

gpuCheckSuite('checkConv.ts', 'WebGPU convolutions and conv nets match the CPU backend', { minChecks: 130, timeoutMs: 300_000 });
