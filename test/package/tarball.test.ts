/**
 * What `npm pack` ships (issue 15), from `npm pack --dry-run --json` on the built tree: the licence, the README, the
 * built library with its types, the native sources and their build script — and nothing dead or private (no source
 * maps pointing at unshipped sources, no setup scripts, tests, benches or the playground).
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const built = existsSync(join(ROOT, 'dist/index.js'));

describe.skipIf(!built)('npm pack contents', () => {
  const [report] = built
    ? JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })) as { files: { path: string; size: number }[]; unpackedSize: number }[]
    : [{ files: [], unpackedSize: 0 }];
  const files = report.files.map((f) => f.path);

  it('ships the licence, README, entries with types, native sources and their build script', () => {
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts',
      'dist/cli/main.js', 'binding.gyp', 'native/ebm_native.c', 'native/gemm.c', 'scripts/build-native.mjs', 'docs/cli.md', 'docs/recipes/README.md', 'docs/recipes/hmc-energy.ts']) {
      expect(files, f).toContain(f);
    }
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the ebm-ts authors\n/);
  });

  it('ships nothing dead or private', () => {
    const bad = files.filter((f) => /\.map$/.test(f) || /^(src|test|bench|web|examples|build)\//.test(f) || f === 'scripts/setup.sh' || f === 'scripts/postbuild.mjs'
      || /^docs\/.*\.png$/.test(f) || (/^docs\/.*\.ts$/.test(f) && !f.startsWith('docs/recipes/')));
    expect(bad).toEqual([]);
    const js = readFileSync(join(ROOT, 'dist/index.js'), 'utf8');
    expect(js).not.toMatch(/sourceMappingURL/);
    expect(report.unpackedSize).toBeLessThan(3_000_000);
  });
});
