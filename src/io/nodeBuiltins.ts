/**
 * The Node built-ins that the file functions of src/io and src/data use, reached lazily through
 * `process.getBuiltinModule` (Node ≥ 20.16) instead of static `import … from 'node:…'`.
 *
 * Why: the library's main entry (`ebm-ts`) must bundle for browsers without Node built-ins (a static `node:fs`
 * import makes Vite/Rollup externalise it with a warning, and breaks at load). With these wrappers a module such as
 * `io/safetensors.ts` keeps its pure codec (`encodeSafetensors` / `decodeSafetensors`) usable in a browser, while its
 * file functions (`loadSafetensors`, …) throw {@link NodeOnlyError} there, naming the function and the pure
 * alternative. Rule for new code in src/io and src/data: import Node built-ins from this module, never from `node:*`
 * (test/package/entries.test.ts checks the built main entry's module graph).
 *
 * Each wrapper has the exact signature of the Node function it forwards to.
 * @module
 */

import { NodeOnlyError } from './nodeOnlyError.js';

export { NodeOnlyError };

interface NodeProcessLike {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

const cache = new Map<string, unknown>();

/** The Node built-in `id` (e.g. `'node:fs'`), or a {@link NodeOnlyError} naming what needed it. */
function builtin<T>(id: string, what: string): T {
  const hit = cache.get(id);
  if (hit !== undefined) return hit as T;
  const proc = (globalThis as { process?: NodeProcessLike }).process;
  if (!proc?.versions?.node) {
    throw new NodeOnlyError(`${what} needs Node.js (${id}); it is not available in a browser — read files there with fetch/File and use the pure decoders (decodeSafetensors, parseCsv, decodeNpy, parseIdx, decodeCheckpoint, …)`);
  }
  if (typeof proc.getBuiltinModule !== 'function') {
    throw new NodeOnlyError(`${what} needs process.getBuiltinModule (Node ≥ 20.16); this is Node ${proc.versions.node}`);
  }
  const mod = proc.getBuiltinModule(id);
  cache.set(id, mod);
  return mod as T;
}

type Fs = typeof import('node:fs');
type Fsp = typeof import('node:fs/promises');
type Path = typeof import('node:path');
type Zlib = typeof import('node:zlib');
type Mod = typeof import('node:module');

const fs = (f: string): Fs => builtin<Fs>('node:fs', f);
const fsp = (f: string): Fsp => builtin<Fsp>('node:fs/promises', f);
const path = (f: string): Path => builtin<Path>('node:path', f);

/** `fs.existsSync`. */
export const existsSync: Fs['existsSync'] = (p) => fs('existsSync').existsSync(p);
/** `fs.readFileSync`. */
export const readFileSync = ((...a: Parameters<Fs['readFileSync']>) => fs('readFileSync').readFileSync(...a)) as Fs['readFileSync'];
/** `fs.openSync`. */
export const openSync = ((...a: Parameters<Fs['openSync']>) => fs('openSync').openSync(...a)) as Fs['openSync'];
/** `fs.closeSync`. */
export const closeSync: Fs['closeSync'] = (fd) => fs('closeSync').closeSync(fd);
/** `fs.fsyncSync`. */
export const fsyncSync: Fs['fsyncSync'] = (fd) => fs('fsyncSync').fsyncSync(fd);
/** `fs.renameSync`. */
export const renameSync: Fs['renameSync'] = (a, b) => fs('renameSync').renameSync(a, b);
/** `fs.unlinkSync`. */
export const unlinkSync: Fs['unlinkSync'] = (p) => fs('unlinkSync').unlinkSync(p);
/** `fs.writeSync`. */
export const writeSync = ((...a: unknown[]) => (fs('writeSync').writeSync as (...x: unknown[]) => number)(...a)) as Fs['writeSync'];
/** `fs/promises.readFile`. */
export const readFile = ((...a: Parameters<Fsp['readFile']>) => fsp('readFile').readFile(...a)) as Fsp['readFile'];
/** `fs/promises.open`. */
export const open: Fsp['open'] = (...a) => fsp('open').open(...a);
/** `fs/promises.rename`. */
export const rename: Fsp['rename'] = (a, b) => fsp('rename').rename(a, b);
/** `fs/promises.unlink`. */
export const unlink: Fsp['unlink'] = (p) => fsp('unlink').unlink(p);
/** `path.basename`. */
export const basename: Path['basename'] = (p, s) => path('basename').basename(p, s);
/** `path.dirname`. */
export const dirname: Path['dirname'] = (p) => path('dirname').dirname(p);
/** `path.join`. */
export const join: Path['join'] = (...p) => path('join').join(...p);
/** `zlib.gunzipSync`. */
export const gunzipSync = ((...a: Parameters<Zlib['gunzipSync']>) => builtin<Zlib>('node:zlib', 'gunzipSync').gunzipSync(...a)) as Zlib['gunzipSync'];
/** `module.createRequire`. */
export const createRequire: Mod['createRequire'] = (u) => builtin<Mod>('node:module', 'createRequire').createRequire(u);
/** `fs.statSync`. */
export const statSync = ((...a: Parameters<Fs['statSync']>) => fs('statSync').statSync(...a)) as Fs['statSync'];
/** `fs.lstatSync`. */
export const lstatSync = ((...a: Parameters<Fs['lstatSync']>) => fs('lstatSync').lstatSync(...a)) as Fs['lstatSync'];
/** `fs.fstatSync`. */
export const fstatSync = ((...a: Parameters<Fs['fstatSync']>) => fs('fstatSync').fstatSync(...a)) as Fs['fstatSync'];
/** `fs.readSync`. */
export const readSync = ((...a: unknown[]) => (fs('readSync').readSync as (...x: unknown[]) => number)(...a)) as Fs['readSync'];
/** `fs.readdirSync`. */
export const readdirSync = ((...a: Parameters<Fs['readdirSync']>) => fs('readdirSync').readdirSync(...a)) as Fs['readdirSync'];
/** `fs.realpathSync`. */
export const realpathSync = ((p: string) => fs('realpathSync').realpathSync(p)) as (p: string) => string;
/** `fs.constants`. */
export const fsConstants = (): Fs['constants'] => fs('constants').constants;
/** `zlib.inflateSync`. */
export const inflateSync = ((...a: Parameters<Zlib['inflateSync']>) => builtin<Zlib>('node:zlib', 'inflateSync').inflateSync(...a)) as Zlib['inflateSync'];
