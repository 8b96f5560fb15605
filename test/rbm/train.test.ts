import { describe, expect, it } from 'vitest';
import {
  RBM, BernoulliRBM, GaussianBernoulliRBM, SoftmaxRBM, NotFittedError, cdStep, createRBM, exactLogZ, initRbmCdState,
  oneHotCategories, cloneParams,
} from '../../src/models/rbm/index.js';
import { averageLogLikelihood, reconstructionError } from '../../src/models/rbm/metrics.js';
import { barsAndStripes } from '../../src/data/toy.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { foldIn, key, normalArray, randintArray, uniformArray } from '../../src/random/index.js';

function basData(D: number, minRows: number): { X: Tensor; P: Tensor } {
  const P = barsAndStripes(D).patterns;
  const [M, nv] = P.shape;
  const reps = Math.ceil(minRows / M);
  const x = new Float32Array(M * reps * nv);
  for (let r = 0; r < reps; r++) x.set(P.data, r * M * nv);
  return { X: new Tensor(x, [M * reps, nv]), P };
}

describe('RBM training', () => {
  it('resample (dynamic binarisation): binary data train identically, grey data are redrawn, other units are refused', () => {
    const { X } = basData(3, 60);
    const opts = { epochs: 3, batchSize: 20, lr: 0.1, momentum: 0.5 };
    const a = new BernoulliRBM({ nHidden: 4, key: 2 }).fit(X, opts);
    const b = new BernoulliRBM({ nHidden: 4, key: 2 }).fit(X, { ...opts, resample: true });
    // Bernoulli(0) and Bernoulli(1) are deterministic, so 0/1 data must give bit-identical parameters.
    expect(Array.from(b.params!.W.data)).toEqual(Array.from(a.params!.W.data));
    const grey = new Tensor(Float32Array.from(X.data, (v) => 0.2 + 0.6 * v), X.shape);
    const g0 = new BernoulliRBM({ nHidden: 4, key: 2 }).fit(grey, opts);
    const g1 = new BernoulliRBM({ nHidden: 4, key: 2 }).fit(grey, { ...opts, resample: true });
    expect(Array.from(g1.params!.W.data)).not.toEqual(Array.from(g0.params!.W.data));
    // Same model, same keys: the redraws are reproducible.
    const g2 = new BernoulliRBM({ nHidden: 4, key: 2 }).fit(grey, { ...opts, resample: true });
    expect(Array.from(g2.params!.W.data)).toEqual(Array.from(g1.params!.W.data));
    const gb = new GaussianBernoulliRBM({ nHidden: 2, key: 1 });
    expect(() => gb.fit(grey, { ...opts, resample: true })).toThrow(/resample needs bernoulli visible units/);
  });

  it('PCD beats CD-1 on exact log-likelihood of 3×3 bars-and-stripes (12 hidden units)', () => {
    // Checked over seeds 1–4 while writing: CD-1 ≈ −3.12…−3.27, PCD ≈ −2.82…−2.89 nats (optimum −log 14 = −2.64).
    const { X, P } = basData(3, 200);
    const opts = { epochs: 150, batchSize: 20, lr: { kind: 'linear', initial: 0.2, final: 0, epochs: 150 } as const, momentum: 0.5, chains: 100 };
    const cd = new BernoulliRBM({ nHidden: 12, key: 1, weightScale: 0.1 }).fit(X, opts);
    const pcd = new BernoulliRBM({ nHidden: 12, key: 1, weightScale: 0.1 }).fit(X, { ...opts, persistent: true });
    const llCd = averageLogLikelihood(cd.params!, P, exactLogZ(cd.params!)).mean;
    const llPcd = averageLogLikelihood(pcd.params!, P, exactLogZ(pcd.params!)).mean;
    expect(llPcd).toBeGreaterThan(llCd + 0.1);
    expect(llPcd).toBeLessThan(-Math.log(14) + 1e-9); // cannot beat the entropy bound
    expect(llCd).toBeGreaterThan(-9 * Math.LN2 + 1); // and CD-1 did learn something (uniform = −6.24)
  }, 30000);

  it('Gaussian–Bernoulli RBM: CD-1 reduces reconstruction error (fixed and learned σ stays within bounds)', () => {
    // Data: two clusters in 6-d with unit-ish noise.
    const n = 400, nv = 6;
    const z = normalArray(key(20), n * nv, 'float32');
    const lab = randintArray(key(21), 0, 2, n);
    const x = new Float32Array(n * nv);
    for (let r = 0; r < n; r++) for (let i = 0; i < nv; i++) x[r * nv + i] = (lab[r] ? 2 : -2) * (i % 2 ? 1 : -1) + 0.5 * z[r * nv + i];
    const X = new Tensor(x, [n, nv]);
    for (const learnSigma of [false, true]) {
      const rbm = new GaussianBernoulliRBM({ nHidden: 8, key: 3, standardize: false }); // σ bounds and metrics in data units
      rbm.partialFit(X, { lr: 0.0, batchSize: 50 });
      const before = reconstructionError(rbm.params!, X);
      rbm.fit(X, { epochs: 30, batchSize: 50, lr: 0.1, momentum: 0.5, learnSigma, sigmaMin: 0.2, sigmaMax: 3 });
      const after = reconstructionError(rbm.params!, X);
      expect(after).toBeLessThan(0.5 * before);
      const s = rbm.sigma!.data;
      for (const v of s) { expect(v).toBeGreaterThanOrEqual(0.2 - 1e-6); expect(v).toBeLessThanOrEqual(3 + 1e-6); }
      const h = rbm.history;
      expect(h[h.length - 1].reconstructionError!).toBeLessThan(h[0].reconstructionError!);
    }
  }, 20000);

  it('softmax RBM: CD-1 reduces reconstruction error and raises exact log-likelihood', () => {
    // 4 categorical units with 3 states; data: two prototypes with 10% noise per unit.
    const n = 300, G = 4, K = 3;
    const lab = randintArray(key(30), 0, 2, n), noise = uniformArray(key(31), n * G, 'float64'), alt = randintArray(key(32), 0, K, n * G);
    const rows = Array.from({ length: n }, (_, r) => Array.from({ length: G }, (_, g) => (noise[r * G + g] < 0.1 ? alt[r * G + g] : (lab[r] ? g % K : (g + 1) % K))));
    const X = oneHotCategories(rows, K);
    const rbm = new SoftmaxRBM({ nHidden: 4, categories: K, key: 4 });
    rbm.partialFit(X, { lr: 0, batchSize: 30 });
    const before = reconstructionError(rbm.params!, X);
    const llBefore = averageLogLikelihood(rbm.params!, X, exactLogZ(rbm.params!)).mean;
    rbm.fit(X, { epochs: 40, batchSize: 30, lr: 0.1, momentum: 0.5 });
    expect(reconstructionError(rbm.params!, X)).toBeLessThan(0.7 * before);
    expect(averageLogLikelihood(rbm.params!, X, exactLogZ(rbm.params!)).mean).toBeGreaterThan(llBefore + 0.5);
    const s = rbm.sample(key(5), 50, 20);
    for (let r = 0; r < 50; r++) for (let g = 0; g < G; g++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += s.data[r * G * K + g * K + k];
      expect(sum).toBe(1);
    }
  }, 20000);

  it('estimator API: unfitted use throws NotFittedError; fit returns this; shapes; determinism by key', () => {
    const rbm = new RBM({ nHidden: 5 });
    expect(() => rbm.weights).toThrow(NotFittedError);
    expect(() => rbm.transform(new Tensor(new Float32Array(8), [1, 8]))).toThrow(NotFittedError);
    expect(() => rbm.sample(key(0), 2, 1)).toThrow(/not fitted/);
    const { X } = basData(2, 20); // 4 visible... D=2 gives 4-pixel images
    const nv = X.shape[1];
    const a = new RBM({ nHidden: 5, key: 7 });
    expect(a.fit(X, { epochs: 3, batchSize: 4 })).toBe(a);
    expect(a.weights.shape).toEqual([nv, 5]);
    expect(a.visibleBias.shape).toEqual([nv]);
    expect(a.hiddenBias.shape).toEqual([5]);
    expect(a.transform(X).shape).toEqual([X.shape[0], 5]);
    expect(a.freeEnergy(X).shape).toEqual([X.shape[0]]);
    expect(a.sample(key(1), 7, 10).shape).toEqual([7, nv]);
    expect(a.history.length).toBe(3);
    const b = new RBM({ nHidden: 5, key: 7 }).fit(X, { epochs: 3, batchSize: 4 });
    expect(Array.from(b.weights.data)).toEqual(Array.from(a.weights.data));
    // States are values: tensors handed out before more training never change afterwards.
    const W3 = a.weights, W3copy = Array.from(W3.data), p3 = a.params!, c3 = Array.from(p3.c.data);
    expect(a.partialFit(X, { batchSize: 4 })).toBe(a);
    expect(a.epoch).toBe(4);
    expect(Array.from(W3.data)).toEqual(W3copy);
    expect(Array.from(p3.c.data)).toEqual(c3);
    expect(Array.from(a.weights.data)).not.toEqual(W3copy);
    // Bad input: a clear error naming row and column.
    const bad = X.data.slice(); bad[3] = Number.NaN;
    expect(() => a.transform(new Tensor(bad, X.shape))).toThrow(/row 0, column 3/);
    expect(() => a.transform(new Tensor(new Float32Array(10), [2, 5]))).toThrow(/expected \[n, 4\]/);
  });

  it('cdStep is functional unless inPlace; state is plain data that resumes training exactly', () => {
    const { X } = basData(3, 28);
    const p0 = createRBM({ nVisible: 9, nHidden: 6, key: key(8), weightScale: 0.1 });
    const snapshot = Array.from(p0.W.data);
    const opts = { lr: 0.1, k: 2, momentum: 0.5, weightDecay: 1e-3, l1: 1e-4, persistent: true, sparsityTarget: 0.2 };
    let { params, state } = cdStep(p0, X, foldIn(key(9), 0), initRbmCdState(), opts);
    expect(Array.from(p0.W.data)).toEqual(snapshot);
    expect(state.step).toBe(1);
    expect(state.velocity).not.toBeNull();
    expect(state.chains!.v.shape).toEqual([28, 9]);
    // Two routes from the same checkpoint give identical results (a JSON round trip of the state is the CLI's job).
    const ckP = cloneParams(params);
    const ckS = JSON.parse(JSON.stringify({ step: state.step })) as { step: number };
    const r1 = cdStep(params, X, foldIn(key(9), 1), state, opts);
    const r2 = cdStep(ckP, X, foldIn(key(9), 1), { ...state, step: ckS.step }, opts);
    expect(Array.from(r1.params.W.data)).toEqual(Array.from(r2.params.W.data));
    expect(r1.metrics.step).toBe(2);
    // In place: mutates the given objects.
    ({ params, state } = cdStep(params, X, foldIn(key(9), 2), state, { ...opts, inPlace: true }));
    expect(() => cdStep(params, X, key(0), state, { lr: -1 })).toThrow(/lr/);
    expect(() => cdStep(params, X, key(0), state, { lr: 0.1, k: 0 })).toThrow(/k must be/);
  });

  it('CD-1 without momentum: the update equals the formula ΔW = lr (v0ᵀP0/B − v1ᵀP1/B) up to sampling — zero lr leaves params unchanged', () => {
    const { X } = basData(3, 14);
    const p = createRBM({ nVisible: 9, nHidden: 4, key: key(11) });
    const { params } = cdStep(p, X, key(12), initRbmCdState(), { lr: 0 });
    expect(Array.from(params.W.data)).toEqual(Array.from(p.W.data));
    expect(Array.from(params.b.data)).toEqual(Array.from(p.b.data));
  });
});

describe('GaussianBernoulliRBM standardisation (the library default, as the CLI does)', () => {
  // Columns in wildly different units: offset 1000 and scale 200, scale 0.05, unit, offset 50.
  const n = 400, d = 4;
  const z = normalArray(key(40), n * d, 'float32');
  const lab = randintArray(key(41), 0, 2, n);
  const base = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) base[r * d + j] = (lab[r] ? 1.5 : -1.5) * (j % 2 ? 1 : -1) + 0.5 * z[r * d + j];
  const shift = [1000, -3, 0, 50], scale = [200, 0.05, 1, 10];
  const raw = new Tensor(Float32Array.from(base, (v, i) => shift[i % d] + scale[i % d] * v), [n, d]);
  const fitOpts = { epochs: 15, batchSize: 50, lr: 0.05, momentum: 0.5 };

  it('trains with the default lr on unscaled data; the result does not depend on the units', () => {
    const a = new GaussianBernoulliRBM({ nHidden: 6, key: 5 }).fit(raw, fitOpts);
    const b = new GaussianBernoulliRBM({ nHidden: 6, key: 5 }).fit(new Tensor(base, [n, d]), fitOpts);
    // same standardised rows up to float32 rounding → the same hidden probabilities
    const ha = a.transform(raw).data, hb = b.transform(new Tensor(base, [n, d])).data;
    let maxDiff = 0;
    for (let i = 0; i < ha.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ha[i] - hb[i]));
    expect(maxDiff).toBeLessThan(1e-3);
    // free energies are densities in each data's units: they differ by the log-Jacobian Σ log scale
    const fa = a.freeEnergy(raw).data, fb = b.freeEnergy(new Tensor(base, [n, d])).data;
    const logJac = scale.reduce((s, v) => s + Math.log(v), 0);
    for (let i = 0; i < 20; i++) expect(fa[i] - fb[i]).toBeCloseTo(logJac, 2);
    // reconstructions and samples come back in the data's units
    const rec = a.reconstruct(raw).data;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let r = 0; r < n; r++) m += rec[r * d + j] / n;
      expect(Math.abs(m - shift[j])).toBeLessThan(0.5 * scale[j]);
    }
    const s = a.sample(key(6), 200, 50).data;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let r = 0; r < 200; r++) m += s[r * d + j] / 200;
      expect(Math.abs(m - shift[j])).toBeLessThan(0.5 * scale[j]);
    }
    expect(a.standardization!.shift[0]).toBeGreaterThan(900);
  });

  it('standardize: false trains in the data units and the divergence is reported, not hidden', () => {
    expect(() => new GaussianBernoulliRBM({ nHidden: 6, key: 5, standardize: false }).fit(raw, { ...fitOpts, lr: 0.1 })).toThrow(/became/);
  });
});
