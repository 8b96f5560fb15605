import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { quickstart } from '../examples/quickstart.js';

describe('README example (examples/quickstart.ts)', () => {
  it('is the code the README shows', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../examples/quickstart.ts', import.meta.url), 'utf8');
    const body = example.split('\n').filter((l) => l.startsWith('  const lossAndGrad')).join('');
    expect(readme).toContain(body.trim());
  });

  it('runs: trains, evaluates against the true density and samples', () => {
    const r = quickstart(800);
    expect(Number.isFinite(r.avgLogLik)).toBe(true);
    // 800 DSM steps get within 1 nat of the true density's held-out log-likelihood (≈0.2 nat after 1500).
    expect(r.trueAvgLogLik - r.avgLogLik).toBeLessThan(1.0);
    expect(r.ess).toBeGreaterThan(10);
    // The 8-Gaussians target is centred: the chains' mean is near 0 (each coordinate has sd ≈ 1.4, ESS > 10).
    for (const m of r.sampleMean) expect(Math.abs(m)).toBeLessThan(1.5);
  });
});
