/** Test helpers for the io tests: temp dirs and an optional Python/NumPy bridge. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'io');

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** A fresh temp directory, with a cleanup function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ebm-io-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs Python code; returns stdout, or throws with stderr. */
export function py(code: string): string {
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** True when `python3 -c "import <module>"` works. */
export function hasPython(module: string): boolean {
  const r = spawnSync('python3', ['-c', `import ${module}`], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0;
}
