/**
 * Structured prediction with discrete energies: Potts/Ising models (pairwise MRFs) with ICM, annealed Gibbs and mean
 * field inference; Sudoku as a Potts constraint-satisfaction energy; binary image denoising with an Ising prior.
 * @module
 */
export { createMRF, isingModel, mrfEnergy, energyRaw, localEnergies, localMeanEnergies, checkConfig } from './mrf.js';
export type { DiscreteMRF, PairwiseFactor, CreateMRFOptions, IsingCoupling } from './mrf.js';
export { icm, gibbsAnneal, meanField, meanFieldFreeEnergy, annealTemperature, unaryArgmin } from './inference.js';
export type { InferenceResult, ICMOptions, GibbsAnnealOptions, GibbsAnnealResult, MeanFieldOptions, MeanFieldResult } from './inference.js';
export {
  parseSudoku, formatSudoku, prettySudoku, sudokuConflicts, isValidSudokuSolution, sudokuMRF, propagateSudoku, solveSudoku,
  countSudokuSolutions, SudokuFormatError, SUDOKU_UNITS, SUDOKU_PEERS,
} from './sudoku.js';
export type { SudokuGrid, SudokuSolveOptions, SudokuSolveResult } from './sudoku.js';
export { isingDenoiseModel, denoiseBinaryImage, flipNoise, pixelErrorRate, shapesImage } from './denoise.js';
export type { DenoiseOptions, DenoiseResult } from './denoise.js';
export { initSpen, spenScores, labelEnergy, spenEnergy, spenEnergyFromScores, spenEnergyGrad, spenInfer, spenInferFromScores, spenPredict, trainSpen, trainIndependent, predictIndependent, multilabelMetrics, type SpenParams, type SpenConfig, type SpenInferOptions, type SpenInferResult, type MultilabelTrainOptions, type SpenTrainOptions, type SpenTrainResult, type IndependentTrainResult, type MultilabelScores } from './spen.js';
