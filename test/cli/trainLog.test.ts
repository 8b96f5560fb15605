import { describe, expect, it } from 'vitest';
import { logInterval, rollbackReporter } from '../../src/cli/trainLog.js';

describe('cli/trainLog', () => {
  it('rollbackReporter: one warning line per rollback on stderr, the same line kept for the summary', () => {
    const lines: string[] = [];
    let err = '';
    const report = rollbackReporter(lines, (s) => void (err += s));
    report({ step: 40, reason: 'loss is NaN', rolledBackTo: 30, lrScale: 0.5, stream: 1, rollbacks: 1 });
    report({ step: 55, reason: 'gradient norm exploded', rolledBackTo: 50, lrScale: 0.25, stream: 2, rollbacks: 2 });
    expect(lines).toEqual([
      'rollback at step 40: loss is NaN; back to step 30, learning rate ×0.5, random stream 1',
      'rollback at step 55: gradient norm exploded; back to step 50, learning rate ×0.25, random stream 2',
    ]);
    expect(err).toBe(lines.map((l) => `warning: ${l}\n`).join(''));
  });

  it('logInterval: about 100 records per run, every 1 to 100 steps', () => {
    expect([1, 50, 250, 1000, 100_000].map(logInterval)).toEqual([1, 1, 2, 10, 100]);
  });
});
