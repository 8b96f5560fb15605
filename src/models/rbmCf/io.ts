/**
 * RBM-CF model files (kind `rbm-cf`): the weights plus the ratings (and side features), so that `ebm recommend` can
 * rank items for a user from the file alone. Tensors (safetensors, see `src/io/model.ts`), all float64:
 * `W [nItems·K, F]` (or, factored, `A [nItems·K, R]` and `B [R, F]`), `b [nItems·K]`, `c [F]`, and when present
 * `D [nItems, F]` (conditional), `U [Du, F]` with `userFeatures [nUsers, Du]`, `G [Di, K]` with
 * `itemFeatures [nItems, Di]`; `ratings.user`, `ratings.item` (dense indices), `ratings.value` `[n]`,
 * `userIds [nUsers]`, `itemIds [nItems]` (original ids). Config: `{nItems, nUsers, nHidden, levels}` plus
 * `conditional`, `implicitNorm`, `factorRank`, `userFeatureNames`, `itemFeatureNames` when used. A conditional model's implicit
 * feedback is the set of rated pairs in the file.
 * @module
 */
import { Tensor } from '../../tensor/tensor.js';
import { DataError } from '../../io/errors.js';
import { checkTensorLayout, loadModel, saveModel, type ModelProvenance } from '../../io/model.js';
import type { Ratings } from '../../data/movielens.js';
import { implicitFeedback, syncFactoredWeights, type CfSideInfo, type FeatureMatrix, type RbmCfParams } from './model.js';
import { InvalidArgumentError } from '../../errors.js';

/** Side features stored with a model: the matrix (rows = the file's users or items) and its column names. */
export interface StoredFeatures extends FeatureMatrix {
  names: string[];
}

/** The model kind written in the file's metadata. */
export const RBM_CF_KIND = 'rbm-cf';

/** Writes an RBM-CF model and its training ratings atomically. */
export async function saveRbmCf(path: string, p: RbmCfParams, ratings: Ratings, provenance: ModelProvenance = {}, features: { user?: StoredFeatures; item?: StoredFeatures } = {}): Promise<void> {
  const n = ratings.rating.length;
  const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);
  const extra: Record<string, Tensor> = {};
  const config: Record<string, unknown> = { nItems: p.nItems, nUsers: ratings.nUsers, nHidden: p.nHidden, levels: p.levels };
  if (p.factors) {
    config.factorRank = p.factors.rank;
    extra.A = new Tensor(p.factors.A, [p.nItems * p.K, p.factors.rank]);
    extra.B = new Tensor(p.factors.B, [p.factors.rank, p.nHidden]);
  } else extra.W = new Tensor(p.W, [p.nItems * p.K, p.nHidden]);
  if (p.D) { config.conditional = true; extra.D = new Tensor(p.D, [p.nItems, p.nHidden]); if (p.implicitNorm) config.implicitNorm = p.implicitNorm; }
  if (p.U) {
    const f = features.user;
    if (!f || f.dim !== p.userFeatureDim || f.rows !== ratings.nUsers) throw new InvalidArgumentError(`saveRbmCf: the model has user-feature weights; pass features.user (${ratings.nUsers}×${p.userFeatureDim})`);
    config.userFeatureNames = f.names;
    extra.U = new Tensor(p.U, [f.dim, p.nHidden]);
    extra.userFeatures = new Tensor(f.x, [f.rows, f.dim]);
  }
  if (p.G) {
    const f = features.item;
    if (!f || f.dim !== p.itemFeatureDim || f.rows !== p.nItems) throw new InvalidArgumentError(`saveRbmCf: the model has item-feature weights; pass features.item (${p.nItems}×${p.itemFeatureDim})`);
    config.itemFeatureNames = f.names;
    extra.G = new Tensor(p.G, [f.dim, p.K]);
    extra.itemFeatures = new Tensor(f.x, [f.rows, f.dim]);
  }
  await saveModel(path, {
    kind: RBM_CF_KIND,
    config,
    provenance,
    tensors: {
      ...extra,
      b: new Tensor(p.b, [p.nItems * p.K]),
      c: new Tensor(p.c, [p.nHidden]),
      'ratings.user': new Tensor(f64(ratings.user), [n]),
      'ratings.item': new Tensor(f64(ratings.item), [n]),
      'ratings.value': new Tensor(f64(ratings.rating), [n]),
      userIds: new Tensor(f64(ratings.userIds), [ratings.nUsers]),
      itemIds: new Tensor(f64(ratings.itemIds), [ratings.nItems]),
    },
  });
}

/**
 * Reads an RBM-CF model file, validating kind, config and every tensor's shape and dtype. `side` is what the model
 * conditions on, rebuilt from the file (implicit feedback = the stored rated pairs; the stored features).
 */
export async function loadRbmCf(path: string): Promise<{ params: RbmCfParams; ratings: Ratings; side: CfSideInfo; features: { user?: StoredFeatures; item?: StoredFeatures }; provenance: ModelProvenance }> {
  const f = await loadModel(path, { kind: RBM_CF_KIND });
  const c0 = f.config;
  const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
  const lv = c0.levels;
  if (!posInt(c0.nItems) || !posInt(c0.nUsers) || !posInt(c0.nHidden) || !Array.isArray(lv) || lv.length < 2 || !lv.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new DataError('config needs positive integers nItems, nUsers, nHidden and a list of ≥ 2 numeric levels', { file: path });
  }
  const names = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');
  if ((c0.factorRank !== undefined && !posInt(c0.factorRank)) || (c0.conditional !== undefined && c0.conditional !== true)
    || (c0.implicitNorm !== undefined && c0.implicitNorm !== 'none' && c0.implicitNorm !== 'sqrt')
    || (c0.userFeatureNames !== undefined && !names(c0.userFeatureNames)) || (c0.itemFeatureNames !== undefined && !names(c0.itemFeatureNames))) {
    throw new DataError('config: factorRank must be a positive integer, conditional true, implicitNorm none or sqrt, feature names non-empty string lists', { file: path });
  }
  const cfg = c0 as { nItems: number; nUsers: number; nHidden: number; levels: number[]; factorRank?: number; conditional?: true; implicitNorm?: 'none' | 'sqrt'; userFeatureNames?: string[]; itemFeatureNames?: string[] };
  const t = f.tensors;
  const nRatings = t['ratings.value']?.size ?? 0;
  const K = cfg.levels.length, F = cfg.nHidden, R = cfg.factorRank;
  const Du = cfg.userFeatureNames?.length, Di = cfg.itemFeatureNames?.length;
  const f64 = { dtype: 'float64' as const };
  checkTensorLayout(t, {
    ...(R ? { A: { shape: [cfg.nItems * K, R], ...f64 }, B: { shape: [R, F], ...f64 } } : { W: { shape: [cfg.nItems * K, F], ...f64 } }),
    ...(cfg.conditional ? { D: { shape: [cfg.nItems, F], ...f64 } } : {}),
    ...(Du ? { U: { shape: [Du, F], ...f64 }, userFeatures: { shape: [cfg.nUsers, Du], ...f64 } } : {}),
    ...(Di ? { G: { shape: [Di, K], ...f64 }, itemFeatures: { shape: [cfg.nItems, Di], ...f64 } } : {}),
    b: { shape: [cfg.nItems * K], dtype: 'float64' },
    c: { shape: [F], dtype: 'float64' },
    'ratings.user': { shape: [nRatings], dtype: 'float64' },
    'ratings.item': { shape: [nRatings], dtype: 'float64' },
    'ratings.value': { shape: [nRatings], dtype: 'float64' },
    userIds: { shape: [cfg.nUsers], dtype: 'float64' },
    itemIds: { shape: [cfg.nItems], dtype: 'float64' },
  }, path);
  const nU = cfg.nUsers, nI = cfg.nItems;
  const user = Int32Array.from(t['ratings.user'].data), item = Int32Array.from(t['ratings.item'].data);
  for (let q = 0; q < nRatings; q++) {
    if (!(user[q] >= 0 && user[q] < nU && user[q] === t['ratings.user'].data[q])) throw new DataError(`ratings.user[${q}] = ${t['ratings.user'].data[q]} is not a user index in [0, ${nU})`, { file: path });
    if (!(item[q] >= 0 && item[q] < nI && item[q] === t['ratings.item'].data[q])) throw new DataError(`ratings.item[${q}] = ${t['ratings.item'].data[q]} is not an item index in [0, ${nI})`, { file: path });
  }
  const arr = (name: string): Float64Array => {
    const a = Float64Array.from(t[name].data);
    for (let q = 0; q < a.length; q++) if (!Number.isFinite(a[q])) throw new DataError(`tensor "${name}"[${q}] is ${a[q]} (not finite)`, { file: path });
    return a;
  };
  const params: RbmCfParams = {
    nItems: nI, K: cfg.levels.length, nHidden: cfg.nHidden, levels: cfg.levels,
    W: R ? new Float64Array(nI * K * F) : arr('W'), b: arr('b'), c: arr('c'),
  };
  if (R) { params.factors = { rank: R, A: arr('A'), B: arr('B') }; syncFactoredWeights(params); }
  if (cfg.conditional) { params.D = arr('D'); if (cfg.implicitNorm === 'sqrt') params.implicitNorm = 'sqrt'; }
  const features: { user?: StoredFeatures; item?: StoredFeatures } = {};
  if (Du) { params.U = arr('U'); params.userFeatureDim = Du; features.user = { rows: nU, dim: Du, x: arr('userFeatures'), names: cfg.userFeatureNames! }; }
  if (Di) { params.G = arr('G'); params.itemFeatureDim = Di; features.item = { rows: nI, dim: Di, x: arr('itemFeatures'), names: cfg.itemFeatureNames! }; }
  const ratings: Ratings = {
    user, item, rating: Float64Array.from(t['ratings.value'].data), nUsers: nU, nItems: nI,
    userIds: Array.from(t.userIds.data), itemIds: Array.from(t.itemIds.data),
  };
  const side: CfSideInfo = {};
  if (params.D) side.implicit = implicitFeedback(ratings);
  if (features.user) side.userFeatures = features.user;
  if (features.item) side.itemFeatures = features.item;
  return { params, ratings, side, features, provenance: f.provenance };
}
