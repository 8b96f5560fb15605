/**
 * `ebm train rbm-cf --ratings r.tsv --out m.safetensors`: trains an RBM for collaborative filtering on a
 * MovieLens-format file, reporting test RMSE on a random held-out split next to the baselines (global mean,
 * user+item biases, matrix factorisation). The saved model holds the weights and all ratings (train + test), for
 * `ebm recommend`.
 */
import type { Command } from 'commander';
import { foldIn, key as makeKey } from '../../random/index.js';
import { loadRatings, ratingLevels, splitRatings } from '../../data/movielens.js';
import { compareCf } from '../../models/rbmCf/evaluate.js';
import { saveRbmCf } from '../../models/rbmCf/io.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { addSeedOption, checkOutputPath, fmt } from '../common.js';
import { parseIntList, parsePositiveFloat, parsePositiveInt, parseUnitInterval } from '../options.js';

interface Opts {
  ratings: string; out: string; hidden: number; epochs: number; lr: number; batch: number; cd: number[];
  weightDecay: number; testFraction: number; mfRank: number; seed: number; json?: boolean; quiet?: boolean;
}

/** Registers `ebm train rbm-cf` on the `train` command. */
export function registerTrainRbmCf(train: Command, ctx: CliContext): void {
  const cmd = train
    .command('rbm-cf')
    .description('RBM collaborative filtering (softmax visible units over rating levels; held-out RMSE vs baselines)')
    .requiredOption('--ratings <file>', 'MovieLens-format ratings: user item rating [timestamp], tab/comma/:: separated')
    .requiredOption('--out <model.safetensors>', 'model file to write')
    .option('--hidden <n>', 'hidden units F', parsePositiveInt, 20)
    .option('--epochs <n>', 'training epochs', parsePositiveInt, 20)
    .option('--lr <lr>', 'learning rate', parsePositiveFloat, 0.1)
    .option('--batch <n>', 'users per mini-batch', parsePositiveInt, 20)
    .option('--cd <list>', 'CD steps T per equal phase of training, e.g. 1,3,5 (increasing T)', parseIntList, [1, 3, 5])
    .option('--weight-decay <w>', 'L2 weight decay', parseUnitInterval, 0.001)
    .option('--test-fraction <f>', 'fraction of ratings held out for RMSE', parseUnitInterval, 0.1)
    .option('--mf-rank <r>', 'rank of the matrix-factorisation baseline', parsePositiveInt, 10)
    .option('--quiet', 'no per-epoch progress on stderr')
    .option('--json', 'print one JSON object');
  addSeedOption(cmd);
  cmd.action((o: Opts) =>
    runCommand(ctx, async () => {
      checkOutputPath(o.out, '--out', ['.safetensors']);
      if (!(o.testFraction > 0 && o.testFraction < 1)) throw new UsageError(`--test-fraction must be strictly between 0 and 1, got ${o.testFraction}`);
      const all = await loadRatings(o.ratings);
      if (all.rating.length < 10) throw new UsageError(`--ratings ${o.ratings}: needs at least 10 ratings, got ${all.rating.length}`);
      const levels = ratingLevels(all);
      if (levels.length < 2) throw new UsageError(`--ratings ${o.ratings}: all ratings are ${levels[0]}; need at least 2 distinct levels`);
      if (levels.length > 20) throw new UsageError(`--ratings ${o.ratings}: ${levels.length} distinct rating values; RBM-CF needs a small set of levels (≤ 20)`);
      const k = makeKey(o.seed);
      const { train, test } = splitRatings(all, foldIn(k, 0x5b1), o.testFraction);
      const t0 = performance.now();
      const { scores, rbm } = compareCf(train, test, foldIn(k, 0xcf), {
        nHidden: o.hidden, epochs: o.epochs, learningRate: o.lr, batchSize: o.batch, cdSteps: o.cd, weightDecay: o.weightDecay, levels,
        mf: { rank: o.mfRank },
        onEpoch: (e) => { if (!o.quiet && ctx.io.stderrIsTTY) ctx.io.stderr(`\repoch ${e.epoch}/${o.epochs} T=${e.T} recon ${fmt(e.reconError)}   `); },
      });
      if (!o.quiet && ctx.io.stderrIsTTY) ctx.io.stderr('\n');
      const seconds = (performance.now() - t0) / 1000;
      await saveRbmCf(o.out, rbm, all, {
        data: o.ratings, seed: o.seed, epochs: o.epochs, lr: o.lr, batch: o.batch, cd: o.cd, weightDecay: o.weightDecay,
        testFraction: o.testFraction, testRmse: scores[3].rmse,
      });
      const result = {
        model: o.out, kind: 'rbm-cf', users: all.nUsers, items: all.nItems, ratings: all.rating.length, levels,
        train: train.rating.length, test: test.rating.length, hidden: o.hidden, epochs: o.epochs,
        results: scores.map((s) => ({ method: s.method, rmse: s.rmse, trainRmse: s.trainRmse, seconds: s.seconds })), seconds,
      };
      printResult(ctx, o.json, result, () =>
        [
          `rbm-cf on ${o.ratings}: ${all.nUsers} users, ${all.nItems} items, ${all.rating.length} ratings, levels [${levels.join(', ')}]; ${test.rating.length} held out`,
          '',
          'method                                  test RMSE  train RMSE  seconds',
          ...scores.map((s) => `${s.method.padEnd(40)}${fmt(s.rmse).padEnd(11)}${fmt(s.trainRmse).padEnd(12)}${fmt(s.seconds)}`),
          '',
          `model ${o.out}`,
        ].join('\n'),
      );
    }),
  );
}
