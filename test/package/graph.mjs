// Walks the static ESM import graph of a built entry (dist/…/*.js) and lists every specifier that is not a relative
// file: Node built-ins and bare package names. Used by test/package/entries.test.ts.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const IMPORT = /(?:^|[\n;])\s*(?:import|export)\s*(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g;

/** Returns { files, external: Map<specifier, Set<importer>> } for the graph rooted at `entry`. */
export function importGraph(entry) {
  const seen = new Set();
  const external = new Map();
  const stack = [resolve(entry)];
  while (stack.length) {
    const f = stack.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1];
      if (spec.startsWith('.')) stack.push(resolve(dirname(f), spec));
      else {
        if (!external.has(spec)) external.set(spec, new Set());
        external.get(spec).add(f);
      }
    }
  }
  return { files: seen, external };
}
