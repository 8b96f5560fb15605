/**
 * The package's entry points (issue 15), checked on the built `dist/` (run `npm run build` first):
 * - every `exports` subpath resolves, has types, and its static import graph has no Node built-in and no
 *   third-party import (so every entry bundles for browsers; Node-only functions reach `node:*` lazily through
 *   src/io/nodeBuiltins.ts);
 * - every module name of the README's "What is in the box" table is importable as written;
 * - `require('ebm-ts')` works (Node ≥ 20.19 loads the ESM entry) or fails with Node's own ERR_REQUIRE_ESM;
 * - `sideEffects` lists only the modules with import-time effects.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error plain ESM helper without types
import { importGraph } from './graph.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>; sideEffects: string[]; engines: { node: string };
};
/** Imports a specifier of this package by name (a variable, so that type-checking does not need dist/). */
const load = (spec: string): Promise<Record<string, unknown>> => import(spec) as Promise<Record<string, unknown>>;
const built = existsSync(join(ROOT, 'dist/index.js'));
if (!built) console.warn('test/package/entries.test.ts: dist/ is not built — run `npm run build`');

describe.skipIf(!built)('package entry points', () => {
  const entries = Object.entries(pkg.exports).filter(([k]) => k !== './package.json') as [string, { types: string; default: string }][];

  it('every subpath has its JS and .d.ts, and imports nothing outside the package', () => {
    for (const [sub, e] of entries) {
      expect(existsSync(join(ROOT, e.default)), `${sub} → ${e.default}`).toBe(true);
      expect(existsSync(join(ROOT, e.types)), `${sub} → ${e.types}`).toBe(true);
      const g = importGraph(join(ROOT, e.default)) as { external: Map<string, Set<string>> };
      const ext = [...g.external].map(([spec, by]) => `${spec} (imported by ${[...by].map((f) => f.slice(ROOT.length + 1)).join(', ')})`);
      expect(ext, `${sub}: static imports outside the package`).toEqual([]);
    }
  });

  it('the self-referenced package loads every subpath under Node', async () => {
    for (const [sub] of entries) {
      const mod = await load(sub === '.' ? 'ebm-ts' : `ebm-ts/${sub.slice(2)}`);
      expect(Object.keys(mod).length, sub).toBeGreaterThan(0);
    }
  });

  it("every name in the README's modules column is importable", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## What is in the box'), readme.indexOf('Conventions:'));
    const names = [...table.matchAll(/`ebm-ts\/(\w+)`/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(15);
    for (const n of names) expect(pkg.exports[`./${n}`], `README names ebm-ts/${n}`).toBeDefined();
    const main = await load('ebm-ts');
    for (const m of table.matchAll(/`import \{ (\w+) \} from 'ebm-ts'`/g)) expect(main[m[1]], m[1]).toBeDefined();
  });

  it('require("ebm-ts") gives the library (Node ≥ 20.19) or Node\'s ERR_REQUIRE_ESM', () => {
    const req = createRequire(pathToFileURL(join(ROOT, 'package.json')).href);
    try {
      const lib = req('ebm-ts') as Record<string, unknown>;
      expect(typeof lib.key).toBe('function');
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ERR_REQUIRE_ESM');
    }
  });

  it('sideEffects names existing modules that do have import-time effects', () => {
    expect(pkg.sideEffects.length).toBeGreaterThan(0);
    for (const f of pkg.sideEffects) {
      expect(existsSync(join(ROOT, f)), f).toBe(true);
    }
    expect(readFileSync(join(ROOT, 'dist/index.js'), 'utf8')).toMatch(/^initBackend\(\);/m);
    expect(readFileSync(join(ROOT, 'dist/tensor/ops/elementwise.js'), 'utf8')).toMatch(/^registerAccumulate\(/m);
  });
});
