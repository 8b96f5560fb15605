/** The sampling driver: runs an algorithm for many steps from explicit keys and collects samples, infos and traces. */
import { Tensor, stack, createBufferPool, withBufferReuse } from '../tensor/index.js';
import { foldIn, type Key } from '../random/index.js';
import { DivergenceError, type BaseInfo, type SamplingAlgorithm } from './types.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link sample}. */
export interface SampleOptions<S, I extends BaseInfo, P> {
  /** Root key; step `t` uses `foldIn(key, t)`, so runs are reproducible and independent of `onStep`. */
  readonly key: Key;
  /** Starting point handed to `algorithm.init` (`[chains, ...dim]` for gradient samplers). */
  readonly init: P;
  /** Total number of transitions, burn-in included. */
  readonly steps: number;
  /** Transitions discarded before recording (default 0). */
  readonly burnIn?: number;
  /** Record every `thin`-th state after burn-in (default 1). */
  readonly thin?: number;
  /** Expected number of chains; checked against the initial state when given. */
  readonly chains?: number;
  /** Also keep every state (burn-in included, initial state first) in `trajectory`. */
  readonly trajectory?: boolean;
  /**
   * What to do when a step flags divergent chains: `'throw'` a {@link DivergenceError}, or `'record'` (count it and go
   * on; the divergent chains kept their previous point). Default: throw for algorithms without an accept step
   * (`rejectsDivergent: false`), record for those that reject.
   */
  readonly onDivergence?: 'throw' | 'record';
  /** Called after every step with the 1-based step number; return `false` to stop early. */
  readonly onStep?: (step: number, state: S, info: I) => void | boolean;
  /**
   * Run each step in a buffer-reuse scope (`withBufferReuse`, a pool owned by this run), so that a step's dead
   * intermediates feed the next steps instead of fresh arrays (default true). Results are identical either way; the
   * algorithm's `step` must be pure (return its new state; keep no tensors elsewhere), as every sampler here is.
   * **Caution:** a tensor that a user energy computes inside a step and caches in a closure (e.g. `W ??= matmul(A, B)`)
   * is dead to the scope and its buffer is overwritten by a later step: compute such constants before sampling, or
   * pass `reuseBuffers: false`.
   */
  readonly reuseBuffers?: boolean;
}

/** Result of {@link sample}. */
export interface SampleResult<S, I extends BaseInfo> {
  /** Recorded samples `[kept, chains, ...dim]` with `kept = ⌊(steps − burnIn)/thin⌋` (fewer if stopped early). */
  readonly samples: Tensor;
  /** The Info of every step, in order (burn-in included). */
  readonly infos: I[];
  /** The last state (resume by passing it to further `step` calls). */
  readonly finalState: S;
  /** Energies `[steps][chains]` of the observed chains after each step, when the algorithm exposes them. */
  readonly energyTrace: Float64Array[] | null;
  /** All observed states `[steps + 1, chains, ...dim]` when `trajectory: true`. */
  readonly trajectory: Tensor | null;
  /** Number of (step, chain) divergences flagged. */
  readonly divergences: number;
  /** Steps actually run. */
  readonly stepsRun: number;
}

/**
 * Runs `algorithm` for `steps` transitions of all chains at once, recording every `thin`-th observed state after
 * `burnIn`. A non-finite step raises a {@link DivergenceError} naming the step and chains (see `onDivergence`).
 * @example
 * const res = sample(mala(E, { stepSize: 0.2 }), { key: key(0), init: zeros([64, 2]), steps: 3000, burnIn: 500 });
 * res.samples.shape // [2500, 64, 2]
 */
export function sample<S, I extends BaseInfo, P>(algorithm: SamplingAlgorithm<S, I, P>, opts: SampleOptions<S, I, P>): SampleResult<S, I> {
  const { steps } = opts;
  const burnIn = opts.burnIn ?? 0;
  const thin = opts.thin ?? 1;
  if (!Number.isInteger(steps) || steps < 0) throw new InvalidArgumentError(`sample: steps must be an integer ≥ 0, got ${steps}`);
  if (!Number.isInteger(burnIn) || burnIn < 0 || burnIn > steps) throw new InvalidArgumentError(`sample: burnIn must be an integer in [0, steps], got ${burnIn}`);
  if (!Number.isInteger(thin) || thin < 1) throw new InvalidArgumentError(`sample: thin must be an integer ≥ 1, got ${thin}`);
  const mode = opts.onDivergence ?? (algorithm.rejectsDivergent ? 'record' : 'throw');
  let state = algorithm.init(opts.init);
  const first = algorithm.observe(state);
  if (opts.chains !== undefined && first.shape[0] !== opts.chains) {
    throw new InvalidArgumentError(`sample: init has ${first.shape[0]} chains, expected ${opts.chains}`);
  }
  const kept: Tensor[] = [];
  const infos: I[] = [];
  const traj: Tensor[] | null = opts.trajectory ? [first] : null;
  const energyTrace: Float64Array[] | null = algorithm.energyOf ? [] : null;
  let divergences = 0;
  let t = 0;
  const pool = opts.reuseBuffers === false ? null : createBufferPool();
  while (t < steps) {
    const k = foldIn(opts.key, t);
    const s0 = state;
    const [next, info] = pool === null ? algorithm.step(k, s0) : withBufferReuse(pool, () => algorithm.step(k, s0));
    t++;
    state = next;
    infos.push(info);
    let bad = 0;
    for (let i = 0; i < info.divergent.length; i++) bad += info.divergent[i];
    if (bad) {
      divergences += bad;
      if (mode === 'throw') {
        const which: number[] = [];
        for (let i = 0; i < info.divergent.length; i++) if (info.divergent[i]) which.push(i);
        throw new DivergenceError(
          `${algorithm.name}: non-finite energy or position at step ${t} in chain(s) ${which.slice(0, 10).join(', ')}${which.length > 10 ? ', …' : ''}` +
            ' (they kept their previous point); lower the step size, clip gradients, or pass onDivergence: "record"',
          t, which,
        );
      }
    }
    const obs = algorithm.observe(state);
    if (t > burnIn && (t - burnIn) % thin === 0) kept.push(obs);
    if (traj) traj.push(obs);
    if (energyTrace) energyTrace.push(Float64Array.from(algorithm.energyOf!(state).data));
    if (opts.onStep && opts.onStep(t, state, info) === false) break;
  }
  const samples = kept.length ? stack(kept, 0) : new Tensor(first.dtype === 'float64' ? new Float64Array(0) : new Float32Array(0), [0, ...first.shape]);
  return { samples, infos, finalState: state, energyTrace, trajectory: traj ? stack(traj, 0) : null, divergences, stepsRun: t };
}
