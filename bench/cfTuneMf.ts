/**
 * Picks the matrix-factorisation baseline's rank, L2 penalty and epochs for bench/cf.ts on a tuning seed (99, not a
 * bench seed) by validation RMSE (10 % of the training ratings; the test split is never touched), so that the MF rows
 * are not handicapped by defaults. Usage: `nice -n 10 npx tsx bench/cfTuneMf.ts`
 */
import { foldIn, key } from '../src/random/index.js';
import { splitRatings, syntheticRatings, type Ratings } from '../src/data/movielens.js';
import { classRatings } from '../src/data/cfBenchmark.js';
import { fitMatrixFactorization, rmse } from '../src/models/rbmCf/index.js';

const k = key(99);
const sets: [string, Ratings][] = [
  ['classes', classRatings(foldIn(k, 1), { nUsers: 2000, nItems: 200, density: 0.06 }).ratings],
  ['low-rank', syntheticRatings(foldIn(k, 1), { nUsers: 2000, nItems: 200, rank: 5, levels: 5, density: 0.1, noise: 0.5 }).ratings],
];
for (const [name, r] of sets) {
  const { train } = splitRatings(r, foldIn(k, 2), 0.1);
  const { train: fit, test: val } = splitRatings(train, foldIn(k, 4), 0.1);
  const rows: [string, number][] = [];
  for (const rank of [5, 10]) for (const reg of [0.02, 0.05, 0.1]) for (const epochs of [40, 100, 200]) for (const learningRate of [0.01, 0.02]) {
    const mf = fitMatrixFactorization(fit, foldIn(k, 1), { rank, reg, epochs, learningRate });
    rows.push([`rank ${rank} reg ${reg} epochs ${epochs} lr ${learningRate}`, rmse(mf.predict(val), val.rating)]);
  }
  rows.sort((a, b) => a[1] - b[1]);
  for (const [m, v] of rows.slice(0, 6)) console.log(`${name.padEnd(9)} ${m.padEnd(36)} validation RMSE ${v.toFixed(4)}`);
}
