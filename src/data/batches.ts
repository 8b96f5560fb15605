/** Mini-batch order from keys: reproducible from any step, so a resumed run draws exactly the same batches. */
import { foldIn, permutation, type Key } from '../random/index.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Returns `t ↦ row indices of mini-batch t` (t = 1, 2, …) for `n` rows in batches of `B`: the rows are read in the
 * order of a fresh permutation per epoch (epoch `e` uses `permutation(foldIn(key, e), n)`), batches run on across
 * epoch boundaries, and batch `t` depends only on `(key, t)` — not on which batches were drawn before.
 * @example const batchIdx = epochBatchIndices(kData, data.rows, 128); gatherRows(x, batchIdx(step))
 */
export function epochBatchIndices(key: Key, n: number, B: number): (t: number) => Int32Array {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(B) || B < 1) throw new InvalidArgumentError(`epochBatchIndices: need n ≥ 1 and B ≥ 1, got n=${n}, B=${B}`);
  let permEpoch = -1;
  let perm: Int32Array = new Int32Array(0);
  return (t: number): Int32Array => {
    const idx = new Int32Array(B);
    for (let j = 0; j < B; j++) {
      const pos = (t - 1) * B + j;
      const e = Math.floor(pos / n);
      if (e !== permEpoch) {
        perm = permutation(foldIn(key, e), n);
        permEpoch = e;
      }
      idx[j] = perm[pos - e * n];
    }
    return idx;
  };
}
