/**
 * Picks the matrix-factorisation baseline's rank, L2 penalty, epochs and step size for bench/cf.ts by validation RMSE
 * (10 % of the training ratings; the test splits are never touched), averaged over tuning seeds 97–99 (not bench
 * seeds), so that the MF rows are not handicapped by defaults. The MF key must differ from the generator key
 * `foldIn(k, 1)`: MF initialised from `foldIn(foldIn(k, 1), 1)` starts at the true factors of the low-rank set. Usage: `nice -n 10 npx tsx bench/cfTuneMf.ts`
 */
import { foldIn, key } from '../src/random/index.js';
import { splitRatings, syntheticRatings, type Ratings } from '../src/data/movielens.js';
import { classRatings } from '../src/data/cfBenchmark.js';
import { fitMatrixFactorization, rmse } from '../src/models/rbmCf/index.js';

const grid: { rank: number; reg: number; epochs: number; lr: number }[] = [];
for (const rank of [5, 10]) for (const reg of [0.02, 0.05, 0.1]) for (const epochs of [40, 100]) for (const lr of [0.01, 0.02]) grid.push({ rank, reg, epochs, lr });
for (const name of ['classes', 'low-rank']) {
  const sum = new Float64Array(grid.length);
  for (const seed of [97, 98, 99]) {
    const k = key(seed);
    const r: Ratings = name === 'classes'
      ? classRatings(foldIn(k, 1), { nUsers: 2000, nItems: 200, density: 0.06 }).ratings
      : syntheticRatings(foldIn(k, 1), { nUsers: 2000, nItems: 200, rank: 5, levels: 5, density: 0.1, noise: 0.5 }).ratings;
    const { train } = splitRatings(r, foldIn(k, 2), 0.1);
    const { train: fit, test: val } = splitRatings(train, foldIn(k, 4), 0.1);
    grid.forEach((g, gi) => { sum[gi] += rmse(fitMatrixFactorization(fit, foldIn(k, 0x3f), g).predict(val), val.rating) / 3; });
  }
  const order = grid.map((_, i) => i).sort((a, b) => sum[a] - sum[b]);
  for (const i of order.slice(0, 6)) console.log(`${name.padEnd(9)} ${JSON.stringify(grid[i]).padEnd(60)} mean validation RMSE ${sum[i].toFixed(4)}`);
}
