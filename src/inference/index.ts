/** MAP inference for energies: projected gradient minimisation and simulated annealing with any sampler kernel. */
export { minimiseEnergy } from './map.js';
export type { MinimiseOptions, MinimiseResult } from './map.js';
export { projectBox, projectSimplex } from './projections.js';
export type { Projection } from './projections.js';
export { simulatedAnnealing, geometricCooling } from './simulatedAnnealing.js';
export type { TemperedKernel, SimulatedAnnealingOptions, SimulatedAnnealingResult } from './simulatedAnnealing.js';
