/**
 * {@link cdStep} with its sampling and sufficient statistics on the WebGPU device: the positive phase, the k Gibbs
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
import { checkVisible, nHiddenOf, nVisibleOf, validateParams, type RBMParams } from './params.js';
import { resolveCdOptions, type CDMetrics, type RbmCdOptions, type RbmCdState } from './train.js';

/**
 * Why {@link cdStepGpu} cannot run these parameters and options (`null` when it can): softmax visible units, float64
 * parameters, and the options not lowered yet (L1, sparsity, learned σ).
 * @example cdGpuUnsupported(params, { lr: 0.1, learnSigma: true }) // "learned σ (--learn-sigma) has no WebGPU step yet"
 */
export function cdGpuUnsupported(p: RBMParams, o: Partial<RbmCdOptions> = {}): string | null {
  if (p.visible === 'softmax') return 'softmax visible units have no WebGPU CD step yet';
  if (p.W.dtype !== 'float32') return `the parameters are ${p.W.dtype}; the WebGPU backend computes in float32`;
  if (o.learnSigma) return 'learned σ (--learn-sigma) has no WebGPU CD step yet';
  if ((o.l1 ?? 0) > 0) return 'the L1 penalty has no WebGPU CD step yet';
  if (o.sparsityTarget !== undefined) return 'the sparsity penalty has no WebGPU CD step yet';
  return null;
}

function f32(t: Tensor | Float32Array | Float64Array): Float32Array {
  const d = t instanceof Tensor ? t.data : t;
  return d instanceof Float32Array ? d : Float32Array.from(d);
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
  const keep = <T extends GpuTensor>(t: T): T => { temp.push(t); return t; };
  try {
    const W = keep(gpu.upload(f32(params.W), [nv, nh]));
    const b = keep(gpu.upload(f32(params.b), [nv]));
    const c = keep(gpu.upload(f32(params.c), [nh]));
    let invVar: GpuTensor | null = null, sd: GpuTensor | null = null;
    if (gauss) {
      const lv = params.logVar!.data;
      invVar = keep(gpu.upload(Float32Array.from(lv, (z) => Math.exp(-z)), [nv]));
      sd = keep(gpu.upload(Float32Array.from(lv, (z) => Math.exp(0.5 * z)), [nv]));
    }
    const scaled = (v: GpuTensor): GpuTensor => (invVar ? keep(gpu.binary('mul', v, invVar)) : v);
    const hiddenProbs = (vhat: GpuTensor): GpuTensor => keep(gpu.unary('sigmoid', keep(gpu.binary('add', keep(gpu.matmul(vhat, W)), c))));
    /** E[v|h] and a draw of v with key `kv`. */
    const visibleDraw = (h: GpuTensor, rows: number, kv: Key): { mean: GpuTensor; v: GpuTensor } => {
      const pre = keep(gpu.binary('add', keep(gpu.matmul(h, W, { transB: true })), b));
      if (gauss) {
        const noise = keep(gpu.binary('mul', keep(gpu.normal(kv, [rows, nv])), sd!));
        return { mean: pre, v: keep(gpu.binary('add', pre, noise)) };
      }
      const mean = keep(gpu.unary('sigmoid', pre));
      return { mean, v: keep(gpu.bernoulli(mean, keep(gpu.uniform(kv, [rows, nv])))) };
    };
    const meanSquaredDiff = async (a: GpuTensor, m: GpuTensor, count: number): Promise<number> => {
      const s = keep(gpu.sumAll(keep(gpu.unary('square', keep(gpu.binary('sub', a, m))))));
      return (await s.read())[0] / count;
    };

    // Positive phase.
    const v0g = keep(gpu.upload(f32(v0), [B, nv]));
    const vhat0 = scaled(v0g);
    const ph0 = hiddenProbs(vhat0);
    const h0 = needH0 ? keep(gpu.bernoulli(ph0, keep(gpu.uniform(keys[0], [B, nh])))) : null;

    // Negative phase.
    let M: number, h: GpuTensor, vNeg: GpuTensor;
    if (persistent && chains !== null) {
      M = chains.v.shape[0];
      vNeg = keep(gpu.upload(f32(chains.v), [M, nv]));
      h = keep(gpu.upload(f32(chains.h), [M, nh]));
    } else {
      M = B;
      vNeg = v0g;
      h = h0!;
    }
    let recon: number | undefined;
    let phK: GpuTensor = ph0, vhatK: GpuTensor = vNeg;
    for (let t = 0; t < k; t++) {
      const d = visibleDraw(h, M, keys[2 + 2 * t]);
      vNeg = d.v;
      if (t === 0 && !persistent) recon = await meanSquaredDiff(v0g, d.mean, B * nv);
      vhatK = scaled(vNeg);
      phK = hiddenProbs(vhatK);
      const last = t === k - 1;
      if (!(last && !persistent)) h = keep(gpu.bernoulli(phK, keep(gpu.uniform(keys[3 + 2 * t], [M, nh]))));
    }
    if (persistent && opts.reconstruction) recon = await meanSquaredDiff(v0g, visibleDraw(h0!, B, keys[1]).mean, B * nv);

    // Sufficient statistics: G = v̂₀ᵀP₀/B − v̂ₖᵀPₖ/M, and the column sums.
    const pos = keep(gpu.matmul(vhat0, ph0, { transA: true }));
    const neg = keep(gpu.matmul(vhatK, phK, { transA: true }));
    const posMean = keep(gpu.binary('mul', pos, keep(gpu.upload(new Float32Array([1 / B])))));
    const G = keep(gpu.axpby(posMean, neg, neg, -1 / M, 0));
    const [g, sPh0, sPhK, sVNeg] = await Promise.all([G.read(), keep(gpu.sumRows(ph0)).read(), keep(gpu.sumRows(phK)).read(), keep(gpu.sumRows(vNeg)).read()]);
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
  }
}
