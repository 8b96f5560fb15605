/**
 * The rbm kind on the WebGPU device, built from the half-sweeps of src/gpu/rbmGibbs.ts: {@link rbmGibbsSampleGpu}
 * (the kind's sampler) and {@link cdStepGpu}, {@link cdStep} with its sampling and sufficient statistics on the WebGPU device: the positive phase, the k Gibbs
 * sweeps of the negative phase and the weight statistic `v̂₀ᵀP₀/B − v̂ₖᵀPₖ/M` run as GPU kernels (matmuls, sigmoid,
 * Philox draws with the CPU step's keys, the `1[u < p]` Bernoulli kernel); the statistic, the column means and (PCD)
 * the chains are read back and the update (momentum, L2 weight decay, biases) runs on the host with the CPU step's
 * rule. The same keys give the same draws as the CPU step (uniforms bit-identical; a chain differs only where a
 * probability lands within float32 rounding of its uniform), so the parameters agree with the CPU step's to float32
 * rounding. Parameters are uploaded each step (they do not yet stay on the device between steps).
 * @module
 */
import { ShapeError, Tensor } from '../../tensor/tensor.js';
import { split, type Key } from '../../random/index.js';
import { InvalidArgumentError } from '../../errors.js';
import type { GpuKernels, GpuTensor } from '../../gpu/kernels.js';
import {
  disposeRbmGpu, gpuRbmUnsupported, rbmGibbsSweepsGpu, rbmHiddenProbsGpu, rbmScaledGpu, rbmVisibleDrawGpu, uploadRbmGpu, type GpuTrack,
} from '../../gpu/rbmGibbs.js';
import { checkVisible, nHiddenOf, nVisibleOf, validateParams, type RBMParams } from './params.js';
import { resolveCdOptions, type CDMetrics, type RbmCdOptions, type RbmCdState } from './train.js';
import { rbmChainStart, rbmGibbsChunks } from './core.js';

/**
 * The rbm kind's sampler (`rbmGibbsSample`) on the device, same keys: chains start at {@link rbmChainStart} of
 * `split(key)[0]` (drawn on the host) and run the sweep chunks of {@link rbmGibbsChunks} with
 * `rbmGibbsSweepsGpu`; the chains stay on the device and only the final states come back. The uniforms are
 * bit-identical to the CPU's and the normals agree to a few float32 ulp, so a chain differs from the CPU's only where
 * a probability lands within rounding of its uniform (it then decorrelates, with the same law).
 * @returns the final visible states `[n, nVisible]` (float32).
 * @example const v = await rbmGibbsSampleGpu(gpu, params, key(0), 1000, 500);
 */
export async function rbmGibbsSampleGpu(gpu: GpuKernels, p: RBMParams, key: Key, n: number, steps: number, onProgress?: (done: number) => void): Promise<Tensor> {
  const why = gpuRbmUnsupported(p);
  if (why) throw new InvalidArgumentError(`rbmGibbsSampleGpu: ${why}`);
  if (!(Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`rbmGibbsSampleGpu: n must be a positive integer, got ${n}`);
  if (!(Number.isInteger(steps) && steps >= 0)) throw new InvalidArgumentError(`rbmGibbsSampleGpu: steps must be an integer ≥ 0, got ${steps}`);
  const [k0, k1] = split(key, 2);
  const rbm = uploadRbmGpu(gpu, p);
  let v = gpu.upload(rbmChainStart(p, k0, n) as Float32Array, [n, nVisibleOf(p)]);
  try {
    for (const { key: kc, sweeps, done } of rbmGibbsChunks(k1, steps)) {
      const next = rbmGibbsSweepsGpu(gpu, rbm, v, kc, sweeps);
      if (next !== v) { v.dispose(); v = next; }
      if (onProgress) {
        await gpu.readBuffer(v.buffer, 1);
        onProgress(done);
      }
    }
    return await v.toTensor();
  } finally {
    v.dispose();
    disposeRbmGpu(rbm);
  }
}

/**
 * Why {@link cdStepGpu} cannot run these parameters and options (`null` when it can): softmax visible units, float64
 * parameters, and the options not lowered yet (L1, sparsity, learned σ).
 * @example cdGpuUnsupported(params, { lr: 0.1, learnSigma: true }) // "learned σ (--learn-sigma) has no WebGPU step yet"
 */
export function cdGpuUnsupported(p: RBMParams, o: Partial<RbmCdOptions> = {}): string | null {
  const why = gpuRbmUnsupported(p);
  if (why) return why;
  if (o.learnSigma) return 'learned σ (--learn-sigma) has no WebGPU CD step yet';
  if ((o.l1 ?? 0) > 0) return 'the L1 penalty has no WebGPU CD step yet';
  if (o.sparsityTarget !== undefined) return 'the sparsity penalty has no WebGPU CD step yet';
  return null;
}

/**
 * One CD-k / PCD-k update on a mini-batch, sampled on the GPU (see the module note); the same contract as
 * {@link cdStep} (new parameters and state; the inputs are never changed, whatever `inPlace` says).
 * @param gpu the device's kernels. @param params float32 Bernoulli or Gaussian (fixed σ) RBM.
 * @param batch `[B, nVisible]`. @param key this step's key. @param state the previous state.
 * @example
 * const gpu = await GpuKernels.create();
 * if (gpu instanceof GpuKernels) ({ params, state } = await cdStepGpu(gpu, params, batch, foldIn(k, state.step), state, { lr: 0.1 }));
 */
export async function cdStepGpu(gpu: GpuKernels, params: RBMParams, batch: Tensor, key: Key, state: RbmCdState, opts: RbmCdOptions): Promise<{ params: RBMParams; state: RbmCdState; metrics: CDMetrics }> {
  validateParams(params, 'cdStepGpu', false);
  const why = cdGpuUnsupported(params, opts);
  if (why) throw new InvalidArgumentError(`cdStepGpu: ${why}`);
  const { lr, k, mom, wd, persistent } = resolveCdOptions(opts, 'cdStepGpu');
  const [v0, B] = checkVisible(params, batch, 'cdStepGpu');
  if (B === 0) throw new ShapeError('cdStepGpu: empty batch');
  const nv = nVisibleOf(params), nh = nHiddenOf(params);
  const gauss = params.visible === 'gaussian';
  const keys = split(key, 2 + 2 * k);
  const chains = persistent ? state.chains : null;
  if (chains && (chains.v.shape[1] !== nv || chains.h.shape[1] !== nh || chains.v.dtype !== 'float32')) {
    throw new ShapeError(`cdStepGpu: persistent chains have shape [${chains.v.shape.join(', ')}] (${chains.v.dtype}), expected [M, ${nv}] (float32)`);
  }
  const needH0 = !persistent || chains === null || opts.reconstruction === true;

  const temp: GpuTensor[] = [];
  const keep: GpuTrack = (t) => { temp.push(t); return t; };
  const rbm = uploadRbmGpu(gpu, params);
  try {
    /** Σ (a − m)², read back with the statistics below (no extra wait mid-step). */
    const squaredDiffSum = (a: GpuTensor, m: GpuTensor): GpuTensor => keep(gpu.sumAll(keep(gpu.unary('square', keep(gpu.binary('sub', a, m))))));

    // Positive phase.
    const v0g = keep(gpu.upload(v0 as Float32Array, [B, nv]));
    const vhat0 = rbmScaledGpu(gpu, rbm, v0g, keep);
    const ph0 = rbmHiddenProbsGpu(gpu, rbm, vhat0, keep);
    const h0 = needH0 ? keep(gpu.bernoulli(ph0, keep(gpu.uniform(keys[0], [B, nh])))) : null;

    // Negative phase.
    let M: number, h: GpuTensor, vNeg: GpuTensor;
    if (persistent && chains !== null) {
      M = chains.v.shape[0];
      vNeg = keep(gpu.upload(chains.v.data as Float32Array, [M, nv]));
      h = keep(gpu.upload(chains.h.data as Float32Array, [M, nh]));
    } else {
      M = B;
      vNeg = v0g;
      h = h0!;
    }
    let reconSum: GpuTensor | null = null;
    let phK: GpuTensor = ph0, vhatK: GpuTensor = vNeg;
    for (let t = 0; t < k; t++) {
      const d = rbmVisibleDrawGpu(gpu, rbm, h, keys[2 + 2 * t], keep);
      vNeg = d.v;
      if (t === 0 && !persistent) reconSum = squaredDiffSum(v0g, d.mean);
      vhatK = rbmScaledGpu(gpu, rbm, vNeg, keep);
      phK = rbmHiddenProbsGpu(gpu, rbm, vhatK, keep);
      const last = t === k - 1;
      if (!(last && !persistent)) h = keep(gpu.bernoulli(phK, keep(gpu.uniform(keys[3 + 2 * t], [M, nh]))));
    }
    if (persistent && opts.reconstruction) reconSum = squaredDiffSum(v0g, rbmVisibleDrawGpu(gpu, rbm, h0!, keys[1], keep).mean);

    // Sufficient statistics: G = v̂₀ᵀP₀/B − v̂ₖᵀPₖ/M, and the column sums.
    const pos = keep(gpu.matmul(vhat0, ph0, { transA: true }));
    const neg = keep(gpu.matmul(vhatK, phK, { transA: true }));
    const posMean = keep(gpu.binary('mul', pos, keep(gpu.upload(new Float32Array([1 / B])))));
    const G = keep(gpu.axpby(posMean, neg, neg, -1 / M, 0));
    const [g, sPh0, sPhK, sVNeg, rs] = await Promise.all([
      G.read(), keep(gpu.sumRows(ph0)).read(), keep(gpu.sumRows(phK)).read(), keep(gpu.sumRows(vNeg)).read(), reconSum?.read(),
    ]);
    const recon = rs ? rs[0] / (B * nv) : undefined;
    const newChains = persistent ? { v: new Tensor(await vNeg.read(), [M, nv]), h: new Tensor(await h.read(), [M, nh]) } : state.chains;

    // The update, on the host, with cdStep's rule.
    const W1 = Float32Array.from(params.W.data as Float32Array);
    const useMom = mom > 0 || state.velocity !== null;
    const vel = useMom
      ? (state.velocity
        ? { W: Float32Array.from(state.velocity.W.data as Float32Array), b: Float32Array.from(state.velocity.b.data as Float32Array), c: Float32Array.from(state.velocity.c.data as Float32Array), logVar: state.velocity.logVar }
        : { W: new Float32Array(nv * nh), b: new Float32Array(nv), c: new Float32Array(nh), logVar: gauss ? new Tensor(new Float32Array(nv), [nv]) : null })
      : null;
    if (vel) {
      for (let i = 0; i < W1.length; i++) {
        const u = mom * vel.W[i] + lr * g[i] - lr * wd * W1[i];
        vel.W[i] = u;
        W1[i] += u;
      }
    } else {
      const shrink = 1 - lr * wd;
      for (let i = 0; i < W1.length; i++) W1[i] = shrink * W1[i] + lr * g[i];
    }
    const gb = new Float64Array(nv), gc = new Float64Array(nh);
    for (let r = 0, q = 0; r < B; r++) for (let i = 0; i < nv; i++, q++) gb[i] += v0[q] / B;
    for (let i = 0; i < nv; i++) gb[i] -= sVNeg[i] / M;
    if (gauss) { const lv = params.logVar!.data; for (let i = 0; i < nv; i++) gb[i] *= Math.exp(-lv[i]); }
    let meanHidden = 0;
    for (let j = 0; j < nh; j++) { gc[j] = sPh0[j] / B - sPhK[j] / M; meanHidden += sPh0[j] / B; }
    meanHidden /= nh;
    const apply = (theta: Float32Array, gr: Float64Array, v: Float32Array | null): void => {
      for (let i = 0; i < theta.length; i++) {
        if (v) { v[i] = mom * v[i] + lr * gr[i]; theta[i] += v[i]; } else theta[i] += lr * gr[i];
      }
    };
    const b1 = Float32Array.from(params.b.data as Float32Array), c1 = Float32Array.from(params.c.data as Float32Array);
    apply(b1, gb, vel ? vel.b : null);
    apply(c1, gc, vel ? vel.c : null);
    for (const [name, t] of [['W', W1], ['b', b1], ['c', c1]] as const) {
      for (let i = 0; i < t.length; i += Math.max(1, Math.floor(t.length / 64))) {
        if (!Number.isFinite(t[i])) throw new InvalidArgumentError(`cdStepGpu: parameter ${name} became ${t[i]} at step ${state.step + 1} (learning rate ${lr} too large?)`);
      }
    }
    const next: RBMParams = { ...params, W: new Tensor(W1, [nv, nh]), b: new Tensor(b1, [nv]), c: new Tensor(c1, [nh]) };
    const nextState: RbmCdState = {
      step: state.step + 1,
      velocity: vel ? { W: new Tensor(vel.W, [nv, nh]), b: new Tensor(vel.b, [nv]), c: new Tensor(vel.c, [nh]), logVar: vel.logVar } : null,
      chains: newChains,
      hiddenMean: state.hiddenMean,
    };
    const metrics: CDMetrics = { step: nextState.step, lr, k, meanHidden };
    if (recon !== undefined) metrics.reconstructionError = recon;
    return { params: next, state: nextState, metrics };
  } finally {
    for (const t of new Set(temp)) t.dispose();
    disposeRbmGpu(rbm);
  }
}
