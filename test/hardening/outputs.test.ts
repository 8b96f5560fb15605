/**
 * Hardening, output side: special files are never replaced, aliased paths never overwrite an input or another output,
 * an unwritable directory is refused before any work, and one writer holds each output (lock files).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { deadPid, expectRefusal, filesIn, runCli, spawnCli, tempDir, trainSmallModel, waitFor, writeCsv } from './helpers.js';

let dir: string;
let model: string;
let data: string;
let dataBytes: Buffer;

beforeAll(() => {
  dir = tempDir();
  model = trainSmallModel(dir);
  data = writeCsv(join(dir, 'd.csv'));
  dataBytes = readFileSync(data);
  execFileSync('mkfifo', [join(dir, 'fifo.csv')]);
  mkdirSync(join(dir, 'adir.csv'));
  symlinkSync('/dev/null', join(dir, 'null-link.csv'));
  symlinkSync(join(dir, 'nowhere.csv'), join(dir, 'dangling.csv'));
});

describe('special files as outputs', () => {
  // every output flag × every kind of non-regular file: exit 2 naming the flag, the special file untouched
  const targets = [
    { name: 'a character device', path: () => '/dev/null', needle: /character device/ },
    { name: 'a FIFO', path: () => join(dir, 'fifo.csv'), needle: /FIFO/ },
    { name: 'a directory', path: () => join(dir, 'adir.csv'), needle: /directory/ },
    { name: 'a symlink to a device', path: () => join(dir, 'null-link.csv'), needle: /symbolic link to a character device/ },
    { name: 'a dangling symlink', path: () => join(dir, 'dangling.csv'), needle: /dangling symbolic link/ },
  ];
  const commands: { name: string; flag: string; args: (p: string) => string[] }[] = [
    { name: 'sample', flag: '--out', args: (p) => ['sample', model, '--n', '10', '--out', p] },
    { name: 'train mlp-energy', flag: '--log', args: (p) => ['train', 'mlp-energy', '--data', data, '--steps', '2', '--out', join(dir, 'o.safetensors'), '--log', p] },
  ];
  for (const t of targets) {
    for (const c of commands) {
      it(`${c.name} ${c.flag} ${t.name}`, () => {
        const p = t.path();
        const r = runCli(dir, c.args(p));
        expectRefusal(r, t.needle);
        expect(r.stderr).toContain(c.flag);
        expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
        expect(lstatSync(join(dir, 'fifo.csv')).isFIFO()).toBe(true);
        expect(lstatSync(join(dir, 'adir.csv')).isDirectory()).toBe(true);
        expect(lstatSync(join(dir, 'dangling.csv')).isSymbolicLink()).toBe(true);
      });
    }
  }
  it('--checkpoint and --plot are guarded too', () => {
    expectRefusal(runCli(dir, ['train', 'mlp-energy', '--data', data, '--steps', '2', '--out', join(dir, 'o.safetensors'), '--checkpoint', '/dev/null', '--checkpoint-every', '1']), '--checkpoint /dev/null');
    expectRefusal(runCli(dir, ['sample', model, '--n', '10', '--out', join(dir, 's.csv'), '--plot', join(dir, 'adir.csv')]), '--plot');
  });
  it('a symlink to a regular file is followed: the target is replaced, the link kept', () => {
    const target = join(dir, 'target.csv');
    writeFileSync(target, 'old\n');
    symlinkSync(target, join(dir, 'link-out.csv'));
    const r = runCli(dir, ['sample', model, '--n', '5', '--out', 'link-out.csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(dir, 'link-out.csv')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link-out.csv'))).toBe(target);
    expect(readFileSync(target, 'utf8')).toMatch(/^x1,x2\n/);
  });
});

describe('aliased paths', () => {
  beforeAll(() => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    linkSync(data, join(dir, 'hard-link.csv'));
    symlinkSync(data, join(dir, 'soft-link.csv'));
  });
  // the same file spelt in several ways, each used as an output next to the input d.csv
  const spellings = ['d.csv', './d.csv', 'sub/../d.csv', 'hard-link.csv', 'soft-link.csv'];
  for (const s of spellings) {
    it(`score --data d.csv --out ${s} is refused and d.csv kept`, () => {
      expectRefusal(runCli(dir, ['score', model, '--data', 'd.csv', '--out', s]), /same file as the input --data/);
      expect(readFileSync(data).equals(dataBytes)).toBe(true);
    });
    if (s === './d.csv' || s === 'hard-link.csv') continue; // the train variant: a few spellings suffice
    it(`train --data d.csv --log ${s} is refused and d.csv kept`, () => {
      expectRefusal(runCli(dir, ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '2', '--out', 'x.safetensors', '--log', s]), /--log .*same file as the input --data/);
      expect(readFileSync(data).equals(dataBytes)).toBe(true);
    });
  }
  it('a data spec with a format prefix (csv:d.csv) still names the input file', () => {
    expectRefusal(runCli(dir, ['score', model, '--data', 'csv:d.csv', '--out', 'd.csv']), /same file as the input --data d.csv/);
    expect(readFileSync(data).equals(dataBytes)).toBe(true);
  });
  it('two outputs on one file are refused (--out / --checkpoint, --out / --log, default checkpoint)', () => {
    expectRefusal(runCli(dir, ['train', 'mlp-energy', '--data', data, '--steps', '2', '--out', 'y.safetensors', '--checkpoint', 'y.safetensors', '--checkpoint-every', '1']), /--checkpoint y.safetensors: same file as --out/);
    expectRefusal(runCli(dir, ['train', 'mlp-energy', '--data', data, '--steps', '2', '--out', 'y.safetensors', '--log', './y.safetensors']), /same file as --out/);
    expectRefusal(runCli(dir, ['train', 'mlp-energy', '--data', data, '--steps', '2', '--out', 'z.safetensors', '--checkpoint-every', '1', '--log', 'z.ckpt.safetensors']), /same file as/);
    expectRefusal(runCli(dir, ['sample', model, '--n', '5', '--out', 'p.png', '--plot', 'p.png']), /same file as --out/);
    expect(existsSync(join(dir, 'y.safetensors'))).toBe(false);
  });
  it('the model argument is an input: an output reaching it through a link is refused', () => {
    const before = readFileSync(model);
    symlinkSync(model, join(dir, 'model-alias.csv'));
    expectRefusal(runCli(dir, ['score', model, '--data', data, '--out', 'model-alias.csv']), /same file as the input/);
    expect(readFileSync(model).equals(before)).toBe(true);
  });
});

describe('unwritable output directory', () => {
  it('is refused before the work starts, naming the directory (not a temp file)', () => {
    let target: string;
    if (process.getuid?.() === 0) {
      target = '/proc/ebm-hard-test.safetensors'; // root can write anywhere except a pseudo-filesystem
    } else {
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      execFileSync('chmod', ['555', ro]);
      target = join(ro, 'm.safetensors');
    }
    // 1e6 steps would take minutes: the refusal must come first
    const r = runCli(dir, ['train', 'mlp-energy', '--data', data, '--steps', '1000000', '--out', target]);
    expectRefusal(r, /--out .*: directory .* is not writable/, 10);
    expect(r.stderr).not.toMatch(/\.tmp/);
  });
  it('a missing directory is refused naming it', () => {
    expectRefusal(runCli(dir, ['sample', model, '--n', '5', '--out', 'no/such/dir/s.csv']), /directory no\/such\/dir does not exist/);
  });
});

describe('one writer per output', () => {
  it('a second run on the same --out or --log exits 2 naming the first run’s pid; the first is undisturbed; locks are removed', async () => {
    const d = tempDir();
    writeCsv(join(d, 'd.csv'), 200);
    // a run far longer than the test: stopped with SIGINT at the end
    const first = spawnCli(d, ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '10000000', '--out', 'm.safetensors', '--log', 'l.jsonl']);
    expect(await waitFor(() => existsSync(join(d, 'l.jsonl')) && statSync(join(d, 'l.jsonl')).size > 0, 60_000)).toBe(true);
    const second = runCli(d, ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '5', '--out', 'm.safetensors']);
    expectRefusal(second, `pid ${first.pid}`);
    const third = runCli(d, ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '5', '--out', 'other.safetensors', '--log', 'l.jsonl']);
    expectRefusal(third, /--log l.jsonl: another ebm run/);
    expect(existsSync(join(d, 'other.safetensors'))).toBe(false);
    first.kill('SIGINT');
    const r = await first.done;
    expect(r.code, r.stderr).toBe(130);
    const steps = readFileSync(join(d, 'l.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual([...steps].sort((x, y) => x - y)); // one run's log, not two interleaved
    expect(steps[0]).toBe(1);
    expect(filesIn(d).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
  it('a stale lock (its process is gone) is taken over; a live holder is named', () => {
    const d = tempDir();
    trainSmallModel(d);
    writeFileSync(join(d, 's.csv.lock'), `${deadPid()}\n${hostname()}\n`);
    const ok = runCli(d, ['sample', 'm.safetensors', '--n', '5', '--out', 's.csv']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(join(d, 's.csv.lock'))).toBe(false);
    writeFileSync(join(d, 's.csv.lock'), `${process.pid}\n${hostname()}\n`); // this test process: alive
    expectRefusal(runCli(d, ['sample', 'm.safetensors', '--n', '5', '--out', 's.csv']), `pid ${process.pid}`);
    expect(existsSync(join(d, 's.csv.lock'))).toBe(true); // someone else's lock is left alone
    writeFileSync(join(d, 's.csv.lock'), `${deadPid()}\nother-host.example\n`); // cannot be probed from here
    expectRefusal(runCli(d, ['sample', 'm.safetensors', '--n', '5', '--out', 's.csv']), /pid \d+ on other-host.example/);
  });
});
