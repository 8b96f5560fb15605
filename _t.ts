import { countSudokuSolutions, solveSudoku } from './src/structured/sudoku.js';
const p='.....5.8....6.1.43..........1.5........1.6...3.......553.....61........4.........';
let t0=performance.now(); console.log(countSudokuSolutions(p), performance.now()-t0);
t0=performance.now(); const r=solveSudoku(p,{restarts:1,sweeps:200}); console.log(r.solved, r.reason, r.searchNodes, performance.now()-t0);
