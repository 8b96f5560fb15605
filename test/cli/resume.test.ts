/**
 * Kill-and-resume: a training run killed with SIGKILL after its first checkpoint, then resumed, must end with
 * parameters bit-identical to an uninterrupted run with the same seed. Runs the real CLI in child processes.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { decodeCheckpoint } from '../../src/io/checkpoint.js';
import { cliNodeArgs, tempDir } from './helpers.js';

const STEPS = 240;
const EVERY = 30;
function trainArgs(out: string, extra: string[] = []): string[] {
  return ['train', 'mlp-energy', '--data', 'toy:8gaussians', '--n', '800', '--hidden', '16,16', '--batch', '32', '--steps', String(STEPS),
    '--lr', '3e-3', '--seed', '7', '--out', out, '--checkpoint-every', String(EVERY), '--quiet', ...extra];
}

function tensorsBytes(path: string): Record<string, Buffer> {
  const st = decodeSafetensors(readFileSync(path));
  const out: Record<string, Buffer> = {};
  for (const [k, t] of Object.entries(st.tensors)) out[k] = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return out;
}

describe('checkpoint / resume', () => {
  it('SIGKILL mid-run then --resume gives bit-identical parameters to an uninterrupted run', async () => {
    const dir = tempDir();
    // Uninterrupted reference run.
    const ref = join(dir, 'ref.safetensors');
    const r0 = spawnSync(process.execPath, cliNodeArgs(...trainArgs(ref)), { encoding: 'utf8' });
    expect(r0.stderr).toBe('');
    expect(r0.status).toBe(0);

    // Run that gets killed as soon as its first checkpoint exists.
    const out = join(dir, 'killed.safetensors');
    const ckpt = join(dir, 'killed.ckpt.safetensors');
    const child = spawn(process.execPath, cliNodeArgs(...trainArgs(out, ['--log', join(dir, 'killed.jsonl')])), { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_c, sig) => res(sig)));
    await new Promise<void>((res, rej) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        if (existsSync(ckpt)) {
          clearInterval(poll);
          child.kill('SIGKILL');
          res();
        } else if (Date.now() - t0 > 40_000) {
          clearInterval(poll);
          child.kill('SIGKILL');
          rej(new Error('no checkpoint appeared'));
        }
      }, 5);
    });
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false); // killed before finishing
    const ck = decodeCheckpoint(readFileSync(ckpt), ckpt);
    expect(ck.step % EVERY).toBe(0);
    expect(ck.step).toBeLessThan(STEPS);

    // Resume to the end.
    const r1 = spawnSync(process.execPath, cliNodeArgs(...trainArgs(out, ['--log', join(dir, 'killed.jsonl'), '--resume', '--json'])), { encoding: 'utf8' });
    expect(r1.stderr).toBe('');
    expect(r1.status).toBe(0);
    expect(JSON.parse(r1.stdout).resumedFrom).toBeGreaterThanOrEqual(EVERY);

    const a = tensorsBytes(ref);
    const b = tensorsBytes(out);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k].equals(a[k]), `tensor ${k}`).toBe(true);
    // The resumed log has each logged step once, in order, ending at the last step.
    const steps = readFileSync(join(dir, 'killed.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step as number);
    expect(steps).toEqual([...steps].sort((x, y) => x - y));
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps[steps.length - 1]).toBe(STEPS);

    // Resuming with different settings is refused.
    const r2 = spawnSync(process.execPath, cliNodeArgs(...trainArgs(out, ['--resume', '--lr', '1e-3'])), { encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr.trim()).toMatch(/^error: .*cannot resume: setting "lr"/);
  }, 90_000);
});
