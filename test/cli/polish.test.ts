/**
 * CLI conventions (issue 15): `--quiet` on every command, a suggestion for a mistyped required option, one JSON error
 * object on stdout under `--json`, plain progress lines on a non-terminal stderr, aligned tables, runnable hints.
 */
import { describe, it, expect, afterEach } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { progressBar } from '../../src/cli/progress.js';
import { alignColumns, cliInvocation } from '../../src/cli/common.js';
import { ebm } from './helpers.js';

function leaves(c: Command, path: string[] = []): [string, Command][] {
  if (c.commands.length === 0) return [[path.join(' '), c]];
  return c.commands.flatMap((s) => leaves(s, [...path, s.name()]));
}

describe('CLI conventions', () => {
  const saved = process.env.EBM_PROGRESS_SECONDS;
  afterEach(() => { process.env.EBM_PROGRESS_SECONDS = saved; });

  it('every command accepts --quiet', async () => {
    const program = buildProgram({ io: { stdout() {}, stderr() {}, stderrIsTTY: false }, exitCode: 0 });
    const all = leaves(program);
    expect(all.length).toBeGreaterThan(10);
    for (const [name, c] of all) expect(c.options.some((o) => o.long === '--quiet'), name).toBe(true);
    const r = await ebm('data-info', '--data', 'toy:moons', '--quiet', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBeTypeOf('object');
  });

  it('a mistyped required option gets a suggestion', async () => {
    const r = await ebm('train', 'rbm', '--data', 'toy:bars', '--hiden', '8', '--out', 'x.safetensors');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: required option '--hidden <h>' not specified \(unknown option '--hiden': did you mean --hidden\?\)\n$/);
  });

  it('--json: an error is one JSON object on stdout as well as the error line on stderr', async () => {
    for (const [args, code] of [[['data-info', '--data', 'nope:x', '--json'], 'DATA'], [['train', 'rbm', '--data', 'toy:bars', '--out', 'x.st', '--json'], 'USAGE']] as const) {
      const r = await ebm(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const o = JSON.parse(lines[0]) as { error: { message: string; name: string; code: string; exitCode: number } };
      expect(o.error.exitCode).toBe(2);
      expect(o.error.code).toBe(code);
      expect(r.stderr).toContain(o.error.message);
    }
    const plain = await ebm('data-info', '--data', 'nope:x');
    expect(plain.stdout).toBe('');
  });

  it('progress: plain lines every few seconds on a non-terminal stderr, a bar on a terminal, nothing when quiet', async () => {
    let err = '';
    const io = { stdout() {}, stderr: (s: string) => void (err += s), stderrIsTTY: false };
    process.env.EBM_PROGRESS_SECONDS = '0.02';
    const p = progressBar(io, 'train', 100);
    for (let i = 1; i <= 100; i++) {
      await new Promise((ok) => setTimeout(ok, 1));
      p.update(i, `loss ${i}`);
    }
    p.done();
    const lines = err.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l).toMatch(/^train \d+\/100 \(\d+%\)( ETA \d+s)? loss \d+$/);
    expect(err).not.toMatch(/[\r\x1b]/);
    err = '';
    const q = progressBar(io, 'train', 100, true);
    q.update(50);
    expect(err).toBe('');
    process.env.EBM_PROGRESS_SECONDS = '0';
    const off = progressBar(io, 'train', 100);
    await new Promise((ok) => setTimeout(ok, 5));
    off.update(50);
    expect(err).toBe('');
  });

  it('aligned tables and a hint that runs as the user invoked the CLI', () => {
    expect(alignColumns([['a', 'x'], ['long-name', 'y'], ['b', 'z']], '  ')).toBe('  a          x\n  long-name  y\n  b          z');
    expect(cliInvocation('/home/u/app/node_modules/.bin/ebm')).toBe('npx ebm');
    expect(cliInvocation('/usr/local/bin/ebm')).toBe('ebm');
    expect(cliInvocation('/src/ebm-ts/dist/cli/main.js', '/src/ebm-ts')).toBe('node dist/cli/main.js');
    expect(cliInvocation('/src/ebm-ts/src/cli/main.ts', '/src/ebm-ts')).toBe('npx tsx src/cli/main.ts');
    expect(cliInvocation('/x/vitest.mjs')).toBe('npx ebm');
  });
});
