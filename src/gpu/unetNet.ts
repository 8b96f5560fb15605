/**
 * The U-Net score network of src/diffusion/scoreNets.ts (`initUNet`/`applyUNet`) on the WebGPU device: its forward
 * pass keeping what the reverse pass needs, and the first-order reverse pass from the output's cotangent to every
 * parameter gradient (what the DSM training step needs: the network input is data, so no input gradient).
 *
 * Maths. A block is `B(h) = silu(a)`, `a = conv(h, W, stride, padding 1) + β`, with one bias row per image
 * `β = emb(τ)·W_t + b` `[N, O]`. Forward: `h₁ = B_enc1(x)`, `h₂ = B_enc2(h₁)` (stride 2), `h₃ = B_enc3(h₂)` (stride 2),
 * then `h₃ ← h₃ + B_mid_m(h₃)` for `m = 1 … M`, `u₂ = B_dec2(up(h₃) ⧺ h₂)`, `u₁ = B_dec1(up(u₂) ⧺ h₁)`,
 * `out = conv(u₁, W_out) + b_out`. Reverse of a block from `h̄` (the cotangent of its output): `ā = h̄ ⊙ silu′(a)`,
 * `W̄ = filterGrad(h, ā)`, `β̄[n, o] = Σ_{y,x} ā[n, o, y, x]`, `b̄ = Σ_n β̄`, `W̄_t = embᵀ·β̄`, `h̄_in = inputGrad(ā, W)`;
 * a residual block adds `h̄` to its `h̄_in`, the upsample-concat splits its cotangent into the block sums of the
 * upsampled channels and the skip's channels, which add to the skip's other cotangent.
 * Dispatches: forward, 4 per block (time projection, bias add, convolution, SiLU; 5 for a residual block) plus the
 * output convolution and two upsample-concats; reverse, about 6 per block plus 2 for the output and 2 for the
 * upsample-concats.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { InvalidArgumentError } from '../errors.js';
import type { GpuKernels, GpuTensor } from './kernels.js';
import { disposeAll } from './mlpNet.js';
import { conv2dGpu, conv2dInputGradGpu, conv2dFilterGradGpu, reshapeGpu } from './convKernels.js';
import { upsampleConcat2dGpu, upsampleConcat2dGradGpu, channelSumsGpu } from './imageKernels.js';

/** One time-conditioned block on the device: filter `w [O, I, 3, 3]`, bias `b [O]`, time projection `temb [e, O]`. */
export interface GpuUNetBlock {
  readonly w: GpuTensor;
  readonly b: GpuTensor;
  readonly temb: GpuTensor;
}

/** A U-Net's parameters on the device, by block name (`enc1`, `enc2`, `enc3`, `mid1…midM`, `dec2`, `dec1`), and the output conv. */
export interface GpuUNet {
  readonly blocks: Readonly<Record<string, GpuUNetBlock>>;
  /** Number `M` of residual 7×7 blocks. */
  readonly mid: number;
  readonly out: { readonly w: GpuTensor; readonly b: GpuTensor };
  /** Time-embedding width `e`. */
  readonly embedDim: number;
  /** Image channels `C`. */
  readonly channels: number;
}

/** What the reverse pass keeps of one block: its input, its pre-activation and its stride. */
export interface GpuUNetSavedBlock {
  readonly input: GpuTensor;
  readonly a: GpuTensor;
  readonly stride: number;
}

/** The forward pass of {@link unetForwardGpu}. */
export interface GpuUNetForward {
  /** The network output `[N, C, 28, 28]`. */
  readonly out: GpuTensor;
  /** The time embedding the pass used (`[N, e]`, or `[1, e]` shared by every image). */
  readonly emb: GpuTensor;
  /** Per block: its input, pre-activation and stride. */
  readonly saved: ReadonlyMap<string, GpuUNetSavedBlock>;
  /** The decoder's final feature map `u₁` (the output conv's input). */
  readonly u1: GpuTensor;
  /** Every buffer the pass created except `out` (free them with {@link disposeAll} once queued work no longer needs them). */
  readonly temp: readonly GpuTensor[];
}

/** The parameter gradients of {@link unetParamGradGpu}, keyed like the parameters, and the intermediates to free. */
export interface GpuUNetGrads {
  readonly grads: Readonly<Record<string, GpuTensor>>;
  readonly temp: readonly GpuTensor[];
}

function f32(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/** Block names in forward order for `mid` residual blocks. */
function blockNames(mid: number): string[] {
  return ['enc1', 'enc2', 'enc3', ...Array.from({ length: mid }, (_, m) => `mid${m + 1}`), 'dec2', 'dec1'];
}

/**
 * Why U-Net parameters cannot run on the GPU (`null` when they can): a missing tensor of a block, or an output conv
 * that does not fit.
 * @example gpuUNetUnsupported({}) // "the parameters have no 'enc1.w'"
 */
export function gpuUNetUnsupported(params: Record<string, Tensor>): string | null {
  let mid = 0;
  while (params[`mid${mid + 1}.w`] instanceof Tensor) mid++;
  for (const name of blockNames(mid)) {
    for (const part of ['w', 'b', 'temb']) if (!(params[`${name}.${part}`] instanceof Tensor)) return `the parameters have no '${name}.${part}'`;
  }
  if (!(params['out.w'] instanceof Tensor) || !(params['out.b'] instanceof Tensor)) return "the parameters have no 'out.w' or 'out.b'";
  return null;
}

/**
 * Copies U-Net parameters (the layout of `initUNet`) to the device as float32.
 * @throws InvalidArgumentError when {@link gpuUNetUnsupported} gives a reason.
 * @example const net = uploadUNet(gpu, params);
 */
export function uploadUNet(gpu: GpuKernels, params: Record<string, Tensor>): GpuUNet {
  const why = gpuUNetUnsupported(params);
  if (why) throw new InvalidArgumentError(`uploadUNet: ${why}`);
  let mid = 0;
  while (params[`mid${mid + 1}.w`] instanceof Tensor) mid++;
  const up = (name: string): GpuTensor => gpu.upload(f32(params[name]), params[name].shape);
  const blocks: Record<string, GpuUNetBlock> = {};
  for (const name of blockNames(mid)) blocks[name] = { w: up(`${name}.w`), b: up(`${name}.b`), temb: up(`${name}.temb`) };
  return {
    blocks, mid, out: { w: up('out.w'), b: up('out.b') },
    embedDim: params['enc1.temb'].shape[0], channels: params['enc1.w'].shape[1],
  };
}

/** Frees the device copies of an uploaded U-Net. */
export function disposeUNet(net: GpuUNet): void {
  disposeAll([...Object.values(net.blocks).flatMap((b) => [b.w, b.b, b.temb]), net.out.w, net.out.b]);
}

/**
 * Queues the forward pass of images `x [N, C, 28, 28]` with the time embedding `emb [N, e]` (one row per image) or
 * `[1, e]` (one time for every image, as a sampler's step): the network output `[N, C, 28, 28]` (`applyUNet`'s) and
 * what {@link unetParamGradGpu} needs. The caller frees `out` and `temp` (not `x` or `emb`, which stay its own).
 * @example const f = unetForwardGpu(gpu, net, x, emb); const y = await f.out.read();
 */
export function unetForwardGpu(gpu: GpuKernels, net: GpuUNet, x: GpuTensor, emb: GpuTensor): GpuUNetForward {
  const N = x.shape[0];
  if (x.shape.length !== 4 || x.shape[1] !== net.channels || x.shape[2] !== 28 || x.shape[3] !== 28) {
    throw new InvalidArgumentError(`unetForwardGpu: x must be [N, ${net.channels}, 28, 28], got [${x.shape.join(', ')}]`);
  }
  if (emb.shape.length !== 2 || emb.shape[1] !== net.embedDim || (emb.shape[0] !== N && emb.shape[0] !== 1)) {
    throw new InvalidArgumentError(`unetForwardGpu: emb must be [${N}, ${net.embedDim}] or [1, ${net.embedDim}], got [${emb.shape.join(', ')}]`);
  }
  const temp: GpuTensor[] = [];
  const keep = (t: GpuTensor): GpuTensor => { temp.push(t); return t; };
  const saved = new Map<string, GpuUNetSavedBlock>();
  const block = (name: string, h: GpuTensor, stride: number): GpuTensor => {
    const p = net.blocks[name];
    // β = emb·W_t + b: [N, O] per image, or one shared row [1, O] read as the conv's [O] bias.
    const beta = keep(gpu.binary('add', keep(gpu.matmul(emb, p.temb)), p.b));
    const bias = emb.shape[0] === N ? beta : reshapeGpu(gpu, beta, [beta.size]);
    const a = keep(conv2dGpu(gpu, h, p.w, bias, { stride, padding: 1 }));
    saved.set(name, { input: h, a, stride });
    return keep(gpu.unary('silu', a));
  };
  const h1 = block('enc1', x, 1);
  const h2 = block('enc2', h1, 2);
  let h3 = block('enc3', h2, 2);
  for (let m = 1; m <= net.mid; m++) h3 = keep(gpu.binary('add', h3, block(`mid${m}`, h3, 1)));
  const u2 = block('dec2', keep(upsampleConcat2dGpu(gpu, h3, h2, 2)), 1);
  const u1 = block('dec1', keep(upsampleConcat2dGpu(gpu, u2, h1, 2)), 1);
  const out = conv2dGpu(gpu, u1, net.out.w, net.out.b, { padding: 1 });
  return { out, emb, saved, u1, temp };
}

/**
 * Queues the reverse pass of a loss `J` from `gOut = ∂J/∂out` `[N, C, 28, 28]` through the forward pass `f` (run
 * with a per-image embedding `[N, e]`): the gradient of every parameter (`{name}.w`, `.b`, `.temb`, `out.w`,
 * `out.b`). First order. The caller frees `grads` and `temp`.
 * @example const g = unetParamGradGpu(gpu, net, f, gOut); const grads = await readUNetGrads(params, g);
 */
export function unetParamGradGpu(gpu: GpuKernels, net: GpuUNet, f: GpuUNetForward, gOut: GpuTensor): GpuUNetGrads {
  const N = f.out.shape[0];
  if (f.emb.shape[0] !== N) throw new InvalidArgumentError(`unetParamGradGpu: the forward pass shared one time embedding row; the parameter gradient needs one per image ([${N}, ${net.embedDim}])`);
  if (gOut.size !== f.out.size) throw new InvalidArgumentError(`unetParamGradGpu: gOut [${gOut.shape.join(', ')}] is not the output's shape [${f.out.shape.join(', ')}]`);
  const temp: GpuTensor[] = [];
  const keep = (t: GpuTensor): GpuTensor => { temp.push(t); return t; };
  const grads: Record<string, GpuTensor> = {};
  // The reverse of one block from the cotangent of its output; returns that of its input when asked.
  const back = (name: string, hbar: GpuTensor, input: boolean): GpuTensor | null => {
    const s = f.saved.get(name)!;
    const p = net.blocks[name];
    const abar = keep(gpu.unaryGrad('silu', s.a, hbar));
    const opts = { stride: s.stride, padding: 1 };
    grads[`${name}.w`] = conv2dFilterGradGpu(gpu, s.input, abar, p.w.shape, opts, false).dw;
    const betaBar = keep(channelSumsGpu(gpu, abar, true)); // [N, O]
    grads[`${name}.b`] = gpu.sumRows(betaBar);
    grads[`${name}.temb`] = gpu.matmul(f.emb, betaBar, { transA: true });
    return input ? keep(conv2dInputGradGpu(gpu, abar, p.w, s.input.shape, opts)) : null;
  };
  const g = reshapeGpu(gpu, gOut, f.out.shape);
  const o = conv2dFilterGradGpu(gpu, f.u1, g, net.out.w.shape, { padding: 1 }, true);
  grads['out.w'] = o.dw;
  grads['out.b'] = o.db!;
  const u1bar = keep(conv2dInputGradGpu(gpu, g, net.out.w, f.u1.shape, { padding: 1 }));
  const dec1In = f.saved.get('dec1')!.input, dec2In = f.saved.get('dec2')!.input;
  const c2 = f.saved.get('dec2')!.a.shape[1]; // channels of u₂ (upsampled in dec1's input)
  const c3 = f.saved.get('enc3')!.a.shape[1]; // channels of h₃ (upsampled in dec2's input)
  if (dec1In.shape[1] <= c2 || dec2In.shape[1] <= c3) throw new InvalidArgumentError('unetParamGradGpu: the decoder inputs do not fit the encoder widths');
  const s1 = upsampleConcat2dGradGpu(gpu, back('dec1', u1bar, true)!, c2, 2);
  keep(s1.gx); keep(s1.gskip);
  const s2 = upsampleConcat2dGradGpu(gpu, back('dec2', s1.gx, true)!, c3, 2);
  keep(s2.gx); keep(s2.gskip);
  let h3bar = s2.gx;
  for (let m = net.mid; m >= 1; m--) h3bar = keep(gpu.binary('add', h3bar, back(`mid${m}`, h3bar, true)!));
  const h2bar = keep(gpu.binary('add', s2.gskip, back('enc3', h3bar, true)!));
  const h1bar = keep(gpu.binary('add', s1.gskip, back('enc2', h2bar, true)!));
  back('enc1', h1bar, false);
  return { grads, temp };
}

/**
 * Reads a reverse pass's gradients back as host tensors keyed and shaped like `params`.
 * @throws InvalidArgumentError when a parameter has no gradient.
 * @example const grads = await readUNetGrads(params, g);
 */
export async function readUNetGrads(params: Record<string, Tensor>, g: GpuUNetGrads): Promise<Record<string, Tensor>> {
  const out: Record<string, Tensor> = {};
  for (const [name, p] of Object.entries(params)) {
    const t = g.grads[name];
    if (!t) throw new InvalidArgumentError(`readUNetGrads: no gradient for ${name}`);
    out[name] = new Tensor(await t.read(), p.shape);
  }
  return out;
}

/** Frees a reverse pass's gradients and intermediates. */
export function disposeUNetGrads(g: GpuUNetGrads): void {
  disposeAll([...Object.values(g.grads), ...g.temp]);
}
