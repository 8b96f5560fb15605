/** Utilities over parameter trees. */
import { treeLeaves, type Tree } from '../tensor/autodiff.js';

/**
 * Total number of scalar parameters in a tree: `Σ_leaves size`.
 * @example paramCount(initMLP(key(0), [2, 64, 1])) // 2·64 + 64 + 64 + 1 = 257
 */
export function paramCount(tree: Tree): number {
  let n = 0;
  for (const t of treeLeaves(tree)) n += t.size;
  return n;
}
