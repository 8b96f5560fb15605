import { describe, expect, it } from 'vitest';
import { key } from '../../src/random/index.js';
import { Tensor, full, tensor, grad, sum, mul, checkGrad } from '../../src/tensor/index.js';
import { multilabelChainTask } from '../../src/data/multilabel.js';
import {
  initSpen, spenEnergy, spenEnergyFromScores, spenEnergyGrad, spenInfer, spenInferFromScores, spenScores, trainSpen,
  trainIndependent, predictIndependent, spenPredict, multilabelMetrics, type SpenParams,
} from '../../src/structured/index.js';

/** Paired difference of per-row scores: mean and its standard error. */
function paired(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; se: number } {
  const n = a.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += a[i] - b[i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (a[i] - b[i] - m) ** 2;
  return { diff: m, se: Math.sqrt(v / (n - 1) / n) };
}

/** `(1/4) Σ_m |c₂_m| ‖C₁[:, m]‖²`: a bound on the Hessian norm of the softplus label energy (σ' ≤ 1/4). */
function smoothnessBound(p: SpenParams): number {
  const C1 = p.global['l0.w'];
  const c2 = p.global['l1.w'];
  const [L, M] = C1.shape;
  let s = 0;
  for (let m = 0; m < M; m++) {
    let nrm = 0;
    for (let l = 0; l < L; l++) nrm += C1.data[l * M + m] ** 2;
    s += Math.abs(c2.data[m]) * nrm;
  }
  return s / 4;
}

describe('multilabelChainTask', () => {
  const task = multilabelChainTask(key(0));
  const { x, y, classes } = task.sample(key(1), 4000);
  const { groups: G, classes: K, numLabels: L } = task;

  it('has exactly one label on per group, consistent with the class indices', () => {
    expect(L).toBe(24);
    for (let r = 0; r < 4000; r++) {
      for (let g = 0; g < G; g++) {
        let on = 0;
        for (let k = 0; k < K; k++) on += y.data[r * L + g * K + k];
        expect(on).toBe(1);
        expect(y.data[r * L + g * K + classes[r * G + g]]).toBe(1);
      }
    }
  });

  it('label frequencies match the exact marginals within Monte Carlo error', () => {
    const m = task.marginals(x);
    for (let l = 0; l < L; l++) {
      let emp = 0, pred = 0, v = 0;
      for (let r = 0; r < 4000; r++) {
        const p = m.data[r * L + l];
        emp += y.data[r * L + l];
        pred += p;
        v += p * (1 - p);
      }
      // Given x, labels are independent Bernoulli(p_r) across rows: Var(Σ y) = Σ p(1 − p).
      expect(Math.abs(emp - pred)).toBeLessThan(4 * Math.sqrt(v));
    }
  });

  it('the Bayes references show the structure: joint MAP beats thresholded exact marginals on F1 and exact match', () => {
    const indep = multilabelMetrics(task.marginals(x), y);
    const map = multilabelMetrics(task.mapLabels(x), y);
    const d = paired(map.rowF1, indep.rowF1);
    expect(d.diff - 3 * d.se).toBeGreaterThan(0.05);
    expect(map.subsetAccuracy).toBeGreaterThan(indep.subsetAccuracy + 0.05);
    // …while thresholded marginals are Hamming-optimal.
    expect(indep.hamming).toBeLessThan(map.hamming);
  });

  it('rejects bad options and inputs', () => {
    expect(() => multilabelChainTask(key(0), { classes: 1 })).toThrow(/classes/);
    expect(() => task.marginals(tensor([[1, 2]]))).toThrow(/\[n, 10\]/);
  });
});

describe('SPEN energy and inference', () => {
  const task = multilabelChainTask(key(0));
  const { x } = task.sample(key(5), 64);
  const p = initSpen(key(6), { inputDim: 10, numLabels: 24, hidden: [16], globalHidden: 8 }, 2);

  it('∇_y E in closed form equals the engine gradient of E', () => {
    const y = full([64, 24], 0.3);
    const b = spenScores(p, x);
    const auto = grad((yy: Tensor) => sum(spenEnergy(p, x, yy)))(y);
    const closed = spenEnergyGrad(p.global, b, y);
    for (let i = 0; i < auto.size; i++) expect(closed.data[i]).toBeCloseTo(auto.data[i], 4);
  });

  it('projected gradient descent with η = 1/L_bound never increases the energy', () => {
    const eta = 1 / (smoothnessBound(p) + 1e-9);
    const r = spenInfer(p, x, { method: 'pgd', stepSize: eta, steps: 30, trace: true });
    const tr = r.trace!;
    for (let t = 1; t < tr.length; t++) expect(tr[t]).toBeLessThanOrEqual(tr[t - 1] + 1e-5 * Math.abs(tr[t - 1]));
    expect(tr[tr.length - 1]).toBeLessThan(tr[0] - 1);
    const e0 = spenEnergyFromScores(p.global, spenScores(p, x), full([64, 24], 0.5));
    for (let i = 0; i < 64; i++) expect(r.energy.data[i]).toBeLessThanOrEqual(e0.data[i] + 1e-4);
    for (const v of r.y.data) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('entropic mirror descent (η ≤ 4/L_bound) decreases E − τH monotonically', () => {
    const eta = 4 / (smoothnessBound(p) + 1e-9);
    const r = spenInfer(p, x, { method: 'mirror', stepSize: eta, entropy: 0.5, steps: 30, trace: true });
    const tr = r.trace!;
    for (let t = 1; t < tr.length; t++) expect(tr[t]).toBeLessThanOrEqual(tr[t - 1] + 1e-5 * Math.abs(tr[t - 1]));
    expect(tr[tr.length - 1]).toBeLessThan(tr[0] - 1);
  });

  it('unrolled inference is differentiable in θ (finite-difference check through ∇_y E)', () => {
    const x1 = new Tensor(Float64Array.from(x.data.subarray(0, 40)), [4, 10]);
    const p64 = { local: Object.fromEntries(Object.entries(p.local).map(([k, v]) => [k, new Tensor(Float64Array.from(v.data), v.shape)])), global: Object.fromEntries(Object.entries(p.global).map(([k, v]) => [k, new Tensor(Float64Array.from(v.data), v.shape)])) };
    const b = spenScores(p64, x1);
    const target = new Tensor(Float64Array.from({ length: 4 * 24 }, (_, i) => (i % 7 === 0 ? 1 : 0)), [4, 24]);
    const f = (C1: Tensor): Tensor => {
      const r = spenInferFromScores({ ...p64.global, 'l0.w': C1 }, b, { steps: 5, stepSize: 0.3, entropy: 1 });
      return sum(mul(r.y, target));
    };
    const res = checkGrad(f, p64.global['l0.w'], 1e-6, 1e-6, 1e-4);
    expect(res.ok).toBe(true);
  });

  it('rejects bad inference options and labels', () => {
    expect(() => spenInfer(p, x, { method: 'pgd', entropy: 1 })).toThrow(/entropy = 0/);
    expect(() => spenInfer(p, x, { stepSize: -1 })).toThrow(/stepSize/);
    expect(() => trainSpen(key(0), x, full([64, 24], 0.5))).toThrow(/row 0, column 0 is 0.5/);
    expect(() => multilabelMetrics(full([2, 3], 1), full([2, 4], 1))).toThrow(/same shape/);
  });
});

describe('multilabelMetrics', () => {
  it('computes example F1, Hamming loss and subset accuracy', () => {
    const m = multilabelMetrics(tensor([[1, 0, 1], [0, 1, 0]]), tensor([[1, 1, 0], [0, 1, 0]]));
    expect(m.f1).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(m.hamming).toBeCloseTo(2 / 6, 12);
    expect(m.subsetAccuracy).toBe(0.5);
  });
});

describe('SPEN vs independent logistic classifiers on the chain task', () => {
  const task = multilabelChainTask(key(0));
  const tr = task.sample(key(1), 1000);
  const te = task.sample(key(2), 2000);
  const base = trainIndependent(key(3), tr.x, tr.y, { hidden: [32], epochs: 30 });
  const baseScores = multilabelMetrics(predictIndependent(base.params, te.x), te.y);

  it('end-to-end (unrolled, soft-F1) SPEN beats the independent baseline by ≥ 0.05 example F1', () => {
    const spen = trainSpen(key(4), tr.x, tr.y, {
      method: 'unrolled', loss: 'f1', hidden: [32], features: base.params, epochs: 20, lr: 0.01,
      inference: { method: 'mirror', steps: 10, stepSize: 1, entropy: 1 },
    });
    const s = multilabelMetrics(spenPredict(spen, te.x).labels, te.y);
    const d = paired(s.rowF1, baseScores.rowF1);
    expect(d.diff - 3 * d.se).toBeGreaterThan(0.05);
    expect(spen.losses[spen.losses.length - 1]).toBeLessThan(spen.losses[0]);
  });

  it('SSVM-trained SPEN beats the independent baseline on exact match and F1', () => {
    const spen = trainSpen(key(4), tr.x, tr.y, {
      method: 'ssvm', hidden: [32], features: base.params, epochs: 60, lr: 0.01,
      inference: { method: 'mirror', steps: 30, stepSize: 1 },
    });
    const s = multilabelMetrics(spenPredict(spen, te.x).labels, te.y);
    // Exact match is a 0/1 per row: paired SE from the discordant rows.
    const exact = (pred: Tensor): Float64Array => {
      const out = new Float64Array(2000);
      for (let r = 0; r < 2000; r++) {
        let ok = 1;
        for (let l = 0; l < 24; l++) if ((pred.data[r * 24 + l] >= 0.5 ? 1 : 0) !== te.y.data[r * 24 + l]) ok = 0;
        out[r] = ok;
      }
      return out;
    };
    const de = paired(exact(spenPredict(spen, te.x).labels), exact(predictIndependent(base.params, te.x)));
    expect(de.diff - 3 * de.se).toBeGreaterThan(0.01);
    const d = paired(s.rowF1, baseScores.rowF1);
    expect(d.diff - 3 * d.se).toBeGreaterThan(0.03);
  });
});
