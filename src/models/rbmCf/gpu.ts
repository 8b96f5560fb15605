/**
 * The rbm-cf kind on the WebGPU device: {@link rbmCfBatchStatisticsGpu} is the CD pass of a mini-batch
 * (`rbmCfBatchStatistics`' twin, plugged into training as `TrainRbmCfOptions.statistics`) in dense form: the batch's
 * users with ratings are the rows of a one-hot matrix `V₀ [users, items·K]` with the missing items all zero (masked),
 * so that
 *
 *   `P(h = 1 | V) = σ(base + V·W)`  (one matmul; `base` = `c` plus the conditioning terms, computed on the host),
 *   `p(v_i = k | h) ∝ exp(b̃_ik + (h·Wᵀ)_ik)`  (one matmul, a bias add and the `categorical` kernel, rated items only),
 *
 * with the batch's own uniforms (the host's float64 uniforms, placed where the CPU's loop reads them and rounded to
 * float32), the chain's hidden samples as on the CPU (probabilities at the last step), and the statistics
 * `V₀ᵀ·P₀ − V_Tᵀ·P_T` (W) and the column sums of `V₀ − V_T` (b) as GPU matmuls and sums. `P₀`, `P_T` and the sums come
 * back once per batch; the conditioning terms' statistics (implicit feedback D, user features U, item features G) and
 * a factored model's chain rule are formed on the host from them, so every variant runs. A draw differs from the CPU's
 * only where a probability lands within float32 rounding of its uniform (rare; the parameters are float64 on the host
 * and float32 on the device).
 *
 * `ebm recommend`'s expected ratings are {@link recommendForUserGpu}: `Σ_j softplus(a_j + W_ikj)` for every item and
 * level in one row-broadcast add, a softplus and a row sum.
 * @module
 */
import type { GpuKernels, GpuTensor } from '../../gpu/kernels.js';
import { GpuTensor as DeviceTensor } from '../../gpu/kernels.js';
import type { Ratings } from '../../data/movielens.js';
import { InvalidArgumentError } from '../../errors.js';
import {
  rbmCfBatchStatistics, conditioningInput, implicitScale, groupByUser, checkSideInfo, hiddenInput, visibleBias,
  type RbmCfBatchInput, type RbmCfBatchCounts, type RbmCfGradients, type RbmCfStatistics, type RbmCfParams, type CfSideInfo,
} from './model.js';

/** True when some user of the batch rated one item twice (the dense form has one unit per item). */
function hasRepeats(input: RbmCfBatchInput): boolean {
  const g = input.ratings;
  const seen = new Set<number>();
  for (let bi = 0; bi < input.users.length; bi++) {
    const u = input.users[bi];
    seen.clear();
    for (let q = g.start[u]; q < g.start[u + 1]; q++) {
      if (seen.has(g.item[q])) return true;
      seen.add(g.item[q]);
    }
  }
  return false;
}

/**
 * The CD statistics of one mini-batch on the device (see the module doc): adds them to `grads` and returns the batch's
 * counts, like `rbmCfBatchStatistics`. A batch in which a user rated an item twice (two visible units for one item,
 * which the dense form cannot hold) is computed on the host instead.
 * @example const counts = await rbmCfBatchStatisticsGpu(gpu, input, grads);
 */
export async function rbmCfBatchStatisticsGpu(gpu: GpuKernels, input: RbmCfBatchInput, grads: RbmCfGradients): Promise<RbmCfBatchCounts> {
  const { p, side, ratings: g, users, T, rnd, bias } = input;
  if (hasRepeats(input)) return rbmCfBatchStatistics(input, grads);
  const F = p.nHidden, K = p.K, I = p.nItems, IK = I * K;
  const rows: number[] = [];
  for (let bi = 0; bi < users.length; bi++) if (g.start[users[bi] + 1] > g.start[users[bi]]) rows.push(users[bi]);
  const Bu = rows.length;
  if (Bu === 0) return { users: 0, ratings: 0, wrong: 0, total: 0 };

  // The batch in dense form, and its uniforms where the CPU's loop reads them.
  const V0 = new Float32Array(Bu * IK), mask = new Float32Array(Bu * I), base = new Float32Array(Bu * F);
  const uh = Array.from({ length: T }, () => new Float32Array(Bu * F));
  const uv = Array.from({ length: T }, () => new Float32Array(Bu * I));
  const tmp = new Float64Array(F);
  let r = 0, nr = 0;
  for (let row = 0; row < Bu; row++) {
    const u = rows[row];
    const s = g.start[u], e = g.start[u + 1], n = e - s;
    nr += n;
    for (let q = s; q < e; q++) { V0[row * IK + g.item[q] * K + g.level[q]] = 1; mask[row * I + g.item[q]] = 1; }
    conditioningInput(p, side, u, tmp);
    base.set(tmp, row * F);
    const r0 = r;
    for (let j = 0; j < F; j++) uh[0][row * F + j] = rnd[r++];
    for (let t = 0; t < T; t++) {
      for (let q = s; q < e; q++) uv[t][row * I + g.item[q]] = rnd[r++];
      if (t + 1 < T) for (let j = 0; j < F; j++) uh[t + 1][row * F + j] = rnd[r++];
    }
    r = r0 + T * (F + n);
  }

  const temp: GpuTensor[] = [];
  const keep = <X extends GpuTensor>(x: X): X => { temp.push(x); return x; };
  try {
    const W = keep(gpu.upload(Float32Array.from(p.W), [IK, F]));
    const bt = keep(gpu.upload(Float32Array.from(bias), [IK]));
    const v0 = keep(gpu.upload(V0, [Bu, IK]));
    const bs = keep(gpu.upload(base, [Bu, F]));
    const mk = keep(gpu.upload(mask, [Bu * I]));
    const hiddenProbs = (v: GpuTensor): GpuTensor => keep(gpu.unary('sigmoid', keep(gpu.binary('add', keep(gpu.matmul(v, W)), bs))));
    const ph0 = hiddenProbs(v0);
    let h = keep(gpu.bernoulli(ph0, keep(gpu.upload(uh[0], [Bu, F]))));
    let vNeg: GpuTensor = v0, phT: GpuTensor = ph0, matches: GpuTensor | null = null;
    for (let t = 0; t < T; t++) {
      const logits = keep(gpu.binary('add', keep(gpu.matmul(h, W, { transB: true })), bt));
      const draw = keep(gpu.categorical(new DeviceTensor(gpu, [Bu * I, K], logits.buffer), keep(gpu.upload(uv[t], [Bu * I])), mk));
      vNeg = new DeviceTensor(gpu, [Bu, IK], draw.buffer);
      if (t === 0) matches = keep(gpu.sumAll(keep(gpu.binary('mul', v0, vNeg))));
      phT = hiddenProbs(vNeg);
      if (t + 1 < T) h = keep(gpu.bernoulli(phT, keep(gpu.upload(uh[t + 1], [Bu, F]))));
    }
    const pos = keep(gpu.matmul(v0, ph0, { transA: true }));
    const neg = keep(gpu.matmul(vNeg, phT, { transA: true }));
    const gW = keep(gpu.axpby(pos, neg, neg, -1, 0));
    const gb = keep(gpu.sumRows(keep(gpu.binary('sub', v0, vNeg))));
    const [w, b, p0, pT, same] = await Promise.all([gW.read(), gb.read(), ph0.read(), phT.read(), matches!.read()]);

    // Accumulate as accumulateStatistics does (data +1, chain −1).
    for (let q = 0; q < w.length; q++) grads.W[q] += w[q];
    for (let q = 0; q < b.length; q++) grads.b[q] += b[q];
    const d = new Float64Array(F);
    for (let row = 0; row < Bu; row++) {
      const u = rows[row];
      for (let j = 0; j < F; j++) { d[j] = p0[row * F + j] - pT[row * F + j]; grads.c[j] += d[j]; }
      if (grads.D) {
        const rs = side!.implicit!, sc = implicitScale(p, rs, u);
        for (let q = rs.start[u]; q < rs.start[u + 1]; q++) {
          const o = rs.item[q] * F;
          for (let j = 0; j < F; j++) grads.D[o + j] += sc * d[j];
        }
      }
      if (grads.U) {
        const x = side!.userFeatures!, Du = p.userFeatureDim!;
        for (let dd = 0; dd < Du; dd++) {
          const v = x.x[u * Du + dd];
          if (v !== 0) for (let j = 0; j < F; j++) grads.U[dd * F + j] += v * d[j];
        }
      }
    }
    if (grads.G) {
      const y = side!.itemFeatures!, Di = p.itemFeatureDim!;
      for (let i = 0; i < I; i++) {
        for (let dd = 0; dd < Di; dd++) {
          const v = y.x[i * Di + dd];
          if (v !== 0) for (let k = 0; k < K; k++) grads.G[dd * K + k] += v * b[i * K + k];
        }
      }
    }
    return { users: Bu, ratings: nr, wrong: nr - Math.round(same[0]), total: nr };
  } finally {
    for (const x of temp) x.dispose();
  }
}

/**
 * The `statistics` option of RBM-CF training that runs every mini-batch's CD pass on the device.
 * @example await trainRbmCfAsync(p0, train, key(1), { epochs: 20, statistics: rbmCfStatisticsGpu(gpu) });
 */
export function rbmCfStatisticsGpu(gpu: GpuKernels): RbmCfStatistics {
  return (input, grads) => rbmCfBatchStatisticsGpu(gpu, input, grads);
}

/**
 * `recommendForUser` with the expected ratings of every item computed on the device: `s_ik = b̃_ik + Σ_j softplus(a_j +
 * W_ikj)` (`a` the user's hidden input, from the host) in one row-broadcast add, a softplus and a row sum; the softmax
 * over levels, the expectation, the ranking and the exclusion of rated items on the host.
 * @returns the top `n` unrated items with their expected ratings, best first (ties by item index).
 * @example const top = await recommendForUserGpu(gpu, params, ratings, 3, 10, side);
 */
export async function recommendForUserGpu(gpu: GpuKernels, p: RbmCfParams, known: Ratings, user: number, n: number, side?: CfSideInfo): Promise<{ item: number; expected: number }[]> {
  if (!(user >= 0 && user < known.nUsers)) throw new InvalidArgumentError(`recommendForUserGpu: user index ${user} outside [0, ${known.nUsers})`);
  checkSideInfo(p, side, known.nUsers, 'recommendForUserGpu');
  const g = groupByUser(known, p.levels);
  const F = p.nHidden, K = p.K, I = p.nItems;
  const a = new Float64Array(F), base = new Float64Array(F);
  conditioningInput(p, side, user, base);
  hiddenInput(p, g.item, g.level, a, g.start[user], g.start[user + 1], base);
  const bias = visibleBias(p, side);
  const temp: GpuTensor[] = [];
  const keep = <X extends GpuTensor>(x: X): X => { temp.push(x); return x; };
  let s: Float32Array;
  try {
    const W = keep(gpu.upload(Float32Array.from(p.W), [I * K, F]));
    const pre = keep(gpu.binary('add', W, keep(gpu.upload(Float32Array.from(a), [F]))));
    s = await keep(gpu.binary('add', keep(gpu.sumLast(keep(gpu.unary('softplus', pre)))), keep(gpu.upload(Float32Array.from(bias), [I * K])))).read();
  } finally {
    for (const x of temp) x.dispose();
  }
  const rated = new Set<number>();
  for (let q = g.start[user]; q < g.start[user + 1]; q++) rated.add(g.item[q]);
  const out: { item: number; expected: number }[] = [];
  for (let i = 0; i < I; i++) {
    if (rated.has(i)) continue;
    let mx = -Infinity;
    for (let k = 0; k < K; k++) mx = Math.max(mx, s[i * K + k]);
    let z = 0, e = 0;
    for (let k = 0; k < K; k++) { const w = Math.exp(s[i * K + k] - mx); z += w; e += w * p.levels[k]; }
    out.push({ item: i, expected: e / z });
  }
  out.sort((x, y) => y.expected - x.expected || x.item - y.item);
  return out.slice(0, n);
}
