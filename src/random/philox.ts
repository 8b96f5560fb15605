/**
 * Philox4x32-10, the counter-based pseudo-random function of Salmon, Moraes, Dror & Shaw, "Parallel random
 * numbers: as easy as 1, 2, 3" (SC 2011), written on 32-bit integer arithmetic.
 *
 * One call maps a 128-bit counter `(c0, c1, c2, c3)` and a 64-bit key `(k0, k1)` to 128 pseudo-random bits.
 * Each of the ten rounds is
 *
 *   (hi0, lo0) = M0 · c0,   (hi1, lo1) = M1 · c2          (32×32 → 64-bit products)
 *   c ← (hi1 ⊕ c1 ⊕ k0,  lo1,  hi0 ⊕ c3 ⊕ k1,  lo0)
 *
 * with `M0 = 0xD2511F53`, `M1 = 0xCD9E8D57`, and the key bumped by the Weyl constants `W0 = 0x9E3779B9`,
 * `W1 = 0xBB67AE85` (mod 2³²) between rounds.
 *
 * The high half of a 32×32 product is computed in double precision: the product `P = a·b < 2⁶⁴` is rounded to a
 * double with absolute error ≤ 2¹⁰, and the exact low half `lo = imul(a, b) mod 2³²` is known, so
 * `(fl(a·b) − lo) / 2³²` lies within 2⁻²¹ of the integer `hi`, and rounding recovers `hi` exactly.
 *
 * @module
 */

/** Philox multiplier for counter word 0. */
const M0 = 0xd2511f53;
/** Philox multiplier for counter word 2. */
const M1 = 0xcd9e8d57;
/** Weyl key increment for key word 0 (golden ratio). */
const W0 = 0x9e3779b9;
/** Weyl key increment for key word 1 (√3 − 1). */
const W1 = 0xbb67ae85;
const TWO_M32 = 2.3283064365386963e-10; // 2^-32
const TWO_P32 = 4294967296;

/** Number of rounds of the standard Philox4x32 variant used everywhere in this library. */
export const PHILOX_ROUNDS = 10;

/**
 * Domain tags placed in counter word 2, so that the streams used for sampling, splitting, folding-in and seeding
 * never share a counter under the same key.
 */
export const Domain = {
  /** Random bits for sampling functions. */
  bits: 0,
  /** Child keys of `split`. */
  split: 1,
  /** Keys derived by `foldIn`. */
  foldIn: 2,
  /** Keys derived from an integer seed. */
  seed: 3,
} as const;

/**
 * The Philox4x32-R block function on one counter (the reference form, used for known-answer tests and key
 * derivation; bulk generation uses {@link fillBits}).
 *
 * @param counter four 32-bit unsigned words `c0…c3`.
 * @param key two 32-bit unsigned words `k0, k1`.
 * @param rounds number of rounds (10 for Philox4x32-10).
 * @returns four 32-bit unsigned words.
 * @example philox4x32([0, 0, 0, 0], [0, 0]) // [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 */
export function philox4x32(
  counter: readonly number[],
  key: readonly number[],
  rounds: number = PHILOX_ROUNDS,
): [number, number, number, number] {
  if (counter.length !== 4 || key.length !== 2) {
    throw new RangeError(`philox4x32: counter must have 4 words and key 2 words (got ${counter.length} and ${key.length})`);
  }
  for (const w of [...counter, ...key]) {
    if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) {
      throw new RangeError(`philox4x32: words must be integers in [0, 2^32), got ${w}`);
    }
  }
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`philox4x32: rounds must be a positive integer, got ${rounds}`);
  let c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  let k0 = key[0], k1 = key[1];
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi0 = ((M0 * c0 - lo0) * TWO_M32 + 0.5) >>> 0;
    const lo1 = Math.imul(M1, c2) >>> 0;
    const hi1 = ((M1 * c2 - lo1) * TWO_M32 + 0.5) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  return [c0, c1, c2, c3];
}

/**
 * Fills `out` with the Philox4x32-10 stream of a key: word `i` of the stream is word `i mod 4` of the block with
 * counter `(b mod 2³², ⌊b / 2³²⌋, domain, 0)`, `b = ⌊i / 4⌋`. `out[j]` receives stream word `startWord + j`.
 * The result depends only on `(k0, k1, domain, startWord, out.length)`: it is the same whatever the chunking.
 *
 * @param k0 key word 0 (uint32).
 * @param k1 key word 1 (uint32).
 * @param domain counter word 2 (a {@link Domain} tag).
 * @param out destination; its length is the number of words produced.
 * @param startWord index of the first stream word (a non-negative safe integer).
 */
export function fillBits(k0: number, k1: number, domain: number, out: Uint32Array, startWord = 0): void {
  const n = out.length;
  if (n === 0) return;
  // Round keys, precomputed once per call (as signed int32 for cheap xor).
  const rk0 = new Int32Array(PHILOX_ROUNDS);
  const rk1 = new Int32Array(PHILOX_ROUNDS);
  let a = k0 >>> 0, b = k1 >>> 0;
  for (let r = 0; r < PHILOX_ROUNDS; r++) {
    rk0[r] = a | 0;
    rk1[r] = b | 0;
    a = (a + W0) >>> 0;
    b = (b + W1) >>> 0;
  }
  const d = domain >>> 0;
  let block = Math.floor(startWord / 4);
  let skip = startWord - block * 4; // words of the first block to drop
  let j = 0;
  while (j < n) {
    let c0 = block % TWO_P32;
    let c1 = Math.floor(block / TWO_P32);
    let c2 = d;
    let c3 = 0;
    for (let r = 0; r < PHILOX_ROUNDS; r++) {
      const lo0 = Math.imul(M0, c0) >>> 0;
      const hi0 = ((M0 * c0 - lo0) * TWO_M32 + 0.5) >>> 0;
      const lo1 = Math.imul(M1, c2) >>> 0;
      const hi1 = ((M1 * c2 - lo1) * TWO_M32 + 0.5) >>> 0;
      c0 = (hi1 ^ c1 ^ rk0[r]) >>> 0;
      c1 = lo1;
      c2 = (hi0 ^ c3 ^ rk1[r]) >>> 0;
      c3 = lo0;
    }
    if (skip === 0 && j + 4 <= n) {
      out[j] = c0;
      out[j + 1] = c1;
      out[j + 2] = c2;
      out[j + 3] = c3;
      j += 4;
    } else {
      const w = [c0, c1, c2, c3];
      for (let q = skip; q < 4 && j < n; q++) out[j++] = w[q];
      skip = 0;
    }
    block++;
  }
}

/**
 * A sequential reader of a key's Philox stream, for algorithms that consume a data-dependent number of words
 * (rejection sampling). Words are produced in chunks; word `i` is always stream word `startWord + i`, so the output
 * never depends on the chunk size.
 */
export class WordStream {
  private readonly buf: Uint32Array;
  private pos: number;
  private next: number;

  /**
   * @param k0 key word 0. @param k1 key word 1. @param domain counter word 2.
   * @param startWord first stream word to read. @param chunk words generated per refill (rounded up to 4).
   */
  constructor(
    private readonly k0: number,
    private readonly k1: number,
    private readonly domain: number,
    startWord = 0,
    chunk = 1024,
  ) {
    this.buf = new Uint32Array(Math.max(4, Math.ceil(chunk / 4) * 4));
    this.pos = this.buf.length;
    this.next = startWord;
  }

  /** The next 32-bit unsigned word of the stream. */
  word(): number {
    if (this.pos === this.buf.length) {
      fillBits(this.k0, this.k1, this.domain, this.buf, this.next);
      this.next += this.buf.length;
      this.pos = 0;
    }
    return this.buf[this.pos++];
  }
}
