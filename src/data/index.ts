/**
 * Data sets: the `--data` spec loader of the CLI (`loadDataSpec`: `toy:…`, `mnist:…`, CSV, `.npy`, IDX, digits),
 * MNIST / Fashion-MNIST, MovieLens-style ratings, epoch batching, a multi-label chain task, published Sudokus, and
 * the 2-D toy sets with exact densities (`toy`). The file loaders need Node (see `ebm-ts/node`); the generators and
 * parsers (`toy`, `parseRatings`, `syntheticRatings`, `epochBatchIndices`, …) also run in browsers.
 * @module
 */
export * from './spec.js';
export * from './mnist.js';
export * from './movielens.js';
export * from './batches.js';
export * from './columns.js';
export * from './multilabel.js';
export * from './sudokuPuzzles.js';
export * as toy from './toy.js';
