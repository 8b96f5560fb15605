/**
 * File formats: atomic writes, safetensors, model files, checkpoints, .npy, CSV, IDX, PNG; and the shared
 * {@link DataError}. The codecs (`encode…`/`decode…`/`parse…`) are pure and run anywhere; the file functions
 * (`load…`/`save…`) need Node and throw {@link NodeOnlyError} elsewhere.
 * @module
 */
export * from './errors.js';
export * from './atomic.js';
export * from './safetensors.js';
export * from './npy.js';
export * from './csv.js';
export * from './idx.js';
export * from './png.js';
export * from './model.js';
export * from './checkpoint.js';
export { NodeOnlyError } from './nodeOnlyError.js';
