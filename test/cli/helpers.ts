/** Helpers for CLI tests: run `ebm` in-process with captured output, temp dirs, child-process runs. */
import { expect } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

/** Result of one CLI run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ebm ...args` in-process and captures stdout/stderr. */
export async function ebm(...args: string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stderrIsTTY: false });
  return { code, stdout, stderr };
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'ebm-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Files in a directory (sorted), to check that nothing was written. */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Repository root. */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** `node` arguments that run the CLI from source through tsx. */
export function cliNodeArgs(...args: string[]): string[] {
  return ['--import', join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), join(ROOT, 'src/cli/main.ts'), ...args];
}

/** Asserts a usage/input error: exit 2, nothing on stdout, exactly one `error: …` line containing `needle`. */
export function expectUsageError(r: { code: number; stdout: string; stderr: string }, needle: string | RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  if (typeof needle === 'string') expect(lines[0]).toContain(needle);
  else expect(lines[0]).toMatch(needle);
}
