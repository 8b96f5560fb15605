import { afterEach, describe, expect, it } from 'vitest';
import { bernoulli, categorical, fillBits, key, normalInto, permutation, randint, split, uniformInto } from '../../src/random/index.js';
import { getNativeRandom, NATIVE_RANDOM_MIN_WORDS, setNativeRandom } from '../../src/random/philox.js';
import { detCos2Pi, detLog, detSin2Pi } from '../../src/random/sample.js';
import { getBackend, jsBackend, setBackend, UNARY_OPS, BINARY_OPS } from '../../src/tensor/backend.js';
import { loadNativeBackend, NATIVE_DISPATCH } from '../../src/tensor/native.js';
import { initBackend } from '../../src/tensor/select.js';
import { Tensor } from '../../src/tensor/tensor.js';

const loaded = loadNativeBackend();
const addon = loaded.addon!;
const nat = loaded.random!;
const skipMsg = loaded.backend ? '' : ` — SKIPPED: native addon not available (${loaded.error})`;

/** Index of the first element where the two arrays differ as bit patterns (Object.is), or −1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}
/** A typed array of `n` elements `f(i)`. */
function make(C: Float32ArrayConstructor | Float64ArrayConstructor, n: number, f: (i: number) => number): Float32Array | Float64Array {
  const a = new C(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}
function expectIdentical(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  const i = firstDiff(a, b);
  if (i >= 0) throw new Error(`${what}: first difference at ${i}: ${a[i]} vs ${b[i]}`);
}

/** Runs `f` with the TS generator, then with the native kernels installed. */
function jsAndNative<T>(f: () => T): [T, T] {
  const before = getNativeRandom();
  try {
    setNativeRandom(null);
    const js = f();
    setNativeRandom(nat);
    return [js, f()];
  } finally {
    setNativeRandom(before);
  }
}

const KEYS = [key(0), key(123456789), split(key(7), 3)[2], { k: [0xffffffff, 0] as const }];
const M = 1 << 20; // ≥ 1e6 numbers per kind

describe.skipIf(!loaded.backend)(`native random kernels${skipMsg}`, () => {
  const original = getNativeRandom(); // test/setup.ts installs the addon's kernels when native is selected
  afterEach(() => setNativeRandom(original));

  it('philoxFill equals the TS fillBits for several keys, domains and start offsets (incl. the 2^32 block carry)', () => {
    const cases: [number, number][] = [[0, M], [1, 4099], [3, 1001], [4 * (2 ** 32 - 3) + 1, 70], [2 ** 45 + 2, 515]];
    for (const k of KEYS) {
      for (const [start, n] of cases) {
        for (const domain of [0, 1, 3]) {
          if (n === M && domain !== 0) continue;
          const js = new Uint32Array(n), nv = new Uint32Array(n);
          setNativeRandom(null);
          fillBits(k.k[0], k.k[1], domain, js, start);
          addon.philoxFill(k.k[0], k.k[1], domain, nv, start);
          expectIdentical(nv, js, `philox key ${k.k} domain ${domain} start ${start}`);
        }
      }
    }
  });

  for (const Ctor of [Float32Array, Float64Array]) {
    it(`uniformInto ${Ctor.name}: native and TS agree bit for bit on 2^20 + 1 numbers for several keys`, () => {
      for (const k of KEYS.slice(0, 3)) {
        const [a, b] = jsAndNative(() => uniformInto(k, new Ctor(M + 1)));
        expectIdentical(b, a, `uniform ${Ctor.name} key ${k.k}`);
      }
    });
    it(`normalInto ${Ctor.name}: native and TS agree bit for bit on 2^20 + 1 numbers for several keys`, () => {
      for (const k of KEYS.slice(0, 3)) {
        const [a, b] = jsAndNative(() => normalInto(k, new Ctor(M + 1)));
        expectIdentical(b, a, `normal ${Ctor.name} key ${k.k}`);
        expect(a.every(Number.isFinite)).toBe(true);
      }
    });
    it(`randomFill ${Ctor.name} with start offsets is the matching slice of the full TS stream (odd lengths too)`, () => {
      const k = KEYS[1];
      setNativeRandom(null);
      const uRef = uniformInto(k, new Ctor(10000));
      const zRef = normalInto(k, new Ctor(10000));
      for (const [start, n] of [[0, 7], [1, 1], [13, 300], [1000, 3999], [2499, 2]] as const) {
        const u = new Ctor(n);
        addon.randomFill(0, k.k[0], k.k[1], u, start);
        expectIdentical(u, uRef.subarray(start, start + n), `uniform start ${start}`);
        const z = new Ctor(n);
        addon.randomFill(1, k.k[0], k.k[1], z, start); // start counts pairs
        expectIdentical(z, zRef.subarray(2 * start, 2 * start + n), `normal start pair ${start}`);
      }
    });
  }

  it('bernoulli, categorical, randint and permutation give identical results with native bits', () => {
    const k = key(99);
    const p = new Tensor(new Float64Array(M).map((_, i) => (i % 1000) / 999), [M]);
    const [b1, b2] = jsAndNative(() => bernoulli(k, p));
    expectIdentical(b2.data, b1.data, 'bernoulli tensor p');
    const [c1, c2] = jsAndNative(() => bernoulli(k, 0.3, [M]));
    expectIdentical(c2.data, c1.data, 'bernoulli scalar p');
    const logits = new Tensor(new Float32Array(30000).map((_, i) => Math.sin(i)), [10000, 3]);
    const [g1, g2] = jsAndNative(() => categorical(k, logits));
    expectIdentical(g2.data, g1.data, 'categorical');
    const [r1, r2] = jsAndNative(() => randint(k, -5, 1000003, [20000]));
    expectIdentical(r2.data, r1.data, 'randint');
    const [q1, q2] = jsAndNative(() => permutation(k, 5000));
    expectIdentical(q2, q1, 'permutation');
  });

  it('randomMath (C detLog / detSin2Pi / detCos2Pi) equals the TS functions on 2^20 inputs and special values', () => {
    const x = new Float64Array(M);
    let s = 12345;
    for (let i = 0; i < M; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const r = s / 2 ** 32;
      // positive doubles over the whole exponent range, uniforms in [0, 1), and signed values for sin/cos
      x[i] = i % 3 === 0 ? 2 ** (r * 2098 - 1074) : i % 3 === 1 ? r : (r - 0.5) * 2 ** ((i % 97) - 40);
    }
    x.set([0, -0, -1, NaN, Infinity, -Infinity, 5e-324, 2.2250738585072014e-308, 1, 0.5, 0.25, 0.125, 2 ** 49, 2 ** 52 + 0.5 * 0, -(2 ** 60)]);
    for (const [kind, f] of [[0, detLog], [1, detSin2Pi], [2, detCos2Pi]] as const) {
      const out = new Float64Array(M);
      addon.randomMath(kind, x, out);
      const ref = new Float64Array(M);
      for (let i = 0; i < M; i++) ref[i] = f(x[i]);
      expectIdentical(out, ref, `randomMath kind ${kind}`);
    }
  });

  it('routes only requests of ≥ NATIVE_RANDOM_MIN_WORDS words to the native kernels', () => {
    const calls: string[] = [];
    setNativeRandom({
      fillBits: (...a) => { calls.push('bits'); nat.fillBits(...a); },
      uniform: (...a) => { calls.push('uniform'); nat.uniform(...a); },
      normal: (...a) => { calls.push('normal'); nat.normal(...a); },
    });
    const k = key(1);
    uniformInto(k, new Float32Array(NATIVE_RANDOM_MIN_WORDS - 1));
    normalInto(k, new Float64Array(NATIVE_RANDOM_MIN_WORDS / 4 - 2));
    expect(calls).toEqual([]);
    uniformInto(k, new Float32Array(NATIVE_RANDOM_MIN_WORDS));
    normalInto(k, new Float64Array(NATIVE_RANDOM_MIN_WORDS / 2));
    bernoulli(k, 0.5, [NATIVE_RANDOM_MIN_WORDS]);
    expect(calls).toEqual(['uniform', 'normal', 'bits']);
  });

  it('initBackend installs the native random kernels for native and removes them for js', () => {
    const before = getBackend();
    try {
      initBackend('native');
      expect(getNativeRandom()).toBe(nat);
      initBackend('js');
      expect(getNativeRandom()).toBeNull();
    } finally {
      setBackend(before);
      setNativeRandom(original);
    }
  });

  it('rejects bad arguments with clear errors', () => {
    expect(() => addon.philoxFill(1, 2, 0, new Float32Array(4) as never, 0)).toThrow(/'out' must be a Uint32Array/);
    expect(() => addon.philoxFill(-1, 2, 0, new Uint32Array(4), 0)).toThrow(/'k0' must be an integer in \[0, 2\^32\)/);
    expect(() => addon.philoxFill(1, 2, 0, new Uint32Array(4), 2 ** 53)).toThrow(/startWord/);
    expect(() => addon.randomFill(2 as never, 1, 2, new Float32Array(4), 0)).toThrow(/kind must be 0/);
    expect(() => addon.randomFill(0, 1, 2, new Uint32Array(4) as never, 0)).toThrow(/'out' must be a Float32Array/);
    expect(() => addon.randomMath(0, new Float32Array(2) as never, new Float64Array(2))).toThrow(/Float64Array/);
  });
});

describe.skipIf(!loaded.backend)(`native dispatch thresholds${skipMsg}`, () => {
  const nb = loaded.backend!;
  it('small calls run the TS kernel (identical results); the raw addon kernels still agree with TS at small sizes', () => {
    for (const Ctor of [Float32Array, Float64Array]) {
      const tol = Ctor === Float32Array ? 8 * 2 ** -23 : 4 * 2 ** -52;
      for (const n of [1, 5, NATIVE_DISPATCH.transcendental - 1]) {
        const x = make(Ctor, n, (i) => 0.37 * (i + 1) - 1.3);
        UNARY_OPS.forEach((op, code) => {
          const xs = op === 'log' || op === 'sqrt' ? make(Ctor, n, (i) => Math.abs(x[i])) : x;
          const viaBackend = new Ctor(n), ref = new Ctor(n), raw = new Ctor(n);
          nb.unary(op, xs, viaBackend);
          jsBackend.unary(op, xs, ref);
          addon.unary(code, xs, raw);
          expectIdentical(viaBackend, ref, `dispatched ${op} n=${n}`);
          for (let i = 0; i < n; i++) {
            if (!(Math.abs(raw[i] - ref[i]) <= tol * Math.abs(ref[i]) + 1e-7)) throw new Error(`raw ${op}(${xs[i]}) = ${raw[i]} vs ${ref[i]}`);
          }
        });
        BINARY_OPS.forEach((op, code) => {
          const a = op === 'pow' ? make(Ctor, n, (i) => Math.abs(x[i])) : x, b = make(Ctor, n, (i) => x[i] * 0.5 + 0.1);
          const viaBackend = new Ctor(n), ref = new Ctor(n), raw = new Ctor(n);
          nb.binary(op, a, b, viaBackend);
          jsBackend.binary(op, a, b, ref);
          addon.binary(code, a, b, raw);
          expectIdentical(viaBackend, ref, `dispatched ${op} n=${n}`);
          for (let i = 0; i < n; i++) {
            if (!(Math.abs(raw[i] - ref[i]) <= tol * Math.abs(ref[i]))) throw new Error(`raw ${op}: ${raw[i]} vs ${ref[i]}`);
          }
        });
      }
    }
  });

  it('tiny GEMMs (TS triple loop) and the raw addon GEMM match an exact reference for all transposes', () => {
    for (const [m, n, k] of [[1, 1, 1], [3, 4, 5], [6, 6, 7], [2, 9, 1]]) {
      expect(m * n * k).toBeLessThan(NATIVE_DISPATCH.gemmMNK);
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const [alpha, beta] of [[1, 0], [-0.5, 2]]) {
            const lda = (tA ? m : k) + 1, ldb = (tB ? k : n) + 2, ldc = n + 1;
            const a = Float64Array.from({ length: 1 + (tA ? k : m) * lda }, (_, i) => Math.sin(i + 1));
            const b = Float64Array.from({ length: 2 + (tB ? n : k) * ldb }, (_, i) => Math.cos(i + 2));
            const c0 = Float64Array.from({ length: m * ldc + 1 }, (_, i) => (beta === 0 && i % 3 === 0 ? NaN : i * 0.25));
            const A = (i: number, p: number) => (tA ? a[1 + p * lda + i] : a[1 + i * lda + p]);
            const B = (p: number, j: number) => (tB ? b[2 + j * ldb + p] : b[2 + p * ldb + j]);
            const viaBackend = c0.slice(), raw = c0.slice();
            nb.gemm(tA, tB, m, n, k, alpha, a, 1, lda, b, 2, ldb, beta, viaBackend, 0, ldc);
            addon.gemm(tA, tB, m, n, k, alpha, a, 1, lda, b, 2, ldb, beta, raw, 0, ldc);
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                let s = 0;
                for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
                const ref = alpha * s + (beta === 0 ? 0 : beta * c0[i * ldc + j]);
                for (const [got, who] of [[viaBackend[i * ldc + j], 'dispatched'], [raw[i * ldc + j], 'raw']] as const) {
                  if (!(Math.abs(got - ref) <= 1e-13 * (1 + Math.abs(ref)))) throw new Error(`${who} gemm ${m}x${n}x${k} tA=${tA} tB=${tB}: ${got} vs ${ref}`);
                }
              }
              // row padding untouched
              expect(viaBackend[i * ldc + n]).toBe(c0[i * ldc + n]);
            }
          }
        }
      }
    }
  });

  it('small invalid calls still throw the addon errors', () => {
    const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(4);
    expect(() => nb.gemm(false, false, 2, 2, 3, 1, a, 1, 3, b, 0, 2, 0, c, 0, 2)).toThrow(/a is too short/);
    expect(() => nb.gemm(false, false, 2, 2, 3, 1, a, 0, 3, new Float64Array(6), 0, 2, 0, c, 0, 2)).toThrow(/Float32Array or all Float64Array/);
    expect(() => nb.unary('exp', new Float32Array(3), new Float32Array(2))).toThrow(/out is shorter than x/);
    expect(() => nb.binary('add', new Float32Array(4), new Float32Array(3), new Float32Array(4))).toThrow(/length 1, at least a.length, or a length dividing/);
    expect(() => nb.sigmoidBernoulli(new Float32Array(6), new Float32Array(2), 3, new Float32Array(6), null, null)).toThrow(/bias has fewer/);
  });
});
