/**
 * Score matching (dsm, ssm, ssm-vr, sm) of deep-EBM MLP energies and the mlp-energy DSM step on WebGPU
 * against the library's loss (test/gpu/checkScoreEbm.ts, run in a child process: Dawn's threads and Vitest's worker
 * pool do not mix). Skips, saying why, where this machine has no WebGPU adapter (CI has SwiftShader).
 */
import { gpuCheckSuite } from './_checkSuite.js';

// A few seconds of CPU on an idle machine.
gpuCheckSuite('checkScoreEbm.ts', 'score matching of deep-EBM and mlp-energy MLP energies on WebGPU matches the library losses', { minChecks: 79, timeoutMs: 900_000 });
