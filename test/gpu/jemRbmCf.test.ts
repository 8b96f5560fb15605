/**
 * The GPU lowerings of the jem and rbm-cf kinds against their CPU versions (test/gpu/checkJemRbmCf.ts, run in a child
 * process: Dawn's threads and Vitest's worker pool do not mix). Skips, saying why, where this machine has no WebGPU
 * adapter (CI has SwiftShader).
 */
import { gpuCheckSuite } from './_checkSuite.js';

gpuCheckSuite('checkJemRbmCf.ts', 'jem and rbm-cf on WebGPU match the CPU', { minChecks: 11, timeoutMs: 300_000 });
