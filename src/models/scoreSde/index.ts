/**
 * The `score-sde` model kind: a time-conditioned score network `s_θ(z, t) ≈ ∇_z log p_t(z)` of a forward SDE
 * (VE, VP or sub-VP; Song et al. 2021) on standardised data `z = (x − shift)/scale`, trained by continuous-time
 * denoising score matching ({@link scoreSdeTrainStep}), sampled by reverse-time samplers (predictor–corrector,
 * Euler–Maruyama, probability-flow ODE, annealed Langevin; {@link sampleScoreSde}) and evaluated by the exact ODE
 * log-likelihood ({@link scoreSdeLogLik}).
 *
 * Data-space densities: `log p_x(x) = log p_z(z) − Σ_j log scale_j`. Images (values `k/255`) are modelled on
 * `z = 2x − 1 ∈ [−1, 1]`; their likelihood is reported for uniformly dequantised data in nats per image and bits/dim.
 * @example
 * const cfg = makeScoreSdeConfig(x, { sde: 'vp', arch: { kind: 'mlp', hidden: [64, 64], embedDim: 16, activation: 'silu' } });
 * const step = scoreSdeTrainStep(cfg, { lr: 2e-3 });
 * let s = initScoreSdeState(cfg, key(0), { lr: 2e-3 });
 * const z = toModelSpace(cfg, x);
 * for (let t = 1; t <= 500; t++) [s] = step(s, z, foldIn(key(1), t));
 * const samples = sampleScoreSde(s.params, cfg, key(2), 100);
 */
export {
  SCORE_SDE_KIND, SCORE_SDE_DEFAULTS, SCORE_SAMPLERS, SDE_KINDS, formatScoreArch, sdeOf, checkScoreSdeConfig, makeScoreSdeConfig, IMAGE_INPUT_CLIP, netShape,
  toModelSpace, toDataSpace, describeScoreSde,
  type ScoreSampler, type ScoreArch, type ScoreSdeConfig, type ScoreSdeConfigOptions,
} from './config.js';
export { initScoreParams, scoreLayout, noiseLevelInput, scoreFn, scoreNetCoefficients, type ScoreParams, type ScoreNetCoefficients } from './score.js';
export { logSigmaDSM, scoreSdeTrainingTimes, scoreSdeWeights } from './loss.js';
export {
  scoreSdeLoss, initScoreSdeState, scoreSdeTrainStep, scoreSdeUpdate, scoreSdeTrainSettings, finalScoreParams, dequantizeBatch,
  type ScoreSdeTrainOptions, type ScoreSdeTrainState, type ScoreSdeStepInfo,
} from './train.js';
export { sampleScoreSde, scoreSdeSampler, defaultSampler, type ScoreSampleOptions } from './sample.js';
export { scoreSdeLogLik, type ScoreLogLikOptions, type ScoreLogLik } from './evaluate.js';
export { scoreSdeKind, encodeScoreSdeModel, scoreSdeHeatmap, type ScoreSdeModel, type LoadedScoreSde } from './kind.js';
export {
  scoreSdeTrainStepGpu, scoreSdeValueAndGradGpu, sampleScoreSdeGpu, scoreSdeGpuUnsupported, scoreSdeSampleGpuUnsupported,
  type ScoreSdeGpuValueAndGrad,
} from './gpu.js';
