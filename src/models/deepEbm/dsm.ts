/**
 * Denoising-score-matching training of a deep EBM on vector data with the library defaults (the same loop as
 * `ebm train ebm --loss dsm`: keys `[kInit, kTrain, kData] = split(key, 3)`, step `t` uses `foldIn(kTrain, t)`,
 * mini-batches walk epoch permutations of `kData`, Adam with the settings' learning-rate schedule).
 * @module
 */
import { Tensor, valueAndGrad, gatherRows } from '../../tensor/index.js';
import { foldIn, split, type Key } from '../../random/index.js';
import { adam, applyUpdates, type OptState } from '../../optim/index.js';
import { denoisingScoreMatching } from '../../losses/scoreMatching.js';
import { epochBatchIndices } from '../../data/batches.js';
import { deepEbmEnergy, initDeepEbm, type DeepEbmConfig } from './estimator.js';
import { deepEbmSetup, type DeepEbmSettings } from './defaults.js';
import { InvalidArgumentError } from '../../errors.js';

/** Result of {@link trainDeepEbmDsm}. */
export interface TrainedDeepEbmDsm {
  readonly cfg: DeepEbmConfig;
  readonly params: Record<string, Tensor>;
  /** Loss every 100 steps and at the last step. */
  readonly history: readonly { readonly step: number; readonly loss: number }[];
}

/**
 * Trains a deep EBM on `x [n, D]` by denoising score matching `½‖∇ₓ log q(x + σε) + ε/σ‖²` at the settings' `σ`
 * (data units), for `settings.steps` Adam steps of `settings.batch` rows. Deterministic given the key; a non-finite
 * loss throws.
 * @example const { cfg, params } = trainDeepEbmDsm(x, deepEbmSettings(x, { loss: 'dsm' }), key(0));
 */
export function trainDeepEbmDsm(x: Tensor, s: DeepEbmSettings, key: Key): TrainedDeepEbmDsm {
  if (x.ndim !== 2) throw new InvalidArgumentError(`trainDeepEbmDsm: x must be [n, D], got [${x.shape.join(', ')}]`);
  if (!(s.sigma > 0)) throw new InvalidArgumentError(`trainDeepEbmDsm: sigma must be > 0, got ${s.sigma}`);
  const { cfg, lr } = deepEbmSetup({ ...s, negatives: 'buffer' }, key, [0], [1]);
  const model = { energy: (p: Record<string, Tensor>, z: Tensor) => deepEbmEnergy(p, cfg).energy(z) };
  const loss = denoisingScoreMatching(model, { sigma: s.sigma });
  const [kInit, kTrain, kData] = split(key, 3);
  const opt = adam(lr);
  let params = initDeepEbm(kInit, cfg);
  let st: OptState = opt.init(params);
  const n = x.shape[0];
  const batchIdx = epochBatchIndices(kData, n, Math.min(s.batch, n));
  const history: { step: number; loss: number }[] = [];
  for (let t = 1; t <= s.steps; t++) {
    const xb = gatherRows(x, batchIdx(t));
    const k = foldIn(kTrain, t);
    const [l, g] = valueAndGrad((p: Record<string, Tensor>) => loss(p, xb, k).loss)(params);
    const lv = l.item();
    if (!Number.isFinite(lv)) throw new InvalidArgumentError(`trainDeepEbmDsm: loss is ${lv} at step ${t} (lower lr or raise sigma)`);
    const [u, next]: [Record<string, Tensor>, OptState[]] = opt.update(g, st as OptState[], params);
    params = applyUpdates(params, u);
    st = next;
    if (t % 100 === 0 || t === s.steps) history.push({ step: t, loss: lv });
  }
  return { cfg, params, history };
}
