/**
 * The one registry of model kinds: a model file's `kind` metadata selects the handler that validates it and knows
 * how to sample, score and evaluate it. The library's kinds (score-sde, mlp-energy, rbm, deep-ebm, rbm-cf, jem) are registered here; other
 * kinds join with {@link registerModelKind}.
 */
import { DataError } from '../io/errors.js';
import { loadSafetensors, decodeSafetensors, type SafetensorsContents } from '../io/safetensors.js';
import { MODEL_FORMAT, checkModelValues, type ModelFile } from '../io/model.js';
import { isAllocationFailure } from '../io/limits.js';
import type { LoadedModel, ModelKindHandler } from './kind.js';
import { scoreSdeKind } from './scoreSde/kind.js';
import { mlpEnergyKind } from './mlpEnergy/kind.js';
import { rbmKind } from './rbm/kind.js';
import { deepEbmKind } from './deepEbm/kind.js';
import { rbmCfKind } from './rbmCf/kind.js';
import { jemKind } from './jem/handler.js';

export type { LoadedModel, ModelKindHandler, SampleOptions, EvalOptions, PlotOptions, ScoreColumn } from './kind.js';

const registry = new Map<string, ModelKindHandler>([
  [scoreSdeKind.kind, scoreSdeKind],
  [mlpEnergyKind.kind, mlpEnergyKind],
  [rbmKind.kind, rbmKind],
  [deepEbmKind.kind, deepEbmKind],
  [rbmCfKind.kind, rbmCfKind],
  [jemKind.kind, jemKind],
]);

/**
 * Registers (or replaces) a model kind.
 * @example registerModelKind({ kind: 'my-kind', description: '…', fromFile: (file, path) => ({ … }) });
 */
export function registerModelKind(h: ModelKindHandler): void {
  registry.set(h.kind, h);
}

/** The registered kinds. */
export function modelKinds(): ModelKindHandler[] {
  return [...registry.values()];
}

function fromContents({ tensors, metadata }: SafetensorsContents, path: string): LoadedModel {
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

/**
 * Decodes model-file bytes (`.safetensors` in the layout of `src/io/model.ts`) and dispatches on its `kind` to the
 * registered handler. Unknown kinds, other files and damaged files are {@link DataError}s naming `path`.
 * @example const m = decodeModel(bytes, 'm.safetensors'); m.sample({ key: key(0), n: 10 })
 */
export function decodeModel(bytes: Uint8Array, path = 'model'): LoadedModel {
  return fromContents(decodeSafetensors(bytes, path), path);
}

/**
 * Loads any ebm-ts model file and dispatches on its `kind` to the registered handler (see {@link decodeModel}).
 * @example const m = await openModel('m.safetensors'); const x = m.sample({ key: key(0), n: 100 });
 */
export async function openModel(path: string): Promise<LoadedModel> {
  return fromContents(await loadSafetensors(path), path);
}
