/**
 * Score-matching losses for energies (score = −∇ₓE) and score networks: exact, denoising (single and multi-σ, and
 * noise-conditional energies with a heat-equation term), sliced and SSM-VR.
 */
import {
  Tensor, ShapeError, DTypeError, vjp, grad, sum, mul, add, sub, div, square, reshape, concat, sliceAxis, detach, tensor,
} from '../tensor/index.js';
import { normal, split, randintArray, uniformArray, probes, type Key, type ProbeDistribution } from '../random/index.js';
import { modelScore, type ScoreFn, type ScoreModel } from '../energy/index.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

// The energy→score conversion lives in src/energy and the probe draws in src/random; re-exported here for the
// modules that imported them from the losses.
export { energyToScore, modelScore, type EnergyFn, type ScoreFn, type ScoreModel } from '../energy/index.js';
export { probes, type ProbeDistribution } from '../random/index.js';
/** Probe distribution for sliced score matching and Hutchinson estimators (the same type as `ProbeDistribution`). */
export type Projection = ProbeDistribution;

/** What every loss here returns: the scalar loss (differentiable in the params) and detached diagnostics. */
export interface ScoreLossOutput {
  /** Scalar (shape `[]`) loss. */
  readonly loss: Tensor;
  /** Diagnostics as plain numbers (e.g. the two terms of the objective). */
  readonly aux: Readonly<Record<string, number>>;
}

/** A loss as a pure function of parameters, a batch `x [n, ...dim]` and a random key. */
export type ScoreLoss<P> = (params: P, batch: Tensor, key: Key) => ScoreLossOutput;

function checkBatch(x: Tensor, fn: string): [number, number] {
  if (!(x instanceof Tensor)) throw new InvalidTypeError(`${fn}: batch must be a Tensor`);
  if (x.ndim < 2 || x.shape[0] === 0) throw new ShapeError(`${fn}: batch must be [n, ...dim] with n ≥ 1, got [${x.shape.join(', ')}]`);
  return [x.shape[0], x.size / x.shape[0]];
}

function checkScore(s: Tensor, x: Tensor, fn: string): void {
  if (s.shape.length !== x.shape.length || s.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`${fn}: score has shape [${s.shape.join(', ')}] but the batch is [${x.shape.join(', ')}]`);
  }
}

/** Throws unless a caller-given noise/probe tensor has the shape and dtype of `like`. */
function checkGiven(t: Tensor, like: Tensor, what: string): void {
  if (!(t instanceof Tensor)) throw new InvalidTypeError(`${what} must be a Tensor`);
  if (t.shape.length !== like.shape.length || t.shape.some((d, i) => d !== like.shape[i])) {
    throw new ShapeError(`${what} has shape [${t.shape.join(', ')}], expected [${like.shape.join(', ')}]`);
  }
  if (t.dtype !== like.dtype) throw new DTypeError(`${what} is ${t.dtype}, the batch is ${like.dtype}`);
}

function rowSum(t: Tensor, n: number): Tensor {
  return sum(reshape(t, [n, t.size / n]), 1);
}

function repeatRows(x: Tensor, times: number): Tensor {
  return times === 1 ? x : concat(Array.from({ length: times }, () => x), 0);
}

/**
 * `D` copies of a `[n, D]` batch, copy `j` paired with the basis vector `eⱼ` on each of its rows: probing
 * `vᵀ(∂g/∂x)v` over all copies gives every diagonal entry `∂gⱼ/∂xⱼ` (an exact trace, one backward pass).
 */
function coordinateProbes(x: Tensor, n: number, D: number): { xs: Tensor; v: Tensor } {
  const basis = new (x.dtype === 'float64' ? Float64Array : Float32Array)(D * n * D);
  for (let j = 0; j < D; j++) for (let i = 0; i < n; i++) basis[(j * n + i) * D + j] = 1;
  const xs = repeatRows(x, D);
  return { xs, v: new Tensor(basis, xs.shape) };
}

function num(t: Tensor): number {
  return detach(t).data[0];
}

/**
 * Core of the Jacobian-based objectives: for `x` replicated `M` times and probes `v [M·n, ...dim]`, returns the
 * score on the replicated batch and `vᵀ (∂s/∂x) v` per replicated row, with one backward pass.
 */
function jacobianQuadratic<P>(score: ScoreFn<P>, params: P, x: Tensor, v: Tensor, fn: string): { s: Tensor; vJv: Tensor } {
  const [s, pull] = vjp((y: Tensor) => score(params, y), x);
  checkScore(s, x, fn);
  const vJ = pull(v);
  return { s, vJv: rowSum(mul(v, vJ), x.shape[0]) };
}

/**
 * Exact (Hyvärinen) score matching, for small dimension `D`:
 * `J(θ) = (1/n) Σᵢ [ ½‖s(xᵢ)‖² + tr ∇ₓ s(xᵢ) ]`, which equals `½ E‖s − ∇log p‖²` up to a constant. For an energy
 * `tr ∇ₓ s = −ΔE`. The trace is formed exactly from the `D` basis vectors in one backward pass over `D` copies of the
 * batch, so the cost grows linearly in `D` (keep `D` ≲ 64). On a quadratic energy `½(x−μ)ᵀA(x−μ)` the minimiser on a
 * sample is `A = Ŝ⁻¹` (the inverse biased sample covariance).
 * Shapes: batch `[n, ...dim]`; loss `[]`; aux `{ sqNorm, trace }` (batch means of the two terms).
 * @example const loss = exactScoreMatching({ energy: E }); const { loss: l } = loss(params, x, key(0));
 */
export function exactScoreMatching<P>(model: ScoreModel<P>): ScoreLoss<P> {
  const score = modelScore(model);
  return (params, batch) => {
    const [n, D] = checkBatch(batch, 'exactScoreMatching');
    const { xs, v } = coordinateProbes(batch, n, D);
    const { s, vJv } = jacobianQuadratic(score, params, xs, v, 'exactScoreMatching');
    const sqNorm = mul(sum(square(sliceAxis(s, 0, 0, n))), 0.5 / n);
    const trace = mul(sum(vJv), 1 / n);
    const loss = add(sqNorm, trace);
    return { loss, aux: { loss: num(loss), sqNorm: num(sqNorm), trace: num(trace) } };
  };
}

/** Options of {@link slicedScoreMatching}. */
export interface SlicedScoreMatchingOptions {
  /** Projections per data point (default 1). */
  readonly nProjections?: number;
  /** Probe distribution (default `'rademacher'`). */
  readonly projection?: Projection;
  /**
   * Variance reduction (SSM-VR, default false): replace `½(vᵀs)²` by its expectation over `v`, `½‖s‖²` (exact
   * when `E[vvᵀ] = I`), leaving only the Jacobian term estimated by projections.
   */
  readonly varianceReduction?: boolean;
}

/**
 * Sliced score matching (Song et al. 2019): with probes `v` (`E[vvᵀ] = I`), `M` per point,
 * `J(θ) = (1/nM) Σᵢ Σₘ [ vᵢₘᵀ ∇ₓ(vᵢₘᵀ s(xᵢ)) + ½ (vᵢₘᵀ s(xᵢ))² ]`; SSM-VR uses `½‖s(xᵢ)‖²` for the last term.
 * Its expectation over `v` is the exact score-matching objective, so the minimisers agree. Needs grad-of-grad for
 * energies (third order when differentiated in `θ`); cost is one backward pass over `M` copies of the batch.
 * Shapes: batch `[n, ...dim]`; loss `[]`; aux `{ sqTerm, jacobianTerm }`.
 * The probes of a call are `probes(key, [M·n, ...dim], projection, batch.dtype)` (row `m·n + i` probes `xᵢ`); to give
 * them yourself use {@link slicedScoreMatchingWithProbes}.
 * @example const loss = slicedScoreMatching({ score: net }, { nProjections: 4, projection: 'gaussian', varianceReduction: true });
 */
export function slicedScoreMatching<P>(model: ScoreModel<P>, opts: SlicedScoreMatchingOptions = {}): ScoreLoss<P> {
  const withProbes = slicedScoreMatchingWithProbes(model, opts);
  const M = opts.nProjections ?? 1;
  const kind = opts.projection ?? 'rademacher';
  if (kind !== 'gaussian' && kind !== 'rademacher') throw new InvalidArgumentError(`slicedScoreMatching: projection must be 'gaussian' or 'rademacher', got '${String(kind)}'`);
  return (params, batch, key) => {
    checkBatch(batch, 'slicedScoreMatching');
    return withProbes(params, batch, probes(key, [M * batch.shape[0], ...batch.shape.slice(1)], kind, batch.dtype));
  };
}

/**
 * {@link slicedScoreMatching} with the probes given: `(params, batch [n, ...dim], v [M·n, ...dim]) → { loss, aux }`,
 * where row `m·n + i` of `v` probes `xᵢ` (`M = nProjections`; `projection` is not used). For callers that draw their
 * own probes or must reproduce a loss value.
 * @example const loss = slicedScoreMatchingWithProbes({ energy: E })(params, x, normal(k, x.shape)); // M = 1, Gaussian probes
 */
export function slicedScoreMatchingWithProbes<P>(model: ScoreModel<P>, opts: SlicedScoreMatchingOptions = {}): (params: P, batch: Tensor, probes: Tensor) => ScoreLossOutput {
  const score = modelScore(model);
  const M = opts.nProjections ?? 1;
  if (!Number.isInteger(M) || M < 1) throw new InvalidArgumentError(`slicedScoreMatching: nProjections must be a positive integer, got ${M}`);
  const vr = opts.varianceReduction ?? false;
  return (params, batch, v) => {
    const [n] = checkBatch(batch, 'slicedScoreMatching');
    const xs = repeatRows(batch, M);
    checkGiven(v, xs, 'slicedScoreMatching: probes');
    const { s, vJv } = jacobianQuadratic(score, params, xs, v, 'slicedScoreMatching');
    const jac = mul(sum(vJv), 1 / (n * M));
    const sq = vr ? mul(sum(square(s)), 0.5 / (n * M)) : mul(sum(square(rowSum(mul(v, s), n * M))), 0.5 / (n * M));
    const loss = add(jac, sq);
    return { loss, aux: { loss: num(loss), sqTerm: num(sq), jacobianTerm: num(jac) } };
  };
}

/** Options of {@link denoisingScoreMatching}. */
export interface DenoisingScoreMatchingOptions {
  /** Noise level `σ > 0` of `x̃ = x + σε`. */
  readonly sigma: number;
  /**
   * Scale of the loss, `λ(σ)·½‖s(x̃) + ε/σ‖²`: `'none'` (default) `λ = 1`; `'sigma2'` `λ = σ²`, i.e. the
   * noise-prediction form `½‖σ·s(x̃) + ε‖²` (for an energy, `½‖σ∇E(x̃) − ε‖²`: the convention of the CLI's
   * `mlp-energy` kind, of the playground, and of {@link multiScaleDenoisingScoreMatching}'s default). Same minimiser;
   * the loss and its gradient are scaled by `σ²`.
   */
  readonly weighting?: 'none' | 'sigma2';
}

/**
 * Denoising score matching at one noise level (Vincent 2011): `x̃ = x + σε`, `ε ~ N(0, I)`,
 * `J(θ) = (1/n) Σᵢ ½ ‖s(x̃ᵢ) + (x̃ᵢ − xᵢ)/σ²‖² = (1/n) Σᵢ ½ ‖s(x̃ᵢ) + εᵢ/σ‖²`. Its minimiser is the score of the
 * smoothed density `p ∗ N(0, σ²I)`; for a quadratic energy on a sample, `A = (Ŝ + σ²I)⁻¹`, so small `σ` recovers the
 * precision up to `O(σ²)` — at the cost of gradient noise of order `1/σ`.
 * With `weighting: 'sigma2'` the loss is `σ²·J = (1/n) Σᵢ ½ ‖σ s(x̃ᵢ) + εᵢ‖²`. The noise of a call is
 * `ε = normal(key, batch.shape, { dtype: batch.dtype })`; to give it yourself use {@link denoisingScoreMatchingWithNoise}.
 * Shapes: batch `[n, ...dim]`; loss `[]`.
 * @example const loss = denoisingScoreMatching({ energy: E }, { sigma: 0.1 });
 */
export function denoisingScoreMatching<P>(model: ScoreModel<P>, opts: DenoisingScoreMatchingOptions): ScoreLoss<P> {
  const withNoise = denoisingScoreMatchingWithNoise(model, opts);
  return (params, batch, key) => {
    checkBatch(batch, 'denoisingScoreMatching');
    return withNoise(params, batch, normal(key, batch.shape, { dtype: batch.dtype }));
  };
}

/**
 * {@link denoisingScoreMatching} with the noise given: `(params, batch [n, ...dim], noise ε [n, ...dim]) → { loss, aux }`,
 * `x̃ = x + σε`. For callers that draw their own noise, reuse it (e.g. for a diagnostic at `x̃`), or must reproduce a
 * loss value.
 * @example
 * const eps = normal(k, x.shape);
 * const { loss } = denoisingScoreMatchingWithNoise({ energy: E }, { sigma: 0.1, weighting: 'sigma2' })(params, x, eps);
 */
export function denoisingScoreMatchingWithNoise<P>(model: ScoreModel<P>, opts: DenoisingScoreMatchingOptions): (params: P, batch: Tensor, noise: Tensor) => ScoreLossOutput {
  const score = modelScore(model);
  const sigma = opts.sigma;
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new InvalidArgumentError(`denoisingScoreMatching: sigma must be a finite number > 0, got ${sigma}`);
  const weighting = opts.weighting ?? 'none';
  if (weighting !== 'none' && weighting !== 'sigma2') throw new InvalidArgumentError(`denoisingScoreMatching: weighting must be 'none' or 'sigma2', got '${String(weighting)}'`);
  return (params, batch, eps) => {
    const [n] = checkBatch(batch, 'denoisingScoreMatching');
    checkGiven(eps, batch, 'denoisingScoreMatching: noise');
    const xt = add(batch, mul(eps, sigma));
    const s = score(params, xt);
    checkScore(s, batch, 'denoisingScoreMatching');
    // residual s + ε/σ; weighted by σ: σ·s + ε.
    const r = weighting === 'sigma2' ? add(mul(s, sigma), eps) : add(s, mul(eps, 1 / sigma));
    const loss = mul(sum(square(r)), 0.5 / n);
    return { loss, aux: { loss: num(loss) } };
  };
}

/** Options of {@link multiScaleDenoisingScoreMatching}. */
export interface MultiScaleDSMOptions {
  /** The noise levels `σ₁ > … > σ_L` (any order is accepted; all must be > 0). */
  readonly sigmas: readonly number[];
  /** `'sigma2'` (default, NCSN): `λ(σ) = σ²`; `'none'`: `λ = 1`. */
  readonly weighting?: 'sigma2' | 'none';
}

/**
 * Noise-conditional denoising score matching over several noise levels (NCSN, Song & Ermon 2019): each example gets a
 * level `σᵢ` drawn uniformly from `sigmas`, `x̃ = x + σᵢε`, and
 * `J(θ) = (1/n) Σᵢ λ(σᵢ) · ½ ‖s(x̃ᵢ, σᵢ) + εᵢ/σᵢ‖²`; with `λ = σ²` this is `½‖σᵢ s(x̃ᵢ, σᵢ) + εᵢ‖²`, so every level
 * contributes on the same scale. The model is conditioned on the noise level: it receives `sigma [n]` (the value of
 * each row's σ) as its third argument.
 * Shapes: batch `[n, ...dim]`; loss `[]`; aux `{ loss }`.
 * @example const loss = multiScaleDenoisingScoreMatching({ score: (p, x, s) => net(p, x, s) }, { sigmas: geometricSigmas(1, 0.01, 10) } // from src/samplers);
 */
export function multiScaleDenoisingScoreMatching<P>(model: ScoreModel<P, [Tensor]>, opts: MultiScaleDSMOptions): ScoreLoss<P> {
  const score = modelScore(model);
  const sigmas = opts.sigmas;
  if (!Array.isArray(sigmas) || sigmas.length === 0) throw new InvalidArgumentError('multiScaleDenoisingScoreMatching: sigmas must be a non-empty array');
  sigmas.forEach((s, i) => {
    if (!(s > 0) || !Number.isFinite(s)) throw new InvalidArgumentError(`multiScaleDenoisingScoreMatching: sigmas[${i}] must be a finite number > 0, got ${s}`);
  });
  const weighting = opts.weighting ?? 'sigma2';
  if (weighting !== 'sigma2' && weighting !== 'none') throw new InvalidArgumentError(`multiScaleDenoisingScoreMatching: weighting must be 'sigma2' or 'none', got '${String(weighting)}'`);
  return (params, batch, key) => {
    const [n] = checkBatch(batch, 'multiScaleDenoisingScoreMatching');
    const [kIdx, kEps] = split(key, 2);
    const idx = randintArray(kIdx, 0, sigmas.length, n);
    const sig = new Float64Array(n);
    for (let i = 0; i < n; i++) sig[i] = sigmas[idx[i]];
    const sigT = tensor(sig, [n], batch.dtype);
    const colShape = [n, ...batch.shape.slice(1).map(() => 1)];
    const sigCol = reshape(sigT, colShape);
    const eps = normal(kEps, batch.shape, { dtype: batch.dtype });
    const xt = add(batch, mul(eps, sigCol));
    const s = score(params, xt, sigT);
    checkScore(s, batch, 'multiScaleDenoisingScoreMatching');
    // residual r = s + ε/σ; weighted: σ·r = σ s + ε.
    const r = weighting === 'sigma2' ? add(mul(s, sigCol), eps) : add(s, div(eps, sigCol));
    const loss = mul(sum(square(r)), 0.5 / n);
    return { loss, aux: { loss: num(loss) } };
  };
}

/** Options of {@link noiseConditionalDenoisingScoreMatching} (noise levels in data units). */
export interface NoiseConditionalDSMOptions {
  /** Smallest noise level `σ_min > 0` (the level whose energy is the model's density). */
  readonly sigmaMin: number;
  /** Largest noise level `σ_max > σ_min`. */
  readonly sigmaMax: number;
  /** Fraction of rows at `σ_min` (default 0.5); the others get `σ` log-uniform in `[σ_min, σ_max]`. */
  readonly pMin?: number;
  /** Weight `w ≥ 0` of the heat-equation term (default 1; 0: multi-level DSM only). */
  readonly heat?: number;
}

/**
 * Noise-conditional denoising score matching for an energy `E(x, σ)` that reads `log σ`, with a heat-equation
 * consistency term that ties its noise levels together. Each row gets a level `σᵢ` (`σ_min` with probability `pMin`,
 * else log-uniform in `[σ_min, σ_max]`), `x̃ᵢ = xᵢ + σᵢεᵢ`, and
 * `J(θ) = (1/n) Σᵢ ½‖σᵢ s(x̃ᵢ, σᵢ) + εᵢ‖² + w·(1/n) Σᵢ (τᵢ Rᵢ)²`, `s = −∇ₓE`, `τ = σ²`, with the residual
 * `R = ∂_τE − ½(ΔₓE − ‖∇ₓE‖²)` of the heat equation `∂_τ p_τ = ½Δp_τ` that the smoothed densities
 * `p_τ = p ∗ N(0, τI)` obey (for `E = −log p_τ`; `τR = ½∂_{log σ}E − ½τ(ΔE − ‖∇E‖²)`). The first term alone is
 * blind to the relative weights of separated modes (the score inside a mode does not depend on its weight); the
 * heat term carries the weights, which large σ sees, down to `σ_min`, where `exp(−E(x, σ_min))` is the model of
 * `p ∗ N(0, σ_min² I)`. The Laplacian is exact: one backward pass over `D` copies of the batch (vectors; keep `D`
 * small), so with `w > 0` a step costs about `2D` times a DSM step's network evaluations.
 * Shapes: batch `[n, D]`; the energy `(params, x [m, D], logSigma [m]) → [m]`, differentiable in `x` and `logSigma`;
 * loss `[]`; aux `{ loss, dsm, heat }` (batch means of the two terms, `heat` unweighted).
 * Noise of a call: `[kPick, kLevel, kEps] = split(key, 3)`, `uniformArray(kPick, n)`, `uniformArray(kLevel, n)`
 * (float64), `ε = normal(kEps, batch.shape)`.
 * @example
 * const loss = noiseConditionalDenoisingScoreMatching((p, x, ls) => deepEbmNoiseEnergy(p, cfg)(x, ls), { sigmaMin: 0.1, sigmaMax: 1 });
 * loss(params, batch, key(0)).loss
 */
export function noiseConditionalDenoisingScoreMatching<P>(
  energy: (params: P, x: Tensor, logSigma: Tensor) => Tensor, opts: NoiseConditionalDSMOptions,
): ScoreLoss<P> {
  const fn = 'noiseConditionalDenoisingScoreMatching';
  const { sigmaMin, sigmaMax } = opts;
  const pMin = opts.pMin ?? 0.5, w = opts.heat ?? 1;
  if (typeof energy !== 'function') throw new InvalidTypeError(`${fn}: energy must be a function (params, x, logSigma) → [n]`);
  if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !Number.isFinite(sigmaMax)) throw new InvalidArgumentError(`${fn}: need 0 < sigmaMin < sigmaMax (finite), got ${sigmaMin}, ${sigmaMax}`);
  if (!(pMin >= 0 && pMin <= 1)) throw new InvalidArgumentError(`${fn}: pMin must be in [0, 1], got ${pMin}`);
  if (!(w >= 0) || !Number.isFinite(w)) throw new InvalidArgumentError(`${fn}: heat must be a finite number ≥ 0, got ${w}`);
  const L = Math.log(sigmaMax / sigmaMin);
  return (params, batch, key) => {
    const [n, D] = checkBatch(batch, fn);
    if (batch.ndim !== 2) throw new ShapeError(`${fn}: batch must be [n, D] vectors, got [${batch.shape.join(', ')}]`);
    const dtype = batch.dtype;
    const [kPick, kLevel, kEps] = split(key, 3);
    const pick = uniformArray(kPick, n, 'float64'), lev = uniformArray(kLevel, n, 'float64');
    const sig = new Float64Array(n);
    for (let i = 0; i < n; i++) sig[i] = pick[i] < pMin ? sigmaMin : sigmaMin * Math.exp(L * lev[i]);
    const eps = normal(kEps, batch.shape, { dtype });
    const sigCol = tensor(sig, [n, 1], dtype);
    const xt = add(batch, mul(eps, sigCol));
    const logSig = Float64Array.from(sig, Math.log);
    const dsmOf = (gx: Tensor): Tensor => mul(sum(square(sub(eps, mul(gx, sigCol)))), 0.5 / n); // σs + ε = ε − σ∇E
    if (w === 0) {
      const ls = tensor(logSig, [n], dtype);
      const gx = grad((y: Tensor) => {
        const e = energy(params, y, ls);
        if (e.ndim !== 1 || e.shape[0] !== n) throw new ShapeError(`${fn}: energy must return [${n}], got [${e.shape.join(', ')}]`);
        return sum(e);
      })(xt);
      const dsm = dsmOf(gx);
      return { loss: dsm, aux: { loss: num(dsm), dsm: num(dsm), heat: 0 } };
    }
    // D copies of the noisy batch; copy j is probed with the basis vector eⱼ, so vᵀ(∂∇E/∂x)v gives ∂²E/∂xⱼ².
    const { xs, v } = coordinateProbes(xt, n, D);
    const lsRep = new Float64Array(D * n);
    for (let j = 0; j < D; j++) lsRep.set(logSig, j * n);
    const ls = tensor(lsRep, [D * n], dtype);
    let gLog: Tensor | null = null;
    const [gx, pull] = vjp((y: Tensor) => {
      const g = grad((t: { x: Tensor; s: Tensor }) => {
        const e = energy(params, t.x, t.s);
        if (e.ndim !== 1 || e.shape[0] !== D * n) throw new ShapeError(`${fn}: energy must return [${D * n}], got [${e.shape.join(', ')}]`);
        return sum(e);
      })({ x: y, s: ls });
      gLog = g.s;
      return g.x;
    }, xs);
    const lap = sum(reshape(rowSum(mul(pull(v), v), D * n), [D, n]), 0); // ΔE [n]
    const g1 = sliceAxis(gx, 0, 0, n);
    const dsm = dsmOf(g1);
    const tau = tensor(Float64Array.from(sig, (s) => s * s), [n], dtype);
    const tR = sub(mul(sliceAxis(gLog!, 0, 0, n), 0.5), mul(mul(sub(lap, sum(square(g1), 1)), tau), 0.5));
    const heatTerm = mul(sum(square(tR)), 1 / n);
    const loss = add(dsm, mul(heatTerm, w));
    return { loss, aux: { loss: num(loss), dsm: num(dsm), heat: num(heatTerm) } };
  };
}
