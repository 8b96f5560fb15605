import { describe, it, expect } from 'vitest';
import { Tensor, tensor, sum, mul, reshape, matmul, square, sub, exp } from '../../src/tensor/index.js';
import { key, split, normal, foldIn, randintArray } from '../../src/random/index.js';
import { ula } from '../../src/samplers/index.js';
import type { Energy } from '../../src/energy/index.js';
import {
  contrastiveDivergence, cdValueAndGrad, spectralNormalize, freshChains, type CDState,
} from '../../src/losses/contrastiveDivergence.js';

type Lin = { w: Tensor };
/** E(x) = x·w (a linear energy): ∇_w of the CD loss is mean(x⁺) − mean(x⁻) exactly. */
const linear = (p: Lin): Energy => ({ dim: 2, energy: (x) => reshape(matmul(x, reshape(p.w, [2, 1])), [x.shape[0]]) });

type Gauss = { mu: Tensor; logPrec: Tensor };
/** E(x) = ½·exp(logPrec)·(x − μ)², a 1-D Gaussian family. */
const gauss = (p: Gauss): Energy => ({
  dim: 1,
  energy: (x) => reshape(mul(mul(square(sub(x, p.mu)), exp(p.logPrec)), 0.5), [x.shape[0]]),
});

describe('contrastiveDivergence', () => {
  it('gradient is mean ∇E(x⁺) − mean ∇E(x⁻) with the negatives it reports', () => {
    const cd = contrastiveDivergence<Lin>({ energy: linear, sampler: (E) => ula(E, { stepSize: 0.01 }), steps: 3, negatives: 'data' });
    const batch = normal(key(1), [64, 2]);
    const p = { w: tensor([0.3, -0.2]) };
    const st = cd.initState(key(2), p, batch);
    expect(st.buffer).toBeNull();
    const r = cdValueAndGrad(cd)(p, batch, key(3), st);
    const xn = r.aux.negatives;
    for (let j = 0; j < 2; j++) {
      let mp = 0, mn = 0;
      for (let i = 0; i < 64; i++) { mp += batch.data[2 * i + j] / 64; mn += xn.data[2 * i + j] / 64; }
      expect(r.grads.w.data[j]).toBeCloseTo(mp - mn, 5);
    }
    // Negatives moved (ULA ran) and the loss is the energy gap.
    expect(xn.data).not.toEqual(batch.data);
    expect(r.loss).toBeCloseTo(r.aux.gap, 6);
    expect(r.aux.samplerDivergent).toBe(0);
  });

  it('adds α·(mean E⁺² + mean E⁻²) and its gradient', () => {
    const alpha = 0.3;
    const cd = contrastiveDivergence<Lin>({ energy: linear, sampler: (E) => ula(E, { stepSize: 0.01 }), steps: 2, negatives: 'data', alpha });
    const batch = normal(key(4), [32, 2]);
    const p = { w: tensor([0.5, 0.1]) };
    const r = cdValueAndGrad(cd)(p, batch, key(5), cd.initState(key(6), p, batch));
    const ep = Array.from({ length: 32 }, (_, i) => batch.data[2 * i] * 0.5 + batch.data[2 * i + 1] * 0.1);
    const xn = r.aux.negatives;
    const en = Array.from({ length: 32 }, (_, i) => xn.data[2 * i] * 0.5 + xn.data[2 * i + 1] * 0.1);
    const m2 = (a: number[]) => a.reduce((s, v) => s + v * v, 0) / a.length;
    expect(r.aux.reg).toBeCloseTo(alpha * (m2(ep) + m2(en)), 4);
    expect(r.loss).toBeCloseTo(r.aux.gap + r.aux.reg, 4);
    // d/dw_0 of α·mean(E²) = 2α·mean(E·x_0)
    const g0 = ep.reduce((s, e, i) => s + batch.data[2 * i] / 32, 0) - en.reduce((s, e, i) => s + xn.data[2 * i] / 32, 0)
      + 2 * alpha * (ep.reduce((s, e, i) => s + (e * batch.data[2 * i]) / 32, 0) + en.reduce((s, e, i) => s + (e * xn.data[2 * i]) / 32, 0));
    expect(r.grads.w.data[0]).toBeCloseTo(g0, 4);
  });

  it('replay buffer: writes back only the drawn rows, re-initialises about `reinit` of them, keeps old states intact', () => {
    const N = 400, B = 200, reinit = 0.25;
    const cd = contrastiveDivergence<Lin>({
      energy: linear, sampler: (E) => ula(E, { stepSize: 1e-4 }), steps: 1, negatives: 'buffer', bufferSize: N, reinit,
      reinitFrom: { kind: 'uniform', low: 100, high: 101 },
    });
    const data = normal(key(7), [50, 2]);
    const p = { w: tensor([0, 0]) };
    const s0 = { ...cd.initState(key(8), p, data) } as CDState;
    // Put every buffer row far from the re-init box so re-initialised chains are recognisable.
    const buf0 = new Tensor(new Float32Array(N * 2).fill(-5), [N, 2]);
    const st: CDState = { ...s0, buffer: buf0 };
    const r = cdValueAndGrad(cd)(p, data.data.length ? normal(key(9), [B, 2]) : data, key(10), st);
    expect(buf0.data.every((v) => v === -5)).toBe(true); // pure: the old buffer is untouched
    const nb = r.state.buffer!;
    let changed = 0, fresh = 0;
    for (let i = 0; i < N; i++) {
      const v = nb.data[2 * i];
      if (Math.abs(v + 5) > 1e-6) changed++;
      if (v > 99) fresh++;
    }
    expect(changed).toBe(B); // exactly the B drawn rows were rewritten
    // Binomial(B, reinit): mean 50, sd √(200·0.25·0.75) ≈ 6.1 — accept ±4 sd.
    const sd = Math.sqrt(B * reinit * (1 - reinit));
    expect(Math.abs(fresh - B * reinit)).toBeLessThan(4 * sd);
    expect(r.state.step).toBe(1);
  });

  it('persistent chains continue from the previous end points', () => {
    const cd = contrastiveDivergence<Lin>({ energy: linear, sampler: (E) => ula(E, { stepSize: 0.01 }), steps: 2, negatives: 'persistent', chains: 16 });
    const p = { w: tensor([0.1, 0.1]) };
    const data = normal(key(11), [16, 2]);
    const s0 = cd.initState(key(12), p, data);
    expect(s0.buffer!.shape).toEqual([16, 2]);
    const r1 = cdValueAndGrad(cd)(p, data, key(13), s0);
    expect(Array.from(r1.state.buffer!.data)).toEqual(Array.from(r1.aux.negatives.data));
    expect(() => cdValueAndGrad(cd)(p, normal(key(1), [8, 2]), key(14), s0)).not.toThrow(); // negatives fixed at 16 chains
  });

  it('PCD recovers the MLE of a Gaussian family (mean and precision) within the iterate noise', () => {
    const [kd, kr] = split(key(20), 2);
    const n = 4000;
    const data = normal(kd, [n, 1], { mean: 1.5, std: 0.5 });
    let m = 0, v = 0;
    for (const x of data.data) m += x / n;
    for (const x of data.data) v += ((x - m) * (x - m)) / n;
    const eta = 0.01;
    const cd = contrastiveDivergence<Gauss>({
      energy: gauss, sampler: (E) => ula(E, { stepSize: eta }), steps: 5, negatives: 'buffer', bufferSize: 1000, reinit: 0,
      reinitFrom: { kind: 'normal', mean: 0, std: 2 },
    });
    let p: Gauss = { mu: tensor([0]), logPrec: tensor([0]) };
    let st = cd.initState(foldIn(kr, 0), p, data);
    const vg = cdValueAndGrad(cd);
    const lr = 0.05;
    const mus: number[] = [], precs: number[] = [];
    for (let t = 1; t <= 600; t++) {
      const k = foldIn(kr, t);
      const [kb, kl] = split(k, 2);
      const idx = randintArray(kb, 0, n, 128);
      const batch = new Tensor(Float32Array.from(idx, (i) => data.data[i]), [128, 1]);
      const r = vg(p, batch, kl, st);
      st = r.state;
      // plain SGD on both parameters (precision in log space)
      p = { mu: tensor([p.mu.data[0] - lr * r.grads.mu.data[0]]), logPrec: tensor([p.logPrec.data[0] - lr * r.grads.logPrec.data[0]]) };
      if (t > 300) { mus.push(p.mu.data[0]); precs.push(Math.exp(p.logPrec.data[0])); }
    }
    const avg = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    const sdOf = (a: number[]) => Math.sqrt(avg(a.map((x) => (x - avg(a)) ** 2)));
    // ULA's stationary variance for this Gaussian is s²/(1 − η·prec/2): the CD fixed point matches it to the data.
    const targetPrec = 1 / v;
    expect(Math.abs(avg(mus) - m)).toBeLessThan(4 * sdOf(mus) + 0.02);
    expect(Math.abs(avg(precs) - targetPrec) / targetPrec).toBeLessThan(4 * sdOf(precs) / targetPrec + eta * targetPrec);
  });

  it('spectral normalisation divides each weight by its top singular value', () => {
    const w = normal(key(30), [5, 3]);
    const b = tensor([1, 2, 3]);
    const { params, sn } = spectralNormalize({ w, b }, {}, 50);
    expect(params.b).toBe(b);
    // top singular value of the result via many power iterations = 1
    const again = spectralNormalize({ w: params.w }, {}, 200);
    const u = again.sn['0'];
    expect(u.shape).toEqual([5]);
    // σ(W_sn) = ‖W_sn v‖ where v is the top right singular vector; check by the ratio of the two normalisations
    let ratio = 0;
    for (let i = 0; i < 15; i++) if (Math.abs(params.w.data[i]) > 1e-3) { ratio = again.params.w.data[i] / params.w.data[i]; break; }
    expect(ratio).toBeCloseTo(1, 3);
    expect(Object.keys(sn)).toEqual(['0']);
  });

  it('fresh chains come from the requested source', () => {
    const u = freshChains(key(40), { kind: 'uniform', low: [0, 10], high: [1, 11] }, 500, [2], 'float32');
    for (let i = 0; i < 500; i++) {
      expect(u.data[2 * i]).toBeGreaterThanOrEqual(0); expect(u.data[2 * i]).toBeLessThan(1);
      expect(u.data[2 * i + 1]).toBeGreaterThanOrEqual(10); expect(u.data[2 * i + 1]).toBeLessThan(11);
    }
    const pool = tensor([[7, 7], [9, 9]]);
    const d = freshChains(key(41), { kind: 'data' }, 10, [2], 'float32', pool);
    for (const v of d.data) expect([7, 9]).toContain(v);
  });

  it('rejects bad options and mismatched shapes with clear errors', () => {
    const base = { energy: linear, sampler: (E: Energy) => ula(E, { stepSize: 0.01 }) };
    expect(() => contrastiveDivergence<Lin>({ ...base, steps: 0 })).toThrow(/steps/);
    expect(() => contrastiveDivergence<Lin>({ ...base, steps: 1, reinit: 2 })).toThrow(/reinit/);
    expect(() => contrastiveDivergence<Lin>({ ...base, steps: 1, reinitFrom: { kind: 'uniform', low: 1, high: 0 } })).toThrow(/low < high/);
    const cd = contrastiveDivergence<Lin>({ ...base, steps: 1, negatives: 'data' });
    const p = { w: tensor([0, 0]) };
    expect(() => cd(p, normal(key(1), [4, 3]), key(2), { buffer: null, sn: {}, step: 0 })).toThrow(/\[3\].*\[2\]/);
    const cdb = contrastiveDivergence<Lin>({ ...base, steps: 1 });
    expect(() => cdb(p, normal(key(1), [4, 2]), key(2), { buffer: null, sn: {}, step: 0 })).toThrow(/initState/);
    void sum;
  });
});

describe("contrastiveDivergence with negatives: 'tempered'", () => {
  it('keeps all replicas in the state and its T = 1 negatives move between modes to the right weights', async () => {
    const { gmm08 } = await import('../../src/energy/index.js');
    const { geometricTemperatures } = await import('../../src/samplers/index.js');
    // A fixed target (the parameter is unused): 0.8·N(5, 1) + 0.2·N(−5, 1). Every chain starts in the MINOR mode.
    const target = gmm08(1);
    const C = 200;
    const temps = geometricTemperatures(40, 8);
    const cd = contrastiveDivergence<Lin>({
      energy: () => target, steps: 5, negatives: 'tempered', chains: C,
      tempering: { temperatures: temps, stepSize: 0.3, local: 'mala' },
      reinitFrom: { kind: 'normal', mean: -5, std: 1 },
    });
    const p = { w: tensor([0, 0]) };
    const batch = new Tensor(new Float32Array(C).fill(5), [C, 1]);
    let st = cd.initState(key(5), p, batch);
    expect(st.buffer!.shape).toEqual([temps.length * C, 1]);
    let r;
    for (let t = 0; t < 80; t++) {
      r = cd(p, batch, foldIn(key(6), t), st);
      st = r.state;
    }
    expect(r!.aux.negatives.shape).toEqual([C, 1]);
    let major = 0;
    for (const v of r!.aux.negatives.data) if (v > 0) major++;
    // Independent chains at one time: binomial SE = √(0.8·0.2/200) ≈ 0.028; allow 4 SE.
    expect(Math.abs(major / C - 0.8)).toBeLessThan(4 * Math.sqrt(0.16 / C));
    // The same budget of plain MALA from the buffer never leaves the minor mode.
    const { mala } = await import('../../src/samplers/index.js');
    const plain = contrastiveDivergence<Lin>({
      energy: () => target, sampler: (E) => mala(E, { stepSize: 0.3 }), steps: 5, negatives: 'persistent', chains: C,
      reinitFrom: { kind: 'normal', mean: -5, std: 1 },
    });
    let sp = plain.initState(key(5), p, batch);
    let rp;
    for (let t = 0; t < 80; t++) {
      rp = plain(p, batch, foldIn(key(6), t), sp);
      sp = rp.state;
    }
    let majorPlain = 0;
    for (const v of rp!.aux.negatives.data) if (v > 0) majorPlain++;
    expect(majorPlain).toBe(0);
  });

  it('rejects tempered negatives without a temperature ladder starting at 1', () => {
    expect(() => contrastiveDivergence<Lin>({ energy: linear, steps: 1, negatives: 'tempered' })).toThrow(/tempering/);
    expect(() => contrastiveDivergence<Lin>({ energy: linear, steps: 1, negatives: 'tempered', tempering: { temperatures: [2, 4], stepSize: 0.1 } })).toThrow(/start at 1/);
    expect(() => contrastiveDivergence<Lin>({ energy: linear, steps: 1 })).toThrow(/sampler/);
  });
});
