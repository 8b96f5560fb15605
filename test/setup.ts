/**
 * Test setup: selects the compute backend the way the library does (native addon when it is built, else pure TS;
 * `EBM_BACKEND=js|native` forces one), so `npm test` exercises the backend users get.
 */
import { initBackend } from '../src/tensor/select.js';

initBackend();
