/**
 * The jem kind on the WebGPU device, for the MLP classifier (the plain-MLP passes of src/gpu/mlpNet.ts: the input
 * gradient is the reverse pass to the first pre-activation, then `·W₀ᵀ`) and the conv classifier (`--conv`: the
 * conv-net passes of src/gpu/convNet.ts, whose reverse pass runs to the input images):
 *
 * - {@link jemSgldGpu}: the kind's SGLD chains `z ← clamp(z − α∇E(z) + s·ξ, box)` entirely on the device, for
 *   `E(z) = −logsumexp f(z)` (input gradient: the reverse pass from the cotangent `−softmax f(z)`) or, class-
 *   conditionally, `E(z, y) = −f(z)[y]` (cotangent `−onehot(y)`); the noise `ξ` from GPU Philox normals of the CPU's
 *   keys (`split(kChain, steps)`, as `runChains` uses them), the coefficients of the CPU's `ula` in its decoupled mode;
 * - {@link jemValueAndGradGpu}: the hybrid loss's value and parameter gradient of one training step, the twin of
 *   `cdValueAndGrad(jemKindLoss(cfg))`: the same host plan (`planJemStep`: batch, keys, replay-buffer rows, restarts),
 *   the negatives by {@link jemSgldGpu}, then one forward pass of every row the loss reads (labelled rows, noisy
 *   positives, negatives), the loss and its cotangent on the logits on the host (float64, from the logits read back),
 *   and one reverse pass for the parameter gradient (first order: the negatives are constants of the loss);
 * - {@link sampleJemModelGpu}: `sampleJemModel` with its chains on the device;
 * - {@link jemModelScoresGpu}: the OOD scores of `jemModelScores` (`ebm score`) from one forward and one reverse pass.
 *
 * Divergence: the CPU's ULA keeps a row's old point when its proposal is non-finite and counts (step, row) pairs; on
 * the device a non-finite row stays non-finite (the clamp keeps NaN), and the count is the number of such rows at the
 * end. Either way a divergent step is flagged and the trainer's guard rolls it back.
 * @module
 */
import { Tensor } from '../../tensor/index.js';
import { split, type Key } from '../../random/index.js';
import type { MLPParams } from '../../nn/index.js';
import { uploadConvNet, disposeConvNet, convNetForwardGpu, convNetBackwardGpu, readConvNetGrads, disposeConvNetGrads, gpuConvNetUnsupported, type GpuConvNet, type GpuConvNetForward } from '../../gpu/convNet.js';
import type { CDValueAndGrad } from '../../losses/contrastiveDivergence.js';
import { freshChains } from '../../losses/contrastiveDivergence.js';
import type { GpuKernels, GpuTensor } from '../../gpu/kernels.js';
import { uploadMlp, disposeMlp, disposeAll, mlpForwardGpu, mlpParamGradGpu, readMlpGrads, gpuMlpNetUnsupported, type GpuMlp, type GpuMlpForward } from '../../gpu/mlpNet.js';
import { planJemStep, rowsOf, withNoise, writeBack, type JemAux, type JemState } from './loss.js';
import { standardizeJem, unstandardizeJem, jemConvNet, type JemConfig, type SampleJemModelOptions } from './kind.js';
import { InvalidArgumentError } from '../../errors.js';

/**
 * Why a JEM config cannot run on the GPU (`null` when it can): an activation without a fused backward kernel.
 * @example jemGpuUnsupported({ ...cfg, activation: 'elu' }) // "activation 'elu' has no WebGPU kernel (…)"
 */
export function jemGpuUnsupported(cfg: JemConfig): string | null {
  const conv = jemConvNet(cfg);
  return conv ? gpuConvNetUnsupported(conv) : gpuMlpNetUnsupported(cfg.activation);
}

/** A JEM classifier on the device: an MLP ({@link uploadMlp}) or a conv net ({@link uploadConvNet}). */
export type GpuJemNet = GpuMlp | GpuConvNet;

function isConv(net: GpuJemNet): net is GpuConvNet {
  return 'conv' in net;
}

/**
 * Copies a config's classifier parameters to the device (the conv net of a `--conv` config, else the MLP).
 * @example const net = uploadJemNet(gpu, params, cfg); try { … } finally { disposeJemNet(net); }
 */
export function uploadJemNet(gpu: GpuKernels, params: MLPParams, cfg: JemConfig): GpuJemNet {
  const conv = jemConvNet(cfg);
  return conv ? uploadConvNet(gpu, params, conv) : uploadMlp(gpu, params, cfg.activation);
}

/** Frees an uploaded classifier. */
export function disposeJemNet(net: GpuJemNet): void {
  if (isConv(net)) disposeConvNet(net);
  else disposeMlp(net);
}

/** Input width `D` and classes `K` of an uploaded classifier. */
function netDims(net: GpuJemNet): [number, number] {
  const head = isConv(net) ? net.head : net;
  const K = head.w[head.w.length - 1].shape[1];
  return [isConv(net) ? net.shape[0] * net.shape[1] * net.shape[2] : net.w[0].shape[0], K];
}

/** A forward pass of either classifier: the logits `out [n, K]`, the pass for the reverse, its buffers. */
interface JemForward {
  readonly out: GpuTensor;
  readonly mlp: GpuMlpForward | null;
  readonly conv: GpuConvNetForward | null;
  readonly temp: readonly GpuTensor[];
}

function forwardGpu(gpu: GpuKernels, net: GpuJemNet, x: GpuTensor): JemForward {
  if (isConv(net)) {
    const f = convNetForwardGpu(gpu, net, x);
    return { out: f.out, mlp: null, conv: f, temp: f.temp };
  }
  const f = mlpForwardGpu(gpu, net, x);
  return { out: f.out, mlp: f, conv: null, temp: f.temp };
}

/** The parameter gradient of `Σ G ⊙ logits` through the forward pass `f`, read back keyed like `params`. */
async function paramGradsGpu(gpu: GpuKernels, net: GpuJemNet, params: MLPParams, f: JemForward, G: GpuTensor): Promise<MLPParams> {
  if (isConv(net)) {
    const b = convNetBackwardGpu(gpu, net, f.conv!, G, { params: true, input: false });
    try {
      return await readConvNetGrads(params, b);
    } finally {
      disposeConvNetGrads(b);
    }
  }
  const bw = mlpParamGradGpu(gpu, net, f.mlp!, G);
  try {
    return await readMlpGrads(params, bw.gW, bw.gB);
  } finally {
    disposeAll([...bw.gW, ...bw.gB, ...bw.temp, bw.abar0 === G ? null : bw.abar0]);
  }
}

/** The decoupled ULA step of a config as the CPU's `ula` computes it: drift `η/T` and noise `√(2η)`, `η = s²/2`, `T = s²/(2α)`. */
function sgldCoefficients(cfg: JemConfig): { drift: number; noise: number } {
  const { gradStep: a, noise: s } = cfg.sgld;
  const eta = (s * s) / 2;
  const T = (s * s) / (2 * a);
  return { drift: eta / T, noise: Math.sqrt(2 * eta) };
}

function oneHot(labels: Int32Array, K: number): Float32Array {
  const out = new Float32Array(labels.length * K);
  for (let i = 0; i < labels.length; i++) out[i * K + labels[i]] = 1;
  return out;
}

/**
 * `∂/∂x Σ c ⊙ f(x)` for the forward pass `f` of `x` and the output cotangent `c` (the reverse pass to `a₀`, then
 * `·W₀ᵀ`; a conv net's reverse pass to its input).
 */
function inputGradGpu(gpu: GpuKernels, net: GpuJemNet, fw: JemForward, c: GpuTensor): GpuTensor {
  if (isConv(net)) {
    const b = convNetBackwardGpu(gpu, net, fw.conv!, c, { params: false, input: true });
    disposeAll(b.temp);
    return b.input!;
  }
  const f = fw.mlp!;
  const r = mlpParamGradGpu(gpu, net, f, c, false);
  const g = gpu.matmul(r.abar0, net.w[0], { transB: true });
  disposeAll(r.temp);
  if (r.abar0 !== c) r.abar0.dispose();
  return g;
}

/**
 * `steps` SGLD steps of the config's sampler from `x0 [n, D]` (standardised rows) on the device, step `t` with the
 * normals of `split(key, steps)[t]`: `z ← clamp(z − α∇E + s·ξ, box)` with `E = −logsumexp f` or, given `labels`,
 * `E = −f[y]` per row. Per step: the forward pass, a softmax (unconditional only), the input-gradient reverse pass, a
 * Philox draw, one axpby and one clamp; one read-back at the end.
 * @returns the final rows and the number of rows that became non-finite.
 * @example const { x } = await jemSgldGpu(gpu, net, cfg, x0, kChain, 20);
 */
export async function jemSgldGpu(gpu: GpuKernels, net: GpuJemNet, cfg: JemConfig, x0: Tensor, key: Key, steps: number, labels?: Int32Array): Promise<{ x: Tensor; divergent: number }> {
  const [D, K] = netDims(net);
  if (x0.ndim !== 2 || x0.shape[1] !== D) throw new InvalidArgumentError(`jemSgldGpu: x0 has shape [${x0.shape.join(', ')}] but the classifier takes [n, ${D}]`);
  const n = x0.shape[0];
  if (labels && labels.length !== n) throw new InvalidArgumentError(`jemSgldGpu: ${labels.length} labels for ${n} chains`);
  const { drift, noise } = sgldCoefficients(cfg);
  const [lo, hi] = cfg.sgld.box;
  const keys = split(key, steps);
  // ∇E = −(reverse pass of the cotangent c), c = softmax f(z) or onehot(y): the update z + α·(reverse pass of c) + s·ξ.
  const hot = labels ? gpu.upload(oneHot(labels, K), [n, K]) : null;
  let z = gpu.upload(Float32Array.from(x0.data as ArrayLike<number>), [n, D]);
  try {
    for (let t = 0; t < steps; t++) {
      const fwd = forwardGpu(gpu, net, z);
      const c = hot ?? gpu.softmaxLast(fwd.out);
      const g = inputGradGpu(gpu, net, fwd, c);
      const xi = gpu.normal(keys[t], [n, D]);
      const moved = gpu.axpby(z, g, xi, drift, noise);
      const next = gpu.clamp(moved, lo, hi);
      for (const tmp of [g, xi, moved, z]) tmp.dispose();
      if (c !== hot) c.dispose();
      disposeAll(fwd.temp);
      z = next;
    }
    const out = await z.read();
    let divergent = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i * D; j < (i + 1) * D; j++) if (!Number.isFinite(out[j])) { divergent++; break; }
    }
    return { x: new Tensor(out, [n, D]), divergent };
  } finally {
    z.dispose();
    hot?.dispose();
  }
}

/** `logsumexp` of row `i` of `l [*, K]` (float64, max-shifted) and the row's softmax into `p`. */
function lseSoftmax(l: Float32Array, i: number, K: number, p: Float64Array): number {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, l[i * K + k]);
  const shift = Number.isFinite(m) ? m : 0;
  let s = 0;
  for (let k = 0; k < K; k++) { p[k] = Math.exp(l[i * K + k] - shift); s += p[k]; }
  for (let k = 0; k < K; k++) p[k] /= s;
  return shift + Math.log(s);
}

/**
 * The value and parameter gradient of the hybrid loss of one training step on the device (see the module doc): the
 * twin of `cdValueAndGrad(jemKindLoss(cfg))` with the same keys, buffers and restarts, so the same result within
 * float32 rounding while the chains stay finite (a diverging chain: the CPU keeps the row's old point and counts it,
 * here the row stays non-finite in the negatives and the replay buffer, so the loss is non-finite and the trainer's
 * guard rolls the step back, where the CPU step could be accepted under `maxSamplerDivergent > 0`). Asynchronous; one upload of the parameters, the SGLD chains, one forward and one reverse pass of
 * all the loss's rows, two read-backs (logits, gradients) besides the chains'.
 * @example const vg = jemValueAndGradGpu(gpu, cfg); const r = await vg(params, batch, key(1), state);
 */
export function jemValueAndGradGpu(gpu: GpuKernels, cfg: JemConfig): (params: MLPParams, batch: Tensor, key: Key, state: JemState) => Promise<CDValueAndGrad<MLPParams>> {
  const why = jemGpuUnsupported(cfg);
  if (why) throw new InvalidArgumentError(`jemValueAndGradGpu: ${why}`);
  const D = cfg.dim, K = cfg.numClasses, w = cfg.weights, alpha = cfg.alpha, steps = cfg.sgld.steps;
  const settings = { dim: D, numClasses: K, weights: w, reinit: cfg.reinit, reinitFrom: { kind: 'uniform' as const, low: cfg.sgld.box[0], high: cfg.sgld.box[1] } };
  return async (params, batch, k, st) => {
    const plan = planJemStep(settings, st, batch, k);
    const { x, lab, yL } = plan;
    const net = uploadJemNet(gpu, params, cfg);
    const temp: GpuTensor[] = [];
    try {
      let buffer = st.buffer, condBuffer = st.condBuffer ?? null, divergent = 0;
      let xNeg: Tensor | null = null, xcNeg: Tensor | null = null;
      if (plan.uncond) {
        const r = await jemSgldGpu(gpu, net, cfg, plan.uncond.x0, plan.uncond.kChain, steps);
        xNeg = r.x;
        divergent += r.divergent;
        buffer = writeBack(buffer!, plan.uncond.idx, xNeg);
      }
      if (plan.cond) {
        const r = await jemSgldGpu(gpu, net, cfg, plan.cond.x0, plan.cond.kChain, steps, yL);
        xcNeg = r.x;
        divergent += r.divergent;
        condBuffer = writeBack(condBuffer!, plan.cond.idx, xcNeg);
      }
      const xPos = withNoise(plan.kNoise, x, cfg.dataNoise);
      // Every row the loss reads, in one forward pass: [labelled x | x⁺ | x⁻ | labelled x⁺ | x̃⁻].
      const clf = yL.length > 0 && w.clf > 0;
      const groups: Tensor[] = [];
      if (clf) groups.push(rowsOf(x, lab));
      if (xNeg) groups.push(xPos, xNeg);
      if (xcNeg) groups.push(rowsOf(xPos, lab), xcNeg);
      if (!groups.length) throw new InvalidArgumentError('jemLoss: this batch has no labelled rows and only the classifier term is on');
      const N = groups.reduce((a, g) => a + g.shape[0], 0);
      const all = new Float32Array(N * D);
      let at = 0;
      for (const g of groups) { all.set(g.data as Float32Array, at * D); at += g.shape[0]; }
      const xg = gpu.upload(all, [N, D]);
      temp.push(xg);
      const fwd = forwardGpu(gpu, net, xg);
      temp.push(...fwd.temp);
      const logits = await fwd.out.read();

      // The loss and its cotangent G = ∂L/∂logits on the host.
      const G = new Float64Array(N * K);
      const p = new Float64Array(K);
      let row = 0, loss = 0, ce = NaN, acc = NaN, ePos = 0, eNeg = 0, condGap = 0, regV = 0;
      if (clf) {
        const nL = yL.length;
        let nll = 0, right = 0;
        for (let i = 0; i < nL; i++, row++) {
          const lse = lseSoftmax(logits, row, K, p);
          nll -= (logits[row * K + yL[i]] - lse) / nL;
          let best = 0;
          for (let j = 1; j < K; j++) if (logits[row * K + j] > logits[row * K + best]) best = j;
          if (best === yL[i]) right++;
          for (let j = 0; j < K; j++) G[row * K + j] = (w.clf * (p[j] - (j === yL[i] ? 1 : 0))) / nL;
        }
        ce = nll;
        acc = right / nL;
        loss += w.clf * nll;
      }
      // A generative pair: rows of E⁺ then E⁻ (E = −lse f, or −f[y]); ∂/∂E of w(mean E⁺ − mean E⁻) + α(mean E⁺² + mean E⁻²).
      const pair = (nPos: number, nNeg: number, weight: number, labels: Int32Array | null): [number, number, number] => {
        let mp = 0, mn = 0, reg = 0;
        for (const [cnt, sign] of [[nPos, 1], [nNeg, -1]] as const) {
          const e = new Float64Array(cnt);
          for (let i = 0; i < cnt; i++) e[i] = labels ? -logits[(row + i) * K + labels[i]] : -lseSoftmax(logits, row + i, K, p);
          let m = 0, sq = 0;
          for (let i = 0; i < cnt; i++) { m += e[i] / cnt; sq += (e[i] * e[i]) / cnt; }
          if (sign > 0) mp = m; else mn = m;
          reg += alpha * sq;
          for (let i = 0; i < cnt; i++, row++) {
            const dE = (sign * weight + 2 * alpha * e[i]) / cnt; // ∂L/∂E_i
            if (labels) G[row * K + labels[i]] = -dE;
            else {
              lseSoftmax(logits, row, K, p);
              for (let j = 0; j < K; j++) G[row * K + j] = -dE * p[j];
            }
          }
        }
        loss += weight * (mp - mn) + (alpha > 0 ? reg : 0);
        return [mp, mn, alpha > 0 ? reg : 0];
      };
      if (xNeg) {
        [ePos, eNeg, regV] = pair(xPos.shape[0], xNeg.shape[0], w.px, null);
      }
      if (xcNeg) {
        const [mp, mn, reg] = pair(yL.length, yL.length, w.pxy, yL);
        condGap = mp - mn;
        regV += reg;
        if (!xNeg) { ePos = mp; eNeg = mn; }
      }
      const gOut = gpu.upload(Float32Array.from(G), [N, K]);
      temp.push(gOut);
      const grads = await paramGradsGpu(gpu, net, params, fwd, gOut);
      const aux: JemAux = { ePos, eNeg, gap: ePos - eNeg, reg: regV, samplerDivergent: divergent, negatives: xNeg ?? xcNeg ?? x, ce, acc, condGap };
      const state: JemState = { buffer, sn: {}, step: st.step + 1, condBuffer };
      return { loss, grads, aux, state };
    } finally {
      disposeAll(temp);
      disposeJemNet(net);
    }
  };
}

/**
 * `sampleJemModel` on the device: the same chain starts (uniform on the SGLD box from `split(key, 2)[0]`, drawn on the
 * host) and keys (`split(key, 2)[1]`), the SGLD steps by {@link jemSgldGpu}, from `p(x)` or, with `classIndex`, from
 * `p(x|y)`; returns data-space rows `[n, D]`.
 * @example const x = await sampleJemModelGpu(gpu, params, cfg, { key: key(0), n: 16, classIndex: 3 });
 */
export async function sampleJemModelGpu(gpu: GpuKernels, params: MLPParams, cfg: JemConfig, o: SampleJemModelOptions): Promise<Tensor> {
  const why = jemGpuUnsupported(cfg);
  if (why) throw new InvalidArgumentError(`sampleJemModelGpu: ${why}`);
  if (!Number.isInteger(o.n) || o.n < 1) throw new InvalidArgumentError(`sampleJemModelGpu: n must be a positive integer, got ${o.n}`);
  if (o.classIndex !== undefined && !(Number.isInteger(o.classIndex) && o.classIndex >= 0 && o.classIndex < cfg.numClasses)) {
    throw new InvalidArgumentError(`sampleJemModelGpu: classIndex must be an integer in [0, ${cfg.numClasses}), got ${o.classIndex}`);
  }
  const steps = o.steps ?? cfg.sgld.sampleSteps;
  if (!Number.isInteger(steps) || steps < 1) throw new InvalidArgumentError(`sampleJemModelGpu: steps must be a positive integer, got ${steps}`);
  const [kInit, kChain] = split(o.key, 2);
  const x0 = freshChains(kInit, { kind: 'uniform', low: cfg.sgld.box[0], high: cfg.sgld.box[1] }, o.n, [cfg.dim], 'float32');
  const net = uploadJemNet(gpu, params, cfg);
  try {
    const labels = o.classIndex !== undefined ? new Int32Array(o.n).fill(o.classIndex) : undefined;
    const { x } = await jemSgldGpu(gpu, net, cfg, x0, kChain, steps, labels);
    return unstandardizeJem(cfg, x);
  } finally {
    disposeJemNet(net);
  }
}

/**
 * `jemModelScores` on the device: per block of rows, the forward pass, the softmax and the input-gradient reverse
 * pass (the cotangent `softmax f(z)` gives `∇_z logsumexp f = −∇_z E`) and the squared row norms of that gradient;
 * the logits and the norms come back, and `log p̃ = logsumexp f(z)` and `max_y p(y|x)` are formed on the host.
 * @returns `logPx`, `maxProb` and `gradNorm` per row, as `jemModelScores` (which see for the signs).
 * @example const s = await jemModelScoresGpu(gpu, params, cfg, x);
 */
export async function jemModelScoresGpu(gpu: GpuKernels, params: MLPParams, cfg: JemConfig, x: Tensor, block = 500): Promise<{ logPx: Float64Array; maxProb: Float64Array; gradNorm: Float64Array }> {
  const why = jemGpuUnsupported(cfg);
  if (why) throw new InvalidArgumentError(`jemModelScoresGpu: ${why}`);
  const z = standardizeJem(cfg, x);
  const [n, D] = z.shape, K = cfg.numClasses;
  const logPx = new Float64Array(n), maxProb = new Float64Array(n), gradNorm = new Float64Array(n);
  const p = new Float64Array(K);
  const net = uploadJemNet(gpu, params, cfg);
  try {
    for (let s0 = 0; s0 < n; s0 += block) {
      const m = Math.min(n, s0 + block) - s0;
      const temp: GpuTensor[] = [];
      try {
        const zb = gpu.upload((z.data as Float32Array).subarray(s0 * D, (s0 + m) * D), [m, D]);
        temp.push(zb);
        const fwd = forwardGpu(gpu, net, zb);
        const sm = gpu.softmaxLast(fwd.out);
        const g = inputGradGpu(gpu, net, fwd, sm);
        const g2t = gpu.unary('square', g);
        const sq = gpu.sumLast(g2t);
        temp.push(sm, g, g2t, sq);
        const [logits, g2] = await Promise.all([fwd.out.read(), sq.read()]);
        disposeAll(fwd.temp);
        for (let i = 0; i < m; i++) {
          logPx[s0 + i] = lseSoftmax(logits, i, K, p);
          maxProb[s0 + i] = Math.max(...p);
          gradNorm[s0 + i] = Math.sqrt(g2[i]);
        }
      } finally {
        for (const t of temp) t.dispose();
      }
    }
  } finally {
    disposeJemNet(net);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(logPx[i]) || !Number.isFinite(gradNorm[i])) throw new InvalidArgumentError(`jemScores: the model gives a non-finite score at row ${i} (log p̃ = ${logPx[i]}, ‖∇‖ = ${gradNorm[i]})`);
  }
  return { logPx, maxProb, gradNorm };
}
