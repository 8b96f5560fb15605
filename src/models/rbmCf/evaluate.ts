/** Side-by-side RMSE of RBM-CF and the baselines on one train/test split (used by `ebm train rbm-cf` and `bench/cf.ts`). */
import { foldIn, type Key } from '../../random/index.js';
import { ratingLevels, type Ratings } from '../../data/movielens.js';
import { createRbmCf, predictRatings, trainRbmCf, type RbmCfParams, type TrainRbmCfOptions } from './model.js';
import { fitBiases, fitGlobalMean, fitMatrixFactorization, rmse, type MFOptions } from './baselines.js';

/** Options of {@link compareCf}. */
export interface CompareCfOptions extends TrainRbmCfOptions {
  /** RBM hidden units (default 20). */
  nHidden?: number;
  /** Initial weight scale (default 0.1). */
  weightScale?: number;
  /** Matrix-factorisation settings. */
  mf?: MFOptions;
  /** Rating levels (default: the distinct values of train ∪ test). */
  levels?: number[];
}

/** One row of the comparison. */
export interface CfScore {
  method: string;
  /** Test RMSE. */
  rmse: number;
  /** Train RMSE. */
  trainRmse: number;
  seconds: number;
}

/**
 * Fits the global mean, user+item biases, biased MF and RBM-CF on `train` and reports RMSE on `test` (and train).
 * Keys: `foldIn(key, 1)` for MF, `foldIn(key, 2)` for the RBM init, `foldIn(key, 3)` for CD.
 * @returns the scores (in that order) and the trained RBM.
 */
export function compareCf(train: Ratings, test: Ratings, k: Key, opts: CompareCfOptions = {}): { scores: CfScore[]; rbm: RbmCfParams } {
  const scores: CfScore[] = [];
  const time = <T>(f: () => T): [T, number] => { const t0 = performance.now(); const v = f(); return [v, (performance.now() - t0) / 1000]; };
  const score = (method: string, p: { predict(q: { user: ArrayLike<number>; item: ArrayLike<number> }): Float64Array }, s: number): void => {
    scores.push({ method, rmse: rmse(p.predict(test), test.rating), trainRmse: rmse(p.predict(train), train.rating), seconds: s });
  };
  const [gm, s0] = time(() => fitGlobalMean(train));
  score('global mean', gm, s0);
  const [bi, s1] = time(() => fitBiases(train));
  score('user + item biases', bi, s1);
  const [mf, s2] = time(() => fitMatrixFactorization(train, foldIn(k, 1), opts.mf));
  score(`matrix factorisation (rank ${mf.rank}, SGD)`, mf, s2);
  const levels = opts.levels ?? [...new Set([...ratingLevels(train), ...ratingLevels(test)])].sort((a, b) => a - b);
  const [rbm, s3] = time(() => {
    const p = createRbmCf({ nItems: train.nItems, levels, ...(opts.nHidden !== undefined ? { nHidden: opts.nHidden } : {}), ...(opts.weightScale !== undefined ? { weightScale: opts.weightScale } : {}), key: foldIn(k, 2), ratings: train });
    trainRbmCf(p, train, foldIn(k, 3), opts);
    return p;
  });
  score(`RBM-CF (F = ${rbm.nHidden}, CD-T)`, { predict: (q) => predictRatings(rbm, train, q) }, s3);
  return { scores, rbm };
}
