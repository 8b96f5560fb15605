/**
 * Discrete pairwise energies (Potts/Ising models, i.e. pairwise Markov random fields) over `n` variables with `K`
 * states each:
 *
 *   E(x) = Σ_i θ_i(x_i) + Σ_{(i,j) ∈ edges} θ_ij(x_i, x_j),      p(x) ∝ exp(−E(x) / T).
 *
 * Unary terms `θ_i(k)` may be `+Infinity` (state `k` forbidden for variable `i`: a hard constraint, e.g. a Sudoku
 * given); pairwise tables must be finite. The Ising model is the `K = 2` case with spins `s = 2x − 1 ∈ {−1, +1}`:
 * `E(s) = −Σ_(ij) J_ij s_i s_j − Σ_i h_i s_i`.
 * @module
 */

import { InvalidArgumentError } from '../errors.js';

/** One pairwise factor. Give either a full `K×K` table (`table[a·K + b] = θ_ij(a, b)`) or a Potts weight. */
export interface PairwiseFactor {
  /** First variable. */
  i: number;
  /** Second variable (≠ i). */
  j: number;
  /** `θ_ij(a, b)` row-major `[K, K]` (a = state of i, b = state of j). */
  table?: ArrayLike<number>;
  /** Potts weight `w`: `θ_ij(a, b) = w·[a = b]` (w < 0 favours agreement, w > 0 penalises it). */
  potts?: number;
}

/**
 * A pairwise discrete energy, stored flat for fast local updates. Build it with {@link createMRF} or
 * {@link isingModel}; treat it as immutable.
 */
export interface DiscreteMRF {
  /** Number of variables. */
  readonly n: number;
  /** States per variable. */
  readonly K: number;
  /** `θ_i(k)` at `[i·K + k]`, length `n·K`; `+Infinity` forbids a state. */
  readonly unary: Float64Array;
  /** Edge endpoints, length `m`. */
  readonly edgeI: Int32Array;
  readonly edgeJ: Int32Array;
  /** Pairwise tables, `[m, K, K]` flat: `pair[(e·K + a)·K + b] = θ_e(x_i = a, x_j = b)`. */
  readonly pair: Float64Array;
  /** Adjacency in CSR form: the edges touching variable `i` are `adjEdge[adjStart[i] … adjStart[i+1])`. */
  readonly adjStart: Int32Array;
  readonly adjEdge: Int32Array;
  /** The neighbour across each adjacency entry. */
  readonly adjOther: Int32Array;
  /** 1 when the variable is the edge's first endpoint `i` (table indexed `[x_i, x_other]`), 0 when it is `j`. */
  readonly adjIsFirst: Uint8Array;
}

/** Options of {@link createMRF}. */
export interface CreateMRFOptions {
  /** Number of variables `n ≥ 1`. */
  nVars: number;
  /** States per variable `K ≥ 2`. */
  states: number;
  /** Unary energies `[n·K]` (default 0); entries may be `+Infinity`. */
  unary?: ArrayLike<number>;
  /** Pairwise factors. */
  edges?: readonly PairwiseFactor[];
}

/**
 * Builds a {@link DiscreteMRF}, validating indices, table sizes and values.
 * @example
 * // a 3-cycle of 3-colourings: E counts monochrome edges
 * const m = createMRF({ nVars: 3, states: 3, edges: [{ i: 0, j: 1, potts: 1 }, { i: 1, j: 2, potts: 1 }, { i: 0, j: 2, potts: 1 }] });
 * mrfEnergy(m, [0, 1, 2]) // 0
 */
export function createMRF(opts: CreateMRFOptions): DiscreteMRF {
  const fn = 'createMRF';
  const { nVars: n, states: K } = opts;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${fn}: nVars must be a positive integer, got ${n}`);
  if (!Number.isInteger(K) || K < 2) throw new InvalidArgumentError(`${fn}: states must be an integer ≥ 2, got ${K}`);
  const unary = new Float64Array(n * K);
  if (opts.unary) {
    if (opts.unary.length !== n * K) throw new InvalidArgumentError(`${fn}: unary has ${opts.unary.length} entries, expected nVars·states = ${n * K}`);
    for (let q = 0; q < n * K; q++) {
      const v = opts.unary[q];
      if (Number.isNaN(v) || v === -Infinity) throw new InvalidArgumentError(`${fn}: unary[${q}] (variable ${Math.floor(q / K)}, state ${q % K}) is ${v}; use finite values or +Infinity`);
      unary[q] = v;
    }
  }
  const edges = opts.edges ?? [];
  const m = edges.length;
  const edgeI = new Int32Array(m), edgeJ = new Int32Array(m), pair = new Float64Array(m * K * K);
  const deg = new Int32Array(n);
  for (let e = 0; e < m; e++) {
    const f = edges[e];
    if (!Number.isInteger(f.i) || !Number.isInteger(f.j) || f.i < 0 || f.j < 0 || f.i >= n || f.j >= n) {
      throw new InvalidArgumentError(`${fn}: edge ${e} joins (${f.i}, ${f.j}); variables must be integers in [0, ${n})`);
    }
    if (f.i === f.j) throw new InvalidArgumentError(`${fn}: edge ${e} joins variable ${f.i} to itself`);
    edgeI[e] = f.i;
    edgeJ[e] = f.j;
    deg[f.i]++;
    deg[f.j]++;
    const o = e * K * K;
    if (f.table !== undefined) {
      if (f.potts !== undefined) throw new InvalidArgumentError(`${fn}: edge ${e} gives both table and potts`);
      if (f.table.length !== K * K) throw new InvalidArgumentError(`${fn}: edge ${e} table has ${f.table.length} entries, expected K·K = ${K * K}`);
      for (let q = 0; q < K * K; q++) {
        const v = f.table[q];
        if (!Number.isFinite(v)) throw new InvalidArgumentError(`${fn}: edge ${e} table[${q}] is ${v}, not finite`);
        pair[o + q] = v;
      }
    } else if (f.potts !== undefined) {
      if (!Number.isFinite(f.potts)) throw new InvalidArgumentError(`${fn}: edge ${e} potts weight is ${f.potts}, not finite`);
      for (let a = 0; a < K; a++) pair[o + a * K + a] = f.potts;
    } else {
      throw new InvalidArgumentError(`${fn}: edge ${e} needs a table or a potts weight`);
    }
  }
  const adjStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) adjStart[i + 1] = adjStart[i] + deg[i];
  const fill = adjStart.slice(0, n);
  const adjEdge = new Int32Array(2 * m), adjOther = new Int32Array(2 * m), adjIsFirst = new Uint8Array(2 * m);
  for (let e = 0; e < m; e++) {
    let p = fill[edgeI[e]]++;
    adjEdge[p] = e; adjOther[p] = edgeJ[e]; adjIsFirst[p] = 1;
    p = fill[edgeJ[e]]++;
    adjEdge[p] = e; adjOther[p] = edgeI[e]; adjIsFirst[p] = 0;
  }
  return { n, K, unary, edgeI, edgeJ, pair, adjStart, adjEdge, adjOther, adjIsFirst };
}

/** An Ising coupling between spins `i` and `j`: contributes `−J s_i s_j`. */
export interface IsingCoupling {
  i: number;
  j: number;
  J: number;
}

/**
 * The Ising energy `E(s) = −Σ_(ij) J_ij s_i s_j − Σ_i h_i s_i` over spins `s_i ∈ {−1, +1}`, as a `K = 2`
 * {@link DiscreteMRF} whose state `x_i ∈ {0, 1}` encodes `s_i = 2x_i − 1`.
 * @param n number of spins. @param couplings the `J_ij`. @param h external fields `[n]` (default 0).
 * @example const m = isingModel(2, [{ i: 0, j: 1, J: 1 }]); mrfEnergy(m, [1, 1]) // −1
 */
export function isingModel(n: number, couplings: readonly IsingCoupling[], h?: ArrayLike<number>): DiscreteMRF {
  if (h !== undefined && h.length !== n) throw new InvalidArgumentError(`isingModel: h has ${h.length} entries, expected ${n}`);
  const unary = new Float64Array(2 * n);
  if (h) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(h[i])) throw new InvalidArgumentError(`isingModel: h[${i}] is ${h[i]}, not finite`);
      unary[2 * i] = h[i];
      unary[2 * i + 1] = -h[i];
    }
  }
  const edges = couplings.map((c, e) => {
    if (!Number.isFinite(c.J)) throw new InvalidArgumentError(`isingModel: coupling ${e} has J = ${c.J}, not finite`);
    return { i: c.i, j: c.j, table: [-c.J, c.J, c.J, -c.J] };
  });
  return createMRF({ nVars: n, states: 2, unary, edges });
}

/** Checks a configuration: length `n`, integer states in `[0, K)`. Returns it as an Int32Array (a copy). */
export function checkConfig(m: DiscreteMRF, x: ArrayLike<number>, fn: string): Int32Array {
  if (!x || x.length !== m.n) throw new InvalidArgumentError(`${fn}: configuration has ${x?.length} entries, expected ${m.n}`);
  const out = new Int32Array(m.n);
  for (let i = 0; i < m.n; i++) {
    const v = x[i];
    if (!Number.isInteger(v) || v < 0 || v >= m.K) throw new InvalidArgumentError(`${fn}: x[${i}] is ${v}, expected an integer state in [0, ${m.K})`);
    out[i] = v;
  }
  return out;
}

/**
 * The energy `E(x) = Σ_i θ_i(x_i) + Σ_e θ_e(x_i, x_j)` of a configuration (`+Infinity` if a forbidden state is used).
 * @param x `[n]` integer states.
 */
export function mrfEnergy(m: DiscreteMRF, x: ArrayLike<number>): number {
  const xs = checkConfig(m, x, 'mrfEnergy');
  return energyRaw(m, xs);
}

/** {@link mrfEnergy} without validation. */
export function energyRaw(m: DiscreteMRF, x: Int32Array): number {
  const K = m.K;
  let e = 0;
  for (let i = 0; i < m.n; i++) e += m.unary[i * K + x[i]];
  for (let q = 0; q < m.edgeI.length; q++) e += m.pair[(q * K + x[m.edgeI[q]]) * K + x[m.edgeJ[q]]];
  return e;
}

/**
 * Local energies of variable `i` given its neighbours: `out[k] = θ_i(k) + Σ_{e ∋ i} θ_e(k, x_other)`, so that
 * `E(x with x_i = k) − E(x with x_i = k') = out[k] − out[k']`. Writes `K` values into `out`.
 */
export function localEnergies(m: DiscreteMRF, x: Int32Array, i: number, out: Float64Array): void {
  const K = m.K, KK = K * K;
  for (let k = 0; k < K; k++) out[k] = m.unary[i * K + k];
  for (let p = m.adjStart[i]; p < m.adjStart[i + 1]; p++) {
    const e = m.adjEdge[p], xo = x[m.adjOther[p]];
    if (m.adjIsFirst[p]) { const o = e * KK + xo; for (let k = 0; k < K; k++) out[k] += m.pair[o + k * K]; }
    else { const o = e * KK + xo * K; for (let k = 0; k < K; k++) out[k] += m.pair[o + k]; }
  }
}

/**
 * Expected local energies under a factorised `q` (mean field): `out[k] = θ_i(k) + Σ_{e ∋ i} Σ_l q_other(l) θ_e(k, l)`.
 * @param q `[n·K]` marginals.
 */
export function localMeanEnergies(m: DiscreteMRF, q: Float64Array, i: number, out: Float64Array): void {
  const K = m.K, KK = K * K;
  for (let k = 0; k < K; k++) out[k] = m.unary[i * K + k];
  for (let p = m.adjStart[i]; p < m.adjStart[i + 1]; p++) {
    const e = m.adjEdge[p], jo = m.adjOther[p] * K;
    const first = m.adjIsFirst[p] === 1;
    for (let l = 0; l < K; l++) {
      const ql = q[jo + l];
      if (ql === 0) continue;
      if (first) { const o = e * KK + l; for (let k = 0; k < K; k++) out[k] += ql * m.pair[o + k * K]; }
      else { const o = e * KK + l * K; for (let k = 0; k < K; k++) out[k] += ql * m.pair[o + k]; }
    }
  }
}
