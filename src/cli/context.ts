/**
 * The environment a command runs in: where stdout/stderr go, whether stderr is a terminal, and the exit code being
 * built up. `main()` makes one per invocation so the CLI can run in-process (tests) or as the `ebm` binary.
 */
import { EXIT_OK, NonFiniteResultError, debugEnabled, exitCodeFor, formatError } from './errors.js';

/** Output streams of one CLI invocation. */
export interface CliIO {
  /** Writes to standard output (results, `--json` objects, help). */
  stdout(text: string): void;
  /** Writes to standard error (errors, progress bars). */
  stderr(text: string): void;
  /** True when stderr is a terminal: progress bars are shown only then. */
  stderrIsTTY: boolean;
}

/** A CLI invocation's state shared by all commands. */
export interface CliContext {
  io: CliIO;
  /** Exit code to return; commands set it through {@link runCommand}. */
  exitCode: number;
  /** The invocation asked for `--json`: an error is then also printed as one JSON object on stdout. */
  json?: boolean;
}

/**
 * The JSON form of an error, printed on stdout under `--json` (besides the `error:` line on stderr) so that a script
 * reading stdout always gets one object: `{"error": {"message", "name", "code"?, "exitCode"}}`.
 */
export function errorJson(err: unknown, exitCode: number): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return JSON.stringify({ error: { message: e.message.replace(/\s*\n\s*/g, ' ').trim(), name: e.name, ...(typeof code === 'string' ? { code } : {}), exitCode } }) + '\n';
}

/** The IO of the current process (`process.stdout`, `process.stderr`). */
export function processIO(): CliIO {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    stderrIsTTY: process.stderr.isTTY === true,
  };
}

/**
 * Runs a command body, mapping errors to exit codes: `UsageError`, `DataError`, `ShapeError`, `DTypeError` → exit 2
 * with one line `error: …` on stderr; anything else → exit 1 with `error: …` (plus the stack when `EBM_DEBUG=1`).
 * Commands write their output files only after their work succeeded, so a failure leaves no file behind.
 * @example .action((opts) => runCommand(ctx, () => dataInfo(ctx, opts)))
 */
export async function runCommand(ctx: CliContext, fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
    ctx.exitCode = EXIT_OK;
  } catch (err) {
    ctx.exitCode = exitCodeFor(err);
    // a progress bar may be mid-line: clear it so the error is one clean line
    ctx.io.stderr((ctx.io.stderrIsTTY ? '\r\x1b[K' : '') + formatError(err, debugEnabled()) + '\n');
    if (ctx.json) ctx.io.stdout(errorJson(err, ctx.exitCode));
  }
}

/** The first NaN/±Infinity number in a result (objects and arrays, walked with an explicit stack), with its path. */
export function firstNonFinite(v: unknown): { at: string; value: number } | undefined {
  const stack: { v: unknown; at: string }[] = [{ v, at: '' }];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (typeof e.v === 'number') {
      if (!Number.isFinite(e.v)) return { at: e.at === '' ? 'value' : `"${e.at}"`, value: e.v };
    } else if (e.v !== null && typeof e.v === 'object' && !ArrayBuffer.isView(e.v)) {
      const entries = Object.entries(e.v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i];
        stack.push({ v: x, at: Array.isArray(e.v) ? `${e.at}[${k}]` : e.at === '' ? k : `${e.at}.${k}` });
      }
    }
  }
  return undefined;
}

/**
 * Prints a command's result: with `json` exactly one JSON object on one line of stdout, else `human()` lines.
 * A result holding a non-finite number is refused with a {@link NonFiniteResultError} (exit 2) naming the field.
 */
export function printResult(ctx: CliContext, json: boolean | undefined, result: Record<string, unknown>, human: () => string): void {
  const bad = firstNonFinite(result);
  if (bad) throw new NonFiniteResultError(`the result ${bad.at} is ${bad.value}: refusing to report a non-finite result (the computation diverged or the model is damaged)`);
  if (json) ctx.io.stdout(JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
  else ctx.io.stdout(human().replace(/\n?$/, '\n'));
}
