/**
 * Install honesty (issue 15): every runtime dependency's `engines.node` admits our own minimum Node (so `npm install`
 * on that Node prints no EBADENGINE), and the remedy printed for a missing addon works where the user is.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rebuildCommand } from '../../src/tensor/native.js';
import * as pathMod from 'node:path';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; dependencies: Record<string, string> };

/** The lowest version a range of the forms `>=a.b.c`, `>= a`, `^a.b` … admits (enough for the ranges in use). */
function minimum(range: string): number[] {
  const m = /(?:>=|\^|~)?\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range);
  if (!m) throw new Error(`unparsed engines range ${range}`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}
const cmp = (a: number[], b: number[]): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

describe('install', () => {
  it("every dependency's engines.node admits our minimum Node", () => {
    const ours = minimum(pkg.engines.node);
    for (const dep of Object.keys(pkg.dependencies)) {
      const d = JSON.parse(readFileSync(join(ROOT, 'node_modules', dep, 'package.json'), 'utf8')) as { engines?: { node?: string } };
      const range = d.engines?.node;
      if (!range) continue;
      expect(/\|\||<|\s-\s/.test(range), `${dep}: range "${range}" needs a real semver check`).toBe(false);
      expect(cmp(minimum(range), ours) <= 0, `${dep} wants node ${range}, we promise ${pkg.engines.node}`).toBe(true);
    }
  });

  it('the rebuild remedy is `npm rebuild ebm-ts` in a user project and the npm script in a checkout', () => {
    expect(rebuildCommand(pathMod, ['', 'home', 'u', 'app', 'node_modules', 'ebm-ts'].join(sep))).toBe('npm rebuild ebm-ts');
    expect(rebuildCommand(pathMod, ['', 'src', 'ebm-ts'].join(sep))).toBe('npm run build:native');
    expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['build:native']).toBeDefined();
  });
});
