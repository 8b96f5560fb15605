/**
 * The U-Net score-network workload of the conv bench (mirrored by the `unet` row of bench/torch_conv_bench.py): one
 * training step of the score-sde kind exactly as `ebm train score --sde vp --arch unet:16,0 --data mnist:train --batch 128`
 * runs it (the library's `scoreSdeTrainStep`): the U-Net of src/diffusion/scoreNets.ts with base width 16 and a
 * 32-wide sinusoidal time embedding, VP-SDE (β ∈ [0.1, 20]), `mixed` training times (half log-σ-uniform, half
 * uniform), `sigma2` weighting, preconditioned score `s = net(c_in·z, τ(t))/σ(t) − c_in²·z`, Adam (lr 1e-3) and a
 * parameter EMA (0.999). The batch is 128 fixed standardised 28×28 images (uniform on [−1, 1]; the step's cost does
 * not depend on the pixel values); every step draws fresh times and noise from its own key.
 */
import { foldIn, key, uniform } from '../src/random/index.js';
import * as T from '../src/tensor/index.js';
import { initScoreSdeState, makeScoreSdeConfig, scoreSdeTrainStep, type ScoreSdeConfig, type ScoreSdeTrainState } from '../src/models/scoreSde/index.js';

/** Batch rows of the bench's training step. */
export const UNET_BATCH = 128;

/** The score-sde config of `ebm train score --sde vp --arch unet:16,0` (no 7×7 residual blocks) on 28×28 images in [0, 1]. */
export function unetBenchConfig(): ScoreSdeConfig {
  // Two rows of k/255 pixel values are enough for the config (standardisation 2x − 1, 8-bit levels).
  const x = T.tensor(new Float32Array(2 * 784).map((_, i) => (i % 256) / 255), [2, 784]);
  return makeScoreSdeConfig(x, { sde: 'vp', arch: { kind: 'unet', base: 16, embedDim: 32 }, imageShape: [28, 28] });
}

/** The training step as a closure over its state; each call runs one step and returns the loss (`reuseBuffers` as in the library, default on). */
export function unetTrainWorkload(opts: { reuseBuffers?: boolean } = {}): () => number {
  const cfg = unetBenchConfig();
  const o = { lr: 1e-3, ema: 0.999, reuseBuffers: opts.reuseBuffers ?? true };
  const step = scoreSdeTrainStep(cfg, o);
  let s: ScoreSdeTrainState = initScoreSdeState(cfg, key(31), o);
  const batch = T.sub(T.mul(uniform(key(32), [UNET_BATCH, 1, 28, 28]), 2), 1);
  const kTrain = key(33);
  let i = 0;
  return () => {
    const [next, info] = step(s, batch, foldIn(kTrain, ++i));
    s = next;
    return info.loss;
  };
}
