import { afterEach, describe, expect, it } from 'vitest';
import { key, normalArray, uniformArray } from '../../src/random/index.js';
import { getNativeRandom, NATIVE_RANDOM_MIN_WORDS, setNativeRandom, type NativeRandom } from '../../src/random/philox.js';
import { detCos2Pi, detLog, detSin2Pi } from '../../src/random/sample.js';

/** Spacing of doubles at |x| (ulp). */
function ulp(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -1022) return 2 ** -1074;
  return 2 ** (Math.floor(Math.log2(a)) - 52) * (2 ** Math.floor(Math.log2(a)) > a ? 0.5 : 1);
}

describe('deterministic log / sin 2π / cos 2π', () => {
  it('detLog is within 2 ulp of Math.log over the whole positive range, with Math.log special values', () => {
    let s = 1;
    for (let i = 0; i < 200000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const x = i % 2 ? (s + 1) * 2 ** -32 : 2 ** ((s / 2 ** 32) * 2098 - 1074);
      const d = detLog(x), r = Math.log(x);
      // Math.log is itself within 1 ulp, so the two may differ by 1 + 0.8 ulp
      if (!(Math.abs(d - r) <= 2 * ulp(r))) throw new Error(`detLog(${x}) = ${d}, Math.log = ${r}`);
    }
    expect(detLog(1)).toBe(0);
    expect(detLog(0)).toBe(-Infinity);
    expect(detLog(-0)).toBe(-Infinity);
    expect(detLog(Infinity)).toBe(Infinity);
    expect(detLog(-1)).toBeNaN();
    expect(detLog(NaN)).toBeNaN();
    expect(detLog(2)).toBe(Math.LN2);
  });

  it('detSin2Pi / detCos2Pi are within 2 ulp of the exact values, exact at multiples of 1/4, NaN for ±∞', () => {
    let s = 2;
    for (let i = 0; i < 200000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const u = s * 2 ** -32;
      const sn = detSin2Pi(u), cs = detCos2Pi(u);
      // Math.sin(2πu) has an argument error ≤ ulp(2πu)/2 ≈ 4e-16 (absolute) plus its own ≤ 1 ulp.
      const t = 2 * Math.PI * u, argErr = ulp(t);
      if (!(Math.abs(sn - Math.sin(t)) <= 2 * ulp(Math.sin(t)) + argErr)) throw new Error(`detSin2Pi(${u}) = ${sn} vs ${Math.sin(t)}`);
      if (!(Math.abs(cs - Math.cos(t)) <= 2 * ulp(Math.cos(t)) + argErr)) throw new Error(`detCos2Pi(${u}) = ${cs} vs ${Math.cos(t)}`);
      if (!(Math.abs(sn * sn + cs * cs - 1) < 1e-15)) throw new Error(`sin² + cos² ≠ 1 at u = ${u}`);
    }
    const plus0 = (v: number) => v + 0; // zeros may come out as −0
    expect([0, 0.25, 0.5, 0.75, 1, -0.25, 1e6 + 0.25].map((u) => plus0(detSin2Pi(u)))).toEqual([0, 1, 0, -1, 0, -1, 1]);
    expect([0, 0.25, 0.5, 0.75, 1, 2 ** 60].map((u) => plus0(detCos2Pi(u)))).toEqual([1, 0, -1, 0, 1, 1]);
    expect(detSin2Pi(1 / 12)).toBeCloseTo(0.5, 15);
    expect(detCos2Pi(1 / 6)).toBeCloseTo(0.5, 15);
    expect(detSin2Pi(Infinity)).toBeNaN();
    expect(detCos2Pi(NaN)).toBeNaN();
  });
});

describe('native random hook', () => {
  const original = getNativeRandom(); // test/setup.ts may have installed the addon's kernels
  afterEach(() => setNativeRandom(original));

  it('large requests go to an installed implementation, small ones stay in TS; null restores TS', () => {
    setNativeRandom(null);
    expect(getNativeRandom()).toBeNull();
    const calls: [string, number, number][] = [];
    const fake: NativeRandom = {
      fillBits: (_k0, _k1, _d, out, start) => { calls.push(['bits', out.length, start]); out.fill(0); },
      uniform: (_k0, _k1, out, start) => { calls.push(['uniform', out.length, start]); out.fill(0.5); },
      normal: (_k0, _k1, out, start) => { calls.push(['normal', out.length, start]); out.fill(7); },
    };
    const k = key(3);
    const small = uniformArray(k, NATIVE_RANDOM_MIN_WORDS - 1);
    setNativeRandom(fake);
    expect(Array.from(uniformArray(k, NATIVE_RANDOM_MIN_WORDS - 1))).toEqual(Array.from(small));
    expect(calls).toEqual([]);
    expect(uniformArray(k, NATIVE_RANDOM_MIN_WORDS).every((v) => v === 0.5)).toBe(true);
    expect(uniformArray(k, NATIVE_RANDOM_MIN_WORDS / 2, 'float64').every((v) => v === 0.5)).toBe(true);
    expect(normalArray(k, NATIVE_RANDOM_MIN_WORDS, 'float32').every((v) => v === 7)).toBe(true);
    expect(calls).toEqual([['uniform', NATIVE_RANDOM_MIN_WORDS, 0], ['uniform', NATIVE_RANDOM_MIN_WORDS / 2, 0], ['normal', NATIVE_RANDOM_MIN_WORDS, 0]]);
    setNativeRandom(null);
    expect(uniformArray(k, NATIVE_RANDOM_MIN_WORDS).some((v) => v !== 0.5)).toBe(true);
  });
});
