/** Generic block-Gibbs kernel over a record of tensors, for models whose blocks have tractable conditionals. */
import { Tensor } from '../tensor/index.js';
import { split, type Key } from '../random/index.js';
import type { BaseInfo, SamplingAlgorithm } from './types.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

/** A Gibbs state: named blocks, each a tensor whose first axis is the chain. */
export type GibbsState = { readonly [name: string]: Tensor };

/** One block update: draws block `name` from its conditional given the rest of the state. */
export interface GibbsBlock<S extends GibbsState, K extends keyof S & string = keyof S & string> {
  readonly name: K;
  /** `(key, state) → new value of block name`, same shape as `state[name]`. */
  readonly sample: (key: Key, state: S) => S[K];
}

/** Per-sweep diagnostics of block Gibbs. */
export interface GibbsInfo extends BaseInfo {
  /** Name of the first block whose update was non-finite for some chain, or `null`. */
  readonly divergentBlock: string | null;
}

/** Options of {@link blockGibbs}. */
export interface BlockGibbsOptions<S extends GibbsState> {
  /** Block updates, applied in order once per sweep (systematic scan). */
  readonly blocks: ReadonlyArray<{ [K in keyof S & string]: GibbsBlock<S, K> }[keyof S & string]>;
  /** The recorded sample `[chains, ...]` of a state, e.g. `(s) => s.x`. */
  readonly observe: (state: S) => Tensor;
}

/** Returns `next` with non-finite chains replaced by their `prev` rows (a copy only when needed) and flags them. */
function keepFiniteRows(next: Tensor, prev: Tensor, divergent: Uint8Array): [Tensor, boolean] {
  const n = prev.shape[0];
  const D = prev.size / Math.max(n, 1);
  let bad = false;
  for (let i = 0; i < n; i++) {
    for (let j = i * D; j < (i + 1) * D; j++) {
      if (!Number.isFinite(next.data[j])) {
        divergent[i] = 1;
        bad = true;
        break;
      }
    }
  }
  if (!bad) return [next, false];
  const out = next.data.slice();
  for (let i = 0; i < n; i++) if (divergent[i]) out.set(prev.data.subarray(i * D, (i + 1) * D), i * D);
  return [new Tensor(out, next.shape), true];
}

/**
 * Systematic-scan block Gibbs: one step updates every block in order, each from its conditional given the current
 * values of the others (already-updated blocks included), with one key per block split from the step key.
 * A block update must return the block's shape; chains whose update is non-finite keep their old block value and
 * are flagged `divergent` (the driver then throws by default).
 * @example // bivariate Gaussian with correlation ρ
 * const alg = blockGibbs<{ x: Tensor; y: Tensor }>({
 *   blocks: [{ name: 'x', sample: (k, s) => add(mul(s.y, rho), normal(k, s.y.shape, { std: Math.sqrt(1 - rho ** 2) })) },
 *            { name: 'y', sample: (k, s) => add(mul(s.x, rho), normal(k, s.x.shape, { std: Math.sqrt(1 - rho ** 2) })) }],
 *   observe: (s) => concat([s.x, s.y], 1),
 * });
 */
export function blockGibbs<S extends GibbsState>(opts: BlockGibbsOptions<S>): SamplingAlgorithm<S, GibbsInfo, S> {
  if (!opts.blocks.length) throw new InvalidArgumentError('blockGibbs: need at least one block');
  return {
    name: 'gibbs',
    rejectsDivergent: false,
    init(state: S): S {
      for (const b of opts.blocks) {
        if (!(state[b.name] instanceof Tensor)) throw new InvalidTypeError(`blockGibbs.init: state has no tensor block "${b.name}"`);
      }
      return state;
    },
    step(key: Key, state: S): readonly [S, GibbsInfo] {
      const keys = split(key, opts.blocks.length);
      let cur = state;
      const n = opts.observe(state).shape[0];
      const divergent = new Uint8Array(n);
      let divergentBlock: string | null = null;
      opts.blocks.forEach((b, i) => {
        const prev = cur[b.name];
        const next = b.sample(keys[i], cur);
        if (!(next instanceof Tensor) || next.size !== prev.size || next.shape[0] !== prev.shape[0]) {
          throw new InvalidTypeError(`blockGibbs: block "${b.name}" returned ${next instanceof Tensor ? `shape [${next.shape}]` : typeof next}, expected [${prev.shape}]`);
        }
        const [kept, bad] = keepFiniteRows(next, prev, divergent);
        if (bad && divergentBlock === null) divergentBlock = b.name;
        cur = { ...cur, [b.name]: kept };
      });
      return [cur, { divergent, divergentBlock }];
    },
    observe: opts.observe,
  };
}
