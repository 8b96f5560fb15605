/** The ebm-ts engine: tensors, reverse-mode autodiff with higher-order gradients, ops and backends. */
export {
  Tensor, ShapeError, DTypeError, tensor, full, zeros, ones, scalar, zerosLike, onesLike, arange, linspace, eye,
  toDType, allFinite, shapeSize, sameShape,
} from './tensor.js';
export type { DType, TypedArray, Shape, GradNode, NestedArray } from './tensor.js';
export { grad, valueAndGrad, vjp, noGrad, detach, isGradEnabled, treeLeaves, treeUnflatten, treeMap, record } from './autodiff.js';
export type { Tree, GradOptions } from './autodiff.js';
export { jvp, hvp, jacobian, hessian, hessianTrace } from './transforms.js';
export {
  add, sub, mul, div, maximum, minimum, greater, greaterEqual, less, equal, where, neg, exp, expm1, log, log1p, sqrt,
  square, reciprocal, pow, abs, sign, sin, cos, sigmoid, logSigmoid, tanh, softplus, relu, leakyRelu, elu, silu, clamp,
  cast, affine, broadcastTo, sumToShape, broadcastShapes,
} from './ops/elementwise.js';
export type { TensorLike } from './ops/elementwise.js';
export {
  reshape, expandDims, squeeze, permute, transpose, sliceAxis, slice, padAxis, concat, stack, gatherRows,
  scatterAddRows, takeAlongRows, oneHot, addN,
} from './ops/shape.js';
export type { Indices } from './ops/shape.js';
export { sum, mean, max, min, logsumexp, logSoftmax, softmax, sumSquares, variance } from './ops/reduce.js';
export type { Axes } from './ops/reduce.js';
export { matmul, linear } from './ops/linalg.js';
export type { MatmulOptions } from './ops/linalg.js';
export { conv2d, conv2dTranspose, avgPool2d, im2col, col2im } from './ops/conv.js';
export type { Conv2dOptions, Conv2dTransposeOptions, ConvGeometry } from './ops/conv.js';
export { maxPool2d, upsampleNearest2d, upsampleConcat2d, upsampleBilinear2d, groupNorm, layerNorm } from './ops/image.js';
export type { MaxPool2dOptions } from './ops/image.js';
export { getBackend, setBackend, jsBackend, UNARY_OPS, BINARY_OPS } from './backend.js';
export type { Backend, UnaryOp, BinaryOp } from './backend.js';
export { createBufferPool, withBufferReuse } from './bufferPool.js';
export type { BufferPool, BufferPoolOptions, BufferPoolStats } from './bufferPool.js';
export { checkGrad, checkGrad2 } from './gradcheck.js';
export type { GradCheckResult } from './gradcheck.js';
