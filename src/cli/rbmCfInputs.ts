/**
 * Shared inputs of the RBM-CF commands (`ebm train rbm-cf`, `ebm recommend`, `ebm eval --ratings`): reading feature
 * CSVs and aligning them with a ratings file's ids. File reading only; the encoding is the library's.
 */
import { readFailure, readInputText } from '../io/safeFile.js';
import { encodeFeatures, parseFeatureTable, type EncodedFeatures } from '../models/rbmCf/sideData.js';
import type { StoredFeatures } from '../models/rbmCf/io.js';
import { UsageError } from './errors.js';

/** Reads a feature CSV (`--user-features` / `--item-features`) and encodes it for the dense ids `ids`. */
export async function loadFeatures(path: string, ids: readonly number[], flag: string): Promise<EncodedFeatures> {
  let text: string;
  try {
    text = await readInputText(path); // regular files only, size-checked before reading
  } catch (e) {
    throw readFailure(e, path, `${flag} file`);
  }
  const f = encodeFeatures(parseFeatureTable(text, path), ids);
  if (f.missing.length === ids.length) throw new UsageError(`${flag} ${path}: none of its ids matches an id of the ratings (first column must be the ${flag.startsWith('--user') ? 'user' : 'item'} id)`);
  return f;
}

/**
 * Re-reads features for a saved model: the encoded columns must be the ones the model was trained with (same names
 * in the same order), so that its weights apply.
 */
export async function reloadFeatures(path: string, ids: readonly number[], flag: string, stored: StoredFeatures | undefined): Promise<StoredFeatures> {
  if (!stored) throw new UsageError(`${flag}: the model was trained without ${flag.slice(2)}`);
  const f = await loadFeatures(path, ids, flag);
  if (f.names.join('\u0000') !== stored.names.join('\u0000')) {
    throw new UsageError(`${flag} ${path}: encodes to columns [${f.names.join(', ')}], the model was trained on [${stored.names.join(', ')}]`);
  }
  return f;
}
