/**
 * The slot for native bulk random kernels: the backend selector (`select.ts`) installs the addon's kernels here and
 * src/random reads them, so the engine imports nothing above itself and the random module never imports the addon.
 */

/**
 * Bulk random kernels supplied by a native backend (the Node addon's C versions of `fillBits` in
 * `src/random/philox.ts` and of the uniform / normal conversions in `src/random/sample.ts`). Every method must write
 * exactly the values of the pure-TS code:
 * - `fillBits(k0, k1, domain, out, startWord)`: as `fillBits`;
 * - `uniform(k0, k1, out, start)`: element `i` of `out` is element `start + i` of `uniformInto(key, …)`;
 * - `normal(k0, k1, out, startPair)`: elements `2p, 2p+1` of `out` are pair `startPair + p` of `normalInto(key, …)`
 *   (odd lengths drop the last sine).
 */
export interface NativeRandom {
  fillBits(k0: number, k1: number, domain: number, out: Uint32Array, startWord: number): void;
  uniform(k0: number, k1: number, out: Float32Array | Float64Array, start: number): void;
  normal(k0: number, k1: number, out: Float32Array | Float64Array, startPair: number): void;
}

let nativeRandom: NativeRandom | null = null;

/**
 * Installs (or, with `null`, removes) the native bulk random kernels. Results do not change, only speed: the
 * native kernels are bit-identical to the TypeScript ones. Called by `initBackend()` in `src/tensor/select.ts`;
 * re-exported by `src/random/philox.ts`.
 * @param impl the kernels, or `null` for the pure-TS path.
 * @example setNativeRandom(null) // force the TypeScript generator
 */
export function setNativeRandom(impl: NativeRandom | null): void {
  nativeRandom = impl;
}

/**
 * The installed native random kernels, or `null` (pure TypeScript).
 * @example if (getNativeRandom() === null) console.log('random numbers from the TypeScript generator');
 */
export function getNativeRandom(): NativeRandom | null {
  return nativeRandom;
}
