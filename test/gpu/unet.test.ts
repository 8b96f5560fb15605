/**
 * The U-Net lowering and the score-sde image models' (U-Net, MLP) step and samplers against the CPU (test/gpu/checkUNet.ts, run in a
 * child process: Dawn's threads and Vitest's worker pool do not mix). Skips, saying why, where this machine has no
 * WebGPU adapter (CI has SwiftShader).
 */
import { gpuCheckSuite } from './_checkSuite.js';

// ~60 s on SwiftShader with the machine shared (19 s of CPU).
gpuCheckSuite('checkUNet.ts', 'the U-Net and score-sde image models on WebGPU match the CPU', { minChecks: 67, timeoutMs: 900_000 });
