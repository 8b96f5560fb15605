/**
 * `ebm solve sudoku --puzzle <81 chars> [--seed S] [--json]`: solves a Sudoku by minimising its Potts energy
 * (constraint propagation, annealed Gibbs, then energy-guided search; see `src/structured/sudoku.ts`). Prints the
 * grid; exits 1 saying so when no valid grid was found, 2 for a malformed puzzle.
 */
import type { Command } from 'commander';
import { key as makeKey } from '../../random/index.js';
import { SudokuFormatError, formatSudoku, parseSudoku, prettySudoku, solveSudoku } from '../../structured/sudoku.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { addSeedOption, fmt } from '../common.js';
import { parsePositiveInt } from '../options.js';

interface Opts { puzzle: string; seed: number; sweeps: number; restarts: number; json?: boolean }

/** Registers `ebm solve sudoku`. */
export function register(program: Command, ctx: CliContext): void {
  const solve = program.command('solve').description('solve a constraint problem by minimising its energy (see `ebm solve sudoku --help`)');
  const cmd = solve
    .command('sudoku')
    .description('solve a Sudoku as a Potts energy (E = number of conflicting peer pairs; a solution has E = 0)')
    .requiredOption('--puzzle <81 chars>', 'the puzzle row by row: digits 1-9, 0 or . for blanks')
    .option('--sweeps <n>', 'Gibbs sweeps per annealing run', parsePositiveInt, 2000)
    .option('--restarts <n>', 'annealing runs before falling back to energy-guided search', parsePositiveInt, 3)
    .option('--json', 'print one JSON object');
  addSeedOption(cmd);
  cmd.action((o: Opts) =>
    runCommand(ctx, () => {
      let puzzle: number[];
      try {
        puzzle = parseSudoku(o.puzzle);
      } catch (e) {
        if (e instanceof SudokuFormatError) throw new UsageError(`--puzzle: ${e.message}`);
        throw e;
      }
      const t0 = performance.now();
      const r = solveSudoku(puzzle, { key: makeKey(o.seed), sweeps: o.sweeps, restarts: o.restarts });
      const seconds = (performance.now() - t0) / 1000;
      const result = {
        solved: r.solved, grid: r.grid ? formatSudoku(r.grid) : null, method: r.method, energy: r.solved ? 0 : r.energy,
        openAfterPropagation: r.openAfterPropagation, annealSweeps: r.annealSweeps, searchNodes: r.searchNodes, seconds,
        ...(r.reason ? { reason: r.reason } : {}),
      };
      if (!r.solved) {
        if (o.json) printResult(ctx, true, result, () => '');
        // a plain Error maps to exit 1 with one `error: …` line
        throw new Error(`no solution found: ${r.reason ?? 'unknown reason'}`);
      }
      printResult(ctx, o.json, result, () =>
        [prettySudoku(r.grid!), '', `${formatSudoku(r.grid!)}`, `solved by ${r.method} in ${fmt(seconds)} s (energy 0; ${r.annealSweeps} Gibbs sweeps, ${r.searchNodes} search nodes)`].join('\n'),
      );
    }),
  );
}
