/**
 * Explicit, splittable random keys (in the style of JAX). A {@link Key} is a 64-bit Philox key; every random number
 * in the library is a pure function of a key (and the requested size), never of global state or call history.
 *
 * Derivations (all Philox4x32-10 with the parent key, distinct counter domains, see {@link Domain}):
 * - `key(seed)`       = first two words of `Philox((seed mod 2³², ⌊seed / 2³²⌋, 3, 0); (0, 0))`
 * - `split(k, n)[i]`  = first two words of `Philox((i mod 2³², ⌊i / 2³²⌋, 1, 0); k)`
 * - `foldIn(k, d)`    = first two words of `Philox((d mod 2³², ⌊d / 2³²⌋, 2, 0); k)`
 * - sampling bits     = `Philox((b mod 2³², ⌊b / 2³²⌋, 0, 0); k)` for block `b = 0, 1, …`
 *
 * @module
 */
import { Domain, philox4x32 } from './philox.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

/**
 * An immutable, JSON-serialisable random key: two unsigned 32-bit words. `JSON.stringify(k)` gives
 * `{"k":[w0,w1]}`; a parsed object of that form is accepted wherever a key is expected (see {@link keyFromData}).
 * Never reuse one key for two purposes: {@link split} it.
 */
export interface Key {
  readonly k: readonly [number, number];
}

function makeKey(w0: number, w1: number): Key {
  return Object.freeze({ k: Object.freeze([w0 >>> 0, w1 >>> 0] as [number, number]) });
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `array of length ${x.length}`;
  if (typeof x === 'object') return `object with keys {${Object.keys(x as object).join(', ')}}`;
  return `${typeof x} ${String(x)}`;
}

function isWord(w: unknown): w is number {
  return typeof w === 'number' && Number.isInteger(w) && w >= 0 && w <= 0xffffffff;
}

/** True when `x` is a valid {@link Key} (an object `{k: [w0, w1]}` with two integers in `[0, 2³²)`). */
export function isKey(x: unknown): x is Key {
  if (typeof x !== 'object' || x === null) return false;
  const k = (x as { k?: unknown }).k;
  return Array.isArray(k) && k.length === 2 && isWord(k[0]) && isWord(k[1]);
}

/**
 * Throws a TypeError naming the calling function unless `x` is a valid {@link Key}.
 * @param x the value to check. @param fn name of the caller, for the message.
 */
export function assertKey(x: unknown, fn: string): asserts x is Key {
  if (!isKey(x)) {
    throw new InvalidTypeError(`${fn}: expected a random Key {k: [uint32, uint32]} (make one with key(seed) or split(k)), got ${describe(x)}`);
  }
}

/**
 * A key from an integer seed. Different seeds give unrelated keys (the seed is hashed through Philox).
 * @param seed a non-negative safe integer (`0 ≤ seed ≤ 2⁵³ − 1`).
 * @example const k = key(0); const [kInit, kData] = split(k);
 */
export function key(seed: number): Key {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidArgumentError(`key: seed must be a non-negative safe integer (0 ≤ seed ≤ 2^53−1), got ${describe(seed)}`);
  }
  const out = philox4x32([seed % 4294967296, Math.floor(seed / 4294967296), Domain.seed, 0], [0, 0]);
  return makeKey(out[0], out[1]);
}

/**
 * Splits a key into `n` new keys, derived by running Philox on the counters `0…n−1` of a dedicated domain.
 * The children are distinct from each other and from the parent, and statistically independent.
 * @param k the parent key (do not use it again afterwards).
 * @param n number of keys (a non-negative integer, default 2).
 * @example const [k1, k2, k3] = split(k, 3);
 */
export function split(k: Key, n = 2): Key[] {
  assertKey(k, 'split');
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`split: n must be a non-negative integer, got ${describe(n)}`);
  const out: Key[] = new Array(n);
  const kw = k.k as readonly number[];
  for (let i = 0; i < n; i++) {
    const w = philox4x32([i % 4294967296, Math.floor(i / 4294967296), Domain.split, 0], kw);
    out[i] = makeKey(w[0], w[1]);
  }
  return out;
}

/**
 * Derives a new key from `k` and an integer (a step number, a worker index, …): `foldIn(k, d)` differs for each `d`
 * and from every `split(k, n)[i]`.
 * @param k the parent key.
 * @param data a non-negative safe integer.
 * @example for (let step = 0; step < T; step++) { const ks = foldIn(kTrain, step); … }
 */
export function foldIn(k: Key, data: number): Key {
  assertKey(k, 'foldIn');
  if (typeof data !== 'number' || !Number.isSafeInteger(data) || data < 0) {
    throw new InvalidArgumentError(`foldIn: data must be a non-negative safe integer, got ${describe(data)}`);
  }
  const w = philox4x32([data % 4294967296, Math.floor(data / 4294967296), Domain.foldIn, 0], k.k as readonly number[]);
  return makeKey(w[0], w[1]);
}

/** The two 32-bit words of a key, as a fresh array `[w0, w1]` (for checkpoints). */
export function keyData(k: Key): [number, number] {
  assertKey(k, 'keyData');
  return [k.k[0], k.k[1]];
}

/**
 * A key from its two words (the inverse of {@link keyData}); also accepts a parsed `{k: [w0, w1]}` object or a
 * `Uint32Array` of length 2.
 * @example keyFromData(JSON.parse(JSON.stringify(keyData(k)))) // equals k
 */
export function keyFromData(data: ArrayLike<number> | { k: ArrayLike<number> }): Key {
  const arr = (typeof data === 'object' && data !== null && 'k' in data ? data.k : data) as ArrayLike<number>;
  if (arr === null || typeof arr !== 'object' || arr.length !== 2 || !isWord(arr[0]) || !isWord(arr[1])) {
    throw new InvalidTypeError(`keyFromData: expected two integers in [0, 2^32), got ${describe(data)}`);
  }
  return makeKey(arr[0], arr[1]);
}

/** True when two keys are equal. */
export function keyEquals(a: Key, b: Key): boolean {
  return a.k[0] === b.k[0] && a.k[1] === b.k[1];
}
