/** ODE integrators on flat float64 states: Heun (fixed steps) and adaptive Dormand–Prince RK45. */

import { InvalidArgumentError } from '../errors.js';

/** Right-hand side `dy/dt = f(t, y)` on a flat float64 state. */
export type OdeFn = (t: number, y: Float64Array) => Float64Array;

/** Tolerances of the adaptive solver. */
export interface Rk45Tolerances {
  /** Relative tolerance (default 1e-5). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-5). */
  readonly atol?: number;
  /**
   * The state is `groups` equal contiguous blocks, each an independent system (e.g. one data row): the error norm is
   * the largest block RMS, so one system's error is not diluted by the others' (with one RMS over a state of 10⁵
   * components, a few unstable components of one row pass the test and can grow without bound). Default 1.
   */
  readonly groups?: number;
}

/** One attempted Dormand–Prince step: the 5th-order solution and the scaled error norm (accept when ≤ 1). */
export interface Rk45Attempt {
  readonly y: Float64Array;
  readonly errNorm: number;
}

// Dormand–Prince 5(4) tableau.
const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1];
const A = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
];
const B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];
const B4 = [5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40];

/**
 * One Dormand–Prince 5(4) step from `(t, y)` with step `h` (may be negative): 7 evaluations of `f` (no FSAL reuse).
 * The error norm is the RMS over components of `(y₅ − y₄)/(atol + rtol·max(|y|, |y₅|))` (with `groups`, the largest
 * RMS over the blocks).
 */
export function rk45Attempt(f: OdeFn, t: number, y: Float64Array, h: number, tol: Rk45Tolerances = {}): Rk45Attempt {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-5;
  const m = y.length;
  const k: Float64Array[] = [];
  const tmp = new Float64Array(m);
  for (let s = 0; s < 6; s++) {
    tmp.set(y);
    for (let j = 0; j < s; j++) {
      const a = A[s][j] * h;
      if (a !== 0) for (let i = 0; i < m; i++) tmp[i] += a * k[j][i];
    }
    k.push(checkFinite(f(t + C[s] * h, s === 0 ? y : Float64Array.from(tmp)), m));
  }
  const y5 = new Float64Array(y);
  for (let j = 0; j < 6; j++) {
    const b = B5[j] * h;
    if (b !== 0) for (let i = 0; i < m; i++) y5[i] += b * k[j][i];
  }
  const k7 = checkFinite(f(t + h, y5), m);
  const G = tol.groups ?? 1;
  if (!Number.isSafeInteger(G) || G < 1 || m % G !== 0) throw new InvalidArgumentError(`rk45: groups must be a positive integer dividing the state size ${m}, got ${G}`);
  const per = m / G;
  let worst = 0;
  for (let g = 0; g < G; g++) {
    let acc = 0;
    for (let i = g * per; i < (g + 1) * per; i++) {
      let e = 0;
      for (let j = 0; j < 6; j++) e += (B5[j] - B4[j]) * k[j][i];
      e = (e + (B5[6] - B4[6]) * k7[i]) * h;
      const sc = atol + rtol * Math.max(Math.abs(y[i]), Math.abs(y5[i]));
      acc += (e / sc) ** 2;
    }
    worst = Math.max(worst, acc / Math.max(1, per));
  }
  return { y: y5, errNorm: Math.sqrt(worst) };
}

function checkFinite(v: Float64Array, m: number): Float64Array {
  if (v.length !== m) throw new InvalidArgumentError(`ODE right-hand side returned ${v.length} values for a state of ${m}`);
  for (let i = 0; i < m; i++) if (!Number.isFinite(v[i])) throw new InvalidArgumentError(`ODE right-hand side is non-finite at component ${i} (${v[i]})`);
  return v;
}

/** Step-size factor after an attempt with error norm `e` (safety 0.9, clipped to [0.2, 5]). */
export function rk45Factor(e: number): number {
  if (e === 0) return 5;
  return Math.min(5, Math.max(0.2, 0.9 * Math.pow(e, -0.2)));
}

/** One Heun (explicit trapezoid) step: `y + h/2 (f(t, y) + f(t + h, y + h f(t, y)))`. */
export function heunStep(f: OdeFn, t: number, y: Float64Array, h: number): Float64Array {
  const m = y.length;
  const k1 = checkFinite(f(t, y), m);
  const y1 = new Float64Array(m);
  for (let i = 0; i < m; i++) y1[i] = y[i] + h * k1[i];
  const k2 = checkFinite(f(t + h, y1), m);
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) out[i] = y[i] + 0.5 * h * (k1[i] + k2[i]);
  return out;
}

/** Options of {@link integrate}. */
export interface IntegrateOptions extends Rk45Tolerances {
  /** `'rk45'` (adaptive, default) or `'heun'` (fixed steps). */
  readonly method?: 'rk45' | 'heun';
  /** Steps for Heun (default 100). */
  readonly steps?: number;
  /** Cap on accepted + rejected RK45 steps (default 10 000); exceeding it throws. */
  readonly maxSteps?: number;
}

/** Result of {@link integrate}. */
export interface IntegrateResult {
  readonly y: Float64Array;
  /** Evaluations of `f`. */
  readonly nfe: number;
  /** Accepted steps. */
  readonly steps: number;
}

/**
 * Integrates `dy/dt = f(t, y)` from `t0` to `t1` (either direction).
 * @example integrate((t, y) => y.map((v) => -v), Float64Array.of(1), 0, 1).y[0] // ≈ e⁻¹
 */
export function integrate(f: OdeFn, y0: Float64Array, t0: number, t1: number, opts: IntegrateOptions = {}): IntegrateResult {
  const method = opts.method ?? 'rk45';
  let nfe = 0;
  const g: OdeFn = (t, y) => {
    nfe++;
    return f(t, y);
  };
  if (method === 'heun') {
    const N = opts.steps ?? 100;
    if (!Number.isInteger(N) || N < 1) throw new InvalidArgumentError(`integrate: steps must be a positive integer, got ${N}`);
    let y = y0;
    const h = (t1 - t0) / N;
    for (let i = 0; i < N; i++) y = heunStep(g, t0 + i * h, y, h);
    return { y, nfe, steps: N };
  }
  if (method !== 'rk45') throw new InvalidArgumentError(`integrate: method must be 'rk45' or 'heun', got '${String(method)}'`);
  const maxSteps = opts.maxSteps ?? 10_000;
  const dir = Math.sign(t1 - t0);
  let h = (t1 - t0) / 100;
  let t = t0;
  let y = y0;
  let steps = 0;
  let attempts = 0;
  while (dir * (t1 - t) > 1e-12 * Math.max(1, Math.abs(t1))) {
    if (dir * (t + h - t1) > 0) h = t1 - t;
    if (++attempts > maxSteps) throw new InvalidArgumentError(`integrate: RK45 needed more than ${maxSteps} steps (t = ${t}); loosen rtol/atol or raise maxSteps`);
    const a = rk45Attempt(g, t, y, h, opts);
    if (a.errNorm <= 1) {
      t += h;
      y = a.y;
      steps++;
    }
    h *= rk45Factor(a.errNorm);
  }
  return { y, nfe, steps };
}
