/**
 * Score-sde options on the shared `ebm sample` and `ebm eval` commands, added by a hook so those commands' modules
 * stay untouched:
 * - `ebm sample MODEL --sampler pc|ode|em|annealed`: the existing `--sampler` flag (MCMC kernel in `--energy` mode)
 *   also accepts the diffusion samplers; with `--energy` they are refused (exit 2).
 * - `ebm eval MODEL --nll ode [--ode-tol T]`: likelihood method and RK45 tolerance of score-sde models.
 *
 * A `preAction` hook records the values given on the command line for the invocation being run; the score-sde
 * handler reads them with {@link scoreRequest}. (The cleaner long-term route is a `sampler` field in
 * `SampleOptions` passed by `ebm sample`; see the report of issue 7.)
 */
import { InvalidArgumentError, type Command } from 'commander';
import { parseChoice, parsePositiveFloat } from '../options.js';
import { SAMPLER_NAMES } from '../commands/sampleEnergy.js';

/** Diffusion samplers accepted by `ebm sample --sampler` for score-sde models. */
export const DIFFUSION_SAMPLER_NAMES = ['pc', 'ode', 'em', 'annealed'] as const;

/** What the current `ebm sample`/`ebm eval` invocation asked of a score-sde model. */
export interface ScoreRequest {
  /** `--sampler`, when given on the command line. */
  sampler?: string;
  /** `--nll`, when given. */
  nll?: string;
  /** `--ode-tol`, when given. */
  odeTol?: number;
}

let current: ScoreRequest = {};

/** The score-sde request of the invocation being run (empty outside `ebm sample`/`ebm eval`). */
export function scoreRequest(): ScoreRequest {
  return current;
}

/** Sets the request (used by the hook; tests may call it to drive the handler directly). */
export function setScoreRequest(r: ScoreRequest): void {
  current = { ...r };
}

/**
 * Extends the built `sample` and `eval` commands of `program` with the score-sde options and installs the
 * `preAction` hooks that record them. Call once per program, after the commands are registered.
 * @example const program = buildProgram(ctx); extendForScoreSde(program);
 */
export function extendForScoreSde(program: Command): void {
  current = {};
  const sample = program.commands.find((c) => c.name() === 'sample');
  if (sample) {
    const opt = sample.options.find((o) => o.long === '--sampler');
    if (opt) {
      const prev = opt.parseArg;
      opt.parseArg = ((raw: string, previous: unknown) => {
        if ((DIFFUSION_SAMPLER_NAMES as readonly string[]).includes(raw)) return raw;
        if (prev) {
          try {
            return prev(raw, previous);
          } catch {
            // fall through to one message listing both families
          }
        }
        throw new InvalidArgumentError(`must be an MCMC sampler (with --energy: ${SAMPLER_NAMES.join(', ')}) or, for score-sde models, one of ${DIFFUSION_SAMPLER_NAMES.join(', ')}; got "${raw}"`);
      }) as typeof opt.parseArg;
      opt.description += `; score-sde model files: ${DIFFUSION_SAMPLER_NAMES.join(', ')} (default pc for VE, em for VP/sub-VP; --steps = reverse-time steps)`;
    }
    sample.hook('preAction', (_cmd, action) => {
      const o = action.opts() as { sampler?: string; energy?: string };
      const given = action.getOptionValueSource('sampler') === 'cli';
      if (given && o.energy !== undefined && (DIFFUSION_SAMPLER_NAMES as readonly string[]).includes(o.sampler ?? '') && o.sampler !== 'annealed') {
        action.error(`error: option '--sampler <name>' argument '${o.sampler}' is invalid. ${o.sampler} is a diffusion sampler for score-sde model files, not for --energy`, { exitCode: 2, code: 'commander.invalidArgument' });
      }
      current = given && o.sampler !== undefined ? { sampler: o.sampler } : {};
    });
  }
  const evalCmd = program.commands.find((c) => c.name() === 'eval');
  if (evalCmd) {
    evalCmd
      .option('--nll <method>', 'score-sde models: log-likelihood method (ode: probability-flow ODE, the default)', parseChoice(['ode'] as const))
      .option('--ode-tol <tol>', 'score-sde models: RK45 tolerance rtol = atol of the ODE likelihood (default 1e-5)', parsePositiveFloat);
    evalCmd.hook('preAction', (_cmd, action) => {
      const o = action.opts() as { nll?: string; odeTol?: number };
      current = { ...(o.nll !== undefined ? { nll: o.nll } : {}), ...(o.odeTol !== undefined ? { odeTol: o.odeTol } : {}) };
    });
  }
}
