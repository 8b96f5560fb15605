/** The gradient-transformation contract (optax style) and the transforms that need no state: chain, scale, identity. */
import { ShapeError, Tensor, allocate, sameShape, type TypedArray } from '../tensor/tensor.js';
import { treeLeaves, treeUnflatten, type Tree } from '../tensor/autodiff.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

/**
 * Optimiser state: plain data made of tensors and numbers, nested in arrays and records, so that it can be saved with
 * {@link optimStateToTensors} and restored with {@link optimStateFromTensors}.
 */
export type OptState = Tensor | number | readonly OptState[] | { readonly [k: string]: OptState };

/**
 * A stateful map from gradients to parameter updates: `init` builds the state for a parameter tree, `update` turns
 * gradients `g` (same structure as the parameters) into updates `u` and a new state. Apply with
 * `params ← params + u` ({@link applyUpdates}); descent recipes therefore end with a negative scale.
 *
 * States are values: `update` never writes to the gradients, the parameters or the state it is given; the returned
 * state holds fresh arrays, so an old state stays valid (a rollback, an EMA or a checkpoint just keeps it), and calling
 * `update` twice on the same state gives the same result. Every transform in `src/optim` keeps this contract; a
 * custom stateful transform must too (allocate its new buffers, never update the old ones in place). Inside {@link chain}, intermediate updates are overwritten in place by later stages, so a custom transform that
 * keeps an incoming update in its state must copy it.
 * @example
 * const opt = chain(clipByGlobalNorm(1), scaleByAdam(), scale(-1e-3));
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grads, state, params);
 * params = applyUpdates(params, updates); state = next;
 */
export interface GradientTransformation<S extends OptState = OptState> {
  /** Builds the initial state for parameters `params`. */
  init(params: Tree): S;
  /** Maps gradients to updates; `params` is needed by transforms that look at the parameters (weight decay). */
  update<P extends Tree>(grads: P, state: S, params?: P): [P, S];
}

/** @internal Leaves of a tree checked against an expected count, with an error naming the transform. */
export function leavesOf(t: Tree, what: string, expected?: number): Tensor[] {
  const ls = treeLeaves(t);
  if (expected !== undefined && ls.length !== expected) {
    throw new ShapeError(`${what}: tree has ${ls.length} tensors but the optimiser state was initialised for ${expected}`);
  }
  return ls;
}

/** @internal Throws unless two tensors have the same shape. */
export function checkSameShape(a: Tensor, b: Tensor, what: string, i: number): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(`${what}: tensor ${i} has shape [${a.shape.join(', ')}] but expected [${b.shape.join(', ')}]`);
  }
}

/** @internal Zeros with the structure, shapes and dtypes of a tree (fresh arrays, no graph). */
export function zerosTree(t: Tree): Tree {
  return treeUnflatten(t, treeLeaves(t).map((x) => new Tensor(allocate(x.dtype, x.size), x.shape)));
}

// Buffers of update tensors created during the current `chain` update and referenced nowhere else: a later transform
// of the same chain may overwrite them instead of allocating (fresh large arrays cost page faults on every step).
let ownedScope: Set<ArrayBufferLike | TypedArray> | null = null;

/** @internal Marks a freshly allocated update tensor as overwritable by later transforms of the running chain. */
export function markFresh(t: Tensor): Tensor {
  if (ownedScope) ownedScope.add(t.data);
  return t;
}

/** @internal An output array for transforming `x`: `x`'s own array when the running chain owns it, else a fresh one. */
export function outputFor(x: Tensor): TypedArray {
  return ownedScope !== null && ownedScope.has(x.data) ? x.data : allocate(x.dtype, x.size);
}

/** @internal Wraps an output array from {@link outputFor} as a tensor of `x`'s shape, marked fresh. */
export function wrapOutput(x: Tensor, d: TypedArray): Tensor {
  return d === x.data ? x : markFresh(new Tensor(d, x.shape));
}

/**
 * Chains transformations: the updates of one are the gradients of the next. State is the array of the states.
 * Intermediate updates are overwritten in place by later stages (never the caller's gradients).
 * @example const sgdMomentum = chain(trace(0.9), scale(-0.01));
 */
export function chain(...ts: readonly GradientTransformation<any>[]): GradientTransformation<OptState[]> {
  return {
    init: (params) => ts.map((t) => t.init(params)),
    update<P extends Tree>(grads: P, state: OptState[], params?: P): [P, OptState[]] {
      if (!Array.isArray(state) || state.length !== ts.length) {
        throw new InvalidTypeError(`chain: state has ${Array.isArray(state) ? state.length : 'no'} entries for ${ts.length} transforms`);
      }
      const outer = ownedScope;
      const mine = new Set<ArrayBufferLike | TypedArray>();
      ownedScope = mine;
      try {
        let u = grads;
        const next: OptState[] = new Array(ts.length);
        for (let i = 0; i < ts.length; i++) [u, next[i]] = ts[i].update(u, state[i], params);
        return [u, next];
      } finally {
        ownedScope = outer;
        if (outer) for (const d of mine) outer.add(d);
      }
    },
  };
}

/** The transformation that returns the gradients unchanged (empty state). */
export function identity(): GradientTransformation<Record<string, never>> {
  return { init: () => ({}), update: (g) => [g, {}] };
}

/** @internal `out_i = s · x_i` for every leaf (in place on arrays owned by the running chain, else fresh). */
export function scaleLeaves<P extends Tree>(tree: P, s: number): P {
  const ls = treeLeaves(tree);
  const out = ls.map((x) => {
    const d = outputFor(x);
    const src = x.data;
    for (let i = 0; i < d.length; i++) d[i] = s * src[i];
    return wrapOutput(x, d);
  });
  return treeUnflatten(tree, out);
}

/**
 * A deep copy of an optimiser state (fresh arrays). `update` never modifies a state, so keeping the old value is enough
 * for a snapshot; a copy is needed only for states built by hand or by a custom transform that breaks that contract.
 * @example const snapshot = cloneOptState(state);
 */
export function cloneOptState<S extends OptState>(state: S): S {
  const walk = (s: OptState): OptState => {
    if (s instanceof Tensor) {
      const d = allocate(s.dtype, s.size);
      d.set(s.data);
      return new Tensor(d, s.shape);
    }
    if (typeof s === 'number') return s;
    if (Array.isArray(s)) return s.map(walk);
    const o: Record<string, OptState> = {};
    for (const k of Object.keys(s)) o[k] = walk((s as Record<string, OptState>)[k]);
    return o;
  };
  return walk(state) as S;
}

/**
 * Multiplies updates by a constant: `u = s · g`. Descent uses a negative step, `scale(-lr)`.
 * @example chain(scaleByAdam(), scale(-1e-3))
 */
export function scale(s: number): GradientTransformation<Record<string, never>> {
  if (!Number.isFinite(s)) throw new InvalidArgumentError(`scale: factor must be finite, got ${s}`);
  return { init: () => ({}), update: (g) => [scaleLeaves(g, s), {}] };
}

/** A learning-rate (or any scalar) schedule: the value to use at update number `step` (0 for the first update). */
export type Schedule = (step: number) => number;

/** State of {@link scaleBySchedule}: the number of updates done so far. */
export type ScheduleState = {
  readonly count: number;
};

/**
 * Multiplies updates by a schedule's value at the current step: `u_t = schedule(t) · g_t`, `t = 0, 1, …`.
 * A non-finite schedule value is an error (it would silently poison the parameters).
 * @example chain(scaleByAdam(), scaleBySchedule((t) => -cosineDecay(1e-3, 1000)(t)))
 */
export function scaleBySchedule(schedule: Schedule): GradientTransformation<ScheduleState> {
  return {
    init: () => ({ count: 0 }),
    update(g, state) {
      const v = schedule(state.count);
      if (!Number.isFinite(v)) throw new InvalidArgumentError(`scaleBySchedule: schedule gave ${v} at step ${state.count}`);
      return [scaleLeaves(g, v), { count: state.count + 1 }];
    },
  };
}

/**
 * Applies updates: `p ← p + u` leaf by leaf, returning new tensors (no autodiff graph). Shapes must match.
 * @example params = applyUpdates(params, updates);
 */
export function applyUpdates<P extends Tree>(params: P, updates: Tree): P {
  const ps = treeLeaves(params);
  const us = leavesOf(updates, 'applyUpdates', ps.length);
  const out = ps.map((p, i) => {
    const u = us[i];
    checkSameShape(u, p, 'applyUpdates', i);
    const d = allocate(p.dtype, p.size);
    const a = p.data;
    const b = u.data;
    for (let j = 0; j < d.length; j++) d[j] = a[j] + b[j];
    return new Tensor(d, p.shape);
  });
  return treeUnflatten(params, out);
}
