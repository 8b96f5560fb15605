/** The WebGPU backend (docs/webgpu.md): device discovery, WGSL kernels on device-resident tensors (convolutions included), the traced `compile(fn)`, the hand-lowered MLP Langevin chain and MLP/conv-net/U-Net passes, and backend selection. */
export { requestGpu, releaseGpu, gpuInfo, type Gpu, type GpuInfo } from './device.js';
export { GpuKernels, GpuTensor, GPU_UNARY_OPS, GPU_BINARY_OPS, GPU_GRAD_OPS, type GpuUnaryOp, type GpuBinaryOp, type GpuGradOp } from './kernels.js';
export {
  uploadMlpEnergy, disposeMlpEnergy, gpuMlpUnsupported, mlpEnergyGradGpu, mlpLangevinGpu, mlpLangevinChainGpu,
  type GpuMlpEnergy, type GpuLangevinOptions, type MlpLangevinChainOptions,
} from './mlpLangevin.js';
export { mlpDsmValueAndGradGpu, mlpInputGradPassGpu, mlpInputGradParamGradGpu, type GpuDsmConfig, type GpuDsmValueAndGrad, type GpuMlpLayers, type GpuInputGradPass } from './mlpDsm.js';
export {
  parallelTemperingGpu, langevinMoveGpu, ptProposeGpu, ptAcceptGpu, ptSwapGpu, headRowsGpu, gpuTemperingUnsupported, GPU_MAX_TEMPERATURES,
  type GpuLadder, type GpuLocalSafeguards, type GpuEnergyGrad, type GpuReplicaState, type GpuTemperingPlan,
} from './tempering.js';
export {
  mlpHessianQuadGpu, mlpHessianQuadForwardGpu, mlpHessianQuadReverseGpu, mlpScoreMatchingGpu, unaryGrad3Gpu,
  type GpuScoreMatchingInput, type GpuHessianQuadPass,
} from './mlpSsm.js';
export { runCustomKernel, customOutput, customStride, CUSTOM_WG } from './customKernel.js';
export { runHotLoop, webgpuRequested, gpuReport, type HotLoopBackend, type GpuRun } from './select.js';
export {
  uploadRbmGpu, disposeRbmGpu, gpuRbmUnsupported, rbmScaledGpu, rbmHiddenProbsGpu, rbmVisibleDrawGpu, rbmGibbsSweepsGpu,
  type GpuRbm, type GpuRbmParams, type GpuTrack,
} from './rbmGibbs.js';
export {
  uploadMlp, disposeMlp, disposeAll, mlpLayers, weightRows, mlpForwardGpu, mlpParamGradGpu, readMlpGrads, gpuMlpNetUnsupported,
  type GpuMlp, type GpuMlpForward,
} from './mlpNet.js';
export { conv2dGpu, conv2dInputGradGpu, conv2dFilterGradGpu, gpuConvGeom, reshapeGpu, type GpuConvGeom, type GpuConvOptions } from './convKernels.js';
export {
  uploadConvNet, disposeConvNet, convNetForwardGpu, convNetBackwardGpu, readConvNetGrads, disposeConvNetGrads, gpuConvNetUnsupported,
  type GpuConvNet, type GpuConvNetForward, type GpuConvNetGrads,
} from './convNet.js';
export { upsampleConcat2dGpu, upsampleConcat2dGradGpu, channelBiasGpu, channelSumsGpu } from './imageKernels.js';
export {
  compile, readAll, UnsupportedOpError, COMPILED_OPS,
  type CompiledFn, type CompiledStats, type CompileOptions, type DeviceArg, type DeviceArgs, type DeviceResult, type TensorTree,
} from './compile.js';
export {
  uploadUNet, disposeUNet, unetForwardGpu, unetParamGradGpu, readUNetGrads, disposeUNetGrads, gpuUNetUnsupported,
  type GpuUNet, type GpuUNetBlock, type GpuUNetForward, type GpuUNetGrads, type GpuUNetSavedBlock,
} from './unetNet.js';
