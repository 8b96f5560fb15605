/**
 * The playground's trainable energy: the CLI's `mlp-energy` model kind (see `src/cli/kinds/mlpEnergy.ts`), rebuilt
 * here from the library because the CLI modules import Node built-ins. Same definition, tensor names and metadata,
 * so a model exported from the page loads in `ebm` and a model trained by `ebm train` loads in the page:
 *
 *   `E(x) = MLP(z) + ½·c·‖z‖²`, `z = (x − shift)/scale`; tensors `l{i}.w [in, out]`, `l{i}.b [out]` (float32);
 *   metadata `{format: "ebm-ts", kind: "mlp-energy", version, config: JSON(MlpEnergyConfig), provenance: JSON}`.
 */
import { Tensor, add, mul, sum, square, reshape, noGrad } from '../../src/tensor/index.js';
import { applyMLP, initMLP, isActivation, type Activation, type MLPParams } from '../../src/nn/index.js';
import type { Key } from '../../src/random/index.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { encodeModel, checkTensorLayout, MODEL_FORMAT, type TensorLayout, type ModelProvenance } from '../../src/io/model.js';
import type { Energy } from '../../src/energy/index.js';

/** The model-file kind string (as in the CLI). */
export const MLP_ENERGY_KIND = 'mlp-energy';

/** Configuration of an `mlp-energy` model: the CLI's `MlpEnergyConfig`, field for field. */
export interface MlpEnergyConfig {
  dim: number;
  hidden: number[];
  activation: Activation;
  shift: number[];
  scale: number[];
  /** Strength `c` of the confining term `½c‖z‖²`. */
  confine: number;
  /** Score-matching objective the CLI would continue training with (`dsm` or `ssm`). */
  loss: 'dsm' | 'ssm';
  /** DSM noise level in standardised units. */
  sigma: number;
  bounds: [number, number, number, number] | null;
}

/** A model in the page: configuration, parameters and where it came from. */
export interface MlpEnergyModel {
  cfg: MlpEnergyConfig;
  params: MLPParams;
  provenance: ModelProvenance;
}

/**
 * Builds the config from training data `x [n, 2]` as the CLI does: per-column mean and standard deviation (rounded
 * to float32) for the standardisation; `bounds` is the page's plotting box.
 */
export function makeConfig(x: Tensor, o: { hidden: number[]; loss: 'dsm' | 'ssm'; sigma: number; confine?: number; bounds: [number, number, number, number] }): MlpEnergyConfig {
  const [n, d] = x.shape;
  if (x.ndim !== 2 || n < 2) throw new Error(`mlp-energy needs at least 2 rows of data, got shape [${x.shape.join(', ')}]`);
  const shift: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < d; j++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const v = x.data[i * d + j]; s += v; s2 += v * v; }
    const m = s / n;
    const sd = Math.sqrt(Math.max(0, s2 / n - m * m));
    if (!(sd > 0)) throw new Error(`column ${j + 1} of the data is constant`);
    shift.push(Math.fround(m));
    scale.push(Math.fround(sd));
  }
  return { dim: d, hidden: o.hidden.slice(), activation: 'silu', shift, scale, confine: o.confine ?? 0.01, loss: o.loss, sigma: o.sigma, bounds: o.bounds };
}

/** Fresh parameters for the config (`initMLP` of `src/nn`, as the CLI). */
export function initParams(k: Key, cfg: MlpEnergyConfig): MLPParams {
  return initMLP(k, [cfg.dim, ...cfg.hidden, 1], { activation: cfg.activation });
}

/** `E(z)` on standardised rows `z [n, d]` → `[n]`, differentiable in the parameters and in `z`. */
export function energyZ(p: MLPParams, cfg: MlpEnergyConfig, z: Tensor): Tensor {
  const n = z.shape[0];
  let e = reshape(applyMLP(p, z, cfg.activation), [n]);
  if (cfg.confine > 0) e = add(e, mul(sum(square(z), 1), 0.5 * cfg.confine));
  return e;
}

/** `z = (x − shift)/scale` row-wise (untraced). */
export function standardize(cfg: MlpEnergyConfig, x: Tensor): Tensor {
  const d = cfg.dim;
  const out = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) out[i] = (x.data[i] - cfg.shift[i % d]) / cfg.scale[i % d];
  return new Tensor(out, x.shape);
}

/** `x = shift + scale·z` row-wise. */
export function unstandardize(cfg: MlpEnergyConfig, z: Tensor): Tensor {
  const d = cfg.dim;
  const out = new Float32Array(z.size);
  for (let i = 0; i < z.size; i++) out[i] = cfg.shift[i % d] + cfg.scale[i % d] * z.data[i];
  return new Tensor(out, z.shape);
}

/** The model as an {@link Energy} in data space: `E(x) = energyZ((x − shift)/scale)` (for heat maps). */
export function dataEnergy(m: MlpEnergyModel): Energy {
  return { dim: m.cfg.dim, energy: (x) => noGrad(() => energyZ(m.params, m.cfg, standardize(m.cfg, x))) };
}

/** The model as an {@link Energy} in standardised space (for samplers and CD). */
export function zEnergy(p: MLPParams, cfg: MlpEnergyConfig): Energy {
  return { dim: cfg.dim, energy: (z) => energyZ(p, cfg, z) };
}

/** Tensor layout `l{i}.w`, `l{i}.b` (float32) of a config. */
export function layoutOf(cfg: MlpEnergyConfig): TensorLayout {
  const s = [cfg.dim, ...cfg.hidden, 1];
  const out: TensorLayout = {};
  for (let i = 0; i + 1 < s.length; i++) {
    out[`l${i}.w`] = { shape: [s[i], s[i + 1]], dtype: 'float32' };
    out[`l${i}.b`] = { shape: [s[i + 1]], dtype: 'float32' };
  }
  return out;
}

/** Encodes a model as `.safetensors` bytes readable by `ebm` (`loadModel` + the mlp-energy kind). */
export function exportModel(m: MlpEnergyModel, version: string): Uint8Array {
  return encodeModel({ kind: MLP_ENERGY_KIND, version, config: m.cfg, provenance: m.provenance, tensors: m.params });
}

function bad(file: string, what: string): never {
  throw new Error(`${file}: ${what}`);
}

/**
 * Decodes and validates a `.safetensors` mlp-energy model file (format, kind, every config field, tensor layout);
 * errors name the file and the problem. Only 2-D models can be shown, so `dim` must be 2.
 */
export function importModel(bytes: Uint8Array, file: string): MlpEnergyModel {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  if (metadata.format !== MODEL_FORMAT) bad(file, `not an ebm-ts model file (metadata format is ${metadata.format === undefined ? 'missing' : `"${metadata.format}"`})`);
  if (metadata.kind !== MLP_ENERGY_KIND) bad(file, `model kind is "${metadata.kind ?? 'missing'}" but the playground loads ${MLP_ENERGY_KIND}`);
  const parse = (key: string): Record<string, unknown> => {
    try {
      const v = JSON.parse(metadata[key] ?? '{}') as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch { /* reported below */ }
    return bad(file, `metadata "${key}" is not a JSON object`);
  };
  const c = parse('config');
  const field = (f: string): never => bad(file, `mlp-energy config field "${f}" is missing or invalid`);
  const posInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  if (c.dim !== 2) bad(file, `the playground shows 2-D models, this one has dim ${JSON.stringify(c.dim)}`);
  if (!Array.isArray(c.hidden) || !c.hidden.every(posInt)) field('hidden');
  if (!isActivation(c.activation)) field('activation');
  for (const f of ['shift', 'scale'] as const) {
    const v = c[f];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((e) => typeof e === 'number' && Number.isFinite(e))) field(f);
  }
  if (!(c.scale as number[]).every((s) => s > 0)) field('scale');
  if (typeof c.confine !== 'number' || !(c.confine >= 0)) field('confine');
  if (c.loss !== 'dsm' && c.loss !== 'ssm') field('loss');
  if (typeof c.sigma !== 'number' || !(c.sigma > 0)) field('sigma');
  if (c.bounds !== null && (!Array.isArray(c.bounds) || c.bounds.length !== 4 || !c.bounds.every((e) => typeof e === 'number' && Number.isFinite(e)))) field('bounds');
  const cfg = c as unknown as MlpEnergyConfig;
  checkTensorLayout(tensors, layoutOf(cfg), file);
  for (const [name, t] of Object.entries(tensors)) {
    for (let i = 0; i < t.size; i++) if (!Number.isFinite(t.data[i])) bad(file, `tensor "${name}" has a non-finite value at index ${i}`);
  }
  return { cfg, params: tensors as MLPParams, provenance: parse('provenance') as ModelProvenance };
}
