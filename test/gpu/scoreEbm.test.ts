/**
 * Denoising score matching of deep-EBM MLP energies on WebGPU (and the mlp-energy DSM step on the same shared passes)
 * against the library's loss (test/gpu/checkScoreEbm.ts, run in a child process: Dawn's threads and Vitest's worker
 * pool do not mix). Skips, saying why, where this machine has no WebGPU adapter (CI has SwiftShader).
 */
import { gpuCheckSuite } from './_checkSuite.js';

// A few seconds of CPU on an idle machine.
gpuCheckSuite('checkScoreEbm.ts', 'deep-EBM DSM on WebGPU matches the library loss', { minChecks: 24, timeoutMs: 900_000 });
