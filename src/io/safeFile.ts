/**
 * Guarded input reads: only regular files (never a device, FIFO, socket or directory, which could hang or grow
 * forever), with the size checked against {@link maxInputBytes} before a byte is read. Every refusal is a
 * {@link DataError} naming the file.
 */
import { EbmError } from '../errors.js';
import type { Stats } from 'node:fs';
import { closeSync, fsConstants, fstatSync, openSync, readSync, statSync } from './nodeBuiltins.js';
import { DataError, ioErrorDetail } from './errors.js';
import { formatBytes, maxInputBytes } from './limits.js';

/** Names the kind of a non-regular file for messages: `a directory`, `a FIFO`, `a character device`… */
export function describeFileType(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * The error to throw when reading `file` failed: an {@link EbmError} as it is (a guard's {@link DataError}, a
 * `NodeOnlyError` outside Node.js), anything else as a DataError naming the file and the system's reason (`ENOENT`,
 * `EACCES`, …).
 * @example try { text = await readInputText(path); } catch (e) { throw readFailure(e, path); }
 */
export function readFailure(e: unknown, file: string, what = 'file'): Error {
  if (e instanceof EbmError) return e;
  return new DataError(`cannot read ${what} (${ioErrorDetail(e)})`, { file });
}

/**
 * Checks that `path` names a regular file no larger than the input limit and returns its stats (symlinks are
 * followed). Throws a {@link DataError} naming the file for a non-regular or oversize file; a missing or unreadable
 * path throws the system error (`ENOENT`, `EACCES`), which each reader words as `cannot read <what> (CODE)`.
 */
export function checkInputFile(path: string, maxBytes = maxInputBytes()): Stats {
  const st = statSync(path); // ENOENT etc. propagate as system errors: callers word "cannot read <what> (CODE)"

  if (!st.isFile()) throw new DataError(`is ${describeFileType(st)}, not a regular file`, { file: path });
  if (st.size > maxBytes) {
    throw new DataError(`file is ${formatBytes(st.size)}, over the input limit of ${formatBytes(maxBytes)} (raise it with EBM_MAX_INPUT_BYTES=SIZE)`, { file: path });
  }
  return st;
}

/**
 * Reads a whole input file after {@link checkInputFile}. The file is opened non-blocking (a FIFO swapped in after
 * the check cannot hang the read), re-checked on the open descriptor, and read up to the size it had, never more than
 * the limit.
 * @example const bytes = readInputFileSync('model.safetensors')
 */
export function readInputFileSync(path: string, maxBytes = maxInputBytes()): Buffer {
  checkInputFile(path, maxBytes);
  const constants = fsConstants();
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DataError(`is ${describeFileType(st)}, not a regular file`, { file: path });
    if (st.size > maxBytes) throw new DataError(`file is ${formatBytes(st.size)}, over the input limit of ${formatBytes(maxBytes)} (raise it with EBM_MAX_INPUT_BYTES=SIZE)`, { file: path });
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break; // truncated meanwhile
      off += n;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot read file (${ioErrorDetail(e)})`, { file: path });
  } finally {
    closeSync(fd);
  }
}

/** Async form of {@link readInputFileSync} (same checks; the read itself is synchronous and bounded). */
export async function readInputFile(path: string, maxBytes = maxInputBytes()): Promise<Buffer> {
  return readInputFileSync(path, maxBytes);
}

/** {@link readInputFile} decoded as UTF-8 text. */
export async function readInputText(path: string, maxBytes = maxInputBytes()): Promise<string> {
  return readInputFileSync(path, maxBytes).toString('utf8');
}
