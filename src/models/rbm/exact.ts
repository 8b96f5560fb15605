/**
 * Exact log partition function of small RBMs by enumerating one layer, in blocks through GEMM, with a streaming
 * log-sum-exp in float64.
 *
 * Enumerating the hidden layer (`2^nh` configurations):
 * - `bernoulli`: `log Z = LSE_h [ cᵀh + Σ_i softplus(b_i + (Wh)_i) ]`;
 * - `softmax`:   `log Z = LSE_h [ cᵀh + Σ_g LSE_k (b + Wh)_{gk} ]`;
 * - `gaussian`:  `log Z = Σ_i ½ log(2πσ_i²) + LSE_h [ cᵀh + Σ_i ((b_i + (Wh)_i)² − b_i²) / (2σ_i²) ]`
 *   (the Gaussian integral over v done analytically).
 * Enumerating the visible layer (`2^nv`, or `K^G` for softmax): `log Z = LSE_v [ bᵀv + Σ_j softplus(c_j + (vW)_j) ]`.
 * @module
 */
import { getBackend } from '../../tensor/backend.js';
import { softplusScalar } from '../../tensor/backend.js';
import { nHiddenOf, nVisibleOf, validateParams, type RBMParams } from './params.js';
import { InvalidArgumentError } from '../../errors.js';

/** Options of {@link exactLogZ}. */
export interface ExactLogZOptions {
  /** Layer to enumerate: `'auto'` (default: the one with fewer configurations; hidden for Gaussian RBMs). */
  enumerate?: 'auto' | 'hidden' | 'visible';
  /** Configurations per GEMM block (default 4096). */
  blockSize?: number;
  /** Refuse to enumerate more than this many configurations (default 2²⁶ ≈ 6.7e7). */
  maxConfigs?: number;
}

/** Streaming log-sum-exp accumulator in float64. */
class LSE {
  m = -Infinity;
  s = 0;
  add(t: Float64Array, n: number): void {
    let bm = -Infinity;
    for (let r = 0; r < n; r++) if (t[r] > bm) bm = t[r];
    if (Number.isNaN(bm)) throw new InvalidArgumentError('exactLogZ: NaN in a configuration term (are the parameters finite?)');
    if (bm === -Infinity) return;
    if (bm > this.m) { this.s *= Math.exp(this.m - bm); this.m = bm; }
    let s = 0;
    for (let r = 0; r < n; r++) s += Math.exp(t[r] - this.m);
    this.s += s;
  }
  get value(): number { return this.m + Math.log(this.s); }
}

/**
 * Exact `log Z` of an RBM by enumerating the smaller layer (≤ ~25 binary units), processing the configurations in
 * blocks: one GEMM (float64) per block, then the per-family reduction above, accumulated by a float64 log-sum-exp.
 * @throws RangeError when the enumeration would exceed `maxConfigs`.
 * @example
 * const p = createRBM({ nVisible: 16, nHidden: 12, key: key(0), weightScale: 0.5 });
 * exactLogZ(p); // enumerates the 4096 hidden configurations
 */
export function exactLogZ(p: RBMParams, opts: ExactLogZOptions = {}): number {
  validateParams(p, 'exactLogZ');
  const nv = nVisibleOf(p), nh = nHiddenOf(p);
  const K = p.categories;
  const maxConfigs = opts.maxConfigs ?? 2 ** 26;
  const hiddenCount = 2 ** nh;
  const visibleCount = p.visible === 'softmax' ? K ** (nv / K) : 2 ** nv;
  let which = opts.enumerate ?? 'auto';
  if (which === 'auto') which = p.visible === 'gaussian' || hiddenCount <= visibleCount ? 'hidden' : 'visible';
  if (which === 'visible' && p.visible === 'gaussian') throw new InvalidArgumentError('exactLogZ: cannot enumerate continuous (Gaussian) visible units; use enumerate: "hidden"');
  const count = which === 'hidden' ? hiddenCount : visibleCount;
  if (count > maxConfigs) {
    throw new InvalidArgumentError(`exactLogZ: enumerating the ${which} layer needs ${count} configurations (> maxConfigs ${maxConfigs}); nVisible=${nv}, nHidden=${nh}`);
  }
  const bs = Math.max(1, Math.min(opts.blockSize ?? 4096, count));
  const W = Float64Array.from(p.W.data), b = Float64Array.from(p.b.data), c = Float64Array.from(p.c.data);
  const be = getBackend();
  const acc = new LSE();
  const terms = new Float64Array(bs);
  if (which === 'hidden') {
    const H = new Float64Array(bs * nh), pre = new Float64Array(bs * nv);
    const inv = p.visible === 'gaussian' ? Float64Array.from(p.logVar!.data, (z) => Math.exp(-z)) : null;
    for (let start = 0; start < count; start += bs) {
      const n = Math.min(bs, count - start);
      H.fill(0);
      for (let r = 0; r < n; r++) {
        const idx = start + r;
        let t = 0;
        for (let j = 0; j < nh; j++) if (Math.floor(idx / 2 ** j) % 2 === 1) { H[r * nh + j] = 1; t += c[j]; }
        terms[r] = t;
      }
      // pre = H Wᵀ  ([n, nh] × [nh, nv])
      be.gemm(false, true, n, nv, nh, 1, H, 0, nh, W, 0, nh, 0, pre, 0, nv);
      for (let r = 0; r < n; r++) {
        let t = 0;
        const o = r * nv;
        if (p.visible === 'bernoulli') {
          for (let i = 0; i < nv; i++) t += softplusScalar(b[i] + pre[o + i]);
        } else if (p.visible === 'softmax') {
          for (let g = 0; g < nv; g += K) {
            let m = -Infinity;
            for (let k = 0; k < K; k++) m = Math.max(m, b[g + k] + pre[o + g + k]);
            let s = 0;
            for (let k = 0; k < K; k++) s += Math.exp(b[g + k] + pre[o + g + k] - m);
            t += m + Math.log(s);
          }
        } else {
          for (let i = 0; i < nv; i++) { const a = pre[o + i]; t += (a * (2 * b[i] + a)) * 0.5 * inv![i]; }
        }
        terms[r] += t;
      }
      acc.add(terms, n);
    }
    let z = acc.value;
    if (p.visible === 'gaussian') for (let i = 0; i < nv; i++) z += 0.5 * (Math.log(2 * Math.PI) + p.logVar!.data[i]);
    return z;
  }
  const V = new Float64Array(bs * nv), pre = new Float64Array(bs * nh);
  const G = nv / K;
  for (let start = 0; start < count; start += bs) {
    const n = Math.min(bs, count - start);
    V.fill(0);
    for (let r = 0; r < n; r++) {
      let idx = start + r;
      let t = 0;
      if (p.visible === 'softmax') {
        for (let g = 0; g < G; g++) { const k = idx % K; idx = Math.floor(idx / K); V[r * nv + g * K + k] = 1; t += b[g * K + k]; }
      } else {
        for (let i = 0; i < nv; i++) if (Math.floor(idx / 2 ** i) % 2 === 1) { V[r * nv + i] = 1; t += b[i]; }
      }
      terms[r] = t;
    }
    be.gemm(false, false, n, nh, nv, 1, V, 0, nv, W, 0, nh, 0, pre, 0, nh);
    for (let r = 0; r < n; r++) {
      let t = 0;
      for (let j = 0, o = r * nh; j < nh; j++) t += softplusScalar(c[j] + pre[o + j]);
      terms[r] += t;
    }
    acc.add(terms, n);
  }
  return acc.value;
}
