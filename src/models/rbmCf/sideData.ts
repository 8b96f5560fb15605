/**
 * Side data for RBM-CF: feature tables (CSV with a header whose first column is the user or item id, the other
 * columns numeric or categorical), their encoding into a dense standardised matrix aligned with the ratings' dense
 * ids (categorical columns one-hot), and re-indexing of a second ratings file (a given test set) onto a first's ids.
 * @module
 */
import { DataError } from '../../io/errors.js';
import type { Ratings } from '../../data/movielens.js';
import type { FeatureMatrix } from './model.js';

/** A parsed feature table: one row per id, raw cells by column. */
export interface FeatureTable {
  /** Header names of the feature columns (without the id column). */
  columns: string[];
  /** Id of each row. */
  ids: number[];
  /** Raw cell text, `cells[row][column]`. */
  cells: string[][];
}

/**
 * Parses a feature CSV: a header line, then `id,f1,f2,…` per row (comma, tab or `|` separated; blank lines and `#`
 * comments skipped). Ids must be non-negative integers, appear once, and every row must have the header's width.
 * Errors are {@link DataError}s naming the file and line.
 * @example parseFeatureTable('user,age,gender\n1,24,M\n2,53,F\n').columns // ['age', 'gender']
 */
export function parseFeatureTable(text: string, file = 'features'): FeatureTable {
  const lines = text.split(/\r?\n/);
  let sep: string | undefined;
  let header: string[] | undefined;
  const ids: number[] = [], cells: string[][] = [];
  const seen = new Set<number>();
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!sep) sep = line.includes(',') ? ',' : line.includes('\t') ? '\t' : '|';
    const f = line.split(sep).map((s) => s.trim());
    if (!header) {
      if (f.length < 2) throw new DataError('the header needs an id column and at least one feature column', { file, line: ln + 1 });
      header = f;
      continue;
    }
    if (f.length !== header.length) throw new DataError(`has ${f.length} fields, the header ${header.length}`, { file, line: ln + 1 });
    const id = Number(f[0]);
    if (!(f[0] !== '' && Number.isInteger(id) && id >= 0)) throw new DataError(`column 1: id "${f[0]}" is not a non-negative integer`, { file, line: ln + 1 });
    if (seen.has(id)) throw new DataError(`id ${id} appears twice`, { file, line: ln + 1 });
    seen.add(id);
    ids.push(id);
    cells.push(f.slice(1));
  }
  if (!header) throw new DataError('empty feature file (no header)', { file });
  if (ids.length === 0) throw new DataError('no feature rows after the header', { file });
  return { columns: header.slice(1), ids, cells };
}

/** A feature matrix aligned with dense ids, plus how it was encoded. */
export interface EncodedFeatures extends FeatureMatrix {
  /** Names of the encoded columns (`name` for numeric, `name=value` for one-hot). */
  names: string[];
  /** Ids of the target numbering that had no row in the table (their row is all zeros, i.e. the mean). */
  missing: number[];
}

/**
 * Encodes a feature table for the ids `targetIds` (dense index → original id): a column whose every cell is a finite
 * number is standardised (mean 0, sd 1 over the table's rows, two passes; a constant column becomes 0); any other
 * column is one-hot encoded (one column per distinct value, sorted). Ids of the table that are not in `targetIds` are
 * ignored; target ids without a row get zeros (listed in `missing`).
 * @example const uf = encodeFeatures(parseFeatureTable(text), ratings.userIds);
 */
export function encodeFeatures(t: FeatureTable, targetIds: readonly number[]): EncodedFeatures {
  const n = t.ids.length;
  const cols: { name: string; values: Float64Array }[] = [];
  for (let c = 0; c < t.columns.length; c++) {
    const raw = t.cells.map((r) => r[c]);
    const nums = raw.map((s) => (s === '' ? NaN : Number(s)));
    if (nums.every((v) => Number.isFinite(v))) {
      let m = 0;
      for (const v of nums) m += v;
      m /= n;
      let s2 = 0;
      for (const v of nums) s2 += (v - m) * (v - m);
      const sd = Math.sqrt(s2 / n);
      cols.push({ name: t.columns[c], values: Float64Array.from(nums, (v) => (sd > 0 ? (v - m) / sd : 0)) });
    } else {
      for (const val of [...new Set(raw)].sort()) cols.push({ name: `${t.columns[c]}=${val}`, values: Float64Array.from(raw, (s) => (s === val ? 1 : 0)) });
    }
  }
  const dim = cols.length, rows = targetIds.length;
  const x = new Float64Array(rows * dim);
  const rowOf = new Map(t.ids.map((id, r) => [id, r]));
  const missing: number[] = [];
  for (let u = 0; u < rows; u++) {
    const r = rowOf.get(targetIds[u]);
    if (r === undefined) { missing.push(targetIds[u]); continue; }
    for (let d = 0; d < dim; d++) x[u * dim + d] = cols[d].values[r];
  }
  return { rows, dim, x, names: cols.map((c) => c.name), missing };
}

/**
 * Puts two rating sets on one dense numbering: users and items of `b` that `a` lacks are appended (so `a`'s indices
 * are unchanged). @returns both sets with the shared `nUsers`, `nItems`, `userIds`, `itemIds`.
 * @example const { a: train, b: test } = alignRatings(loadedTrain, loadedTest);
 */
export function alignRatings(a: Ratings, b: Ratings): { a: Ratings; b: Ratings } {
  const userIds = [...a.userIds], itemIds = [...a.itemIds];
  const uIdx = new Map(userIds.map((id, u) => [id, u])), iIdx = new Map(itemIds.map((id, i) => [id, i]));
  const user = new Int32Array(b.user.length), item = new Int32Array(b.item.length);
  for (let q = 0; q < b.user.length; q++) {
    const uid = b.userIds[b.user[q]], iid = b.itemIds[b.item[q]];
    let u = uIdx.get(uid);
    if (u === undefined) { u = userIds.length; userIds.push(uid); uIdx.set(uid, u); }
    let i = iIdx.get(iid);
    if (i === undefined) { i = itemIds.length; itemIds.push(iid); iIdx.set(iid, i); }
    user[q] = u;
    item[q] = i;
  }
  const nUsers = userIds.length, nItems = itemIds.length;
  return {
    a: { ...a, nUsers, nItems, userIds, itemIds },
    b: { user, item, rating: b.rating, nUsers, nItems, userIds, itemIds },
  };
}

/** Concatenates rating sets that share one numbering. */
export function concatRatings(...sets: Ratings[]): Ratings {
  const n = sets.reduce((s, r) => s + r.rating.length, 0);
  const user = new Int32Array(n), item = new Int32Array(n), rating = new Float64Array(n);
  let o = 0;
  for (const r of sets) { user.set(r.user, o); item.set(r.item, o); rating.set(r.rating, o); o += r.rating.length; }
  const f = sets[0];
  return { user, item, rating, nUsers: f.nUsers, nItems: f.nItems, userIds: f.userIds, itemIds: f.itemIds };
}
