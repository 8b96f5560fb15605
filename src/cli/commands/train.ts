/**
 * `ebm train <kind>`: training commands, one subcommand per model kind. `mlp-energy` is built in; other kinds add a
 * subcommand with {@link registerTrainKind} before the program is built.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerTrainMlpEnergy } from './trainMlpEnergy.js';
import { registerTrainRbmCf } from './trainRbmCf.js';

/** Adds one `ebm train <kind>` subcommand to the `train` command. */
export type TrainKindRegistrar = (train: Command, ctx: CliContext) => void;

const registrars: TrainKindRegistrar[] = [registerTrainMlpEnergy, registerTrainRbmCf];

/** Registers another `ebm train <kind>` subcommand (e.g. `rbm`), to be added by {@link register}. */
export function registerTrainKind(r: TrainKindRegistrar): void {
  if (!registrars.includes(r)) registrars.push(r);
}

/** Registers `ebm train` and its subcommands. */
export function register(program: Command, ctx: CliContext): void {
  const train = program.command('train').description('train a model (see `ebm train <kind> --help`)');
  for (const r of registrars) r(train, ctx);
}
