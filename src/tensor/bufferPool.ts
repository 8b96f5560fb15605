/**
 * Reuse of dead intermediates' buffers: a size-bucketed pool of typed arrays and a scope ({@link withBufferReuse})
 * during which the engine's op outputs come from the pool and at whose end every buffer handed out inside the scope
 * that the scope's result cannot reach goes back to it.
 *
 * Why: a training step of a conv net makes hundreds of MiB of fresh typed arrays (activations, their gradients,
 * concatenations and slices) that are all dead once the step returns its new state. Fresh arrays cost a zeroing pass,
 * page faults and garbage collection; a pool that feeds step `k + 1` with the dead buffers of step `k` costs none of
 * these. States stay values: a buffer is recycled only if it was handed out inside the scope and nothing the scope
 * returns can reach it; parameters, inputs and anything made outside the scope are never touched.
 */
import type { DType, TypedArray } from './tensor.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

/** Counters of a {@link BufferPool} (cumulative since it was made or cleared, except `bytesHeld` and `buffersHeld`). */
export interface BufferPoolStats {
  /** Op outputs served from the pool. */
  readonly hits: number;
  /** Op outputs allocated fresh inside a scope (no free buffer of that size). */
  readonly misses: number;
  /** Buffers given back to the pool at scope exits. */
  readonly recycled: number;
  /** Dead buffers dropped at scope exits because the pool was at its cap. */
  readonly dropped: number;
  /** Scope exits that recycled nothing because the result could hold hidden references (a function, a graph node, a promise). */
  readonly keptAll: number;
  /** Bytes of free buffers held now. */
  readonly bytesHeld: number;
  /** Free buffers held now. */
  readonly buffersHeld: number;
}

/** Options of {@link createBufferPool}. */
export interface BufferPoolOptions {
  /** Most bytes of free buffers the pool keeps (default 256 MiB); beyond it, dead buffers are left to the GC. */
  readonly maxBytes?: number;
  /** Smallest buffer, in bytes, that is pooled (default 4096): small arrays are cheap to allocate and not worth tracking. */
  readonly minBytes?: number;
  /**
   * @internal testing aid: fill every uninitialised buffer handed out from the pool with NaN, so that a kernel that
   * reads its output before writing it (or relies on zeros) shows up as a wrong result.
   */
  readonly poison?: boolean;
}

/**
 * A bounded pool of free typed arrays, bucketed by element type and exact length (a training step allocates the same
 * sizes every time, so exact buckets hit nearly always without wasting memory). Use it with {@link withBufferReuse}.
 */
export interface BufferPool {
  /** The cap on free bytes held. */
  readonly maxBytes: number;
  /** Counters (see {@link BufferPoolStats}). */
  stats(): BufferPoolStats;
  /** Drops every free buffer (the GC reclaims them) and resets the counters. */
  clear(): void;
}

interface PoolImpl extends BufferPool {
  readonly minBytes: number;
  readonly poison: boolean;
  readonly f32: Map<number, Float32Array[]>;
  readonly f64: Map<number, Float64Array[]>;
  held: number;
  count: number;
  hits: number;
  misses: number;
  recycled: number;
  dropped: number;
  keptAll: number;
}

/**
 * A new, empty buffer pool. A training step factory makes one per step function, so the pool lives as long as the
 * step function and is reclaimed with it.
 * @example
 * const pool = createBufferPool({ maxBytes: 512 * 2 ** 20 });
 * const [next, info] = withBufferReuse(pool, () => step(state, batch, k));
 */
export function createBufferPool(opts: BufferPoolOptions = {}): BufferPool {
  const maxBytes = opts.maxBytes ?? 256 * 2 ** 20;
  const minBytes = opts.minBytes ?? 4096;
  if (!(maxBytes >= 0) || !Number.isFinite(maxBytes)) throw new InvalidArgumentError(`createBufferPool: maxBytes must be a finite number ≥ 0, got ${maxBytes}`);
  if (!(minBytes >= 0) || !Number.isFinite(minBytes)) throw new InvalidArgumentError(`createBufferPool: minBytes must be a finite number ≥ 0, got ${minBytes}`);
  const p: PoolImpl = {
    maxBytes, minBytes, poison: opts.poison === true, f32: new Map(), f64: new Map(),
    held: 0, count: 0, hits: 0, misses: 0, recycled: 0, dropped: 0, keptAll: 0,
    stats: () => ({
      hits: p.hits, misses: p.misses, recycled: p.recycled, dropped: p.dropped, keptAll: p.keptAll,
      bytesHeld: p.held, buffersHeld: p.count,
    }),
    clear: () => {
      p.f32.clear();
      p.f64.clear();
      p.held = p.count = p.hits = p.misses = p.recycled = p.dropped = p.keptAll = 0;
    },
  };
  return p;
}

/** One active scope: its pool and the buffers handed out inside it (and not yet released or passed up). */
interface Frame {
  readonly pool: PoolImpl;
  readonly parent: Frame | null;
  readonly handed: TypedArray[];
}

let frame: Frame | null = null;

function isPool(p: unknown): p is PoolImpl {
  return typeof p === 'object' && p !== null && (p as PoolImpl).f32 instanceof Map && (p as PoolImpl).f64 instanceof Map;
}

/**
 * Runs `fn` with buffer reuse: while it runs, the outputs of engine ops come from `pool` when a free buffer of the
 * size is there, and when it returns, every buffer handed out inside the scope that its result cannot reach goes back
 * to the pool (up to the pool's cap). Returns `fn`'s result unchanged.
 *
 * Reachability is a walk of the result through arrays, plain and class objects (own enumerable properties), `Map`s,
 * `Set`s and typed arrays (by their `ArrayBuffer`, so reshapes and views are covered). If the result contains a
 * function, a tensor with an autodiff node (whose backward closure holds intermediates), a promise or a weak
 * collection, nothing is recycled (the scope is then only a no-op, never unsafe). Nothing is recycled either when
 * `fn` throws.
 *
 * Contract: `fn` must hand everything it makes that must outlive it back through its return value — a tensor made
 * inside and stored elsewhere (a closure variable, a module cache) may later be overwritten. The library's pure
 * training steps satisfy this by construction (they return a new state and plain-number diagnostics). Buffers of
 * tensors made outside the scope (parameters, inputs, earlier states) are never recycled. Scopes nest; an inner
 * scope's surviving buffers belong to the outer one. Synchronous only: an `fn` returning a promise recycles nothing.
 *
 * @example
 * const pool = createBufferPool();
 * for (let i = 0; i < steps; i++) [state] = withBufferReuse(pool, () => step(state, batch, foldIn(k, i)));
 */
export function withBufferReuse<T>(pool: BufferPool, fn: () => T): T {
  if (!isPool(pool)) throw new InvalidTypeError('withBufferReuse: pool must come from createBufferPool()');
  if (typeof fn !== 'function') throw new InvalidTypeError('withBufferReuse: fn must be a function');
  const mine: Frame = { pool, parent: frame, handed: [] };
  frame = mine;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    frame = mine.parent;
    passUp(mine);
    throw e;
  }
  frame = mine.parent;
  const live = reachableBuffers(result);
  if (live === null) {
    pool.keptAll++;
    passUp(mine);
    return result;
  }
  const up = mine.parent?.handed;
  for (const b of mine.handed) {
    if (live.has(b.buffer)) {
      if (up) up.push(b);
    } else give(pool, b);
  }
  return result;
}

/**
 * @internal Runs `fn` as a nested {@link withBufferReuse} scope of the active scope's pool when a scope is active (so
 * that an inner loop — a sampler's steps inside a training step — recycles each iteration's dead buffers at once
 * instead of at the end of the outer scope), else just runs it.
 */
export function reuseIfActive<T>(fn: () => T): T {
  return frame === null ? fn() : withBufferReuse(frame.pool, fn);
}

function passUp(f: Frame): void {
  if (f.parent) for (const b of f.handed) f.parent.handed.push(b);
}

function give(p: PoolImpl, b: TypedArray): void {
  if (p.held + b.byteLength > p.maxBytes) {
    p.dropped++;
    return;
  }
  const m = (b instanceof Float64Array ? p.f64 : p.f32) as Map<number, TypedArray[]>;
  let list = m.get(b.length);
  if (!list) m.set(b.length, (list = []));
  list.push(b);
  p.held += b.byteLength;
  p.count++;
  p.recycled++;
}

/**
 * The `ArrayBuffer`s reachable from `v`, or null when `v` may hide references the walk cannot see (functions,
 * autodiff nodes, promises, weak collections).
 */
function reachableBuffers(v: unknown): Set<ArrayBufferLike> | null {
  const live = new Set<ArrayBufferLike>();
  const seen = new Set<object>();
  const stack: unknown[] = [v];
  while (stack.length) {
    const x = stack.pop();
    if (x === null || x === undefined) continue;
    const t = typeof x;
    if (t === 'function') return null;
    if (t !== 'object') continue;
    const o = x as object;
    if (seen.has(o)) continue;
    seen.add(o);
    if (ArrayBuffer.isView(o)) {
      live.add(o.buffer);
      continue;
    }
    if (o instanceof ArrayBuffer) {
      live.add(o);
      continue;
    }
    if (o instanceof Promise || o instanceof WeakMap || o instanceof WeakSet || typeof (o as { then?: unknown }).then === 'function') return null;
    if (typeof WeakRef !== 'undefined' && o instanceof WeakRef) return null;
    if (o instanceof Map) {
      for (const [k, e] of o) stack.push(k, e);
      continue;
    }
    if (o instanceof Set) {
      for (const e of o) stack.push(e);
      continue;
    }
    for (const e of Object.values(o)) stack.push(e);
  }
  return live;
}

function take(dtype: DType, size: number): TypedArray | null {
  const f = frame;
  if (f === null) return null;
  const p = f.pool;
  const bytes = size * (dtype === 'float64' ? 8 : 4);
  if (bytes < p.minBytes || bytes === 0) return null;
  const list = (dtype === 'float64' ? p.f64 : p.f32).get(size);
  let b: TypedArray;
  if (list !== undefined && list.length > 0) {
    b = list.pop()!;
    p.held -= b.byteLength;
    p.count--;
    p.hits++;
  } else {
    b = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
    p.misses++;
  }
  f.handed.push(b);
  return b;
}

/**
 * @internal An op's output array of `size` elements whose contents are unspecified (the caller writes every element):
 * from the active scope's pool when one is running (see {@link withBufferReuse}), else a fresh array.
 */
export function outputBuffer(dtype: DType, size: number): TypedArray {
  const b = take(dtype, size);
  if (b === null) return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  if (frame!.pool.poison) b.fill(NaN);
  return b;
}

/** @internal Like {@link outputBuffer}, but zero-filled (for kernels that accumulate into their output). */
export function zeroedOutputBuffer(dtype: DType, size: number): TypedArray {
  const b = take(dtype, size);
  if (b === null) return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  b.fill(0);
  return b;
}
