import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebm, tempDir } from '../cli/helpers.js';
import { key } from '../../src/random/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { imageGridPng, decodePng } from '../../src/io/png.js';
import { flipNoise, isValidSudokuSolution, parseSudoku, pixelErrorRate, shapesImage } from '../../src/structured/index.js';

const INKALA = '8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..';

describe('ebm solve sudoku', () => {
  it('prints a valid solved grid (--json)', async () => {
    const r = await ebm('solve', 'sudoku', '--puzzle', INKALA, '--seed', '3', '--json');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.solved).toBe(true);
    expect(isValidSudokuSolution(parseSudoku(o.grid), parseSudoku(INKALA))).toBe(true);
  });

  it('human output shows the grid', async () => {
    const r = await ebm('solve', 'sudoku', '--puzzle', INKALA.replace(/\./g, '0'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/8 1 2 \| 7 5 3 \| 6 4 9/);
  });

  it('exits 1 saying it found none, 2 on a malformed puzzle', async () => {
    const none = await ebm('solve', 'sudoku', '--puzzle', '11' + '.'.repeat(79));
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: no solution found/);
    const bad = await ebm('solve', 'sudoku', '--puzzle', '12345');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--puzzle: puzzle has 5 characters/);
  });
});

describe('ebm denoise', () => {
  it('writes a denoised PNG closer to the clean image', async () => {
    const dir = tempDir();
    const clean = shapesImage(48, 48);
    const noisy = flipNoise(clean, 0.1, key(5));
    const inPath = join(dir, 'in.png'), outPath = join(dir, 'out.png');
    writeFileSync(inPath, imageGridPng(new Tensor(noisy.data, [1, 48, 48]), { pad: 0 }));
    const r = await ebm('denoise', '--image', inPath, '--out', outPath, '--noise', '0.1', '--json');
    expect(r.code).toBe(0);
    expect(existsSync(outPath)).toBe(true);
    const out = decodePng(readFileSync(outPath));
    expect(out.shape).toEqual([48, 48]);
    expect(pixelErrorRate(out, clean)).toBeLessThan(0.3 * pixelErrorRate(noisy, clean));
    const missing = await ebm('denoise', '--image', join(dir, 'nope.png'), '--out', join(dir, 'x.png'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.png: cannot read image/);
  });
});
