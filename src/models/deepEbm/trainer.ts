/**
 * The training loop of MCMC-trained EBMs: mini-batches from explicit keys, a contrastive-divergence loss, Adam with
 * gradient clipping, and divergence handling (snapshot → detect → roll back, change the random stream, lower the
 * learning rate → stop after a set number of rollbacks).
 * @module
 */
import { Tensor, treeLeaves, treeUnflatten, type Tree } from '../../tensor/index.js';
import { createBufferPool, withBufferReuse, type BufferPoolOptions } from '../../tensor/bufferPool.js';
import { foldIn, split, randintArray, type Key } from '../../random/index.js';
import { chain, clipByGlobalNorm, scaleByAdam, applyUpdates, globalNorm, emaUpdate, type OptState, type GradientTransformation, type Schedule } from '../../optim/index.js';
import { cdValueAndGrad, CDDivergenceError, treeAllFinite, type CDLoss, type CDState, type CDValueAndGrad } from '../../losses/contrastiveDivergence.js';
import { settlePending } from '../pending.js';
import { DivergenceError } from '../../samplers/index.js';
import { DivergenceGuard, TrainingDivergedError, type GuardEvent, type GuardOptions, type GuardState } from './guard.js';
import { InvalidArgumentError } from '../../errors.js';

/** Options of {@link trainDeepEbm}. */
export interface TrainDeepEbmOptions<P extends Tree> {
  /** Initial parameters. */
  readonly params: P;
  /** The CD loss (from `contrastiveDivergence`). */
  readonly loss: CDLoss<P>;
  /**
   * Computes each step's loss, gradient, diagnostics and next CD state instead of `cdValueAndGrad(loss)` — the same
   * contract, e.g. the WebGPU step `deepEbmCdValueAndGradGpu` (models/deepEbm/gpu.ts). One that returns a promise
   * needs {@link trainDeepEbmAsync}.
   */
  readonly valueAndGrad?: (params: P, batch: Tensor, key: Key, state: CDState) => CDValueAndGrad<P> | Promise<CDValueAndGrad<P>>;
  /** Training data `[n, ...dim]`. */
  readonly data: Tensor;
  /** Training steps (parameter updates). */
  readonly steps: number;
  /** Positives per step (drawn uniformly with replacement). */
  readonly batchSize: number;
  /** Base key: step `t` of random stream `s` uses `foldIn(foldIn(key, s), t)`; the CD state starts from `foldIn(key, −1 >>> 0)`. */
  readonly key: Key;
  /** Adam learning rate, constant or a schedule of the step (default 1e-3). */
  readonly lr?: number | Schedule;
  /** Clip parameter gradients to this global norm (default: no clipping). */
  readonly clipNorm?: number;
  /** Adam moment decays (default 0.9, 0.999). */
  readonly b1?: number;
  readonly b2?: number;
  /** Divergence handling; `false` turns it off (a NaN then throws immediately). */
  readonly guard?: GuardOptions | false;
  /**
   * Multiplies the learning rate at step `t` on random stream `stream` (0 before any rollback). For experiments and
   * tests, e.g. injecting a divergence: `(t, s) => (s === 0 && t >= 50 && t < 55 ? 1e4 : 1)`.
   */
  readonly lrMultiplier?: (step: number, stream: number) => number;
  /**
   * Continue a run from a {@link DeepEbmResumeState} (from `onCheckpoint`): parameters, EMA, optimiser, CD state,
   * guard statistics, learning-rate scale, random stream and past rollbacks. With the same options the resumed run
   * computes exactly what the uninterrupted run computes (snapshots fall on multiples of `snapshotEvery` in both),
   * unless a rollback happens before the first snapshot after the resume point: the in-memory snapshot it returns to
   * is then the resume point itself rather than the last multiple of `snapshotEvery` before it.
   */
  readonly resume?: DeepEbmResumeState<P>;
  /** Call `onCheckpoint` after every `checkpointEvery` applied steps and after the last step. */
  readonly checkpointEvery?: number;
  /** Receives the state to save for a later `resume` (synchronously, between steps). */
  readonly onCheckpoint?: (state: DeepEbmResumeState<P>) => void;
  /** Log every this many steps (default 50); the first and last steps are always logged. */
  readonly logEvery?: number;
  /**
   * Keep a debiased exponential moving average of the parameters, `θ̄ ← θ̄ + w_t(θ_t − θ̄)` with
   * `w_t = (1 − d)/(1 − dᵗ)` after the `t`-th applied step (optim's `emaUpdate`: a weighted average of the iterates,
   * the initial parameters get no weight; rolled back with the parameters), returned as `emaParams`. Off when absent.
   */
  readonly emaDecay?: number;
  /** Receives log records. */
  readonly onLog?: (rec: DeepEbmLogRecord) => void;
  /**
   * Receives every rollback and the state training continues from: the snapshot (step, parameters, EMA, optimiser
   * state, CD state, guard statistics — the very values held at the snapshot step) with the new learning-rate scale,
   * random stream and events.
   */
  readonly onRollback?: (ev: GuardEvent, restored: DeepEbmResumeState<P>) => void;
  /** Called after every applied step (progress bars). */
  readonly onStep?: (step: number) => void;
  /**
   * Reuse the buffers of each step's dead intermediates in later steps (default true): the loss and gradient, and the
   * update, run inside {@link withBufferReuse} with a pool owned by the run (and each sampler step as a nested scope).
   * Results are identical either way. The loss must be pure (return its new state; no tensors kept in closures),
   * as `contrastiveDivergence` is. **Caution:** a tensor a user energy computes inside a step and caches in a closure
   * (e.g. `W ??= matmul(A, B)`) is overwritten by a later step: compute it before training, or pass `reuseBuffers: false`.
   */
  readonly reuseBuffers?: boolean | BufferPoolOptions;
}

/** One training-log record. */
export interface DeepEbmLogRecord {
  readonly step: number;
  readonly loss: number;
  readonly gap: number;
  readonly ePos: number;
  readonly eNeg: number;
  readonly gradNorm: number;
  readonly lr: number;
  readonly samplerDivergent: number;
  readonly time: number;
}

/** Everything {@link trainDeepEbm} needs to continue a run exactly (plain data: tensors, numbers, strings). */
export interface DeepEbmResumeState<P extends Tree> {
  /** Steps done. */
  readonly step: number;
  readonly params: P;
  /** Parameter EMA, or null when the run keeps none. */
  readonly ema: P | null;
  readonly optState: OptState;
  readonly cd: CDState;
  readonly guard: GuardState;
  readonly lrScale: number;
  readonly stream: number;
  /** Rollbacks so far (they count towards `maxRollbacks`). */
  readonly events: readonly GuardEvent[];
}

/** Result of {@link trainDeepEbm}. */
export interface TrainedDeepEbm<P extends Tree> {
  readonly params: P;
  /** Moving average of the parameters (when `emaDecay` was given), else `null`. */
  readonly emaParams: P | null;
  readonly state: CDState;
  readonly optState: OptState;
  /** Logged records. */
  readonly history: DeepEbmLogRecord[];
  /** Rollbacks that happened. */
  readonly events: GuardEvent[];
  /** Final learning-rate multiplier (halved at each rollback by default). */
  readonly lrScale: number;
  /** Final random-stream index. */
  readonly stream: number;
}

/**
 * The last good state. Keeping references is a true snapshot because every piece is a value: `opt.update` returns a
 * fresh state and never modifies the one it is given (src/optim), the CD loss returns a new buffer/chain tensor,
 * `applyUpdates` and the EMA build new parameter tensors, and guard states are replaced, never modified.
 */
interface Snapshot<P extends Tree> {
  readonly step: number;
  readonly params: P;
  readonly ema: P | null;
  readonly opt: OptState;
  readonly cd: CDState;
  readonly guard: GuardState;
}

/** Positives of one step: `B` rows drawn uniformly with replacement. */
function drawBatch(k: Key, data: Tensor, B: number): Tensor {
  const n = data.shape[0];
  const D = data.size / n;
  const idx = randintArray(k, 0, n, B);
  const out = data.dtype === 'float64' ? new Float64Array(B * D) : new Float32Array(B * D);
  for (let i = 0; i < B; i++) out.set(data.data.subarray(idx[i] * D, (idx[i] + 1) * D), i * D);
  return new Tensor(out, [B, ...data.shape.slice(1)]);
}

function scaleTree<P extends Tree>(t: P, s: number): P {
  // applyUpdates adds; we scale Adam's direction by −lr here.
  const leaves: Tensor[] = [];
  const walk = (v: Tree): void => {
    if (v instanceof Tensor) leaves.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else Object.keys(v).forEach((k) => walk((v as Record<string, Tree>)[k]));
  };
  walk(t);
  let i = 0;
  const rebuild = (v: Tree): Tree => {
    if (v instanceof Tensor) {
      const x = leaves[i++];
      return new Tensor(x.data.map((e) => e * s) as typeof x.data, x.shape);
    }
    if (Array.isArray(v)) return v.map(rebuild);
    const o: Record<string, Tree> = {};
    for (const k of Object.keys(v)) o[k] = rebuild((v as Record<string, Tree>)[k]);
    return o;
  };
  return rebuild(t) as P;
}

/**
 * Trains an EBM with a contrastive-divergence loss and Adam. Each step: draw positives, compute loss, gradient
 * and the next CD state, ask the guard; if healthy, apply `θ ← θ − lr·scale·Adam(clip(∇θ L))`, else roll back to the
 * last good snapshot (taken every `snapshotEvery` healthy steps), switch to a new random stream, multiply the
 * learning rate by `lrDecay`, and continue; after `maxRollbacks` rollbacks a {@link TrainingDivergedError} explains
 * what happened. Deterministic given the key.
 * @example
 * const res = trainDeepEbm({ params, loss: cd, data, steps: 2000, batchSize: 256, key: key(0), lr: 1e-3 });
 */
export function trainDeepEbm<P extends Tree>(o: TrainDeepEbmOptions<P>): TrainedDeepEbm<P> {
  const run = deepEbmSteps(o);
  for (let r = run.next(); ; r = run.next()) {
    if (r.done) return r.value;
    if ('pending' in r.value) {
      r.value.pending.catch(() => undefined); // not awaited: its rejection must not surface as an unhandled one
      throw new InvalidArgumentError('trainDeepEbm: valueAndGrad returned a promise; use trainDeepEbmAsync');
    }
  }
}

/** How {@link trainDeepEbmAsync} lets a caller stop a run. */
export interface StoppableRunOptions {
  /** Stop after the step in progress when this signal is aborted (checked after every applied step). */
  readonly signal?: AbortSignal;
  /** Hand control to the event loop at most every this many milliseconds (default 50), so that events (timers, OS signals) can abort `signal`. */
  readonly yieldMs?: number;
}

/** Result of {@link trainDeepEbmAsync}: the trained state, and where it stopped when `signal` aborted it early. */
export interface StoppedDeepEbm<P extends Tree> extends TrainedDeepEbm<P> {
  /** When stopped early: the resumable state after the last applied step (pass it as `resume` to continue). */
  readonly stopped?: DeepEbmResumeState<P>;
  /** Whether `onCheckpoint` already received the state of the stopping step. */
  readonly checkpointed?: boolean;
}

/** One event-loop turn (a macrotask: `setTimeout` exists in browsers and Node alike). */
function nextTurn(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

/**
 * {@link trainDeepEbm}, yielding to the event loop every `yieldMs` milliseconds and stopping after the step in progress
 * once `signal` is aborted. Without an abort it computes exactly what {@link trainDeepEbm} computes (same steps, same
 * numbers); when stopped, `stopped` holds the resumable state of the last applied step.
 * @example
 * const ac = new AbortController();
 * const res = await trainDeepEbmAsync({ params, loss: cd, data, steps: 2000, batchSize: 256, key: key(0) }, { signal: ac.signal });
 * if (res.stopped) console.log(`stopped after step ${res.stopped.step}`);
 */
export async function trainDeepEbmAsync<P extends Tree>(o: TrainDeepEbmOptions<P>, run: StoppableRunOptions = {}): Promise<StoppedDeepEbm<P>> {
  const every = run.yieldMs ?? 50;
  const it = deepEbmSteps(o);
  let last = performance.now();
  for (;;) {
    // An asynchronous valueAndGrad: its result (or its error, at the same point) goes back to the step.
    const r = await settlePending(it, it.next());
    if (r.done) return r.value;
    const point = r.value as StepPoint<P>;
    if (performance.now() - last >= every) {
      await nextTurn();
      last = performance.now();
    }
    if (run.signal?.aborted && point.step < o.steps) {
      const state = point.state();
      return { ...point.result(), stopped: state, checkpointed: point.checkpointed };
    }
  }
}

/** What the step generator yields after every applied step. */
interface StepPoint<P extends Tree> {
  readonly step: number;
  /** Whether `onCheckpoint` received this step's state. */
  readonly checkpointed: boolean;
  state(): DeepEbmResumeState<P>;
  result(): TrainedDeepEbm<P>;
}

/** A step's asynchronous `valueAndGrad` result, yielded to the driver ({@link trainDeepEbmAsync} awaits it). */
interface Pending<P extends Tree> {
  readonly pending: Promise<CDValueAndGrad<P>>;
}

/**
 * The loop of {@link trainDeepEbm} as a generator: yields after every applied step, returns the result; an
 * asynchronous `valueAndGrad` is yielded as {@link Pending} and its value (or error) is passed back in.
 */
function* deepEbmSteps<P extends Tree>(o: TrainDeepEbmOptions<P>): Generator<StepPoint<P> | Pending<P>, TrainedDeepEbm<P>, CDValueAndGrad<P> | undefined> {
  if (!(o.data instanceof Tensor) || o.data.ndim < 2 || o.data.shape[0] < 1) throw new InvalidArgumentError('trainDeepEbm: data must be a tensor [n ≥ 1, ...dim]');
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new InvalidArgumentError(`trainDeepEbm: steps must be an integer ≥ 0, got ${o.steps}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new InvalidArgumentError(`trainDeepEbm: batchSize must be a positive integer, got ${o.batchSize}`);
  const lr = o.lr ?? 1e-3;
  const lrAt = (t: number): number => (typeof lr === 'number' ? lr : lr(t));
  if (typeof lr === 'number' && !(lr > 0)) throw new InvalidArgumentError(`trainDeepEbm: lr must be > 0, got ${lr}`);
  const ts: GradientTransformation<any>[] = [];
  if (o.clipNorm !== undefined) ts.push(clipByGlobalNorm(o.clipNorm));
  ts.push(scaleByAdam({ b1: o.b1, b2: o.b2 }));
  const opt = chain(...ts);
  const guard = o.guard === false ? null : new DivergenceGuard(o.guard ?? {});
  const vg = o.valueAndGrad ?? cdValueAndGrad(o.loss);
  const logEvery = o.logEvery ?? 50;
  if (o.emaDecay !== undefined && !(o.emaDecay >= 0 && o.emaDecay < 1)) throw new InvalidArgumentError(`trainDeepEbm: emaDecay must be in [0, 1), got ${o.emaDecay}`);
  const t0 = performance.now();
  const reuse = o.reuseBuffers ?? true;
  const pool = reuse === false ? null : createBufferPool(reuse === true ? {} : reuse);
  const scoped = <R>(fn: () => R): R => (pool === null ? fn() : withBufferReuse(pool, fn));

  const every = o.checkpointEvery;
  if (every !== undefined && (!Number.isSafeInteger(every) || every < 1)) throw new InvalidArgumentError(`trainDeepEbm: checkpointEvery must be a positive integer, got ${every}`);
  const noGuard: GuardState = { emaGap: 0, emaGrad: 0, healthy: 0 };
  if (o.resume) {
    const r = o.resume;
    if ((o.emaDecay !== undefined) !== (r.ema !== null)) throw new InvalidArgumentError(`trainDeepEbm: the resume state ${r.ema ? 'has' : 'has no'} parameter EMA but emaDecay is ${o.emaDecay === undefined ? 'not ' : ''}set`);
    if (!(Number.isSafeInteger(r.step) && r.step >= 0 && r.step <= o.steps)) throw new InvalidArgumentError(`trainDeepEbm: resume step ${r.step} is not in [0, ${o.steps}]`);
    if (guard) guard.state = r.guard;
  }
  // Where the run starts: the resume state, or a fresh one.
  const init: DeepEbmResumeState<P> = o.resume ?? {
    step: 0, params: o.params, ema: o.emaDecay !== undefined ? o.params : null, optState: opt.init(o.params),
    cd: o.loss.initState(foldIn(o.key, 0xffffffff), o.params, o.data), guard: guard?.state ?? noGuard, lrScale: 1, stream: 0, events: [],
  };
  let params = init.params;
  let ema = init.ema;
  let optState = init.optState;
  let cd = init.cd;
  let lrScale = init.lrScale;
  let stream = init.stream;
  const events: GuardEvent[] = [...init.events];
  const history: DeepEbmLogRecord[] = [];
  const start = init.step;
  let snap: Snapshot<P> = { step: start, params, ema, opt: optState, cd, guard: guard?.state ?? noGuard };

  const rollback = (t: number, reason: string): number => {
    if (!guard) throw new TrainingDivergedError(`training diverged at step ${t}: ${reason}`, events);
    const g = guard.options;
    if (events.length >= g.maxRollbacks) {
      const what = events.map((e) => `step ${e.step}: ${e.reason}`).join('; ');
      throw new TrainingDivergedError(
        `training diverged at step ${t} (${reason}) after ${events.length} rollback(s) (${what}); ` +
        `stopped: lower the learning rate (now ×${lrScale}), the sampler step size, or raise clipping/regularisation`, events);
    }
    lrScale *= g.lrDecay;
    stream += 1;
    params = snap.params;
    ema = snap.ema;
    optState = snap.opt;
    cd = snap.cd;
    guard.state = snap.guard;
    const ev: GuardEvent = { step: t, reason, rolledBackTo: snap.step, lrScale, stream, rollbacks: events.length + 1 };
    events.push(ev);
    o.onRollback?.(ev, { step: snap.step, params, ema, optState, cd, guard: snap.guard, lrScale, stream, events: [...events] });
    return snap.step;
  };

  let t = start;
  while (t < o.steps) {
    const step = t + 1;
    const k = foldIn(foldIn(o.key, stream), step);
    const [kBatch, kLoss] = split(k, 2);
    const batch = drawBatch(kBatch, o.data, o.batchSize);
    let r: CDValueAndGrad<P>;
    try {
      // An asynchronous (GPU) value-and-gradient returns a promise: the scope then recycles nothing.
      const out = scoped(() => vg(params, batch, kLoss, cd));
      r = out instanceof Promise ? ((yield { pending: out }) as CDValueAndGrad<P>) : out;
    } catch (e) {
      if (e instanceof CDDivergenceError || e instanceof DivergenceError) {
        t = rollback(step, e.message);
        continue;
      }
      throw e;
    }
    const gradNorm = globalNorm(r.grads);
    const m = { loss: r.loss, gap: r.aux.gap, ePos: r.aux.ePos, eNeg: r.aux.eNeg, gradNorm, samplerDivergent: r.aux.samplerDivergent };
    const why = guard
      ? guard.check(m)
      : Number.isFinite(r.loss) && Number.isFinite(gradNorm) && !(r.aux.samplerDivergent > 0)
        ? null
        : `loss ${r.loss}, gradient norm ${gradNorm}, divergent sampler chains ${r.aux.samplerDivergent}`;
    if (why) {
      t = rollback(step, why);
      continue;
    }
    // These parameters just passed the checks on fresh negatives: remember them as the last good state.
    // Snapshots at multiples of snapshotEvery (also after a resume, so a resumed run rolls back where the original would).
    if (guard && t > snap.step && t % guard.options.snapshotEvery === 0) snap = { step: t, params, ema, opt: optState, cd, guard: guard.state };
    const mult = o.lrMultiplier ? o.lrMultiplier(step, stream) : 1;
    const lrNow = lrAt(step) * lrScale * mult;
    const grads = r.grads;
    const [next, nextOpt] = scoped(() => {
      const [dir, no] = opt.update(grads, optState as OptState[], params);
      return [applyUpdates(params, scaleTree(dir, -lrNow)), no] as const;
    });
    if (!treeAllFinite(next)) {
      t = rollback(step, 'parameters became non-finite after the update');
      continue;
    }
    params = next;
    if (ema) ema = emaUpdate(ema, next, o.emaDecay!, step);
    optState = nextOpt;
    cd = r.state;
    guard?.accept(m);
    t = step;
    if (step === 1 || step === o.steps || step % logEvery === 0) {
      const rec: DeepEbmLogRecord = { step, ...m, lr: lrNow, time: (performance.now() - t0) / 1000 };
      history.push(rec);
      o.onLog?.(rec);
    }
    const saved = every !== undefined && o.onCheckpoint !== undefined && (step % every === 0 || step === o.steps);
    if (saved) o.onCheckpoint!({ step, params, ema, optState, cd, guard: guard?.state ?? noGuard, lrScale, stream, events: [...events] });
    o.onStep?.(step);
    const at = { params, ema, optState, cd, guard: guard?.state ?? noGuard, lrScale, stream };
    yield {
      step, checkpointed: saved,
      state: () => ({ step, ...at, events: [...events] }),
      result: () => ({ params: at.params, emaParams: at.ema, state: at.cd, optState: at.optState, history: [...history], events: [...events], lrScale: at.lrScale, stream: at.stream }),
    };
  }
  return { params, emaParams: ema, state: cd, optState, history, events, lrScale, stream };
}
