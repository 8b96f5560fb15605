import { describe, expect, it } from 'vitest';
import { key } from '../../src/random/index.js';
import { PUBLISHED_SUDOKUS } from '../../src/data/sudokuPuzzles.js';
import {
  countSudokuSolutions, isValidSudokuSolution, parseSudoku, solveSudoku, sudokuConflicts, sudokuMRF, mrfEnergy,
} from '../../src/structured/index.js';

const SOLVED = '812753649943682175675491283154237896369845721287169534521974368438526917796318452';

describe('Sudoku as a Potts energy', () => {
  it('the energy counts conflicting peer pairs and is 0 exactly on a valid grid', () => {
    const g = parseSudoku(SOLVED);
    expect(sudokuConflicts(g)).toBe(0);
    expect(isValidSudokuSolution(g)).toBe(true);
    const bad = g.slice();
    [bad[0], bad[1]] = [bad[1], bad[0]]; // swap within a row: breaks column and maybe box constraints
    expect(sudokuConflicts(bad)).toBeGreaterThan(0);
    expect(isValidSudokuSolution(bad)).toBe(false);
    // the MRF energy equals the conflict count (no givens: every state allowed)
    const m = sudokuMRF(new Array(81).fill(0));
    expect(mrfEnergy(m, bad.map((v) => v - 1))).toBe(sudokuConflicts(bad));
  });

  it('parses puzzles and rejects malformed ones', () => {
    expect(parseSudoku('.'.repeat(81)).every((v) => v === 0)).toBe(true);
    expect(() => parseSudoku('1'.repeat(80))).toThrow(/80 characters/);
    expect(() => parseSudoku('x' + '.'.repeat(80))).toThrow(/character 1.*'x'/);
  });

  it('the published puzzles are proper (exactly one solution)', () => {
    expect(PUBLISHED_SUDOKUS.length).toBeGreaterThanOrEqual(10);
    expect(PUBLISHED_SUDOKUS.filter((p) => p.hard).length).toBeGreaterThanOrEqual(5);
    for (const p of PUBLISHED_SUDOKUS) {
      expect(p.source.length).toBeGreaterThan(10);
      expect(countSudokuSolutions(p.puzzle), p.name).toBe(1);
    }
  });

  it('solves every published puzzle, including the hard ones, to a valid grid that keeps the givens', () => {
    for (const p of PUBLISHED_SUDOKUS) {
      const r = solveSudoku(p.puzzle, { key: key(0), restarts: 1, sweeps: 500 });
      expect(r.solved, p.name).toBe(true);
      expect(isValidSudokuSolution(r.grid!, parseSudoku(p.puzzle)), p.name).toBe(true);
      expect(r.energy).toBe(0);
    }
  });

  it('annealed Gibbs alone (no search) reaches energy 0 on a hard puzzle that propagation cannot finish', () => {
    const p = PUBLISHED_SUDOKUS.find((q) => q.name === 'norvig-hardest-10')!;
    const r = solveSudoku(p.puzzle, { key: key(1), restarts: 3, sweeps: 2000, search: false });
    expect(r.openAfterPropagation).toBeGreaterThan(20);
    expect(r.solved).toBe(true);
    expect(r.method).toBe('annealing');
  });

  it('reports failure on contradictory puzzles', () => {
    const clash = '11' + '.'.repeat(79);
    expect(solveSudoku(clash).solved).toBe(false);
    expect(solveSudoku(clash).reason).toMatch(/conflict/);
    // no direct clash, but cell (1, 9) has no candidate: row 1 holds 1–8 and column 9 already has a 9
    const g = new Array(81).fill(0);
    for (let c = 0; c < 8; c++) g[c] = c + 1;
    g[9 + 8] = 9;
    expect(sudokuConflicts(g)).toBe(0);
    const r = solveSudoku(g, { restarts: 1, sweeps: 50 });
    expect(r.solved).toBe(false);
    expect(r.grid).toBeNull();
    expect(r.reason).toMatch(/contradiction/);
  });
});
