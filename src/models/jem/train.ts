/**
 * Training JEMs (and, with the same loop, plain classifiers for comparison): packs rows and labels, builds the hybrid
 * loss and runs the deep-EBM trainer (Adam, gradient clipping, divergence guard with rollback / new random stream /
 * lower learning rate).
 * @module
 */
import type { Tensor, Tree } from '../../tensor/index.js';
import type { Key } from '../../random/index.js';
import type { Schedule } from '../../optim/index.js';
import { trainDeepEbm, type TrainedDeepEbm, type DeepEbmLogRecord, type GuardOptions, type GuardEvent } from '../deepEbm/index.js';
import { jemLoss, packLabelled, type JemLossOptions } from './loss.js';
import { InvalidArgumentError } from '../../errors.js';

/** Options of {@link trainJem}. */
export interface TrainJemOptions<P extends Tree> extends Omit<JemLossOptions<P>, 'dim'> {
  /** Initial parameters of the classifier. */
  readonly params: P;
  /** Training rows `[n, D]`. */
  readonly x: Tensor;
  /** Labels `[n]` (−1 = unlabelled). */
  readonly y: ArrayLike<number>;
  /** Parameter updates. */
  readonly trainSteps: number;
  readonly batchSize: number;
  readonly key: Key;
  /** Adam learning rate (default 1e-3). */
  readonly lr?: number | Schedule;
  /** Global gradient-norm clip (default none). */
  readonly clipNorm?: number;
  /** Divergence guard (default on, trainer defaults). */
  readonly guard?: GuardOptions | false;
  /** Log every this many steps (default 50). */
  readonly logEvery?: number;
  /** Receives each log record with the JEM diagnostics of that step. */
  readonly onLog?: (rec: DeepEbmLogRecord & { ce: number; acc: number; condGap: number }) => void;
  /** Called when the divergence guard rolls training back to the last good state. */
  readonly onRollback?: (ev: GuardEvent) => void;
}

/**
 * Trains a JEM by minimising the hybrid loss (see `jemLoss`) with Adam. Deterministic given the key. With
 * `weights: {clf: 1, px: 0, pxy: 0}` this is plain classifier training with the very same batches and optimiser.
 * @example
 * const res = trainJem({ classifier: mlpClassifier(), params: initMLP(key(0), [64, 128, 10]), x, y, numClasses: 10,
 *   trainSteps: 2000, batchSize: 64, key: key(1), steps: 20 });
 */
export function trainJem<P extends Tree>(o: TrainJemOptions<P>): TrainedDeepEbm<P> {
  if (o.x.ndim !== 2) throw new InvalidArgumentError(`trainJem: x must be [n, D], got [${o.x.shape.join(', ')}]`);
  const D = o.x.shape[1];
  const loss = jemLoss<P>({ ...o, dim: D });
  const data = packLabelled(o.x, o.y);
  return trainDeepEbm({
    params: o.params,
    loss,
    data,
    steps: o.trainSteps,
    batchSize: o.batchSize,
    key: o.key,
    ...(o.lr !== undefined ? { lr: o.lr } : {}),
    ...(o.clipNorm !== undefined ? { clipNorm: o.clipNorm } : {}),
    ...(o.guard !== undefined ? { guard: o.guard } : {}),
    ...(o.logEvery !== undefined ? { logEvery: o.logEvery } : {}),
    ...(o.onRollback ? { onRollback: o.onRollback } : {}),
    onLog: (rec) => {
      // The trainer logs right after evaluating the loss of this step, so lastAux() is this step's.
      const a = loss.lastAux();
      o.onLog?.({ ...rec, ce: a?.ce ?? NaN, acc: a?.acc ?? NaN, condGap: a?.condGap ?? 0 });
    },
  });
}
