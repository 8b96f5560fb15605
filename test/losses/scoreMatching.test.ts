import { describe, expect, it } from 'vitest';
import { Tensor, tensor, eye, sub, mul, sum, matmul, valueAndGrad, transpose, add, concat } from '../../src/tensor/index.js';
import { key } from '../../src/random/index.js';
import { gaussian } from '../../src/energy/index.js';
import { geometricSigmas } from '../../src/samplers/index.js';
import {
  exactScoreMatching, slicedScoreMatching, denoisingScoreMatching, multiScaleDenoisingScoreMatching, energyToScore,
  type ScoreLoss,
} from '../../src/losses/index.js';
import { inverse, sampleMoments, train } from './_helpers.js';

// Quadratic energy E(x) = ½ (x − μ)ᵀ B (x − μ); only the symmetric part A = (B + Bᵀ)/2 matters.
type Quad = { mu: Tensor; B: Tensor };
const quadEnergy = (p: Quad, x: Tensor): Tensor => {
  const y = sub(x, p.mu);
  return mul(sum(mul(matmul(y, p.B), y), 1), 0.5);
};
const symA = (p: Quad): number[] => {
  const d = p.B.shape[0];
  const out: number[] = [];
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out.push(0.5 * (p.B.data[i * d + j] + p.B.data[j * d + i]));
  return out;
};

const d = 3;
const n = 1000;
const cov = [[1, 0.5, 0.2], [0.5, 2, 0.3], [0.2, 0.3, 0.5]];
const muTrue = [1, -1, 0.5];
const target = gaussian({ mean: muTrue, cov });
const x = target.sample!(key(11), n, 'float64');
const P = inverse(cov.flat(), d); // true precision Σ⁻¹
const { cov: S } = sampleMoments(x);
const Pn = inverse(S, d); // finite-sample minimiser of exact SM / SSM: Ŝ⁻¹
// Sampling standard error of the precision estimate (delta method on the Wishart covariance of Ŝ):
// Var(P̂ᵢⱼ) ≈ (PᵢⱼPᵢⱼ + PᵢᵢPⱼⱼ)/n.
const se = Array.from({ length: d * d }, (_, k) => {
  const i = Math.floor(k / d);
  const j = k % d;
  return Math.sqrt((P[i * d + j] ** 2 + P[i * d + i] * P[j * d + j]) / n);
});
const init = (): Quad => ({ mu: tensor([0, 0, 0], [3], 'float64'), B: eye(3, 'float64') });
const model = { energy: quadEnergy };

/** Checks the learned matrix against the finite-sample optimum (optimisation error) and against Σ⁻¹ (statistical error). */
function checkRecovery(A: number[], optimum: ArrayLike<number>, bias: ArrayLike<number>, optTol: number): void {
  for (let k = 0; k < d * d; k++) {
    expect(Math.abs(A[k] - optimum[k])).toBeLessThan(optTol * se[k]);
    // 4 standard errors of the sample plus the known deterministic bias of the objective (0 for SM/SSM).
    expect(Math.abs(A[k] - P[k])).toBeLessThan(4 * se[k] + Math.abs(bias[k]) + optTol * se[k]);
  }
}

describe('score matching on a quadratic energy recovers the precision matrix', () => {
  it('the finite-sample optimum is within sampling error of Σ⁻¹ (sanity of the tolerance)', () => {
    for (let k = 0; k < d * d; k++) expect(Math.abs(Pn[k] - P[k])).toBeLessThan(4 * se[k]);
  });

  it('exact score matching: converges to Ŝ⁻¹', () => {
    const { params, losses } = train(exactScoreMatching(model), init(), x, 300, 0.05, 1);
    checkRecovery(symA(params), Pn, new Float64Array(d * d), 0.05);
    // At the optimum the objective is −½ tr Ŝ⁻¹.
    const trP = Pn[0] + Pn[4] + Pn[8];
    expect(losses[losses.length - 1]).toBeCloseTo(-0.5 * trP, 4);
  });

  for (const [name, loss] of [
    ['SSM, 2 Rademacher projections', slicedScoreMatching(model, { nProjections: 2, projection: 'rademacher' })],
    ['SSM, 2 Gaussian projections', slicedScoreMatching(model, { nProjections: 2, projection: 'gaussian' })],
    ['SSM-VR, 1 Gaussian projection', slicedScoreMatching(model, { nProjections: 1, projection: 'gaussian', varianceReduction: true })],
    ['SSM-VR, 2 Rademacher projections', slicedScoreMatching(model, { nProjections: 2, varianceReduction: true })],
  ] as [string, ScoreLoss<Quad>][]) {
    it(`${name}: converges to Ŝ⁻¹`, () => {
      const { params } = train(loss, init(), x, 300, 0.05, 2);
      checkRecovery(symA(params), Pn, new Float64Array(d * d), 1);
    });
  }

  it('DSM with small σ: converges to (Ŝ + σ²I)⁻¹, within O(σ²) of Σ⁻¹', () => {
    const sigma = 0.2;
    // Four noise draws per data point per step (the batch is the sample repeated) to tame the O(1/σ) gradient noise.
    const x4 = concat([x, x, x, x], 0);
    const { params } = train(denoisingScoreMatching(model, { sigma }), init(), x4, 400, 0.05, 3);
    const Ssig = S.map((v, k) => v + (k % (d + 1) === 0 ? sigma * sigma : 0));
    const opt = inverse(Ssig, d);
    const Csig = cov.flat().map((v, k) => v + (k % (d + 1) === 0 ? sigma * sigma : 0));
    const popOpt = inverse(Csig, d);
    const bias = popOpt.map((v, k) => v - P[k]);
    checkRecovery(symA(params), opt, bias, 1);
  });
});

describe('score-matching loss values', () => {
  const g = gaussian({ mean: [0.5, -0.5], cov: [[1, 0.3], [0.3, 0.6]] });
  const xs = g.sample!(key(5), 256, 'float64');
  const p2: Quad = { mu: tensor([0.5, -0.5], [2], 'float64'), B: tensor(inverse([1, 0.3, 0.3, 0.6], 2), [2, 2], 'float64') };

  it('energyToScore gives −∇E, differentiable in the parameters', () => {
    const s = energyToScore(quadEnergy)(p2, xs);
    const ref = g.score(xs);
    for (let i = 0; i < s.size; i++) expect(s.data[i]).toBeCloseTo(ref.data[i], 10);
    // ∇_B of Σ‖s‖² (needs the recorded inner gradient): analytic 2·A Y Yᵀ … compare with finite differences.
    const f = (B: Tensor) => sum(mul(energyToScore(quadEnergy)({ mu: p2.mu, B }, xs), energyToScore(quadEnergy)({ mu: p2.mu, B }, xs)));
    const [, gB] = valueAndGrad(f)(p2.B);
    const h = 1e-6;
    for (let k = 0; k < 4; k++) {
      const bp = new Float64Array(p2.B.data); bp[k] += h;
      const bm = new Float64Array(p2.B.data); bm[k] -= h;
      const fd = (f(new Tensor(bp, [2, 2])).item() - f(new Tensor(bm, [2, 2])).item()) / (2 * h);
      expect(gB.data[k]).toBeCloseTo(fd, 4);
    }
  });

  it('exact SM equals ½ mean‖s‖² − tr A for a quadratic energy; SSM/SSM-VR are unbiased for it', () => {
    const A = inverse([1, 0.3, 0.3, 0.6], 2);
    const s = g.score(xs);
    let sq = 0;
    for (let i = 0; i < s.size; i++) sq += s.data[i] ** 2;
    const want = (0.5 * sq) / 256 - (A[0] + A[3]);
    const exact = exactScoreMatching(model)(p2, xs, key(0)).loss.item();
    expect(exact).toBeCloseTo(want, 10);
    // Average many independent SSM estimates; tolerance from their standard error.
    for (const opts of [{ projection: 'gaussian' as const }, { projection: 'rademacher' as const }, { varianceReduction: true }]) {
      const loss = slicedScoreMatching(model, { nProjections: 1, ...opts });
      const vals = Array.from({ length: 200 }, (_, r) => loss(p2, xs, key(100 + r)).loss.item());
      const m = vals.reduce((a, b) => a + b, 0) / vals.length;
      const sd = Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1));
      expect(Math.abs(m - want)).toBeLessThan(4 * sd / Math.sqrt(vals.length) + 1e-12);
    }
  });

  it('SSM with projections is deterministic given the key and Rademacher-VR has lower variance than plain SSM', () => {
    const l1 = slicedScoreMatching(model, { nProjections: 2 });
    expect(l1(p2, xs, key(3)).loss.item()).toBe(l1(p2, xs, key(3)).loss.item());
    const spread = (loss: ScoreLoss<Quad>) => {
      const v = Array.from({ length: 60 }, (_, r) => loss(p2, xs, key(r)).loss.item());
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
    };
    expect(spread(slicedScoreMatching(model, { varianceReduction: true }))).toBeLessThan(spread(slicedScoreMatching(model, {})));
  });

  it('multi-σ DSM: σ²-weighted loss at the true smoothed score has the analytic expectation', () => {
    // For a Gaussian target the per-σ minimum of ½‖σ s_σ(x̃) + ε‖² is ½ tr(I − σ²(Σ + σ²I)⁻¹).
    const sigmas = geometricSigmas(1, 0.1, 4);
    const Sig = [1, 0.3, 0.3, 0.6];
    const smoothedScore = (_p: null, xt: Tensor, sig: Tensor): Tensor => {
      const rows: number[] = [];
      for (let i = 0; i < xt.shape[0]; i++) {
        const s2 = sig.data[i] ** 2;
        const Pi = inverse([Sig[0] + s2, Sig[1], Sig[2], Sig[3] + s2], 2);
        const y0 = xt.data[2 * i] - 0.5;
        const y1 = xt.data[2 * i + 1] + 0.5;
        rows.push(-(Pi[0] * y0 + Pi[1] * y1), -(Pi[2] * y0 + Pi[3] * y1));
      }
      return tensor(rows, [xt.shape[0], 2], 'float64');
    };
    const loss = multiScaleDenoisingScoreMatching({ score: smoothedScore }, { sigmas });
    const want = sigmas.reduce((acc, s) => {
      const Pi = inverse([Sig[0] + s * s, Sig[1], Sig[2], Sig[3] + s * s], 2);
      return acc + 0.5 * (2 - s * s * (Pi[0] + Pi[3]));
    }, 0) / sigmas.length;
    const vals = Array.from({ length: 40 }, (_, r) => loss(null, xs, key(200 + r)).loss.item());
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1));
    expect(Math.abs(m - want)).toBeLessThan(4 * sd / Math.sqrt(vals.length));
  });

  it('rejects bad input with a clear error', () => {
    expect(() => denoisingScoreMatching(model, { sigma: 0 })).toThrow(/sigma must be/);
    expect(() => slicedScoreMatching(model, { nProjections: 0 })).toThrow(/nProjections/);
    expect(() => exactScoreMatching(model)(p2, tensor([1, 2], [2], 'float64'), key(0))).toThrow(/\[n, \.\.\.dim\]/);
    const bad = exactScoreMatching<null>({ score: (_p, y) => transpose(y) });
    expect(() => bad(null, add(xs, 0), key(0))).toThrow(/score has shape/);
  });
});
