/**
 * Denoising-score-matching training of a deep EBM on vector data with the library defaults (the same loop as
 * `ebm train ebm --loss dsm`: keys `[kInit, kTrain, kData] = split(key, 3)`, step `t` uses `foldIn(kTrain, t)`,
 * mini-batches walk epoch permutations of `kData`, {@link deepEbmScoreTrainStep} with the settings' learning-rate
 * schedule). With a `sigmaMax` in the settings (the default on low-dimensional vectors) the energy is
 * noise-conditional and trained with the heat-equation term (`noiseConditionalDenoisingScoreMatching`).
 * @module
 */
import { Tensor, gatherRows } from '../../tensor/index.js';
import { foldIn, split, type Key } from '../../random/index.js';
import { epochBatchIndices } from '../../data/batches.js';
import { type DeepEbmConfig } from './estimator.js';
import { deepEbmSetup, type DeepEbmSettings } from './defaults.js';
import { deepEbmScoreTrainStep, initDeepEbmScoreState, type DeepEbmScoreOptions } from './scoreMatching.js';
import { InvalidArgumentError } from '../../errors.js';

/** Result of {@link trainDeepEbmDsm}. */
export interface TrainedDeepEbmDsm {
  readonly cfg: DeepEbmConfig;
  readonly params: Record<string, Tensor>;
  /** Loss every 100 steps and at the last step. */
  readonly history: readonly { readonly step: number; readonly loss: number }[];
}

/**
 * Trains a deep EBM on `x [n, D]` by denoising score matching for `settings.steps` Adam steps of `settings.batch`
 * rows: `½‖∇ₓ log q(x + σε) + ε/σ‖²` at the settings' `σ` (data units), or, with `settings.sigmaMax`, the
 * noise-conditional loss over `[σ, σ_max]` with heat-equation weight `settings.heat` (the model is then `E(x, σ)`).
 * Deterministic given the key; a non-finite loss throws.
 * @example const { cfg, params } = trainDeepEbmDsm(x, deepEbmSettings(x, { loss: 'dsm' }), key(0));
 */
export function trainDeepEbmDsm(x: Tensor, s: DeepEbmSettings, key: Key): TrainedDeepEbmDsm {
  if (x.ndim !== 2) throw new InvalidArgumentError(`trainDeepEbmDsm: x must be [n, D], got [${x.shape.join(', ')}]`);
  if (!(s.sigma > 0)) throw new InvalidArgumentError(`trainDeepEbmDsm: sigma must be > 0, got ${s.sigma}`);
  if (s.sigmaMax !== null && !(s.sigmaMax > s.sigma)) throw new InvalidArgumentError(`trainDeepEbmDsm: sigmaMax must be > sigma (${s.sigma}), got ${s.sigmaMax}`);
  const { cfg, lr } = deepEbmSetup({ ...s, loss: 'dsm', negatives: 'buffer' }, key, [0], [1]);
  const o: DeepEbmScoreOptions = { loss: 'dsm', sigma: s.sigma, heat: s.heat, lr };
  const [kInit, kTrain, kData] = split(key, 3);
  const step = deepEbmScoreTrainStep(cfg, o);
  let st = initDeepEbmScoreState(cfg, kInit, o);
  const n = x.shape[0];
  const batchIdx = epochBatchIndices(kData, n, Math.min(s.batch, n));
  const history: { step: number; loss: number }[] = [];
  for (let t = 1; t <= s.steps; t++) {
    const [next, info] = step(st, gatherRows(x, batchIdx(t)), foldIn(kTrain, t));
    st = next;
    if (t % 100 === 0 || t === s.steps) history.push({ step: t, loss: info.loss });
  }
  return { cfg, params: st.params, history };
}
