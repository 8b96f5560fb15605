/**
 * Deep energy-based models: a neural energy `E_θ(x)` (MLP on vectors, small conv net on images) with input
 * standardisation and an optional confining term, described by a JSON-serialisable config so that a model file
 * holds everything needed to rebuild it.
 *
 * `E(x) = f_θ(z) + ½·c·‖z‖²`, `z = (x − shift)/scale`, where `f_θ` is the network (one output per row) and `c ≥ 0`
 * makes `exp(−E)` integrable whatever the network does far from the data. An MLP may read random Fourier features
 * `φ(z) = [sin 2π zB, cos 2π zB]` instead of `z` (`initFourierFeatures` in `src/nn`), the standard cure for the spectral bias
 * of coordinate MLPs on low-dimensional data with sharp structure.
 * @module
 */
import { columnMeanSd } from '../../data/columns.js';
import { Tensor, add, mul, reshape, square, sum, sub, concat, cast, noGrad, ShapeError } from '../../tensor/index.js';
import type { Key } from '../../random/index.js';
import type { Energy } from '../../energy/index.js';
import {
  initMLP, applyMLP, initConvNet, applyConvNet, isActivation, checkFourierFeatures, fourierFeatureFn,
  type Activation, type ConvNetConfig, type FourierFeatures,
} from '../../nn/index.js';
import { InvalidArgumentError, EbmError, type EbmErrorCode } from '../../errors.js';

export type { FourierFeatures } from '../../nn/index.js';

/** Network architecture of a deep EBM. */
export type DeepEbmArch =
  /** MLP with layer widths `[d, h₁, …, 1]`. */
  | { readonly kind: 'mlp'; readonly sizes: readonly number[] }
  /** Conv net on images `[C, H, W]` (rows stored flat, `C·H·W` values): strided 3×3 convs, then dense layers, then 1 output. */
  | { readonly kind: 'conv'; readonly shape: readonly [number, number, number]; readonly channels: readonly number[]; readonly hidden: readonly number[] };

/** Everything needed to rebuild a deep EBM from its parameters (stored as a model file's config). */
export interface DeepEbmConfig {
  readonly arch: DeepEbmArch;
  readonly activation: Activation;
  /** Standardisation `z = (x − shift)/scale`: one entry (all coordinates) or one per coordinate. */
  readonly shift: readonly number[];
  readonly scale: readonly number[];
  /** Strength `c ≥ 0` of the confining term `½c‖z‖²`. */
  readonly confine: number;
  /** MLP only: random Fourier input features `[sin 2πzB, cos 2πzB]` (the first layer then takes `2·features` inputs). Absent/null: none. */
  readonly fourier?: FourierFeatures | null;
  /**
   * MLP only: a noise-conditional energy `E(x, σ)` for `σ ∈ [sigmaMin, sigmaMax]` (data units), trained by
   * `noiseConditionalDenoisingScoreMatching` (src/losses): the network reads one more input
   * `u = 2·log(σ/σ_min)/log(σ_max/σ_min) − 1 ∈ [−1, 1]` after its other inputs. The model's energy (what
   * {@link deepEbmEnergy} evaluates, what `ebm eval/sample/score` use) is `E(x, σ_min)`, a model of the data
   * smoothed by `N(0, σ_min² I)`. Absent/null: an ordinary energy `E(x)`.
   */
  readonly noise?: DeepEbmNoiseLevels | null;
}

/** Noise levels of a noise-conditional deep EBM (data units, `0 < sigmaMin < sigmaMax`). */
export interface DeepEbmNoiseLevels {
  readonly sigmaMin: number;
  readonly sigmaMax: number;
}

/** Width of the network's input: `d`, or `2m` with Fourier features; one more for a noise-conditional energy. */
function netInputSize(cfg: DeepEbmConfig): number {
  return (cfg.fourier ? 2 * cfg.fourier.features : archInputSize(cfg.arch)) + (cfg.noise ? 1 : 0);
}

/** Thrown for a malformed architecture string; the message shows the accepted forms. */
export class ArchSpecError extends EbmError {
  readonly code: EbmErrorCode = 'ARCH_SPEC';
  override name = 'ArchSpecError';
}

const ARCH_HELP = 'use mlp:D-H1-…-1 (e.g. mlp:2-128-128-1) or conv:CxHxW:C1,C2,…[:H1,…] (e.g. conv:1x8x8:16,32:64)';

function posInts(s: string, what: string, spec: string): number[] {
  const parts = s.split(/[-,]/);
  const v = parts.map(Number);
  if (!parts.length || parts.some((p) => !/^\d+$/.test(p.trim())) || v.some((x) => !(x >= 1))) throw new ArchSpecError(`bad ${what} in architecture "${spec}": ${ARCH_HELP}`);
  return v;
}

/**
 * Parses an architecture string.
 * - `mlp:2-128-128-1` → MLP widths `[2, 128, 128, 1]` (last must be 1).
 * - `conv:1x8x8:16,32:64` → images `[1, 8, 8]`, conv channels `[16, 32]`, dense hidden `[64]` (optional part).
 * @example parseArch('mlp:2-64-64-1') // { kind: 'mlp', sizes: [2, 64, 64, 1] }
 */
export function parseArch(spec: string): DeepEbmArch {
  const s = spec.trim();
  if (s.startsWith('mlp:')) {
    const sizes = posInts(s.slice(4), 'layer widths', spec);
    if (sizes.length < 2) throw new ArchSpecError(`architecture "${spec}" needs at least an input and an output width: ${ARCH_HELP}`);
    if (sizes[sizes.length - 1] !== 1) throw new ArchSpecError(`architecture "${spec}": an energy has one output, so the last width must be 1`);
    return { kind: 'mlp', sizes };
  }
  if (s.startsWith('conv:')) {
    const parts = s.slice(5).split(':');
    if (parts.length < 2 || parts.length > 3) throw new ArchSpecError(`bad architecture "${spec}": ${ARCH_HELP}`);
    const dims = parts[0].split('x');
    if (dims.length !== 3) throw new ArchSpecError(`bad image shape "${parts[0]}" in architecture "${spec}" (want CxHxW): ${ARCH_HELP}`);
    const shape = posInts(dims.join(','), 'image shape', spec) as [number, number, number];
    const channels = posInts(parts[1], 'conv channels', spec);
    const hidden = parts.length === 3 && parts[2] !== '' ? posInts(parts[2], 'dense widths', spec) : [];
    return { kind: 'conv', shape, channels, hidden };
  }
  throw new ArchSpecError(`unknown architecture "${spec}": ${ARCH_HELP}`);
}

/** The architecture as a string (inverse of {@link parseArch}). */
export function formatArch(a: DeepEbmArch): string {
  if (a.kind === 'mlp') return `mlp:${a.sizes.join('-')}`;
  return `conv:${a.shape.join('x')}:${a.channels.join(',')}${a.hidden.length ? ':' + a.hidden.join(',') : ''}`;
}

/** Number of values in one data row: `d` for an MLP, `C·H·W` for a conv net. */
export function archInputSize(a: DeepEbmArch): number {
  return a.kind === 'mlp' ? a.sizes[0] : a.shape[0] * a.shape[1] * a.shape[2];
}

function convCfg(a: Extract<DeepEbmArch, { kind: 'conv' }>, act: Activation): ConvNetConfig {
  return { inChannels: a.shape[0], height: a.shape[1], width: a.shape[2], channels: a.channels, hidden: a.hidden, out: 1, activation: act };
}

/** Validates a config (e.g. read from a model file); throws a RangeError naming the bad field. */
export function checkDeepEbmConfig(c: unknown): DeepEbmConfig {
  const o = c as Record<string, unknown>;
  if (!o || typeof o !== 'object') throw new InvalidArgumentError('deep-ebm config must be an object');
  const arch = o.arch as DeepEbmArch;
  if (!arch || (arch.kind !== 'mlp' && arch.kind !== 'conv')) throw new InvalidArgumentError('deep-ebm config field "arch" is missing or invalid');
  parseArch(formatArch(arch)); // validates widths
  if (!isActivation(o.activation)) throw new InvalidArgumentError('deep-ebm config field "activation" is missing or invalid');
  const d = archInputSize(arch);
  for (const f of ['shift', 'scale'] as const) {
    const v = o[f];
    if (!Array.isArray(v) || (v.length !== 1 && v.length !== d) || !v.every((e) => typeof e === 'number' && Number.isFinite(e))) throw new InvalidArgumentError(`deep-ebm config field "${f}" must be 1 or ${d} finite numbers`);
  }
  if (!(o.scale as number[]).every((s) => s > 0)) throw new InvalidArgumentError('deep-ebm config field "scale" must be positive');
  if (typeof o.confine !== 'number' || !(o.confine >= 0)) throw new InvalidArgumentError('deep-ebm config field "confine" must be a number ≥ 0');
  if (o.fourier !== undefined && o.fourier !== null) {
    if (arch.kind !== 'mlp') throw new InvalidArgumentError('deep-ebm config field "fourier" needs an mlp architecture');
    checkFourierFeatures(o.fourier, d, 'deep-ebm config field "fourier');
  }
  if (o.noise !== undefined && o.noise !== null) {
    const nz = o.noise as Record<string, unknown>;
    if (arch.kind !== 'mlp') throw new InvalidArgumentError('deep-ebm config field "noise" needs an mlp architecture');
    if (typeof nz !== 'object' || typeof nz.sigmaMin !== 'number' || typeof nz.sigmaMax !== 'number' || !(nz.sigmaMin > 0) || !(nz.sigmaMax > nz.sigmaMin) || !Number.isFinite(nz.sigmaMax)) {
      throw new InvalidArgumentError('deep-ebm config field "noise" must be { sigmaMin, sigmaMax } with 0 < sigmaMin < sigmaMax (finite)');
    }
  }
  return o as unknown as DeepEbmConfig;
}

/**
 * Fresh parameters (`src/nn` layouts: `l{i}.w/b` for an MLP, `conv{i}.w/b`, `fc{j}.w/b` for a conv net).
 * The last layer's weights are scaled by `lastScale` (default 0.1) so the initial energy is nearly flat.
 * @example const p = initDeepEbm(key(0), { arch: parseArch('mlp:2-64-1'), activation: 'silu', shift: [0], scale: [1], confine: 0 });
 */
export function initDeepEbm(k: Key, cfg: DeepEbmConfig, lastScale = 0.1): Record<string, Tensor> {
  const a = cfg.arch;
  if (cfg.fourier && a.kind !== 'mlp') throw new InvalidArgumentError('initDeepEbm: Fourier features need an mlp architecture');
  if (cfg.noise && a.kind !== 'mlp') throw new InvalidArgumentError('initDeepEbm: a noise-conditional energy needs an mlp architecture');
  const p = a.kind === 'mlp' ? initMLP(k, [netInputSize(cfg), ...a.sizes.slice(1)], { activation: cfg.activation }) : initConvNet(k, convCfg(a, cfg.activation));
  const lastW = a.kind === 'mlp' ? `l${a.sizes.length - 2}.w` : `fc${a.hidden.length}.w`;
  const w = p[lastW];
  p[lastW] = new Tensor(w.data.map((v) => v * lastScale) as typeof w.data, w.shape);
  return p;
}

function perCoord(v: readonly number[], d: number): Float32Array {
  const out = new Float32Array(d);
  for (let j = 0; j < d; j++) out[j] = v.length === 1 ? v[0] : v[j];
  return out;
}

/**
 * The energy of a deep EBM as an {@link Energy} on flat rows `x [n, D]` → `[n]` (differentiable in the parameters
 * and in `x`; rows independent). A noise-conditional config (`cfg.noise`) is evaluated at `σ_min`.
 * @example const E = deepEbmEnergy(params, cfg); E.energy(x) // [n]
 */
export function deepEbmEnergy(params: Record<string, Tensor>, cfg: DeepEbmConfig): Energy {
  const f = energyFn(params, cfg);
  const D = archInputSize(cfg.arch);
  const logMin = cfg.noise ? Math.log(cfg.noise.sigmaMin) : 0;
  return {
    dim: D,
    energy: (x: Tensor): Tensor => f(x, cfg.noise ? new Tensor(new Float32Array(x.shape[0]).fill(logMin), [x.shape[0]]) : null),
  };
}

/**
 * The noise-conditional energy `E(x, σ)` of a config with `noise` levels: `(x [n, D], log σ [n] (data units)) → [n]`,
 * differentiable in the parameters, in `x` and in `log σ` (what `noiseConditionalDenoisingScoreMatching` needs).
 * `deepEbmEnergy(params, cfg).energy(x)` equals this at `log σ = log σ_min`.
 * @example const E = deepEbmNoiseEnergy(params, cfg); E(x, logSigma) // [n]
 */
export function deepEbmNoiseEnergy(params: Record<string, Tensor>, cfg: DeepEbmConfig): (x: Tensor, logSigma: Tensor) => Tensor {
  if (!cfg.noise) throw new InvalidArgumentError('deepEbmNoiseEnergy: the config has no noise levels (cfg.noise)');
  return energyFn(params, cfg);
}

/** `E(x)` or, for a noise-conditional config, `E(x, log σ)`. */
function energyFn(params: Record<string, Tensor>, cfg: DeepEbmConfig): (x: Tensor, logSigma: Tensor | null) => Tensor {
  const a = cfg.arch;
  const D = archInputSize(a);
  const shift = new Tensor(perCoord(cfg.shift, D), [D]);
  const invScale = new Tensor(perCoord(cfg.scale, D).map((s) => 1 / s), [D]);
  const identity = cfg.shift.every((v) => v === 0) && cfg.scale.every((v) => v === 1);
  const conv = a.kind === 'conv' ? convCfg(a, cfg.activation) : null;
  const ff = cfg.fourier ?? null;
  if (ff && conv) throw new InvalidArgumentError('deepEbmEnergy: Fourier features need an mlp architecture');
  const noise = cfg.noise ?? null;
  if (noise && conv) throw new InvalidArgumentError('deepEbmEnergy: a noise-conditional energy needs an mlp architecture');
  const phi = ff ? fourierFeatureFn(ff, D) : null;
  // u = 2·(log σ − log σ_min)/log(σ_max/σ_min) − 1.
  const uScale = noise ? 2 / Math.log(noise.sigmaMax / noise.sigmaMin) : 0;
  const uShift = noise ? -uScale * Math.log(noise.sigmaMin) - 1 : 0;
  return (x, logSigma) => {
    if (x.ndim !== 2 || x.shape[1] !== D) throw new ShapeError(`deep EBM: expected x of shape [n, ${D}], got [${x.shape.join(', ')}]`);
    const n = x.shape[0];
    const xs = x.dtype === 'float32' ? x : new Tensor(Float32Array.from(x.data), x.shape);
    const z = identity ? xs : mul(sub(xs, shift), invScale);
    let f: Tensor;
    if (conv) f = applyConvNet(params, z, conv);
    else {
      let h = phi ? phi(z) : z;
      if (noise) {
        if (!logSigma || logSigma.ndim !== 1 || logSigma.shape[0] !== n) throw new ShapeError(`deep EBM: a noise-conditional energy needs log σ of shape [${n}]`);
        const ls = logSigma.dtype === 'float32' ? logSigma : cast(logSigma, 'float32');
        h = concat([h, reshape(add(mul(ls, uScale), uShift), [n, 1])], 1);
      }
      f = applyMLP(params, h, cfg.activation);
    }
    let e = reshape(f, [n]);
    if (cfg.confine > 0) e = add(e, mul(sum(square(z), 1), 0.5 * cfg.confine));
    return e;
  };
}

/** Per-row energies as float64 numbers, without a graph. */
export function deepEbmEnergies(params: Record<string, Tensor>, cfg: DeepEbmConfig, x: Tensor): Float64Array {
  return noGrad(() => Float64Array.from(deepEbmEnergy(params, cfg).energy(x).data));
}

/**
 * Per-coordinate standardisation from data `[n, d]`: column means and standard deviations (for 2-D/tabular data;
 * images usually keep `shift [0]`, `scale [1]`).
 */
export function standardization(x: Tensor): { shift: number[]; scale: number[] } {
  if (x.ndim !== 2 || x.shape[0] < 2) throw new ShapeError(`standardization: need data [n ≥ 2, d], got [${x.shape.join(', ')}]`);
  const [n, d] = x.shape;
  const shift: number[] = [], scale: number[] = [];
  for (let i = 0; i < n * d; i++) {
    const v = x.data[i];
    if (!Number.isFinite(v)) throw new InvalidArgumentError(`standardization: row ${Math.floor(i / d) + 1}, column ${(i % d) + 1} is ${v}`);
  }
  const moments = columnMeanSd(x);
  for (let j = 0; j < d; j++) {
    const m = moments.mean[j], sd = moments.sd[j];
    if (!(sd > 1e-12 * Math.max(1, Math.abs(m)))) throw new ShapeError(`standardization: column ${j + 1} is constant (${m})`);
    shift.push(Math.fround(m));
    scale.push(Math.fround(sd));
  }
  return { shift, scale };
}
