/**
 * Sudoku as a Potts constraint-satisfaction energy. Cell `c` (row-major, 0…80) holds digit `x_c + 1`; every pair of
 * peers (same row, column or 3×3 box: 810 pairs) carries a Potts factor `θ(a, b) = [a = b]`, and givens / pruned
 * candidates are unary `+∞` terms. So
 *
 *   E(x) = number of pairs of peers holding the same digit,
 *
 * and `E(x) = 0` exactly when `x` is a valid completed grid. {@link solveSudoku} minimises this energy:
 * 1. **Constraint propagation** removes candidates that appear in no zero-energy grid given the others (naked
 *    singles: a cell's only candidate is removed from its peers; hidden singles: a digit with one place left in a
 *    unit goes there). Pruned states become `+∞` unary terms. Many puzzles are solved here.
 * 2. **Annealed Gibbs** on the candidate-restricted Potts energy ({@link gibbsAnneal}: single-site Gibbs at
 *    temperature `T` falling geometrically, random restarts), stopping at `E = 0`.
 * 3. If annealing has not reached `E = 0`, **energy-guided depth-first search**: branch on the cell with fewest
 *    candidates, trying its digits in order of their local energy in the lowest-energy annealed grid (fewest
 *    conflicts first), with propagation after each choice.
 * Whatever the route, the returned grid is checked: `E(x) = 0` and it agrees with every given.
 * @module
 */
import { key as makeKey, split, type Key } from '../random/index.js';
import { createMRF, energyRaw, localEnergies, type DiscreteMRF, type PairwiseFactor } from './mrf.js';
import { gibbsAnneal } from './inference.js';
import { EbmError, type EbmErrorCode } from '../errors.js';

/** A Sudoku grid: 81 digits row-major, 0 for a blank. */
export type SudokuGrid = number[];

/** Thrown for a malformed puzzle string (length or characters). */
export class SudokuFormatError extends EbmError {
  readonly code: EbmErrorCode = 'SUDOKU_FORMAT';
  override name = 'SudokuFormatError';
}

/**
 * Parses a puzzle: 81 characters `1`–`9` for givens and `0` or `.` for blanks (whitespace is ignored).
 * @example parseSudoku('8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..')[0] // 8
 */
export function parseSudoku(text: string): SudokuGrid {
  const s = String(text).replace(/\s+/g, '');
  if (s.length !== 81) throw new SudokuFormatError(`puzzle has ${s.length} characters, expected 81 (digits 1-9, 0 or . for blanks)`);
  const g: number[] = new Array(81);
  for (let i = 0; i < 81; i++) {
    const ch = s[i];
    if (ch === '.' || ch === '0') g[i] = 0;
    else if (ch >= '1' && ch <= '9') g[i] = ch.charCodeAt(0) - 48;
    else throw new SudokuFormatError(`puzzle character ${i + 1} (row ${Math.floor(i / 9) + 1}, column ${(i % 9) + 1}) is '${ch}', expected 1-9, 0 or .`);
  }
  return g;
}

/** The 81-character string of a grid (`.` for blanks). */
export function formatSudoku(g: readonly number[], blank = '.'): string {
  return g.map((v) => (v ? String(v) : blank)).join('');
}

/** The grid as 9 lines of 9 digits with box separators, for humans. */
export function prettySudoku(g: readonly number[]): string {
  const lines: string[] = [];
  for (let r = 0; r < 9; r++) {
    if (r && r % 3 === 0) lines.push('------+-------+------');
    const row: string[] = [];
    for (let c = 0; c < 9; c++) {
      if (c && c % 3 === 0) row.push('|');
      row.push(g[r * 9 + c] ? String(g[r * 9 + c]) : '.');
    }
    lines.push(row.join(' '));
  }
  return lines.join('\n');
}

/** The 27 units (9 rows, 9 columns, 9 boxes), each a list of 9 cells. */
export const SUDOKU_UNITS: readonly (readonly number[])[] = (() => {
  const u: number[][] = [];
  for (let r = 0; r < 9; r++) u.push(Array.from({ length: 9 }, (_, c) => r * 9 + c));
  for (let c = 0; c < 9; c++) u.push(Array.from({ length: 9 }, (_, r) => r * 9 + c));
  for (let b = 0; b < 9; b++) {
    const r0 = 3 * Math.floor(b / 3), c0 = 3 * (b % 3);
    u.push(Array.from({ length: 9 }, (_, k) => (r0 + Math.floor(k / 3)) * 9 + c0 + (k % 3)));
  }
  return u;
})();

/** The 20 peers of each cell. */
export const SUDOKU_PEERS: readonly (readonly number[])[] = (() => {
  const p: Set<number>[] = Array.from({ length: 81 }, () => new Set<number>());
  for (const unit of SUDOKU_UNITS) for (const a of unit) for (const b of unit) if (a !== b) p[a].add(b);
  return p.map((s) => [...s].sort((a, b) => a - b));
})();

const PEER_PAIRS: readonly [number, number][] = (() => {
  const out: [number, number][] = [];
  for (let a = 0; a < 81; a++) for (const b of SUDOKU_PEERS[a]) if (a < b) out.push([a, b]);
  return out;
})();

/**
 * The Potts energy of a (possibly partial) grid: the number of peer pairs holding the same non-zero digit. A
 * complete grid is a valid solution iff this is 0.
 */
export function sudokuConflicts(g: readonly number[]): number {
  let e = 0;
  for (const [a, b] of PEER_PAIRS) if (g[a] !== 0 && g[a] === g[b]) e++;
  return e;
}

/** True when `g` is a complete valid grid (all cells 1–9, no conflicts) that agrees with the givens of `puzzle`. */
export function isValidSudokuSolution(g: readonly number[], puzzle?: readonly number[]): boolean {
  if (!g || g.length !== 81) return false;
  for (let i = 0; i < 81; i++) {
    if (!Number.isInteger(g[i]) || g[i] < 1 || g[i] > 9) return false;
    if (puzzle && puzzle[i] !== 0 && puzzle[i] !== g[i]) return false;
  }
  return sudokuConflicts(g) === 0;
}

/**
 * The Potts energy of a puzzle as a {@link DiscreteMRF} (81 variables, 9 states, 810 Potts edges of weight 1).
 * `candidates` (9-bit masks per cell, bit `d−1` for digit `d`) restrict the states by `+∞` unary terms; by default
 * givens are fixed and blanks are free.
 */
export function sudokuMRF(puzzle: readonly number[], candidates?: ArrayLike<number>): DiscreteMRF {
  const unary = new Float64Array(81 * 9);
  for (let c = 0; c < 81; c++) {
    const mask = candidates ? candidates[c] : puzzle[c] ? 1 << (puzzle[c] - 1) : 0x1ff;
    for (let d = 0; d < 9; d++) if (!(mask & (1 << d))) unary[c * 9 + d] = Infinity;
  }
  const edges: PairwiseFactor[] = PEER_PAIRS.map(([i, j]) => ({ i, j, potts: 1 }));
  return createMRF({ nVars: 81, states: 9, unary, edges });
}

const popcount = (m: number): number => { let c = 0; while (m) { m &= m - 1; c++; } return c; };
const lowDigit = (m: number): number => 31 - Math.clz32(m & -m); // index of the lowest set bit

/**
 * Constraint propagation on candidate masks (in place): naked and hidden singles to a fixed point.
 * @returns false on a contradiction (a cell with no candidate, or a digit with no place in a unit).
 */
export function propagateSudoku(dom: Int32Array): boolean {
  let changed = true;
  while (changed) {
    changed = false;
    for (let c = 0; c < 81; c++) {
      const m = dom[c];
      if (m === 0) return false;
      if ((m & (m - 1)) !== 0) continue;
      for (const p of SUDOKU_PEERS[c]) {
        if (dom[p] & m) {
          dom[p] &= ~m;
          if (dom[p] === 0) return false;
          changed = true;
        }
      }
    }
    for (const unit of SUDOKU_UNITS) {
      for (let d = 0; d < 9; d++) {
        const bit = 1 << d;
        let count = 0, where = -1;
        for (const c of unit) if (dom[c] & bit) { count++; where = c; }
        if (count === 0) return false;
        if (count === 1 && dom[where] !== bit) { dom[where] = bit; changed = true; }
      }
    }
  }
  return true;
}

/** Candidate masks of a puzzle (givens fixed, blanks all digits), before propagation. Null when givens conflict. */
function initialDomains(puzzle: readonly number[]): Int32Array | null {
  if (sudokuConflicts(puzzle) > 0) return null;
  return Int32Array.from(puzzle, (v) => (v ? 1 << (v - 1) : 0x1ff));
}

function domainsToGrid(dom: Int32Array): number[] {
  return Array.from(dom, (m) => lowDigit(m) + 1);
}

/** Options of {@link solveSudoku}. */
export interface SudokuSolveOptions {
  /** Key for the annealing (default `key(0)`). */
  key?: Key;
  /** Gibbs sweeps per annealing run (default 2000). */
  sweeps?: number;
  /** Annealing runs from fresh random starts (default 3; 0 skips annealing). */
  restarts?: number;
  /** Start / end temperature of the geometric schedule (default 1 → 0.1). */
  tStart?: number;
  tEnd?: number;
  /** Fall back to energy-guided search when annealing fails (default true). */
  search?: boolean;
  /** Maximum search nodes (default 1e6). */
  maxNodes?: number;
}

/** Result of {@link solveSudoku}. */
export interface SudokuSolveResult {
  /** True when a valid grid agreeing with the givens was found. */
  solved: boolean;
  /** The solved grid (81 digits), or null. */
  grid: number[] | null;
  /** Which stage produced the grid: `propagation`, `annealing`, `search`, or `none`. */
  method: 'propagation' | 'annealing' | 'search' | 'none';
  /** Potts energy (number of conflicting peer pairs) of the returned grid (0 when solved), or of the best annealed grid. */
  energy: number;
  /** Blank cells left after the initial propagation. */
  openAfterPropagation: number;
  /** Gibbs sweeps run in total. */
  annealSweeps: number;
  /** Search nodes expanded. */
  searchNodes: number;
  /** When not solved: why. */
  reason?: string;
}

/**
 * Solves a Sudoku by minimising its Potts energy (see the module doc for exactly what the inference does).
 * @param puzzle 81 digits (0 = blank) or a puzzle string for {@link parseSudoku}.
 * @example
 * const r = solveSudoku('8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..');
 * r.solved && isValidSudokuSolution(r.grid!) // true
 */
export function solveSudoku(puzzle: string | readonly number[], opts: SudokuSolveOptions = {}): SudokuSolveResult {
  const p = typeof puzzle === 'string' ? parseSudoku(puzzle) : Array.from(puzzle);
  if (p.length !== 81 || p.some((v) => !Number.isInteger(v) || v < 0 || v > 9)) throw new SudokuFormatError('puzzle must be 81 integers in 0…9');
  const sweeps = opts.sweeps ?? 2000, restarts = opts.restarts ?? 3;
  const result: SudokuSolveResult = { solved: false, grid: null, method: 'none', energy: Infinity, openAfterPropagation: 81, annealSweeps: 0, searchNodes: 0 };
  const dom = initialDomains(p);
  if (!dom) return { ...result, energy: sudokuConflicts(p), reason: 'the givens already conflict (a digit repeats in a row, column or box)' };
  if (!propagateSudoku(dom)) return { ...result, reason: 'constraint propagation found a contradiction: no valid grid exists' };
  result.openAfterPropagation = Array.from(dom).filter((m) => popcount(m) > 1).length;
  const finish = (g: number[], method: SudokuSolveResult['method']): SudokuSolveResult => {
    const ok = isValidSudokuSolution(g, p);
    return { ...result, solved: ok, grid: ok ? g : null, method: ok ? method : 'none', energy: sudokuConflicts(g), ...(ok ? {} : { reason: 'internal: candidate grid failed validation' }) };
  };
  if (result.openAfterPropagation === 0) return finish(domainsToGrid(dom), 'propagation');
  // 2. annealed Gibbs on the candidate-restricted Potts energy
  const mrf = sudokuMRF(p, dom);
  let guide: Int32Array | null = null, guideE = Infinity;
  const keys = split(opts.key ?? makeKey(0), Math.max(1, restarts));
  for (let r = 0; r < restarts; r++) {
    const a = gibbsAnneal(mrf, keys[r], { sweeps, tStart: opts.tStart ?? 1, tEnd: opts.tEnd ?? 0.1, stopAtEnergy: 0 });
    result.annealSweeps += a.sweeps;
    if (a.bestEnergy < guideE) { guideE = a.bestEnergy; guide = a.best; }
    if (a.bestEnergy === 0) return finish(Array.from(a.best, (s) => s + 1), 'annealing');
  }
  result.energy = guideE;
  if (opts.search === false) return { ...result, reason: `annealing stopped at energy ${guideE} (conflicting pairs) and search is off` };
  // 3. energy-guided depth-first search with propagation
  const maxNodes = opts.maxNodes ?? 1e6;
  const le = new Float64Array(9);
  const state = guide ?? new Int32Array(81);
  const dfs = (d: Int32Array): Int32Array | null => {
    if (++result.searchNodes > maxNodes) return null;
    let best = -1, bestCount = 10;
    for (let c = 0; c < 81; c++) { const n = popcount(d[c]); if (n > 1 && n < bestCount) { best = c; bestCount = n; } }
    if (best < 0) return d;
    // order digits by the local energy of the guide grid (fewest conflicts first)
    for (let c = 0; c < 81; c++) if (popcount(d[c]) === 1) state[c] = lowDigit(d[c]);
    localEnergies(mrf, state, best, le);
    const digits: number[] = [];
    for (let k = 0; k < 9; k++) if (d[best] & (1 << k)) digits.push(k);
    digits.sort((a, b) => (le[a] === le[b] ? a - b : le[a] < le[b] ? -1 : 1));
    for (const k of digits) {
      const nd = d.slice();
      nd[best] = 1 << k;
      if (!propagateSudoku(nd)) continue;
      const r = dfs(nd);
      if (r) return r;
      if (result.searchNodes > maxNodes) return null;
    }
    return null;
  };
  const sol = dfs(dom);
  if (!sol) {
    return { ...result, reason: result.searchNodes > maxNodes ? `search gave up after ${maxNodes} nodes` : 'search exhausted every candidate: no valid grid exists' };
  }
  const g = domainsToGrid(sol);
  // the energy minimised throughout: a zero-energy grid is a solution
  if (energyRaw(mrf, Int32Array.from(g, (v) => v - 1)) !== 0) return { ...result, reason: 'internal: search result has non-zero energy' };
  return finish(g, 'search');
}

/**
 * Counts the solutions of a puzzle up to `limit` (default 2) by exhaustive search with propagation; a proper puzzle
 * has exactly one. Used to check the published puzzles.
 */
export function countSudokuSolutions(puzzle: string | readonly number[], limit = 2): number {
  const p = typeof puzzle === 'string' ? parseSudoku(puzzle) : Array.from(puzzle);
  const dom = initialDomains(p);
  if (!dom || !propagateSudoku(dom)) return 0;
  let count = 0;
  const dfs = (d: Int32Array): void => {
    let best = -1, bestCount = 10;
    for (let c = 0; c < 81; c++) { const n = popcount(d[c]); if (n > 1 && n < bestCount) { best = c; bestCount = n; } }
    if (best < 0) { count++; return; }
    for (let k = 0; k < 9 && count < limit; k++) {
      if (!(d[best] & (1 << k))) continue;
      const nd = d.slice();
      nd[best] = 1 << k;
      if (propagateSudoku(nd)) dfs(nd);
    }
  };
  dfs(dom);
  return count;
}
