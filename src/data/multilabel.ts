/**
 * A generated multi-label data set with known label structure, for structured-prediction tests and benchmarks
 * (SPENs, `src/structured/spen.ts`): exclusive label groups whose choices are coupled along a chain.
 *
 * ## The generator (`multilabelChainTask`)
 * Inputs `x ~ N(0, I_D)`. The `L = G·K` labels form `G` groups of `K`; label `g·K + k` is on iff group `g` chose
 * class `k`, so **exactly one label per group is on** (an exclusion constraint). The classes `c_0 … c_{G−1}` are drawn
 * along a chain:
 *
 *   p(c_0 = k | x)                 = softmax_k( s·(xᵀU_0)_k )
 *   p(c_g = k | c_{g−1} = a, x)    = softmax_k( s·(xᵀU_g)_k + κ·[k = π_g(a)] ),   g = 1 … G−1
 *
 * with `U_g [D, K]` entries `N(0, 1/D)` (so each logit `s·(xᵀU_g)_k` is `N(0, s²)` marginally), `π_g` a random
 * permutation of the `K` classes (the "rule": group `g` tends to pick the partner `π_g(c_{g−1})` of the previous
 * group's class), scale `s` and coupling `κ`. `U_g`, `π_g` are fixed by the task key; samples use their own keys.
 *
 * Why independent per-label classifiers are at a disadvantage: the exact marginal `p(y_{gk} = 1 | x) = p(c_g = k | x)`
 * sums to 1 over a group, so thresholding marginals at ½ turns on at most one label per group and none at all
 * whenever the group is uncertain (max marginal < ½), losing recall; and the cross-group coupling means the jointly
 * most probable labelling differs from the per-group best guesses. Both are properties of the *true* posterior, so
 * the gap holds for any classifier that only models marginals: {@link MultilabelChainTask.marginals} (exact, by the
 * forward recursion `α_g = α_{g−1} T_g(x)`) and {@link MultilabelChainTask.mapLabels} (exact joint MAP, Viterbi)
 * give the Bayes references.
 * @example
 * const task = multilabelChainTask(key(0));              // D = 10, G = 4, K = 6 → L = 24
 * const { x, y } = task.sample(key(1), 1000);             // x [1000, 10], y [1000, 24] ∈ {0, 1}
 * const oracle = task.mapLabels(x);                       // [1000, 24], the Bayes joint MAP
 * @module
 */
import { Tensor, ShapeError, allocate, type DType } from '../tensor/tensor.js';
import { foldIn, normalArray, permutation, uniformArray, type Key } from '../random/index.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link multilabelChainTask}. */
export interface MultilabelChainOptions {
  /** Input dimension `D` (default 10). */
  readonly dim?: number;
  /** Number of exclusive groups `G` (default 4). */
  readonly groups?: number;
  /** Labels per group `K` (default 6, at least 2). */
  readonly classes?: number;
  /** Logit scale `s` (default 2): larger is less noisy. */
  readonly scale?: number;
  /** Chain coupling `κ ≥ 0` (default 2): logit bonus for the partner `π_g(c_{g−1})` of the previous class. */
  readonly coupling?: number;
}

/** A sample: inputs and 0/1 label vectors. */
export interface MultilabelSample {
  /** Inputs `[n, D]`. */
  readonly x: Tensor;
  /** Labels `[n, L]` with entries 0 or 1, exactly one 1 per group. */
  readonly y: Tensor;
  /** The group classes `c_g` of each row, `[n·G]` row-major. */
  readonly classes: Int32Array;
}

/** A multi-label task with exact posterior references; see the module documentation for the generator. */
export interface MultilabelChainTask {
  /** Input dimension `D`. */
  readonly dim: number;
  /** Number of groups `G`. */
  readonly groups: number;
  /** Labels per group `K`. */
  readonly classes: number;
  /** Number of labels `L = G·K`. */
  readonly numLabels: number;
  /** Logit scale `s`. */
  readonly scale: number;
  /** Chain coupling `κ`. */
  readonly coupling: number;
  /** Projections `U_g`, flattened `[G, D, K]` (float64). */
  readonly projections: Float64Array;
  /** Partner permutations `π_g`, flattened `[G, K]` (row 0 is unused and is the identity). */
  readonly partners: Int32Array;
  /** A one-line description with the parameters. */
  readonly description: string;
  /**
   * Draws `n` examples.
   * @param k the random key. @param n number of rows. @param dtype of `x` and `y` (default `float32`).
   */
  sample(k: Key, n: number, dtype?: DType): MultilabelSample;
  /** Exact marginals `p(y_l = 1 | x)` of each row of `x [n, D]`: `[n, L]` float64 (each group sums to 1). */
  marginals(x: Tensor): Tensor;
  /** Exact joint MAP labelling `argmax_c p(c | x)` (Viterbi) of each row of `x [n, D]`: `[n, L]` 0/1 float32. */
  mapLabels(x: Tensor): Tensor;
}

function posInt(v: number, what: string, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(`multilabelChainTask: ${what} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/**
 * Builds the chain-structured exclusive-groups multi-label task (see the module documentation for the maths).
 * @param k key fixing the projections `U_g` and partner permutations `π_g`.
 * @example const task = multilabelChainTask(key(0), { groups: 4, classes: 6, scale: 2, coupling: 2 });
 */
export function multilabelChainTask(k: Key, opts: MultilabelChainOptions = {}): MultilabelChainTask {
  const D = posInt(opts.dim ?? 10, 'dim', 1);
  const G = posInt(opts.groups ?? 4, 'groups', 1);
  const K = posInt(opts.classes ?? 6, 'classes', 2);
  const s = opts.scale ?? 2;
  const kappa = opts.coupling ?? 2;
  if (!Number.isFinite(s) || s < 0) throw new InvalidArgumentError(`multilabelChainTask: scale must be finite and ≥ 0, got ${s}`);
  if (!Number.isFinite(kappa) || kappa < 0) throw new InvalidArgumentError(`multilabelChainTask: coupling must be finite and ≥ 0, got ${kappa}`);
  const L = G * K;
  const U = normalArray(foldIn(k, 1), G * D * K, 'float64');
  const sd = 1 / Math.sqrt(D);
  for (let i = 0; i < U.length; i++) U[i] *= sd;
  const partners = new Int32Array(G * K);
  for (let c = 0; c < K; c++) partners[c] = c;
  for (let g = 1; g < G; g++) partners.set(permutation(foldIn(foldIn(k, 2), g), K), g * K);

  /** Unnormalised logits `s·xᵀU_g` for row `r` into `out [G·K]`. */
  const logits = (xd: ArrayLike<number>, r: number, out: Float64Array): void => {
    for (let g = 0; g < G; g++) {
      for (let c = 0; c < K; c++) {
        let acc = 0;
        for (let d = 0; d < D; d++) acc += xd[r * D + d] * U[(g * D + d) * K + c];
        out[g * K + c] = s * acc;
      }
    }
  };
  /** Row-normalised transition `T[a, b] = p(c_g = b | c_{g−1} = a)` (or the prior row for g = 0 in T[0, ·]) as log-probs. */
  const logTransition = (lg: Float64Array, g: number, out: Float64Array): void => {
    const rows = g === 0 ? 1 : K;
    for (let a = 0; a < rows; a++) {
      let m = -Infinity;
      for (let b = 0; b < K; b++) {
        const v = lg[g * K + b] + (g > 0 && partners[g * K + a] === b ? kappa : 0);
        out[a * K + b] = v;
        if (v > m) m = v;
      }
      let z = 0;
      for (let b = 0; b < K; b++) z += Math.exp(out[a * K + b] - m);
      const lz = m + Math.log(z);
      for (let b = 0; b < K; b++) out[a * K + b] -= lz;
    }
  };
  const checkX = (x: Tensor, fn: string): number => {
    if (!(x instanceof Tensor) || x.ndim !== 2 || x.shape[1] !== D) {
      throw new ShapeError(`${fn}: x must be [n, ${D}], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
    }
    const d = x.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i])) throw new InvalidArgumentError(`${fn}: x at row ${Math.floor(i / D)}, column ${i % D} is ${d[i]}`);
    }
    return x.shape[0];
  };

  return {
    dim: D, groups: G, classes: K, numLabels: L, scale: s, coupling: kappa, projections: U, partners,
    description: `exclusive-groups chain task: D = ${D}, G = ${G} groups × K = ${K} labels (L = ${L}), scale s = ${s}, coupling κ = ${kappa}`,
    sample(sk: Key, n: number, dtype: DType = 'float32'): MultilabelSample {
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`multilabelChainTask.sample: n must be an integer ≥ 0, got ${n}`);
      const xd = normalArray(foldIn(sk, 1), n * D, 'float64');
      const u = uniformArray(foldIn(sk, 2), n * G, 'float64');
      const x = allocate(dtype, n * D);
      x.set(xd);
      const y = allocate(dtype, n * L);
      const cls = new Int32Array(n * G);
      const lg = new Float64Array(L);
      const lt = new Float64Array(K * K);
      for (let r = 0; r < n; r++) {
        logits(x, r, lg); // from the stored (possibly float32-rounded) inputs, so that marginals(x) is exact for them
        let prev = 0;
        for (let g = 0; g < G; g++) {
          logTransition(lg, g, lt);
          const row = g === 0 ? 0 : prev;
          let c = K - 1;
          let cum = 0;
          for (let b = 0; b < K; b++) {
            cum += Math.exp(lt[row * K + b]);
            if (u[r * G + g] < cum) { c = b; break; }
          }
          cls[r * G + g] = c;
          y[r * L + g * K + c] = 1;
          prev = c;
        }
      }
      return { x: new Tensor(x, [n, D]), y: new Tensor(y, [n, L]), classes: cls };
    },
    marginals(x: Tensor): Tensor {
      const n = checkX(x, 'multilabelChainTask.marginals');
      const out = new Float64Array(n * L);
      const lg = new Float64Array(L);
      const lt = new Float64Array(K * K);
      const alpha = new Float64Array(K);
      const next = new Float64Array(K);
      for (let r = 0; r < n; r++) {
        logits(x.data, r, lg);
        for (let g = 0; g < G; g++) {
          logTransition(lg, g, lt);
          if (g === 0) for (let b = 0; b < K; b++) next[b] = Math.exp(lt[b]);
          else {
            next.fill(0);
            for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) next[b] += alpha[a] * Math.exp(lt[a * K + b]);
          }
          alpha.set(next);
          for (let b = 0; b < K; b++) out[r * L + g * K + b] = alpha[b];
        }
      }
      return new Tensor(out, [n, L]);
    },
    mapLabels(x: Tensor): Tensor {
      const n = checkX(x, 'multilabelChainTask.mapLabels');
      const out = new Float32Array(n * L);
      const lg = new Float64Array(L);
      const lt = new Float64Array(K * K);
      const delta = new Float64Array(K);
      const next = new Float64Array(K);
      const back = new Int32Array(G * K);
      for (let r = 0; r < n; r++) {
        logits(x.data, r, lg);
        for (let g = 0; g < G; g++) {
          logTransition(lg, g, lt);
          if (g === 0) for (let b = 0; b < K; b++) next[b] = lt[b];
          else {
            for (let b = 0; b < K; b++) {
              let best = -Infinity;
              let arg = 0;
              for (let a = 0; a < K; a++) {
                const v = delta[a] + lt[a * K + b];
                if (v > best) { best = v; arg = a; }
              }
              next[b] = best;
              back[g * K + b] = arg;
            }
          }
          delta.set(next);
        }
        let c = 0;
        for (let b = 1; b < K; b++) if (delta[b] > delta[c]) c = b;
        for (let g = G - 1; g >= 0; g--) {
          out[r * L + g * K + c] = 1;
          if (g > 0) c = back[g * K + c];
        }
      }
      return new Tensor(out, [n, L]);
    },
  };
}
