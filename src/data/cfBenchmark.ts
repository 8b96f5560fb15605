/**
 * A synthetic collaborative-filtering benchmark that no model in this library generated ("latent classes"): users
 * and items belong to latent classes, ratings come from a nonlinear score cut at thresholds, which pairs are observed
 * depends on the (unobserved) score — users rate more of what they like — and the side features carry part of the
 * latent information, some of them none. See {@link classRatings} for the exact recipe.
 * @module
 */
import { randintArray, foldIn, normalArray, permutation, uniformArray, type Key } from '../random/index.js';
import type { Ratings } from './movielens.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link classRatings}. */
export interface ClassRatingsOptions {
  nUsers?: number;
  nItems?: number;
  /** Latent user classes (default 6) and item classes (default 5). */
  userClasses?: number;
  itemClasses?: number;
  /** Mean fraction of (user, item) pairs observed (default 0.05). */
  density?: number;
  /** Self-selection strength: the observation logit gains `mnar·z_ui` (default 1.5). 0 = missing at random. */
  mnar?: number;
  /** Probability that a class feature shows a random class instead of the true one (default 0.15). */
  featureNoise?: number;
  /** Sd of the per-rating noise (default 0.5). */
  noise?: number;
}

/** A feature table as text cells: header names (without the id column), ids and `cells[row][column]`. */
export interface GeneratedFeatures {
  columns: string[];
  ids: number[];
  cells: string[][];
}

/** The generated benchmark: ratings, side features with and without signal, and the hidden truth. */
export interface ClassRatings {
  ratings: Ratings;
  /** User features carrying signal (`class`, `trait`) and none (`noise1`, `noise2`). */
  userFeatures: GeneratedFeatures;
  /** Item features carrying signal (`genre`, `appeal`) and none (`noise1`, `noise2`). */
  itemFeatures: GeneratedFeatures;
  /** The same tables with their rows shuffled across ids: identical marginals, no information about anyone. */
  userFeaturesNull: GeneratedFeatures;
  itemFeaturesNull: GeneratedFeatures;
  /** Latent classes and the noise-free score of each generated rating (aligned with `ratings`). */
  userClass: Int32Array;
  itemClass: Int32Array;
  score: Float64Array;
}

/** Rating thresholds on the noisy score: levels 1…5 (skewed towards 3–4, like real rating data). */
export const CLASS_RATING_THRESHOLDS = [-1.6, -0.7, 0.2, 1.2] as const;

/**
 * Generates the latent-class benchmark. With user class `c_u`, item class `g_i` (uniform), traits
 * `t_u, s_i ~ N(0, 1)`, an affinity table `M [userClasses, itemClasses] ~ N(0, 1)`, user bias `β_u ~ N(0, 0.3²)`
 * and item bias `γ_i = 0.4·s_i + N(0, 0.2²)`, the noise-free score is
 *
 *   z_ui = M[c_u, g_i] + β_u + γ_i + 0.8·tanh(1.5·t_u·s_i) − 0.4·|t_u − s_i|,
 *
 * the rating is `1 + #{τ_k < z_ui + ε}` with `ε ~ N(0, noise²)` and thresholds {@link CLASS_RATING_THRESHOLDS}, and
 * the pair is observed with probability `σ(o + α_u + π_i + mnar·z_ui)` (activity `α_u ~ N(0, 0.8²)`, popularity
 * `π_i ~ N(0, 0.8²)`, the offset `o` set by bisection so the mean probability is `density`). User features:
 * `class` (`c_u`, replaced by a uniform class with probability `featureNoise`), `trait` (`t_u + N(0, 0.5²)`),
 * `noise1 ~ N(0, 1)`, `noise2` uniform over {a, b, c}; item features the same with `genre` (`g_i`) and `appeal`
 * (`s_i + N(0, 0.5²)`). The null tables permute the rows of these across ids. Ids are `1…`.
 * @example const bench = classRatings(key(0), { nUsers: 1000, nItems: 200 });
 */
export function classRatings(k: Key, opts: ClassRatingsOptions = {}): ClassRatings {
  const nU = opts.nUsers ?? 1000, nI = opts.nItems ?? 200, Cu = opts.userClasses ?? 6, Ci = opts.itemClasses ?? 5;
  const density = opts.density ?? 0.05, mnar = opts.mnar ?? 1.5, fnoise = opts.featureNoise ?? 0.15, noise = opts.noise ?? 0.5;
  for (const [name, v] of [['nUsers', nU], ['nItems', nI], ['userClasses', Cu], ['itemClasses', Ci]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`classRatings: ${name} must be a positive integer, got ${v}`);
  }
  if (!(density > 0 && density < 1)) throw new InvalidArgumentError(`classRatings: density must be in (0, 1), got ${density}`);
  if (!(fnoise >= 0 && fnoise <= 1)) throw new InvalidArgumentError(`classRatings: featureNoise must be in [0, 1], got ${fnoise}`);
  if (!(noise >= 0) || !Number.isFinite(mnar)) throw new InvalidArgumentError('classRatings: noise must be ≥ 0 and mnar finite');
  const uniformCats = (kk: Key, n: number, c: number): Int32Array => randintArray(kk, 0, c, n);
  const cu = uniformCats(foldIn(k, 1), nU, Cu), ci = uniformCats(foldIn(k, 2), nI, Ci);
  const M = normalArray(foldIn(k, 3), Cu * Ci, 'float64');
  const t = normalArray(foldIn(k, 4), nU, 'float64'), s = normalArray(foldIn(k, 5), nI, 'float64');
  const beta = normalArray(foldIn(k, 6), nU, 'float64').map((z) => 0.3 * z);
  const gamma = normalArray(foldIn(k, 7), nI, 'float64').map((z, i) => 0.4 * s[i] + 0.2 * z);
  const alpha = normalArray(foldIn(k, 8), nU, 'float64').map((z) => 0.8 * z);
  const pi = normalArray(foldIn(k, 9), nI, 'float64').map((z) => 0.8 * z);
  const z = new Float64Array(nU * nI);
  for (let u = 0; u < nU; u++) {
    for (let i = 0; i < nI; i++) {
      z[u * nI + i] = M[cu[u] * Ci + ci[i]] + beta[u] + gamma[i] + 0.8 * Math.tanh(1.5 * t[u] * s[i]) - 0.4 * Math.abs(t[u] - s[i]);
    }
  }
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));
  const meanP = (o: number): number => { let m = 0; for (let u = 0; u < nU; u++) for (let i = 0; i < nI; i++) m += sig(o + alpha[u] + pi[i] + mnar * z[u * nI + i]); return m / (nU * nI); };
  let lo = -30, hi = 30;
  for (let it = 0; it < 60; it++) { const mid = (lo + hi) / 2; if (meanP(mid) < density) lo = mid; else hi = mid; }
  const off = (lo + hi) / 2;
  const eps = normalArray(foldIn(k, 10), nU * nI, 'float64');
  const obs = uniformArray(foldIn(k, 11), nU * nI, 'float64');
  const us: number[] = [], is: number[] = [], rs: number[] = [], ss: number[] = [];
  for (let u = 0; u < nU; u++) {
    for (let i = 0; i < nI; i++) {
      const zz = z[u * nI + i];
      if (obs[u * nI + i] >= sig(off + alpha[u] + pi[i] + mnar * zz)) continue;
      const y = zz + noise * eps[u * nI + i];
      let level = 1;
      for (const tau of CLASS_RATING_THRESHOLDS) if (y > tau) level++;
      us.push(u); is.push(i); rs.push(level); ss.push(zz);
    }
  }
  const ratings: Ratings = {
    user: Int32Array.from(us), item: Int32Array.from(is), rating: Float64Array.from(rs), nUsers: nU, nItems: nI,
    userIds: Array.from({ length: nU }, (_, u) => u + 1), itemIds: Array.from({ length: nI }, (_, i) => i + 1),
  };
  const table = (kk: Key, n: number, cls: Int32Array, C: number, trait: Float64Array, names: [string, string]): GeneratedFeatures => {
    const flip = uniformArray(foldIn(kk, 1), n, 'float64'), rc = uniformCats(foldIn(kk, 2), n, C);
    const tn = normalArray(foldIn(kk, 3), n, 'float64'), n1 = normalArray(foldIn(kk, 4), n, 'float64'), n2 = uniformCats(foldIn(kk, 5), n, 3);
    const cells: string[][] = [];
    for (let r = 0; r < n; r++) {
      const c = flip[r] < fnoise ? rc[r] : cls[r];
      cells.push([`c${c}`, (trait[r] + 0.5 * tn[r]).toFixed(4), n1[r].toFixed(4), 'abc'[n2[r]]]);
    }
    return { columns: [names[0], names[1], 'noise1', 'noise2'], ids: Array.from({ length: n }, (_, r) => r + 1), cells };
  };
  const shuffled = (kk: Key, f: GeneratedFeatures): GeneratedFeatures => {
    const perm = permutation(kk, f.cells.length);
    return { columns: f.columns, ids: f.ids, cells: Array.from(perm, (r) => f.cells[r]) };
  };
  const userFeatures = table(foldIn(k, 12), nU, cu, Cu, t, ['class', 'trait']);
  const itemFeatures = table(foldIn(k, 13), nI, ci, Ci, s, ['genre', 'appeal']);
  return {
    ratings, userFeatures, itemFeatures,
    userFeaturesNull: shuffled(foldIn(k, 14), userFeatures), itemFeaturesNull: shuffled(foldIn(k, 15), itemFeatures),
    userClass: cu, itemClass: ci, score: Float64Array.from(ss),
  };
}

/** Formats a feature table as CSV with a header (`idName,col1,…`). */
export function formatFeatureCsv(f: GeneratedFeatures, idName = 'id'): string {
  return [[idName, ...f.columns].join(','), ...f.ids.map((id, r) => [id, ...f.cells[r]].join(','))].join('\n') + '\n';
}
