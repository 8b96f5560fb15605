/**
 * The conv net of src/nn/convnet.ts (`applyConvNet`: convolutions `conv{i}` each followed by the activation, the
 * feature map flattened channel-major, then the dense layers `fc{j}` with the activation between them and none after
 * the last) on the WebGPU device: its forward pass keeping what the reverse pass needs, and the first-order reverse
 * pass from the output's cotangent to the parameter gradient and/or the input gradient. Used by the conv deep-EBM
 * (src/models/deepEbm/gpu.ts) and the conv JEM classifier (src/models/jem/gpu.ts).
 *
 * Maths, `h₀ = x` (images `[n, C, H, W]`), `a_i = conv_i(h_i) + b_i`, `h_{i+1} = f(a_i)`; the dense head (the plain
 * MLP passes of ./mlpNet.ts) reads `flat(h_L)`. From `ḡ = ∂J/∂out`: the head's reverse pass gives its parameter
 * gradients and `ā` of its first pre-activation; `h̄_L = ā·W_fc0ᵀ` (read as `[n, C_L, H_L, W_L]`),
 * `ā_i = h̄_{i+1} ⊙ f′(a_i)`, `W̄_i = filterGrad(h_i, ā_i)`, `b̄_i = Σ_{n,y,x} ā_i`, `h̄_i = inputGrad(ā_i, W_i)`.
 * Dispatches per pass: two per convolution (convolution, activation) plus the head's forward; the reverse pass two
 * or three per convolution (activation backward, filter+bias gradient, input gradient) plus the head's.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import type { ConvNetConfig, ConvNetParams } from '../nn/convnet.js';
import { convNetShapes } from '../nn/convnet.js';
import { InvalidArgumentError } from '../errors.js';
import type { GpuKernels, GpuTensor, GpuGradOp } from './kernels.js';
import { uploadMlp, disposeMlp, disposeAll, mlpForwardGpu, mlpParamGradGpu, gpuMlpNetUnsupported, type GpuMlp, type GpuMlpForward } from './mlpNet.js';
import { conv2dGpu, conv2dInputGradGpu, conv2dFilterGradGpu, reshapeGpu, type GpuConvOptions } from './convKernels.js';

/** A conv net's parameters on the device: the convolutions (`w [O, C, k, k]`, `b [O]` or null), the dense head as an MLP. */
export interface GpuConvNet {
  readonly conv: readonly { readonly w: GpuTensor; readonly b: GpuTensor | null }[];
  readonly head: GpuMlp;
  readonly activation: GpuGradOp;
  /** The input image shape `[C, H, W]`. */
  readonly shape: readonly [number, number, number];
  readonly opts: GpuConvOptions;
}

/** The forward pass of {@link convNetForwardGpu}. */
export interface GpuConvNetForward {
  /** `h[i]`: the input of convolution `i` (`h[0]` the images `[n, C, H, W]`, a view of the caller's rows). */
  readonly h: readonly GpuTensor[];
  /** `a[i]`: the pre-activation of convolution `i`. */
  readonly a: readonly GpuTensor[];
  /** The head's forward pass (its input is the flattened last feature map). */
  readonly head: GpuMlpForward;
  /** The output `[n, out]`. */
  readonly out: GpuTensor;
  /** Every buffer the pass created (free them with {@link disposeAll}; views are not listed). */
  readonly temp: readonly GpuTensor[];
}

/** The gradients of {@link convNetBackwardGpu} (null where not asked for or where the layer has no bias). */
export interface GpuConvNetGrads {
  readonly convW: readonly (GpuTensor | null)[];
  readonly convB: readonly (GpuTensor | null)[];
  readonly fcW: readonly (GpuTensor | null)[];
  readonly fcB: readonly (GpuTensor | null)[];
  /** `∂J/∂x` as rows `[n, C·H·W]` (when asked for). */
  readonly input: GpuTensor | null;
  /** Intermediate buffers (not the gradients above). */
  readonly temp: readonly GpuTensor[];
}

function f32(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/** Number of dense layers of a conv-net parameter record (`fc0.w`, `fc1.w`, …). */
function denseLayers(params: ConvNetParams): number {
  let L = 0;
  while (params[`fc${L}.w`] instanceof Tensor) L++;
  return L;
}

/**
 * Why a conv net cannot run on the GPU (`null` when it can): an activation without a fused backward kernel, or
 * parameters that do not fit the config.
 * @example gpuConvNetUnsupported({ ...cfg, activation: 'elu' }) // "activation 'elu' has no WebGPU kernel (…)"
 */
export function gpuConvNetUnsupported(cfg: ConvNetConfig, params?: ConvNetParams): string | null {
  const why = gpuMlpNetUnsupported(cfg.activation);
  if (why) return why;
  if (params) {
    for (let i = 0; i < cfg.channels.length; i++) if (!(params[`conv${i}.w`] instanceof Tensor)) return `the parameters have no 'conv${i}.w'`;
    if (denseLayers(params) === 0) return "the parameters have no dense layer 'fc0.w'";
  }
  return null;
}

/**
 * Copies conv-net parameters to the device as float32 (the dense layers as a {@link GpuMlp}).
 * @throws InvalidArgumentError when {@link gpuConvNetUnsupported} gives a reason.
 * @example const net = uploadConvNet(gpu, params, cfg);
 */
export function uploadConvNet(gpu: GpuKernels, params: ConvNetParams, cfg: ConvNetConfig): GpuConvNet {
  const why = gpuConvNetUnsupported(cfg, params);
  if (why) throw new InvalidArgumentError(`uploadConvNet: ${why}`);
  const conv = cfg.channels.map((_, i) => {
    const w = params[`conv${i}.w`], b = params[`conv${i}.b`];
    return { w: gpu.upload(f32(w), w.shape), b: b instanceof Tensor ? gpu.upload(f32(b), b.shape) : null };
  });
  const dense: Record<string, Tensor> = {};
  for (let j = 0; params[`fc${j}.w`] instanceof Tensor; j++) {
    dense[`l${j}.w`] = params[`fc${j}.w`];
    if (params[`fc${j}.b`] instanceof Tensor) dense[`l${j}.b`] = params[`fc${j}.b`];
  }
  const { flat } = convNetShapes(cfg);
  if (dense['l0.w'].shape[0] !== flat) throw new InvalidArgumentError(`uploadConvNet: 'fc0.w' is [${dense['l0.w'].shape.join(', ')}] but the flattened features are ${flat}`);
  const head = uploadMlp(gpu, dense, cfg.activation);
  return { conv, head, activation: cfg.activation as GpuGradOp, shape: [cfg.inChannels, cfg.height, cfg.width], opts: { stride: cfg.stride ?? 2, padding: cfg.padding ?? 1 } };
}

/** Frees the device copies of an uploaded conv net. */
export function disposeConvNet(net: GpuConvNet): void {
  disposeAll(net.conv.flatMap((c) => [c.w, c.b]));
  disposeMlp(net.head);
}

/**
 * Queues the forward pass of rows `x [n, C·H·W]` (or images `[n, C, H, W]`). Returns the output `[n, out]` and what
 * the reverse pass needs.
 * @example const f = convNetForwardGpu(gpu, net, x); const logits = await f.out.read();
 */
export function convNetForwardGpu(gpu: GpuKernels, net: GpuConvNet, x: GpuTensor): GpuConvNetForward {
  const [C, H, W] = net.shape;
  const n = x.shape[0];
  if (x.size !== n * C * H * W) throw new InvalidArgumentError(`convNetForwardGpu: input [${x.shape.join(', ')}] is not [n, ${C * H * W}] or [n, ${C}, ${H}, ${W}]`);
  const temp: GpuTensor[] = [];
  const h: GpuTensor[] = [reshapeGpu(gpu, x, [n, C, H, W])];
  const a: GpuTensor[] = [];
  for (const layer of net.conv) {
    const ai = conv2dGpu(gpu, h[h.length - 1], layer.w, layer.b, net.opts);
    a.push(ai);
    temp.push(ai);
    const hi = gpu.unary(net.activation, ai);
    h.push(hi);
    temp.push(hi);
  }
  const last = h[h.length - 1];
  const head = mlpForwardGpu(gpu, net.head, reshapeGpu(gpu, last, [n, last.size / Math.max(n, 1)]));
  temp.push(...head.temp);
  return { h: h.slice(0, net.conv.length), a, head: { ...head, temp: [] }, out: head.out, temp };
}

/**
 * Queues the reverse pass of a loss `J` from `gOut = ∂J/∂out` `[n, out]` through the forward pass `f`: the
 * parameter gradients (with `params`) and the input gradient as rows `[n, C·H·W]` (with `input`). First order.
 * @example const g = convNetBackwardGpu(gpu, net, f, gOut, { params: true, input: false });
 */
export function convNetBackwardGpu(gpu: GpuKernels, net: GpuConvNet, f: GpuConvNetForward, gOut: GpuTensor, o: { params: boolean; input: boolean }): GpuConvNetGrads {
  const temp: GpuTensor[] = [];
  const back = mlpParamGradGpu(gpu, net.head, f.head, gOut, o.params);
  temp.push(...back.temp);
  if (back.abar0 !== gOut) temp.push(back.abar0);
  const L = net.conv.length;
  const convW: (GpuTensor | null)[] = new Array(L).fill(null), convB: (GpuTensor | null)[] = new Array(L).fill(null);
  const hbarFlat = gpu.matmul(back.abar0, net.head.w[0], { transB: true });
  temp.push(hbarFlat);
  let hbar = reshapeGpu(gpu, hbarFlat, f.a[L - 1].shape);
  let input: GpuTensor | null = null;
  for (let i = L - 1; i >= 0; i--) {
    const abar = gpu.unaryGrad(net.activation, f.a[i], hbar);
    temp.push(abar);
    const layer = net.conv[i];
    if (o.params) {
      const { dw, db } = conv2dFilterGradGpu(gpu, f.h[i], abar, layer.w.shape, net.opts, layer.b !== null);
      convW[i] = dw;
      convB[i] = db;
    }
    if (i > 0 || o.input) {
      const hb = conv2dInputGradGpu(gpu, abar, layer.w, f.h[i].shape, net.opts);
      if (i > 0) { temp.push(hb); hbar = hb; } else input = reshapeGpu(gpu, hb, [hb.shape[0], hb.size / Math.max(hb.shape[0], 1)]);
    }
  }
  return { convW, convB, fcW: o.params ? back.gW : [], fcB: o.params ? back.gB : [], input, temp };
}

/**
 * Reads a reverse pass's parameter gradients back as host tensors keyed and shaped like `params` (`conv{i}.w/b`,
 * `fc{j}.w/b`; a missing bias gradient reads as zeros).
 * @example const grads = await readConvNetGrads(params, g);
 */
export async function readConvNetGrads(params: ConvNetParams, g: GpuConvNetGrads): Promise<Record<string, Tensor>> {
  const out: Record<string, Tensor> = {};
  const put = async (name: string, t: GpuTensor | null | undefined): Promise<void> => {
    const p = params[name];
    if (!(p instanceof Tensor)) return;
    if (!t && name.endsWith('.w')) throw new InvalidArgumentError(`readConvNetGrads: no gradient for ${name}`);
    out[name] = t ? new Tensor(await t.read(), p.shape) : new Tensor(new Float32Array(p.size), p.shape);
  };
  for (let i = 0; i < g.convW.length; i++) { await put(`conv${i}.w`, g.convW[i]); await put(`conv${i}.b`, g.convB[i]); }
  for (let j = 0; j < g.fcW.length; j++) { await put(`fc${j}.w`, g.fcW[j]); await put(`fc${j}.b`, g.fcB[j]); }
  return out;
}

/** Frees a reverse pass's gradients and intermediates (not `input`'s caller-owned views twice). */
export function disposeConvNetGrads(g: GpuConvNetGrads): void {
  disposeAll([...g.convW, ...g.convB, ...g.fcW, ...g.fcB, g.input, ...g.temp]);
}
