/**
 * Reverse-mode automatic differentiation with higher-order gradients.
 *
 * Ops record a {@link GradNode} on their output whenever an input requires a gradient and recording is enabled.
 * Backward rules are written with the same differentiable ops, so when a gradient is computed inside another
 * gradient (`grad(grad(f))`, or ∇θ of a loss containing ∇ₓE) the backward pass is itself recorded — what PyTorch calls
 * `create_graph`. At the outermost level nothing is recorded, so first-order training keeps no extra graph.
 */
import { DTypeError, ShapeError, Tensor, sameShape, type GradNode } from './tensor.js';
import { InvalidTypeError } from '../errors.js';
import { activeTracer, type OpAttrs } from './trace.js';

let recording = true;
/** Number of `grad` transforms currently tracing a function. */
let traceDepth = 0;

/** True while ops record autodiff nodes. */
export function isGradEnabled(): boolean {
  return recording;
}

/**
 * Runs `fn` with recording switched off: results carry no graph and no gradient flows through them.
 * @example const x2 = noGrad(() => sub(x, mul(eta, g)));
 */
export function noGrad<T>(fn: () => T): T {
  const prev = recording;
  recording = false;
  try {
    return fn();
  } finally {
    recording = prev;
  }
}

/** Runs `fn` with recording on (used inside backward passes that must build a graph). */
function withGrad<T>(fn: () => T, on: boolean): T {
  const prev = recording;
  recording = on;
  try {
    return fn();
  } finally {
    recording = prev;
  }
}

/** A copy of the tensor's reference with no autodiff history: gradients do not flow through the result. */
export function detach(x: Tensor): Tensor {
  if (!x.requiresGrad && x.node === null) return x;
  const out = new Tensor(x.data, x.shape);
  if (activeTracer !== null) activeTracer.alias(out, x);
  return out;
}

/** Relevance map of the backward pass whose rule is running (see {@link needsGrad}); null outside backward. */
let activeRelevant: Map<number, boolean> | null = null;

/**
 * Whether a backward rule must produce the cotangent of input `t`: `t.requiresGrad`, and — while {@link backward}
 * runs a rule — `t` lies on a path to one of the requested targets. Rules use it to skip work whose result would be
 * dropped, e.g. the weight gradient `Aᵀ·G` of a matmul inside `grad` with respect to the input only (score
 * matching's inner ∇ₓE, where the weights require gradients for the outer loss but are not targets here).
 * @internal used by op implementations.
 */
export function needsGrad(t: Tensor): boolean {
  if (!t.requiresGrad) return false;
  return activeRelevant === null || activeRelevant.get(t.id) === true;
}

/**
 * Attaches a backward rule to `out` if any input requires a gradient and recording is on. Returns `out`. This is how
 * every op is written, and how a user defines a custom op: compute `out` without recording (e.g. from raw arrays),
 * then give `vjp(g)` → one cotangent per input (`g` has `out`'s shape; return `null` for an input without gradient).
 * `attrs` holds what the inputs' shapes do not say (axes, scalar operands, transpose flags): it is kept on the node
 * and reported, with the op, to an installed op tracer (src/tensor/trace.ts) even when no gradient is recorded.
 *
 * @example
 * // y = x³ elementwise, with dy/dx = 3x²
 * const cube = (x: Tensor) => record(new Tensor(x.data.map((v) => v ** 3), x.shape), 'cube', [x],
 *   (g) => [mul(g, mul(3, square(x)))]);
 */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], vjp: GradNode['vjp'], attrs?: OpAttrs): Tensor {
  if (activeTracer !== null) activeTracer.op(out, op, inputs, attrs);
  if (!recording) return out;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) { any = true; break; }
  if (!any) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, vjp, attrs };
  return out;
}

/**
 * Computes cotangents of `targets` given the output `y` and its cotangent `seed` by walking the graph backwards.
 * Only nodes lying on a path from a target to `y` are visited. When `createGraph` is true the backward ops are recorded,
 * so the returned gradients can be differentiated again.
 */
export function backward(y: Tensor, targets: readonly Tensor[], seed: Tensor, createGraph: boolean): (Tensor | null)[] {
  if (!sameShape(seed.shape, y.shape)) throw new ShapeError(`backward: seed shape [${seed.shape}] differs from output [${y.shape}]`);
  const targetIds = new Set(targets.map((t) => t.id));
  // relevant(t): t is a target or some input path reaches a target.
  const relevant = new Map<number, boolean>();
  const order: Tensor[] = [];
  // Iterative post-order DFS to avoid stack overflow on long chains (e.g. 1000-step unrolled samplers).
  const visit = (root: Tensor): boolean => {
    const stack: { t: Tensor; i: number; rel: boolean }[] = [{ t: root, i: 0, rel: targetIds.has(root.id) }];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const node = top.t.node;
      if (node && top.i < node.inputs.length && !targetIds.has(top.t.id)) {
        const inp = node.inputs[top.i++];
        if (!inp.requiresGrad) continue;
        const known = relevant.get(inp.id);
        if (known !== undefined) {
          if (known) top.rel = true;
          continue;
        }
        relevant.set(inp.id, false); // provisional mark (graphs are acyclic)
        stack.push({ t: inp, i: 0, rel: targetIds.has(inp.id) });
        continue;
      }
      stack.pop();
      relevant.set(top.t.id, top.rel);
      if (top.rel) {
        order.push(top.t);
        if (stack.length) stack[stack.length - 1].rel = true;
      }
    }
    return relevant.get(root.id) ?? false;
  };
  const result: (Tensor | null)[] = targets.map(() => null);
  if (!y.requiresGrad || !visit(y)) return result;

  return withGrad(() => {
    const grads = new Map<number, Tensor>();
    grads.set(y.id, seed);
    for (let n = order.length - 1; n >= 0; n--) {
      const t = order[n];
      const g = grads.get(t.id);
      if (!g) continue;
      if (targetIds.has(t.id) || !t.node) continue;
      const prevRelevant = activeRelevant;
      activeRelevant = relevant;
      let gin: readonly (Tensor | null)[];
      try {
        gin = t.node.vjp(g);
      } finally {
        activeRelevant = prevRelevant;
      }
      const inputs = t.node.inputs;
      for (let i = 0; i < inputs.length; i++) {
        const gi = gin[i];
        const inp = inputs[i];
        if (!gi || !inp.requiresGrad || !relevant.get(inp.id)) continue;
        if (!sameShape(gi.shape, inp.shape)) {
          throw new ShapeError(`internal: gradient of ${t.node.op} input ${i} has shape [${gi.shape}] for input [${inp.shape}]`);
        }
        const prev = grads.get(inp.id);
        grads.set(inp.id, prev ? accumulate(prev, gi) : gi);
      }
      // Free the cotangent of an intermediate as soon as it has been propagated.
      if (!targetIds.has(t.id)) grads.delete(t.id);
    }
    for (let i = 0; i < targets.length; i++) result[i] = grads.get(targets[i].id) ?? null;
    return result;
  }, createGraph);
}

let accumulateFn: ((a: Tensor, b: Tensor) => Tensor) | null = null;
/** @internal the ops module registers `add` here to break the import cycle. */
export function registerAccumulate(fn: (a: Tensor, b: Tensor) => Tensor): void {
  accumulateFn = fn;
}
function accumulate(a: Tensor, b: Tensor): Tensor {
  if (!accumulateFn) throw new Error('internal: ops not loaded');
  return accumulateFn(a, b);
}

let onesLikeFn: ((x: Tensor) => Tensor) | null = null;
let zerosLikeFn: ((x: Tensor) => Tensor) | null = null;
/** @internal */
export function registerFill(ones: (x: Tensor) => Tensor, zeros: (x: Tensor) => Tensor): void {
  onesLikeFn = ones;
  zerosLikeFn = zeros;
}

// ---------------------------------------------------------------------------------------------------------------
// Pytrees: tensors, arrays of trees and records of trees.

/** A tensor, or arrays/records nesting tensors: the shape of parameters and their gradients. */
export type Tree = Tensor | readonly Tree[] | { readonly [k: string]: Tree };

/** Flattens a tree into its tensors in a deterministic order (record keys in insertion order). */
export function treeLeaves(t: Tree): Tensor[] {
  const out: Tensor[] = [];
  const walk = (v: Tree): void => {
    if (v instanceof Tensor) out.push(v);
    else if (Array.isArray(v)) for (const e of v) walk(e);
    else for (const k of Object.keys(v)) walk((v as Record<string, Tree>)[k]);
  };
  walk(t);
  return out;
}

/** Rebuilds a tree of the same structure as `t` with leaves taken in order from `leaves`. */
export function treeUnflatten<T extends Tree>(t: T, leaves: readonly Tensor[]): T {
  let i = 0;
  const walk = (v: Tree): Tree => {
    if (v instanceof Tensor) return leaves[i++];
    if (Array.isArray(v)) return v.map(walk);
    const o: Record<string, Tree> = {};
    for (const k of Object.keys(v)) o[k] = walk((v as Record<string, Tree>)[k]);
    return o;
  };
  return walk(t) as T;
}

/** Applies `fn` to every leaf of a tree, keeping its structure. */
export function treeMap<T extends Tree>(t: T, fn: (x: Tensor, i: number) => Tensor): T {
  return treeUnflatten(t, treeLeaves(t).map(fn));
}

/** Makes a traced leaf that shares `x`'s data; if `x` is itself traced, the leaf is linked so outer gradients flow. */
function traceInput(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new InvalidTypeError('grad: arguments to differentiate must be Tensors');
  const leaf = new Tensor(x.data, x.shape, true);
  if (activeTracer !== null) activeTracer.alias(leaf, x);
  if (x.requiresGrad && recording) {
    leaf.node = { op: 'identity', inputs: [x], vjp: (g) => [g], attrs: undefined };
  }
  return leaf;
}

/** Options of {@link valueAndGrad}. */
export interface GradOptions {
  /** When true, `f` returns `[value, aux]` and only `value` is differentiated; `aux` is returned alongside. */
  readonly hasAux?: boolean;
  /** Force recording of the backward pass (it is recorded automatically when nested inside another `grad`). */
  readonly createGraph?: boolean;
}

type ValueAndGradFn<P extends Tree, A extends unknown[]> = (params: P, ...rest: A) => [Tensor, P];

/**
 * Transforms `f(params, ...rest) → scalar` into a function returning `[f(params), ∇_params f]`, where `params` is a
 * tensor or a tree (array/record) of tensors and the gradient has the same structure. The output must have one element
 * (any shape of size 1). Inputs in `rest` are not differentiated.
 *
 * Calls nest: inside an outer `grad`, the inner backward pass is recorded so the outer gradient sees it.
 * @example
 * const [loss, g] = valueAndGrad((p: {w: Tensor}) => sum(square(p.w)))({ w });
 */
export function valueAndGrad<P extends Tree, A extends unknown[]>(f: (params: P, ...rest: A) => Tensor, opts?: GradOptions & { hasAux?: false }): ValueAndGradFn<P, A>;
export function valueAndGrad<P extends Tree, A extends unknown[], X>(f: (params: P, ...rest: A) => [Tensor, X], opts: GradOptions & { hasAux: true }): (params: P, ...rest: A) => [Tensor, P, X];
export function valueAndGrad<P extends Tree, A extends unknown[]>(f: (params: P, ...rest: A) => unknown, opts: GradOptions = {}): (params: P, ...rest: A) => unknown[] {
  return (params: P, ...rest: A) => {
    const leavesIn = treeLeaves(params);
    const prevRecording = recording;
    recording = true;
    traceDepth++;
    let value: Tensor;
    let aux: unknown;
    let traced: Tensor[];
    try {
      traced = leavesIn.map(traceInput);
      const out = f(treeUnflatten(params, traced), ...rest);
      if (opts.hasAux) {
        if (!Array.isArray(out) || out.length !== 2) throw new InvalidTypeError('valueAndGrad(hasAux): f must return [value, aux]');
        value = out[0] as Tensor;
        aux = out[1];
      } else value = out as Tensor;
      if (!(value instanceof Tensor)) {
        const got = value === null ? 'null' : typeof value === 'number' ? `the plain number ${String(value)}` : typeof value;
        throw new InvalidTypeError(`grad: f must return a Tensor computed from its arguments, got ${got} (a plain number carries no graph to differentiate)`);
      }
      if (value.size !== 1) throw new ShapeError(`valueAndGrad: f must return one element, got shape [${value.shape}]`);
    } finally {
      traceDepth--;
      recording = prevRecording;
    }
    // Record the backward pass when an outer transform is tracing (or when asked), so it can be differentiated.
    const createGraph = opts.createGraph === true || (traceDepth > 0 && prevRecording);
    // The seed follows the value's dtype (a float64 loss of float32 parameters is allowed: `cast` converts back).
    const seed = onesLikeFn!(value);
    const gs = backward(value, traced, seed, createGraph);
    const grads = gs.map((g, i) => {
      if (g) return createGraph ? g : detach(g);
      return zerosLikeFn!(leavesIn[i]);
    });
    const outValue = createGraph ? value : detach(value);
    const result: unknown[] = [outValue, treeUnflatten(params, grads)];
    if (opts.hasAux) result.push(aux);
    return result;
  };
}

/**
 * Transforms `f(params, ...rest) → scalar` into its gradient function `∇_params f`, with the structure of `params`.
 * @example const dfdx = grad((x: Tensor) => sum(exp(x))); dfdx(x) // = exp(x)
 * @example // second derivative
 * const d2 = grad((x: Tensor) => sum(grad((y: Tensor) => sum(tanh(y)))(x)));
 */
export function grad<P extends Tree, A extends unknown[]>(f: (params: P, ...rest: A) => Tensor, opts: GradOptions = {}): (params: P, ...rest: A) => P {
  const vg = valueAndGrad(f, { createGraph: opts.createGraph });
  return (params: P, ...rest: A) => vg(params, ...rest)[1];
}

/**
 * Vector–Jacobian product: returns `[f(x), v ↦ vᵀ ∂f/∂x]` for a tensor-valued `f`. The pullback may be called
 * several times (the graph is kept).
 */
export function vjp(f: (x: Tensor) => Tensor, x: Tensor): [Tensor, (v: Tensor) => Tensor] {
  const prevRecording = recording;
  recording = true;
  traceDepth++;
  let y: Tensor;
  let leaf: Tensor;
  try {
    leaf = traceInput(x);
    y = f(leaf);
  } finally {
    traceDepth--;
    recording = prevRecording;
  }
  const createGraph = traceDepth > 0 && prevRecording;
  const pull = (v: Tensor): Tensor => {
    if (v.dtype !== y.dtype) throw new DTypeError(`vjp: cotangent dtype ${v.dtype} differs from output ${y.dtype}`);
    const [g] = backward(y, [leaf], v, createGraph);
    return g ?? zerosLikeFn!(x);
  };
  return [createGraph ? y : detach(y), pull];
}
