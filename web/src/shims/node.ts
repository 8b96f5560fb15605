/**
 * Browser stand-ins for the Node built-ins (`node:fs`, `node:fs/promises`, `node:path`) that a few library modules
 * import statically (`src/io/safetensors.ts`, `src/io/model.ts`, `src/io/atomic.ts`, `src/io/safeFile.ts`). The playground only uses their
 * pure functions (`encodeSafetensors`, `decodeSafetensors`, `encodeModel`, `checkTensorLayout`); any file-system call
 * reaching these stubs is a bug and throws an error saying so. `web/vite.config.ts` aliases the built-ins here.
 */

function unavailable(name: string): never {
  throw new Error(`${name} is not available in the browser playground (Node-only file-system API)`);
}

/** Stub of `fs.readFileSync`: always throws (callers such as `ebmTsVersion` catch it). */
export function readFileSync(): never { return unavailable('fs.readFileSync'); }
/** Stub of `fs.openSync`: always throws. */
export function openSync(): never { return unavailable('fs.openSync'); }
/** Stub of `fs.writeSync`: always throws. */
export function writeSync(): never { return unavailable('fs.writeSync'); }
/** Stub of `fs.fsyncSync`: always throws. */
export function fsyncSync(): never { return unavailable('fs.fsyncSync'); }
/** Stub of `fs.closeSync`: always throws. */
export function closeSync(): never { return unavailable('fs.closeSync'); }
/** Stub of `fs.renameSync`: always throws. */
export function renameSync(): never { return unavailable('fs.renameSync'); }
/** Stub of `fs.unlinkSync`: always throws. */
export function unlinkSync(): never { return unavailable('fs.unlinkSync'); }
/** Stub of `fs.statSync`: always throws. */
export function statSync(): never { return unavailable('fs.statSync'); }
/** Stub of `fs.lstatSync`: always throws. */
export function lstatSync(): never { return unavailable('fs.lstatSync'); }
/** Stub of `fs.fstatSync`: always throws. */
export function fstatSync(): never { return unavailable('fs.fstatSync'); }
/** Stub of `fs.readSync`: always throws. */
export function readSync(): never { return unavailable('fs.readSync'); }
/** Stub of `fs.readdirSync`: always throws. */
export function readdirSync(): never { return unavailable('fs.readdirSync'); }
/** Stub of `fs.realpathSync`: always throws. */
export function realpathSync(): never { return unavailable('fs.realpathSync'); }
/** Stub of `fs.constants` (the open flags guarded reads use). */
export const constants = { O_RDONLY: 0, O_NONBLOCK: 0 };
/** Stub of `fs.existsSync`: nothing exists in the browser. */
export function existsSync(): boolean { return false; }
/** Stub of `fs/promises.readFile`: always rejects. */
export async function readFile(): Promise<never> { return unavailable('fs.promises.readFile'); }
/** Stub of `fs/promises.open`: always rejects. */
export async function open(): Promise<never> { return unavailable('fs.promises.open'); }
/** Stub of `fs/promises.rename`: always rejects. */
export async function rename(): Promise<never> { return unavailable('fs.promises.rename'); }
/** Stub of `fs/promises.unlink`: always rejects. */
export async function unlink(): Promise<never> { return unavailable('fs.promises.unlink'); }
/** Stub of `path.basename` (POSIX semantics, enough for messages). */
export function basename(p: string): string { return p.slice(p.lastIndexOf('/') + 1); }
/** Stub of `path.dirname` (POSIX semantics). */
export function dirname(p: string): string { const i = p.lastIndexOf('/'); return i <= 0 ? (i === 0 ? '/' : '.') : p.slice(0, i); }
/** Stub of `path.join` (POSIX semantics, no normalisation of `..`). */
export function join(...parts: string[]): string { return parts.filter((s) => s !== '').join('/').replace(/\/+/g, '/'); }

/** Default export, for `import fs from 'node:fs'` style imports. */
export default {
  readFileSync, openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, existsSync, readFile, open, rename, unlink,
  statSync, lstatSync, fstatSync, readSync, readdirSync, realpathSync, constants,
  basename, dirname, join,
};
