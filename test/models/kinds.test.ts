/**
 * One home per model kind: the library call sequence (config → init → pure trainStep per step → params) reproduces
 * what `ebm train score` and `ebm train mlp-energy` write, bit for bit, on a tiny problem; a kept training state is
 * not changed by later steps; every saved kind round-trips through the registry (`decodeModel`/`openModel`) with the
 * same sampling and energies as the library functions.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, reshape, gatherRows } from '../../src/tensor/index.js';
import { key, split, foldIn } from '../../src/random/index.js';
import { loadCsv, formatCsv } from '../../src/io/csv.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { getToy } from '../../src/data/toy.js';
import { epochBatchIndices } from '../../src/data/batches.js';
import { decodeModel, openModel, modelKinds } from '../../src/models/registry.js';
import {
  makeScoreSdeConfig, initScoreSdeState, scoreSdeTrainStep, finalScoreParams, toModelSpace, netShape, sampleScoreSde,
  encodeScoreSdeModel, type ScoreSdeConfig, type ScoreSdeTrainState,
} from '../../src/models/scoreSde/index.js';
import {
  makeMlpEnergyConfig, initMlpEnergyState, mlpEnergyTrainStep, mlpEnergyCdTrainStep, energyZ, standardize, sampleMlpEnergy, energyOf, saveMlpEnergyBytes,
  type MlpEnergyTrainState,
} from '../../src/models/mlpEnergy/index.js';
import { encodeModel } from '../../src/io/model.js';
import { ula } from '../../src/samplers/index.js';
import { contrastiveDivergence } from '../../src/losses/contrastiveDivergence.js';
import type { MLPParams } from '../../src/nn/index.js';
import { initDeepEbm, parseArch } from '../../src/models/deepEbm/index.js';
import { encodeRbmModel, initRbmForData, rbmGibbsSample, rbmFreeEnergy, type RbmConfig } from '../../src/models/rbm/kind.js';
import { ebm, tempDir, ROOT } from '../cli/helpers.js';

function hexOf(t: Record<string, Tensor>): Record<string, string> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).toString('hex')]));
}

function fileTensors(path: string): Record<string, Tensor> {
  return decodeSafetensors(readFileSync(path)).tensors;
}

describe('library call sequence = CLI result', () => {
  const dir = tempDir('ebm-kinds-');
  const csv = join(dir, 'x.csv');
  writeFileSync(csv, formatCsv(getToy('8gaussians').sample(key(11), 150)));

  it('score-sde: config, init, 12 trainSteps with the CLI key schedule give the file ebm train score writes', async () => {
    const out = join(dir, 'score.safetensors');
    const r = await ebm('train', 'score', '--data', csv, '--arch', 'mlp:8,8', '--fourier', 'none', '--steps', '12', '--batch', '32', '--lr', '3e-3', '--seed', '4', '--ema', '0.9', '--out', out, '--quiet', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = await openModel(out);
    const x = (await loadCsv(csv)).data;
    const cfg: ScoreSdeConfig = makeScoreSdeConfig(x, { sde: 'vp', arch: { kind: 'mlp', hidden: [8, 8], embedDim: 16, activation: 'silu' } });
    expect(cfg).toEqual(m.file.config);
    const opts = { lr: 3e-3, ema: 0.9 };
    const [kInit, kTrain, kData] = split(key(4), 3);
    const step = scoreSdeTrainStep(cfg, opts);
    const z = toModelSpace(cfg, x);
    const n = x.shape[0];
    const B = 32;
    const batchIdx = epochBatchIndices(kData, n, B);
    let s: ScoreSdeTrainState = initScoreSdeState(cfg, kInit, opts);
    const losses: number[] = [];
    for (let t = 1; t <= 12; t++) {
      const [next, info] = step(s, reshape(gatherRows(z, batchIdx(t)), netShape(cfg, B)), foldIn(kTrain, t));
      losses.push(info.loss);
      s = next;
    }
    expect(s.step).toBe(12);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(hexOf(finalScoreParams(s))).toEqual(hexOf(fileTensors(out)));
    // Sampling through the registry is the library's sampler.
    const viaRegistry = m.sample!({ key: key(5), n: 6, steps: 20 });
    const direct = sampleScoreSde(finalScoreParams(s), cfg, key(5), 6, { steps: 20 });
    expect(Array.from(viaRegistry.data)).toEqual(Array.from(direct.data));
  });

  it.each(['dsm', 'ssm'] as const)('mlp-energy (%s): config, init, 15 trainSteps give the file ebm train mlp-energy writes', async (loss) => {
    const out = join(dir, `mlp-${loss}.safetensors`);
    const r = await ebm('train', 'mlp-energy', '--data', csv, '--hidden', '8,8', '--loss', loss, '--steps', '15', '--batch', '40', '--lr', '5e-3', '--seed', '9', '--out', out, '--quiet', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const x = (await loadCsv(csv)).data;
    const cfg = makeMlpEnergyConfig(x, { hidden: [8, 8], loss });
    const m = await openModel(out);
    expect(cfg).toEqual(m.file.config);
    const [kInit, kTrain, kData] = split(key(9), 3);
    const step = mlpEnergyTrainStep(cfg, { lr: 5e-3 });
    const z = standardize(cfg, x);
    const batchIdx = epochBatchIndices(kData, x.shape[0], 40);
    let s: MlpEnergyTrainState = initMlpEnergyState(cfg, kInit, { lr: 5e-3 });
    for (let t = 1; t <= 15; t++) [s] = step(s, gatherRows(z, batchIdx(t)), foldIn(kTrain, t));
    expect(hexOf(s.params)).toEqual(hexOf(fileTensors(out)));
    const probe = new Tensor(Float32Array.from([0, 0, 1, -1, 2.5, 0.5]), [3, 2]);
    expect(Array.from(m.energy!(probe))).toEqual(Array.from(energyOf(s.params, cfg, probe)));
    expect(Array.from(m.sample!({ key: key(2), n: 5, steps: 30 }).data)).toEqual(Array.from(sampleMlpEnergy(s.params, cfg, key(2), 5, { steps: 30 }).data));
  });
});

describe('training states are values', () => {
  it('a kept score-sde state is unchanged by later steps (params, Adam moments, EMA), and replaying it gives the same next state', () => {
    const x = getToy('moons').sample(key(1), 64);
    const cfg = makeScoreSdeConfig(x, { sde: 've', arch: { kind: 'mlp', hidden: [6], embedDim: 8, activation: 'silu' } });
    const opts = { lr: 1e-2, ema: 0.5 };
    const step = scoreSdeTrainStep(cfg, opts);
    const z = toModelSpace(cfg, x);
    let s = initScoreSdeState(cfg, key(2), opts);
    [s] = step(s, z, key(3));
    const kept = s;
    const snapshot = JSON.stringify([hexOf(kept.params), hexOf(kept.ema!), kept.opt.map((o) => JSON.stringify(o, (_k, v) => (v instanceof Tensor ? Array.from(v.data) : v)))]);
    const [a] = step(kept, z, key(4));
    [s] = step(a, z, key(5));
    expect(JSON.stringify([hexOf(kept.params), hexOf(kept.ema!), kept.opt.map((o) => JSON.stringify(o, (_k, v) => (v instanceof Tensor ? Array.from(v.data) : v)))])).toBe(snapshot);
    const [again] = step(kept, z, key(4));
    expect(hexOf(again.params)).toEqual(hexOf(a.params));
    expect(again.step).toBe(2);
  });

  it('mlp-energy by CD (the playground objective): the step returns new params, Adam and CD states and leaves the old ones', () => {
    const x = getToy('moons').sample(key(1), 64);
    const cfg = makeMlpEnergyConfig(x, { hidden: [6], loss: 'dsm' });
    const z = standardize(cfg, x);
    const cd = contrastiveDivergence<MLPParams>({
      energy: (p) => ({ dim: 2, energy: (u: Tensor) => energyZ(p, cfg, u) }), sampler: (E) => ula(E, { stepSize: 0.01 }),
      steps: 3, negatives: 'buffer', bufferSize: 32, reinitFrom: { kind: 'uniform', low: -3, high: 3 },
    });
    const step = mlpEnergyCdTrainStep(cd, { lr: 1e-2 });
    const s0 = initMlpEnergyState(cfg, key(2), { lr: 1e-2 });
    const s1 = { ...s0, cd: cd.initState(key(3), s0.params, z) };
    const buf = Array.from(s1.cd.buffer!.data);
    const [s2, info] = step(s1, z, key(4));
    step(s2, z, key(5));
    expect(Number.isFinite(info.loss) && Number.isFinite(info.gap)).toBe(true);
    expect(s2.step).toBe(1);
    expect(Array.from(s1.cd.buffer!.data)).toEqual(buf);
    expect(hexOf(step(s1, z, key(4))[0].params)).toEqual(hexOf(s2.params));
  });

  it('a kept mlp-energy state is unchanged by later steps', () => {
    const x = getToy('moons').sample(key(1), 64);
    const cfg = makeMlpEnergyConfig(x, { hidden: [6], loss: 'dsm' });
    const step = mlpEnergyTrainStep(cfg, { lr: 1e-2 });
    const z = standardize(cfg, x);
    const s0 = initMlpEnergyState(cfg, key(2), { lr: 1e-2 });
    const [s1] = step(s0, z, key(3));
    const before = JSON.stringify(s1.opt, (_k, v) => (v instanceof Tensor ? Array.from(v.data) : v));
    const [s2] = step(s1, z, key(4));
    step(s2, z, key(5));
    expect(JSON.stringify(s1.opt, (_k, v) => (v instanceof Tensor ? Array.from(v.data) : v))).toBe(before);
    expect(hexOf(step(s1, z, key(4))[0].params)).toEqual(hexOf(s2.params));
  });
});

describe('registry', () => {
  it('knows the library kinds', () => {
    expect(modelKinds().map((k) => k.kind)).toEqual(expect.arrayContaining(['score-sde', 'mlp-energy', 'rbm', 'deep-ebm', 'rbm-cf']));
  });

  it('round-trips score-sde, mlp-energy and rbm files: bytes → decodeModel → the same samples and energies as the library', () => {
    const x = getToy('moons').sample(key(1), 50);
    const sCfg = makeScoreSdeConfig(x, { sde: 'vp', arch: { kind: 'mlp', hidden: [5], embedDim: 8, activation: 'silu' } });
    const sParams = initScoreSdeState(sCfg, key(2), { lr: 1e-3 }).params;
    const sm = decodeModel(encodeScoreSdeModel({ cfg: sCfg, params: sParams, provenance: { data: 'moons' } }), 's.safetensors');
    expect(sm.kind).toBe('score-sde');
    expect(sm.file.config).toEqual(sCfg);
    expect(hexOf(sm.file.tensors)).toEqual(hexOf(sParams));
    expect(Array.from(sm.sample!({ key: key(3), n: 4, steps: 10, sampler: 'em' }).data)).toEqual(Array.from(sampleScoreSde(sParams, sCfg, key(3), 4, { steps: 10, sampler: 'em' }).data));
    expect(() => sm.sample!({ key: key(3), n: 4, sampler: 'gibbs' })).toThrow(/pc, ode, em, annealed/);

    const mCfg = makeMlpEnergyConfig(x, { hidden: [5], loss: 'ssm' });
    const mParams = initMlpEnergyState(mCfg, key(4), { lr: 1e-3 }).params;
    const mm = decodeModel(saveMlpEnergyBytes({ cfg: mCfg, params: mParams, provenance: {} }), 'm.safetensors');
    expect(mm.kind).toBe('mlp-energy');
    expect(Array.from(mm.energy!(x))).toEqual(Array.from(energyOf(mParams, mCfg, x)));

    const bits = new Tensor(Float32Array.from({ length: 40 * 6 }, (_, i) => ((i * 7919) % 3 === 0 ? 1 : 0)), [40, 6]);
    const rCfg: RbmConfig = { visible: 'bernoulli', categories: 1, nVisible: 6, nHidden: 3, imageShape: null };
    const rParams = initRbmForData(key(5), bits, rCfg);
    const rm = decodeModel(encodeRbmModel(rCfg, rParams), 'r.safetensors');
    expect(rm.kind).toBe('rbm');
    expect(Array.from(rm.energy!(bits))).toEqual(Array.from(rbmFreeEnergy(rParams, bits)));
    expect(Array.from(rm.sample!({ key: key(6), n: 3, steps: 5 }).data)).toEqual(Array.from(rbmGibbsSample(rParams, key(6), 3, 5).data));
  });

  it('reads files the CLI wrote before the move, and retraining with the same flags gives the same numbers', async () => {
    // Fixtures written by the pre-move CLI: `ebm train score|mlp-energy --data toy:moons --n 64 --arch mlp:4 | --hidden 4
    // --steps 2 --batch 16 --seed 1`.
    const fx = join(ROOT, 'test/fixtures/models');
    const dir = tempDir('ebm-kinds-old-');
    for (const [kind, file, flags, tol] of [
      // The defaults changed after these files were written (Fourier features, EMA, lr): pass the old ones.
      ['score-sde', 'score-sde-v0.safetensors', ['score', '--arch', 'mlp:4', '--fourier', 'none', '--ema', '0', '--lr', '1e-3'], 0],
      // mlp-energy now differentiates the library's DSM (σ² times its loss): equal up to float32 rounding.
      ['mlp-energy', 'mlp-energy-v0.safetensors', ['mlp-energy', '--hidden', '4'], 1e-6],
    ] as const) {
      const old = await openModel(join(fx, file));
      expect(old.kind).toBe(kind);
      expect(old.describe()).toMatch(/trained on toy:moons/);
      expect(old.sample!({ key: key(1), n: 3, steps: 5 }).shape).toEqual([3, 2]);
      const out = join(dir, file);
      const r = await ebm('train', ...flags, '--data', 'toy:moons', '--n', '64', '--steps', '2', '--batch', '16', '--seed', '1', '--out', out, '--quiet');
      expect(r.code).toBe(0);
      const now = await openModel(out);
      expect(now.file.config).toEqual(old.file.config);
      for (const [name, t] of Object.entries(old.file.tensors)) {
        const u = now.file.tensors[name];
        let d = 0;
        for (let q = 0; q < t.size; q++) d = Math.max(d, Math.abs(t.data[q] - u.data[q]));
        expect(d, `${kind} ${name}`).toBeLessThanOrEqual(tol);
      }
    }
  });
});

describe('registry contract table (every kind with a sampler)', () => {
  const x = getToy('moons').sample(key(1), 40);
  const bits = new Tensor(Float32Array.from({ length: 40 * 6 }, (_, i) => ((i * 7919) % 3 === 0 ? 1 : 0)), [40, 6]);
  const sCfg = makeScoreSdeConfig(x, { sde: 've', arch: { kind: 'mlp', hidden: [5], embedDim: 8, activation: 'silu' } });
  const mCfg = makeMlpEnergyConfig(x, { hidden: [5], loss: 'dsm' });
  const rCfg: RbmConfig = { visible: 'bernoulli', categories: 1, nVisible: 6, nHidden: 3, imageShape: null };
  const dCfg = {
    arch: parseArch('mlp:2-5-1'), activation: 'silu' as const, shift: [0], scale: [1], confine: 0.01,
    sampler: 'ula' as const, stepSize: 0.01, mcmcSteps: 5, initLow: [-2, -2], initHigh: [2, 2], clamp: null, imageShape: null,
  };
  const files: [string, number, Uint8Array][] = [
    ['score-sde', 2, encodeScoreSdeModel({ cfg: sCfg, params: initScoreSdeState(sCfg, key(2), { lr: 1e-3 }).params, provenance: {} })],
    ['mlp-energy', 2, saveMlpEnergyBytes({ cfg: mCfg, params: initMlpEnergyState(mCfg, key(3), { lr: 1e-3 }).params, provenance: {} })],
    ['rbm', 6, encodeRbmModel(rCfg, initRbmForData(key(4), bits, rCfg))],
    ['deep-ebm', 2, encodeModel({ kind: 'deep-ebm', config: dCfg, provenance: {}, tensors: initDeepEbm(key(5), dCfg) })],
  ];
  it.each(files)('%s: decodes, samples [n, dim] deterministically given the key, finite energies of the right shape', (kind, dim, bytes) => {
    const m = decodeModel(bytes, `${kind}.safetensors`);
    expect(m.kind).toBe(kind);
    expect(m.dim).toBe(dim);
    expect(m.describe()).toMatch(new RegExp(`^${kind}`));
    const a = m.sample!({ key: key(7), n: 5, steps: 8 });
    const b = m.sample!({ key: key(7), n: 5, steps: 8 });
    const c = m.sample!({ key: key(8), n: 5, steps: 8 });
    expect(a.shape).toEqual([5, dim]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
    expect(Array.from(a.data).every(Number.isFinite)).toBe(true);
    if (m.energy) {
      const e = m.energy(a);
      expect(e.length).toBe(5);
      expect(Array.from(e).every(Number.isFinite)).toBe(true);
    }
  });

  it('a damaged file is a DataError naming the file', () => {
    const bytes = files[1][2].slice();
    expect(() => decodeModel(bytes.subarray(0, 40), 'cut.safetensors')).toThrow(/cut\.safetensors/);
    const wrongKind = encodeModel({ kind: 'nope', config: {}, provenance: {}, tensors: {} });
    expect(() => decodeModel(wrongKind, 'w.safetensors')).toThrow(/model kind "nope"/);
  });
});

describe('README: model kinds in code (examples/kinds.ts)', () => {
  it('the README shows the code of examples/kinds.ts', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const src = readFileSync(join(ROOT, 'examples/kinds.ts'), 'utf8');
    const body = src.slice(src.indexOf('// begin README kinds\n') + '// begin README kinds\n'.length, src.indexOf('// end README kinds'));
    const chunks = body.trim().split('\n\n');
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    for (const c of chunks) expect(readme, c.split('\n')[0]).toContain(c.trim());
  });

  it('runs every kind and the file round trip', async () => {
    const ex = await import('../../examples/kinds.js');
    const s = ex.scoreSdeExample(30);
    expect(s.samples.shape).toEqual([500, 2]);
    expect(Number.isFinite(s.avgLogLik)).toBe(true);
    expect(ex.anyModelExample(s.file).shape).toEqual([100, 2]);
    const m = ex.mlpEnergyExample(30);
    expect(m.samples.shape).toEqual([500, 2]);
    expect(Number.isFinite(m.avgLogLik)).toBe(true);
    const r = ex.rbmExample(2);
    expect(r.samples.shape).toEqual([10, 16]);
    expect(Array.from(r.freeEnergy.data).every(Number.isFinite)).toBe(true);
    const d = ex.deepEbmExample(10);
    expect(Object.values(d.params).every((t) => Array.from(t.data).every(Number.isFinite))).toBe(true);
  }, 120_000);
});
