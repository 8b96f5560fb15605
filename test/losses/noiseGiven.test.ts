// DSM and SSM with caller-given noise/probes, and DSM's σ² weighting: the forms the CLI's mlp-energy kind and the
// playground used to write by hand (½‖σ∇E(z̃) − ε‖² and vᵀ∇(vᵀs) + ½(vᵀs)²) must come out of the library functions.
import { describe, expect, it } from 'vitest';
import {
  Tensor, add, grad, matmul, mul, neg, sub, sum, square, tanh, valueAndGrad, tensor, DTypeError, ShapeError,
} from '../../src/tensor/index.js';
import { key, normal, split } from '../../src/random/index.js';
import {
  denoisingScoreMatching, denoisingScoreMatchingWithNoise, slicedScoreMatching, slicedScoreMatchingWithProbes,
} from '../../src/losses/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

// A small non-quadratic energy E(x) = Σ tanh(xW)·a + ½‖x‖², x [n, 2].
type Params = { W: Tensor; a: Tensor };
const energy = (p: Params, x: Tensor): Tensor => add(sum(mul(tanh(matmul(x, p.W)), p.a), 1), mul(sum(square(x), 1), 0.5));
const [k1, k2, k3, k4] = split(key(7), 4);
const params: Params = { W: normal(k1, [2, 3]), a: normal(k2, [3]) };
const x = normal(k3, [32, 2]);
const sigma = 0.3;

// The CLI's former hand-written DSM: ½‖σ∇E(z̃) − ε‖² averaged over the batch.
const handDsm = (p: Params, z: Tensor, eps: Tensor): Tensor => {
  const zt = add(z, mul(eps, sigma));
  const g = grad((u: Tensor) => sum(energy(p, u)))(zt);
  return mul(sum(square(sub(mul(g, sigma), eps))), 0.5 / z.shape[0]);
};
// The CLI's former hand-written SSM with Gaussian probes v [n, d]: vᵀ∇(vᵀs) + ½(vᵀs)², s = −∇E.
const handSsm = (p: Params, z: Tensor, v: Tensor): Tensor => {
  const score = (u: Tensor) => neg(grad((w: Tensor) => sum(energy(p, w)))(u));
  const [, gz, s] = valueAndGrad((u: Tensor): [Tensor, Tensor] => {
    const su = score(u);
    return [sum(mul(su, v)), su];
  }, { hasAux: true })(z);
  const B = z.shape[0];
  return add(mul(sum(mul(gz, v)), 1 / B), mul(sum(square(sum(mul(s, v), 1))), 0.5 / B));
};

describe('denoising score matching with the noise given and σ² weighting', () => {
  it("weighting 'sigma2' is the hand-written ½‖σ∇E(z̃) − ε‖², value and parameter gradient bit for bit", () => {
    const eps = normal(k4, x.shape);
    const lib = denoisingScoreMatchingWithNoise({ energy }, { sigma, weighting: 'sigma2' });
    const [lv, lg] = valueAndGrad((p: Params) => lib(p, x, eps).loss)(params);
    const [hv, hg] = valueAndGrad((p: Params) => handDsm(p, x, eps))(params);
    expect(lv.item()).toBe(hv.item());
    expect(Array.from(lg.W.data)).toEqual(Array.from(hg.W.data));
    expect(Array.from(lg.a.data)).toEqual(Array.from(hg.a.data));
  });

  it("the key-drawn loss uses ε = normal(key, batch.shape, { dtype }) and 'sigma2' = σ²·'none'", () => {
    const byKey = denoisingScoreMatching({ energy }, { sigma, weighting: 'sigma2' })(params, x, k4).loss.item();
    expect(byKey).toBe(handDsm(params, x, normal(k4, x.shape)).item());
    const plain = denoisingScoreMatching({ energy }, { sigma })(params, x, k4).loss.item();
    expect(byKey).toBeCloseTo(sigma * sigma * plain, 5);
  });

  it('refuses noise of the wrong shape or dtype, and an unknown weighting', () => {
    const lib = denoisingScoreMatchingWithNoise({ energy }, { sigma });
    expect(() => lib(params, x, normal(k4, [31, 2]))).toThrow(ShapeError);
    expect(() => lib(params, x, normal(k4, x.shape, { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => denoisingScoreMatching({ energy }, { sigma, weighting: 'sigma' as never })).toThrow(InvalidArgumentError);
  });
});

describe('sliced score matching with the probes given', () => {
  it('equals the hand-written SSM for one Gaussian probe per point, and the key-drawn loss with the same probes', () => {
    const xs = tensor(Array.from(x.data), x.shape, 'float64');
    const p64: Params = { W: tensor(Array.from(params.W.data), [2, 3], 'float64'), a: tensor(Array.from(params.a.data), [3], 'float64') };
    const v = normal(k4, xs.shape, { dtype: 'float64' });
    const lib = slicedScoreMatchingWithProbes({ energy })(p64, xs, v).loss.item();
    expect(lib).toBeCloseTo(handSsm(p64, xs, v).item(), 12);
    const byKey = slicedScoreMatching({ energy }, { projection: 'gaussian' })(p64, xs, k4).loss.item();
    expect(byKey).toBe(lib);
  });

  it('takes M·n probe rows for nProjections = M', () => {
    const lib = slicedScoreMatchingWithProbes({ energy }, { nProjections: 2 });
    expect(() => lib(params, x, normal(k4, x.shape))).toThrow(ShapeError);
    expect(Number.isFinite(lib(params, x, normal(k4, [64, 2])).loss.item())).toBe(true);
  });
});
