/**
 * `ebm train score`, and `ebm sample` / `ebm eval` on score-sde model files: tiny happy paths, bit-identical resume,
 * an exact closed-form check of the ODE likelihood pipeline (standardisation Jacobian, prior, divergence), image
 * bits/dim, and bad flags (exit 2).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { key } from '../../src/random/index.js';
import { saveModel } from '../../src/io/model.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { decodeCheckpoint } from '../../src/io/checkpoint.js';
import { loadCsv } from '../../src/io/csv.js';
import { getToy } from '../../src/data/toy.js';
import {
  SCORE_SDE_KIND, initScoreParams, makeScoreSdeConfig, parseScoreArch, resumeArchKey, sdeOf,
} from '../../src/cli/kinds/scoreSde.js';
import { ebm, expectUsageError, tempDir } from './helpers.js';

const TRAIN = ['train', 'score', '--data', 'toy:8gaussians', '--n', '400', '--arch', 'mlp:16,16', '--batch', '64', '--lr', '3e-3', '--seed', '3', '--quiet'];

function bytesOf(path: string): Record<string, string> {
  const st = decodeSafetensors(readFileSync(path));
  return Object.fromEntries(Object.entries(st.tensors).map(([k, t]) => [k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex')]));
}

describe('ebm train score / sample / eval (score-sde)', () => {
  const dir = tempDir('ebm-score-');
  const model = join(dir, 'm.safetensors');

  it('trains a tiny VP model and writes a score-sde file with its config', async () => {
    const r = await ebm(...TRAIN, '--steps', '40', '--out', model, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.kind).toBe(SCORE_SDE_KIND);
    expect(o.sde).toBe('vp');
    expect(o.arch).toBe('mlp:16,16 + Fourier features 64:0.5'); // the default for 2-D vectors
    expect(Number.isFinite(o.loss)).toBe(true);
    const meta = decodeSafetensors(readFileSync(model)).metadata;
    expect(meta.kind).toBe(SCORE_SDE_KIND);
    const cfg = JSON.parse(meta.config);
    expect(cfg).toMatchObject({ dim: 2, sde: 'vp', sdeParams: { betaMin: 0.1, betaMax: 20 }, arch: { kind: 'mlp', hidden: [16, 16] }, imageShape: null });
  });

  it('resumes bit-identically (with EMA) from a checkpoint', async () => {
    const ref = join(dir, 'ref.safetensors');
    const cut = join(dir, 'cut.safetensors');
    const args = [...TRAIN, '--sde', 've', '--ema', '0.9'];
    expect((await ebm(...args, '--steps', '30', '--out', ref)).code).toBe(0);
    const r1 = await ebm(...args, '--steps', '20', '--out', cut, '--checkpoint-every', '10');
    expect(r1.code).toBe(0);
    expect(existsSync(join(dir, 'cut.ckpt.safetensors'))).toBe(true);
    const r2 = await ebm(...args, '--steps', '30', '--out', cut, '--resume', '--json');
    expect(r2.code).toBe(0);
    expect(JSON.parse(r2.stdout).resumedFrom).toBe(20);
    expect(bytesOf(cut)).toEqual(bytesOf(ref));
    // Changed settings are refused on resume.
    expectUsageError(await ebm(...args.map((a) => (a === '3e-3' ? '1e-3' : a)), '--steps', '40', '--out', cut, '--resume'), /lr/);
  });

  for (const sampler of ['pc', 'em', 'ode', 'annealed']) {
    it(`samples with --sampler ${sampler}`, async () => {
      const out = join(dir, `s-${sampler}.csv`);
      const r = await ebm('sample', model, '--sampler', sampler, '--steps', '20', '--n', '50', '--seed', '1', '--out', out, '--json');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const { data } = await loadCsv(out);
      expect(data.shape).toEqual([50, 2]);
      for (const v of data.data) expect(Number.isFinite(v)).toBe(true);
    });
  }

  it('--sampler and --ode-tol reach the model: the file sampled with a named sampler equals the library\'s draw with it', async () => {
    const { openModel } = await import('../../src/models/registry.js');
    const m = await openModel(model);
    const draw = async (...flags: string[]): Promise<number[]> => {
      const out = join(dir, `req-${flags.join('')}.csv`);
      expect((await ebm('sample', model, ...flags, '--steps', '12', '--n', '6', '--seed', '4', '--out', out)).code).toBe(0);
      return Array.from((await loadCsv(out)).data.data);
    };
    const lib = (sampler?: string): number[] => Array.from(m.sample!({ key: key(4), n: 6, steps: 12, ...(sampler ? { sampler } : {}) }).data, Math.fround);
    const [dflt, pc, annealed] = [await draw(), await draw('--sampler', 'pc'), await draw('--sampler', 'annealed')];
    expect(dflt).toEqual(lib());
    expect(pc).toEqual(lib('pc'));
    expect(annealed).toEqual(lib('annealed'));
    expect(pc).not.toEqual(dflt); // the VP model's default is em
    const nll = async (tol: string): Promise<number> => JSON.parse((await ebm('eval', model, '--data', 'toy:8gaussians', '--n', '20', '--ode-tol', tol, '--json')).stdout).nll;
    expect(await nll('1e-1')).not.toBe(await nll('1e-6'));
  });

  it('sample --out .png draws the 2-D density with the samples', async () => {
    const out = join(dir, 's.png');
    const r = await ebm('sample', model, '--sampler', 'em', '--steps', '10', '--n', '20', '--out', out);
    expect(r.code).toBe(0);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
  });

  it('eval --nll ode prints avgLogLik (nats, data space) next to the true density', async () => {
    const r = await ebm('eval', model, '--data', 'toy:8gaussians', '--n', '40', '--nll', 'ode', '--ode-tol', '1e-4', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(Number.isFinite(o.avgLogLik)).toBe(true);
    expect(o.nll).toBeCloseTo(-o.avgLogLik, 12);
    expect(Number.isFinite(o.trueAvgLogLik)).toBe(true);
    expect(o.units).toMatch(/nats per row, data space/);
    expect(o.nllMethod).toMatch(/exact trace/);
  });

  it('ODE likelihood of a zero network equals the closed form N(0, m(eps)² + σ(eps)²) in standardised space, minus log scale', async () => {
    // With the net ≡ 0 the score is the baseline −z/(m(t)² + σ(t)²): the exact score of the diffused N(0, I), so the
    // model density at eps is N(0, v²I) with v² = m(eps)² + σ(eps)² (= 1 for VP, up to rounding); in data space
    // subtract Σ log scale_j. Checks the prior, the flow, the divergence term and the standardisation Jacobian.
    // A sub-VP SDE (v² < 1) makes the check sensitive to the variance as well.
    const x = getToy('8gaussians').sample(key(0), 300);
    const cfg = makeScoreSdeConfig(x, { sde: 'subvp', arch: parseScoreArch('mlp:8'), eps: 0.05 });
    const p = initScoreParams(key(1), cfg);
    for (const k of ['l1.w', 'l1.b']) p[k] = new Tensor(new Float32Array(p[k].size), p[k].shape);
    const path = join(dir, 'zero.safetensors');
    await saveModel(path, { kind: SCORE_SDE_KIND, config: cfg, provenance: { data: 'toy:8gaussians' }, tensors: p });
    const r = await ebm('eval', path, '--data', 'toy:8gaussians', '--n', '50', '--seed', '4', '--json');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    const sde = sdeOf(cfg);
    const v = Math.sqrt(sde.meanCoef(cfg.eps) ** 2 + sde.std(cfg.eps) ** 2);
    expect(v).toBeLessThan(0.99);
    // Recompute on the same held-out rows the command used (seed 4, n 50).
    const { loadDataSpec } = await import('../../src/data/spec.js');
    const { evalDataKey } = await import('../../src/cli/common.js');
    const d = await loadDataSpec('toy:8gaussians', { key: evalDataKey(4), n: 50 });
    let s = 0;
    for (let i = 0; i < 50; i++) {
      for (let j = 0; j < 2; j++) {
        const z = (d.x.data[2 * i + j] - cfg.shift[j]) / cfg.scale[j];
        s += -0.5 * Math.log(2 * Math.PI * v * v) - (z * z) / (2 * v * v) - Math.log(cfg.scale[j]);
      }
    }
    expect(o.avgLogLik).toBeCloseTo(s / 50, 3);
  });

  it('image data: trains on 8 MNIST digits, samples a PNG grid, and reports bits/dim with the dequantisation', async () => {
    const img = join(dir, 'img.safetensors');
    const t = await ebm('train', 'score', '--data', 'mnist:test', '--limit', '8', '--arch', 'mlp:8', '--steps', '3', '--batch', '8', '--quiet', '--out', img, '--json');
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    const png = join(dir, 'digits.png');
    const s = await ebm('sample', img, '--sampler', 'em', '--steps', '5', '--n', '4', '--out', png);
    expect(s.code).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    const e = await ebm('eval', img, '--data', 'mnist:test', '--limit', '2', '--ode-tol', '1e-2', '--json');
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    const o = JSON.parse(e.stdout);
    expect(o.dequantization).toMatch(/uniform dequantisation, 256 bins.*\[-1, 1\]/);
    // bpd = −(avgLogLik + D·log(2/256)) / (D·ln 2)
    expect(o.bitsPerDim).toBeCloseTo(-(o.avgLogLik + 784 * Math.log(2 / 256)) / (784 * Math.LN2), 9);
  });

  it('--arch unet[:C[,M]]: base width and 7×7 residual blocks (default 4; ",0" is the net of older files)', () => {
    expect(parseScoreArch('unet')).toEqual({ kind: 'unet', base: 16, embedDim: 32, mid: 4 });
    expect(parseScoreArch('unet:32')).toEqual({ kind: 'unet', base: 32, embedDim: 32, mid: 4 });
    expect(parseScoreArch('unet:32,0')).toEqual({ kind: 'unet', base: 32, embedDim: 32, mid: 0 });
    const x = new Tensor(new Float32Array(2 * 784).map((_, i) => (i % 256) / 255), [2, 784]);
    const cfg = makeScoreSdeConfig(x, { sde: 'vp', arch: parseScoreArch('unet:4,2'), imageShape: [28, 28] });
    expect(Object.keys(initScoreParams(key(0), cfg)).filter((k) => k.startsWith('mid')).length).toBe(6);
    // A file written before the field existed has no `mid`: its net has no 7×7 blocks.
    const old = makeScoreSdeConfig(x, { sde: 'vp', arch: { kind: 'unet', base: 4, embedDim: 32 }, imageShape: [28, 28] });
    expect(Object.keys(initScoreParams(key(0), old)).some((k) => k.startsWith('mid'))).toBe(false);
    // Checkpoints written before `M` existed hold the resume key `unet:C`: `--arch unet:C,0` matches it, the default does not.
    expect(resumeArchKey(parseScoreArch('unet:32,0'))).toBe('unet:32');
    expect(resumeArchKey(parseScoreArch('unet:32'))).toBe('unet:32,4');
    expect(resumeArchKey(parseScoreArch('mlp:8,8'))).toBe('mlp:8,8');
  });

  it('bad flags and mismatches exit 2 with one error line', async () => {
    const out = join(dir, 'bad.safetensors');
    expectUsageError(await ebm(...TRAIN, '--steps', '5', '--out', out, '--sde', 'xx'), /--sde/);
    expectUsageError(await ebm(...TRAIN, '--steps', '0', '--out', out), /--steps/);
    expectUsageError(await ebm(...TRAIN, '--steps', '5', '--out', out, '--arch', 'mlp:x'), /--arch/);
    expectUsageError(await ebm(...TRAIN, '--steps', '5', '--out', out, '--arch', 'unet'), /28×28/);
    expectUsageError(await ebm(...TRAIN, '--steps', '5', '--out', out, '--arch', 'unet:8,17'), /7×7 residual blocks/);
    expectUsageError(await ebm(...TRAIN, '--steps', '5', '--out', out, '--sde', 've', '--beta-min', '0.1'), /--beta-min applies to --sde vp/);
    expectUsageError(await ebm(...TRAIN, '--steps', '5', '--out', join(dir, 'bad.txt')), /--out/);
    expect(existsSync(out)).toBe(false);
    expectUsageError(await ebm('sample', model, '--sampler', 'nope', '--out', join(dir, 'x.csv')), /--sampler/);
    expectUsageError(await ebm('sample', model, '--sampler', 'mala', '--out', join(dir, 'x.csv')), /score-sde models sample with pc, ode, em, annealed/);
    expectUsageError(await ebm('sample', '--energy', 'gaussian', '--sampler', 'pc', '--out', join(dir, 'x.csv')), /not for --energy/);
    expectUsageError(await ebm('eval', model, '--data', 'toy:8gaussians', '--nll', 'elbo'), /--nll/);
    expectUsageError(await ebm('eval', model, '--data', 'mnist:test', '--limit', '2'), /784 columns but the model takes 2/);
  });
});

describe('ebm train ebm --loss dsm|ssm|ssm-vr|sm (score matching of deep EBMs)', () => {
  const dir = tempDir('ebm-score-ebm-');
  for (const loss of ['dsm', 'ssm-vr', 'sm']) {
    it(`--loss ${loss} trains a deep-ebm file that ebm eval and ebm sample accept`, async () => {
      const out = join(dir, `${loss}.safetensors`);
      const r = await ebm('train', 'ebm', '--arch', 'mlp:2-16-16-1', '--loss', loss, '--data', 'toy:8gaussians', '--n', '300', '--steps', '15', '--batch', '32', '--quiet', '--out', out, '--json');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const o = JSON.parse(r.stdout);
      expect(o).toMatchObject({ kind: 'deep-ebm', loss });
      expect(Number.isFinite(o.finalLoss)).toBe(true);
      const prov = JSON.parse(decodeSafetensors(readFileSync(out)).metadata.provenance);
      expect(prov.loss).toBe(loss);
      const e = await ebm('eval', out, '--data', 'toy:8gaussians', '--n', '50', '--grid', '40', '--json');
      expect(e.code).toBe(0);
      expect(Number.isFinite(JSON.parse(e.stdout).avgLogLik)).toBe(true);
    });
  }
  it('refuses CD-only options with a score-matching loss, and unknown losses', async () => {
    const base = ['train', 'ebm', '--arch', 'mlp:2-8-1', '--data', 'toy:8gaussians', '--n', '100', '--steps', '2', '--out', join(dir, 'x.safetensors')];
    expectUsageError(await ebm(...base, '--loss', 'dsm', '--samples-png', join(dir, 'x.png')), /--samples-png applies to --loss cd only/);
    expectUsageError(await ebm(...base, '--loss', 'ssm', '--negatives', 'tempered'), /--negatives tempered applies to --loss cd only/);
    expectUsageError(await ebm(...base, '--loss', 'nce'), /--loss/);
    expectUsageError(await ebm(...base, '--loss', 'ssm', '--sigma-max', '1'), /--sigma-max and --heat apply to --loss dsm only/);
    expectUsageError(await ebm(...base, '--loss', 'dsm', '--sigma', '0.5', '--sigma-max', '0.2'), /--sigma-max \(0\.2\) must be larger than --sigma/);
    expectUsageError(await ebm(...base, '--loss', 'dsm', '--sigma-max', 'none', '--heat', '1'), /--heat applies to a noise-conditional energy/);
    expectUsageError(await ebm(...base, '--loss', 'dsm', '--heat', '-1'), /--heat must be ≥ 0/);
    expectUsageError(await ebm('train', 'ebm', '--data', 'digits', '--limit', '20', '--steps', '1', '--arch', 'conv:1x8x8:4:8', '--loss', 'dsm', '--sigma-max', '1', '--out', join(dir, 'x.safetensors')), /mlp architectures only/);
    expect(existsSync(join(dir, 'x.safetensors'))).toBe(false);
  });
  it('--loss dsm: the default on 2-D vectors is a noise-conditional energy; --sigma-max none trains single-σ DSM', async () => {
    const base = ['train', 'ebm', '--arch', 'mlp:2-8-1', '--data', 'toy:8gaussians', '--n', '100', '--steps', '3', '--loss', 'dsm', '--quiet', '--json'];
    const nc = join(dir, 'nc.safetensors'), single = join(dir, 'single.safetensors');
    expect((await ebm(...base, '--out', nc)).code).toBe(0);
    expect((await ebm(...base, '--sigma-max', 'none', '--out', single)).code).toBe(0);
    const a = decodeSafetensors(readFileSync(nc)), b = decodeSafetensors(readFileSync(single));
    const ca = JSON.parse(a.metadata.config), cb = JSON.parse(b.metadata.config);
    expect(ca.noise.sigmaMin).toBe(JSON.parse(a.metadata.provenance).sigma);
    expect(JSON.parse(a.metadata.provenance)).toMatchObject({ heat: 1, batch: 128, lr: 5e-3 });
    expect(cb.noise).toBeUndefined();
    expect(JSON.parse(b.metadata.provenance)).toMatchObject({ batch: 256, lr: 2e-3 });
    expect(a.tensors['l0.w'].shape[0]).toBe(b.tensors['l0.w'].shape[0] + 1);
    for (const f of [nc, single]) {
      const e = await ebm('score', f, '--data', 'toy:8gaussians', '--n', '5', '--out', join(dir, 'scores.csv'));
      expect(e.code).toBe(0);
    }
  });
});

describe('--fourier m:scale (random Fourier input features) for train ebm and train score', () => {
  const dir = tempDir('ebm-fourier-');
  it('train ebm (cd and dsm) stores the feature map; eval and sample rebuild the same energy', async () => {
    for (const loss of ['cd', 'dsm']) {
      const out = join(dir, `ff-${loss}.safetensors`);
      const r = await ebm('train', 'ebm', '--arch', 'mlp:2-16-1', '--fourier', '8:0.5', '--loss', loss, '--lr-decay', 'cosine', '--data', 'toy:8gaussians',
        '--n', '200', '--steps', '10', '--batch', '32', '--mcmc-steps', '2', '--no-check', '--quiet', '--out', out, '--json');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const meta = decodeSafetensors(readFileSync(out));
      const cfg = JSON.parse(meta.metadata.config);
      expect(cfg.fourier.features).toBe(8);
      expect(cfg.fourier.scale).toBe(0.5);
      expect(cfg.fourier.B).toHaveLength(16);
      // 2·8 features in; dsm's default noise-conditional energy reads log σ as one more input.
      expect(meta.tensors['l0.w'].shape).toEqual([loss === 'dsm' ? 17 : 16, 16]);
      if (loss === 'dsm') expect(cfg.noise.sigmaMax).toBeGreaterThan(cfg.noise.sigmaMin);
      else expect(cfg.noise).toBeUndefined();
      expect(JSON.parse(meta.metadata.provenance).lrDecay).toBe('cosine');
      const e = await ebm('eval', out, '--data', 'toy:8gaussians', '--n', '50', '--grid', '40', '--json');
      expect(e.code).toBe(0);
      expect(Number.isFinite(JSON.parse(e.stdout).avgLogLik)).toBe(true);
      expect((await ebm('sample', out, '--n', '5', '--steps', '5', '--out', join(dir, `s-${loss}.csv`))).code).toBe(0);
    }
  });
  it('train score stores the feature map and the ODE likelihood runs on it', async () => {
    const out = join(dir, 'ff-score.safetensors');
    const r = await ebm(...TRAIN, '--fourier', '4:0.5', '--steps', '10', '--out', out, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).arch).toBe('mlp:16,16 + Fourier features 4:0.5');
    const meta = decodeSafetensors(readFileSync(out));
    expect(JSON.parse(meta.metadata.config).arch.fourier.B).toHaveLength(8);
    expect(meta.tensors['l0.w'].shape).toEqual([2 + 8 + 16, 16]); // z, 2·4 features, time embedding
    const e = await ebm('eval', out, '--data', 'toy:8gaussians', '--n', '20', '--nll', 'ode', '--ode-tol', '1e-3', '--json');
    expect(e.code).toBe(0);
    expect(Number.isFinite(JSON.parse(e.stdout).avgLogLik)).toBe(true);
  });
  it('refuses a malformed spec, a conv architecture, and a tampered feature map', async () => {
    const base = ['train', 'ebm', '--data', 'toy:8gaussians', '--n', '100', '--steps', '2', '--out', join(dir, 'bad.safetensors')];
    expectUsageError(await ebm(...base, '--arch', 'mlp:2-8-1', '--fourier', '8'), /--fourier.*m:scale/);
    expectUsageError(await ebm(...base, '--arch', 'mlp:2-8-1', '--fourier', '0:1'), /--fourier.*m:scale/);
    expectUsageError(await ebm(...base, '--arch', 'mlp:2-8-1', '--fourier', '4:1', '--confine', '0'), /not normalisable/);
    expectUsageError(await ebm('train', 'ebm', '--data', 'digits', '--limit', '20', '--steps', '1', '--arch', 'conv:1x8x8:4:8', '--fourier', '4:1', '--out', join(dir, 'bad.safetensors')), /mlp architectures only/);
    expect(existsSync(join(dir, 'bad.safetensors'))).toBe(false);
    const good = join(dir, 'ff-cd.safetensors');
    const st = decodeSafetensors(readFileSync(good));
    const cfg = JSON.parse(st.metadata.config);
    cfg.fourier.B = cfg.fourier.B.slice(1);
    const tampered = join(dir, 'tampered.safetensors');
    await saveModel(tampered, { kind: st.metadata.kind, config: cfg, provenance: JSON.parse(st.metadata.provenance), tensors: st.tensors });
    const e = await ebm('eval', tampered, '--data', 'toy:8gaussians', '--n', '10');
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/fourier\.B" must be 2×8 finite numbers/);
  });
});

describe('ebm train ebm --checkpoint-every / --resume', () => {
  const dir = tempDir('ebm-train-ebm-resume-');
  const base = ['train', 'ebm', '--arch', 'mlp:2-8-8-1', '--fourier', '4:0.5', '--data', 'toy:8gaussians', '--n', '200', '--batch', '16', '--seed', '4', '--no-check', '--lr-decay', 'none', '--quiet'];
  const cases: [string, string[]][] = [
    ['cd, tempered negatives, EMA', ['--loss', 'cd', '--negatives', 'tempered', '--sampler', 'mala', '--temps', '3', '--chains', '16', '--mcmc-steps', '2', '--ema', '0.9']],
    ['cd, replay buffer', ['--loss', 'cd', '--negatives', 'buffer', '--buffer', '64', '--mcmc-steps', '3']],
    ['dsm', ['--loss', 'dsm', '--sigma', '0.2']],
  ];
  for (const [name, extra] of cases) {
    it(`${name}: 10 steps, then --resume to 20, ends bit-identical to an uninterrupted 20-step run`, async () => {
      const tag = name.replace(/[^a-z]+/g, '-');
      const ref = join(dir, `${tag}-ref.safetensors`);
      const cut = join(dir, `${tag}-cut.safetensors`);
      expect((await ebm(...base, ...extra, '--steps', '20', '--out', ref)).code).toBe(0);
      const r1 = await ebm(...base, ...extra, '--steps', '10', '--out', cut, '--checkpoint-every', '5');
      expect(r1.stderr).toBe('');
      expect(r1.code).toBe(0);
      expect(decodeCheckpoint(readFileSync(join(dir, `${tag}-cut.ckpt.safetensors`))).step).toBe(10);
      const r2 = await ebm(...base, ...extra, '--steps', '20', '--out', cut, '--resume', '--json');
      expect(r2.code).toBe(0);
      expect(JSON.parse(r2.stdout).resumedFrom).toBe(10);
      expect(bytesOf(cut)).toEqual(bytesOf(ref));
    });
  }
  it('refuses to resume with other settings (a cosine schedule fixes --steps)', async () => {
    const out = join(dir, 'cos.safetensors');
    const args = [...base, '--loss', 'cd', '--mcmc-steps', '2', '--lr-decay', 'cosine', '--out', out];
    expect((await ebm(...args, '--steps', '10', '--checkpoint-every', '5')).code).toBe(0);
    expectUsageError(await ebm(...args, '--steps', '20', '--resume'), /steps/);
    expectUsageError(await ebm(...base, '--loss', 'cd', '--mcmc-steps', '3', '--lr-decay', 'cosine', '--out', out, '--steps', '10', '--resume'), /mcmcSteps/);
  });
});
