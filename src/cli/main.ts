#!/usr/bin/env node
/**
 * The `ebm` command-line tool. `main(argv, io)` runs one invocation and resolves to its exit code, so the CLI can be
 * driven in-process (tests) as well as through the `ebm` binary (this file, compiled to `dist/cli/main.js`).
 *
 * Exit codes: 0 success; 2 bad usage or bad input (one line `error: …` on stderr naming the flag, file, line or
 * column); 1 anything else (stack with `EBM_DEBUG=1`).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { initBackend } from '../tensor/select.js';
import { ebmTsVersion } from '../io/model.js';
import { errorJson, processIO, type CliContext, type CliIO } from './context.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, debugEnabled, exitCodeFor, formatError } from './errors.js';
import { guardCommandFiles, namedFiles, releaseOutputLocks } from './outputs.js';
import { checkCommandBudget } from './budget.js';
import { enableSignalHandling } from './signals.js';
import * as rbmFilters from './kinds/rbmHandler.js';
import './kinds/rbmTrain.js';
import './commands/trainEbm.js';
import './kinds/scoreTrain.js';
import './kinds/jem.js';
import { extendForScoreSde } from './kinds/scoreOptions.js';
import * as doctor from './commands/doctor.js';
import * as dataInfo from './commands/dataInfo.js';
import * as train from './commands/train.js';
import * as sample from './commands/sample.js';
import * as evaluate from './commands/evaluate.js';
import * as score from './commands/score.js';
import * as demo from './commands/demo.js';
import * as solve from './commands/solve.js';
import * as denoise from './commands/denoise.js';
import * as recommend from './commands/recommend.js';

/** A command module: registers one command (and its subcommands) on the program. */
export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

/** The built-in commands, in help order. */
export const COMMANDS: CommandModule[] = [demo, train, sample, evaluate, score, rbmFilters, dataInfo, doctor, solve, denoise, recommend];

/** Applies the CLI's error conventions to a command and all its subcommands. */
function configure(cmd: Command, ctx: CliContext): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => ctx.io.stdout(s),
    writeErr: (s) => ctx.io.stderr(s),
    outputError: () => {
      // printed once by main() as a single `error: …` line
    },
  });
  cmd.allowExcessArguments(false);
  // `--quiet` is a shared convention: every command accepts it (commands without progress output ignore it).
  if (cmd.parent && cmd.commands.length === 0 && !cmd.options.some((o) => o.long === '--quiet')) cmd.option('--quiet', 'no progress output');
  for (const sub of cmd.commands) configure(sub, ctx);
}

/** Levenshtein distance (for suggesting a flag). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Commander reports a missing required option before an unknown one, so `--hiden 64` for `--hidden` gave only
 * "required option '--hidden <list>' not specified". This adds the typo: the closest unknown `--flag` in `argv`
 * (edit distance ≤ 2) to the missing option.
 */
function suggestForMissing(message: string, argv: readonly string[], program: Command): string {
  const missing = /'(--[\w-]+)/.exec(message)?.[1];
  if (!missing) return message;
  const known = new Set<string>();
  const walk = (c: Command): void => { for (const o of c.options) if (o.long) known.add(o.long); c.commands.forEach(walk); };
  walk(program);
  const given = argv.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]).filter((a) => !known.has(a));
  const best = given.map((g) => [g, editDistance(g, missing)] as const).filter(([, d]) => d <= 2).sort((x, y) => x[1] - y[1])[0];
  return best ? `${message} (unknown option '${best[0]}': did you mean ${missing}?)` : message;
}

/**
 * Builds the commander program for one invocation.
 * @example const p = buildProgram({ io: processIO(), exitCode: 0 });
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('ebm');
  program
    .description('energy-based models from the command line: train, sample, evaluate (ebm <command> --help)')
    .version(ebmTsVersion(), '-V, --version')
    .showSuggestionAfterError(true);
  for (const c of COMMANDS) c.register(program, ctx);
  extendForScoreSde(program);
  configure(program, ctx);
  // Before any command's work: its memory estimate against the budget, then its output files (type, aliases with
  // inputs and other outputs, directory writable, one-writer locks; see outputs.ts).
  program.hook('preAction', (_self, action) => {
    const opts = action.opts() as Record<string, unknown>;
    checkCommandBudget(opts);
    const { outputs, inputs } = namedFiles(opts, action.args);
    guardCommandFiles(outputs, inputs);
  });
  return program;
}

/**
 * Runs the CLI with arguments `argv` (without `node` and the script) and returns the exit code.
 * @example const code = await main(['data-info', '--data', 'toy:moons', '--json'], io);
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const ctx: CliContext = { io, exitCode: EXIT_OK, json: argv.includes('--json') };
  try {
    initBackend();
  } catch (err) {
    io.stderr(formatError(err) + '\n');
    return EXIT_USAGE;
  }
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    io.stdout(program.helpInformation());
    return EXIT_OK;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT_OK;
      // commander's messages start with "error: "; fold its hint lines ("(Did you mean …?)") into one line.
      let msg = err.message.replace(/^error:\s*/, '');
      if (err.code === 'commander.missingMandatoryOptionValue') msg = suggestForMissing(msg, argv, program);
      io.stderr(formatError(msg) + '\n');
      if (ctx.json) io.stdout(errorJson(new UsageError(msg), EXIT_USAGE));
      return EXIT_USAGE;
    }
    const code = exitCodeFor(err);
    io.stderr(formatError(err, debugEnabled()) + '\n');
    if (ctx.json) io.stdout(errorJson(err, code));
    return code;
  } finally {
    releaseOutputLocks();
  }
  return ctx.exitCode;
}

function isEntryPoint(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  enableSignalHandling();
  // A reader that went away (`ebm … | head`): drop what is left to print rather than crash with an unhandled EPIPE;
  // the command still finishes and writes its files.
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(formatError(err, true) + '\n');
      process.exitCode = EXIT_FAILURE;
    },
  );
}
