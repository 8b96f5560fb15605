/**
 * Quality harness for 2-D density models whose true density is known (toy mixtures, 8 gaussians, rings):
 * test NLL of the model with `log Z` by grid quadrature next to the true density's NLL on the same points, MMD
 * between model samples and held-out data, and mode coverage with recovered mode weights.
 * @module
 */
import { Tensor, noGrad, ShapeError } from '../tensor/index.js';
import type { Energy } from '../energy/index.js';
import { gridLogZ, type Box2 } from './gridLogZ.js';
import { mmd } from './mmd.js';
import { InvalidArgumentError } from '../errors.js';

/** The modes of a 2-D toy density, for coverage and weight recovery. */
export type ModeSpec =
  /** Isotropic blobs at `centers` with std `sigma` and mixture `weights`. */
  | { readonly kind: 'points'; readonly centers: readonly (readonly [number, number])[]; readonly weights: readonly number[]; readonly sigma: number }
  /** Concentric rings of radii `radii`, radial std `sigma`, mixture `weights`. */
  | { readonly kind: 'rings'; readonly radii: readonly number[]; readonly weights: readonly number[]; readonly sigma: number };

/**
 * The modes of the built-in toy sets with known structure (`8gaussians`, `gmm-0.8-0.2`, `rings` with their default
 * parameters), or `null`.
 * @example toyModes('8gaussians')!.centers.length // 8
 */
export function toyModes(name: string): ModeSpec | null {
  const n = name.replace(/^toy:/, '');
  if (n === '8gaussians') {
    const centers = Array.from({ length: 8 }, (_, k) => [2 * Math.cos((k * Math.PI) / 4), 2 * Math.sin((k * Math.PI) / 4)] as const);
    return { kind: 'points', centers, weights: new Array(8).fill(1 / 8), sigma: 0.2 };
  }
  if (n === 'gmm-0.8-0.2') return { kind: 'points', centers: [[5, 5], [-5, -5]], weights: [0.8, 0.2], sigma: 1 };
  if (n === 'rings') return { kind: 'rings', radii: [0.75, 1.5, 2.25, 3], weights: [0.25, 0.25, 0.25, 0.25], sigma: 0.08 };
  return null;
}

/** Index of the mode a point belongs to (nearest centre / nearest ring) and its distance in units of σ. */
function assign(m: ModeSpec, x: number, y: number): [number, number] {
  let best = -1, bd = Infinity;
  if (m.kind === 'points') {
    m.centers.forEach(([cx, cy], k) => {
      const d = Math.hypot(x - cx, y - cy);
      if (d < bd) { bd = d; best = k; }
    });
  } else {
    const r = Math.hypot(x, y);
    m.radii.forEach((rk, k) => {
      const d = Math.abs(r - rk);
      if (d < bd) { bd = d; best = k; }
    });
  }
  return [best, bd / m.sigma];
}

/** Options of {@link evaluate2d}. */
export interface Harness2dOptions {
  /** The model energy on `[n, 2]`; its density is `exp(−E)/Z`. */
  readonly energy: Energy;
  /** Test points `[n, 2]` (not used for training). */
  readonly test: Tensor;
  /** True log density of the data distribution, per row. */
  readonly trueLogDensity: (x: Tensor) => Float64Array;
  /** Quadrature box (it should hold essentially all of the model's mass: check `boundaryRatio`). */
  readonly box: Box2;
  /** Grid points per axis (even, default 512; the half grid gives the error estimate). */
  readonly points?: number;
  /** Model samples `[m, 2]` for MMD and sample-based mode coverage. */
  readonly samples?: Tensor;
  /** Held-out data for MMD (default: `test`, at most 2000 rows used). */
  readonly heldOut?: Tensor;
  /** RBF bandwidths of the MMD (default `[0.1, 0.2, 0.5, 1, 2]`). */
  readonly bandwidths?: readonly number[];
  /** Modes for coverage and weights. */
  readonly modes?: ModeSpec | null;
  /** A sample is "in" its nearest mode when within this many σ (default 3). */
  readonly modeRadius?: number;
}

/** Mode statistics of {@link Harness2dReport}. */
export interface ModeReport {
  /** True mode weights. */
  readonly trueWeights: number[];
  /** Model mass assigned to each mode (grid quadrature, every cell to its nearest mode). */
  readonly modelWeights: number[];
  /** Fraction of model samples within `modeRadius`·σ of each mode (relative to all samples), when samples are given. */
  readonly sampleWeights: number[] | null;
  /** Modes holding at least a quarter of their expected share of samples. */
  readonly covered: number | null;
  readonly total: number;
  /** `max_k |modelWeights_k − trueWeights_k|`. */
  readonly maxWeightError: number;
  /** Fraction of samples farther than `modeRadius`·σ from every mode. */
  readonly offModeFraction: number | null;
}

/** Result of {@link evaluate2d}. */
export interface Harness2dReport {
  /** `−mean log q(x)` with `log q = −E − log Z`. */
  readonly modelNll: number;
  /** `−mean log p(x)` under the true density (≈ its differential entropy). */
  readonly trueNll: number;
  /** `modelNll − trueNll` (an estimate of KL(p‖q) ≥ 0 up to noise). */
  readonly nllGap: number;
  /** Standard error of `nllGap` (per-point differences). */
  readonly nllGapStdErr: number;
  readonly logZ: number;
  /** Change of log Z on halving the grid. */
  readonly logZError: number;
  /** Largest density on the box edge relative to the maximum (≪ e⁻²⁰ means no mass is lost). */
  readonly boundaryRatio: number;
  readonly testPoints: number;
  /** Unbiased MMD² between samples and held-out data (null without samples). */
  readonly mmd: number | null;
  readonly modes: ModeReport | null;
}

function rows(t: Tensor, max: number): Tensor {
  if (t.shape[0] <= max) return t;
  return new Tensor(t.data.slice(0, max * 2), [max, 2]);
}

/**
 * Evaluates a 2-D energy model against a known density (see the module doc).
 * @example
 * const rep = evaluate2d({ energy: E, test, trueLogDensity: (x) => toy.logDensity!(x), box: [[-4, 4], [-4, 4]], samples });
 * rep.nllGap // ≈ KL(p‖q)
 */
export function evaluate2d(o: Harness2dOptions): Harness2dReport {
  const { test } = o;
  if (test.ndim !== 2 || test.shape[1] !== 2 || test.shape[0] < 2) throw new ShapeError(`evaluate2d: test must be [n ≥ 2, 2], got [${test.shape.join(', ')}]`);
  const n = test.shape[0];
  const z = gridLogZ(o.energy, { box: o.box, points: o.points ?? 512 });
  const e = noGrad(() => o.energy.energy(test));
  const lp = o.trueLogDensity(test);
  let s = 0, s2 = 0, sm = 0, st = 0;
  for (let i = 0; i < n; i++) {
    const lq = -e.data[i] - z.logZ;
    if (Number.isNaN(lq)) throw new InvalidArgumentError(`evaluate2d: model log density is NaN at test row ${i}`);
    const d = lp[i] - lq;
    s += d;
    s2 += d * d;
    sm += lq;
    st += lp[i];
  }
  const gap = s / n;
  const se = Math.sqrt(Math.max(0, s2 / n - gap * gap) / (n - 1));

  let mmdV: number | null = null;
  if (o.samples) {
    const held = rows(o.heldOut ?? test, 2000);
    mmdV = mmd(rows(o.samples, 2000), held, o.bandwidths ?? [0.1, 0.2, 0.5, 1, 2]);
  }

  let modes: ModeReport | null = null;
  if (o.modes) {
    const m = o.modes;
    const K = m.weights.length;
    const wsum = m.weights.reduce((a, b) => a + b, 0);
    const trueWeights = m.weights.map((w) => w / wsum);
    // Model mass per mode on a 256² grid (midpoints).
    const G = 256;
    const [[x0, x1], [y0, y1]] = o.box;
    const hx = (x1 - x0) / G, hy = (y1 - y0) / G;
    const pts = new Float32Array(G * G * 2);
    for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) {
      pts[2 * (i * G + j)] = x0 + (i + 0.5) * hx;
      pts[2 * (i * G + j) + 1] = y0 + (j + 0.5) * hy;
    }
    const eg = noGrad(() => o.energy.energy(new Tensor(pts, [G * G, 2])));
    let mx = -Infinity;
    for (const v of eg.data) if (-v > mx) mx = -v;
    const mass = new Array(K).fill(0);
    let tot = 0;
    for (let c = 0; c < G * G; c++) {
      const w = Math.exp(-eg.data[c] - mx);
      const [k] = assign(m, pts[2 * c], pts[2 * c + 1]);
      mass[k] += w;
      tot += w;
    }
    const modelWeights = mass.map((v) => v / tot);
    let sampleWeights: number[] | null = null;
    let covered: number | null = null;
    let off: number | null = null;
    if (o.samples) {
      const r = o.modeRadius ?? 3;
      const cnt = new Array(K).fill(0);
      const ns = o.samples.shape[0];
      let out = 0;
      for (let i = 0; i < ns; i++) {
        const [k, d] = assign(m, o.samples.data[2 * i], o.samples.data[2 * i + 1]);
        if (d <= r) cnt[k]++;
        else out++;
      }
      sampleWeights = cnt.map((c) => c / ns);
      covered = cnt.filter((c, k) => c >= 0.25 * ns * trueWeights[k]).length;
      off = out / ns;
    }
    modes = {
      trueWeights, modelWeights, sampleWeights, covered, total: K,
      maxWeightError: Math.max(...modelWeights.map((w, k) => Math.abs(w - trueWeights[k]))),
      offModeFraction: off,
    };
  }
  return {
    modelNll: -sm / n, trueNll: -st / n, nllGap: gap, nllGapStdErr: se, logZ: z.logZ, logZError: z.errorEstimate,
    boundaryRatio: z.boundaryRatio, testPoints: n, mmd: mmdV, modes,
  };
}

/** A box `[[x0, x1], [y0, y1]]` from `[xmin, xmax, ymin, ymax]` widened by `pad`·size on every side. */
export function widenBox(b: readonly [number, number, number, number], pad = 0.25): Box2 {
  const wx = (b[1] - b[0]) * pad, wy = (b[3] - b[2]) * pad;
  return [[b[0] - wx, b[1] + wx], [b[2] - wy, b[3] + wy]];
}
