/**
 * SIGINT / SIGTERM handling of the `ebm` binary. While a training loop runs (between {@link enterInterruptible} and
 * the function it returns), a signal only sets a flag: the loop finishes the current step, writes a final checkpoint
 * when checkpointing is on and throws an {@link InterruptedError}, which the CLI prints as one line and maps to exit
 * 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once with the same codes after removing this process's temp
 * files and output locks. Outside such loops a signal exits at once (same codes, one line) after removing this
 * process's temp files and output locks; a handler runs only when the event loop turns, so a long synchronous
 * computation finishes first (every output is written atomically, so no file is ever half-written). The temp file of
 * a run killed outright (SIGKILL) is removed by the next run on that output.
 */
import { atomicWritesInFlight, removeLiveTemps, stopAtomicWrites } from '../io/atomic.js';
import { EXIT_SIGINT, EXIT_SIGTERM } from './errors.js';
import { releaseOutputLocks } from './outputs.js';

type Sig = 'SIGINT' | 'SIGTERM';

let pending: Sig | undefined;
let interruptible = 0;
let enabled = false;

/** The signal received and not yet acted on, if any. */
export function pendingSignal(): Sig | undefined {
  return pending;
}

/** Clears a pending signal once acted on. */
export function clearPendingSignal(): void {
  pending = undefined;
}

let exiting = false;

function finishExit(sig: Sig, why: string): never {
  removeLiveTemps();
  releaseOutputLocks();
  process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}error: interrupted by ${sig} (${why})\n`);
  process.exit(sig === 'SIGINT' ? EXIT_SIGINT : EXIT_SIGTERM);
}

/**
 * Ends the process on a signal. An atomic write may be in flight (the first await after a long synchronous
 * computation is usually the output's temp-file open, running on a worker thread, so an unlink now could precede the
 * file's creation): all atomic writes are stopped and the exit waits until none is in flight, then removes temp files
 * and locks. A signal during that wait exits at once.
 */
function exitNow(sig: Sig, why: string): void {
  if (exiting || atomicWritesInFlight() === 0) {
    void stopAtomicWrites();
    finishExit(sig, why);
  }
  exiting = true;
  void stopAtomicWrites().then(() => finishExit(sig, why));
}

/**
 * Records signal `sig`. Inside an interruptible loop the first one is left for the loop to act on and a second one
 * exits at once; outside such loops (in the `ebm` binary) it exits at once, removing this process's temp files and
 * output locks (outputs are written atomically, so none is left half-written).
 */
export function raiseSignal(sig: Sig): void {
  if (enabled && interruptible === 0) return exitNow(sig, 'stopped; no output left half-written');
  if (pending !== undefined && enabled) return exitNow(sig, 'second signal: stopped at once');
  pending = sig;
  for (const ac of controllers) ac.abort(sig);
}

const controllers = new Set<AbortController>();

/**
 * An interruptible region wired to an `AbortSignal` for library loops that take one (`trainDeepEbmAsync`, …): the
 * first SIGINT/SIGTERM aborts `signal` (its `reason` is the signal's name) and is reported by `received()`; `leave()`
 * ends the region (and clears a signal that arrived too late to matter).
 * @example
 * const irq = interruptRegion();
 * try { const res = await trainDeepEbmAsync(opts, { signal: irq.signal }); } finally { irq.leave(); }
 */
export function interruptRegion(): { signal: AbortSignal; received(): Sig | undefined; leave(): void } {
  const ac = new AbortController();
  controllers.add(ac);
  const leaveRegion = enterInterruptible();
  return {
    signal: ac.signal,
    received: () => (ac.signal.aborted ? (ac.signal.reason as Sig) : undefined),
    leave: () => {
      controllers.delete(ac);
      leaveRegion();
      clearPendingSignal();
    },
  };
}

const onInt = (): void => raiseSignal('SIGINT');
const onTerm = (): void => raiseSignal('SIGTERM');

/**
 * Installs the SIGINT/SIGTERM handlers of the `ebm` binary for the whole run (in-process `main()` does not). A
 * handler runs when the event loop turns: at once in a loop that yields ({@link yieldForSignals}, the library's
 * `…Async` trainers) or awaits I/O, otherwise after the synchronous computation in progress.
 */
export function enableSignalHandling(): void {
  if (enabled) return;
  enabled = true;
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
}

/**
 * Marks the start of a loop that polls {@link pendingSignal} (installing the handlers when enabled); returns the
 * function that marks its end (removing them when the last such loop ends).
 */
export function enterInterruptible(): () => void {
  interruptible++;
  let left = false;
  return () => {
    if (left) return;
    left = true;
    interruptible--;
  };
}

let lastYield = 0;

/**
 * Lets pending signals be delivered: handlers run only when the event loop turns, which a loop of synchronous steps
 * never lets happen. Yields (one `setImmediate`) at most every `everyMs` milliseconds, so it is cheap every step.
 */
export async function yieldForSignals(everyMs = 50): Promise<void> {
  const now = performance.now();
  if (now - lastYield < everyMs) return;
  lastYield = now;
  await new Promise<void>((r) => setImmediate(r));
}
