/**
 * The WGSL kernels against the CPU backend (test/gpu/checkKernels.ts, run in a child process: Dawn's threads and
 * Vitest's worker pool do not mix). Skips, saying why, where this machine has no WebGPU adapter (CI has SwiftShader).
 */
import { gpuCheckSuite } from './_checkSuite.js';

// SwiftShader on 2 loaded cores can be slow.
gpuCheckSuite('checkKernels.ts', 'WebGPU kernels match the CPU backend', { minChecks: 41, timeoutMs: 480_000 });
