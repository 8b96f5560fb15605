/**
 * Score-sde options on the shared `ebm sample` and `ebm eval` commands, added by a hook so those commands' modules
 * stay untouched:
 * - `ebm sample MODEL --sampler pc|ode|em|annealed`: the existing `--sampler` flag (MCMC kernel in `--energy` mode)
 *   also accepts the diffusion samplers; with `--energy` they are refused (exit 2).
 * - `ebm eval MODEL --nll ode [--ode-tol T]`: likelihood method and RK45 tolerance of score-sde models.
 *
 * The commands read these options from their own parsed options ({@link scoreSampleRequest},
 * {@link scoreEvalRequest}) and pass them to the model's `sample` / `evaluate` explicitly; nothing is kept between
 * invocations.
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

/**
 * The score-sde request of an `ebm sample` invocation: `--sampler` when it was given on the command line (its default
 * belongs to `--energy` sampling; a model file then uses its kind's default sampler).
 * @example m.sample({ key, n, ...scoreSampleRequest(cmd) })
 */
export function scoreSampleRequest(cmd: Command): ScoreRequest {
  const sampler = cmd.getOptionValueSource('sampler') === 'cli' ? (cmd.opts() as { sampler?: unknown }).sampler : undefined;
  return typeof sampler === 'string' ? { sampler } : {};
}

/**
 * The score-sde request of an `ebm eval` invocation: `--nll` and `--ode-tol` when given (options added by
 * {@link extendForScoreSde}).
 * @example m.evaluate(data, { key, ...scoreEvalRequest(cmd.opts()) })
 */
export function scoreEvalRequest(o: { nll?: unknown; odeTol?: unknown }): ScoreRequest {
  return { ...(typeof o.nll === 'string' ? { nll: o.nll } : {}), ...(typeof o.odeTol === 'number' ? { odeTol: o.odeTol } : {}) };
}

/**
 * Extends the built `sample` and `eval` commands of `program` with the score-sde options (and the check that
 * `--energy` refuses a diffusion sampler). Call once per program, after the commands are registered.
 * @example const program = buildProgram(ctx); extendForScoreSde(program);
 */
export function extendForScoreSde(program: Command): void {
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
    });
  }
  const evalCmd = program.commands.find((c) => c.name() === 'eval');
  if (evalCmd) {
    evalCmd
      .option('--nll <method>', 'score-sde models: log-likelihood method (ode: probability-flow ODE, the default)', parseChoice(['ode'] as const))
      .option('--ode-tol <tol>', 'score-sde models: RK45 tolerance rtol = atol of the ODE likelihood (default 1e-5)', parsePositiveFloat);
  }
}
