/**
 * Functional neural-network building blocks: parameters are records of tensors whose keys are the tensor names used
 * in safetensors checkpoints; `init*` functions draw from explicit keys, `apply*` functions are differentiable.
 * @module
 */
export { ACTIVATIONS, activationFn, isActivation } from './activations.js';
export type { Activation } from './activations.js';
export { initWeight, defaultInit } from './init.js';
export type { InitScheme } from './init.js';
export { initLinear, applyLinear } from './linear.js';
export type { LinearParams, LayerInitOptions } from './linear.js';
export { initMLP, applyMLP, mlpFeatures, mlpSizes } from './mlp.js';
export type { MLP, MLPParams, MLPInitOptions } from './mlp.js';
export { initConv2d, applyConv2d, convOutputSize } from './conv.js';
export type { Conv2dParams } from './conv.js';
export { initConvNet, applyConvNet, convNetFeatures, convNetShapes } from './convnet.js';
export type { ConvNetConfig, ConvNetInitOptions, ConvNetParams } from './convnet.js';
export { paramCount } from './params.js';
export { initFourierFeatures, checkFourierFeatures, fourierFeatureFn } from './fourier.js';
export type { FourierFeatures } from './fourier.js';
