/**
 * Rating data for collaborative filtering: a loader for MovieLens-format files (`user item rating [timestamp]` per
 * line, separated by tabs, commas, `::` or spaces; an optional header line), a generator of synthetic ratings from a
 * known low-rank model, and a random train/test split.
 * @module
 */
import { DataError, ioErrorDetail } from '../io/errors.js';
import { readInputText } from '../io/safeFile.js';
import { foldIn, normalArray, permutation, uniformArray, type Key } from '../random/index.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * A set of (user, item, rating) triples with users and items renumbered densely `0…nUsers−1`, `0…nItems−1`
 * (`userIds[u]` / `itemIds[i]` are the original ids).
 */
export interface Ratings {
  /** Dense user index per rating. */
  user: Int32Array;
  /** Dense item index per rating. */
  item: Int32Array;
  /** Rating value per rating. */
  rating: Float64Array;
  nUsers: number;
  nItems: number;
  /** Original id of each dense user / item index. */
  userIds: number[];
  itemIds: number[];
}

/** Number of ratings. */
export function ratingCount(r: Ratings): number {
  return r.rating.length;
}

/** The distinct rating values, ascending (e.g. `[1, 2, 3, 4, 5]`, or half stars `[0.5, 1, …, 5]`). */
export function ratingLevels(r: Ratings): number[] {
  return [...new Set(r.rating)].sort((a, b) => a - b);
}

/** Options of {@link parseRatings}. */
export interface ParseRatingsOptions {
  /** File name for error messages (default `ratings`). */
  file?: string;
}

function splitLine(line: string): string[] {
  if (line.includes('::')) return line.split('::');
  if (line.includes('\t')) return line.split('\t');
  if (line.includes(',')) return line.split(',');
  return line.trim().split(/\s+/);
}

/**
 * Parses MovieLens-format text: one rating per line, `user item rating [timestamp …]`, fields separated by a tab, a
 * comma, `::` (MovieLens 1M) or spaces. Blank lines and lines starting with `#` are skipped; a first line whose
 * rating field is not a number is taken as a header. User and item ids must be non-negative integers, ratings finite
 * numbers; a (user, item) pair may appear once. Errors name the file, line and column.
 * @example parseRatings('1\t10\t4\t881250949\n2\t10\t3\t891717742\n').nUsers // 2
 */
export function parseRatings(text: string, opts: ParseRatingsOptions = {}): Ratings {
  const file = opts.file ?? 'ratings';
  const lines = text.split(/\r?\n/);
  const us: number[] = [], is: number[] = [], rs: number[] = [];
  const userIndex = new Map<number, number>(), itemIndex = new Map<number, number>();
  const userIds: number[] = [], itemIds: number[] = [];
  const seen = new Map<string, number>();
  let first = true;
  for (let ln = 0; ln < lines.length; ln++) {
    const raw = lines[ln];
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = splitLine(line).map((s) => s.trim());
    const isHeader = first && (f.length < 3 || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(f[2] ?? ''));
    first = false;
    if (isHeader) continue;
    const where = { file, line: ln + 1 };
    if (f.length < 3) throw new DataError(`expected at least 3 fields (user item rating), got ${f.length}`, where);
    const id = (s: string, col: number, what: string): number => {
      if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new DataError(`${what} id "${s}" is not a non-negative integer`, { ...where, column: col });
      return Number(s);
    };
    const uid = id(f[0], 1, 'user'), iid = id(f[1], 2, 'item');
    const v = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(f[2]) ? Number(f[2]) : NaN;
    if (!Number.isFinite(v)) throw new DataError(`rating "${f[2]}" is not a finite number`, { ...where, column: 3 });
    let u = userIndex.get(uid);
    if (u === undefined) { u = userIds.length; userIndex.set(uid, u); userIds.push(uid); }
    let i = itemIndex.get(iid);
    if (i === undefined) { i = itemIds.length; itemIndex.set(iid, i); itemIds.push(iid); }
    const k = `${u},${i}`;
    const prev = seen.get(k);
    if (prev !== undefined) throw new DataError(`user ${uid} rates item ${iid} twice (first on line ${prev})`, where);
    seen.set(k, ln + 1);
    us.push(u); is.push(i); rs.push(v);
  }
  if (rs.length === 0) throw new DataError('no ratings found', { file });
  return { user: Int32Array.from(us), item: Int32Array.from(is), rating: Float64Array.from(rs), nUsers: userIds.length, nItems: itemIds.length, userIds, itemIds };
}

/** Reads and parses a MovieLens-format file (see {@link parseRatings}). */
export async function loadRatings(path: string): Promise<Ratings> {
  let text: string;
  try {
    text = await readInputText(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot read ratings file (${ioErrorDetail(e)})`, { file: path });
  }
  return parseRatings(text, { file: path });
}

/** Keeps the ratings at the given positions (same user/item numbering). */
export function subsetRatings(r: Ratings, idx: ArrayLike<number>): Ratings {
  const n = idx.length;
  const out: Ratings = { user: new Int32Array(n), item: new Int32Array(n), rating: new Float64Array(n), nUsers: r.nUsers, nItems: r.nItems, userIds: r.userIds, itemIds: r.itemIds };
  for (let q = 0; q < n; q++) { const p = idx[q]; out.user[q] = r.user[p]; out.item[q] = r.item[p]; out.rating[q] = r.rating[p]; }
  return out;
}

/**
 * Random train/test split: a permutation from `key`; the first `round(testFraction·n)` ratings go to test. Both
 * keep the full user/item numbering.
 * @example const { train, test } = splitRatings(r, key(0), 0.1);
 */
export function splitRatings(r: Ratings, k: Key, testFraction = 0.1): { train: Ratings; test: Ratings } {
  if (!(testFraction > 0 && testFraction < 1)) throw new InvalidArgumentError(`splitRatings: testFraction must be in (0, 1), got ${testFraction}`);
  const n = r.rating.length;
  const perm = permutation(k, n);
  const nTest = Math.round(testFraction * n);
  const test = Array.from(perm.subarray(0, nTest)).sort((a, b) => a - b);
  const train = Array.from(perm.subarray(nTest)).sort((a, b) => a - b);
  return { train: subsetRatings(r, train), test: subsetRatings(r, test) };
}

/** Options of {@link syntheticRatings}. */
export interface SyntheticRatingsOptions {
  nUsers?: number;
  nItems?: number;
  /** Rank of the interaction term (default 5). */
  rank?: number;
  /** Rating levels `1…levels` (default 5). */
  levels?: number;
  /** Fraction of (user, item) pairs observed (default 0.1). */
  density?: number;
  /** Standard deviation of the interaction `u·v` (default 1). */
  signal?: number;
  /** Standard deviations of the user and item biases (default 0.4 each). */
  userBiasSd?: number;
  itemBiasSd?: number;
  /** Standard deviation of the per-rating noise (default 0.5). */
  noise?: number;
}

/** Synthetic ratings and the model that generated them. */
export interface SyntheticRatings {
  ratings: Ratings;
  /** `U [nUsers, rank]`, `V [nItems, rank]` row-major, and the biases. */
  U: Float64Array;
  V: Float64Array;
  userBias: Float64Array;
  itemBias: Float64Array;
  /** Noise-free score `s_ui` of each generated rating (before rounding), aligned with `ratings`. */
  score: Float64Array;
}

/**
 * Ratings from a known low-rank model: `s_ui = a_u + b_i + U_u·V_i + ε_ui` with `U_uk, V_ik ~ N(0, (signal²/rank)^½)`
 * (so `sd(U_u·V_i) = signal`), `a_u ~ N(0, userBiasSd²)`, `b_i ~ N(0, itemBiasSd²)`, `ε ~ N(0, noise²)`, and
 * `rating = clamp(round((levels + 1)/2 + s_ui), 1, levels)`. Each pair is observed independently with probability
 * `density`. Users/items are numbered `0…` with `userIds[u] = u + 1`, `itemIds[i] = i + 1`.
 * @example const { ratings } = syntheticRatings(key(0), { nUsers: 500, nItems: 300, rank: 5 });
 */
export function syntheticRatings(k: Key, opts: SyntheticRatingsOptions = {}): SyntheticRatings {
  const nU = opts.nUsers ?? 500, nI = opts.nItems ?? 300, R = opts.rank ?? 5, L = opts.levels ?? 5;
  const density = opts.density ?? 0.1, signal = opts.signal ?? 1, noise = opts.noise ?? 0.5;
  for (const [name, v] of [['nUsers', nU], ['nItems', nI], ['rank', R]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`syntheticRatings: ${name} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(L) || L < 2) throw new InvalidArgumentError(`syntheticRatings: levels must be an integer ≥ 2, got ${L}`);
  if (!(density > 0 && density <= 1)) throw new InvalidArgumentError(`syntheticRatings: density must be in (0, 1], got ${density}`);
  const sd = Math.pow((signal * signal) / R, 0.25);
  const U = normalArray(foldIn(k, 1), nU * R, 'float64').map((z) => z * sd);
  const V = normalArray(foldIn(k, 2), nI * R, 'float64').map((z) => z * sd);
  const ub = normalArray(foldIn(k, 3), nU, 'float64').map((z) => z * (opts.userBiasSd ?? 0.4));
  const ib = normalArray(foldIn(k, 4), nI, 'float64').map((z) => z * (opts.itemBiasSd ?? 0.4));
  const eps = normalArray(foldIn(k, 5), nU * nI, 'float64');
  const obs = uniformArray(foldIn(k, 6), nU * nI, 'float64');
  const us: number[] = [], is: number[] = [], rs: number[] = [], ss: number[] = [];
  const mid = (L + 1) / 2;
  for (let u = 0; u < nU; u++) {
    for (let i = 0; i < nI; i++) {
      if (obs[u * nI + i] >= density) continue;
      let s = ub[u] + ib[i];
      for (let r = 0; r < R; r++) s += U[u * R + r] * V[i * R + r];
      ss.push(s);
      s += noise * eps[u * nI + i];
      us.push(u); is.push(i); rs.push(Math.min(L, Math.max(1, Math.round(mid + s))));
    }
  }
  const ratings: Ratings = {
    user: Int32Array.from(us), item: Int32Array.from(is), rating: Float64Array.from(rs), nUsers: nU, nItems: nI,
    userIds: Array.from({ length: nU }, (_, u) => u + 1), itemIds: Array.from({ length: nI }, (_, i) => i + 1),
  };
  return { ratings, U, V, userBias: ub, itemBias: ib, score: Float64Array.from(ss) };
}

/** Formats ratings as MovieLens tab-separated text (`user\titem\trating\t0`), original ids. */
export function formatRatings(r: Ratings): string {
  const lines: string[] = [];
  for (let q = 0; q < r.rating.length; q++) lines.push(`${r.userIds[r.user[q]]}\t${r.itemIds[r.item[q]]}\t${r.rating[q]}\t0`);
  return lines.join('\n') + '\n';
}
