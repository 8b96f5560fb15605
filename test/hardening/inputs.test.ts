/**
 * Hardening, input side: only regular files are read, sizes are checked before reading, parsers are bounded and
 * iterative, and a command's memory is estimated from its flags and headers before anything is allocated. Every case
 * must end in one `error:` line, exit 2, within seconds and under 1 GiB of RSS (see helpers.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectRefusal, rawSafetensors, rng, runCli, tempDir, trainSmallModel, writeCsv } from './helpers.js';

let dir: string;
let model: string;
let data: string;

beforeAll(() => {
  dir = tempDir();
  model = trainSmallModel(dir);
  data = writeCsv(join(dir, 'd.csv'));
  execFileSync('mkfifo', [join(dir, 'pipe.csv')]);
  execFileSync('mkfifo', [join(dir, 'pipe.safetensors')]);
  mkdirSync(join(dir, 'folder.csv'));
});

describe('only regular files are read', () => {
  const cases: { name: string; args: () => string[]; needle: RegExp }[] = [
    { name: 'a FIFO as the model', args: () => ['eval', join(dir, 'pipe.safetensors'), '--data', data], needle: /FIFO/ },
    { name: 'a FIFO as --data', args: () => ['eval', model, '--data', join(dir, 'pipe.csv')], needle: /FIFO/ },
    { name: '/dev/zero as the model', args: () => ['eval', '/dev/zero', '--data', data], needle: /character device/ },
    { name: '/dev/zero as --data (csv: prefix)', args: () => ['eval', model, '--data', 'csv:/dev/zero'], needle: /character device/ },
    { name: '/dev/urandom as --image', args: () => ['denoise', '--image', '/dev/urandom', '--out', join(dir, 'o.png')], needle: /character device/ },
    { name: 'a directory as --data', args: () => ['data-info', '--data', join(dir, 'folder.csv')], needle: /directory/ },
    { name: 'a FIFO as --ratings', args: () => ['train', 'rbm-cf', '--ratings', join(dir, 'pipe.csv'), '--out', join(dir, 'cf.safetensors')], needle: /FIFO/ },
  ];
  for (const c of cases) it(c.name, () => expectRefusal(runCli(dir, c.args(), { timeoutMs: 15_000 }), c.needle));
});

describe('input size limit (EBM_MAX_INPUT_BYTES)', () => {
  it('a file over the limit is refused before reading, naming the limit and how to raise it', () => {
    const r = runCli(dir, ['data-info', '--data', data], { env: { EBM_MAX_INPUT_BYTES: '100' } });
    expectRefusal(r, /over the input limit of 100 B \(raise it with EBM_MAX_INPUT_BYTES/);
    expect(runCli(dir, ['data-info', '--data', data], { env: { EBM_MAX_INPUT_BYTES: '1M' } }).code).toBe(0);
  });
  it('a malformed limit is one error line', () => {
    expectRefusal(runCli(dir, ['data-info', '--data', data], { env: { EBM_MAX_INPUT_BYTES: 'lots' } }), /EBM_MAX_INPUT_BYTES="lots" is not a size/);
  });
});

describe('memory budget from flags (default: a fraction of available memory)', () => {
  // absurd sizes from a seeded generator: each is refused from the flags alone, naming the flag and an estimate
  const g = rng(16);
  const huge = (): string => String(g.int(2e9, 9e15));
  const cases: { args: string[]; flag: string }[] = [
    { args: ['train', 'mlp-energy', '--data', 'd.csv', '--hidden', '1000000000', '--out', 'h.safetensors'], flag: '--hidden' },
    { args: ['train', 'mlp-energy', '--data', 'd.csv', '--hidden', `64,${huge()},64`, '--out', 'h.safetensors'], flag: '--hidden' },
    { args: ['train', 'mlp-energy', '--data', 'd.csv', '--hidden', '300000,300000', '--out', 'h.safetensors'], flag: '--hidden' },
    { args: ['train', 'rbm', '--data', 'd.csv', '--hidden', huge(), '--out', 'r.safetensors'], flag: '--hidden' },
    { args: ['eval', 'm.safetensors', '--data', 'd.csv', '--grid', '20000'], flag: '--grid' },
    { args: ['eval', 'm.safetensors', '--data', 'd.csv', '--grid', String(g.int(1e6, 1e9))], flag: '--grid' },
    { args: ['sample', 'm.safetensors', '--n', '1000000000', '--out', 's.csv'], flag: '--n' },
    { args: ['sample', 'm.safetensors', '--n', huge(), '--out', 's.csv'], flag: '--n' },
    { args: ['train', 'mlp-energy', '--data', 'toy:moons', '--n', huge(), '--out', 'h.safetensors'], flag: '--n' },
  ];
  for (const c of cases) {
    const args = c.args;
    it(`${args.slice(0, 2).join(' ')} … ${c.flag} ${args[args.indexOf(c.flag) + 1]}`, () => {
      expectRefusal(runCli(dir, args), new RegExp(`${c.flag}: .* needs about [\\d.]+ [KMGTPE]iB of memory, over the budget of .*EBM_MAX_MEMORY`));
    });
  }
  it('sample --n is checked again with the model’s dimension once loaded', () => {
    const d = tempDir();
    const t = runCli(d, ['train', 'rbm', '--data', 'toy:bars-and-stripes:4', '--n', '100', '--hidden', '4', '--epochs', '1', '--out', 'r.safetensors']);
    expect(t.code, t.stderr).toBe(0);
    // the flag alone (1e6 rows) fits 512 MiB; 1e6 rows of 16 values do not
    expectRefusal(runCli(d, ['sample', 'r.safetensors', '--n', '1000000', '--out', 's.csv'], { env: { EBM_MAX_MEMORY: '512M' } }), /--n: 1000000 samples of dimension 16 needs about/);
  });
  it('EBM_MAX_MEMORY lowers (or raises) the budget', () => {
    expectRefusal(runCli(dir, ['eval', model, '--data', data, '--grid', '2000'], { env: { EBM_MAX_MEMORY: '64M' } }), /--grid: .*over the budget of 64 MiB/);
  });
  it('a 16000×16000 PNG of a few KB is refused from its header', () => {
    const png = pngFile(16000, 16000, 0, deflateSync(Buffer.alloc(16000 * 16001 / 64)).subarray(0, 1000));
    writeFileSync(join(dir, 'big.png'), png);
    expectRefusal(runCli(dir, ['denoise', '--image', 'big.png', '--out', 'o.png'], { env: { EBM_MAX_MEMORY: '8G' } }), /big.png: a 16000×16000 image needs about .* of memory/);
  });
  it('a safetensors header listing 200 000 tensors is refused before parsing', () => {
    const h: Record<string, unknown> = { __metadata__: { format: 'ebm-ts', kind: 'mlp-energy' } };
    for (let i = 0; i < 200_000; i++) h[`t${i}`] = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };
    writeFileSync(join(dir, 'many.safetensors'), rawSafetensors(h));
    expectRefusal(runCli(dir, ['eval', 'many.safetensors', '--data', data]), /more than 100000 tensors/);
  });
});

describe('bounded, iterative parsers', () => {
  it('a 20 MB single-line CSV (10 M columns) is refused without splitting it', () => {
    writeFileSync(join(dir, 'wide.csv'), Buffer.alloc(20_000_000, '1,'));
    expectRefusal(runCli(dir, ['data-info', '--data', 'wide.csv']), /line 1 has 1000000\d columns, over the limit of 1000000/);
  });
  it('a CSV with 130 000 columns loads (no Math.min(...columns))', () => {
    const cols = 130_000;
    writeFileSync(join(dir, 'cols.csv'), `${Array(cols).fill('1').join(',')}\n${Array(cols).fill('2').join(',')}\n`);
    const r = runCli(dir, ['data-info', '--data', 'cols.csv', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 2, cols });
  });
  it('a 5 MB non-number cell is echoed clipped, not in full', () => {
    writeFileSync(join(dir, 'cell.csv'), `x,y\n1,${'z'.repeat(5_000_000)}\n`);
    const r = runCli(dir, ['data-info', '--data', 'cell.csv']);
    expectRefusal(r, /line 2: column 2: value "z{40}…" is not a number/);
  });
  for (const depth of [17, 1000, 50_000]) {
    it(`a .npy header nested ${depth} deep is refused`, () => {
      const header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(depth)}2,${')'.repeat(depth)}, }`;
      const pad = 64 - ((10 + header.length + 1) % 64);
      const h = Buffer.from(header + ' '.repeat(pad) + '\n', 'latin1');
      const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0, 0, 0]);
      pre.writeUInt32LE(h.length, 8);
      writeFileSync(join(dir, `deep${depth}.npy`), Buffer.concat([pre, h, Buffer.alloc(8)]));
      expectRefusal(runCli(dir, ['data-info', '--data', `deep${depth}.npy`]), /nested deeper than 16 levels/);
    });
  }
  it('a checkpoint whose state skeleton nests 100 000 levels is refused on --resume', () => {
    const d = tempDir();
    writeCsv(join(d, 'd.csv'));
    const state = '['.repeat(100_000) + ']'.repeat(100_000);
    const meta = { format: 'ebm-ts-checkpoint', kind: 'mlp-energy', version: '0', step: '1', key: JSON.stringify({ k: [1, 2] }), state, meta: '{}' };
    writeFileSync(join(d, 'm.ckpt.safetensors'), rawSafetensors({ __metadata__: meta }));
    expectRefusal(runCli(d, ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '3', '--out', 'm.safetensors', '--resume']), /m.ckpt.safetensors: .*(nested deeper|not|cannot)/);
  });
  it('a tensor named __proto__ is an own entry and never the record’s prototype', () => {
    const bytes = encodeSafetensors({ a: new Tensor(new Float32Array([1]), [1]) });
    const { header, data: body } = (() => {
      const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
      return { header: JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString()), data: bytes.subarray(8 + n) };
    })();
    const text = JSON.stringify(header).replace('"a":', '"__proto__":');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(text.length));
    const crafted = Buffer.concat([len, Buffer.from(text), Buffer.from(body)]);
    const { tensors } = decodeSafetensors(crafted);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
    expect(Object.keys(tensors)).toContain('__proto__');
    expect(Object.getOwnPropertyDescriptor(tensors, '__proto__')?.value).toBeInstanceOf(Tensor);
  });
  it('a model file with a __proto__ tensor is refused as a layout mismatch, naming the file', () => {
    const d = tempDir();
    const m = trainSmallModel(d);
    const buf = readFileSync(m);
    const n = Number(buf.readBigUInt64LE(0));
    const text = buf.subarray(8, 8 + n).toString().replace('"l0.b":', '"__proto__":');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
    writeFileSync(join(d, 'p.safetensors'), Buffer.concat([len, Buffer.from(text), buf.subarray(8 + n)]));
    expectRefusal(runCli(d, ['eval', 'p.safetensors', '--data', 'toy:moons']), /p.safetensors: /);
  });
});

describe('PNG input', () => {
  const g = rng(7);
  for (let trial = 0; trial < 3; trial++) {
    it(`an 8×8 PNG whose image data is random bytes is refused (trial ${trial})`, () => {
      const junk = Buffer.from(Array.from({ length: g.int(4, 200) }, () => g.int(0, 255)));
      writeFileSync(join(dir, `junk${trial}.png`), pngFile(8, 8, 0, junk));
      expectRefusal(runCli(dir, ['denoise', '--image', `junk${trial}.png`, '--out', `o${trial}.png`]), /not a valid PNG/);
    });
  }
  it('an 8×8 PNG whose data inflates to the wrong size is refused', () => {
    writeFileSync(join(dir, 'short.png'), pngFile(8, 8, 0, deflateSync(Buffer.alloc(20))));
    expectRefusal(runCli(dir, ['denoise', '--image', 'short.png', '--out', 'o.png']), /image data holds 20 bytes but a 8×8 image needs 72/);
  });
  it('an 8×8 PNG with unknown row filters is refused', () => {
    writeFileSync(join(dir, 'filt.png'), pngFile(8, 8, 0, deflateSync(Buffer.alloc(72, 9))));
    expectRefusal(runCli(dir, ['denoise', '--image', 'filt.png', '--out', 'o.png']), /unknown filter type/);
  });
});

/** A greyscale 8-bit PNG with the given IHDR size and raw IDAT payload (CRCs correct). */
function pngFile(w: number, h: number, interlace: number, idat: Uint8Array): Buffer {
  const chunk = (type: string, body: Uint8Array): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const tb = Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from(body)]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(tb));
    return Buffer.concat([len, tb, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  ihdr[12] = interlace;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
