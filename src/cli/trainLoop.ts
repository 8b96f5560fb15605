/**
 * The generic training loop behind every `ebm train …`: runs `step` from a start step to a final step with keys
 * `foldIn(key, t)`, logs metrics, reports progress and writes a checkpoint every `checkpointEvery` steps (and at the
 * end). Because step `t` depends only on the state after step `t−1` and on `foldIn(key, t)`, a run resumed from the
 * checkpoint of step `s` computes exactly what the uninterrupted run computes.
 */
import { foldIn, type Key } from '../random/key.js';
import { saveCheckpoint, type StateTree } from '../io/checkpoint.js';
import { InterruptedError } from './errors.js';
import { clearPendingSignal, enterInterruptible, pendingSignal, yieldForSignals } from './signals.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

/** What one training step returns: the new state and (optionally) metrics for the log. */
export interface StepResult<S> {
  state: S;
  /** Named numbers for the log (loss, energy gap, grad norm, learning rate…). */
  metrics?: Record<string, number>;
}

/** One record of the training log (a JSON line): the step number, the step's metrics and the elapsed seconds. */
export interface LogRecord {
  step: number;
  time: number;
  [metric: string]: number;
}

/**
 * What a training command hands to a checkpointing trainer (mlp-energy, RBM, score-sde) besides the model settings:
 * checkpoint cadence and file, the resume point, the run settings stored for resume checks, and the log/progress
 * callbacks; the trainer forwards them to {@link trainLoop}.
 */
export interface TrainerRunOptions {
  checkpointEvery?: number;
  checkpointPath?: string;
  /** State to continue from (a checkpoint's step and state tree). */
  resume?: { step: number; state: StateTree };
  /** Run settings written into checkpoints (compared on resume). */
  meta?: Record<string, unknown>;
  logEvery?: number;
  onLog?(rec: LogRecord): void | Promise<void>;
  onProgress?(done: number, metrics?: Record<string, number>): void;
}

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions<S> {
  /** State after `startStep` steps (fresh state when starting, the checkpoint's state when resuming). */
  state: S;
  /** Steps already done (default 0). */
  startStep?: number;
  /** Total number of steps: the loop stops once `steps` steps are done. */
  steps: number;
  /** Base key of the run; step `t` (1-based) gets `foldIn(key, t)`. */
  key: Key;
  /**
   * One training step: `t` is the 1-based index of the step being taken, `key = foldIn(baseKey, t)`.
   * Must be a pure function of `(state, key, t)` for resumes to be exact.
   * @param wantMetrics true when this step's metrics will be logged (compute costly diagnostics only then).
   * May return a promise (a step on the WebGPU device reads its results back asynchronously).
   */
  step(state: S, key: Key, t: number, wantMetrics: boolean): StepResult<S> | Promise<StepResult<S>>;
  /** Write a checkpoint every this many steps (and after the last step). Needs `checkpointPath` and `toCheckpoint`. */
  checkpointEvery?: number;
  /** Checkpoint file (written atomically). */
  checkpointPath?: string;
  /** Kind written into the checkpoint (e.g. `mlp-energy`). */
  checkpointKind?: string;
  /** Run settings stored in the checkpoint, compared when resuming. */
  checkpointMeta?: Record<string, unknown>;
  /** The state as a plain-data tree for the checkpoint. */
  toCheckpoint?(state: S): StateTree;
  /** Log every this many steps (default 10); step 1 and the last step are always logged. */
  logEvery?: number;
  /** Receives each log record. */
  onLog?(rec: LogRecord): void | Promise<void>;
  /** Called after each step with the number of steps done. */
  onProgress?(done: number, metrics?: Record<string, number>): void;
}

/**
 * The error of a training run stopped by `sig` after step `t` of `steps`, saying where its final checkpoint was
 * written (`checkpointPath`) or that none was.
 */
export function interruptedAfter(sig: 'SIGINT' | 'SIGTERM', t: number, steps: number, checkpointPath: string | undefined, unit = 'step'): InterruptedError {
  const where = checkpointPath !== undefined
    ? `; checkpoint of ${unit} ${t} written to ${checkpointPath} (continue with --resume)`
    : '; no checkpoint written (use --checkpoint-every K to be able to resume)';
  return new InterruptedError(sig, `interrupted by ${sig} after ${unit} ${t} of ${steps}${where}`);
}

/**
 * After a stoppable library trainer (`trainDeepEbmAsync`, `trainJemModelAsync`) returned: when a signal stopped it,
 * writes the final checkpoint with `save` (unless the trainer had just written that step) and throws the
 * {@link interruptedAfter} error (exit 130/143); otherwise returns. `save` is given only when checkpointing is on.
 * @example finishIfStopped(res, irq.received(), steps, saveCkpt, ckptPath);
 */
export function finishIfStopped<S extends { step: number }>(
  res: { readonly stopped?: S; readonly checkpointed?: boolean },
  sig: 'SIGINT' | 'SIGTERM' | undefined,
  steps: number,
  save: ((st: S) => void) | undefined,
  checkpointPath: string | undefined,
): void {
  const st = res.stopped;
  if (!st) return;
  if (save && !res.checkpointed) save(st);
  throw interruptedAfter(sig ?? 'SIGINT', st.step, steps, save ? checkpointPath : undefined);
}

/**
 * Runs the loop and returns the final state. On SIGINT/SIGTERM (in the `ebm` binary, see `signals.ts`) it finishes
 * the current step, writes a checkpoint of it when `checkpointEvery` is set, and throws an `InterruptedError` saying
 * where (exit 130/143).
 * @example
 * const final = await trainLoop({ state: { params, opt }, steps: 1000, key: kTrain,
 *   step: (s, k) => ({ state: update(s, k) }), checkpointEvery: 100, checkpointPath: 'ckpt.safetensors',
 *   checkpointKind: 'mlp-energy', toCheckpoint: (s) => s });
 */
export async function trainLoop<S>(opts: TrainLoopOptions<S>): Promise<S> {
  const start = opts.startStep ?? 0;
  const logEvery = opts.logEvery ?? 10;
  const every = opts.checkpointEvery;
  if (every !== undefined && (!Number.isSafeInteger(every) || every < 1)) throw new InvalidArgumentError(`trainLoop: checkpointEvery must be a positive integer, got ${every}`);
  if (every !== undefined && (!opts.checkpointPath || !opts.toCheckpoint)) throw new InvalidTypeError('trainLoop: checkpointEvery needs checkpointPath and toCheckpoint');
  const t0 = performance.now();
  let state = opts.state;
  const checkpoint = async (t: number): Promise<void> => {
    await saveCheckpoint(opts.checkpointPath!, {
      kind: opts.checkpointKind ?? 'unknown',
      step: t,
      key: opts.key,
      state: opts.toCheckpoint!(state),
      meta: opts.checkpointMeta ?? {},
    });
  };
  const leave = enterInterruptible();
  try {
    for (let t = start + 1; t <= opts.steps; t++) {
      const wantMetrics = opts.onLog !== undefined && (t === 1 || t === opts.steps || t % logEvery === 0);
      const r = await opts.step(state, foldIn(opts.key, t), t, wantMetrics);
      state = r.state;
      if (wantMetrics && opts.onLog) await opts.onLog({ step: t, ...(r.metrics ?? {}), time: (performance.now() - t0) / 1000 });
      const saved = every !== undefined && (t % every === 0 || t === opts.steps);
      if (saved) await checkpoint(t);
      opts.onProgress?.(t, r.metrics);
      // SIGINT/SIGTERM: stop after this step, with a final checkpoint when checkpointing is on
      await yieldForSignals();
      const sig = pendingSignal();
      if (sig !== undefined && t < opts.steps) {
        clearPendingSignal();
        if (every !== undefined && !saved) await checkpoint(t);
        throw interruptedAfter(sig, t, opts.steps, every !== undefined ? opts.checkpointPath : undefined);
      }
    }
  } finally {
    leave();
    clearPendingSignal(); // a signal during the last step: the run completes normally
  }
  return state;
}
