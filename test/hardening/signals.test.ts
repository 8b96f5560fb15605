/**
 * Hardening, interrupts: SIGINT/SIGTERM during training finish the step, write a final checkpoint (when checkpointing
 * is on) and say where, print one line and exit 130/143; no temp or lock file is left, and the run resumes from the
 * checkpoint. Temp files of earlier killed runs are removed by the next run on the same output.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deadPid, filesIn, readRawSafetensors, rng, runCli, spawnCli, tempDir, trainSmallModel, waitFor, writeCsv } from './helpers.js';

const trainers: { name: string; args: string[] }[] = [
  { name: 'mlp-energy', args: ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '100000'] },
  { name: 'rbm', args: ['train', 'rbm', '--data', 'toy:bars-and-stripes:4', '--n', '200', '--hidden', '8', '--epochs', '100000'] },
  // contrastive divergence and JEM run in the library's trainer (trainDeepEbmAsync), not in the CLI's loop
  { name: 'ebm (CD)', args: ['train', 'ebm', '--data', 'd.csv', '--arch', 'mlp:2-16-16-1', '--steps', '100000'] },
  { name: 'jem', args: ['train', 'jem', '--data', 'digits', '--hidden', '16', '--batch', '16', '--buffer', '200', '--steps', '100000'] },
];

describe('SIGINT / SIGTERM during training', () => {
  const cases = [
    { t: trainers[0], sig: 'SIGINT' as const, code: 130, ckpt: true },
    { t: trainers[0], sig: 'SIGTERM' as const, code: 143, ckpt: true },
    { t: trainers[0], sig: 'SIGTERM' as const, code: 143, ckpt: false },
    { t: trainers[1], sig: 'SIGINT' as const, code: 130, ckpt: true },
    { t: trainers[2], sig: 'SIGINT' as const, code: 130, ckpt: true },
    { t: trainers[2], sig: 'SIGTERM' as const, code: 143, ckpt: false },
    { t: trainers[3], sig: 'SIGTERM' as const, code: 143, ckpt: true },
  ];
  for (const c of cases) {
    it(`${c.t.name}: ${c.sig} after the first log line → exit ${c.code}, one line${c.ckpt ? ', final checkpoint' : ''}, no temp files`, async () => {
      const d = tempDir();
      writeCsv(join(d, 'd.csv'), 300);
      const args = [...c.t.args, '--out', 'm.safetensors', '--log', 'l.jsonl', ...(c.ckpt ? ['--checkpoint-every', '1000000'] : [])];
      const run = spawnCli(d, args);
      const logged = await waitFor(() => existsSync(join(d, 'l.jsonl')) && statSync(join(d, 'l.jsonl')).size > 0, 60_000);
      expect(logged).toBe(true);
      run.kill(c.sig);
      const r = await run.done;
      expect(r.code, r.stderr).toBe(c.code);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^error: interrupted by ${c.sig} after step (\\d+) of \\d+`));
      const files = filesIn(d);
      expect(files.filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
      expect(files).not.toContain('m.safetensors');
      if (c.ckpt) {
        expect(lines[0]).toContain('checkpoint of step');
        expect(lines[0]).toContain('m.ckpt.safetensors');
        expect(files).toContain('m.ckpt.safetensors');
        const step = Number(/after step (\d+)/.exec(lines[0])![1]);
        const { header } = readRawSafetensors(join(d, 'm.ckpt.safetensors'));
        expect(Number(header.__metadata__.step)).toBe(step);
      } else {
        expect(lines[0]).toContain('no checkpoint written');
      }
    });
  }
  it('an interrupted run resumes from its final checkpoint to the end', async () => {
    const d = tempDir();
    writeCsv(join(d, 'd.csv'), 300);
    const args = ['train', 'mlp-energy', '--data', 'd.csv', '--hidden', '8', '--out', 'm.safetensors', '--log', 'l.jsonl', '--checkpoint-every', '1000000'];
    const run = spawnCli(d, [...args, '--steps', '100000']);
    expect(await waitFor(() => existsSync(join(d, 'l.jsonl')) && statSync(join(d, 'l.jsonl')).size > 0, 60_000)).toBe(true);
    run.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    const step = Number(/after step (\d+)/.exec(r.stderr)![1]);
    const resumed = runCli(d, [...args, '--steps', String(step + 5), '--resume', '--quiet'], { timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(existsSync(join(d, 'm.safetensors'))).toBe(true);
  });
});

describe('SIGINT / SIGTERM outside training loops', () => {
  it('rbm-cf training stops after the mini-batch in progress: exit 130, one line, nothing written', async () => {
    const d = tempDir();
    let tsv = '';
    const r = rng(7);
    for (let u = 1; u <= 300; u++) for (let i = 1; i <= 80; i++) if (r.next() < 0.3) tsv += `${u}\t${i}\t${r.int(1, 5)}\t0\n`;
    writeFileSync(join(d, 'r.tsv'), tsv);
    const run = spawnCli(d, ['train', 'rbm-cf', '--ratings', 'r.tsv', '--out', 'cf.safetensors', '--epochs', '100000', '--hidden', '8']);
    // no progress line off a TTY: the lock shows that the run (and its handlers) started; training follows
    expect(await waitFor(() => existsSync(join(d, 'cf.safetensors.lock')), 60_000)).toBe(true);
    await new Promise((res) => setTimeout(res, 1500));
    run.kill('SIGINT');
    const res = await run.done;
    expect(res.code, res.stderr).toBe(130);
    const lines = res.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: interrupted by SIGINT in epoch \d+ of 100000; nothing written/);
    expect(filesIn(d)).toEqual(['r.tsv']);
  });
  it('sample: SIGTERM during the computation → exit 143, one line, no output, no lock or temp file', async () => {
    const d = tempDir();
    trainSmallModel(d);
    const run = spawnCli(d, ['sample', 'm.safetensors', '--n', '1000', '--steps', '1500', '--out', 's.csv']);
    expect(await waitFor(() => existsSync(join(d, 's.csv.lock')), 60_000)).toBe(true);
    run.kill('SIGTERM');
    const res = await run.done;
    expect(res.code, res.stderr).toBe(143);
    const lines = res.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toEqual(['error: interrupted by SIGTERM (stopped; no output left half-written)']);
    expect(filesIn(d)).toEqual(['m.safetensors']);
  });
});

describe('leftover temp files', () => {
  it('temp files of dead runs on the same output are removed; other files are kept', () => {
    const d = tempDir();
    writeCsv(join(d, 'd.csv'));
    const dead = deadPid();
    const stale = [`.m.safetensors.${dead}.3.lx1k2.tmp`, `.l.jsonl.${dead}.1.abc.tmp`];
    const keep = ['.m.safetensors.notours.tmp', `.other.safetensors.${dead}.1.abc.tmp`, `.m.safetensors.${process.pid}.1.abc.tmp`, 'm.safetensors.tmp'];
    for (const f of [...stale, ...keep]) writeFileSync(join(d, f), 'x');
    const r = runCli(d, ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '3', '--hidden', '8', '--out', 'm.safetensors', '--log', 'l.jsonl', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const files = filesIn(d);
    for (const f of stale) expect(files).not.toContain(f);
    for (const f of keep) expect(files).toContain(f); // not ours, another target, or a live process's
  });
});
