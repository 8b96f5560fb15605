/**
 * Loader of the native Node addon (`build/Release/ebm_native.node`, plain C over N-API, optional OpenBLAS).
 *
 * This module has no static Node imports: Node built-ins are reached through `process.getBuiltinModule` (Node ≥
 * 20.16) only when running under Node, so a browser bundle that includes it simply gets `null` from
 * {@link loadNativeBackend}. Only `select.ts` imports this module.
 */
import { BINARY_OPS, GRAD_OPS, jsBackend, UNARY_OPS, type Backend, type BinaryOp, type GradOp, type UnaryOp } from './backend.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';
import type { NativeRandom } from './randomHook.js';
import type { Conv2dGeom, Conv2dKind, ImageKernels } from './imageTypes.js';
import { jsImageKernels } from './imageKernels.js';
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
  /** Fused activation backward; `code` indexes UNARY_OPS and must name one of GRAD_OPS. */
  unaryGrad(code: number, x: TypedArray, y: TypedArray | null, g: TypedArray, out: TypedArray): void;
  /** Column sums of a row-major `rows × cols` matrix. */
  sumRows(x: TypedArray, rows: number, cols: number, out: TypedArray): void;
  sigmoidBernoulli(x: TypedArray, bias: TypedArray | null, cols: number, prob: TypedArray, u: TypedArray | null, sample: TypedArray | null): void;
  /** Convolution kernels (native/conv.c); `kind` as in {@link Conv2dKind}. Absent in addons built before them. */
  conv2d?(
    kind: Conv2dKind, a: TypedArray, b: TypedArray, bias: TypedArray | null, out: TypedArray,
    n: number, c: number, h: number, w: number, o: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number,
  ): void;
  info(): NativeAddonInfo;
  /** Turns delegation to OpenBLAS on or off at run time (no effect without OpenBLAS); returns the new state. */
  setUseBlas(flag: boolean): boolean;
  /** Sets the thread count of the bundled GEMM (1–16); returns it. */
  setThreads(n: number): number;
  /** Philox4x32-10 stream words `startWord…` of `(k0, k1, domain)` into `out` (as `fillBits` in src/random/philox.ts). */
  philoxFill(k0: number, k1: number, domain: number, out: Uint32Array, startWord: number): void;
  /**
   * `kind` 0: uniforms, element `i` = element `start + i` of `uniformInto`; `kind` 1: normals, pair `p` = pair
   * `start + p` of `normalInto` (src/random/sample.ts), bit-identical.
   */
  randomFill(kind: 0 | 1, k0: number, k1: number, out: Float32Array | Float64Array, start: number): void;
  /** `kind` 0: `detLog(x)`, 1: `detSin2Pi(x)`, 2: `detCos2Pi(x)` of src/random/sample.ts, elementwise (for tests). */
  randomMath(kind: 0 | 1 | 2, x: Float64Array, out: Float64Array): void;
}

/** What the addon reports about itself. */
export interface NativeAddonInfo {
  /** The addon was linked against OpenBLAS. */
  blasLinked: boolean;
  /** GEMM is currently delegated to OpenBLAS. */
  blas: boolean;
  /** Why GEMM uses OpenBLAS or the bundled kernel (set by the loader, see {@link gemmPolicy}). */
  gemmPolicy?: string;
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
  /**
   * The addon raised glibc's mmap/trim thresholds at load (32/64 MiB) so large op outputs are recycled inside the
   * heap instead of being mmap-ed and page-faulted afresh each time (`EBM_MALLOC_TUNE=0` disables it).
   */
  mallocTuned?: boolean;
  unaryOps: string[];
  binaryOps: string[];
  /** The conv kernels take a bias of `n·o` entries (one row per image); absent in addons built before it. */
  convSampleBias?: boolean;
}

/** Outcome of trying to load the addon: exactly one of `backend` / `error` is set. */
export interface NativeLoadResult {
  backend: Backend | null;
  /** The addon's bulk random kernels, to install with `setNativeRandom` (`randomHook.ts`, read by src/random) when native is chosen. */
  random: NativeRandom | null;
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
  return { backend: null, random: null, addon: null, info: null, path, error };
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

/**
 * The command that rebuilds the addon: `npm rebuild ebm-ts` where ebm-ts is installed as a dependency (its root lies
 * in a `node_modules` folder), `npm run build:native` in a checkout of ebm-ts itself.
 */
export function rebuildCommand(pathMod: { readonly sep: string }, root: string): string {
  return root.split(pathMod.sep).includes('node_modules') ? 'npm rebuild ebm-ts' : 'npm run build:native';
}

/** Reads build/native-build.json written by scripts/build-native.mjs, for a better error message. */
function buildReport(fs: typeof import('node:fs'), file: string): string {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as { ok?: boolean; error?: string; log?: string };
    if (r.ok === false && r.error) return ` (build failed: ${r.error}${r.log ? `; full log: ${r.log}` : ''})`;
  } catch {
    // No report: the build never ran.
  }
  return '';
}

/**
 * Below these sizes the native backend runs the pure-TS kernel instead: an N-API call costs ~0.2–1 µs (more on a
 * loaded machine), more than the whole computation on a few elements. Measured crossovers (Node 20, AVX-512 box):
 * `add` ≈ 90 elements, `exp` ≈ 30 elements, GEMM ≈ 250 multiply-adds (the TS fallback for tiny products is a
 * plain triple loop; the packed TS GEMM allocates panels and is slower there).
 */
export const NATIVE_DISPATCH = {
  /** Cheap elementwise ops (`neg`, `sqrt`, `square`, `abs`, `relu`, `sign`, `reciprocal`, binary `add…min`): n below this runs in TS. */
  elementwise: 96,
  /** Transcendental ops (`exp`, `log`, `sin`, `sigmoid`, `pow`, … and `sigmoidBernoulli`): n below this runs in TS. */
  transcendental: 32,
  /** GEMM with `m·n·k` below this runs in TS. */
  gemmMNK: 256,
} as const;

const CHEAP_UNARY: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['neg', 'sqrt', 'square', 'abs', 'relu', 'sign', 'reciprocal']);

function isFloatArray(x: unknown): x is Float32Array | Float64Array {
  return x instanceof Float32Array || x instanceof Float64Array;
}

function natInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Same test as `span_ok` in native/ebm_native.c: every index `off + r·ld + c` lies inside `len`. */
function spanOk(off: number, rows: number, cols: number, ld: number, len: number): boolean {
  if (rows === 0 || cols === 0) return off <= len;
  return off + (rows - 1) * ld + (cols - 1) < len;
}

/**
 * Whether a GEMM call is small and valid (same checks as the addon), so that the TS loop may run it; invalid calls
 * go to the addon, which throws its usual error.
 */
function smallGemmOk(
  transA: boolean, transB: boolean, m: number, n: number, k: number, a: TypedArray, aOff: number, lda: number,
  b: TypedArray, bOff: number, ldb: number, c: TypedArray, cOff: number, ldc: number, alpha: number,
): boolean {
  if (!natInt(m) || !natInt(n) || !natInt(k) || m * n * k >= NATIVE_DISPATCH.gemmMNK) return false;
  if (!natInt(aOff) || !natInt(lda) || !natInt(bOff) || !natInt(ldb) || !natInt(cOff) || !natInt(ldc)) return false;
  if (!isFloatArray(a) || a.constructor !== b.constructor || a.constructor !== c.constructor) return false;
  if (m === 0 || n === 0) return true;
  if (!spanOk(cOff, m, n, ldc, c.length)) return false;
  if (k > 0 && alpha !== 0) {
    if (!spanOk(aOff, transA ? k : m, transA ? m : k, lda, a.length)) return false;
    if (!spanOk(bOff, transB ? n : k, transB ? k : n, ldb, b.length)) return false;
  }
  return true;
}

/**
 * `C ← α·op(A)·op(B) + β·C` by a plain triple loop in float64 (products too small for packing to pay off).
 * `β = 0` ignores the old `C` (NaN included), like the other kernels.
 */
function gemmTiny(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number,
  beta: number, c: TypedArray, cOff: number, ldc: number,
): void {
  const ra = transA ? 1 : lda, pa = transA ? lda : 1; // A(i, p) = a[aOff + i·ra + p·pa]
  const cb = transB ? ldb : 1, pb = transB ? 1 : ldb; // B(p, j) = b[bOff + j·cb + p·pb]
  const dot = alpha !== 0 && k > 0;
  for (let i = 0; i < m; i++) {
    const ai = aOff + i * ra, ci = cOff + i * ldc;
    for (let j = 0; j < n; j++) {
      let s = 0;
      if (dot) for (let p = 0, ia = ai, ib = bOff + j * cb; p < k; p++, ia += pa, ib += pb) s += a[ia] * b[ib];
      const ab = dot ? alpha * s : 0;
      c[ci + j] = beta === 0 ? ab : ab + beta * c[ci + j];
    }
  }
}

/** Wraps the raw addon in the {@link Backend} interface: op names become small integer codes; tiny calls run in TS. */
function wrap(addon: NativeAddon, info: NativeAddonInfo): Backend {
  const uCode: Record<string, number> = Object.create(null);
  UNARY_OPS.forEach((o, i) => { uCode[o] = i; });
  const bCode: Record<string, number> = Object.create(null);
  BINARY_OPS.forEach((o, i) => { bCode[o] = i; });
  const gCode: Record<string, number> = Object.create(null);
  GRAD_OPS.forEach((o) => { gCode[o] = UNARY_OPS.indexOf(o); });
  const nativeGemm = addon.gemm;
  const nativeUnary = addon.unary;
  const nativeBinary = addon.binary;
  const nativeSB = addon.sigmoidBernoulli;
  const nativeUG = addon.unaryGrad;
  const nativeSR = addon.sumRows;
  const { elementwise: minElem, transcendental: minTrans } = NATIVE_DISPATCH;
  const nativeConv = addon.conv2d;
  const image: ImageKernels | undefined = nativeConv
    ? {
        conv2d(kind: Conv2dKind, g: Conv2dGeom, a: TypedArray, b: TypedArray, bias: TypedArray | null, out: TypedArray): void {
          // An addon built before per-image biases would read only the first row: such calls take the TS kernels.
          if (bias && bias.length !== g.o && !info.convSampleBias) {
            jsImageKernels.conv2d(kind, g, a, b, bias, out);
            return;
          }
          try {
            nativeConv(kind, a, b, bias, out, g.n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw);
          } catch (e) {
            // The addon throws plain RangeError / TypeError; callers match on the library's error classes.
            if (e instanceof RangeError) throw new InvalidArgumentError(`conv2d (native): ${e.message}`);
            if (e instanceof TypeError) throw new InvalidTypeError(`conv2d (native): ${e.message}`);
            throw e;
          }
        },
      }
    : undefined;
  return {
    image,
    name: 'native',
    get blas(): boolean { return info.blas; },
    gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc): void {
      if (m * n * k < NATIVE_DISPATCH.gemmMNK && smallGemmOk(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, alpha)) {
        gemmTiny(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        return;
      }
      nativeGemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    },
    unary(op: UnaryOp, x: TypedArray, out: TypedArray): void {
      const code = uCode[op];
      if (code === undefined) throw new Error(`native backend: unknown unary op '${String(op)}'`);
      if (x.length < (CHEAP_UNARY.has(op) ? minElem : minTrans) && isFloatArray(x) && x.constructor === out.constructor && out.length >= x.length) {
        jsBackend.unary(op, x, out);
        return;
      }
      nativeUnary(code, x, out);
    },
    binary(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray): void {
      const code = bCode[op];
      if (code === undefined) throw new Error(`native backend: unknown binary op '${String(op)}'`);
      if (a.length < (op === 'pow' ? minTrans : minElem) && isFloatArray(a) && a.constructor === b.constructor &&
          a.constructor === out.constructor && out.length >= a.length &&
          (b.length === 1 || b.length >= a.length || (b.length > 0 && a.length % b.length === 0))) {
        jsBackend.binary(op, a, b, out);
        return;
      }
      nativeBinary(code, a, b, out);
    },
    unaryGrad(op: GradOp, x: TypedArray, y: TypedArray | null, g: TypedArray, out: TypedArray): void {
      const code = gCode[op];
      if (code === undefined) throw new Error(`native backend: op '${String(op)}' has no fused backward`);
      if (x.length < (op === 'relu' ? minElem : minTrans) && isFloatArray(x) && x.constructor === g.constructor &&
          x.constructor === out.constructor && (y === null || (y.constructor === x.constructor && y.length >= x.length)) &&
          g.length >= x.length && out.length >= x.length) {
        jsBackend.unaryGrad(op, x, y, g, out);
        return;
      }
      nativeUG(code, x, y, g, out);
    },
    sumRows(x: TypedArray, rows: number, cols: number, out: TypedArray): void {
      if (rows * cols < minElem && isFloatArray(x) && x.constructor === out.constructor && natInt(rows) && natInt(cols) &&
          x.length >= rows * cols && out.length >= cols) {
        jsBackend.sumRows(x, rows, cols, out);
        return;
      }
      nativeSR(x, rows, cols, out);
    },
    sigmoidBernoulli(x, bias, cols, prob, u, sample): void {
      const n = x.length;
      if (n < minTrans && isFloatArray(x) && prob.constructor === x.constructor && prob.length >= n && natInt(cols) &&
          (n === 0 || cols > 0) && (bias === null || (bias.constructor === x.constructor && bias.length >= cols)) &&
          (u === null || u.constructor === x.constructor) && (sample === null || sample.constructor === x.constructor) &&
          (u === null || sample === null || (u.length >= n && sample.length >= n))) {
        jsBackend.sigmoidBernoulli(x, bias, cols, prob, u === null || sample === null ? null : u, u === null || sample === null ? null : sample);
        return;
      }
      nativeSB(x, bias, cols, prob, u, sample);
    },
  };
}

/** The addon's random kernels as the hook of src/random (`setNativeRandom`). */
function wrapRandom(addon: NativeAddon): NativeRandom {
  const fill = addon.philoxFill;
  const rf = addon.randomFill;
  return {
    fillBits: fill,
    uniform(k0, k1, out, start): void { rf(0, k0, k1, out, start); },
    normal(k0, k1, out, startPair): void { rf(1, k0, k1, out, startPair); },
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
 * Default choice between OpenBLAS and the bundled GEMM when the addon links both, and why. Measured on the 2-core
 * AVX-512 dev/CI box (OpenBLAS 0.3.21, OPENBLAS_CORETYPE=Haswell, machine under load, float32; µs of CPU per call,
 * OpenBLAS vs bundled 1 thread): 512×128×128 302 vs 162, 128×128ᵀ×512 230 vs 130, 100×500×784 1292 vs 739,
 * 128×256×784 2389 vs 674, 1024³ 27 ms vs 18 ms — the bundled kernel was faster on every shape the benchmarks use,
 * in CPU and in wall time. So the bundled kernel is the default; `EBM_GEMM=openblas` (or {@link setNativeUseBlas})
 * opts into OpenBLAS, `EBM_GEMM=bundled` states the default explicitly.
 */
export const GEMM_POLICY_DEFAULT = 'bundled' as const;

/** Sets the addon's GEMM from `EBM_GEMM` (`openblas` | `bundled` | unset) and records the reason in `info.gemmPolicy`. */
function applyGemmPolicy(addon: NativeAddon, info: NativeAddonInfo, env: string | undefined): void {
  const v = env?.trim().toLowerCase() ?? '';
  if (v !== '' && v !== 'openblas' && v !== 'blas' && v !== 'bundled') {
    throw new Error(`EBM_GEMM must be 'openblas' or 'bundled', got '${env}'`);
  }
  if (!info.blasLinked) {
    info.blas = false;
    info.gemmPolicy = v === 'openblas' || v === 'blas'
      ? 'bundled kernel (EBM_GEMM=openblas ignored: the addon was built without OpenBLAS)'
      : 'bundled kernel (addon built without OpenBLAS)';
    return;
  }
  const useBlas = v === 'openblas' || v === 'blas';
  info.blas = addon.setUseBlas(useBlas);
  info.gemmPolicy = useBlas
    ? 'OpenBLAS (EBM_GEMM=openblas)'
    : v === 'bundled'
      ? 'bundled kernel (EBM_GEMM=bundled; OpenBLAS linked but unused)'
      : 'bundled kernel (default: measured faster than OpenBLAS on this engine\'s GEMM sizes; EBM_GEMM=openblas to switch)';
}

/**
 * Switches the native GEMM between OpenBLAS and the bundled kernel (for benchmarks and `ebm doctor`). Returns whether
 * OpenBLAS is now used; always `false` when the addon was built without it or is not loaded.
 */
export function setNativeUseBlas(flag: boolean): boolean {
  const r = loadNativeBackend();
  if (!r.addon || !r.info) return false;
  r.info.blas = r.addon.setUseBlas(flag);
  if (r.info.blasLinked) r.info.gemmPolicy = r.info.blas ? 'OpenBLAS (setNativeUseBlas(true))' : 'bundled kernel (setNativeUseBlas(false))';
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
    const rebuild = rebuildCommand(pathMod, root);
    if (!fs.existsSync(file)) {
      return fail(`addon not built: ${file} is missing${buildReport(fs, pathMod.join(root, 'build', 'native-build.json'))}; run "${rebuild}"`, file);
    }
    const req = mod.createRequire(import.meta.url);
    const addon = req(file) as NativeAddon;
    const info = addon.info();
    if (info.unaryOps.join(',') !== UNARY_OPS.join(',') || info.binaryOps.join(',') !== BINARY_OPS.join(',')) {
      return fail(`addon ${file} is stale: its op tables differ from backend.ts; rebuild it with "${rebuild}"`, file);
    }
    if (typeof addon.philoxFill !== 'function' || typeof addon.randomFill !== 'function') {
      return fail(`addon ${file} is stale: it lacks the random kernels; rebuild it with "${rebuild}"`, file);
    }
    if (typeof addon.unaryGrad !== 'function' || typeof addon.sumRows !== 'function') {
      return fail(`addon ${file} is stale: it lacks the unaryGrad/sumRows kernels; rebuild it with "${rebuild}"`, file);
    }
    applyGemmPolicy(addon, info, proc.env?.EBM_GEMM);
    return { backend: wrap(addon, info), random: wrapRandom(addon), addon, info, path: file, error: null };
  } catch (e) {
    return fail(`failed to load ${file ?? 'the native addon'}: ${e instanceof Error ? e.message : String(e)}`, file);
  }
}
