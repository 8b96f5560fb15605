/**
 * The memory budget of a command, checked from its flags before anything is allocated: model size from `--hidden` /
 * `--arch`, the quadrature grid of `--grid`, the row count of `--n`, chains and buffers. The estimates are lower
 * bounds (they assume the smallest data dimension), so a refusal is certain to be right; allocations the flags cannot
 * predict are bounded by the file readers (input size, PNG pixels, safetensors tensor count) and by the CLI's
 * out-of-memory net, which turns a failed allocation into one `error:` line with exit 2.
 *
 * The budget is {@link memoryBudget} (`EBM_MAX_MEMORY`, default 75% of available memory).
 */
import { BudgetError, memoryBudget } from '../io/limits.js';

/** Bytes per row assumed for row-valued work (one 64-wide float32 hidden layer of activations per row). */
const BYTES_PER_ROW = 256;

function widthsOf(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  if (typeof v === 'string') return (v.match(/\d+/g) ?? []).map(Number);
  return [];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** One line of a command's memory estimate: the flag it comes from, what it is, and bytes. */
export interface BudgetItem {
  flag: string;
  what: string;
  bytes: number;
}

/**
 * Lower-bound memory estimates of a command from its parsed options (commander's `opts()`, camel-cased names).
 * @example estimateFromOptions({ hidden: [1e9] }) // [{ flag: '--hidden', what: 'a model with …', bytes: 3.2e10 }]
 */
export function estimateFromOptions(o: Record<string, unknown>): BudgetItem[] {
  const items: BudgetItem[] = [];
  const batch = num(o.batch) ?? 1;
  for (const flag of ['hidden', 'arch'] as const) {
    const w = widthsOf(o[flag]);
    if (w.length === 0) continue;
    // parameters: chain of layers from an input of width ≥ 1 to an output of width ≥ 1, plus biases
    let params = w[0];
    for (let i = 0; i + 1 < w.length; i++) params += w[i] * w[i + 1];
    for (const x of w) params += 2 * x;
    // params, gradients and two optimiser moments in float32; activations of a batch, forward and backward
    const bytes = 16 * params + 8 * batch * w.reduce((a, b) => a + b, 0);
    items.push({ flag: `--${flag}`, what: `a model with at least ${params.toExponential(2)} parameters`, bytes });
  }
  const grid = num(o.grid);
  if (grid !== undefined) items.push({ flag: '--grid', what: `a ${grid}×${grid} quadrature grid`, bytes: grid * grid * BYTES_PER_ROW });
  const n = num(o.n);
  if (n !== undefined) items.push({ flag: '--n', what: `${n} rows`, bytes: n * BYTES_PER_ROW });
  const chains = num(o.chains);
  const temps = num(o.temps) ?? 1;
  if (chains !== undefined) items.push({ flag: '--chains', what: `${chains * temps} chains`, bytes: chains * temps * BYTES_PER_ROW });
  const buffer = num(o.buffer);
  if (buffer !== undefined) items.push({ flag: '--buffer', what: `a replay buffer of ${buffer} rows`, bytes: buffer * 4 });
  const ais = num(o.aisRuns);
  if (ais !== undefined) items.push({ flag: '--ais-runs', what: `${ais} AIS runs`, bytes: ais * BYTES_PER_ROW });
  return items;
}

/**
 * Refuses a command whose estimated memory ({@link estimateFromOptions}) exceeds the budget, naming the largest item's
 * flag and the estimate (a {@link BudgetError}, exit 2).
 */
export function checkCommandBudget(o: Record<string, unknown>): void {
  const items = estimateFromOptions(o);
  if (items.length === 0) return;
  const total = items.reduce((a, b) => a + b.bytes, 0);
  const budget = memoryBudget();
  if (total <= budget) return;
  const top = items.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  throw new BudgetError(`${top.flag}: ${top.what}`, total, budget);
}
