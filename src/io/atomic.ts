/**
 * Atomic file writes: write a temp file beside the target, fsync it, rename it over the target.
 *
 * Targets: a new path or an existing regular file. A symbolic link is followed (the file it points to is replaced and
 * the link is kept); a dangling link, a directory, a device, a FIFO or a socket is refused with a {@link DataError}
 * naming the path, so an atomic rename can never replace e.g. `/dev/null` by a regular file.
 *
 * Temp files are named `.<name>.<pid>.<n>.<time>.tmp`; {@link removeStaleTemps} deletes those left by processes that
 * no longer run (a run killed mid-write), and {@link removeLiveTemps} those of this process (on a signal).
 */
import {
  basename, closeSync, dirname, fsyncSync, join, lstatSync, open, openSync, readdirSync, realpathSync, rename, renameSync, statSync, unlink,
  unlinkSync, writeSync,
} from './nodeBuiltins.js';
import { DataError } from './errors.js';
import { describeFileType } from './safeFile.js';

let counter = 0;
const liveTemps = new Set<string>();

/** A temp-file name in the same directory as `path` (same filesystem, so the rename is atomic). */
function tempPathFor(path: string): string {
  counter += 1;
  const unique = `${process.pid}.${counter}.${process.hrtime.bigint().toString(36)}`;
  return join(dirname(path), `.${basename(path)}.${unique}.tmp`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when process `pid` exists (signal 0 probe; EPERM means it exists under another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files of {@link writeFileAtomic} for target `path` left behind by processes that are no longer
 * running (only names matching `.<name>.<pid>.<n>.<time>.tmp` exactly; other files are never touched). Returns the
 * removed paths.
 */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const re = new RegExp(`^\\.${escapeRegExp(basename(path))}\\.(\\d+)\\.\\d+\\.[0-9a-z]+\\.tmp$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    const p = join(dir, name);
    try {
      if (lstatSync(p).isFile()) {
        unlinkSync(p);
        removed.push(p);
      }
    } catch {
      // raced with another cleaner
    }
  }
  return removed;
}

/** Removes the temp files this process is writing right now (called when a signal ends the process). */
export function removeLiveTemps(): void {
  for (const p of liveTemps) {
    try {
      unlinkSync(p);
    } catch {
      // already renamed or removed
    }
  }
  liveTemps.clear();
}

/**
 * The file an atomic write to `path` replaces: `path` itself when new or a regular file, the link's target when a
 * symbolic link to a regular file. Throws a {@link DataError} for anything else (directory, device, FIFO, socket,
 * dangling link).
 */
export function resolveWriteTarget(path: string): string {
  let lst;
  try {
    lst = lstatSync(path);
  } catch {
    return path; // a new file
  }
  if (lst.isFile()) return path;
  if (lst.isSymbolicLink()) {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      throw new DataError('is a dangling symbolic link (its target does not exist); refusing to replace the link', { file: path });
    }
    const st = statSync(real);
    if (!st.isFile()) throw new DataError(`is a symbolic link to ${describeFileType(st)}, not a regular file; refusing to write`, { file: path });
    return real;
  }
  throw new DataError(`is ${describeFileType(lst)}, not a regular file; refusing to write`, { file: path });
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Best-effort fsync of a directory so the rename itself is durable (not supported on every platform). */
function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some platforms cannot open or fsync directories; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

let stopping = false;
let inFlight = 0;
let onQuiet: (() => void) | undefined;

/** A promise that never settles: a write started or caught by {@link stopAtomicWrites} parks its caller here. */
function parked(): Promise<never> {
  return new Promise<never>(() => undefined);
}

/**
 * Stops every {@link writeFileAtomic} of this process for good (the process is about to exit on a signal). Writes in
 * flight remove their temp file at their next step (an open, write, sync or close that a worker thread is still
 * doing cannot be cancelled, so the unlink has to wait for it) and never settle, nor do writes started afterwards;
 * a rename already under way completes, leaving the complete new file. Resolves when no write is in flight, so the
 * caller can then exit knowing no temp file will appear after it.
 */
export function stopAtomicWrites(): Promise<void> {
  stopping = true;
  if (inFlight === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    onQuiet = resolve;
  });
}

/** The number of {@link writeFileAtomic} calls between creating their temp file and finishing (for the signal path). */
export function atomicWritesInFlight(): number {
  return inFlight;
}

const STOPPED = Symbol('atomic write stopped');

/**
 * Writes `data` to `path` atomically: the bytes go to a fresh temp file in the same directory (created exclusively),
 * which is fsynced and then renamed over `path`. Readers see either the old file or the complete new one, never a
 * half-written file; on any error the temp file is removed and the target is untouched. Strings are written as UTF-8.
 * After {@link stopAtomicWrites} (a signal ends the process) the write removes its temp file and never settles.
 * @example await writeFileAtomic('model.safetensors', bytes)
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  path = resolveWriteTarget(path);
  const bytes = toBytes(data);
  if (stopping) return parked();
  const tmp = tempPathFor(path);
  liveTemps.add(tmp);
  inFlight++;
  let created = false;
  let failed = false;
  let failure: unknown;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    created = true;
    try {
      let off = 0;
      while (off < bytes.length) {
        if (stopping) throw STOPPED;
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      if (stopping) throw STOPPED;
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (stopping) throw STOPPED;
    await rename(tmp, path);
    created = false;
  } catch (err) {
    failed = true;
    failure = err;
    if (created) await unlink(tmp).catch(() => undefined);
  } finally {
    liveTemps.delete(tmp);
    inFlight--;
    if (inFlight === 0 && onQuiet !== undefined) onQuiet();
  }
  if (stopping) return parked();
  if (failed) throw failure;
  fsyncDirSync(dirname(path));
}

/** Synchronous {@link writeFileAtomic}: same guarantees (temp file in the same directory, fsync, rename, cleanup). */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  path = resolveWriteTarget(path);
  const bytes = toBytes(data);
  const tmp = tempPathFor(path);
  liveTemps.add(tmp);
  let created = false;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    created = true;
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    created = false;
  } catch (err) {
    if (created) {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
    throw err;
  } finally {
    liveTemps.delete(tmp);
  }
  fsyncDirSync(dirname(path));
}
