/**
 * `ebm sample --energy NAME`: MCMC on analytic energies from the command line, in-process. Statistical checks use
 * the Monte Carlo standard errors the command itself reports (from the multi-chain ESS), not lucky seeds.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebm, filesIn, tempDir, expectUsageError } from './helpers.js';
import { parseCsv } from '../../src/io/csv.js';
import { decodePng } from '../../src/io/png.js';
import { decodeNpy } from '../../src/io/npy.js';


function json(r: { code: number; stdout: string; stderr: string }): Record<string, any> {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout);
}

const GAUSS = '{"mean":[1,-1],"cov":[[1,0.5],[0.5,2]]}';

describe('ebm sample --energy', () => {
  it('mala on a correlated Gaussian: CSV of all draws, plot, and moments within Monte Carlo error', async () => {
    const dir = tempDir('ebm-energy-');
    const out = join(dir, 's.csv'), plot = join(dir, 'p.png');
    const j = json(await ebm('sample', '--energy', 'gaussian', '--params', GAUSS, '--sampler', 'mala', '--chains', '8', '--steps', '1200',
      '--burn-in', '200', '--step-size', '0.5', '--seed', '4', '--out', out, '--plot', plot, '--json'));
    expect(j).toMatchObject({ energy: 'gaussian', sampler: 'mala', dim: 2, chains: 8, steps: 1200, burnIn: 200, kept: 1000, samples: 8000 });
    expect(j.acceptance).toBeGreaterThan(0.3);
    expect(j.acceptance).toBeLessThanOrEqual(1);
    expect(j.ess).toHaveLength(2);
    expect(j.rhat).toHaveLength(2);
    expect(j.rhatMax).toBeLessThan(1.1);
    expect(j.analyticMean).toEqual([1, -1]);
    expect(j.analyticCov).toEqual([[1, 0.5], [0.5, 2]]);
    for (let k = 0; k < 2; k++) {
      expect(j.ess[k]).toBeGreaterThan(50);
      // |mean − truth| < 5 MCSE: a correct sampler fails with probability < 1e-6 per coordinate.
      expect(Math.abs(j.mean[k] - j.analyticMean[k])).toBeLessThan(5 * j.mcse[k]);
    }
    const x = parseCsv(readFileSync(out, 'utf8')).data;
    expect(x.shape).toEqual([8000, 2]);
    // The JSON mean is the mean of the written draws.
    let s0 = 0;
    for (let i = 0; i < 8000; i++) s0 += x.data[2 * i];
    expect(s0 / 8000).toBeCloseTo(j.mean[0], 5);
    const img = decodePng(readFileSync(plot));
    expect(img.shape.slice(0, 2)).toEqual([480, 480]);
  });

  it('hmc, pt, ula and annealed run with their own diagnostics; .npy output; human output', async () => {
    const dir = tempDir('ebm-energy-');
    const h = json(await ebm('sample', '--energy', 'banana', '--sampler', 'hmc', '--chains', '4', '--steps', '300', '--step-size', '0.15',
      '--sampler-options', '{"leapfrogSteps":5}', '--out', join(dir, 'b.npy'), '--json'));
    expect(h.samplerOptions).toEqual({ leapfrogSteps: 5, stepSize: 0.15 });
    expect(h.acceptance).toBeGreaterThan(0);
    expect(decodeNpy(readFileSync(join(dir, 'b.npy'))).shape).toEqual([150 * 4, 2]);
    const pt = json(await ebm('sample', '--energy', 'gmm', '--params', '{"means":[[-3,0],[3,0]],"std":0.7}', '--sampler', 'pt',
      '--sampler-options', '{"numTemperatures":4,"tMax":10}', '--chains', '4', '--steps', '200', '--out', join(dir, 'g.csv'), '--json'));
    expect(pt.swapRates).toHaveLength(3);
    const u = json(await ebm('sample', '--energy', 'ring', '--sampler', 'ula', '--steps', '100', '--step-size', '0.01', '--out', join(dir, 'r.csv'), '--json'));
    expect(u.acceptance).toBeNull();
    expect(u.analyticMean === null || Array.isArray(u.analyticMean)).toBe(true);
    const a = json(await ebm('sample', '--energy', 'gmm', '--params', '{"means":[[-2],[2]],"std":0.5}', '--sampler', 'annealed', '--chains', '8',
      '--steps', '1100', '--burn-in', '1000', '--out', join(dir, 'a.csv'), '--json'));
    expect(a.samplerOptions.stepSize).toBeCloseTo(1e-3, 12);
    const snr = json(await ebm('sample', '--energy', 'gmm', '--params', '{"means":[[-2],[2]],"std":0.5}', '--sampler', 'annealed',
      '--sampler-options', '{"snr":0.16}', '--chains', '4', '--steps', '1100', '--burn-in', '1000', '--out', join(dir, 'a2.csv'), '--json'));
    expect(snr.samplerOptions).toMatchObject({ snr: 0.16 });
    expect(snr.samplerOptions.stepSize).toBeUndefined();
    const human = await ebm('sample', '--energy', 'funnel', '--params', '{"dim":3}', '--steps', '50', '--out', join(dir, 'f.csv'));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/mala on funnel \(d=3\)/);
    expect(human.stdout).toMatch(/ESS/);
  });

  it('help documents the energies\' parameters', async () => {
    const r = await ebm('sample', '--help');
    expect(r.code).toBe(0);
    for (const s of ['--energy', '--params', '--sampler', '"means"', '"covs"', '"weights"', '"std"', 'funnel', '--burn-in', '--gibbs-steps']) expect(r.stdout).toContain(s);
  });

  it('bad --params JSON, bad parameters, unknown --sampler, misuse: exit 2, one line, no output file', async () => {
    const dir = tempDir('ebm-energy-bad-');
    const out = join(dir, 's.csv');
    expectUsageError(await ebm('sample', '--energy', 'gaussian', '--params', '{"mean":[0,0]', '--out', out), '--params');
    expectUsageError(await ebm('sample', '--energy', 'gaussian', '--params', '{"mean":[0,0],"cov":[[1,2],[2,1]]}', '--out', out), '--params');
    expectUsageError(await ebm('sample', '--energy', 'gaussian', '--params', '{"mean":[0,0]}', '--sampler', 'gibbs', '--out', out), '--sampler');
    expectUsageError(await ebm('sample', '--energy', 'nope', '--out', out), '--energy');
    expectUsageError(await ebm('sample', '--energy', 'ring', '--sampler-options', '{"bogus":1}', '--out', out), 'bogus');
    expectUsageError(await ebm('sample', '--energy', 'ring', '--sampler-options', '[1', '--out', out), '--sampler-options');
    expectUsageError(await ebm('sample', '--energy', 'ring', '--steps', '10', '--burn-in', '8', '--out', out), '--burn-in');
    expectUsageError(await ebm('sample', '--energy', 'funnel', '--plot', join(dir, 'p.png'), '--out', out), '--plot');
    expectUsageError(await ebm('sample', '--energy', 'ring', '--n', '10', '--out', out), '--n');
    expectUsageError(await ebm('sample', 'm.safetensors', '--energy', 'ring', '--out', out), 'not both');
    expectUsageError(await ebm('sample', '--out', out), 'model');
    expectUsageError(await ebm('sample', 'm.safetensors', '--params', '{}', '--out', out), '--energy');
    expectUsageError(await ebm('sample', '--energy', 'ring', '--sampler', 'ula', '--step-size', '1000', '--steps', '200', '--out', out), '--step-size');
    expect(filesIn(dir)).toEqual([]);
  });
});
