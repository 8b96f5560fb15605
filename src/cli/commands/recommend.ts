/**
 * `ebm recommend m.safetensors --user U --top 10 [--user-features u.csv] [--item-features i.csv]`: ranks the items
 * user `U` (an id from the ratings file) has not rated by their expected rating under an RBM-CF model
 * (`ebm train rbm-cf`). The model file holds the ratings, the implicit feedback and the features it was trained
 * with; feature files given here replace the stored features (same columns), e.g. after a user's profile changed.
 */
import type { Command } from 'commander';
import { loadRbmCf } from '../../models/rbmCf/io.js';
import { recommendForUser } from '../../models/rbmCf/model.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { backendLines, fmt } from '../common.js';
import { runHotLoop } from '../../gpu/select.js';
import { recommendForUserGpu } from '../../models/rbmCf/gpu.js';
import { parseNonNegativeInt, parsePositiveInt } from '../options.js';
import { reloadFeatures } from '../rbmCfInputs.js';

interface Opts { user: number; top: number; json?: boolean; userFeatures?: string; itemFeatures?: string }

/** Registers `ebm recommend`. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('recommend')
    .description('top-N items for a user by expected rating under an RBM-CF model')
    .argument('<model>', 'model file written by `ebm train rbm-cf`')
    .requiredOption('--user <id>', 'user id (as in the ratings file)', parseNonNegativeInt)
    .option('--top <n>', 'number of items', parsePositiveInt, 10)
    .option('--user-features <csv>', 'user features replacing the stored ones (same columns as in training)')
    .option('--item-features <csv>', 'item features replacing the stored ones (same columns as in training)')
    .option('--json', 'print one JSON object')
    .action((modelPath: string, o: Opts) =>
      runCommand(ctx, async () => {
        const { params, ratings, side, features } = await loadRbmCf(modelPath);
        if (o.userFeatures) side.userFeatures = await reloadFeatures(o.userFeatures, ratings.userIds, '--user-features', features.user);
        if (o.itemFeatures) side.itemFeatures = await reloadFeatures(o.itemFeatures, ratings.itemIds, '--item-features', features.item);
        const u = ratings.userIds.indexOf(o.user);
        if (u < 0) throw new UsageError(`--user ${o.user}: no such user in ${modelPath} (it has ${ratings.nUsers} users)`);
        let rated = 0;
        for (let q = 0; q < ratings.user.length; q++) if (ratings.user[q] === u) rated++;
        // EBM_BACKEND=webgpu: every item's expected rating on the GPU.
        const { value: top, backend } = await runHotLoop((gpu) => recommendForUserGpu(gpu, params, ratings, u, o.top, side), () => recommendForUser(params, ratings, u, o.top, side));
        const recs = top.map((r) => ({ item: ratings.itemIds[r.item], expectedRating: r.expected }));
        printResult(ctx, o.json, { model: modelPath, user: o.user, rated, recommendations: recs, backend }, () =>
          [
            `top ${recs.length} for user ${o.user} (${rated} ratings):`, ...recs.map((r, i) => `${String(i + 1).padStart(3)}. item ${r.item}  expected ${fmt(r.expectedRating)}`),
            ...backendLines(backend, 'backend '),
          ].join('\n'),
        );
      }),
    );
}
