/** Brute-force helpers for RBM tests: enumerate joint configurations of tiny models in float64. */
import type { RBMParams } from '../../src/models/rbm/index.js';

/** All binary vectors of length n, as arrays (bit i of the index is entry i). */
export function allBinary(n: number): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < 2 ** n; s++) out.push(Array.from({ length: n }, (_, i) => (Math.floor(s / 2 ** i) % 2)));
  return out;
}

/** All one-hot configurations of G groups with K states. */
export function allOneHot(G: number, K: number): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < K ** G; s++) {
    const v = new Array(G * K).fill(0);
    let x = s;
    for (let g = 0; g < G; g++) { v[g * K + (x % K)] = 1; x = Math.floor(x / K); }
    out.push(v);
  }
  return out;
}

/** −E(v, h) for Bernoulli/softmax RBMs, straight from the definition. */
export function negEnergy(p: RBMParams, v: number[], h: number[]): number {
  const [nv, nh] = p.W.shape;
  let e = 0;
  for (let i = 0; i < nv; i++) e += p.b.data[i] * v[i];
  for (let j = 0; j < nh; j++) e += p.c.data[j] * h[j];
  for (let i = 0; i < nv; i++) for (let j = 0; j < nh; j++) e += v[i] * p.W.data[i * nh + j] * h[j];
  return e;
}

/** log-sum-exp of an array. */
export function lse(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.exp(a[i] - m);
  return m + Math.log(s);
}

/** Exact log Z by enumerating the joint (v, h) of a Bernoulli RBM (or softmax with one-hot visible configs). */
export function bruteLogZ(p: RBMParams, visibles: number[][]): number {
  const hs = allBinary(p.W.shape[1]);
  const terms: number[] = [];
  for (const v of visibles) for (const h of hs) terms.push(negEnergy(p, v, h));
  return lse(terms);
}

/** Exact log p(v) for each listed visible configuration by brute force over h. */
export function bruteLogPv(p: RBMParams, visibles: number[][]): number[] {
  const hs = allBinary(p.W.shape[1]);
  const logZ = bruteLogZ(p, visibles);
  return visibles.map((v) => lse(hs.map((h) => negEnergy(p, v, h))) - logZ);
}
