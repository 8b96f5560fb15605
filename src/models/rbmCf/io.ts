/**
 * RBM-CF model files (kind `rbm-cf`): the weights plus the training ratings, so that `ebm recommend` can rank items
 * for a user from the file alone. Tensors (safetensors, see `src/io/model.ts`): `W [nItems·K, F]`, `b [nItems·K]`,
 * `c [F]` (float64), `ratings.user`, `ratings.item` (dense indices), `ratings.value` `[n]`, `userIds [nUsers]`,
 * `itemIds [nItems]` (original ids), all float64. Config: `{nItems, nUsers, nHidden, levels}`.
 * @module
 */
import { Tensor } from '../../tensor/tensor.js';
import { DataError } from '../../io/errors.js';
import { checkTensorLayout, loadModel, saveModel, type ModelProvenance } from '../../io/model.js';
import type { Ratings } from '../../data/movielens.js';
import type { RbmCfParams } from './model.js';

/** The model kind written in the file's metadata. */
export const RBM_CF_KIND = 'rbm-cf';

/** Writes an RBM-CF model and its training ratings atomically. */
export async function saveRbmCf(path: string, p: RbmCfParams, ratings: Ratings, provenance: ModelProvenance = {}): Promise<void> {
  const n = ratings.rating.length;
  const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);
  await saveModel(path, {
    kind: RBM_CF_KIND,
    config: { nItems: p.nItems, nUsers: ratings.nUsers, nHidden: p.nHidden, levels: p.levels },
    provenance,
    tensors: {
      W: new Tensor(p.W, [p.nItems * p.K, p.nHidden]),
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

/** Reads an RBM-CF model file, validating kind, config and every tensor's shape and dtype. */
export async function loadRbmCf(path: string): Promise<{ params: RbmCfParams; ratings: Ratings; provenance: ModelProvenance }> {
  const f = await loadModel(path, { kind: RBM_CF_KIND });
  const c0 = f.config;
  const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
  const lv = c0.levels;
  if (!posInt(c0.nItems) || !posInt(c0.nUsers) || !posInt(c0.nHidden) || !Array.isArray(lv) || lv.length < 2 || !lv.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new DataError('config needs positive integers nItems, nUsers, nHidden and a list of ≥ 2 numeric levels', { file: path });
  }
  const cfg = c0 as { nItems: number; nUsers: number; nHidden: number; levels: number[] };
  const t = f.tensors;
  const nRatings = t['ratings.value']?.size ?? 0;
  const K = cfg.levels.length, F = cfg.nHidden;
  checkTensorLayout(t, {
    W: { shape: [cfg.nItems * K, F], dtype: 'float64' },
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
  const params: RbmCfParams = {
    nItems: nI, K: cfg.levels.length, nHidden: cfg.nHidden, levels: cfg.levels,
    W: Float64Array.from(t.W.data), b: Float64Array.from(t.b.data), c: Float64Array.from(t.c.data),
  };
  for (const [name, a] of [['W', params.W], ['b', params.b], ['c', params.c]] as const) {
    for (let q = 0; q < a.length; q++) if (!Number.isFinite(a[q])) throw new DataError(`tensor "${name}"[${q}] is ${a[q]} (not finite)`, { file: path });
  }
  const ratings: Ratings = {
    user, item, rating: Float64Array.from(t['ratings.value'].data), nUsers: nU, nItems: nI,
    userIds: Array.from(t.userIds.data), itemIds: Array.from(t.itemIds.data),
  };
  return { params, ratings, provenance: f.provenance };
}
