/**
 * Optimisers as composable gradient transformations (optax style): each is an `{init, update}` pair over plain-data
 * state; recipes (`sgd`, `adam`, `adamw`) are chains; schedules are functions of the step.
 * @example
 * const opt = adam(1e-3);
 * let state = opt.init(params);
 * const [loss, grads] = valueAndGrad(lossFn)(params, batch);
 * const [updates, next] = opt.update(grads, state, params);
 * params = applyUpdates(params, updates); state = next;
 * @module
 */
export { chain, identity, scale, scaleBySchedule, applyUpdates, cloneOptState } from './transform.js';
export type { GradientTransformation, OptState, Schedule, ScheduleState } from './transform.js';
export { scaleByAdam } from './adam.js';
export type { AdamOptions, AdamState } from './adam.js';
export { trace } from './trace.js';
export type { TraceState } from './trace.js';
export { addDecayedWeights } from './weightDecay.js';
export type { WeightDecayOptions } from './weightDecay.js';
export { clipByGlobalNorm, globalNorm, lastGradNorm } from './clip.js';
export type { ClipState } from './clip.js';
export { constant, exponentialDecay, cosineDecay, linearSchedule, linearWarmup, warmupCosine, piecewiseConstant } from './schedules.js';
export type { ExponentialDecayOptions } from './schedules.js';
export { sgd, adam, adamw, scaleByLearningRate } from './alias.js';
export type { LearningRate, CommonOptions, SgdOptions, AdamRecipeOptions } from './alias.js';
export { optimStateToTensors, optimStateFromTensors } from './state.js';
export { emaUpdate } from './ema.js';
