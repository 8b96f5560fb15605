import { describe, expect, it } from 'vitest';
import {
  bernoulli, categorical, Domain, fillBits, foldIn, key, keyData, keyEquals, keyFromData, normal, normalArray,
  permutation, permutationTensor, philox4x32, randint, randintArray, randomBits, split, uniform, uniformArray,
  WordStream,
} from '../../src/random/index.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';

/**
 * Upper quantile of χ²(df) at standard-normal level z (Wilson–Hilferty). z = 4.75 is a one-sided tail of 1e-6,
 * so a correct generator fails these tests about once in a million runs.
 */
function chi2Quantile(df: number, z = 4.75): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}
const Z = 5; // two-sided normal tolerance in standard errors (~6e-7)

function chi2(counts: number[], probs: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  let s = 0;
  for (let i = 0; i < counts.length; i++) s += (counts[i] - n * probs[i]) ** 2 / (n * probs[i]);
  return s;
}

function moments(x: ArrayLike<number>): { mean: number; m2: number; m4: number } {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  let m2 = 0, m4 = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  return { mean, m2: m2 / x.length, m4: m4 / x.length };
}

describe('Philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    const hex = (a: number[]) => a.map((x) => x.toString(16).padStart(8, '0')).join(' ');
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    expect(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])))
      .toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])))
      .toBe('d16cfe09 94fdcceb 5001e420 24126ea1');
  });

  it('the unrolled bulk generator agrees with the reference block function, at any offset', () => {
    const [k0, k1] = [0xa4093822, 0x299f31d0];
    const out = new Uint32Array(64);
    fillBits(k0, k1, Domain.bits, out);
    for (let b = 0; b < 16; b++) expect(Array.from(out.subarray(4 * b, 4 * b + 4))).toEqual(philox4x32([b, 0, 0, 0], [k0, k1]));
    const part = new Uint32Array(13);
    fillBits(k0, k1, Domain.bits, part, 7);
    expect(Array.from(part)).toEqual(Array.from(out.subarray(7, 20)));
    // block index ≥ 2^32 goes to counter word 1, and the domain to word 2
    const hi = new Uint32Array(8);
    const b0 = 2 ** 32 - 1;
    fillBits(k0, k1, Domain.split, hi, 4 * b0);
    expect(Array.from(hi.subarray(0, 4))).toEqual(philox4x32([0xffffffff, 0, Domain.split, 0], [k0, k1]));
    expect(Array.from(hi.subarray(4, 8))).toEqual(philox4x32([0, 1, Domain.split, 0], [k0, k1]));
  });

  it('WordStream reads the same stream regardless of chunk size', () => {
    const a = new WordStream(5, 6, 0, 3, 4);
    const b = new WordStream(5, 6, 0, 3, 1000);
    const ref = new Uint32Array(50);
    fillBits(5, 6, 0, ref, 3);
    for (let i = 0; i < 50; i++) {
      expect(a.word()).toBe(ref[i]);
      expect(b.word()).toBe(ref[i]);
    }
  });
});

describe('keys', () => {
  it('are deterministic, JSON-serialisable and validated', () => {
    expect(keyData(key(42))).toEqual(keyData(key(42)));
    expect(keyEquals(key(1), key(2))).toBe(false);
    const k = key(2 ** 53 - 1);
    const back = keyFromData(JSON.parse(JSON.stringify(k)) as { k: number[] });
    expect(keyEquals(back, k)).toBe(true);
    expect(keyEquals(keyFromData(keyData(k)), k)).toBe(true);
    expect(Object.isFrozen(k)).toBe(true);
    expect(() => key(-1)).toThrow(/non-negative/);
    expect(() => key(1.5)).toThrow(/seed/);
    expect(() => uniform(7 as never, [2])).toThrow(/expected a random Key/);
    expect(() => keyFromData([1, 2 ** 32])).toThrow(/keyFromData/);
  });

  it('split and foldIn give distinct keys, different from the parent and from each other', () => {
    const k = key(0);
    const kids = split(k, 2000);
    const folds = Array.from({ length: 2000 }, (_, i) => foldIn(k, i));
    const seen = new Set<string>([keyData(k).join(',')]);
    for (const c of [...kids, ...folds]) seen.add(keyData(c).join(','));
    expect(seen.size).toBe(4001);
    expect(keyData(split(k)[1])).toEqual(keyData(kids[1])); // split(k, 2) is a prefix of split(k, n)
    // independent-looking: child streams are uncorrelated (|r| within 5 SE of 0)
    const n = 20000;
    const a = uniformArray(kids[0], n, 'float64');
    const b = uniformArray(kids[1], n, 'float64');
    let r = 0;
    for (let i = 0; i < n; i++) r += (a[i] - 0.5) * (b[i] - 0.5);
    r = (r / n) * 12;
    expect(Math.abs(r)).toBeLessThan(Z / Math.sqrt(n));
  });
});

describe('uniform', () => {
  it('depends only on the key and is prefix-consistent', () => {
    const k = key(3);
    const a = uniformArray(k, 10000);
    uniformArray(key(99), 123); // unrelated call in between
    const b = uniformArray(k, 10000);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(uniformArray(k, 37))).toEqual(Array.from(a.subarray(0, 37)));
    expect(Array.from(uniformArray(k, 9, 'float64'))).toEqual(Array.from(uniformArray(k, 10, 'float64').subarray(0, 9)));
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: in [0,1), mean 1/2 and variance 1/12 within Monte Carlo error`, () => {
      const n = 200000;
      const u = uniformArray(key(11), n, dtype);
      expect(u).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < n; i++) {
        lo = Math.min(lo, u[i]);
        hi = Math.max(hi, u[i]);
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThan(1);
      const m = moments(u);
      expect(Math.abs(m.mean - 0.5)).toBeLessThan(Z * Math.sqrt(1 / 12 / n));
      // Var(sample variance) ≈ (μ4 − σ⁴)/n with μ4 = 1/80, σ⁴ = 1/144
      expect(Math.abs(m.m2 - 1 / 12)).toBeLessThan(Z * Math.sqrt((1 / 80 - 1 / 144) / n));
      // 24 / 53 bits: float32 values are multiples of 2^-24
      if (dtype === 'float32') for (let i = 0; i < 100; i++) expect(Number.isInteger(u[i] * 2 ** 24)).toBe(true);
      else expect(Array.from(u.subarray(0, 100)).some((v) => !Number.isInteger(v * 2 ** 32))).toBe(true);
    });
  }

  it('tensor form honours low/high/dtype and never reaches high', () => {
    const t = uniform(key(5), [100, 3], { low: -2, high: 3, dtype: 'float64' });
    expect(t.shape).toEqual([100, 3]);
    expect(t.dtype).toBe('float64');
    expect(Math.min(...t.data)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...t.data)).toBeLessThan(3);
    const narrow = uniform(key(6), [10000], { low: 1, high: 1 + 2 ** -20 });
    expect(narrow.data.every((v) => v < 1 + 2 ** -20 && v >= 1)).toBe(true);
    expect(uniform(key(1), [2, 0]).size).toBe(0);
    expect(() => uniform(key(1), [2], { low: 1, high: 1 })).toThrow(/low < high/);
    expect(() => uniform(key(1), [2, -1])).toThrow(/shape/);
  });
});

describe('normal', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: mean 0, variance 1, kurtosis 3 within Monte Carlo error`, () => {
      const n = 200000;
      const z = normalArray(key(21), n, dtype);
      const m = moments(z);
      expect(Math.abs(m.mean)).toBeLessThan(Z / Math.sqrt(n));
      expect(Math.abs(m.m2 - 1)).toBeLessThan(Z * Math.sqrt(2 / n)); // Var(s²) = (μ4 − 1)/n = 2/n
      expect(Math.abs(m.m4 - 3)).toBeLessThan(Z * Math.sqrt(96 / n)); // Var(m4) = (μ8 − μ4²)/n = (105 − 9)/n
      // tail: P(|z| > 3) = 0.0026998
      let tail = 0;
      for (let i = 0; i < n; i++) if (Math.abs(z[i]) > 3) tail++;
      const p3 = 0.0026997961;
      expect(Math.abs(tail / n - p3)).toBeLessThan(Z * Math.sqrt((p3 * (1 - p3)) / n));
    });
  }

  it('odd lengths are prefixes of even ones; mean/std/dtype options', () => {
    const k = key(8);
    expect(Array.from(normalArray(k, 7))).toEqual(Array.from(normalArray(k, 8).subarray(0, 7)));
    const t = normal(k, [4, 5], { mean: 10, std: 0.5, dtype: 'float64' });
    const z = normalArray(k, 20, 'float64');
    for (let i = 0; i < 20; i++) expect(t.data[i]).toBeCloseTo(10 + 0.5 * z[i], 12);
    expect(() => normal(k, [2], { std: -1 })).toThrow(/std/);
  });
});

describe('bernoulli', () => {
  it('has rate p within Monte Carlo error; p = 0 and 1 are exact', () => {
    const n = 100000;
    const p = 0.3;
    const b = bernoulli(key(4), p, [n]);
    let ones = 0, bad = 0;
    for (const v of b.data) {
      if (v !== 0 && v !== 1) bad++;
      ones += v;
    }
    expect(bad).toBe(0);
    expect(Math.abs(ones / n - p)).toBeLessThan(Z * Math.sqrt((p * (1 - p)) / n));
    expect(bernoulli(key(4), 0, [1000]).data.every((v) => v === 0)).toBe(true);
    expect(bernoulli(key(4), 1, [1000]).data.every((v) => v === 1)).toBe(true);
  });

  it('broadcasts a tensor p and validates it', () => {
    const n = 50000;
    const p = tensor([0.1, 0.9], [1, 2], 'float64');
    const b = bernoulli(key(9), p, [n, 2]);
    expect(b.dtype).toBe('float64');
    let c0 = 0, c1 = 0;
    for (let i = 0; i < n; i++) {
      c0 += b.data[2 * i];
      c1 += b.data[2 * i + 1];
    }
    const se = Z * Math.sqrt(0.09 / n);
    expect(Math.abs(c0 / n - 0.1)).toBeLessThan(se);
    expect(Math.abs(c1 / n - 0.9)).toBeLessThan(se);
    expect(bernoulli(key(9), tensor([0.5, 0.5])).shape).toEqual([2]);
    expect(() => bernoulli(key(9), tensor([0.5, 1.5]))).toThrow(/p\[1\] = 1.5/);
    expect(() => bernoulli(key(9), tensor([0.5, NaN]))).toThrow(/NaN/);
    expect(() => bernoulli(key(9), tensor([0.5, 0.5]), [3])).toThrow(/broadcast/);
  });
});

describe('randint', () => {
  it('is uniform on [low, high) by a chi-square test (threshold: χ² tail 1e-6)', () => {
    const n = 100000;
    const r = randint(key(12), -3, 7, [n]);
    const counts = new Array(10).fill(0);
    let bad = 0;
    for (const v of r.data) {
      if (!(Number.isInteger(v) && v >= -3 && v < 7)) bad++;
      else counts[v + 3]++;
    }
    expect(bad).toBe(0);
    expect(chi2(counts, new Array(10).fill(0.1))).toBeLessThan(chi2Quantile(9));
  });

  it('is unbiased for a range where naive modulo would be badly biased (m = 3·2^30)', () => {
    const n = 60000;
    const m = 3 * 2 ** 30;
    const r = randintArray(key(13), -(2 ** 31), -(2 ** 31) + m, n);
    const counts = [0, 0, 0];
    for (const v of r) counts[Math.floor((v + 2 ** 31) / 2 ** 30)]++;
    // w mod m would put probability 1/2 on the first third
    expect(chi2(counts, [1 / 3, 1 / 3, 1 / 3])).toBeLessThan(chi2Quantile(2));
  });

  it('handles ranges above 2^32 in float64 and guards float32 precision', () => {
    const big = randint(key(14), 0, 2 ** 40, [20000], { dtype: 'float64' });
    let above = 0, bad = 0;
    for (const v of big.data) {
      if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 40)) bad++;
      if (v >= 2 ** 39) above++;
    }
    expect(bad).toBe(0);
    expect(Math.abs(above / 20000 - 0.5)).toBeLessThan(Z * Math.sqrt(0.25 / 20000));
    expect(() => randint(key(1), 0, 2 ** 25, [3])).toThrow(/float64/);
    expect(() => randint(key(1), 5, 5, [3])).toThrow(/low < high/);
    expect(Array.from(randintArray(key(1), 0, 1, 5))).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('categorical', () => {
  it('matches softmax(logits) by a chi-square test (threshold: χ² tail 1e-6), −∞ never drawn', () => {
    const n = 40000;
    const probs = [0.1, 0.2, 0.3, 0.4, 0];
    const row = probs.map((p) => Math.log(p));
    const logits = new Float32Array(n * 5);
    for (let i = 0; i < n; i++) logits.set(row.map((l) => l + 7), i * 5); // shift invariance
    const c = categorical(key(15), new Tensor(logits, [n, 5]));
    expect(c.shape).toEqual([n]);
    const counts = [0, 0, 0, 0, 0];
    for (const v of c.data) counts[v]++;
    expect(counts[4]).toBe(0);
    expect(chi2(counts.slice(0, 4), probs.slice(0, 4))).toBeLessThan(chi2Quantile(3));
  });

  it('samples along a non-last axis', () => {
    const n = 30000;
    const logits = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) logits[n + i] = Math.log(3); // P(1) = 3/4 along axis 0
    const c = categorical(key(16), new Tensor(logits, [2, n]), 0);
    expect(c.shape).toEqual([n]);
    expect(c.dtype).toBe('float64');
    let ones = 0;
    for (const v of c.data) ones += v;
    expect(Math.abs(ones / n - 0.75)).toBeLessThan(Z * Math.sqrt(0.1875 / n));
    expect(() => categorical(key(1), tensor([-Infinity, -Infinity]))).toThrow(/all logits/);
    expect(() => categorical(key(1), tensor([0, NaN]))).toThrow(/NaN/);
  });
});

describe('permutation', () => {
  it('returns a permutation', () => {
    const p = permutation(key(17), 1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(permutation(key(17), 1000))).toEqual(Array.from(p));
    expect(permutation(key(1), 0).length).toBe(0);
    expect(permutationTensor(key(17), 1000).toArray()).toEqual(Array.from(p));
  });

  it('is uniform over the 6 orders of n = 3 (each within 5 SE, and chi-square at tail 1e-6)', () => {
    const trials = 30000;
    const base = key(18);
    const counts = new Map<string, number>();
    for (let t = 0; t < trials; t++) {
      const s = permutation(foldIn(base, t), 3).join('');
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    const c = [...counts.values()];
    for (const v of c) expect(Math.abs(v / trials - 1 / 6)).toBeLessThan(Z * Math.sqrt(5 / 36 / trials));
    expect(chi2(c, new Array(6).fill(1 / 6))).toBeLessThan(chi2Quantile(5));
  });
});

describe('randomBits', () => {
  it('has balanced bits', () => {
    const n = 50000;
    const w = randomBits(key(19), n);
    for (let bit = 0; bit < 32; bit += 7) {
      let ones = 0;
      for (let i = 0; i < n; i++) ones += (w[i] >>> bit) & 1;
      expect(Math.abs(ones / n - 0.5)).toBeLessThan(Z * Math.sqrt(0.25 / n));
    }
  });
});
