/**
 * The `mlp-energy` model (the score-trained energy kind), browser-safe: config, parameters, the energy and the
 * file codec, shared by the library's trainer (`train.ts`), the CLI and the browser playground.
 *
 *   `E(x) = MLP(z) + ½·c·‖z‖²`, `z = (x − shift)/scale` (per dimension), `MLP: ℝᵈ → ℝ` with layer widths
 *   `[d, …hidden, 1]`; the confining term (`c ≥ 0`) keeps `exp(−E)` integrable.
 *
 * Model file (a `.safetensors` file in the layout of `src/io/model.ts`): tensors `l{i}.w [in, out]`, `l{i}.b [out]`
 * (float32, the naming of `src/nn`); metadata `{format: "ebm-ts", kind: "mlp-energy", version,
 * config: JSON(MlpEnergyConfig), provenance: JSON}`.
 *
 * This module imports no Node built-ins, directly or transitively (only `src/tensor`, `src/nn`, `src/random` and
 * `src/io/errors.ts` at run time). The byte-level codec (`encodeModel`, `checkTensorLayout` of `src/io/model.ts`,
 * `decodeSafetensors` of `src/io/safetensors.ts`) is passed in as a {@link ModelCodec} argument (those modules once
 * imported `node:fs` statically; they now reach it lazily, src/io/nodeBuiltins.ts, so importing them is also fine).
 * @module
 */
import { Tensor, ShapeError, add, mul, sum, square, reshape, noGrad } from '../../tensor/index.js';
import { initMLP, applyMLP, isActivation, type Activation, type MLPParams } from '../../nn/index.js';
import type { Key } from '../../random/index.js';
import { DataError, type DataErrorLocation } from '../../io/errors.js';
import { columnMoments } from '../../data/columns.js';
import type { TensorLayout, ModelProvenance, encodeModel, checkTensorLayout } from '../../io/model.js';
import type { decodeSafetensors } from '../../io/safetensors.js';

/** The model-file kind string. */
export const MLP_ENERGY_KIND = 'mlp-energy';

/** Configuration of an `mlp-energy` model (stored as the model file's `config`, JSON, in this field order). */
export interface MlpEnergyConfig {
  /** Input dimension `d`. */
  dim: number;
  /** Hidden layer widths. */
  hidden: number[];
  /** Activation between layers (smooth ones — silu, softplus, tanh — give a smooth score). */
  activation: Activation;
  /** Standardisation: `z = (x − shift)/scale`, per dimension (length `d`). */
  shift: number[];
  scale: number[];
  /** Strength `c` of the confining term `½c‖z‖²` that keeps `exp(−E)` integrable. */
  confine: number;
  /** Training objective (denoising or sliced score matching). */
  loss: 'dsm' | 'ssm';
  /** DSM noise level in standardised units (also used for the energy-gap diagnostic of SSM). */
  sigma: number;
  /** Box `[xmin, xmax, ymin, ymax]` (data space) for plots and 2-D quadrature; `null` when `d ≠ 2`. */
  bounds: [number, number, number, number] | null;
}

/** A model in memory: configuration, parameters (`l{i}.w`, `l{i}.b`) and where it came from. */
export interface MlpEnergyModel {
  cfg: MlpEnergyConfig;
  params: MLPParams;
  provenance: ModelProvenance;
}

/**
 * Validates a config read from a file (a parsed JSON object); throws a {@link DataError} naming `file` and the first
 * bad field (`dim` a positive integer, `hidden` positive integers, a known `activation`, finite `shift`/`scale` of
 * length `dim` with `scale > 0`, `confine ≥ 0`, `loss` dsm|ssm, `sigma > 0`, `bounds` null or 4 finite numbers).
 * @example checkMlpEnergyConfig(JSON.parse(meta.config), 'm.safetensors').dim // 2
 */
export function checkMlpEnergyConfig(c: Record<string, unknown>, file: string): MlpEnergyConfig {
  const bad = (f: string): never => {
    throw new DataError(`mlp-energy config field "${f}" is missing or invalid`, { file });
  };
  const isPosInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  const isFiniteNum = (e: unknown) => typeof e === 'number' && Number.isFinite(e);
  if (!isPosInt(c.dim)) bad('dim');
  const d = c.dim as number;
  if (!Array.isArray(c.hidden) || !c.hidden.every(isPosInt)) bad('hidden');
  if (!isActivation(c.activation)) bad('activation');
  for (const f of ['shift', 'scale'] as const) {
    const v = c[f];
    if (!Array.isArray(v) || v.length !== d || !v.every(isFiniteNum)) bad(f);
  }
  if (!(c.scale as number[]).every((s) => s > 0)) bad('scale');
  if (typeof c.confine !== 'number' || !(c.confine >= 0)) bad('confine');
  if (c.loss !== 'dsm' && c.loss !== 'ssm') bad('loss');
  if (typeof c.sigma !== 'number' || !(c.sigma > 0)) bad('sigma');
  if (c.bounds !== null && (!Array.isArray(c.bounds) || c.bounds.length !== 4 || !c.bounds.every(isFiniteNum))) bad('bounds');
  return c as unknown as MlpEnergyConfig;
}

/** User choices of {@link makeMlpEnergyConfig} (the rest comes from the data). */
export interface MlpEnergyConfigOptions {
  hidden: number[];
  /** Default `silu`. */
  activation?: Activation;
  loss: 'dsm' | 'ssm';
  /** Default 0.1. */
  sigma?: number;
  /** Default 0.01. */
  confine?: number;
  /** Plotting box for 2-D data; default the data's range widened by 10% on each side. Ignored when `d ≠ 2`. */
  bounds?: [number, number, number, number] | null;
}

/**
 * Builds the config from training data `x [n, d]` (n ≥ 2): per column `shift = mean`, `scale = sd` (population
 * standard deviation), both rounded to float32; `bounds` as in {@link MlpEnergyConfigOptions}. A constant column or
 * fewer than 2 rows throws a {@link DataError} at `where` (e.g. `{ flag: 'data' }`).
 * @example makeMlpEnergyConfig(tensor([[0, 0], [2, 4]]), { hidden: [8], loss: 'dsm' }).scale // [1, 2]
 */
export function makeMlpEnergyConfig(x: Tensor, o: MlpEnergyConfigOptions, where: DataErrorLocation = {}): MlpEnergyConfig {
  if (x.ndim !== 2 || x.shape[0] < 2) throw new DataError(`mlp-energy needs at least 2 rows of data, got shape [${x.shape.join(', ')}]`, where);
  const d = x.shape[1];
  const { mean, sd, min: lo, max: hi } = columnMoments(x);
  const shift: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < d; j++) {
    if (!(sd[j] > 0)) throw new DataError(`column ${j + 1} is constant (${mean[j]}): an energy model cannot be fitted`, where);
    shift.push(Math.fround(mean[j]));
    scale.push(Math.fround(sd[j]));
  }
  let bounds: MlpEnergyConfig['bounds'] = null;
  if (d === 2) {
    if (o.bounds) bounds = o.bounds;
    else {
      const mx = 0.1 * (hi[0] - lo[0]);
      const my = 0.1 * (hi[1] - lo[1]);
      bounds = [lo[0] - mx, hi[0] + mx, lo[1] - my, hi[1] + my];
    }
  }
  return {
    dim: d,
    hidden: o.hidden.slice(),
    activation: o.activation ?? 'silu',
    shift,
    scale,
    confine: o.confine ?? 0.01,
    loss: o.loss,
    sigma: o.sigma ?? 0.1,
    bounds,
  };
}

/** Layer widths `[d, …hidden, 1]`. */
export function mlpEnergySizes(cfg: MlpEnergyConfig): number[] {
  return [cfg.dim, ...cfg.hidden, 1];
}

/**
 * Tensor layout of the model file: `l{i}.w [s_i, s_{i+1}]`, `l{i}.b [s_{i+1}]` float32 for the sizes `s` of
 * {@link mlpEnergySizes}.
 * @example mlpEnergyLayout({ dim: 2, hidden: [3], … }) // {l0.w: [2,3], l0.b: [3], l1.w: [3,1], l1.b: [1]}
 */
export function mlpEnergyLayout(cfg: MlpEnergyConfig): TensorLayout {
  const s = mlpEnergySizes(cfg);
  const out: TensorLayout = {};
  for (let i = 0; i + 1 < s.length; i++) {
    out[`l${i}.w`] = { shape: [s[i], s[i + 1]], dtype: 'float32' };
    out[`l${i}.b`] = { shape: [s[i + 1]], dtype: 'float32' };
  }
  return out;
}

/** Fresh parameters: `initMLP` of `src/nn` for the sizes and activation of the config, from one key. */
export function initMlpEnergy(k: Key, cfg: MlpEnergyConfig): MLPParams {
  return initMLP(k, mlpEnergySizes(cfg), { activation: cfg.activation });
}

/**
 * `E(z) = MLP(z) + ½·c·‖z‖²` for standardised rows `z [n, d]` → `[n]` (traced: differentiable in the parameters
 * and in `z`).
 */
export function energyZ(p: MLPParams, cfg: MlpEnergyConfig, z: Tensor): Tensor {
  const n = z.shape[0];
  let e = reshape(applyMLP(p, z, cfg.activation), [n]);
  if (cfg.confine > 0) e = add(e, mul(sum(square(z), 1), 0.5 * cfg.confine));
  return e;
}

/** Standardises data rows: `z = (x − shift)/scale`, `x [n, d]` → float32 `[n, d]` (untraced); a wrong shape throws. */
export function standardize(cfg: MlpEnergyConfig, x: Tensor): Tensor {
  if (x.ndim !== 2 || x.shape[1] !== cfg.dim) throw new ShapeError(`mlp-energy: data has shape [${x.shape.join(', ')}] but the model takes [n, ${cfg.dim}]`);
  const d = cfg.dim;
  const out = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) out[i] = (x.data[i] - cfg.shift[i % d]) / cfg.scale[i % d];
  return new Tensor(out, x.shape);
}

/** Inverse of {@link standardize}: `x = shift + scale·z`, float32, same shape. */
export function unstandardize(cfg: MlpEnergyConfig, z: Tensor): Tensor {
  const d = cfg.dim;
  const out = new Float32Array(z.size);
  for (let i = 0; i < z.size; i++) out[i] = cfg.shift[i % d] + cfg.scale[i % d] * z.data[i];
  return new Tensor(out, z.shape);
}

/** `E(x)` per row of data-space `x [n, d]` (standardise, then {@link energyZ}), as float64 numbers (no graph). */
export function energyOf(p: MLPParams, cfg: MlpEnergyConfig, x: Tensor): Float64Array {
  return noGrad(() => Float64Array.from(energyZ(p, cfg, standardize(cfg, x)).data));
}

/**
 * The byte-level model codec of `src/io/model.ts` and `src/io/safetensors.ts`, passed in by the caller because
 * those modules once imported `node:fs` statically (no longer: see src/io/nodeBuiltins.ts). Build it as
 * `{ format: MODEL_FORMAT, encodeModel, decodeSafetensors, checkTensorLayout }`.
 */
export interface ModelCodec {
  /** `MODEL_FORMAT` (`"ebm-ts"`). */
  format: string;
  /** `encodeModel` of `src/io/model.ts` (model file bytes from tensors and metadata). */
  encodeModel: typeof encodeModel;
  /** `decodeSafetensors` of `src/io/safetensors.ts`. */
  decodeSafetensors: typeof decodeSafetensors;
  /** `checkTensorLayout` of `src/io/model.ts` (shapes and dtypes as the config implies). */
  checkTensorLayout: typeof checkTensorLayout;
}

/**
 * Encodes a model as `.safetensors` bytes in the model-file layout (see the module doc), readable by `ebm`'s
 * `loadModel` and by {@link decodeMlpEnergyModel}. `version` defaults to the codec's (the package version).
 */
export function encodeMlpEnergyModel(codec: ModelCodec, m: MlpEnergyModel, version?: string): Uint8Array {
  return codec.encodeModel({
    kind: MLP_ENERGY_KIND,
    ...(version !== undefined ? { version } : {}),
    config: m.cfg,
    provenance: m.provenance,
    tensors: m.params,
  });
}

/** Options of {@link decodeMlpEnergyModel}. */
export interface DecodeMlpEnergyOptions {
  /** Accept only models of this input dimension (e.g. 2 for a 2-D viewer). */
  dim?: number;
}

/**
 * Decodes and validates `.safetensors` bytes as an mlp-energy model: metadata `format` and `kind`, JSON
 * `config`/`provenance`, `dim` (when `opts.dim` is given), every config field ({@link checkMlpEnergyConfig}), the
 * tensor layout ({@link mlpEnergyLayout}) and finiteness of every parameter. Each problem throws a {@link DataError}
 * naming `file`, e.g. `m.safetensors: model kind is "rbm-bernoulli" but mlp-energy is needed`.
 */
export function decodeMlpEnergyModel(codec: ModelCodec, bytes: Uint8Array, file: string, opts: DecodeMlpEnergyOptions = {}): MlpEnergyModel {
  const bad = (what: string): never => {
    throw new DataError(what, { file });
  };
  const { tensors, metadata } = codec.decodeSafetensors(bytes, file);
  if (metadata.format !== codec.format) bad(`not an ebm-ts model file (metadata format is ${metadata.format === undefined ? 'missing' : `"${metadata.format}"`})`);
  if (metadata.kind !== MLP_ENERGY_KIND) bad(`model kind is "${metadata.kind ?? 'missing'}" but ${MLP_ENERGY_KIND} is needed`);
  const parse = (key: string): Record<string, unknown> => {
    try {
      const v = JSON.parse(metadata[key] ?? '{}') as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch { /* reported below */ }
    return bad(`metadata "${key}" is not a JSON object`);
  };
  const c = parse('config');
  if (opts.dim !== undefined && c.dim !== opts.dim) bad(`only ${opts.dim}-D models can be used here, this one has dim ${JSON.stringify(c.dim)}`);
  const cfg = checkMlpEnergyConfig(c, file);
  codec.checkTensorLayout(tensors, mlpEnergyLayout(cfg), file);
  for (const [name, t] of Object.entries(tensors)) {
    for (let i = 0; i < t.size; i++) if (!Number.isFinite(t.data[i])) bad(`tensor "${name}" has a non-finite value at index ${i}`);
  }
  return { cfg, params: tensors as MLPParams, provenance: parse('provenance') as ModelProvenance };
}
