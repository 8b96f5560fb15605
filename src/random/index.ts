/**
 * Counter-based random numbers from explicit, splittable keys (Philox4x32-10), in the style of JAX:
 * `const k = key(0); const [k1, k2] = split(k); const x = normal(k1, [n, 2]);`.
 * Every sample is a pure function of its key and requested shape.
 * @module
 */
export { PHILOX_ROUNDS, Domain, philox4x32, fillBits, WordStream } from './philox.js';
export { key, split, foldIn, keyData, keyFromData, keyEquals, isKey, assertKey } from './key.js';
export type { Key } from './key.js';
export {
  randomBits, uniformInto, uniformArray, uniform, normalInto, normalArray, normal, bernoulli, categorical,
  randint, randintArray, permutation, permutationTensor,
} from './sample.js';
export { probes } from './probes.js';
export type { ProbeDistribution } from './probes.js';
export type { UniformOptions, NormalOptions, BernoulliOptions, CategoricalOptions, RandintOptions } from './sample.js';
