/** Timing helpers shared by the benchmark scripts. */

/**
 * Warms `fn` up for 0.3 s, then returns how many calls fill one timing block of `blockSeconds` (at least 1), from a
 * 0.1 s trial. The scripts then time `REPS` blocks of that many calls and report medians.
 * @example const iters = calibratedIterations(step, 0.5);
 */
export function calibratedIterations(fn: () => void, blockSeconds: number): number {
  const t0 = performance.now();
  while (performance.now() - t0 < 300) fn();
  let it = 0;
  const t1 = performance.now();
  while (performance.now() - t1 < 100) { fn(); it++; }
  return Math.max(1, Math.round((blockSeconds * 1000) / ((performance.now() - t1) / it)));
}
