/**
 * SIGINT / SIGTERM handling of the `ebm` binary. While a training loop runs (between {@link enterInterruptible} and
 * the function it returns), a signal only sets a flag: the loop finishes the current step, writes a final checkpoint
 * when checkpointing is on and throws an {@link InterruptedError}, which the CLI prints as one line and maps to exit
 * 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once with the same codes after removing this process's temp
 * files and output locks. Outside such loops no handler is installed: the work is synchronous (a handler could only
 * run after it), so the default action ends the process at once; every output is written atomically, so no file is
 * half-written, and the temp file of an interrupted write is removed by the next run on that output.
 */
import { removeLiveTemps } from '../io/atomic.js';
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

function exitNow(sig: Sig): never {
  removeLiveTemps();
  releaseOutputLocks();
  process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}error: interrupted by ${sig} (second signal: stopped at once)\n`);
  process.exit(sig === 'SIGINT' ? EXIT_SIGINT : EXIT_SIGTERM);
}

/** Records signal `sig`: the first one is left for the running loop to act on, a second one exits at once. */
export function raiseSignal(sig: Sig): void {
  if (pending !== undefined && enabled) exitNow(sig);
  pending = sig;
}

const onInt = (): void => raiseSignal('SIGINT');
const onTerm = (): void => raiseSignal('SIGTERM');

/** Lets {@link enterInterruptible} install SIGINT/SIGTERM handlers (the `ebm` binary; in-process `main()` does not). */
export function enableSignalHandling(): void {
  enabled = true;
}

/**
 * Marks the start of a loop that polls {@link pendingSignal} (installing the handlers when enabled); returns the
 * function that marks its end (removing them when the last such loop ends).
 */
export function enterInterruptible(): () => void {
  if (enabled && interruptible === 0) {
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  }
  interruptible++;
  let left = false;
  return () => {
    if (left) return;
    left = true;
    interruptible--;
    if (enabled && interruptible === 0) {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
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
