/**
 * The recipes of docs/recipes run as written (each recipe's code is a file here that imports the package by name,
 * `ebm-ts` / `ebm-ts/node`, as a user's project would; needs a built dist/). Inputs are small synthetic files with a
 * known answer, written to a temp folder.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const R = join(ROOT, 'docs/recipes');
const built = existsSync(join(ROOT, 'dist/index.js'));
if (!built) console.warn('test/package/recipes.test.ts: dist/ is not built — run `npm run build`');
const load = (f: string): Promise<Record<string, (...a: never[]) => unknown>> => import(join(R, f));

/** Deterministic standard normals (Box–Muller on an LCG): test data only. */
function gauss(seed: number): () => number {
  let s = seed >>> 0;
  const u = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s + 0.5) / 4294967296; };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe.skipIf(!built)('docs/recipes', () => {
  let tmp = '';
  beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'ebm-recipes-')); });
  afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

  it("the recipes and the web page type-check against the package's published types (dist/*.d.ts)", () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(R, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 120_000);

  it('every recipe page shows its code file verbatim', () => {
    for (const [md, code] of [['anomaly-csv.md', 'anomaly-csv.ts'], ['rbm-loglik.md', 'rbm-loglik.ts'], ['hmc-energy.md', 'hmc-energy.ts'],
      ['own-images.md', 'own-images.ts'], ['web-page.md', '../../test/package/app/main.ts']]) {
      const page = readFileSync(join(R, md), 'utf8');
      const src = readFileSync(join(R, code), 'utf8').trim();
      expect(page, `${md} shows ${code}`).toContain(src);
    }
  });

  it('anomaly scores on a CSV: outliers at radius 6 get flagged', async () => {
    const g = gauss(1);
    const rows = (n: number, r: number): string => Array.from({ length: n }, () => {
      const a = g(), b = g();
      if (r === 0) return `${a},${b}`;
      const t = Math.atan2(b, a);
      return `${r * Math.cos(t)},${r * Math.sin(t)}`;
    }).join('\n');
    writeFileSync(join(tmp, 'normal.csv'), `x,y\n${rows(400, 0)}\n`);
    writeFileSync(join(tmp, 'new.csv'), `x,y\n${rows(40, 0)}\n${rows(10, 6)}\n`);
    const { anomalyScores } = await load('anomaly-csv.ts');
    const r = await (anomalyScores as (a: string, b: string, s: number) => Promise<{ scores: Float64Array; flagged: Uint8Array }>)(join(tmp, 'normal.csv'), join(tmp, 'new.csv'), 80);
    expect(r.scores.length).toBe(50);
    const outliers = [...r.flagged.slice(40)].reduce((a, b) => a + b, 0);
    const falseAlarms = [...r.flagged.slice(0, 40)].reduce((a, b) => a + b, 0);
    expect(outliers).toBeGreaterThanOrEqual(9);          // radius 6 is ~6σ out
    expect(falseAlarms).toBeLessThanOrEqual(8);          // 5 % expected, i.e. 2 of 40
  });

  it("an RBM's log-likelihood on binary data: exact log Z, beats the independent-pixel baseline", async () => {
    // Bars and stripes on 3×3 (14 patterns) with 5 % flip noise.
    const g = gauss(2);
    const u = (): number => 0.5 + 0.5 * Math.tanh(g());
    const row = (): number[] => {
      const bits = [u() < 0.5 ? 1 : 0, u() < 0.5 ? 1 : 0, u() < 0.5 ? 1 : 0];
      const vertical = u() < 0.5;
      const v = Array.from({ length: 9 }, (_, i) => bits[vertical ? i % 3 : Math.floor(i / 3)]);
      return v.map((b) => (u() < 0.05 ? 1 - b : b));
    };
    const csv = (n: number): string => Array.from({ length: n }, () => row().join(',')).join('\n') + '\n';
    writeFileSync(join(tmp, 'bin-train.csv'), csv(300));
    writeFileSync(join(tmp, 'bin-test.csv'), csv(200));
    const { rbmLogLikelihood } = await load('rbm-loglik.ts');
    const r = await (rbmLogLikelihood as (a: string, b: string) => Promise<{ avgLogLik: number; method: string }>)(join(tmp, 'bin-train.csv'), join(tmp, 'bin-test.csv'));
    expect(r.method).toBe('exact');
    // Independent fair pixels: 9·log 2 = 6.24 nats; bars-and-stripes structure is worth over 1 nat (the noisy source has ≈ 4.9 nats of entropy; 100 epochs reach ≈ −4.7).
    expect(r.avgLogLik).toBeGreaterThan(-9 * Math.log(2) + 1.0);
    expect(r.avgLogLik).toBeLessThan(0);
  });

  it('HMC on my energy: the correlated Gaussian moments', async () => {
    const { hmcOnMyEnergy } = await load('hmc-energy.ts');
    const r = (hmcOnMyEnergy as () => { mean: number[]; variance: number[]; correlation: number; ess: number; rhat: number; acceptance: number })();
    expect(r.rhat).toBeLessThan(1.05);
    expect(r.ess).toBeGreaterThan(500);
    // ESS > 500 → MCSE of a mean < 1/√500 ≈ 0.045 and of a variance < √2/√500 ≈ 0.063: 3 MCSE tolerances.
    for (const m of r.mean) expect(Math.abs(m)).toBeLessThan(0.14);
    for (const v of r.variance) expect(Math.abs(v - 1)).toBeLessThan(0.19);
    expect(Math.abs(r.correlation - 0.8)).toBeLessThan(0.05);
    expect(r.acceptance).toBeGreaterThan(0.6);
  });

  it('train on my own images: PNG folder → RBM → sample grid', async () => {
    const { imageGridPng, decodePng } = await import('ebm-ts/node' as string) as typeof import('../../src/io/index.js');
    const { Tensor } = await import('ebm-ts' as string) as typeof import('../../src/index.js');
    const dir = join(tmp, 'imgs');
    mkdirSync(dir);
    // 20 images of 6×6: a bright vertical bar at a random column.
    for (let i = 0; i < 20; i++) {
      const img = new Float32Array(36);
      for (let r = 0; r < 6; r++) img[r * 6 + (i % 6)] = 1;
      writeFileSync(join(dir, `img${i}.png`), imageGridPng(new Tensor(img, [1, 6, 6]), { pad: 0 }));
    }
    expect(decodePng(readFileSync(join(dir, 'img0.png'))).shape).toEqual([6, 6]);
    const { trainOnImages } = await load('own-images.ts');
    const out = join(tmp, 'samples.png');
    const r = await (trainOnImages as (d: string, o: string, e: number) => Promise<{ n: number; h: number; w: number; samples: { data: Float32Array } }>)(dir, out, 150);
    expect([r.n, r.h, r.w]).toEqual([20, 6, 6]);
    expect(existsSync(out)).toBe(true);
    // Samples look like the data: most samples have one column much brighter than the rest.
    let barLike = 0;
    for (let s = 0; s < 16; s++) {
      const cols = Array.from({ length: 6 }, (_, c) => Array.from({ length: 6 }, (_, rr) => r.samples.data[s * 36 + rr * 6 + c]).reduce((a, b) => a + b, 0));
      const sorted = [...cols].sort((a, b) => b - a);
      if (sorted[0] >= 4 && sorted[1] <= 2) barLike++;
    }
    expect(barLike).toBeGreaterThanOrEqual(10);
  });
});
