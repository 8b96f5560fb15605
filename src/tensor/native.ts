/**
 * Loader of the native Node addon (`build/Release/ebm_native.node`, plain C over N-API, optional OpenBLAS).
 *
 * This module has no static Node imports: Node built-ins are reached through `process.getBuiltinModule` (Node ≥
 * 20.16) only when running under Node, so a browser bundle that includes it simply gets `null` from
 * {@link loadNativeBackend}. Only `select.ts` imports this module.
 */
import { BINARY_OPS, UNARY_OPS, type Backend, type BinaryOp, type UnaryOp } from './backend.js';
import type { TypedArray } from './tensor.js';

/** The raw functions exported by the addon (see native/ebm_native.c). Op arguments are indices into UNARY_OPS / BINARY_OPS. */
export interface NativeAddon {
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number,
    beta: number, c: TypedArray, cOff: number, ldc: number,
  ): void;
  unary(code: number, x: TypedArray, out: TypedArray): void;
  binary(code: number, a: TypedArray, b: TypedArray, out: TypedArray): void;
  sigmoidBernoulli(x: TypedArray, bias: TypedArray | null, cols: number, prob: TypedArray, u: TypedArray | null, sample: TypedArray | null): void;
  info(): NativeAddonInfo;
  /** Turns delegation to OpenBLAS on or off at run time (no effect without OpenBLAS); returns the new state. */
  setUseBlas(flag: boolean): boolean;
  /** Sets the thread count of the bundled GEMM (1–16); returns it. */
  setThreads(n: number): number;
}

/** What the addon reports about itself. */
export interface NativeAddonInfo {
  /** The addon was linked against OpenBLAS. */
  blasLinked: boolean;
  /** GEMM is currently delegated to OpenBLAS. */
  blas: boolean;
  /** `openblas_get_config()`, e.g. `"OpenBLAS 0.3.21 DYNAMIC_ARCH … Haswell MAX_THREADS=64"`. */
  blasLibrary?: string;
  /** OpenBLAS kernel family in use (`openblas_get_corename()`), e.g. `"Haswell"`. */
  blasCore?: string;
  /** OpenBLAS worker threads. */
  blasThreads?: number;
  /** Vector ISA of the bundled kernels: `avx512f`, `avx2+fma`, `avx`, `sse2`, `neon` or `generic`. */
  simd: string;
  /** Threads used by the bundled GEMM for large products. */
  threads: number;
  unaryOps: string[];
  binaryOps: string[];
}

/** Outcome of trying to load the addon: exactly one of `backend` / `error` is set. */
export interface NativeLoadResult {
  backend: Backend | null;
  addon: NativeAddon | null;
  info: NativeAddonInfo | null;
  /** Absolute path of the `.node` file tried, when known. */
  path: string | null;
  /** Why the addon is unavailable (not built, not Node, ABI mismatch, op tables differ …). */
  error: string | null;
}

type NodeProcess = {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
  env?: Record<string, string | undefined>;
};

let cached: NativeLoadResult | null = null;

function fail(error: string, path: string | null = null): NativeLoadResult {
  return { backend: null, addon: null, info: null, path, error };
}

/** Walks up from this module's directory to the package root (the directory whose package.json is ebm-ts). */
function findPackageRoot(fs: typeof import('node:fs'), pathMod: typeof import('node:path'), start: string): string | null {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const pj = pathMod.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'ebm-ts') return dir;
      } catch {
        // Unreadable package.json: keep walking.
      }
    }
    const up = pathMod.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** Reads build/native-build.json written by scripts/build-native.mjs, for a better error message. */
function buildReport(fs: typeof import('node:fs'), file: string): string {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as { ok?: boolean; error?: string };
    if (r.ok === false && r.error) return ` (build failed: ${r.error})`;
  } catch {
    // No report: the build never ran.
  }
  return '';
}

/** Wraps the raw addon in the {@link Backend} interface: op names become small integer codes. */
function wrap(addon: NativeAddon, info: NativeAddonInfo): Backend {
  const uCode: Record<string, number> = Object.create(null);
  UNARY_OPS.forEach((o, i) => { uCode[o] = i; });
  const bCode: Record<string, number> = Object.create(null);
  BINARY_OPS.forEach((o, i) => { bCode[o] = i; });
  const nativeGemm = addon.gemm;
  const nativeUnary = addon.unary;
  const nativeBinary = addon.binary;
  const nativeSB = addon.sigmoidBernoulli;
  return {
    name: 'native',
    get blas(): boolean { return info.blas; },
    gemm: nativeGemm,
    unary(op: UnaryOp, x: TypedArray, out: TypedArray): void {
      const code = uCode[op];
      if (code === undefined) throw new Error(`native backend: unknown unary op '${String(op)}'`);
      nativeUnary(code, x, out);
    },
    binary(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray): void {
      const code = bCode[op];
      if (code === undefined) throw new Error(`native backend: unknown binary op '${String(op)}'`);
      nativeBinary(code, a, b, out);
    },
    sigmoidBernoulli: nativeSB,
  };
}

/**
 * Loads the addon once and returns it wrapped as a {@link Backend}, or the reason it cannot be used. Never throws.
 * Cached: later calls return the same result.
 *
 * @example
 * const r = loadNativeBackend();
 * if (r.backend) setBackend(r.backend); else console.warn(r.error);
 */
export function loadNativeBackend(): NativeLoadResult {
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

/**
 * Switches the native GEMM between OpenBLAS and the bundled kernel (for benchmarks and `ebm doctor`). Returns whether
 * OpenBLAS is now used; always `false` when the addon was built without it or is not loaded.
 */
export function setNativeUseBlas(flag: boolean): boolean {
  const r = loadNativeBackend();
  if (!r.addon || !r.info) return false;
  r.info.blas = r.addon.setUseBlas(flag);
  return r.info.blas;
}

/** Sets the worker-thread count (1–16) of the bundled native GEMM; returns the count in effect, or 1 without the addon. */
export function setNativeThreads(n: number): number {
  const r = loadNativeBackend();
  if (!r.addon || !r.info) return 1;
  r.info.threads = r.addon.setThreads(n);
  return r.info.threads;
}

function tryLoad(): NativeLoadResult {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc === 'undefined' || !proc?.versions?.node) return fail('not running under Node.js');
  if (typeof proc.getBuiltinModule !== 'function') {
    return fail(`Node ${proc.versions.node} lacks process.getBuiltinModule (needs Node ≥ 20.16)`);
  }
  let file: string | null = null;
  try {
    const fs = proc.getBuiltinModule('node:fs') as typeof import('node:fs');
    const pathMod = proc.getBuiltinModule('node:path') as typeof import('node:path');
    const url = proc.getBuiltinModule('node:url') as typeof import('node:url');
    const mod = proc.getBuiltinModule('node:module') as typeof import('node:module');
    const here = pathMod.dirname(url.fileURLToPath(import.meta.url));
    const root = findPackageRoot(fs, pathMod, here);
    if (!root) return fail(`package root of ebm-ts not found above ${here}`);
    file = pathMod.join(root, 'build', 'Release', 'ebm_native.node');
    if (!fs.existsSync(file)) {
      return fail(`addon not built: ${file} is missing${buildReport(fs, pathMod.join(root, 'build', 'native-build.json'))}; run "node scripts/build-native.mjs"`, file);
    }
    const req = mod.createRequire(import.meta.url);
    const addon = req(file) as NativeAddon;
    const info = addon.info();
    if (info.unaryOps.join(',') !== UNARY_OPS.join(',') || info.binaryOps.join(',') !== BINARY_OPS.join(',')) {
      return fail(`addon ${file} is stale: its op tables differ from backend.ts; rebuild it with "node scripts/build-native.mjs"`, file);
    }
    return { backend: wrap(addon, info), addon, info, path: file, error: null };
  } catch (e) {
    return fail(`failed to load ${file ?? 'the native addon'}: ${e instanceof Error ? e.message : String(e)}`, file);
  }
}
