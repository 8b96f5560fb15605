/**
 * The score-sde and deep-ebm lowerings against the CPU steps (test/gpu/checkScoreDeep.ts, run in a child process:
 * Dawn's threads and Vitest's worker pool do not mix). Skips, saying why, where this machine has no WebGPU adapter
 * (CI has SwiftShader).
 */
import { gpuCheckSuite } from './_checkSuite.js';

// ~20 s on an idle machine; SwiftShader on 2 heavily loaded cores took 8 min.
gpuCheckSuite('checkScoreDeep.ts', 'score-sde and deep-ebm on WebGPU match the CPU steps', { minChecks: 21, timeoutMs: 900_000 });
