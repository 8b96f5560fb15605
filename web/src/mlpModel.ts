/**
 * The playground's trainable energy: the `mlp-energy` model of `src/models/mlpEnergy/` (shared with the CLI's model
 * kind), so a model exported from the page loads in `ebm` and a model trained by `ebm train` loads in the page.
 * This file adds only what the page needs on top: the model as an {@link Energy} (data space for heat maps,
 * standardised space for samplers and training) and the file codec wired to the library's safetensors I/O.
 *
 *   `E(x) = MLP(z) + ½·c·‖z‖²`, `z = (x − shift)/scale`; tensors `l{i}.w [in, out]`, `l{i}.b [out]` (float32).
 */
import { noGrad } from 'ebm-ts/tensor';
import type { MLPParams } from 'ebm-ts/nn';
import { decodeSafetensors } from 'ebm-ts/io';
import { encodeModel, checkTensorLayout, MODEL_FORMAT } from 'ebm-ts/io';
import type { Energy } from 'ebm-ts/energy';
import {
  energyZ, standardize, encodeMlpEnergyModel, decodeMlpEnergyModel, type MlpEnergyConfig, type MlpEnergyModel, type ModelCodec,
} from 'ebm-ts/mlpEnergy';

/** The library's model-file codec (its Node file-system imports are stubbed in the browser build). */
const codec: ModelCodec = { format: MODEL_FORMAT, encodeModel, decodeSafetensors, checkTensorLayout };

/** The model as an {@link Energy} in data space: `E(x) = energyZ((x − shift)/scale)` (untraced, for heat maps). */
export function dataEnergy(m: MlpEnergyModel): Energy {
  return { dim: m.cfg.dim, energy: (x) => noGrad(() => energyZ(m.params, m.cfg, standardize(m.cfg, x))) };
}

/** The model as an {@link Energy} in standardised space `z` (traced, for samplers and training). */
export function zEnergy(p: MLPParams, cfg: MlpEnergyConfig): Energy {
  return { dim: cfg.dim, energy: (z) => energyZ(p, cfg, z) };
}

/** Encodes a model as `.safetensors` bytes readable by `ebm` (`loadModel` + the mlp-energy kind). */
export function exportModel(m: MlpEnergyModel, version: string): Uint8Array {
  return encodeMlpEnergyModel(codec, m, version);
}

/**
 * Decodes and validates a `.safetensors` mlp-energy model file (format, kind, every config field, tensor layout,
 * finite parameters); errors name the file and the problem. Only 2-D models can be shown, so `dim` must be 2.
 */
export function importModel(bytes: Uint8Array, file: string): MlpEnergyModel {
  return decodeMlpEnergyModel(codec, bytes, file, { dim: 2 });
}
