/**
 * Sliced score matching of the `mlp-energy` kind on the WebGPU device by the traced `compile` (src/gpu/compile.ts):
 * the library's own loss and its parameter gradient — a gradient through the input gradient's Jacobian–vector
 * product, third order in the network — are traced once and lowered to WGSL; nothing is lowered by hand.
 */
import { Tensor, valueAndGrad } from '../../tensor/index.js';
import type { Key } from '../../random/index.js';
import type { MLPParams } from '../../nn/index.js';
import { slicedScoreMatchingWithProbes } from '../../losses/scoreMatching.js';
import { compile, readAll } from '../../gpu/compile.js';
import type { GpuKernels, GpuTensor } from '../../gpu/kernels.js';
import { energyZ, type MlpEnergyConfig } from './model.js';

/** The loss of a batch and its parameter gradient (host copies), as the CPU's `valueAndGrad` of the loss gives them. */
export interface MlpSsmValueAndGrad {
  readonly loss: number;
  readonly grads: MLPParams;
}

/**
 * The SSM loss of `mlpEnergyLoss(cfg)` (`slicedScoreMatching` with one Gaussian projection per row) and its parameter
 * gradient on the device: `(params, z [B, d], key) → { loss, grads }`, the probes `v = normal(key, [B, d])` drawn by
 * the GPU's Philox normals (the CPU's within ~1e-6). The step is traced and compiled at its first call (again for a
 * new batch size); each call uploads the parameters and the batch, runs one compute pass, and reads the loss and the
 * gradients back with one wait.
 * @example
 * const vg = mlpSsmValueAndGradGpu(gpu, cfg);
 * const { loss, grads } = await vg(params, zBatch, foldIn(kTrain, t));
 */
export function mlpSsmValueAndGradGpu(gpu: GpuKernels, cfg: MlpEnergyConfig): (params: MLPParams, z: Tensor, key: Key) => Promise<MlpSsmValueAndGrad> {
  const ssm = slicedScoreMatchingWithProbes<MLPParams>({ energy: (p: MLPParams, y: Tensor) => energyZ(p, cfg, y) });
  const step = compile(gpu, (p: MLPParams, z: Tensor, v: Tensor): [Tensor, MLPParams] => valueAndGrad((q: MLPParams) => ssm(q, z, v).loss)(p));
  return async (params, z, key) => {
    const v = gpu.normal(key, z.shape);
    const [loss, grads] = step(params, z, v);
    const names = Object.keys(grads);
    const leaves = names.map((k) => (grads as unknown as Record<string, GpuTensor>)[k]);
    const host = await readAll(gpu, [loss, ...leaves]);
    for (const t of [v, loss, ...leaves]) t.dispose();
    const out: Record<string, Tensor> = {};
    names.forEach((k, i) => { out[k] = new Tensor(host[i + 1], leaves[i].shape); });
    return { loss: host[0][0], grads: out as MLPParams };
  };
}
