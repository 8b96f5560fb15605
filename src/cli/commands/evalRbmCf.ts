/**
 * `ebm eval m.safetensors --ratings t.tsv [--user-features u.csv] [--item-features i.csv] [--predictions p.csv]`: RMSE
 * of an RBM-CF model on given ratings. Each evaluated pair's own rating is removed from what the model conditions on
 * (the model file stores all ratings it saw, test pairs included); that the pair was rated stays known to a
 * conditional model, as in training.
 */
import { loadRatings } from '../../data/movielens.js';
import { loadRbmCf } from '../../models/rbmCf/io.js';
import { implicitFeedback, predictRatings } from '../../models/rbmCf/model.js';
import { rmse } from '../../models/rbmCf/baselines.js';
import { subsetRatings } from '../../data/movielens.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { printResult, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { checkOutputPath, fmt } from '../common.js';
import { reloadFeatures } from '../rbmCfInputs.js';

/** Flags of `ebm eval` that apply to RBM-CF models. */
export interface EvalRbmCfOptions { ratings: string; userFeatures?: string; itemFeatures?: string; predictions?: string; json?: boolean }

/** Runs `ebm eval` for an RBM-CF model (called inside the command's `runCommand`). */
export async function evalRbmCf(ctx: CliContext, modelPath: string, o: EvalRbmCfOptions): Promise<void> {
  if (o.predictions) checkOutputPath(o.predictions, '--predictions', ['.csv']);
  const { params, ratings, side, features } = await loadRbmCf(modelPath);
  if (o.userFeatures) side.userFeatures = await reloadFeatures(o.userFeatures, ratings.userIds, '--user-features', features.user);
  if (o.itemFeatures) side.itemFeatures = await reloadFeatures(o.itemFeatures, ratings.itemIds, '--item-features', features.item);
  const ev = await loadRatings(o.ratings);
  const uIdx = new Map(ratings.userIds.map((id, u) => [id, u])), iIdx = new Map(ratings.itemIds.map((id, i) => [id, i]));
  const n = ev.rating.length;
  const user = new Int32Array(n), item = new Int32Array(n);
  let unknown = 0;
  for (let q = 0; q < n; q++) {
    const u = uIdx.get(ev.userIds[ev.user[q]]), i = iIdx.get(ev.itemIds[ev.item[q]]);
    if (u === undefined || i === undefined) { unknown++; continue; }
    user[q] = u;
    item[q] = i;
  }
  if (unknown) throw new UsageError(`--ratings ${o.ratings}: ${unknown} of ${n} ratings name a user or item the model does not know`);
  const held = new Set<number>();
  for (let q = 0; q < n; q++) held.add(user[q] * ratings.nItems + item[q]);
  const keep: number[] = [];
  for (let q = 0; q < ratings.rating.length; q++) if (!held.has(ratings.user[q] * ratings.nItems + ratings.item[q])) keep.push(q);
  const known = subsetRatings(ratings, keep);
  if (side.implicit) side.implicit = implicitFeedback(ratings, { user, item, nUsers: ratings.nUsers, nItems: ratings.nItems });
  const pred = predictRatings(params, known, { user, item }, side);
  const result = { model: modelPath, kind: 'rbm-cf', ratings: o.ratings, n, rmse: rmse(pred, ev.rating), ...(o.predictions ? { predictions: o.predictions } : {}) };
  if (o.predictions) {
    const lines = ['user,item,prediction'];
    for (let q = 0; q < n; q++) lines.push(`${ratings.userIds[user[q]]},${ratings.itemIds[item[q]]},${pred[q]}`);
    await writeFileAtomic(o.predictions, lines.join('\n') + '\n');
  }
  printResult(ctx, o.json, result, () => `rbm-cf ${modelPath} on ${o.ratings} (${n} ratings): RMSE ${fmt(result.rmse)}`);
}
