/**
 * Backend selection: picks the native addon when it loads, else the pure-TypeScript backend, and reports what is in
 * use. `EBM_BACKEND=js|native` forces a choice. This is the only module that imports `native.ts`.
 */
import { getBackend, jsBackend, setBackend, type Backend } from './backend.js';
import { loadNativeBackend } from './native.js';
import { setNativeRandom } from './randomHook.js';
import type { DType, TypedArray } from './tensor.js';
import { InvalidArgumentError } from '../errors.js';

/** What {@link backendInfo} reports. */
export interface BackendInfo {
  /** Backend currently in use. */
  backend: 'js' | 'native';
  /** GEMM is delegated to OpenBLAS. */
  blas: boolean;
  /** Which GEMM kernel runs: the pure-TS one, the addon's bundled SIMD kernel, or OpenBLAS. */
  gemm: 'js' | 'bundled' | 'openblas';
  /** Why that GEMM kernel was chosen (e.g. "bundled kernel (default: measured faster …; EBM_GEMM=openblas to switch)"). */
  gemmPolicy?: string;
  /** Whether the addon is linked against OpenBLAS (usable via `EBM_GEMM=openblas` even when not in use). */
  blasLinked?: boolean;
  /** OpenBLAS build description (`openblas_get_config()` plus the kernel family), when BLAS is linked. */
  blasLibrary?: string;
  /** Vector ISA of the native bundled kernels (`avx512f`, `avx2+fma`, …). */
  simd?: string;
  /** Threads used for large GEMMs (OpenBLAS's count when BLAS is used, else the bundled kernel's). */
  threads?: number;
  /** Whether the native addon could be loaded at all (it may be loaded but not selected). */
  nativeAvailable: boolean;
  /** Why the native addon is unavailable, when it is. */
  nativeError?: string;
}

let initialized = false;
let warned = false;

/**
 * Under Node, says once (on stderr, as a process warning with code `EBM_NATIVE_UNAVAILABLE`) that the automatic choice
 * fell back to the pure-TS backend, why, and how to fix it: npm hides install-script output, so a failed addon build
 * would otherwise go unnoticed. Silent in browsers and when the js backend is chosen explicitly (`EBM_BACKEND=js`).
 */
function warnFallback(reason: string | null): void {
  const proc = (globalThis as { process?: { versions?: { node?: string }; emitWarning?: (msg: string, o: { type: string; code: string }) => void } }).process;
  if (warned || !proc?.versions?.node || typeof proc.emitWarning !== 'function') return;
  warned = true;
  proc.emitWarning(
    `the native backend is unavailable (${reason ?? 'unknown reason'}); using the pure-TypeScript backend, about 25× slower `
    + 'on large matrix products. Set EBM_BACKEND=js to choose it explicitly and silence this warning.',
    { type: 'EbmTsWarning', code: 'EBM_NATIVE_UNAVAILABLE' },
  );
}

function envChoice(): 'js' | 'native' | 'auto' {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.EBM_BACKEND?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'js' || v === 'native') return v;
  if (v === 'webgpu') return 'auto'; // the GPU runs compiled hot loops (src/gpu/select.ts); eager ops stay on the CPU
  throw new Error(`EBM_BACKEND must be 'js', 'native', 'webgpu' or 'auto', got '${proc?.env?.EBM_BACKEND}'`);
}

/**
 * Chooses and installs the compute backend (via `setBackend`) and returns it, and installs the matching bulk random
 * kernels read by src/random (`setNativeRandom` in `randomHook.ts`: the addon's for native, none for js). Automatic choice: the native addon if
 * it loads, else the pure-TS backend. `choice` (or env `EBM_BACKEND`) forces one; forcing `'native'` when the addon
 * cannot load throws an error that says why.
 *
 * Idempotent and cheap: the first call loads the addon (≈1 ms); later calls without `choice` return the current
 * backend untouched, so a backend set explicitly with `setBackend` (e.g. in tests) is kept.
 *
 * @example
 * initBackend();                // at library import
 * initBackend('js');            // force the reference backend
 */
export function initBackend(choice?: 'js' | 'native' | 'auto'): Backend {
  if (initialized && choice === undefined) return getBackend();
  const want = choice ?? envChoice();
  let chosen: Backend;
  if (want === 'js') {
    chosen = jsBackend;
  } else {
    const r = loadNativeBackend();
    if (r.backend) chosen = r.backend;
    else if (want === 'native') {
      throw new Error(`native backend requested (${choice ? 'initBackend("native")' : 'EBM_BACKEND=native'}) but it cannot be loaded: ${r.error}`);
    } else {
      chosen = jsBackend;
      warnFallback(r.error);
    }
  }
  setBackend(chosen);
  // Bulk random generation follows the choice (bit-identical either way, only faster natively).
  setNativeRandom(chosen === jsBackend ? null : loadNativeBackend().random);
  initialized = true;
  return chosen;
}

/** Describes the backend in use, for `ebm doctor` and logs. */
export function backendInfo(): BackendInfo {
  const b = getBackend();
  const r = loadNativeBackend();
  const base = { nativeAvailable: r.backend !== null, ...(r.error ? { nativeError: r.error } : {}) };
  if (b.name !== 'native' || !r.info) return { backend: b.name, blas: b.blas, gemm: 'js', gemmPolicy: 'pure-TypeScript GEMM (js backend)', ...base };
  const i = r.info;
  const info: BackendInfo = {
    backend: 'native', blas: i.blas, gemm: i.blas ? 'openblas' : 'bundled', blasLinked: i.blasLinked,
    simd: i.simd, threads: i.blas ? i.blasThreads ?? 1 : i.threads, ...base,
  };
  if (i.gemmPolicy) info.gemmPolicy = i.gemmPolicy;
  if (i.blasLinked && i.blasLibrary) {
    info.blasLibrary = i.blasCore && !i.blasLibrary.includes(i.blasCore) ? `${i.blasLibrary} (core ${i.blasCore})` : i.blasLibrary;
  }
  return info;
}

/** Deterministic pseudo-random fill in [-1, 1) (a 32-bit LCG; benchmark data only, not for modelling). */
function fill(a: TypedArray, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2147483648 - 1;
  }
}

/**
 * Measures GEMM throughput `C ← A·B` (`A` m×k, `B` k×n) on a backend, in GFLOP/s = 2·m·n·k·calls / seconds / 1e9.
 * Runs one warm-up call, then repeats for at least `seconds` of wall time (and at least 3 calls).
 *
 * @example
 * measureGemmGflops(256, 500, 784, 'float32', 0.5); // ≈ 100 with OpenBLAS on 2 cores
 */
export function measureGemmGflops(m: number, n: number, k: number, dtype: DType = 'float32', seconds = 0.5, backend: Backend = getBackend()): number {
  for (const [name, v] of [['m', m], ['n', n], ['k', k]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(`measureGemmGflops: ${name} must be a positive integer, got ${v}`);
  }
  const Ctor = dtype === 'float64' ? Float64Array : Float32Array;
  const a = new Ctor(m * k), b = new Ctor(k * n), c = new Ctor(m * n);
  fill(a, 1);
  fill(b, 2);
  backend.gemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, c, 0, n);
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (calls < 3 || t - t0 < seconds * 1000) {
    backend.gemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, c, 0, n);
    calls++;
    t = performance.now();
  }
  return (2 * m * n * k * calls) / ((t - t0) / 1000) / 1e9;
}
