/**
 * Binary image denoising with an Ising prior (the classic example of Besag 1986 / Bishop, PRML §8.3.3). Pixels are
 * spins `s_i ∈ {−1, +1}` (`+1` = white, value 1), the noisy observation is `y_i ∈ {−1, +1}`, and
 *
 *   E(s) = −β Σ_{i~j} s_i s_j − η Σ_i y_i s_i
 *
 * over 4-neighbour pairs `i~j`. For independent flips with probability `p` the likelihood term is exactly
 * `η = ½ log((1 − p)/p)`; `β > 0` rewards smooth images. Inference by ICM, annealed Gibbs or mean field
 * (see `inference.ts`).
 * @module
 */
import { Tensor, ShapeError } from '../tensor/tensor.js';
import { foldIn, uniformArray, type Key } from '../random/index.js';
import { isingModel, type DiscreteMRF, type IsingCoupling } from './mrf.js';
import { gibbsAnneal, icm, meanField } from './inference.js';
import { InvalidArgumentError } from '../errors.js';

function checkImage(img: Tensor, fn: string): [number, number] {
  if (!(img instanceof Tensor) || img.ndim !== 2) throw new ShapeError(`${fn}: image must be a 2-d tensor [height, width], got [${img?.shape?.join(', ')}]`);
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    if (!(d[i] >= 0 && d[i] <= 1)) throw new InvalidArgumentError(`${fn}: pixel (row ${Math.floor(i / img.shape[1])}, column ${i % img.shape[1]}) is ${d[i]}, expected a value in [0, 1]`);
  }
  return [img.shape[0], img.shape[1]];
}

/**
 * The Ising denoising energy for an observed image (`[h, w]`, values in [0, 1], binarised at 0.5) as a `K = 2`
 * MRF over the `h·w` pixels (state 1 = white).
 * @param coupling `β` (default 1). @param dataWeight `η` (default 1).
 */
export function isingDenoiseModel(observed: Tensor, coupling = 1, dataWeight = 1): DiscreteMRF {
  const [h, w] = checkImage(observed, 'isingDenoiseModel');
  if (!Number.isFinite(coupling) || !Number.isFinite(dataWeight)) throw new InvalidArgumentError(`isingDenoiseModel: coupling and dataWeight must be finite, got ${coupling}, ${dataWeight}`);
  const edges: IsingCoupling[] = [];
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const i = r * w + c;
      if (c + 1 < w) edges.push({ i, j: i + 1, J: coupling });
      if (r + 1 < h) edges.push({ i, j: i + w, J: coupling });
    }
  }
  const field = new Float64Array(h * w);
  const d = observed.data;
  for (let i = 0; i < h * w; i++) field[i] = dataWeight * (d[i] >= 0.5 ? 1 : -1);
  return isingModel(h * w, edges, field);
}

/** Options of {@link denoiseBinaryImage}. */
export interface DenoiseOptions {
  /** `icm` (default), `gibbs` (annealed Gibbs, best state kept) or `meanfield` (argmax of the marginals). */
  method?: 'icm' | 'gibbs' | 'meanfield';
  /** Pairwise coupling `β` (default 1). */
  coupling?: number;
  /** Data weight `η`; default `½ log((1 − p)/p)` from `flipProbability`, else 1. */
  dataWeight?: number;
  /** Assumed flip probability `p` of the noise, used for the default `η`. */
  flipProbability?: number;
  /** Sweeps (ICM maximum; Gibbs sweeps; mean-field iterations). Default 50 (ICM, mean field), 200 (Gibbs). */
  sweeps?: number;
  /** Key for `gibbs` (default `key(0)` derived). */
  key?: Key;
}

/** Result of {@link denoiseBinaryImage}. */
export interface DenoiseResult {
  /** Denoised image `[h, w]`, float32 values 0/1. */
  image: Tensor;
  /** Energy of the result and of the (binarised) noisy input. */
  energy: number;
  inputEnergy: number;
  /** The `β`, `η` used. */
  coupling: number;
  dataWeight: number;
  sweeps: number;
}

/**
 * Denoises a binary image by minimising the Ising energy (module doc), starting from the observation.
 * @param noisy `[h, w]` with values in [0, 1] (thresholded at 0.5).
 * @example const { image } = denoiseBinaryImage(noisy, { flipProbability: 0.1 });
 */
export function denoiseBinaryImage(noisy: Tensor, opts: DenoiseOptions = {}): DenoiseResult {
  const [h, w] = checkImage(noisy, 'denoiseBinaryImage');
  const p = opts.flipProbability;
  if (p !== undefined && !(p > 0 && p < 0.5)) throw new InvalidArgumentError(`denoiseBinaryImage: flipProbability must be in (0, 0.5), got ${p}`);
  const beta = opts.coupling ?? 1;
  const eta = opts.dataWeight ?? (p !== undefined ? 0.5 * Math.log((1 - p) / p) : 1);
  const m = isingDenoiseModel(noisy, beta, eta);
  const y = Int32Array.from(noisy.data, (v) => (v >= 0.5 ? 1 : 0));
  const method = opts.method ?? 'icm';
  let x: Int32Array, energy: number, sweeps: number;
  if (method === 'icm') {
    const r = icm(m, { init: y, maxSweeps: opts.sweeps ?? 50 });
    [x, energy, sweeps] = [r.x, r.energy, r.sweeps];
  } else if (method === 'gibbs') {
    const r = gibbsAnneal(m, opts.key ?? foldIn({ k: [0, 0] }, 0xd0), { init: y, sweeps: opts.sweeps ?? 200, tStart: 2, tEnd: 0.05 });
    [x, energy, sweeps] = [r.best, r.bestEnergy, r.sweeps];
  } else if (method === 'meanfield') {
    const init = new Float64Array(2 * h * w);
    for (let i = 0; i < h * w; i++) { init[2 * i + y[i]] = 0.9; init[2 * i + 1 - y[i]] = 0.1; }
    const r = meanField(m, { init, maxIters: opts.sweeps ?? 50, temperature: 1 });
    [x, energy, sweeps] = [r.x, r.energy, r.iters];
  } else {
    throw new InvalidArgumentError(`denoiseBinaryImage: method must be icm, gibbs or meanfield, got '${String(method)}'`);
  }
  let e0 = 0;
  {
    // energy of the observation itself
    const K = 2;
    for (let i = 0; i < h * w; i++) e0 += m.unary[i * K + y[i]];
    for (let q = 0; q < m.edgeI.length; q++) e0 += m.pair[(q * K + y[m.edgeI[q]]) * K + y[m.edgeJ[q]]];
  }
  return { image: new Tensor(Float32Array.from(x), [h, w]), energy, inputEnergy: e0, coupling: beta, dataWeight: eta, sweeps };
}

/**
 * Flips each pixel of a binary image (values thresholded at 0.5) independently with probability `p`, using
 * `uniformArray(key, h·w)`. @returns float32 `[h, w]` of 0/1.
 */
export function flipNoise(img: Tensor, p: number, k: Key): Tensor {
  const [h, w] = checkImage(img, 'flipNoise');
  if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError(`flipNoise: p must be in [0, 1], got ${p}`);
  const u = uniformArray(k, h * w, 'float64');
  const out = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) { const b = img.data[i] >= 0.5 ? 1 : 0; out[i] = u[i] < p ? 1 - b : b; }
  return new Tensor(out, [h, w]);
}

/** Fraction of pixels whose binarised values (threshold 0.5) differ between two images of the same shape. */
export function pixelErrorRate(a: Tensor, b: Tensor): number {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) throw new ShapeError(`pixelErrorRate: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  let e = 0;
  for (let i = 0; i < a.size; i++) if ((a.data[i] >= 0.5) !== (b.data[i] >= 0.5)) e++;
  return e / a.size;
}

/**
 * A synthetic binary test image `[h, w]`: a disc, a rectangle and a ring (white shapes on black), for the denoising
 * example and tests.
 */
export function shapesImage(h = 64, w = 64): Tensor {
  const out = new Float32Array(h * w);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const y = r / h, x = c / w;
      const disc = (x - 0.3) ** 2 + (y - 0.3) ** 2 < 0.04;
      const rect = x > 0.55 && x < 0.9 && y > 0.15 && y < 0.45;
      const d2 = (x - 0.5) ** 2 + (y - 0.72) ** 2;
      const ring = d2 < 0.06 && d2 > 0.02;
      out[r * w + c] = disc || rect || ring ? 1 : 0;
    }
  }
  return new Tensor(out, [h, w]);
}
