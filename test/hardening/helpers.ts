/**
 * Helpers for the hardening suite: run the built CLI (dist/cli/main.js) as a child process under a hard memory
 * ceiling (`ulimit -v`, so a regression fails instead of eating the machine), measure its peak RSS with
 * /usr/bin/time when present, and build adversarial files.
 */
import { expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
/** The built CLI. */
export const CLI = join(ROOT, 'dist/cli/main.js');
/** Virtual-memory ceiling of every child (KiB): far above a refusal's needs, far below what the bugs reached. */
export const VMEM_CEILING_KB = 4_000_000;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Result of one child run: exit code, signal, output, wall seconds and peak RSS in MiB (when measurable). */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  rssMiB?: number;
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'ebm-hard-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Files of a directory, sorted (dotfiles included). */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * Runs `ebm ...args` as a child (cwd `cwd`) under the memory ceiling with a timeout; `env` is added to the
 * environment.
 */
export function runCli(cwd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): ChildResult {
  const rssFile = join(cwd, `.rss-${process.pid}-${Math.floor(performance.now() * 1000)}`);
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const timed = TIME ? `${TIME} -f %M -o '${rssFile}' ${quoted}` : quoted;
  const t0 = performance.now();
  const r = spawnSync('/bin/sh', ['-c', `ulimit -v ${VMEM_CEILING_KB}; exec ${timed}`], {
    cwd, encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20,
    env: { ...process.env, EBM_DEBUG: '', ...(opts.env ?? {}) },
  });
  const seconds = (performance.now() - t0) / 1000;
  let rssMiB: number | undefined;
  if (TIME && existsSync(rssFile)) {
    const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
    const kb = Number(lines[lines.length - 1]);
    if (Number.isFinite(kb)) rssMiB = kb / 1024;
    spawnSync('rm', ['-f', rssFile]);
  }
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', seconds, ...(rssMiB !== undefined ? { rssMiB } : {}) };
}

/**
 * Asserts a refusal: exit 2, exactly one `error:` line on stderr matching `needle`, nothing on stdout, within
 * `maxSeconds`, and a peak RSS under 1 GiB.
 */
export function expectRefusal(r: ChildResult, needle: string | RegExp, maxSeconds = 10): void {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect({ code: r.code, lines }).toMatchObject({ code: 2 });
  expect(lines, r.stderr.slice(0, 2000)).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  if (typeof needle === 'string') expect(lines[0]).toContain(needle);
  else expect(lines[0]).toMatch(needle);
  expect(lines[0].length).toBeLessThanOrEqual(1200);
  expect(r.stdout).toBe('');
  expect(r.seconds).toBeLessThan(maxSeconds);
  if (r.rssMiB !== undefined) expect(r.rssMiB).toBeLessThan(1024);
}

/** Trains a small 2-D mlp-energy model into `dir/name` (about a second). */
export function trainSmallModel(dir: string, name = 'm.safetensors'): string {
  const r = runCli(dir, ['train', 'mlp-energy', '--data', 'toy:moons', '--n', '500', '--steps', '10', '--hidden', '16,16', '--out', name, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  return join(dir, name);
}

/** A small numeric CSV (`rows × 2`, header x1,x2). */
export function writeCsv(path: string, rows = 50): string {
  let s = 'x1,x2\n';
  for (let i = 0; i < rows; i++) s += `${(i % 7) / 3 - 1},${(i % 5) / 2 - 1}\n`;
  writeFileSync(path, s);
  return path;
}

/** A deterministic generator for test cases (mulberry32): `next()` in [0, 1). */
export function rng(seed: number): { next(): number; int(lo: number, hi: number): number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** Encodes a safetensors file from a header object and a data section (no validation: for crafting bad files). */
export function rawSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0)): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, Buffer.from(data)]);
}

/** Reads a safetensors file into its header object and data section. */
export function readRawSafetensors(path: string): { header: Record<string, any>; data: Buffer } {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  return { header: JSON.parse(b.subarray(8, 8 + n).toString('utf8')), data: b.subarray(8 + n) };
}

/**
 * Spawns `ebm ...args` in the background (for signal and lock tests); resolves with its exit code, signal and
 * stderr when it ends.
 */
export function spawnCli(cwd: string, args: string[]): { pid: number; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>; kill(sig: NodeJS.Signals): void } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EBM_DEBUG: '' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', () => undefined);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((res) => {
    child.on('close', (code, signal) => res({ code, signal, stderr }));
  });
  return { pid: child.pid!, done, kill: (sig) => void child.kill(sig) };
}

/** Waits until `pred()` holds (polling every 20 ms) or `ms` pass; returns whether it held. */
export async function waitFor(pred: () => boolean, ms = 20_000): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pred();
}

/** A pid that is certainly not running: that of a child that has exited. */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}
