/**
 * Sliced and exact score matching of MLP energies on the WebGPU device, lowered by hand: the loss needs `wᵀHw` (the
 * energy's Hessian along a probe) and `∇E`, so its parameter gradient is a gradient of second derivatives (third
 * derivatives of the activations, the new `unaryGrad3` kernel here).
 *
 * Maths, for an energy `E(z) = f(h₀(z)) + ½c‖z‖²` with a one-output MLP `f` (`a_l = h_l·W_l + b_l`, `h_{l+1} = φ(a_l)`)
 * and a probe `w` in `z` units:
 * - `wᵀ∇E = ḣ₀·u₀ + c·w·z` with `u₀ = ∂f/∂h₀` and `ḣ₀ = J_{h₀}w` (the input map's tangent);
 * - `wᵀHw = T + u₀·q + c‖w‖²`, `T = ḣ₀ᵀH_f ḣ₀`, `q = ∂²h₀/∂t²` along `w` (0 for `h₀ = z`); `T` is the second
 *   derivative of `f` along `ḣ₀`, a forward pass: `ȧ_l = ḣ_l W_l`, `ä_l = ḧ_l W_l`, `ḣ_{l+1} = φ′(a_l)ȧ_l`,
 *   `ḧ_{l+1} = φ″(a_l)ȧ_l² + φ′(a_l)ä_l` (`ḧ₀ = 0`), `T = ḧ_{L−1}·W_{L−1}`;
 * - the parameter gradient of `Σ τᵢTᵢ` is the reverse of that pass ({@link mlpHessianQuadGpu}): from
 *   `W̄_{L−1} = ḧ_{L−1}ᵀτ`, `ḧ̄_{L−1} = τW_{L−1}ᵀ`, per layer `ǟ = ḧ̄φ′`, `ǡ = 2ḧ̄ȧφ″ + ḣ̄φ′`,
 *   `ā = ḧ̄(ȧ²φ‴ + äφ″) + ḣ̄ȧφ″ + h̄φ′`, `W̄_l = h_lᵀā + ḣ_lᵀǡ + ḧ_lᵀǟ`, `b̄_l = Σā`, and `(h̄, ḣ̄, ḧ̄)_l = (ā, ǡ, ǟ)W_lᵀ`;
 *   the `u₀` terms go through `mlpInputGradParamGradGpu` (src/gpu/mlpDsm.ts) with the cotangent of `u₀`.
 * The sliced loss (Song et al. 2019) is `(1/nM)Σ[−wᵀHw + ½(wᵀ∇E)²]`, variance-reduced `(1/nM)Σ[−wᵀHw + ½‖∇ₓE‖²]`;
 * exact score matching is the variance-reduced form over `D` copies of the batch with the basis probes, the squared
 * term weighted `1/(nD)` and the Hessian term `1/n`.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { GPU_GRAD_OPS, GpuTensor, type GpuKernels, type GpuGradOp } from './kernels.js';
import { runCustomKernel, customOutput, customStride, CUSTOM_WG } from './customKernel.js';
import { mlpInputGradPassGpu, mlpInputGradParamGradGpu, type GpuMlpLayers, type GpuInputGradPass } from './mlpDsm.js';

const UNARY_GRAD3_WGSL = /* wgsl */ `
struct P { n: u32, op: u32, stride: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
fn sig(v: f32) -> f32 {
  if (v >= 0.0) { return 1.0 / (1.0 + exp(-v)); }
  let e = exp(v);
  return e / (1.0 + e);
}
@compute @workgroup_size(${CUSTOM_WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y * p.stride + gid.x;
  if (i >= p.n) { return; }
  let v = x[i];
  let g = gy[i];
  let s = sig(v);
  let sn = sig(-v);
  let d1 = s * sn;
  var r: f32;
  // Third derivatives, in the order of GPU_GRAD_OPS: sigmoid σ‴ = σ′(1 − 6σ′), logSigmoid −σ″ = −σ′(1 − 2σ),
  // tanh (1 − t²)(6t² − 2), softplus σ″ = σ′(1 − 2σ), relu 0, silu 3σ″ + xσ‴.
  switch p.op {
    case 0u: { r = g * d1 * (1.0 - 6.0 * d1); }
    case 1u: { r = -g * d1 * (sn - s); }
    case 2u: { let t = 2.0 * sig(2.0 * v) - 1.0; let q = 4.0 * sig(2.0 * v) * sig(-2.0 * v); r = g * q * (6.0 * t * t - 2.0); }
    case 3u: { r = g * d1 * (sn - s); }
    case 4u: { r = 0.0; }
    default: { r = g * d1 * (3.0 * (sn - s) + v * (1.0 - 6.0 * d1)); }
  }
  y[i] = r;
}`;

/**
 * Third derivative of an activation times a cotangent, `y = g·φ‴(x)` elementwise (sigmoid `σ′(1 − 6σ′)`, logSigmoid
 * `−σ′(1 − 2σ)`, tanh `(1 − t²)(6t² − 2)`, softplus `σ′(1 − 2σ)`, relu 0, silu `3σ″ + xσ‴`; `σ′ = σ(x)σ(−x)`).
 * @example const y = unaryGrad3Gpu(gpu, 'silu', a, g);
 */
export function unaryGrad3Gpu(gpu: GpuKernels, op: GpuGradOp, x: GpuTensor, g: GpuTensor): GpuTensor {
  const code = GPU_GRAD_OPS.indexOf(op);
  if (code < 0) throw new InvalidArgumentError(`unaryGrad3Gpu: op '${String(op)}' has no third-derivative kernel (have ${GPU_GRAD_OPS.join(', ')})`);
  if (g.size !== x.size) throw new InvalidArgumentError(`unaryGrad3Gpu: g has ${g.size} values but x has ${x.size}`);
  const y = customOutput(gpu, x.shape);
  runCustomKernel(gpu, 'unaryGrad3', UNARY_GRAD3_WGSL, [x.buffer, g.buffer, y.buffer], new Uint32Array([x.size, code, customStride(x.size), 0]).buffer, x.size);
  return y;
}

/** Queues `Σ` of optional terms (null skipped; at least one present). */
function addAll(gpu: GpuKernels, keep: (t: GpuTensor) => GpuTensor, ts: (GpuTensor | null)[]): GpuTensor {
  const xs = ts.filter((t): t is GpuTensor => t !== null);
  let acc = xs[0];
  for (let i = 1; i < xs.length; i++) acc = keep(gpu.binary('add', acc, xs[i]));
  return acc;
}

/** The second-order forward pass of {@link mlpHessianQuadForwardGpu}: tangents and second tangents per layer. */
export interface GpuHessianQuadPass {
  /** `Tᵢ = ḣ₀ᵢᵀ H_f ḣ₀ᵢ` `[n, 1]`, or null for a network without hidden layers (`T = 0`). */
  readonly T: GpuTensor | null;
  readonly hd: readonly GpuTensor[];
  readonly hdd: readonly (GpuTensor | null)[];
  readonly ad: readonly GpuTensor[];
  readonly add: readonly (GpuTensor | null)[];
  /** Intermediate buffers (not `T`). */
  readonly temp: readonly GpuTensor[];
}

/**
 * Queues `Tᵢ = ḣ₀ᵢᵀ H_f ḣ₀ᵢ`, the second derivative of a one-output MLP along tangents `hdot0 [n, k]` at the inputs of
 * `pass` ({@link mlpInputGradPassGpu}): `ȧ_l = ḣ_l W_l`, `ä_l = ḧ_l W_l`, `ḣ_{l+1} = φ′ȧ_l`, `ḧ_{l+1} = φ″ȧ_l² + φ′ä_l`
 * (`ḧ₀ = 0`), `T = ḧ_{L−1}·W_{L−1}`.
 * @example const f = mlpHessianQuadForwardGpu(gpu, net, pass, hdot0); const T = await f.T!.read();
 */
export function mlpHessianQuadForwardGpu(gpu: GpuKernels, net: GpuMlpLayers, pass: GpuInputGradPass, hdot0: GpuTensor): GpuHessianQuadPass {
  const act = net.activation;
  const L = net.w.length;
  if (hdot0.size !== pass.h[0].size) throw new InvalidArgumentError(`mlpHessianQuadForwardGpu: the tangent has ${hdot0.size} values for inputs of ${pass.h[0].size}`);
  const temp: GpuTensor[] = [];
  const keep = (t: GpuTensor): GpuTensor => { temp.push(t); return t; };
  const hd: GpuTensor[] = [hdot0];
  const hdd: (GpuTensor | null)[] = [null];
  const ad: GpuTensor[] = [], add: (GpuTensor | null)[] = [];
  if (L < 2) return { T: null, hd, hdd, ad, add, temp };
  const { a } = pass;
  for (let l = 0; l < L - 1; l++) {
    ad.push(keep(gpu.matmul(hd[l], net.w[l])));
    add.push(hdd[l] ? keep(gpu.matmul(hdd[l]!, net.w[l])) : null);
    hd.push(keep(gpu.unaryGrad(act, a[l], ad[l])));
    const sq = keep(gpu.unaryGrad2(act, a[l], keep(gpu.binary('mul', ad[l], ad[l]))));
    hdd.push(add[l] ? keep(gpu.binary('add', sq, keep(gpu.unaryGrad(act, a[l], add[l]!)))) : sq);
  }
  return { T: gpu.matmul(hdd[L - 1]!, net.w[L - 1]), hd, hdd, ad, add, temp };
}

/**
 * Queues the parameter gradient of `Σ τᵢTᵢ` (`T` of {@link mlpHessianQuadForwardGpu}; `h₀`, `ḣ₀` constants) for
 * weights `tau [n, 1]`: the reverse of the second-order forward pass (see the module doc). Returns the gradients
 * (layer order; `gB[L−1]` null: the output bias does not enter `T`; all null without hidden layers) and the
 * intermediate buffers.
 * @example const { gW, gB } = mlpHessianQuadReverseGpu(gpu, net, pass, fwd, tau);
 */
export function mlpHessianQuadReverseGpu(gpu: GpuKernels, net: GpuMlpLayers, pass: GpuInputGradPass, fwd: GpuHessianQuadPass, tau: GpuTensor): { gW: (GpuTensor | null)[]; gB: (GpuTensor | null)[]; temp: GpuTensor[] } {
  const act = net.activation;
  const L = net.w.length;
  const n = pass.h[0].shape[0];
  if (tau.size !== n) throw new InvalidArgumentError(`mlpHessianQuadReverseGpu: ${tau.size} weights for ${n} rows`);
  const temp: GpuTensor[] = [];
  const keep = (t: GpuTensor): GpuTensor => { temp.push(t); return t; };
  const gW: (GpuTensor | null)[] = new Array(L).fill(null), gB: (GpuTensor | null)[] = new Array(L).fill(null);
  if (L < 2) return { gW, gB, temp };
  const { h, a } = pass;
  const { hd, hdd, ad, add } = fwd;
  gW[L - 1] = gpu.matmul(hdd[L - 1]!, tau, { transA: true });
  let hddBar: GpuTensor = keep(gpu.matmul(tau, net.w[L - 1], { transB: true }));
  let hdBar: GpuTensor | null = null, hBar: GpuTensor | null = null;
  for (let l = L - 2; l >= 0; l--) {
    const addBar = keep(gpu.unaryGrad(act, a[l], hddBar));
    const hddAd = keep(gpu.binary('mul', hddBar, ad[l]));
    const adBar = addAll(gpu, keep, [keep(gpu.unaryGrad2(act, a[l], keep(gpu.lincomb(hddAd, hddAd, hddAd, 2, 0, 0)))), hdBar ? keep(gpu.unaryGrad(act, a[l], hdBar)) : null]);
    const aBar = addAll(gpu, keep, [
      keep(unaryGrad3Gpu(gpu, act, a[l], keep(gpu.binary('mul', hddAd, ad[l])))),
      add[l] ? keep(gpu.unaryGrad2(act, a[l], keep(gpu.binary('mul', hddBar, add[l]!)))) : null,
      hdBar ? keep(gpu.unaryGrad2(act, a[l], keep(gpu.binary('mul', hdBar, ad[l])))) : null,
      hBar ? keep(gpu.unaryGrad(act, a[l], hBar)) : null,
    ]);
    const w = addAll(gpu, keep, [
      keep(gpu.matmul(h[l], aBar, { transA: true })),
      keep(gpu.matmul(hd[l], adBar, { transA: true })),
      hdd[l] ? keep(gpu.matmul(hdd[l]!, addBar, { transA: true })) : null,
    ]);
    gW[l] = gpu.lincomb(w, w, w, 1, 0, 0); // a copy the caller owns (w may be a temporary)
    if (net.b[l]) gB[l] = gpu.sumRows(aBar);
    if (l > 0) {
      hBar = keep(gpu.matmul(aBar, net.w[l], { transB: true }));
      hdBar = keep(gpu.matmul(adBar, net.w[l], { transB: true }));
      hddBar = keep(gpu.matmul(addBar, net.w[l], { transB: true }));
    }
  }
  return { gW, gB, temp };
}

/**
 * {@link mlpHessianQuadForwardGpu} then {@link mlpHessianQuadReverseGpu} with the weights `tau [n, 1]`: `T` `[n, 1]`
 * (null without hidden layers), the parameter gradient of `Σ τᵢTᵢ` and every intermediate buffer.
 * @example const { T, gW, gB } = mlpHessianQuadGpu(gpu, net, pass, hdot0, tau);
 */
export function mlpHessianQuadGpu(gpu: GpuKernels, net: GpuMlpLayers, pass: GpuInputGradPass, hdot0: GpuTensor, tau: GpuTensor): { T: GpuTensor | null; gW: (GpuTensor | null)[]; gB: (GpuTensor | null)[]; temp: GpuTensor[] } {
  const fwd = mlpHessianQuadForwardGpu(gpu, net, pass, hdot0);
  const rev = mlpHessianQuadReverseGpu(gpu, net, pass, fwd, tau);
  return { T: fwd.T, gW: rev.gW, gB: rev.gB, temp: [...fwd.temp, ...rev.temp] };
}

/** The energy's input map and probes for {@link mlpScoreMatchingGpu}, all in `z` units (standardised rows). */
export interface GpuScoreMatchingInput {
  /** Rows `z` `[N, D]` (for exact score matching, `D` copies of the batch). */
  readonly z: GpuTensor;
  /** Probes `w` `[N, D]` in `z` units (`w = v/scale` for probes `v` in data units). */
  readonly w: GpuTensor;
  /** `1/scale` `[D]` when the loss's data units differ from `z` (the squared score is `‖∇ₓE‖² = ‖g_z/scale‖²`), else null. */
  readonly invScale: GpuTensor | null;
  /** Fourier features `h₀ = sin(zP₂ + ω)` (`P₂ = [P, P]` `[D, 2F]`, `ω = [0, π/2]` `[2F]`), or null for `h₀ = z`. */
  readonly fourier: { readonly p2: GpuTensor; readonly omega: GpuTensor } | null;
  /** Confining strength `c` of `½c‖z‖²`. */
  readonly confine: number;
  /** `'projected'`: `½(wᵀ∇E)²` (sliced); `'full'`: `½‖∇ₓE‖²` (variance-reduced sliced, exact). */
  readonly sqTerm: 'projected' | 'full';
  /** Weight of each row's Hessian term and squared term in the loss. */
  readonly jacWeight: number;
  readonly sqWeight: number;
}

/**
 * The loss `Σᵢ[−jacWeight·wᵢᵀHwᵢ + sqWeight·sqᵢ]` of an MLP energy (see the module doc) and its parameter gradient,
 * queued on the device; reads back two sums. Returns the loss, its two terms (`jacobianTerm = −jacWeight·Σ wᵀHw`,
 * `sqTerm`), the gradients (layer order) and every buffer to free.
 * @example const r = await mlpScoreMatchingGpu(gpu, net, { z, w, invScale: null, fourier: null, confine: 0.01, sqTerm: 'projected', jacWeight: 1 / n, sqWeight: 1 / n });
 */
export async function mlpScoreMatchingGpu(gpu: GpuKernels, net: GpuMlpLayers, o: GpuScoreMatchingInput): Promise<{ loss: number; jacobianTerm: number; sqTerm: number; gW: GpuTensor[]; gB: (GpuTensor | null)[]; temp: GpuTensor[] }> {
  const { z, w } = o;
  if (z.shape.length !== 2 || w.size !== z.size) throw new InvalidArgumentError('mlpScoreMatchingGpu: z and w must be [N, D] of one size');
  const N = z.shape[0];
  const temp: GpuTensor[] = [];
  const keep = (t: GpuTensor): GpuTensor => { temp.push(t); return t; };
  const col = (t: GpuTensor): GpuTensor => new GpuTensor(gpu, [t.size, 1], t.buffer); // [N] read as [N, 1]
  const rowDot = (x: GpuTensor, y: GpuTensor): GpuTensor => keep(gpu.sumLast(keep(gpu.binary('mul', x, y))));
  const onesRow = (k: number): GpuTensor => keep(gpu.upload(new Float32Array(k).fill(1), [1, k]));
  const colScale = (x: GpuTensor, c: GpuTensor): GpuTensor => keep(gpu.binary('mul', x, keep(gpu.matmul(col(c), onesRow(x.shape[1])))));
  // The input map: h₀, its tangent ḣ₀ along w, the curvature q (Fourier), and J_hᵀ(·).
  let h0 = z, hd0 = w, q: GpuTensor | null = null, cosU: GpuTensor | null = null;
  if (o.fourier) {
    const u = keep(gpu.binary('add', keep(gpu.matmul(z, o.fourier.p2)), o.fourier.omega));
    const wp = keep(gpu.matmul(w, o.fourier.p2));
    h0 = keep(gpu.trig('sin', u));
    cosU = keep(gpu.trig('cos', u));
    hd0 = keep(gpu.binary('mul', cosU, wp));
    q = keep(gpu.unary('neg', keep(gpu.binary('mul', h0, keep(gpu.binary('mul', wp, wp))))));
  }
  const pass = mlpInputGradPassGpu(gpu, net, h0);
  temp.push(...pass.temp);
  const u0 = pass.u[0];
  const tau = keep(gpu.upload(new Float32Array(N).fill(-o.jacWeight), [N, 1]));
  const hq = mlpHessianQuadGpu(gpu, net, pass, hd0, tau);
  temp.push(...hq.temp);
  if (hq.T) temp.push(hq.T);
  // Σ wᵀHw = Σ(T + u₀·q + c‖w‖²).
  const parts: GpuTensor[] = [];
  if (hq.T) parts.push(hq.T);
  if (q) parts.push(col(rowDot(u0, q)));
  const wHwNet = parts.length ? keep(gpu.sumAll(addAll(gpu, keep, parts))) : null;
  const wSq = o.confine > 0 ? keep(gpu.sumAll(keep(gpu.unary('square', w)))) : null;
  // The squared term and the cotangent of u₀ (plus −jacWeight·q from the u₀·q term).
  let sqSum: GpuTensor, ubar0: GpuTensor;
  if (o.sqTerm === 'projected') {
    let wg = rowDot(hd0, u0);
    if (o.confine > 0) wg = keep(gpu.lincomb(wg, rowDot(w, z), wg, 1, o.confine, 0));
    sqSum = keep(gpu.sumAll(keep(gpu.unary('square', wg))));
    ubar0 = colScale(hd0, keep(gpu.lincomb(wg, wg, wg, o.sqWeight, 0, 0)));
  } else {
    let gz = cosU && o.fourier ? keep(gpu.matmul(keep(gpu.binary('mul', u0, cosU)), o.fourier.p2, { transB: true })) : u0;
    if (o.confine > 0) gz = keep(gpu.lincomb(gz, z, z, 1, o.confine, 0));
    const gx = o.invScale ? keep(gpu.binary('mul', gz, o.invScale)) : gz;
    sqSum = keep(gpu.sumAll(keep(gpu.unary('square', gx))));
    // ∂(½‖g_x‖²)/∂g_z = g_x/scale, then back through J_hᵀ.
    let gbar = keep(gpu.lincomb(gx, gx, gx, o.sqWeight, 0, 0));
    if (o.invScale) gbar = keep(gpu.binary('mul', gbar, o.invScale));
    ubar0 = cosU && o.fourier ? keep(gpu.binary('mul', keep(gpu.matmul(gbar, o.fourier.p2)), cosU)) : gbar;
  }
  if (q) ubar0 = keep(gpu.lincomb(ubar0, q, q, 1, -o.jacWeight, 0));
  const back = mlpInputGradParamGradGpu(gpu, net, pass, ubar0);
  temp.push(...back.temp);
  const gW: GpuTensor[] = [], gB: (GpuTensor | null)[] = [];
  for (let l = 0; l < net.w.length; l++) {
    const hw = hq.gW[l];
    gW.push(hw ? gpu.binary('add', back.gW[l], hw) : back.gW[l]);
    if (hw) temp.push(back.gW[l], hw);
    const hb = hq.gB[l], bb = back.gB[l];
    gB.push(hb && bb ? gpu.binary('add', bb, hb) : bb ?? hb);
    if (hb && bb) temp.push(hb, bb);
  }
  const rd = async (t: GpuTensor | null): Promise<number> => (t ? (await t.read())[0] : 0);
  const wHw = (await rd(wHwNet)) + o.confine * (await rd(wSq));
  const jacobianTerm = -o.jacWeight * wHw;
  const sq = 0.5 * o.sqWeight * (await rd(sqSum));
  return { loss: jacobianTerm + sq, jacobianTerm, sqTerm: sq, gW, gB, temp };
}
