/**
 * Side-by-side RMSE of RBM-CF variants, the baselines and their linear blend on one train/test split (used by
 * `ebm train rbm-cf` and `bench/cf.ts`).
 * @module
 */
import { foldIn, type Key } from '../../random/index.js';
import { ratingLevels, splitRatings, type Ratings } from '../../data/movielens.js';
import { createRbmCf, driveRbmCfSteps, runRbmCfSteps, implicitFeedback, predictRatings, rbmCfBatches, type RbmCfBatchPoint, type RbmCfPending, type CfSideInfo, type FeatureMatrix, type RbmCfParams, type TrainRbmCfOptions } from './model.js';
import { fitBiases, fitGlobalMean, fitMatrixFactorization, rmse, type MFOptions, type RatingPredictor } from './baselines.js';
import { applyBlend, fitBlend, type Blend } from './blend.js';
import { InvalidArgumentError } from '../../errors.js';

/** One RBM-CF variant to fit: plain by default; conditional (implicit feedback), factored, with side features. */
export interface RbmCfVariant {
  /** Row label (default built from the settings). */
  name?: string;
  conditional?: boolean;
  /** Scaling of the implicit input (see `createRbmCf`). */
  implicitNorm?: 'none' | 'sqrt';
  factorRank?: number;
  userFeatures?: FeatureMatrix;
  itemFeatures?: FeatureMatrix;
  /** Hidden units (default: the comparison's `nHidden`). */
  nHidden?: number;
}

/** Options of {@link compareCf}. */
export interface CompareCfOptions extends Omit<TrainRbmCfOptions, 'side'> {
  /** RBM hidden units (default 20). */
  nHidden?: number;
  /** Initial weight scale (default 0.1). */
  weightScale?: number;
  /** Matrix-factorisation settings. */
  mf?: MFOptions;
  /** Rating levels (default: the distinct values of train ∪ test). */
  levels?: number[];
  /** RBM-CF variants (default: one plain model). */
  variants?: RbmCfVariant[];
  /**
   * Fraction of the training ratings held out to fit the linear blend of biases, MF and every RBM-CF variant (default
   * 0.1; 0 = no blend). Every model is then fitted on the remaining training ratings, so all rows are comparable.
   */
  blendFraction?: number;
  /** Skip the biases/MF/global-mean rows (the blend then uses the RBM variants only). */
  noBaselines?: boolean;
}

/** One row of the comparison. */
export interface CfScore {
  method: string;
  /** Test RMSE. */
  rmse: number;
  /** RMSE on the ratings the model was fitted on (the blend: on its validation split). */
  trainRmse: number;
  seconds: number;
}

/** A trained RBM-CF variant, with what it conditions on. */
export interface FittedRbmCf {
  name: string;
  params: RbmCfParams;
  side: CfSideInfo;
  /** Test predictions, aligned with the test ratings. */
  testPredictions: Float64Array;
}

/** The default row label of a variant. */
export function variantName(v: RbmCfVariant, F: number): string {
  const parts = [v.conditional ? (v.implicitNorm === 'sqrt' ? 'conditional 1/√n-scaled' : 'conditional') : 'plain'];
  if (v.factorRank) parts.push(`factored rank ${v.factorRank}`);
  if (v.userFeatures) parts.push('user features');
  if (v.itemFeatures) parts.push('item features');
  return `RBM-CF ${parts.join(', ')} (F = ${v.nHidden ?? F})`;
}

/**
 * Fits the global mean, user+item biases, biased MF and each RBM-CF variant on `train` (less the blend split) and
 * reports RMSE on `test`, then the blend. A conditional variant's implicit feedback `r` is the set of items each
 * user appears with in train, the blend split *and test* (which pairs were rated is known; their values are not),
 * as in the paper. Keys: `foldIn(key, 1)` MF, `foldIn(key, 10)` / `foldIn(key, 20)` init / CD of every variant (the
 * same for all, so that rows differ by the model and not by the draw), `foldIn(key, 4)` the blend split.
 * @returns the rows (baselines, variants, blend), the fitted variants, the blend and the ratings models were fitted on.
 * @example const { scores } = compareCf(train, test, key(0), { variants: [{}, { conditional: true }] });
 */
export function compareCf(train: Ratings, test: Ratings, k: Key, opts: CompareCfOptions = {}): ComparedCf {
  return runRbmCfSteps(compareCfSteps(train, test, k, opts));
}

/** Result of {@link compareCf}. */
export interface ComparedCf {
  scores: CfScore[];
  models: FittedRbmCf[];
  blend?: Blend;
  fit: Ratings;
  testBlend?: Float64Array;
}

/**
 * {@link compareCf} that hands control to the event loop at most every `run.yieldMs` ms (default 50) and stops after
 * the RBM-CF mini-batch in progress once `run.signal` is aborted (`stoppedIn`: the epoch of the variant being
 * trained; no result then). Bit-identical to {@link compareCf} when not stopped.
 * @example const r = await compareCfAsync(train, test, key(0), {}, { signal }); if ('stoppedIn' in r) …
 */
export async function compareCfAsync(
  train: Ratings, test: Ratings, k: Key, opts: CompareCfOptions = {}, run: { signal?: AbortSignal; yieldMs?: number } = {},
): Promise<ComparedCf | { stoppedIn: number }> {
  const r = await driveRbmCfSteps(compareCfSteps(train, test, k, opts), run);
  return 'stoppedIn' in r ? { stoppedIn: r.stoppedIn } : r.value;
}

function* compareCfSteps(train: Ratings, test: Ratings, k: Key, opts: CompareCfOptions): Generator<RbmCfBatchPoint | RbmCfPending, ComparedCf, unknown> {
  const frac = opts.blendFraction ?? 0.1;
  if (!(frac >= 0 && frac < 1)) throw new InvalidArgumentError(`compareCf: blendFraction must be in [0, 1), got ${frac}`);
  if (train.nUsers !== test.nUsers || train.nItems !== test.nItems) throw new InvalidArgumentError('compareCf: train and test must share one user/item numbering (see alignRatings)');
  const { train: fit, test: val } = frac > 0 ? splitRatings(train, foldIn(k, 4), frac) : { train, test: undefined };
  const scores: CfScore[] = [];
  const valPreds: Float64Array[] = [], testPreds: Float64Array[] = [];
  const time = <T>(f: () => T): [T, number] => { const t0 = performance.now(); const v = f(); return [v, (performance.now() - t0) / 1000]; };
  const score = (method: string, pr: RatingPredictor, s: number, member: boolean): Float64Array => {
    const tp = pr.predict(test);
    scores.push({ method, rmse: rmse(tp, test.rating), trainRmse: rmse(pr.predict(fit), fit.rating), seconds: s });
    if (member) { testPreds.push(tp); if (val) valPreds.push(pr.predict(val)); }
    return tp;
  };
  if (!opts.noBaselines) {
    const [gm, s0] = time(() => fitGlobalMean(fit));
    score('global mean', gm, s0, false);
    const [bi, s1] = time(() => fitBiases(fit));
    score('user + item biases', bi, s1, true);
    const [mf, s2] = time(() => fitMatrixFactorization(fit, foldIn(k, 1), opts.mf));
    score(`matrix factorisation (rank ${mf.rank}, SGD)`, mf, s2, true);
  }
  const levels = opts.levels ?? [...new Set([...ratingLevels(train), ...ratingLevels(test)])].sort((a, b) => a - b);
  const F = opts.nHidden ?? 20;
  const implicit = implicitFeedback(...(val ? [fit, val, test] : [fit, test]));
  const models: FittedRbmCf[] = [];
  const variants = opts.variants ?? [{}];
  for (const v of variants) {
    const side: CfSideInfo = {};
    if (v.conditional) side.implicit = implicit;
    if (v.userFeatures) side.userFeatures = v.userFeatures;
    if (v.itemFeatures) side.itemFeatures = v.itemFeatures;
    const tv = performance.now();
    let params: RbmCfParams;
    {
      const p0 = createRbmCf({
        nItems: train.nItems, levels, nHidden: v.nHidden ?? F, key: foldIn(k, 10), ratings: fit,
        ...(opts.weightScale !== undefined ? { weightScale: opts.weightScale } : {}),
        ...(v.conditional ? { conditional: true } : {}),
        ...(v.implicitNorm ? { implicitNorm: v.implicitNorm } : {}),
        ...(v.factorRank ? { factorRank: v.factorRank } : {}),
        ...(v.userFeatures ? { userFeatureDim: v.userFeatures.dim } : {}),
        ...(v.itemFeatures ? { itemFeatureDim: v.itemFeatures.dim } : {}),
      });
      params = (yield* rbmCfBatches(p0, fit, foldIn(k, 20), { ...opts, side })).params;
    }
    const s = (performance.now() - tv) / 1000;
    const name = v.name ?? variantName(v, F);
    const tp = score(name, { predict: (q) => predictRatings(params, fit, q, side) }, s, true);
    models.push({ name, params, side, testPredictions: tp });
  }
  let blend: Blend | undefined, testBlend: Float64Array | undefined;
  if (val && valPreds.length >= 2) {
    const [bl, s] = time(() => fitBlend(valPreds, val.rating, { lo: levels[0], hi: levels[levels.length - 1] }));
    blend = bl;
    testBlend = applyBlend(bl, testPreds);
    scores.push({ method: `linear blend of ${valPreds.length} models (weights on ${val.rating.length} validation ratings)`, rmse: rmse(testBlend, test.rating), trainRmse: rmse(applyBlend(bl, valPreds), val.rating), seconds: s });
  }
  return { scores, models, ...(blend ? { blend, testBlend: testBlend! } : {}), fit };
}
