import { afterAll, describe, expect, it, vi } from 'vitest';
import { BINARY_OPS, GRAD_OPS, jsBackend, getBackend, setBackend, UNARY_OPS, type Backend } from '../../src/tensor/backend.js';
import { loadNativeBackend, setNativeThreads, setNativeUseBlas } from '../../src/tensor/native.js';
import { backendInfo, initBackend, measureGemmGflops } from '../../src/tensor/select.js';
import type { TypedArray } from '../../src/tensor/tensor.js';

const loaded = loadNativeBackend();
const nb = loaded.backend as Backend;
const skipMsg = loaded.backend ? '' : ` — SKIPPED: native addon not available (${loaded.error})`;
const blasLinked = loaded.info?.blasLinked ?? false;
const blasAtLoad = loaded.info?.blas ?? false;
const policyAtLoad = loaded.info?.gemmPolicy ?? '';

/** Deterministic test data in [lo, hi) from a 32-bit LCG (test fixtures only). */
function lcg(n: number, seed: number, lo = -1, hi = 1, Ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array): TypedArray {
  const a = new Ctor(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return a;
}

const EPS = { float32: 2 ** -23, float64: 2 ** -52 } as const;
type DT = keyof typeof EPS;
const CTOR = { float32: Float32Array, float64: Float64Array } as const;

/** Compares actual vs reference: equal NaN-ness / infinities, else |Δ| ≤ ulps·eps·|ref| + abs. Returns first failure. */
function mismatch(actual: ArrayLike<number>, ref: ArrayLike<number>, ulps: number, eps: number, abs = 0): string | null {
  for (let i = 0; i < ref.length; i++) {
    const a = actual[i], r = ref[i];
    if (Number.isNaN(r) || Number.isNaN(a)) {
      if (Number.isNaN(r) !== Number.isNaN(a)) return `index ${i}: got ${a}, expected ${r}`;
      continue;
    }
    if (!Number.isFinite(r) || !Number.isFinite(a)) {
      if (a !== r) return `index ${i}: got ${a}, expected ${r}`;
      continue;
    }
    if (Math.abs(a - r) > ulps * eps * Math.abs(r) + abs) return `index ${i}: got ${a}, expected ${r} (Δ=${a - r})`;
  }
  return null;
}

describe.skipIf(!loaded.backend)(`native backend${skipMsg}`, () => {
  const modes: { label: string; blas: boolean; threads: number }[] = [
    { label: 'bundled 1 thread', blas: false, threads: 1 },
    { label: 'bundled 2 threads', blas: false, threads: 2 },
    ...(blasLinked ? [{ label: 'OpenBLAS', blas: true, threads: 2 }] : []),
  ];
  const defaultThreads = loaded.info?.threads ?? 1;
  const defaultBlas = loaded.info?.blas ?? false;
  afterAll(() => {
    setNativeUseBlas(defaultBlas);
    setNativeThreads(defaultThreads);
  });

  it('GEMM policy at load: bundled kernel unless EBM_GEMM=openblas, with the reason recorded', () => {
    const env = process.env.EBM_GEMM?.trim().toLowerCase() ?? '';
    const want = blasLinked && (env === 'openblas' || env === 'blas');
    expect(blasAtLoad).toBe(want);
    expect(policyAtLoad).toMatch(want ? /^OpenBLAS/ : /^bundled kernel/);
    if (process.platform === 'linux' && process.env.EBM_MALLOC_TUNE !== '0' && !process.env.MALLOC_MMAP_THRESHOLD_ &&
        !process.env.MALLOC_TRIM_THRESHOLD_ && process.report?.getReport && (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime) {
      expect(loaded.info!.mallocTuned).toBe(true);
    }
  });

  it('reports its op tables in the same order as backend.ts', () => {
    expect(loaded.info!.unaryOps).toEqual([...UNARY_OPS]);
    expect(loaded.info!.binaryOps).toEqual([...BINARY_OPS]);
    expect(nb.name).toBe('native');
  });

  describe.each(modes)('gemm ($label)', ({ blas, threads }) => {
    const shapes: [number, number, number][] = [
      [1, 1, 1], [7, 33, 65], [65, 7, 33], [33, 65, 7], [1, 65, 33], [65, 1, 7], [2, 3100, 3],
      // Larger than one k-block (256) and one m-block (96), and big enough (≥ 3e7 flops) to be split across
      // threads along m (first) and along n (second).
      [200, 150, 520], [150, 200, 520],
    ];
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${dtype}: agrees with an exact reference and the js backend for all transposes, offsets, lds and betas`, () => {
        setNativeUseBlas(blas);
        setNativeThreads(threads);
        const Ctor = CTOR[dtype];
        let seed = 7;
        for (const [m, n, k] of shapes) {
          for (const transA of [false, true]) {
            for (const transB of [false, true]) {
              for (const [alpha, beta] of (m * n * k > 1e5 ? [[-0.7, 0.5]] : [[1, 0], [1, 1], [-0.7, 0.5]]) as [number, number][]) {
                seed++;
                const aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
                const lda = aCols + (seed % 3), ldb = bCols + ((seed >> 1) % 3), ldc = n + (seed % 2) * 3;
                const aOff = seed % 5, bOff = (seed * 3) % 4, cOff = (seed * 7) % 3;
                const a = lcg(aOff + aRows * lda, seed, -1, 1, Ctor);
                const b = lcg(bOff + bRows * ldb, seed + 1000, -1, 1, Ctor);
                const c0 = lcg(cOff + m * ldc + 2, seed + 2000, -1, 1, Ctor);
                if (beta === 0) for (let i = 0; i < c0.length; i++) if (i % 5 === 0) c0[i] = NaN; // beta=0 must ignore C
                const A = (i: number, p: number) => (transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
                const B = (p: number, j: number) => (transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);
                const ref = new Float64Array(m * n), bound = new Float64Array(m * n);
                for (let i = 0; i < m; i++) {
                  for (let j = 0; j < n; j++) {
                    let s = 0, sa = 0;
                    for (let p = 0; p < k; p++) { const t = A(i, p) * B(p, j); s += t; sa += Math.abs(t); }
                    const cv = beta === 0 ? 0 : beta * c0[cOff + i * ldc + j];
                    ref[i * n + j] = alpha * s + cv;
                    bound[i * n + j] = 2 * (k + 2) * EPS[dtype] * (Math.abs(alpha) * sa + Math.abs(cv)) + 1e-300;
                  }
                }
                const cN = c0.slice(), cJ = c0.slice();
                nb.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, cN, cOff, ldc);
                jsBackend.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, cJ, cOff, ldc);
                const where = `${dtype} m=${m} n=${n} k=${k} tA=${transA} tB=${transB} α=${alpha} β=${beta}`;
                for (let idx = 0; idx < c0.length; idx++) {
                  const rel = idx - cOff, i = Math.floor(rel / ldc), j = rel - i * ldc;
                  const inside = rel >= 0 && i < m && j < n;
                  if (!inside) {
                    // Elements outside the m×n window (offset, row padding, tail) are never touched.
                    if (!Object.is(cN[idx], c0[idx])) throw new Error(`${where}: wrote outside C at ${idx}`);
                    continue;
                  }
                  const r = ref[i * n + j], tol = bound[i * n + j];
                  if (!(Math.abs(cN[idx] - r) <= tol)) throw new Error(`${where}: native C[${i},${j}]=${cN[idx]} vs exact ${r}`);
                  if (!(Math.abs(cN[idx] - cJ[idx]) <= 2 * tol)) throw new Error(`${where}: native ${cN[idx]} vs js ${cJ[idx]}`);
                }
              }
            }
          }
        }
      });
    }

    it('handles k = 0 and alpha = 0 as C ← βC', () => {
      setNativeUseBlas(blas);
      setNativeThreads(threads);
      for (const [k, alpha] of [[0, 1], [5, 0]] as const) {
        const a = new Float32Array(4 * 5).fill(NaN), b = new Float32Array(5 * 3).fill(NaN);
        const c = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        nb.gemm(false, false, 4, 3, k, alpha, a, 0, 5, b, 0, 3, 2, c, 0, 3);
        expect(Array.from(c)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
      }
    });
  });

  it('gemm rejects out-of-range spans and mixed element types with clear errors', () => {
    const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(4);
    expect(() => nb.gemm(false, false, 2, 2, 3, 1, a, 1, 3, b, 0, 2, 0, c, 0, 2)).toThrow(/a is too short/);
    expect(() => nb.gemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, c, 1, 2)).toThrow(/c is too short/);
    expect(() => nb.gemm(false, true, 2, 3, 3, 1, a, 0, 3, b, 0, 3, 0, c, 0, 2)).toThrow(/too short/);
    expect(() => nb.gemm(false, false, 2, 2, 3, 1, a, 0, 3, new Float64Array(6), 0, 2, 0, c, 0, 2)).toThrow(/Float32Array or all Float64Array/);
    expect(() => nb.gemm(false, false, -1, 2, 3, 1, a, 0, 3, b, 0, 2, 0, c, 0, 2)).toThrow(/'m' must be a non-negative integer/);
  });

  // Inputs: a grid plus the extremes ±1e4, signed zeros, NaN and ±Infinity.
  const extremes = [1e4, -1e4, 0, -0, NaN, Infinity, -Infinity, 88.7, -88.7, 709, -745, 1e-30, -1e-30];
  const gridAll = Array.from({ length: 801 }, (_, i) => -20 + i * 0.05);
  const positive = Array.from({ length: 400 }, (_, i) => 1e-3 + i * 0.0731);
  const domain: Partial<Record<(typeof UNARY_OPS)[number], number[]>> = {
    log: [...positive, 1, 1e-30, 0, -1, NaN, Infinity, 1e30],
    sqrt: [...positive, 0, -0, -1, NaN, Infinity, 1e30],
    reciprocal: [...positive, ...positive.map((v) => -v), 0, -0, NaN, Infinity],
    log1p: [...gridAll.map((v) => v / 21), -1, -1.5, 1e-9, -1e-9, 1e4, NaN],
  };
  for (const dtype of ['float32', 'float64'] as const) {
    for (const op of UNARY_OPS) {
      it(`unary ${op} ${dtype} matches js (incl. ±1e4, NaN, ±Inf)`, () => {
        const vals = domain[op] ?? [...gridAll, ...extremes];
        const x = CTOR[dtype].from(vals);
        const out = new CTOR[dtype](x.length).fill(123), ref = new CTOR[dtype](x.length);
        nb.unary(op, x, out);
        jsBackend.unary(op, x, ref);
        // float32: C computes in single precision, JS in double then rounds; allow a few ulps (absolute slack
        // near zero for sin/cos/expm1/tanh around their roots).
        const err = mismatch(out, ref, dtype === 'float32' ? 8 : 4, EPS[dtype], dtype === 'float32' ? 1e-7 : 1e-16);
        expect(err).toBeNull();
        for (let i = 0; i < x.length; i++) {
          // Exact special cases: relu/sign map NaN to 0 like the js version.
          if ((op === 'relu' || op === 'sign' || op === 'neg' || op === 'abs') && !Object.is(out[i], ref[i])) {
            throw new Error(`${op}(${x[i]}) = ${out[i]}, js gives ${ref[i]}`);
          }
        }
        // In place (x === out) gives the same result.
        const inPlace = x.slice();
        nb.unary(op, inPlace, inPlace);
        expect(mismatch(inPlace, out, 0, 0)).toBeNull();
      });
    }
    it(`stable ops do not overflow at ±1e4 (${dtype})`, () => {
      const x = CTOR[dtype].from([1e4, -1e4]);
      const out = new CTOR[dtype](2);
      nb.unary('softplus', x, out); expect(Array.from(out)).toEqual([1e4, 0]);
      nb.unary('logSigmoid', x, out); expect(out[0] === 0 && out[1] === -1e4).toBe(true);
      nb.unary('sigmoid', x, out); expect(Array.from(out)).toEqual([1, 0]);
      nb.unary('silu', x, out); expect(out[0]).toBe(1e4); expect(out[1] === 0).toBe(true);
      nb.unary('tanh', x, out); expect(Array.from(out)).toEqual([1, -1]);
    });
  }
  it('unary rejects unknown ops, short outputs and mixed dtypes', () => {
    expect(() => nb.unary('nope' as never, new Float32Array(2), new Float32Array(2))).toThrow(/unknown unary op 'nope'/);
    expect(() => nb.unary('exp', new Float32Array(3), new Float32Array(2))).toThrow(/out is shorter than x/);
    expect(() => nb.unary('exp', new Float32Array(2), new Float64Array(2))).toThrow(/same element type/);
    expect(() => nb.unary('exp', [1, 2] as never, new Float64Array(2))).toThrow(/'x' must be a Float32Array or Float64Array/);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    for (const op of BINARY_OPS) {
      it(`binary ${op} ${dtype} matches js (elementwise, scalar broadcast, length 1)`, () => {
        const n = 501;
        const lo = op === 'pow' ? 0.01 : -3;
        const a = lcg(n, 11, lo, 3, CTOR[dtype]);
        const b = lcg(n, 12, op === 'pow' ? -2.5 : -3, 3, CTOR[dtype]);
        a[3] = NaN; b[5] = NaN; a[7] = b[7]; b[9] = 0; a[10] = 0; b[10] = 0;
        if (op === 'pow') { a[11] = 0; b[11] = 0; a[12] = -2; b[12] = 3; a[13] = -2; b[13] = 0.5; }
        for (const [bb, label] of [[b, 'elementwise'], [b.subarray(0, 1), 'scalar'], [CTOR[dtype].from([NaN]), 'NaN scalar']] as const) {
          const out = new CTOR[dtype](n), ref = new CTOR[dtype](n);
          nb.binary(op, a, bb, out);
          jsBackend.binary(op, a, bb, ref);
          const err = mismatch(out, ref, op === 'pow' ? 8 : 0, EPS[dtype], 0);
          if (err) throw new Error(`${op} ${label}: ${err}`);
        }
        const one = CTOR[dtype].from([2]), two = CTOR[dtype].from([0.5]);
        const o1 = new CTOR[dtype](1), r1 = new CTOR[dtype](1);
        nb.binary(op, one, two, o1);
        jsBackend.binary(op, one, two, r1);
        expect(o1[0]).toBeCloseTo(r1[0], 6);
      });
    }
  }
  it('binary rejects a b whose length is neither 1, ≥ a.length nor a divisor of a.length', () => {
    expect(() => nb.binary('add', new Float32Array(400), new Float32Array(3), new Float32Array(400))).toThrow(/length 1, at least a.length, or a length dividing/);
    expect(() => jsBackend.binary('add', new Float32Array(400), new Float32Array(3), new Float32Array(400))).toThrow(/neither 1/);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    for (const op of BINARY_OPS) {
      it(`binary ${op} ${dtype}: row broadcast (b repeated along a) matches js and the per-row loop`, () => {
        const rows = 37, cols = 33, n = rows * cols;
        const a = lcg(n, 31, op === 'pow' ? 0.01 : -3, 3, CTOR[dtype]);
        const b = lcg(cols, 32, op === 'pow' ? -2 : -3, 3, CTOR[dtype]);
        a[4] = NaN; b[6] = NaN;
        const out = new CTOR[dtype](n), ref = new CTOR[dtype](n), perRow = new CTOR[dtype](n);
        nb.binary(op, a, b, out);
        jsBackend.binary(op, a, b, ref);
        for (let r = 0; r < rows; r++) jsBackend.binary(op, a.subarray(r * cols, (r + 1) * cols), b, perRow.subarray(r * cols, (r + 1) * cols));
        expect(mismatch(ref, perRow, 0, EPS[dtype])).toBeNull();
        expect(mismatch(out, ref, op === 'pow' ? 8 : 0, EPS[dtype])).toBeNull();
      });
    }

    for (const op of GRAD_OPS) {
      it(`unaryGrad ${op} ${dtype}: native agrees with js and with g·f′ from the definition (with and without y)`, () => {
        const n = 1001;
        const x = lcg(n, 41, -9, 9, CTOR[dtype]);
        x[0] = 1e4; x[1] = -1e4; x[2] = NaN; x[3] = 0; x[4] = 80; x[5] = -80;
        const g = lcg(n, 42, -2, 2, CTOR[dtype]);
        const y = new CTOR[dtype](n);
        jsBackend.unary(op, x, y);
        // Reference in float64 from the textbook derivative.
        const sig = (v: number) => 1 / (1 + Math.exp(-v));
        const d: Record<string, (v: number) => number> = {
          sigmoid: (v) => sig(v) * (1 - sig(v)), logSigmoid: (v) => sig(-v), tanh: (v) => 1 - Math.tanh(v) ** 2,
          softplus: (v) => sig(v), relu: (v) => (v > 0 ? 1 : 0), silu: (v) => sig(v) * (1 + v * (1 - sig(v))),
        };
        const exact = Float64Array.from(x, (v, i) => g[i] * d[op](v));
        // f′ is bounded by 1.1 and formed as 1 − t² or s(1 − s), which cancels: an error of a few ulps of f(x) gives
        // an absolute error of a few eps·|g| in g·f′. Allowed: 16 ulps relative plus 8·eps·|g[i]| absolute.
        const check = (got: ArrayLike<number>, want: ArrayLike<number>, label: string) => {
          for (let i = 0; i < n; i++) {
            const a = got[i], r = want[i];
            if (Number.isNaN(a) || Number.isNaN(r)) {
              if (Number.isNaN(a) !== Number.isNaN(r)) throw new Error(`${op} ${label} index ${i}: got ${a}, expected ${r}`);
              continue;
            }
            if (Math.abs(a - r) > 16 * EPS[dtype] * Math.abs(r) + 8 * EPS[dtype] * Math.abs(g[i])) {
              throw new Error(`${op} ${label} index ${i} (x=${x[i]}): got ${a}, expected ${r}`);
            }
          }
        };
        for (const withY of [false, true]) {
          const out = new CTOR[dtype](n), ref = new CTOR[dtype](n);
          nb.unaryGrad(op, x, withY ? y : null, g, out);
          jsBackend.unaryGrad(op, x, withY ? y : null, g, ref);
          check(out, ref, `native vs js (y: ${withY})`);
          check(ref, exact, `js vs exact (y: ${withY})`);
        }
      });
    }

    it(`sumRows ${dtype}: native equals js bit for bit and the column sums`, () => {
      for (const [rows, cols] of [[512, 128], [3, 1], [1, 77], [0, 5]] as const) {
        const x = lcg(rows * cols, 51, -2, 2, CTOR[dtype]);
        const out = new CTOR[dtype](cols).fill(9), ref = new CTOR[dtype](cols).fill(9);
        nb.sumRows(x, rows, cols, out);
        jsBackend.sumRows(x, rows, cols, ref);
        expect(Array.from(out)).toEqual(Array.from(ref));
        for (let j = 0; j < cols; j++) {
          let s = 0;
          for (let i = 0; i < rows; i++) s += x[i * cols + j];
          expect(Math.abs(ref[j] - s)).toBeLessThanOrEqual(rows * 4 * EPS[dtype] * 2 * Math.max(1, Math.abs(s)));
        }
      }
    });
  }

  it('unaryGrad and sumRows validate their arguments', () => {
    const f = (n: number) => new Float32Array(n);
    expect(() => nb.unaryGrad('silu', f(200), null, f(100), f(200))).toThrow(/shorter than x/);
    expect(() => nb.unaryGrad('silu', f(200), null, new Float64Array(200), f(200))).toThrow(/same element type/);
    expect(() => nb.unaryGrad('exp' as never, f(200), null, f(200), f(200))).toThrow(/no fused backward/);
    expect(() => jsBackend.unaryGrad('exp' as never, f(2), null, f(2), f(2))).toThrow(/no fused backward/);
    expect(() => nb.sumRows(f(200), 3, 100, f(100))).toThrow(/shorter than rows\*cols/);
    expect(() => nb.sumRows(f(300), 3, 100, f(50))).toThrow(/out is shorter than cols/);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`sigmoidBernoulli ${dtype}: probabilities and samples agree with js`, () => {
      const rows = 37, cols = 29, n = rows * cols;
      const x = lcg(n, 21, -12, 12, CTOR[dtype]);
      x[0] = 1e4; x[1] = -1e4; x[2] = NaN;
      const bias = lcg(cols, 22, -2, 2, CTOR[dtype]);
      const u = lcg(n, 23, 0, 1, CTOR[dtype]);
      for (const withBias of [true, false]) {
        for (const withSample of [true, false]) {
          const pN = new CTOR[dtype](n), pJ = new CTOR[dtype](n);
          const sN = new CTOR[dtype](n).fill(7), sJ = new CTOR[dtype](n).fill(7);
          nb.sigmoidBernoulli(x, withBias ? bias : null, cols, pN, withSample ? u : null, withSample ? sN : null);
          jsBackend.sigmoidBernoulli(x, withBias ? bias : null, cols, pJ, withSample ? u : null, withSample ? sJ : null);
          expect(mismatch(pN, pJ, dtype === 'float32' ? 4 : 2, EPS[dtype], dtype === 'float32' ? 1e-30 : 0)).toBeNull();
          let equal = 0;
          for (let i = 0; i < n; i++) {
            if (sN[i] === sJ[i]) equal++;
            // A 1-ulp difference in p may only flip a sample when u sits within that ulp of p.
            else if (Math.abs(u[i] - pJ[i]) > 8 * EPS[dtype]) throw new Error(`sample ${i} differs: u=${u[i]}, p=${pJ[i]}`);
          }
          expect(equal).toBeGreaterThan(n - 3);
          if (!withSample) expect(sN.every((v) => v === 7)).toBe(true);
        }
      }
    });
  }
  it('sigmoidBernoulli validates its arguments', () => {
    const x = new Float32Array(6);
    expect(() => nb.sigmoidBernoulli(x, new Float32Array(2), 3, new Float32Array(6), null, null)).toThrow(/bias has fewer than cols/);
    expect(() => nb.sigmoidBernoulli(x, null, 3, new Float32Array(5), null, null)).toThrow(/prob is shorter/);
    expect(() => nb.sigmoidBernoulli(x, null, 0, new Float32Array(6), null, null)).toThrow(/cols must be positive/);
  });

  it('initBackend / backendInfo select and describe the backends', () => {
    const before = getBackend();
    try {
      expect(initBackend('js').name).toBe('js');
      expect(backendInfo()).toMatchObject({ backend: 'js', blas: false, nativeAvailable: true });
      expect(initBackend('native')).toBe(nb);
      expect(initBackend()).toBe(nb); // idempotent: no re-selection without an explicit choice
      const info = backendInfo();
      expect(info.backend).toBe('native');
      expect(info.simd).toBe(loaded.info!.simd);
      // Policy: the bundled GEMM is the default even when OpenBLAS is linked (EBM_GEMM=openblas opts in).
      const wantBlas = blasLinked && /^(openblas|blas)$/i.test(process.env.EBM_GEMM?.trim() ?? '');
      setNativeUseBlas(wantBlas);
      expect(backendInfo().blas).toBe(wantBlas);
      expect(backendInfo().gemm).toBe(wantBlas ? 'openblas' : 'bundled');
      expect(backendInfo().gemmPolicy).toMatch(wantBlas ? /OpenBLAS/ : /bundled/);
      expect(info.blasLinked).toBe(blasLinked);
      if (blasLinked) expect(info.blasLibrary).toMatch(/OpenBLAS/);
      expect(initBackend('js') && backendInfo()).toMatchObject({ gemm: 'js' });
    } finally {
      setBackend(before);
    }
  });

  it('measureGemmGflops returns a positive throughput', () => {
    const g = measureGemmGflops(32, 32, 32, 'float32', 0.01, nb);
    expect(g).toBeGreaterThan(0);
    expect(Number.isFinite(g)).toBe(true);
    expect(() => measureGemmGflops(0, 1, 1)).toThrow(/m must be a positive integer/);
  });
});

describe('backend selection from EBM_BACKEND', () => {
  const old = process.env.EBM_BACKEND;
  afterAll(() => {
    if (old === undefined) delete process.env.EBM_BACKEND; else process.env.EBM_BACKEND = old;
  });
  /** A fresh, never-initialised copy of select.ts (and of backend.ts, so the global backend is untouched). */
  async function freshSelect(env: string | undefined) {
    if (env === undefined) delete process.env.EBM_BACKEND; else process.env.EBM_BACKEND = env;
    vi.resetModules();
    const sel = await import('../../src/tensor/select.js');
    const be = await import('../../src/tensor/backend.js');
    return { sel, be };
  }
  it('EBM_BACKEND=webgpu keeps the automatic CPU choice for eager ops (the GPU runs compiled hot loops)', async () => {
    const { sel: a } = await freshSelect('webgpu');
    const name = a.initBackend().name;
    const { sel: b } = await freshSelect('auto');
    expect(name).toBe(b.initBackend().name);
  });
  it('rejects values other than js, native, webgpu and auto', async () => {
    const { sel } = await freshSelect('gpu');
    expect(() => sel.initBackend()).toThrow(/EBM_BACKEND must be 'js', 'native', 'webgpu' or 'auto', got 'gpu'/);
  });
  it('EBM_BACKEND=js forces the pure-TS backend', async () => {
    const { sel, be } = await freshSelect('js');
    expect(sel.initBackend().name).toBe('js');
    expect(be.getBackend().name).toBe('js');
    expect(sel.initBackend('js').name).toBe('js');
  });
  it('auto picks native exactly when the addon loads; EBM_BACKEND=native throws a clear error when it cannot', async () => {
    const { sel, be } = await freshSelect(undefined);
    const expected = loaded.backend ? 'native' : 'js';
    expect(sel.initBackend().name).toBe(expected);
    expect(be.getBackend().name).toBe(expected);
    expect(sel.backendInfo().backend).toBe(expected);
    const forced = await freshSelect('native');
    if (loaded.backend) expect(forced.sel.initBackend().name).toBe('native');
    else expect(() => forced.sel.initBackend()).toThrow(/EBM_BACKEND=native.*cannot be loaded/);
  });
});
