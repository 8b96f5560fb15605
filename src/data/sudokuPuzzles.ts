/**
 * Published Sudoku puzzles (81 characters, `.` or `0` for blanks), each with its source. The puzzles are facts
 * quoted for testing; their uniqueness is checked in `test/structured/sudoku.test.ts`.
 * @module
 */

/** A published puzzle and where it comes from. */
export interface PublishedSudoku {
  /** Short identifier. */
  name: string;
  /** The puzzle, row-major. */
  puzzle: string;
  /** Author / publication. */
  source: string;
  /** True for puzzles published as (among) the hardest. */
  hard: boolean;
}

/** Published puzzles: an easy one, Norvig's hard example, Arto Inkala's two famous puzzles and Norvig's "hardest" list. */
export const PUBLISHED_SUDOKUS: readonly PublishedSudoku[] = [
  {
    name: 'euler-96-grid-01',
    puzzle: '003020600900305001001806400008102900700000008006708200002609500800203009005010300',
    source: 'Project Euler problem 96, Grid 01; the first example in Peter Norvig, "Solving Every Sudoku Puzzle" (norvig.com/sudoku.html)',
    hard: false,
  },
  {
    name: 'norvig-grid2',
    puzzle: '4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......',
    source: 'Peter Norvig, "Solving Every Sudoku Puzzle" (norvig.com/sudoku.html): grid2, the example that propagation alone cannot solve',
    hard: true,
  },
  {
    name: 'inkala-2012',
    puzzle: '8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..',
    source: 'Arto Inkala, "World\'s hardest sudoku", The Telegraph, 28 June 2012',
    hard: true,
  },
  {
    name: 'ai-escargot',
    puzzle: '1....7.9..3..2...8..96..5....53..9...1..8...26....4...3......1..4......7..7...3..',
    source: 'Arto Inkala, "AI Escargot" (2006); also entry 6 of norvig.com/hardest.txt',
    hard: true,
  },
  ...[
    '85...24..72......9..4.........1.7..23.5...9...4...........8..7..17..........36.4.',
    '..53.....8......2..7..1.5..4....53...1..7...6..32...8..6.5....9..4....3......97..',
    '12..4......5.69.1...9...5.........7.7...52.9..3......2.9.6...5.4..9..8.1..3...9.4',
    '...57..3.1......2.7...234......8...4..7..4...49....6.5.42...3.....7..9....18.....',
    '7..1523........92....3.....1....47.8.......6............9...5.6.4.9.7...8....6.1.',
    '1...34.8....8..5....4.6..21.18......3..1.2..6......81.52..7.9....6..9....9.64...2',
    '...92......68.3...19..7...623..4.1....1...7....8.3..297...8..91...5.72......64...',
    '.6.5.4.3.1...9...8.........9...5...6.4.6.2.7.7...4...5.........4...8...1.5.2.3.4.',
    '7.....4...2..7..8...3..8.799..5..3...6..2..9...1.97..6...3..9...3..4..6...9..1.35',
    '....7..2.8.......6.1.2.5...9.54....8.........3....85.1...3.2.8.4.......9.7..6....',
  ].map((puzzle, i) => ({
    name: `norvig-hardest-${i < 5 ? i + 1 : i + 2}`,
    puzzle,
    source: `Peter Norvig, "Solving Every Sudoku Puzzle": the collected "hardest" puzzles, norvig.com/hardest.txt entry ${i < 5 ? i + 1 : i + 2}`,
    hard: true,
  })),
];
