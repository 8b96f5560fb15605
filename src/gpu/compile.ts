/**
 * A traced, compiled step on the WebGPU device (docs/webgpu.md, "The read-back decision"): `compile(gpu, fn)` runs a
 * pure function of tensors once on the CPU with an op tracer installed (src/tensor/trace.ts), which records every op
 * it runs — the ops of `grad`/`valueAndGrad`/`vjp` inside `fn` included, so gradients of gradients are recorded too —
 * with their attributes; the recorded graph is lowered to a fixed list of WGSL dispatches over buffers allocated once.
 * Each call then copies its inputs into the program's input buffers, queues every dispatch in one compute pass, and
 * returns device-resident results; `await t.read()` brings back only what the caller asks for.
 * @module
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import { withOpTracer, type OpAttrs, type OpTracer, type TracedTensor } from '../tensor/trace.js';
import { GpuKernels, GpuTensor, GPU_UNARY_OPS, GPU_GRAD_OPS, REDUCE_WGSL, UNARY_WGSL, UNARY_GRAD_WGSL } from './kernels.js';
import {
  ELEM_OPS, ELEM_HEADER, ELEM_WGSL, FUSED_MAX_INPUTS, MATMUL_BIAS_WGSL, MAX_RANK, SUM_AXES_WGSL, SUM_HEADER, TRACE_TILE, TRACE_WG,
  WINDOW_WGSL, fusedWgsl, isFusable, type ElemOp, type FusedNode,
} from './traceKernels.js';
import { BufferUsage, MAP_READ_MODE, type GpuBufferLike, type GpuPipelineLike } from './webgpuTypes.js';
import { EbmError, InvalidArgumentError, InvalidTypeError } from '../errors.js';

/**
 * A traced function cannot be lowered: an op with no WGSL lowering (named in the message, with its attributes), a
 * value that no traced op made (computed from raw arrays or drawn at random inside the function), a float64 value,
 * or more than {@link MAX_RANK} axes. Code `BACKEND`.
 * @example try { compile(gpu, f)(x); } catch (e) { if (e instanceof UnsupportedOpError) console.log(e.message); }
 */
export class UnsupportedOpError extends EbmError {
  readonly code = 'BACKEND' as const;
  override name = 'UnsupportedOpError';
}

/** A tree of CPU tensors: a tensor, or arrays/records nesting them (the arguments and results of a traced function). */
export type TensorTree = Tensor | readonly TensorTree[] | { readonly [k: string]: TensorTree };

/** The device-side argument for a {@link TensorTree}: each CPU tensor may be given as a {@link GpuTensor} or a float32 CPU {@link Tensor} (uploaded). */
export type DeviceArg<T> = T extends Tensor ? GpuTensor | Tensor
  : T extends readonly unknown[] ? { readonly [K in keyof T]: DeviceArg<T[K]> }
  : T extends object ? { readonly [K in keyof T]: DeviceArg<T[K]> } : never;

/** The device-side result for a {@link TensorTree}: every tensor becomes a {@link GpuTensor} of the same shape. */
export type DeviceResult<T> = T extends Tensor ? GpuTensor
  : T extends readonly unknown[] ? { readonly [K in keyof T]: DeviceResult<T[K]> }
  : T extends object ? { readonly [K in keyof T]: DeviceResult<T[K]> } : never;

/** Options of {@link compile}. */
export interface CompileOptions {
  /**
   * Fuse elementwise ops (default true): a pointwise op whose only consumer is a pointwise op of the same shape is
   * computed inside the consumer's kernel, so a chain such as an activation's derivative is one dispatch. `false`
   * gives one dispatch per op (the reference the fused program is checked against).
   */
  readonly fuse?: boolean;
}

/** Size of one compiled program (one per distinct set of input shapes). */
export interface CompiledStats {
  /** Programs traced so far (a call with new input shapes traces again). */
  readonly traces: number;
  /** Dispatches per call of the most recent program. */
  readonly dispatches: number;
  /** Device buffers the most recent program holds (inputs, constants, intermediates), and their bytes. */
  readonly buffers: number;
  readonly bytes: number;
  /** Ops recorded by the most recent trace, and those the results depend on (the rest are dropped). */
  readonly recordedOps: number;
  readonly liveOps: number;
}

/** The device-side arguments for a function's parameter list `A` (each mapped by {@link DeviceArg}). */
export type DeviceArgs<A extends unknown[]> = { [K in keyof A]: DeviceArg<A[K]> };

/** A compiled function: call it with device (or CPU float32) tensors; it returns device-resident results at once. */
export interface CompiledFn<A extends unknown[], R> {
  (...args: DeviceArgs<A>): DeviceResult<R>;
  /** Counts of the most recent program (see {@link CompiledStats}). */
  readonly stats: CompiledStats;
  /** Frees every program's device buffers; the function may not be called afterwards. */
  dispose(): void;
}

/** The ops {@link compile} lowers (any other op that the results depend on raises {@link UnsupportedOpError}). */
export const COMPILED_OPS: readonly string[] = [
  ...GPU_UNARY_OPS, 'add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'greater', 'greaterEqual', 'less', 'lessEqual',
  'equal', 'sign', 'reciprocal', 'log1p', 'affine', 'clamp', 'unaryGrad', 'matmul', 'linear', 'sum', 'sumToShape',
  'broadcastTo', 'reshape', 'identity', 'where', 'logsumexp', 'softmax', 'logSoftmax', 'slice', 'pad', 'concat', 'permute',
];

// ---------------------------------------------------------------------------------------------------------------
// Tracing

type Value =
  | { kind: 'input'; shape: Shape; index: number }
  | { kind: 'const'; shape: Shape; data: Float32Array | null }
  | { kind: 'untraced'; shape: Shape; consumer: string }
  | { kind: 'op'; shape: Shape; op: string; inputs: number[]; attrs: OpAttrs | undefined; float64: boolean };

interface Trace {
  values: Value[];
  outputs: number[];
  /** The result's structure with `null` for each tensor. */
  skeleton: unknown;
}

type Leaf = GpuTensor | Tensor;

function isPlainRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Tensor) && !(x instanceof GpuTensor);
}

/** Flattens a tree of tensors (CPU or device) into leaves and a structural signature with the leaves' shapes. */
function flatten(tree: unknown, leaves: Leaf[], what: string): string {
  if (tree instanceof Tensor || tree instanceof GpuTensor) {
    leaves.push(tree);
    return `[${tree.shape.join(',')}]`;
  }
  if (Array.isArray(tree)) return `(${tree.map((t) => flatten(t, leaves, what)).join(' ')})`;
  if (isPlainRecord(tree)) return `{${Object.keys(tree).map((k) => `${JSON.stringify(k)}:${flatten(tree[k], leaves, what)}`).join(' ')}}`;
  throw new InvalidTypeError(`compile: ${what} must be tensors or arrays/records of tensors, got ${tree === null ? 'null' : typeof tree}`);
}

/** Rebuilds the structure of `tree` with leaves (tensors, or `null` in a skeleton) taken in order from `leaves`. */
function unflatten(tree: unknown, leaves: readonly unknown[], at = { i: 0 }): unknown {
  if (tree === null || tree instanceof Tensor || tree instanceof GpuTensor) return leaves[at.i++];
  if (Array.isArray(tree)) return tree.map((t) => unflatten(t, leaves, at));
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(tree as Record<string, unknown>)) o[k] = unflatten((tree as Record<string, unknown>)[k], leaves, at);
  return o;
}

/** Deterministic values in [0.25, 0.75) for the trace of a device input (its values are not on the host). */
function fillerValues(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.25 + 0.5 * ((i * 0.6180339887) % 1);
  return out;
}

function traceFn(fn: (...args: never[]) => unknown, args: readonly unknown[], leaves: readonly Leaf[]): Trace {
  const values: Value[] = [];
  const ids = new Map<number, number>();
  const hostLeaves = leaves.map((l, index) => {
    if (l instanceof Tensor && l.dtype !== 'float32') throw new UnsupportedOpError(`compile: input ${index} is ${l.dtype}; the WebGPU backend computes in float32`);
    const t = new Tensor(l instanceof Tensor ? l.data : fillerValues(l.size), l.shape);
    ids.set(t.id, values.length);
    values.push({ kind: 'input', shape: t.shape, index });
    return t;
  });
  // Tensors made before this point and met by no tracer call are constants captured by `fn`'s closure.
  const firstTraced = new Tensor(new Float32Array(0), [0]).id;
  const resolve = (t: TracedTensor, consumer: string): number => {
    const known = ids.get(t.id);
    if (known !== undefined) return known;
    const v: Value = t.id < firstTraced
      ? { kind: 'const', shape: t.shape, data: t.dtype === 'float32' ? Float32Array.from(t.data) : null }
      : { kind: 'untraced', shape: t.shape, consumer };
    ids.set(t.id, values.length);
    values.push(v);
    return values.length - 1;
  };
  const tracer: OpTracer = {
    op(out, op, inputs, attrs) {
      const ins = inputs.map((t) => resolve(t, op));
      const float64 = out.dtype !== 'float32' || inputs.some((t) => t.dtype !== 'float32');
      ids.set(out.id, values.length);
      values.push({ kind: 'op', shape: out.shape, op, inputs: ins, attrs, float64 });
    },
    constant(t) {
      if (ids.has(t.id)) return;
      ids.set(t.id, values.length);
      values.push({ kind: 'const', shape: t.shape, data: t.dtype === 'float32' ? Float32Array.from(t.data) : null });
    },
    alias(out, of) {
      ids.set(out.id, resolve(of, 'alias'));
    },
  };
  const result = withOpTracer(tracer, () => fn(...(unflatten(args, hostLeaves) as never[])));
  const outLeaves: Leaf[] = [];
  flatten(result, outLeaves, 'the results of the compiled function');
  const outputs = outLeaves.map((t) => {
    if (!(t instanceof Tensor)) throw new InvalidTypeError('compile: the compiled function must return CPU tensors computed from its arguments');
    return resolve(t, 'the results');
  });
  return { values, outputs, skeleton: unflatten(result, outLeaves.map(() => null)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Lowering

interface Step {
  pipeline: GpuPipelineLike;
  group: unknown;
  gx: number;
  gy: number;
}

interface Program {
  steps: Step[];
  owned: GpuBufferLike[];
  bytes: number;
  inputs: { buffer: GpuBufferLike; size: number; shape: Shape }[];
  outputs: { buffer: GpuBufferLike; size: number; shape: Shape }[];
  resultTree: unknown;
  recordedOps: number;
  liveOps: number;
}

const MAX_GROUPS = 65535;
const NINF_BITS = 0xff800000;

function sameShapeOf(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Element strides of `shape` read as `outShape` under numpy broadcasting (0 on broadcast axes). */
function broadcastStrides(shape: Shape, outShape: Shape, op: string): number[] {
  const off = outShape.length - shape.length;
  if (off < 0) throw new UnsupportedOpError(`compile: op '${op}' broadcasts [${shape.join(', ')}] to the smaller [${outShape.join(', ')}]`);
  const st = stridesOf(shape);
  const res = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] !== 1 && shape[i] !== outShape[i + off]) throw new UnsupportedOpError(`compile: op '${op}' cannot broadcast [${shape.join(', ')}] to [${outShape.join(', ')}]`);
    res[i + off] = shape[i] === 1 ? 0 : st[i];
  }
  return res;
}

function padded(words: readonly number[]): number[] {
  const out = words.slice();
  while (out.length < MAX_RANK) out.push(0);
  return out;
}

function describeOp(v: Extract<Value, { kind: 'op' }>): string {
  const attrs = v.attrs ? ` ${JSON.stringify(v.attrs)}` : '';
  return `'${v.op}'${attrs} (output [${v.shape.join(', ')}])`;
}

/** The scalar attributes of a pointwise op with them (`affine`, `clamp`, constant-exponent `pow`), else undefined. */
function scalarAttrs(v: Extract<Value, { kind: 'op' }>): number[] | undefined {
  if (v.op === 'affine') return [Number(v.attrs?.a), Number(v.attrs?.b)];
  if (v.op === 'clamp') return [Number(v.attrs?.lo), Number(v.attrs?.hi)];
  if (v.op === 'pow' && v.inputs.length === 1) return [Number(v.attrs?.p)];
  return undefined;
}

function build(gpu: GpuKernels, trace: Trace, resultTree: unknown, pipelines: Map<string, GpuPipelineLike>, fuse: boolean): Program {
  const { values, outputs } = trace;
  // Liveness: the values the results depend on.
  const live = new Array<boolean>(values.length).fill(false);
  const stack = [...outputs];
  while (stack.length) {
    const i = stack.pop()!;
    if (live[i]) continue;
    live[i] = true;
    const v = values[i];
    if (v.kind === 'op') for (const j of v.inputs) stack.push(j);
  }
  let recordedOps = 0, liveOps = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v.kind === 'op') {
      recordedOps++;
      if (live[i]) liveOps++;
    }
    if (!live[i]) continue;
    if (v.kind === 'untraced') {
      throw new UnsupportedOpError(`compile: ${v.consumer === 'the results' ? 'a result' : `op '${v.consumer}'`} reads a tensor [${v.shape.join(', ')}] that no traced op made (computed from raw arrays, a random draw or an untraced helper inside the function): pass it as an input, or compute it with tensor ops`);
    }
    if (v.kind === 'const' && v.data === null) throw new UnsupportedOpError(`compile: a float64 constant [${v.shape.join(', ')}] is used; the WebGPU backend computes in float32`);
    if (v.kind === 'op') {
      if (!COMPILED_OPS.includes(v.op)) throw new UnsupportedOpError(`compile: op ${describeOp(v)} has no WebGPU lowering (lowered: ${COMPILED_OPS.join(', ')})`);
      if (v.float64) throw new UnsupportedOpError(`compile: op ${describeOp(v)} computes in float64; the WebGPU backend computes in float32`);
      if (v.shape.length > MAX_RANK) throw new UnsupportedOpError(`compile: op ${describeOp(v)} has more than ${MAX_RANK} axes`);
    }
  }

  // Fusion plan: a pointwise op whose only consumer is a pointwise op of the same shape is computed inside that
  // consumer's kernel (its value never reaches memory); finite scalar constants become literals. Decided in program
  // order, so every input of a kernel is complete before it runs; a kernel reads at most FUSED_MAX_INPUTS tensors.
  const uses = new Array<number>(values.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (live[i] && v.kind === 'op') for (const j of v.inputs) uses[j]++;
  }
  for (const o of outputs) uses[o] += 2; // a result is stored, whoever else reads it
  // `where` (three inputs) always goes through a generated kernel, a kernel of its own when fusion is off.
  const pointwise = (i: number): boolean => {
    const v = values[i];
    if (v.kind !== 'op' || !isFusable(v.op, v.inputs.length) || (!fuse && v.op !== 'where')) return false;
    return (scalarAttrs(v) ?? []).every(Number.isFinite);
  };
  const inlineScalar = (j: number): boolean => {
    const v = values[j];
    return v.kind === 'const' && v.data !== null && v.data.length === 1 && Number.isFinite(v.data[0]);
  };
  const mergedInto = new Array<number>(values.length).fill(-1);
  const leafSets = new Array<Set<number> | null>(values.length).fill(null);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!live[i] || v.kind !== 'op' || !pointwise(i)) continue;
    const cands = new Set(v.inputs.filter((j) => fuse && pointwise(j) && uses[j] === 1 && sameShapeOf(values[j].shape, v.shape)));
    const leavesWith = (): Set<number> => {
      const set = new Set<number>();
      for (const j of v.inputs) {
        if (cands.has(j)) for (const l of leafSets[j]!) set.add(l);
        else if (!inlineScalar(j)) set.add(j);
      }
      return set;
    };
    let leaves = leavesWith();
    while (leaves.size > FUSED_MAX_INPUTS) {
      let worst = -1;
      for (const j of cands) if (worst < 0 || leafSets[j]!.size > leafSets[worst]!.size) worst = j;
      cands.delete(worst);
      leaves = leavesWith();
    }
    for (const j of cands) mergedInto[j] = i;
    leafSets[i] = leaves;
  }

  const device = gpu.device;
  const owned: GpuBufferLike[] = [];
  let bytes = 0;
  const storage = (n: number): GpuBufferLike => {
    const size = Math.max(4, n * 4);
    const b = device.createBuffer({ size, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
    owned.push(b);
    bytes += size;
    return b;
  };
  const uniform = (words: ArrayBuffer): GpuBufferLike => {
    const b = device.createBuffer({ size: words.byteLength, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, words);
    owned.push(b);
    return b;
  };
  const pipeline = (name: string, code: string): GpuPipelineLike => {
    let p = pipelines.get(name);
    if (!p) {
      p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
      pipelines.set(name, p);
    }
    return p;
  };

  const bufs = new Array<GpuBufferLike | null>(values.length).fill(null);
  const inputs: Program['inputs'] = [];
  const steps: Step[] = [];
  const emit = (name: string, code: string, buffers: GpuBufferLike[], words: ArrayBuffer, gx: number, gy: number): void => {
    const pipe = pipeline(name, code);
    const u = uniform(words);
    const group = device.createBindGroup({
      layout: pipe.getBindGroupLayout(0),
      entries: [...buffers, u].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    steps.push({ pipeline: pipe, group, gx, gy });
  };
  const emitRaw = (name: string, code: string, buffers: GpuBufferLike[], gx: number, gy: number): void => {
    const pipe = pipeline(name, code);
    const group = device.createBindGroup({
      layout: pipe.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    steps.push({ pipeline: pipe, group, gx, gy });
  };
  const grid = (threads: number, wg: number): [number, number, number] => {
    const groups = Math.max(1, Math.ceil(threads / wg));
    const gx = Math.min(groups, MAX_GROUPS);
    return [gx, Math.ceil(groups / gx), gx * wg];
  };
  const words = (n: number): [ArrayBuffer, Uint32Array, Float32Array] => {
    const ab = new ArrayBuffer(n * 4);
    return [ab, new Uint32Array(ab), new Float32Array(ab)];
  };
  let dummy: GpuBufferLike | null = null;

  const elem = (op: ElemOp, out: GpuBufferLike, outShape: Shape, a: number, bIn: number | { buffer: GpuBufferLike; shape: Shape } | null, s0 = 0, s1 = 0, name: string = op, aStrides?: number[]): void => {
    const n = sizeOf(outShape);
    if (n === 0) return;
    const b = bIn === null ? null : typeof bIn === 'number' ? { buffer: bufs[bIn]!, shape: values[bIn].shape } : bIn;
    const va = values[a];
    const [gx, gy, stride] = grid(n, TRACE_WG);
    const [ab, u32, f32] = words(ELEM_HEADER + 3 * MAX_RANK);
    u32.set([n, ELEM_OPS.indexOf(op), outShape.length, stride]);
    f32[4] = s0;
    f32[5] = s1;
    u32[6] = NINF_BITS;
    u32.set(padded(outShape), ELEM_HEADER);
    u32.set(padded(aStrides ?? broadcastStrides(va.shape, outShape, name)), ELEM_HEADER + MAX_RANK);
    u32.set(padded(b === null ? new Array<number>(outShape.length).fill(0) : broadcastStrides(b.shape, outShape, name)), ELEM_HEADER + 2 * MAX_RANK);
    emit('trace.elem', ELEM_WGSL, [bufs[a]!, b === null ? bufs[a]! : b.buffer, out], ab, gx, gy);
  };
  const sumTo = (x: number, kept: Shape, out: GpuBufferLike, name: string): void => {
    const xs = values[x].shape;
    if (kept.length !== xs.length) throw new UnsupportedOpError(`compile: op '${name}' reduces [${xs.join(', ')}] to a shape of another rank`);
    const red = xs.map((d, i) => {
      if (kept[i] !== d && kept[i] !== 1) throw new UnsupportedOpError(`compile: op '${name}' cannot reduce [${xs.join(', ')}] to [${kept.join(', ')}]`);
      return kept[i] === d ? 1 : d;
    });
    const nOut = sizeOf(kept);
    if (nOut === 0) return;
    // Reduced axes that form one block (axes of length 1 aside) are one axis of a `[outer, len, inner]` view: the
    // reduction kernel of kernels.ts runs a workgroup of 256 threads per output (a sum of all elements included).
    const big = xs.map((d, a) => [a, d] as const).filter(([, d]) => d > 1);
    const redAt = big.map(([a]) => red[a] > 1);
    const first = redAt.indexOf(true), last = redAt.lastIndexOf(true);
    if (first >= 0 && redAt.slice(first, last + 1).every(Boolean)) {
      const len = big.slice(first, last + 1).reduce((q, [, d]) => q * d, 1);
      const inner = big.slice(last + 1).reduce((q, [, d]) => q * d, 1);
      const [ab, u32] = words(8);
      u32.set([len, inner, 0, nOut, NINF_BITS]);
      const gx = Math.min(nOut, MAX_GROUPS);
      emit('reduce', REDUCE_WGSL, [bufs[x]!, out], ab, gx, Math.ceil(nOut / gx));
      return;
    }
    const [gx, gy, stride] = grid(nOut, TRACE_WG);
    const [ab, u32] = words(SUM_HEADER + 3 * MAX_RANK);
    u32.set([nOut, xs.length, sizeOf(red), stride]);
    u32.set(padded(kept), SUM_HEADER);
    u32.set(padded(red), SUM_HEADER + MAX_RANK);
    u32.set(padded(stridesOf(xs)), SUM_HEADER + 2 * MAX_RANK);
    emit('trace.sum', SUM_AXES_WGSL, [bufs[x]!, out], ab, gx, gy);
  };
  /** One-axis reduction kernel of kernels.ts (op 0 sum, 1 logsumexp, 2 softmax, 3 max) over axis `axis` of value `x`. */
  const reduceAxis = (code: number, x: number, axis: number, out: GpuBufferLike): void => {
    const xs = values[x].shape;
    const len = xs[axis];
    const inner = sizeOf(xs.slice(axis + 1));
    const outs = sizeOf(xs) / Math.max(len, 1);
    if (outs === 0 || len === 0) return;
    const [ab, u32] = words(8);
    u32.set([len, inner, code, outs, NINF_BITS]);
    const gx = Math.min(outs, MAX_GROUPS);
    emit('reduce', REDUCE_WGSL, [bufs[x]!, out], ab, gx, Math.ceil(outs / gx));
  };
  /** The copy kernel along one axis (see WINDOW_WGSL): `mode` 0 scatters rows of x, 1 gathers rows of the output. */
  const windowCopy = (x: GpuBufferLike, out: GpuBufferLike, threads: number, rowIn: number, rowOut: number, shift: number, mode: 0 | 1): void => {
    if (threads === 0) return;
    const [gx, gy, stride] = grid(threads, TRACE_WG);
    const [ab, u32] = words(8);
    u32.set([threads, rowIn, rowOut]);
    new Int32Array(ab)[3] = shift;
    u32.set([mode, stride], 4);
    emit('trace.window', WINDOW_WGSL, [x, out], ab, gx, gy);
  };
  const oneAxis = (v: Extract<Value, { kind: 'op' }>, axes: readonly number[] | undefined): number => {
    if (!axes || axes.length !== 1) throw new UnsupportedOpError(`compile: op ${describeOp(v)} is lowered over one axis only`);
    return axes[0];
  };
  const matmul = (a: number, b: number, bias: number | null, out: GpuBufferLike, m: number, n: number, k: number, ta: boolean, tb: boolean, lda: number, ldb: number): void => {
    if (m === 0 || n === 0) return;
    const gx = Math.ceil(n / TRACE_TILE), gy = Math.ceil(m / TRACE_TILE);
    if (gx > MAX_GROUPS || gy > MAX_GROUPS) throw new UnsupportedOpError(`compile: a matmul result [${m}, ${n}] is too large for one dispatch`);
    const [ab, u32] = words(8);
    u32.set([m, n, k, ta ? 1 : 0, tb ? 1 : 0, lda, ldb, bias === null ? 0 : 1]);
    if (bias === null && !dummy) dummy = storage(1);
    emit('trace.matmul', MATMUL_BIAS_WGSL, [bufs[a]!, bufs[b]!, bias === null ? dummy! : bufs[bias]!, out], ab, gx, gy);
  };

  for (let i = 0; i < values.length; i++) {
    if (!live[i]) continue;
    const v = values[i];
    if (v.kind === 'input') {
      const b = storage(sizeOf(v.shape));
      bufs[i] = b;
      inputs[v.index] = { buffer: b, size: sizeOf(v.shape), shape: v.shape };
      continue;
    }
    if (v.kind === 'const') {
      const b = storage(v.data!.length);
      if (v.data!.length > 0) device.queue.writeBuffer(b, 0, v.data!);
      bufs[i] = b;
      continue;
    }
    if (v.kind !== 'op') continue;
    const [x, y, z] = v.inputs;
    if (v.op === 'reshape' || v.op === 'identity') {
      bufs[i] = bufs[x];
      continue;
    }
    if (leafSets[i] !== null) {
      if (mergedInto[i] >= 0) continue; // computed inside its consumer's kernel
      const leaves = [...leafSets[i]!];
      const at = new Map(leaves.map((j, k) => [j, k]));
      const node = (j: number): FusedNode => {
        const u = values[j];
        if (j !== i && mergedInto[j] < 0) {
          if (at.has(j)) return { kind: 'input', index: at.get(j)! };
          return { kind: 'scalar', value: (u as Extract<Value, { kind: 'const' }>).data![0] };
        }
        const w = u as Extract<Value, { kind: 'op' }>;
        const scalars = scalarAttrs(w);
        const op = w.op === 'pow' && scalars ? 'powScalar' : w.op;
        return scalars ? { kind: 'op', op, args: w.inputs.map(node), scalars } : { kind: 'op', op, args: w.inputs.map(node) };
      };
      const out = storage(sizeOf(v.shape));
      bufs[i] = out;
      const n = sizeOf(v.shape);
      if (n === 0) continue;
      const [gx, gy, stride] = grid(n, TRACE_WG);
      const strides = leaves.map((j) => broadcastStrides(values[j].shape, v.shape, v.op));
      const code = fusedWgsl(node(i), v.shape, strides, stride);
      emitRaw(`fused:${code}`, code, [...leaves.map((j) => bufs[j]!), out], gx, gy);
      continue;
    }
    const out = storage(sizeOf(v.shape));
    bufs[i] = out;
    const n = sizeOf(v.shape);
    const unaryCode = (GPU_UNARY_OPS as readonly string[]).indexOf(v.op);
    if (unaryCode >= 0) {
      if (n === 0) continue;
      const [gx, gy, stride] = grid(n, 64);
      const [ab, u32] = words(4);
      u32.set([n, unaryCode, stride, NINF_BITS]);
      emit('unary', UNARY_WGSL, [bufs[x]!, out], ab, gx, gy);
      continue;
    }
    switch (v.op) {
      case 'pow':
        // `pow(x, p)` with a constant exponent records one input and the attribute `p`.
        if (v.inputs.length === 1) elem('powScalar', out, v.shape, x, null, Number(v.attrs?.p), 0, 'pow');
        else elem('pow', out, v.shape, x, y);
        break;
      case 'max': case 'min':
        // The reductions `max(x, axes)` (and `min`, written with it) share the binary ops' names; they have one input.
        // Its gradient's mask is made on the host, so only the forward value can be compiled.
        if (v.inputs.length === 1) {
          if (v.op === 'min') throw new UnsupportedOpError(`compile: op ${describeOp(v)} (the reduction) has no WebGPU lowering`);
          reduceAxis(3, x, oneAxis(v, v.attrs?.axes as readonly number[] | undefined), out);
          break;
        }
        elem(v.op, out, v.shape, x, y);
        break;
      case 'add': case 'sub': case 'mul': case 'div':
      case 'greater': case 'greaterEqual': case 'less': case 'lessEqual': case 'equal':
        elem(v.op, out, v.shape, x, y);
        break;
      case 'sign': case 'reciprocal': case 'log1p':
        elem(v.op, out, v.shape, x, null);
        break;
      case 'broadcastTo':
        elem('copy', out, v.shape, x, null, 0, 0, 'broadcastTo');
        break;
      case 'affine':
        elem('affine', out, v.shape, x, null, Number(v.attrs?.a), Number(v.attrs?.b));
        break;
      case 'clamp':
        elem('clamp', out, v.shape, x, null, Number(v.attrs?.lo), Number(v.attrs?.hi));
        break;
      case 'unaryGrad': {
        const code = (GPU_GRAD_OPS as readonly string[]).indexOf(String(v.attrs?.activation));
        if (code < 0) throw new UnsupportedOpError(`compile: op ${describeOp(v)} has no WebGPU lowering (fused backward of ${GPU_GRAD_OPS.join(', ')} only)`);
        if (n === 0) break;
        const [gx, gy, stride] = grid(n, 64);
        const [ab, u32] = words(4);
        u32.set([n, code, stride, 1]);
        emit('unaryGrad', UNARY_GRAD_WGSL, [bufs[x]!, bufs[y]!, out], ab, gx, gy);
        break;
      }
      case 'sum': {
        const axes = new Set((v.attrs?.axes as readonly number[] | undefined) ?? []);
        const xs = values[x].shape;
        sumTo(x, xs.map((d, a) => (axes.has(a) ? 1 : d)), out, 'sum');
        break;
      }
      case 'sumToShape': {
        const xs = values[x].shape;
        if (v.shape.length > xs.length) throw new UnsupportedOpError(`compile: op ${describeOp(v)} reduces to a shape of more axes`);
        sumTo(x, [...new Array<number>(xs.length - v.shape.length).fill(1), ...v.shape], out, 'sumToShape');
        break;
      }
      case 'matmul': {
        const as = values[x].shape, bs = values[y].shape;
        if (as.length !== 2 || bs.length !== 2) throw new UnsupportedOpError(`compile: op ${describeOp(v)} on [${as.join(', ')}] and [${bs.join(', ')}] (2-D matmuls only)`);
        const ta = v.attrs?.transA === true, tb = v.attrs?.transB === true;
        const m = ta ? as[1] : as[0], k = ta ? as[0] : as[1], nn = tb ? bs[0] : bs[1];
        matmul(x, y, null, out, m, nn, k, ta, tb, as[1], bs[1]);
        break;
      }
      case 'linear': {
        const ws = values[y].shape;
        const k = ws[0], nn = ws[1];
        const rows = nn > 0 ? n / nn : 0;
        matmul(x, y, z, out, rows, nn, k, false, false, k, nn);
        break;
      }
      case 'logsumexp':
        reduceAxis(1, x, oneAxis(v, v.attrs?.axes as readonly number[] | undefined), out);
        break;
      case 'softmax':
        reduceAxis(2, x, Number(v.attrs?.axis), out);
        break;
      case 'logSoftmax': {
        // x − logsumexp(x) over the axis: the log-sum-exp into a scratch buffer, then a broadcast subtraction.
        const xs = values[x].shape;
        const axis = Number(v.attrs?.axis);
        const lse = storage(sizeOf(xs) / Math.max(xs[axis], 1));
        reduceAxis(1, x, axis, lse);
        elem('sub', out, v.shape, x, { buffer: lse, shape: xs.map((d, a) => (a === axis ? 1 : d)) }, 0, 0, 'logSoftmax');
        break;
      }
      case 'slice': case 'pad': {
        const xs = values[x].shape;
        const axis = Number(v.attrs?.axis);
        const inner = sizeOf(xs.slice(axis + 1));
        const shift = v.op === 'slice' ? Number(v.attrs?.start) * inner : -Number(v.attrs?.before) * inner;
        windowCopy(bufs[x]!, out, n, xs[axis] * inner, v.shape[axis] * inner, shift, 1);
        break;
      }
      case 'concat': {
        const axis = Number(v.attrs?.axis);
        const inner = sizeOf(v.shape.slice(axis + 1));
        let off = 0;
        for (const j of v.inputs) {
          const js = values[j].shape;
          windowCopy(bufs[j]!, out, sizeOf(js), js[axis] * inner, v.shape[axis] * inner, off * inner, 0);
          off += js[axis];
        }
        break;
      }
      case 'permute': {
        const perm = v.attrs?.perm as readonly number[];
        const xst = stridesOf(values[x].shape);
        const p = perm.map((a) => (a < 0 ? a + perm.length : a));
        elem('copy', out, v.shape, x, null, 0, 0, 'permute', p.map((a) => xst[a]));
        break;
      }
      default:
        throw new UnsupportedOpError(`compile: op ${describeOp(v)} has no WebGPU lowering`);
    }
  }
  const outs = outputs.map((o) => ({ buffer: bufs[o]!, size: sizeOf(values[o].shape), shape: values[o].shape }));
  return { steps, owned, bytes, inputs, outputs: outs, resultTree, recordedOps, liveOps };
}

// ---------------------------------------------------------------------------------------------------------------
// The compiled function

/**
 * Compiles a pure function of tensors for the WebGPU device.
 *
 * On the first call with a given set of input shapes, `fn` is run once on the CPU with an op tracer installed: every
 * op it runs is recorded with its attributes — including the ops of `grad`, `valueAndGrad` and `vjp` called inside
 * `fn`, and of their backward passes, so a loss's parameter gradient through an input gradient (score matching) is a
 * graph of ordinary ops — and the ops the results depend on are lowered to WGSL dispatches with every buffer
 * allocated once. Later calls with the same shapes reuse that program: the inputs are copied into its input buffers,
 * every dispatch is queued in one compute pass, and the results are copied into fresh device tensors (so they stay
 * valid after the next call, and parameters can be fed back in without leaving the device). New shapes trace again.
 *
 * Contract of `fn`: its arguments are tensors or arrays/records of tensors (float32), its result likewise; values it
 * reads from its closure (tensors, numbers) are constants of the program (uploaded once — to change one, compile
 * again); nothing inside may depend on the input *values* through host code (`item()`, `if`, raw-array loops, random
 * draws): pass noise as an input (e.g. `gpu.normal(key, shape)`, which matches the CPU's `normal(key, shape)`).
 * While tracing, a device input's values are not on the host: `fn` sees placeholder values in [0.25, 0.75).
 *
 * Errors: an op the results depend on with no lowering (see {@link COMPILED_OPS}), a value made outside the traced
 * ops, or a float64 value throws {@link UnsupportedOpError} naming it, at the first call.
 *
 * Shapes: as `fn`'s. Dispatches per call: one per matmul (`linear`: matmul and bias together), reduction, fused
 * activation backward and fused elementwise tree (see {@link CompileOptions.fuse}); none for `reshape` and gradient
 * leaves.
 * @example
 * const gpu = await GpuKernels.create();
 * if (gpu instanceof GpuKernels) {
 *   const energyAndGrad = compile(gpu, (p: MLPParams, z: Tensor) => {
 *     const [e, g] = valueAndGrad((zz: Tensor) => sum(energyZ(p, cfg, zz)))(z);
 *     return [e, g];
 *   });
 *   const [e, g] = energyAndGrad(params, gpu.upload(z)); // device tensors
 *   console.log(await e.read(), await g.read());
 * }
 */
export function compile<A extends unknown[], R>(gpu: GpuKernels, fn: (...args: A) => R, opts: CompileOptions = {}): CompiledFn<A, R> {
  const fuse = opts.fuse ?? true;
  if (!(gpu instanceof GpuKernels)) throw new InvalidTypeError('compile: the first argument must be a GpuKernels (await GpuKernels.create())');
  if (typeof fn !== 'function') throw new InvalidTypeError('compile: fn must be a function of tensors');
  const programs = new Map<string, Program>();
  const pipelines = new Map<string, GpuPipelineLike>();
  let last: Program | null = null;
  let traces = 0;
  let disposed = false;
  const call = (...args: unknown[]): unknown => {
    if (disposed) throw new InvalidArgumentError('compile: this compiled function was disposed');
    const leaves: Leaf[] = [];
    const sig = flatten(args, leaves, 'the arguments');
    let prog = programs.get(sig);
    if (!prog) {
      const trace = traceFn(fn as (...a: never[]) => unknown, args, leaves);
      traces++;
      prog = build(gpu, trace, trace.skeleton, pipelines, fuse);
      programs.set(sig, prog);
    }
    last = prog;
    const device = gpu.device;
    const enc = device.createCommandEncoder();
    leaves.forEach((l, i) => {
      const inp = prog!.inputs[i];
      if (!inp) return; // an input the results do not depend on
      if (l instanceof GpuTensor) {
        if (inp.size > 0) enc.copyBufferToBuffer(l.buffer, 0, inp.buffer, 0, inp.size * 4);
      } else {
        if (l.dtype !== 'float32') throw new UnsupportedOpError(`compile: input ${i} is ${l.dtype}; the WebGPU backend computes in float32`);
        if (inp.size > 0) device.queue.writeBuffer(inp.buffer, 0, l.data as Float32Array);
      }
    });
    if (prog.steps.length > 0) {
      const pass = enc.beginComputePass();
      for (const s of prog.steps) {
        pass.setPipeline(s.pipeline);
        pass.setBindGroup(0, s.group);
        pass.dispatchWorkgroups(s.gx, s.gy);
      }
      pass.end();
    }
    const results = prog.outputs.map((o) => {
      const b = device.createBuffer({ size: Math.max(4, o.size * 4), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
      if (o.size > 0) enc.copyBufferToBuffer(o.buffer, 0, b, 0, o.size * 4);
      return new GpuTensor(gpu, [...o.shape], b);
    });
    device.queue.submit([enc.finish()]);
    gpu.stats.dispatches += prog.steps.length;
    return unflatten(prog.resultTree, results);
  };
  const compiled = call as unknown as CompiledFn<A, R>;
  Object.defineProperty(compiled, 'stats', {
    get: (): CompiledStats => ({
      traces,
      dispatches: last?.steps.length ?? 0,
      buffers: last?.owned.length ?? 0,
      bytes: last?.bytes ?? 0,
      recordedOps: last?.recordedOps ?? 0,
      liveOps: last?.liveOps ?? 0,
    }),
  });
  Object.defineProperty(compiled, 'dispose', {
    value: (): void => {
      disposed = true;
      for (const p of programs.values()) for (const b of p.owned) b.destroy();
      programs.clear();
    },
  });
  return compiled;
}

/**
 * Reads several device tensors back with one wait: every tensor is copied into one staging buffer and mapped once
 * (`GpuTensor.read` maps one buffer per call, and each map waits for the queue). Returns the values in order.
 * @example const [loss, ...grads] = await readAll(gpu, [l, ...Object.values(g)]);
 */
export async function readAll(gpu: GpuKernels, tensors: readonly GpuTensor[]): Promise<Float32Array[]> {
  const offsets: number[] = [];
  let total = 0;
  for (const t of tensors) {
    offsets.push(total);
    total += t.size * 4;
  }
  const device = gpu.device;
  const staging = device.createBuffer({ size: Math.max(4, total), usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  tensors.forEach((t, i) => { if (t.size > 0) enc.copyBufferToBuffer(t.buffer, 0, staging, offsets[i], t.size * 4); });
  device.queue.submit([enc.finish()]);
  gpu.stats.reads++;
  await staging.mapAsync(MAP_READ_MODE);
  const all = staging.getMappedRange().slice(0, total);
  staging.unmap();
  staging.destroy();
  return tensors.map((t, i) => new Float32Array(all, offsets[i], t.size));
}
