/**
 * Picks `featureDecay` (L2 on the side-feature weights U, G) for bench/cf.ts on tuning seeds 97–99 (not bench seeds)
 * by validation RMSE (10 % of the training ratings; test splits never touched): conditional RBM-CF without features,
 * with the signal-carrying features and with the shuffled (null) ones.
 * Usage: `nice -n 10 npx tsx bench/cfTuneFeatures.ts`
 */
import { foldIn, key } from '../src/random/index.js';
import { splitRatings } from '../src/data/movielens.js';
import { classRatings } from '../src/data/cfBenchmark.js';
import { compareCf, encodeFeatures } from '../src/models/rbmCf/index.js';

const decays = [0.001, 0.01, 0.05];
const rows = new Map<string, number[]>();
for (const seed of [97, 98, 99]) {
  const k = key(seed);
  const g = classRatings(foldIn(k, 1), { nUsers: 2000, nItems: 200, density: 0.06 });
  const r = g.ratings;
  const { train } = splitRatings(r, foldIn(k, 2), 0.1);
  const { train: fit, test: val } = splitRatings(train, foldIn(k, 4), 0.1);
  const uf = encodeFeatures(g.userFeatures, r.userIds), itf = encodeFeatures(g.itemFeatures, r.itemIds);
  const un = encodeFeatures(g.userFeaturesNull, r.userIds), inn = encodeFeatures(g.itemFeaturesNull, r.itemIds);
  for (const fd of decays) {
    const { scores } = compareCf(fit, val, foldIn(k, 3), {
      nHidden: 20, epochs: 20, weightScale: 0.3, featureDecay: fd, noBaselines: true, blendFraction: 0,
      variants: [{ name: 'none', conditional: true }, { name: 'signal', conditional: true, userFeatures: uf, itemFeatures: itf }, { name: 'null', conditional: true, userFeatures: un, itemFeatures: inn }],
    });
    const base = scores[0].rmse;
    for (const s of scores.slice(1)) {
      const key0 = `featureDecay ${fd} ${s.method} − none`;
      rows.set(key0, [...(rows.get(key0) ?? []), s.rmse - base]);
    }
    console.log(seed, fd, scores.map((s) => `${s.method} ${s.rmse.toFixed(4)}`).join(' | '));
  }
}
for (const [m, v] of rows) console.log(`${m.padEnd(40)} ${v.map((x) => x.toFixed(4)).join(', ')}  mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(4)}`);
