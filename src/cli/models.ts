/**
 * The model-kind registry used by `ebm sample` and `ebm eval`: a model file's `kind` metadata selects a handler that
 * loads it and knows how to sample, score and evaluate it. Other model kinds (RBMs, …) register here with
 * {@link registerModelKind}.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Key } from '../random/key.js';
import { DataError } from '../io/errors.js';
import { loadSafetensors } from '../io/safetensors.js';
import { MODEL_FORMAT, checkModelValues, type ModelFile } from '../io/model.js';
import { isAllocationFailure } from './errors.js';
import type { Dataset } from '../data/spec.js';

/** Options passed to {@link LoadedModel.sample}; each kind documents which it uses and ignores the rest. */
export interface SampleOptions {
  key: Key;
  /** Number of samples. */
  n: number;
  /** MCMC steps (Langevin steps, Gibbs sweeps…), when the kind samples by MCMC. */
  steps?: number;
  /** MCMC step size, when relevant. */
  stepSize?: number;
  /** Progress callback: `done` of `total` units. */
  onProgress?(done: number, total: number): void;
}

/** Options passed to {@link LoadedModel.evaluate}. */
export interface EvalOptions {
  key: Key;
  /** Grid resolution per axis for quadrature (2-D kinds). */
  gridRes?: number;
}

/** Options passed to {@link LoadedModel.plot}. */
export interface PlotOptions {
  /** Samples to draw on top, data space `[n, d]`. */
  samples?: Tensor;
  /** Pixels per grid cell. */
  scale?: number;
  /** Grid resolution per axis. */
  gridRes?: number;
}

/** A model loaded from a file, with what its kind can do. */
export interface LoadedModel {
  kind: string;
  file: ModelFile;
  /** Dimension of one data row. */
  dim: number;
  /** `[h, w]` when rows are images (used to write PNG grids). */
  imageShape?: [number, number];
  /** A one-line human description (architecture, training data). */
  describe(): string;
  /** Draws `n` samples `[n, dim]`. */
  sample(opts: SampleOptions): Tensor;
  /** Per-row score of data `x [n, dim]`: the energy `E(x)` (lower = more probable). */
  energy?(x: Tensor): Float64Array;
  /** Figures on a data set (e.g. `avgLogLik`, `logZ`, `avgEnergy`). */
  evaluate?(data: Dataset, opts: EvalOptions): Record<string, number>;
  /** A PNG picture of the model (e.g. 2-D density heat map with samples, RBM filters). */
  plot?(opts: PlotOptions): Uint8Array;
}

/** A model kind: its name and how to load it from a decoded model file. */
export interface ModelKindHandler {
  kind: string;
  /** One line for help texts. */
  description: string;
  /** Builds a {@link LoadedModel}, validating config and tensor layout (DataError naming `path` on mismatch). */
  fromFile(file: ModelFile, path: string): LoadedModel;
}

const registry = new Map<string, ModelKindHandler>();

/** Registers (or replaces) a model kind. */
export function registerModelKind(h: ModelKindHandler): void {
  registry.set(h.kind, h);
}

/** The registered kinds. */
export function modelKinds(): ModelKindHandler[] {
  return [...registry.values()];
}

/**
 * Loads any ebm-ts model file and dispatches on its `kind` to the registered handler. Unknown kinds, other files
 * and damaged files are {@link DataError}s naming the file.
 * @example const m = await loadAnyModel('m.safetensors'); const x = m.sample({ key: key(0), n: 100 });
 */
export async function loadAnyModel(path: string): Promise<LoadedModel> {
  const { tensors, metadata } = await loadSafetensors(path);
  if (metadata.format !== MODEL_FORMAT) {
    throw new DataError(`not an ebm-ts model file (metadata format is ${metadata.format === undefined ? 'missing' : `"${metadata.format}"`})`, { file: path });
  }
  const kind = metadata.kind ?? '';
  const h = registry.get(kind);
  if (!h) throw new DataError(`model kind "${kind}" is not supported by this command (known: ${[...registry.keys()].join(', ') || 'none'})`, { file: path });
  const parse = (k: string): Record<string, unknown> => {
    try {
      const v = JSON.parse(metadata[k] ?? '{}');
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new DataError(`metadata "${k}" is not a JSON object`, { file: path });
  };
  const file: ModelFile = { kind, version: metadata.version ?? 'unknown', config: parse('config'), provenance: parse('provenance'), tensors };
  checkModelValues(tensors, file.config, path);
  try {
    return h.fromFile(file, path);
  } catch (e) {
    // a kind's config validation (RangeError, TypeError…) names the file too
    if (e instanceof DataError) throw e;
    if (e instanceof Error && !isAllocationFailure(e)) throw new DataError(`not a usable ${kind} model: ${e.message}`, { file: path });
    throw e;
  }
}
