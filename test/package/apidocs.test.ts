/**
 * The API reference (`npm run docs:api`, TypeDoc over every package entry point, typedoc.json) builds without
 * warnings: `treatWarningsAsErrors` with `validation.notDocumented` fails on any exported function, class, interface,
 * type alias, variable, enum or namespace without TSDoc. Runs with `--emit none` (validation, no HTML).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('API reference', () => {
  it('typedoc validates every entry point with no undocumented export', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none'], { cwd: ROOT, encoding: 'utf8' });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).not.toMatch(/warning|error\]/i);
    expect(r.status, out).toBe(0);
  }, 180_000);
});
