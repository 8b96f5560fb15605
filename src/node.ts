/**
 * `ebm-ts/node`: everything that reads or writes files, flat — the formats and file functions of `ebm-ts/io`
 * (safetensors, model files, checkpoints, `.npy`, CSV, IDX, PNG, atomic writes) and the data-set loaders of
 * `ebm-ts/data` (`loadDataSpec`, `loadMnist`, `loadRatings`, …). Node only: the file functions reach `node:fs` lazily
 * and throw `NodeOnlyError` elsewhere. The compute library is the main entry `ebm-ts`, which bundles for browsers.
 *
 * @example
 * import { key, sample, mala } from 'ebm-ts';
 * import { loadCsv, saveCheckpoint, loadCheckpoint } from 'ebm-ts/node';
 * const { data } = await loadCsv('points.csv');            // Tensor [n, d]
 * @module
 */
export * from './io/index.js';
export * from './data/index.js';
