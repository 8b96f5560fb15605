/**
 * `ebm train rbm-cf --ratings r.tsv --out m.safetensors [--user-features u.csv] [--item-features i.csv] [--implicit]
 * [--factored R] [--test t.tsv] [--predictions p.csv]`: trains RBM-CF on a MovieLens-format file and reports test
 * RMSE of the baselines, the plain RBM-CF, the configured variant (conditional / factored / with side features) and
 * their linear blend. The saved model is the configured variant (plain without flags) with all ratings (train +
 * test) and the features, for `ebm recommend`.
 */
import type { Command } from 'commander';
import { foldIn, key as makeKey } from '../../random/index.js';
import { loadRatings, ratingLevels, splitRatings, type Ratings } from '../../data/movielens.js';
import { compareCfAsync, type RbmCfVariant } from '../../models/rbmCf/evaluate.js';
import { interruptRegion } from '../signals.js';
import { alignRatings, concatRatings, type EncodedFeatures } from '../../models/rbmCf/sideData.js';
import { saveRbmCf } from '../../models/rbmCf/io.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { InterruptedError, UsageError } from '../errors.js';
import { addSeedOption, backendLines, checkOutputPath, fmt } from '../common.js';
import { runHotLoop, type HotLoopBackend } from '../../gpu/select.js';
import { rbmCfStatisticsGpu } from '../../models/rbmCf/gpu.js';
import type { RbmCfStatistics } from '../../models/rbmCf/model.js';
import { parseIntList, parsePositiveFloat, parsePositiveInt, parseUnitInterval } from '../options.js';
import { loadFeatures } from '../rbmCfInputs.js';

interface Opts {
  ratings: string; out: string; hidden: number; epochs: number; lr: number; batch: number; cd: number[];
  weightDecay: number; testFraction: number; mfRank: number; seed: number; json?: boolean; quiet?: boolean;
  userFeatures?: string; itemFeatures?: string; implicit?: boolean; factored?: number; test?: string; predictions?: string;
  blendFraction: number;
}

/** Registers `ebm train rbm-cf` on the `train` command. */
export function registerTrainRbmCf(train: Command, ctx: CliContext): void {
  const cmd = train
    .command('rbm-cf')
    .description('RBM collaborative filtering (softmax visible units over rating levels; conditional, factored, side features; held-out RMSE vs baselines and a blend)')
    .requiredOption('--ratings <file>', 'MovieLens-format ratings: user item rating [timestamp], tab/comma/:: separated')
    .requiredOption('--out <model.safetensors>', 'model file to write')
    .option('--user-features <csv>', 'user features: CSV with a header, first column the user id, then numeric or categorical columns')
    .option('--item-features <csv>', 'item features: CSV with a header, first column the item id')
    .option('--implicit', 'conditional RBM-CF: which items each user rated (including --test pairs) feeds the hidden units')
    .option('--factored <rank>', 'factored RBM-CF: W = A·B of this rank', parsePositiveInt)
    .option('--test <file>', 'held-out ratings to evaluate on (same format) instead of a random split')
    .option('--predictions <csv>', 'write user,item,prediction for the test pairs (the saved model)')
    .option('--hidden <n>', 'hidden units F', parsePositiveInt, 20)
    .option('--epochs <n>', 'training epochs', parsePositiveInt, 20)
    .option('--lr <lr>', 'learning rate', parsePositiveFloat, 0.1)
    .option('--batch <n>', 'users per mini-batch', parsePositiveInt, 20)
    .option('--cd <list>', 'CD steps T per equal phase of training, e.g. 1,3,5 (increasing T)', parseIntList, [1, 3, 5])
    .option('--weight-decay <w>', 'L2 weight decay', parseUnitInterval, 0.001)
    .option('--test-fraction <f>', 'fraction of ratings held out for RMSE (without --test)', parseUnitInterval, 0.1)
    .option('--blend-fraction <f>', 'fraction of the training ratings held out to fit the blend weights (0 = no blend)', parseUnitInterval, 0.1)
    .option('--mf-rank <r>', 'rank of the matrix-factorisation baseline', parsePositiveInt, 10)
    .option('--quiet', 'no per-epoch progress on stderr')
    .option('--json', 'print one JSON object');
  addSeedOption(cmd);
  cmd.action((o: Opts) =>
    runCommand(ctx, async () => {
      checkOutputPath(o.out, '--out', ['.safetensors']);
      if (o.predictions) checkOutputPath(o.predictions, '--predictions', ['.csv']);
      if (o.predictions && o.predictions === o.out) throw new UsageError('--predictions and --out name the same file');
      if (!(o.blendFraction >= 0 && o.blendFraction < 1)) throw new UsageError(`--blend-fraction must be in [0, 1), got ${o.blendFraction}`);
      const k = makeKey(o.seed);
      let trainR: Ratings, testR: Ratings;
      if (o.test) {
        const al = alignRatings(await loadRatings(o.ratings), await loadRatings(o.test));
        trainR = al.a;
        testR = al.b;
        if (testR.rating.length === 0) throw new UsageError(`--test ${o.test}: no ratings`);
      } else {
        if (!(o.testFraction > 0 && o.testFraction < 1)) throw new UsageError(`--test-fraction must be strictly between 0 and 1, got ${o.testFraction}`);
        const all = await loadRatings(o.ratings);
        ({ train: trainR, test: testR } = splitRatings(all, foldIn(k, 0x5b1), o.testFraction));
      }
      if (trainR.rating.length < 10) throw new UsageError(`--ratings ${o.ratings}: needs at least 10 training ratings, got ${trainR.rating.length}`);
      const all = concatRatings(trainR, testR);
      const levels = ratingLevels(all);
      if (levels.length < 2) throw new UsageError(`--ratings ${o.ratings}: all ratings are ${levels[0]}; need at least 2 distinct levels`);
      if (levels.length > 20) throw new UsageError(`--ratings ${o.ratings}: ${levels.length} distinct rating values; RBM-CF needs a small set of levels (≤ 20)`);
      const uf = o.userFeatures ? await loadFeatures(o.userFeatures, all.userIds, '--user-features') : undefined;
      const itf = o.itemFeatures ? await loadFeatures(o.itemFeatures, all.itemIds, '--item-features') : undefined;
      const configured: RbmCfVariant = {
        ...(o.implicit ? { conditional: true } : {}), ...(o.factored ? { factorRank: o.factored } : {}),
        ...(uf ? { userFeatures: uf } : {}), ...(itf ? { itemFeatures: itf } : {}),
      };
      const variants = Object.keys(configured).length ? [{}, configured] : [{}];
      const t0 = performance.now();
      const irq = interruptRegion();
      let compared;
      let backend: HotLoopBackend;
      // EBM_BACKEND=webgpu: every mini-batch's CD pass of every RBM-CF variant on the GPU (the same uniforms), the
      // baselines, predictions and blend on the CPU.
      const compare = (statistics?: RbmCfStatistics): ReturnType<typeof compareCfAsync> => compareCfAsync(trainR, testR, foldIn(k, 0xcf), {
        nHidden: o.hidden, epochs: o.epochs, lr: o.lr, batchSize: o.batch, cdSteps: o.cd, weightDecay: o.weightDecay, levels,
        mf: { rank: o.mfRank }, variants, blendFraction: o.blendFraction, ...(statistics ? { statistics } : {}),
        onEpoch: (e) => { if (!o.quiet && ctx.io.stderrIsTTY) ctx.io.stderr(`\repoch ${e.epoch}/${o.epochs} T=${e.T} recon ${fmt(e.reconError)}   `); },
      }, { signal: irq.signal });
      try {
        ({ value: compared, backend } = await runHotLoop((gpu) => compare(rbmCfStatisticsGpu(gpu)), () => compare()));
      } finally {
        irq.leave();
      }
      if (!o.quiet && ctx.io.stderrIsTTY) ctx.io.stderr('\n');
      if ('stoppedIn' in compared) {
        // SIGINT/SIGTERM: stop after the mini-batch in progress; rbm-cf keeps no checkpoints, so nothing is written
        const sig = irq.received() ?? 'SIGINT';
        throw new InterruptedError(sig, `interrupted by ${sig} in epoch ${compared.stoppedIn} of ${o.epochs}; nothing written (rbm-cf training keeps no checkpoints)`);
      }
      const { scores, models } = compared;
      const seconds = (performance.now() - t0) / 1000;
      const saved = models[models.length - 1];
      const savedRmse = scores.find((s) => s.method === saved.name)!.rmse;
      const stored = (f: EncodedFeatures | undefined): { names: string[]; rows: number; dim: number; x: Float64Array } | undefined => (f ? { names: f.names, rows: f.rows, dim: f.dim, x: f.x } : undefined);
      const su = stored(uf), si = stored(itf);
      await saveRbmCf(o.out, saved.params, all, {
        data: o.ratings, ...(o.test ? { test: o.test } : { testFraction: o.testFraction }), seed: o.seed, epochs: o.epochs, lr: o.lr, batch: o.batch,
        cd: o.cd, weightDecay: o.weightDecay, blendFraction: o.blendFraction, testRmse: savedRmse, method: saved.name,
        ...(o.userFeatures ? { userFeatures: o.userFeatures } : {}), ...(o.itemFeatures ? { itemFeatures: o.itemFeatures } : {}),
      }, { ...(su ? { user: su } : {}), ...(si ? { item: si } : {}) });
      if (o.predictions) {
        const lines = ['user,item,prediction'];
        for (let q = 0; q < testR.rating.length; q++) lines.push(`${all.userIds[testR.user[q]]},${all.itemIds[testR.item[q]]},${saved.testPredictions[q]}`);
        await writeFileAtomic(o.predictions, lines.join('\n') + '\n');
      }
      const result = {
        model: o.out, kind: 'rbm-cf', method: saved.name, users: all.nUsers, items: all.nItems, ratings: all.rating.length, levels,
        train: trainR.rating.length, test: testR.rating.length, testFrom: o.test ?? 'random split', hidden: o.hidden, epochs: o.epochs,
        blendFraction: o.blendFraction,
        ...(uf ? { userFeatureColumns: uf.names, usersWithoutFeatures: uf.missing.length } : {}),
        ...(itf ? { itemFeatureColumns: itf.names, itemsWithoutFeatures: itf.missing.length } : {}),
        results: scores.map((s) => ({ method: s.method, rmse: s.rmse, trainRmse: s.trainRmse, seconds: s.seconds })), seconds, backend,
        ...(o.predictions ? { predictions: o.predictions } : {}),
      };
      const w = Math.max(...scores.map((s) => s.method.length)) + 2;
      printResult(ctx, o.json, result, () =>
        [
          `rbm-cf on ${o.ratings}: ${all.nUsers} users, ${all.nItems} items, ${all.rating.length} ratings, levels [${levels.join(', ')}]; ${testR.rating.length} held out (${o.test ?? 'random split'})`,
          ...(o.blendFraction > 0 ? [`models fitted on ${Math.round(100 * (1 - o.blendFraction))} % of the training ratings; the blend's weights on the other ${Math.round(100 * o.blendFraction)} % (its "train RMSE" is on those)`] : []),
          ...(uf && uf.missing.length ? [`${uf.missing.length} users have no row in ${o.userFeatures} (features set to the mean)`] : []),
          ...(itf && itf.missing.length ? [`${itf.missing.length} items have no row in ${o.itemFeatures} (features set to the mean)`] : []),
          '',
          `${'method'.padEnd(w)}test RMSE  train RMSE  seconds`,
          ...scores.map((s) => `${s.method.padEnd(w)}${fmt(s.rmse).padEnd(11)}${fmt(s.trainRmse).padEnd(12)}${fmt(s.seconds)}`),
          '',
          `model ${o.out} (${saved.name})${o.predictions ? `; predictions ${o.predictions}` : ''}`,
          ...backendLines(backend, 'backend '),
        ].join('\n'),
      );
    }),
  );
}
