/** Atomic file writes: write a temp file beside the target, fsync it, rename it over the target. */
import { basename, closeSync, dirname, fsyncSync, join, open, openSync, rename, renameSync, unlink, unlinkSync, writeSync } from './nodeBuiltins.js';

let counter = 0;

/** A temp-file name in the same directory as `path` (same filesystem, so the rename is atomic). */
function tempPathFor(path: string): string {
  counter += 1;
  const unique = `${process.pid}.${counter}.${process.hrtime.bigint().toString(36)}`;
  return join(dirname(path), `.${basename(path)}.${unique}.tmp`);
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

/**
 * Writes `data` to `path` atomically: the bytes go to a fresh temp file in the same directory (created exclusively),
 * which is fsynced and then renamed over `path`. Readers see either the old file or the complete new one, never a
 * half-written file; on any error the temp file is removed and the target is untouched. Strings are written as UTF-8.
 * @example await writeFileAtomic('model.safetensors', bytes)
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = toBytes(data);
  const tmp = tempPathFor(path);
  let created = false;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    created = true;
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    created = false;
  } catch (err) {
    if (created) await unlink(tmp).catch(() => undefined);
    throw err;
  }
  fsyncDirSync(dirname(path));
}

/** Synchronous {@link writeFileAtomic}: same guarantees (temp file in the same directory, fsync, rename, cleanup). */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  const bytes = toBytes(data);
  const tmp = tempPathFor(path);
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
  }
  fsyncDirSync(dirname(path));
}
