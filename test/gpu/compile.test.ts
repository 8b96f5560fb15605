/**
 * The traced `compile` against the CPU backend (test/gpu/checkCompile.ts, run in a child process: Dawn's threads and
 * Vitest's worker pool do not mix). Skips, saying why, where this machine has no WebGPU adapter (CI has SwiftShader).
 */
import { gpuCheckSuite } from './_checkSuite.js';

gpuCheckSuite('checkCompile.ts', 'compile(fn) matches the CPU backend', { minChecks: 33, timeoutMs: 300_000 });
