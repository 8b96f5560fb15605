/**
 * Hardening, more adversarial cases: a symlink loop as input, an input that is an output's lock file, a user's file
 * that happens to carry a lock's name, an unwritable --log directory, models whose config claims absurd sizes,
 * `ebm demo --out-dir` under the output rules, checkpoints holding NaN, and a reader that closes the pipe.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CLI, expectRefusal, filesIn, rawSafetensors, readRawSafetensors, runCli, tempDir, trainSmallModel, writeCsv } from './helpers.js';

describe('inputs and locks', () => {
  it('a symlink loop as --data: exit 2, one line', () => {
    const d = tempDir();
    symlinkSync('loop.csv', join(d, 'loop.csv'));
    expectRefusal(runCli(d, ['train', 'mlp-energy', '--data', 'loop.csv', '--steps', '2', '--out', 'm.safetensors']), /loop\.csv/);
  });
  it('an input that is the lock file of an output is refused and kept', () => {
    const d = tempDir();
    writeCsv(join(d, 'm.safetensors.lock'));
    const before = readFileSync(join(d, 'm.safetensors.lock'));
    expectRefusal(runCli(d, ['train', 'mlp-energy', '--data', 'csv:m.safetensors.lock', '--steps', '2', '--out', 'm.safetensors']), 'lock file of --out');
    expect(readFileSync(join(d, 'm.safetensors.lock'))).toEqual(before);
  });
  it('a user file with a lock\'s name (old, no pid) is never deleted as a stale lock', () => {
    const d = tempDir();
    writeCsv(join(d, 'd.csv'));
    writeCsv(join(d, 'm.safetensors.lock'));
    const old = new Date(Date.now() - 3600_000);
    utimesSync(join(d, 'm.safetensors.lock'), old, old);
    const before = readFileSync(join(d, 'm.safetensors.lock'));
    expectRefusal(runCli(d, ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '2', '--out', 'm.safetensors']), 'not an ebm lock file');
    expect(readFileSync(join(d, 'm.safetensors.lock'))).toEqual(before);
    expect(filesIn(d)).toEqual(['d.csv', 'm.safetensors.lock']);
  });
  it.skipIf(process.getuid?.() === 0)('--log in a read-only directory is refused before any training', () => {
    const d = tempDir();
    writeCsv(join(d, 'd.csv'));
    mkdirSync(join(d, 'ro'));
    chmodSync(join(d, 'ro'), 0o555);
    try {
      expectRefusal(runCli(d, ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '100000', '--out', 'm.safetensors', '--log', 'ro/l.jsonl']), /--log ro\/l\.jsonl: .*not writable/);
    } finally {
      chmodSync(join(d, 'ro'), 0o755);
    }
  });
});

describe('models whose config claims absurd sizes', () => {
  const d = tempDir();
  const model = trainSmallModel(d);
  const { header, data } = readRawSafetensors(model);
  const variants: { name: string; edit: (c: Record<string, unknown>) => void; needle: RegExp }[] = [
    { name: 'a hidden width of 1e9', edit: (c) => { c.hidden = [1e9, 16]; }, needle: /l0\.w/ },
    { name: 'a dimension of 1e9', edit: (c) => { c.dim = 1e9; }, needle: /config field/ },
    { name: 'a negative width', edit: (c) => { c.hidden = [-5, 16]; }, needle: /config field "hidden"/ },
    { name: '100 000 layers', edit: (c) => { c.hidden = new Array(100_000).fill(16); }, needle: /tensor "l\d+\.w"|config field/ },
  ];
  for (const v of variants) {
    it(`${v.name}: exit 2 naming the file, fast, small`, () => {
      const cfg = JSON.parse(header.__metadata__.config) as Record<string, unknown>;
      v.edit(cfg);
      const h = { ...header, __metadata__: { ...header.__metadata__, config: JSON.stringify(cfg) } };
      const f = join(d, 'bad.safetensors');
      writeFileSync(f, rawSafetensors(h, data));
      const r = runCli(d, ['sample', 'bad.safetensors', '--n', '5', '--out', 's.csv']);
      expectRefusal(r, v.needle);
      expect(r.stderr).toContain('bad.safetensors');
    });
  }
});

describe('ebm demo --out-dir follows the output rules', () => {
  it('a live lock on one of its files names the holder; nothing is written', () => {
    const d = tempDir();
    mkdirSync(join(d, 'out'));
    writeFileSync(join(d, 'out', 'model.safetensors.lock'), `${process.pid}\n${hostname()}\n`);
    expectRefusal(runCli(d, ['demo', '--quick', '--out-dir', 'out']), new RegExp(`--out-dir out/model.safetensors: another ebm run \\(pid ${process.pid}\\)`));
    expect(filesIn(join(d, 'out'))).toEqual(['model.safetensors.lock']);
  });
  it('a FIFO in place of one of its files is refused and left alone', () => {
    const d = tempDir();
    mkdirSync(join(d, 'out'));
    execFileSync('mkfifo', [join(d, 'out', 'samples.csv')]);
    expectRefusal(runCli(d, ['demo', '--quick', '--out-dir', 'out']), /--out-dir out\/samples\.csv: .*FIFO/);
    expect(filesIn(join(d, 'out'))).toEqual(['samples.csv']);
  });
  it('a regular file as --out-dir is refused', () => {
    const d = tempDir();
    writeFileSync(join(d, 'f'), 'keep');
    expectRefusal(runCli(d, ['demo', '--quick', '--out-dir', 'f']), '--out-dir f');
    expect(readFileSync(join(d, 'f'), 'utf8')).toBe('keep');
  });
});

describe('checkpoints with non-finite tensors', () => {
  it('--resume refuses a checkpoint holding NaN, naming the file and the tensor', () => {
    const d = tempDir();
    writeCsv(join(d, 'd.csv'));
    const args = ['train', 'mlp-energy', '--data', 'd.csv', '--hidden', '8', '--out', 'm.safetensors', '--checkpoint-every', '2', '--quiet'];
    const r0 = runCli(d, [...args, '--steps', '4']);
    expect(r0.code, r0.stderr).toBe(0);
    const ck = join(d, 'm.ckpt.safetensors');
    const { header, data } = readRawSafetensors(ck);
    const name = Object.keys(header).find((k) => k !== '__metadata__' && header[k].dtype === 'F32')!;
    const [start] = header[name].data_offsets as [number, number];
    const bad = Buffer.from(data);
    bad.writeFloatLE(NaN, start);
    writeFileSync(ck, rawSafetensors(header, bad));
    const r = runCli(d, [...args, '--steps', '8', '--resume']);
    expectRefusal(r, /m\.ckpt\.safetensors.*non-finite|non-finite.*m\.ckpt\.safetensors/);
    expect(r.stderr).toContain(`"${name}"`);
  });
});

describe('a reader that closes the pipe', () => {
  it('`ebm … | head -1` ends without an EPIPE crash', () => {
    const r = spawnSync('/bin/sh', ['-c', `'${process.execPath}' '${CLI}' train ebm --help | head -1`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toMatch(/^Usage: ebm train ebm/);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
  });
});
