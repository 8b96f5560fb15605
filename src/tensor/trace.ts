/**
 * The slot through which ops report themselves to an op tracer (the GPU's `compile`, src/gpu/compile.ts) while one
 * is installed. With no tracer installed (the eager path) every hook is one null check and nothing else.
 */
/**
 * What a tracer sees of a tensor: the fields of the engine's `Tensor` that it needs (structural, so that this module
 * does not import tensor.ts, which imports it).
 */
export interface TracedTensor {
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'float64';
  readonly data: Float32Array | Float64Array;
}

/**
 * The attributes of an op that its inputs' shapes do not give: axes, scalar operands, transpose flags. Recorded on
 * the autodiff node (`GradNode.attrs`) and reported to a tracer, so that a recorded graph can be lowered mechanically.
 */
export type OpAttrs = Readonly<Record<string, number | boolean | string | readonly number[] | undefined>>;

/**
 * What an op tracer is told while it is installed (see {@link withOpTracer}):
 * - `op`: an op computed `out` from `inputs` (every op that records an autodiff node reports here whether or not a
 *   gradient is being recorded, and so do the untraced helpers whose results gradients use: comparisons, `sign`, the
 *   fused activation backward `unaryGrad`); a second report of the same `out` replaces the first (`where` reports
 *   itself again with its condition as the first input, which its autodiff node does not list);
 * - `constant`: `t` was made from plain numbers (`full`, `zeros`, `ones`, `scalar`), so it depends on no input;
 * - `alias`: `out` holds the values of `of` (a gradient transform's traced leaf, `detach`).
 */
export interface OpTracer {
  op(out: TracedTensor, op: string, inputs: readonly TracedTensor[], attrs: OpAttrs | undefined): void;
  constant(t: TracedTensor): void;
  alias(out: TracedTensor, of: TracedTensor): void;
}

/** The installed tracer, or `null` (eager execution). Read by the ops; set only by {@link withOpTracer}. */
export let activeTracer: OpTracer | null = null;

/**
 * Runs `fn` with `tracer` installed (restoring the previous one afterwards, also on a throw): every op that `fn` runs
 * is computed as usual and also reported to `tracer`.
 * @example
 * const seen: string[] = [];
 * withOpTracer({ op: (_o, name) => seen.push(name), constant() {}, alias() {} }, () => sum(exp(x)));
 * // seen = ['exp', 'sum']
 */
export function withOpTracer<T>(tracer: OpTracer, fn: () => T): T {
  const prev = activeTracer;
  activeTracer = tracer;
  try {
    return fn();
  } finally {
    activeTracer = prev;
  }
}
