/**
 * Random Fourier input features (Tancik et al., NeurIPS 2020): `φ(z) = [sin(2π zB), cos(2π zB)]` for `z [n, d]`,
 * with a fixed frequency matrix `B [d, m]`, `B_ij ~ N(0, scale²)`. Coordinate MLPs on low-dimensional inputs learn
 * high-frequency structure (a thin ring, a sharp mode) very slowly ("spectral bias"); feeding them `φ(z)` instead of
 * `z` removes most of that bias. `scale` sets the bandwidth in cycles per unit of `z`.
 * @module
 */
import { Tensor, matmul, sin, cos, concat, ShapeError } from '../tensor/index.js';
import { normalArray, type Key } from '../random/index.js';
import { InvalidArgumentError } from '../errors.js';

/** A fixed random Fourier feature map, JSON-serialisable (stored in model configs). */
export interface FourierFeatures {
  /** Number of frequencies `m` (the map outputs `2m` features). */
  readonly features: number;
  /** Standard deviation of the frequencies (cycles per input unit). */
  readonly scale: number;
  /** `B` row-major `[d, m]`. */
  readonly B: readonly number[];
}

/**
 * Draws a feature map for `d`-dimensional inputs: `B [d, m]`, `B_ij ~ N(0, scale²)`.
 * @example const ff = initFourierFeatures(key(0), 2, 64, 0.5); fourierFeatureFn(ff, 2)(z) // [n, 128]
 */
export function initFourierFeatures(k: Key, d: number, m: number, scale: number): FourierFeatures {
  if (!Number.isInteger(d) || d < 1) throw new InvalidArgumentError(`initFourierFeatures: d must be a positive integer, got ${d}`);
  if (!Number.isInteger(m) || m < 1) throw new InvalidArgumentError(`initFourierFeatures: m must be a positive integer, got ${m}`);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new InvalidArgumentError(`initFourierFeatures: scale must be a finite number > 0, got ${scale}`);
  return { features: m, scale, B: Array.from(normalArray(k, d * m, 'float64'), (v) => v * scale) };
}

/**
 * Checks a feature map read from a file for inputs of dimension `d`; throws a RangeError naming the bad field
 * (prefixed by `where`, e.g. `deep-ebm config field "fourier`).
 */
export function checkFourierFeatures(f: unknown, d: number, where: string): FourierFeatures {
  const o = f as Record<string, unknown>;
  if (!o || typeof o !== 'object') throw new InvalidArgumentError(`${where}" must be an object`);
  if (!Number.isSafeInteger(o.features) || !((o.features as number) >= 1)) throw new InvalidArgumentError(`${where}.features" must be a positive integer`);
  if (typeof o.scale !== 'number' || !(o.scale > 0) || !Number.isFinite(o.scale)) throw new InvalidArgumentError(`${where}.scale" must be a finite number > 0`);
  const B = o.B;
  if (!Array.isArray(B) || B.length !== d * (o.features as number) || !B.every((e) => typeof e === 'number' && Number.isFinite(e))) {
    throw new InvalidArgumentError(`${where}.B" must be ${d}×${String(o.features)} finite numbers`);
  }
  return o as unknown as FourierFeatures;
}

/**
 * A differentiable feature function `z [n, d] → φ(z) [n, 2m]` (float32 unless `dtype` says otherwise); the matrix
 * `2πB` is built once.
 */
export function fourierFeatureFn(ff: FourierFeatures, d: number, dtype: 'float32' | 'float64' = 'float32'): (z: Tensor) => Tensor {
  if (ff.B.length !== d * ff.features) throw new ShapeError(`Fourier features: B has ${ff.B.length} entries, expected ${d}×${ff.features}`);
  const data = dtype === 'float64' ? Float64Array.from(ff.B, (b) => 2 * Math.PI * b) : Float32Array.from(ff.B, (b) => 2 * Math.PI * b);
  const twoPiB = new Tensor(data, [d, ff.features]);
  return (z) => {
    if (z.ndim !== 2 || z.shape[1] !== d) throw new ShapeError(`Fourier features: expected z of shape [n, ${d}], got [${z.shape.join(', ')}]`);
    const u = matmul(z, twoPiB);
    return concat([sin(u), cos(u)], 1);
  };
}
