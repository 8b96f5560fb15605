/**
 * The files of one command, guarded before any work starts (called once per invocation from a commander `preAction`
 * hook, so every command gets the same checks):
 *
 * - every output (`--out`, `--log`, `--checkpoint` and its default, `--plot`, `--samples-png`) must be a new path, a
 *   regular file or a symbolic link to a regular file (the link is followed and kept; the file it points to is
 *   replaced). Directories, devices, FIFOs, sockets and dangling links are refused, naming the flag;
 * - no output may be the same file as an input (`--data`, `--image`, `--ratings`, `--labels`, the model argument) or
 *   as another output: files are compared by device and inode when they exist, by resolved real path when new;
 * - every output's directory must exist and be writable: an advisory lock file `<output>.lock` is created there
 *   (exclusively) holding this process's pid. A second run on the same output exits 2 naming the holder's pid; a
 *   lock whose process no longer runs is stale and taken over. Locks are removed when the command ends;
 * - leftover temp files of earlier killed runs for the same outputs (`.<name>.<pid>.<n>.<time>.tmp` whose pid no
 *   longer runs) are removed.
 */
import { closeSync, existsSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { processAlive, removeStaleTemps, resolveWriteTarget } from '../io/atomic.js';
import { DataError } from '../io/errors.js';
import { UsageError } from './errors.js';

/** A file named on the command line: the flag (or argument name) and the path. */
export interface NamedFile {
  flag: string;
  path: string;
}

/** Output options by commander's camel-cased name. */
const OUTPUT_FLAGS: Record<string, string> = { out: '--out', log: '--log', checkpoint: '--checkpoint', plot: '--plot', samplesPng: '--samples-png' };
/** Input options by commander's camel-cased name (only checked when they name an existing file). */
const INPUT_FLAGS: Record<string, string> = { data: '--data', image: '--image', ratings: '--ratings', labels: '--labels', model: '--model' };

/**
 * The outputs and inputs named by a command's parsed options and positional arguments. The default checkpoint
 * (`<out>.ckpt.safetensors`) counts as an output when `--checkpoint-every` or `--resume` asks for checkpoints.
 */
export function namedFiles(opts: Record<string, unknown>, args: readonly unknown[]): { outputs: NamedFile[]; inputs: NamedFile[] } {
  const outputs: NamedFile[] = [];
  const inputs: NamedFile[] = [];
  for (const [k, flag] of Object.entries(OUTPUT_FLAGS)) {
    const v = opts[k];
    if (typeof v === 'string') outputs.push({ flag, path: v });
  }
  if (typeof opts.out === 'string' && opts.out.endsWith('.safetensors') && opts.checkpoint === undefined && (opts.checkpointEvery !== undefined || opts.resume === true)) {
    outputs.push({ flag: '--checkpoint', path: opts.out.replace(/(\.safetensors)?$/, '.ckpt.safetensors') });
  }
  for (const [k, flag] of Object.entries(INPUT_FLAGS)) {
    const v = opts[k];
    if (typeof v !== 'string') continue;
    if (existsSync(v)) inputs.push({ flag, path: v });
    else {
      const bare = v.replace(/^(csv|npy|idx):/, ''); // a data spec forcing the format names a file too
      if (bare !== v && existsSync(bare)) inputs.push({ flag, path: bare });
    }
  }
  for (const a of args) if (typeof a === 'string' && a !== '' && existsSync(a)) inputs.push({ flag: 'argument', path: a });
  return { outputs, inputs };
}

/** Identity of a path: `dev:ino` when it exists, else the real path of its directory joined with its name. */
function identity(path: string): string {
  try {
    const st = statSync(path);
    return `ino:${st.dev}:${st.ino}`;
  } catch {
    try {
      return `path:${join(realpathSync(dirname(resolve(path))), basename(path))}`;
    } catch {
      return `path:${resolve(path)}`;
    }
  }
}

function label(f: NamedFile): string {
  return f.flag === 'argument' ? f.path : `${f.flag} ${f.path}`;
}

/** Checks one output path (type, directory); returns the file a write will replace. */
function checkOutput(f: NamedFile): string {
  if (f.path.trim() === '') throw new UsageError(`${f.flag}: the path is empty`);
  let target: string;
  try {
    target = resolveWriteTarget(f.path);
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(`${f.flag} ${f.path}: ${e.problem}`);
    throw e;
  }
  const dir = dirname(resolve(target));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${f.flag} ${f.path}: directory ${dirname(f.path)} does not exist`);
  return target;
}

/** Locks held by this process: lock path → flag. */
const held = new Map<string, string>();
let exitHookInstalled = false;

/** Removes every lock this process holds (also run at process exit). */
export function releaseOutputLocks(): void {
  for (const lock of held.keys()) {
    try {
      unlinkSync(lock);
    } catch {
      // already gone
    }
  }
  held.clear();
}

/** The pid and host written in a lock file (either may be missing in a torn or foreign file). */
function readLock(lock: string): { pid?: number; host?: string; foreign?: boolean } {
  try {
    const text = readFileSync(lock, 'utf8');
    const lines = text.split('\n');
    // ours: "pid\nhost\ntime\n" (a few dozen bytes); anything larger or longer is a user's file with that name
    if (text.length > 512 || lines.filter((l) => l !== '').length > 3) return { foreign: true };
    const [first, host] = lines;
    const pid = Number(first);
    return { ...(Number.isSafeInteger(pid) && pid > 0 ? { pid } : {}), ...(host ? { host } : {}) };
  } catch {
    return {};
  }
}

/**
 * Takes the advisory lock `<target>.lock` for output `f`: creates it exclusively with this pid and host; takes over a
 * stale one (its process on this host is gone, or it holds no pid and is older than 10 s); refuses (exit 2) one held
 * by a running process or written on another host.
 */
function acquireLock(f: NamedFile, target: string): void {
  const lock = `${target}.lock`;
  if (held.has(lock)) return;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx', 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new UsageError(`${f.flag} ${f.path}: directory ${dirname(resolve(target))} is not writable (${code ?? (e as Error).message})`);
      }
      const { pid, host, foreign } = readLock(lock);
      if (foreign) throw new UsageError(`${f.flag} ${f.path}: ${lock} exists and is not an ebm lock file; move it away (ebm uses that name to guard the output)`);
      let stale: boolean;
      // a pid can only be probed on this host: a lock from another host (shared disk) is never taken over
      if (pid !== undefined && host !== undefined && host !== hostname()) stale = false;
      else if (pid !== undefined) stale = pid !== process.pid && !processAlive(pid);
      else {
        let age = 0, size = 0;
        try {
          const st = statSync(lock);
          age = Date.now() - st.mtimeMs;
          size = st.size;
        } catch {
          continue; // removed meanwhile: retry
        }
        // only an empty file (a lock torn between create and write) is ours to take over; anything else with this
        // name is someone's file and is never deleted
        if (size > 0) {
          throw new UsageError(`${f.flag} ${f.path}: ${lock} exists and is not an ebm lock file; move it away (ebm uses that name to guard the output)`);
        }
        stale = age > 10_000;
      }
      if (!stale) {
        throw new UsageError(
          `${f.flag} ${f.path}: another ebm run ${pid !== undefined ? `(pid ${pid}${host !== undefined && host !== hostname() ? ` on ${host.slice(0, 64)}` : ''}) ` : ''}is writing this file (lock ${lock}); wait for it to finish, or delete the lock file if no such run exists`,
        );
      }
      try {
        unlinkSync(lock);
      } catch {
        // another process took it over first; retry
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n${hostname()}\n${new Date().toISOString()}\n`);
    } finally {
      closeSync(fd);
    }
    held.set(lock, f.flag);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', releaseOutputLocks);
    }
    return;
  }
  throw new UsageError(`${f.flag} ${f.path}: could not take the lock ${lock}`);
}

/**
 * Guards the files of one command (see the module comment): checks every output, refuses aliases between outputs and
 * inputs, takes the output locks and removes stale temp files. Throws a {@link UsageError} (exit 2) naming the flag.
 * Call {@link releaseOutputLocks} when the command ends.
 */
export function guardCommandFiles(outputs: readonly NamedFile[], inputs: readonly NamedFile[]): void {
  const targets = outputs.map(checkOutput);
  const ids = outputs.map((f) => identity(f.path));
  const inIds = inputs.map((f) => identity(f.path));
  for (let i = 0; i < outputs.length; i++) {
    for (let j = 0; j < i; j++) {
      if (ids[i] === ids[j]) throw new UsageError(`${label(outputs[i])}: same file as ${label(outputs[j])}; each output needs its own file`);
    }
    for (let j = 0; j < inputs.length; j++) {
      if (ids[i] === inIds[j]) throw new UsageError(`${label(outputs[i])}: same file as the input ${label(inputs[j])}; refusing to overwrite an input`);
    }
  }
  for (let i = 0; i < outputs.length; i++) {
    const lockId = identity(`${targets[i]}.lock`);
    for (let j = 0; j < inputs.length; j++) {
      if (lockId === inIds[j]) throw new UsageError(`${label(inputs[j])}: the input is the lock file of ${label(outputs[i])}; rename it`);
    }
  }
  try {
    for (let i = 0; i < outputs.length; i++) acquireLock(outputs[i], targets[i]);
  } catch (e) {
    releaseOutputLocks();
    throw e;
  }
  for (const t of targets) removeStaleTemps(t);
}
