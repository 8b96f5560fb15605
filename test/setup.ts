/**
 * Test setup: selects the compute backend the way the library does (native addon when it is built, else pure TS;
 * `EBM_BACKEND=js|native` forces one), so `npm test` exercises the backend users get.
 */
import { initBackend } from '../src/tensor/select.js';

// Vitest runs two test files at once on a 2-core machine: one compute thread per worker avoids oversubscription
// (OpenBLAS reads this when the addon loads it, so it is set before initBackend).
process.env.OPENBLAS_NUM_THREADS ??= '1';
process.env.EBM_NUM_THREADS ??= '1';
// CLI progress lines on a non-terminal stderr (every 5 s by default) would make captured stderr timing-dependent.
process.env.EBM_PROGRESS_SECONDS ??= '0';
initBackend();
