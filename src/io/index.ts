/** File formats: atomic writes, safetensors, .npy, CSV, IDX, PNG; and the shared {@link DataError}. */
export * from './errors.js';
export * from './atomic.js';
export * from './safetensors.js';
export * from './npy.js';
export * from './csv.js';
export * from './idx.js';
export * from './png.js';
