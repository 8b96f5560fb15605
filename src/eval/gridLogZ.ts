/** Log-normaliser of a 2-D energy by grid quadrature, with an error estimate from grid refinement. */
import { Tensor, noGrad, ShapeError, DTypeError, type DType } from '../tensor/index.js';
import { eventShape, type Energy } from '../energy/index.js';
import { InvalidArgumentError } from '../errors.js';

/** Axis-aligned box `[[x0, x1], [y0, y1]]`. */
export type Box2 = readonly [readonly [number, number], readonly [number, number]];

/** Options of {@link gridLogZ}. */
export interface GridLogZOptions {
  /** Integration box. Give it, or `samples` to derive it. */
  readonly box?: Box2;
  /** Samples `[n, 2]` whose range (widened by `padding`) sets the box when `box` is not given. */
  readonly samples?: Tensor;
  /** Fraction of each sample range added on both sides (default 0.5). */
  readonly padding?: number;
  /** Points per axis on the fine grid (default 512; must be even, the coarse grid uses half). */
  readonly points?: number;
  /** Temperature: integrates `exp(−E/T)` (default 1). */
  readonly temperature?: number;
  /** Rows per energy evaluation (default 16384). */
  readonly batch?: number;
  /**
   * Element type of the grid points handed to the energy (default `float64`). Use `float32` for energies with
   * float32 parameters (e.g. neural energies); the sum over the grid is accumulated in float64 either way.
   */
  readonly dtype?: DType;
}

/** Result of {@link gridLogZ}. */
export interface GridLogZResult {
  /** `log ∫_box exp(−E(x)/T) dx` on the fine grid. */
  readonly logZ: number;
  /** `|logZ(points) − logZ(points/2)|`: the change on halving the grid, an upper-bound style error estimate. */
  readonly errorEstimate: number;
  /** The box used. */
  readonly box: Box2;
  /**
   * Largest `exp(−E/T)` on the box boundary relative to the largest inside: well below `exp(−20)` means the box holds
   * essentially all the mass; larger values mean the box truncates the density (logZ is then an underestimate).
   */
  readonly boundaryRatio: number;
  readonly points: number;
}

function logSumOnGrid(energy: Energy, box: Box2, m: number, T: number, batch: number, dtype: DType): { logZ: number; boundary: number; max: number } {
  const [[x0, x1], [y0, y1]] = box;
  const hx = (x1 - x0) / (m - 1);
  const hy = (y1 - y0) / (m - 1);
  const total = m * m;
  const logs = new Float64Array(total);
  for (let start = 0; start < total; start += batch) {
    const cnt = Math.min(batch, total - start);
    const pts = dtype === 'float32' ? new Float32Array(cnt * 2) : new Float64Array(cnt * 2);
    for (let r = 0; r < cnt; r++) {
      const idx = start + r;
      pts[2 * r] = x0 + hx * Math.floor(idx / m);
      pts[2 * r + 1] = y0 + hy * (idx % m);
    }
    const e = noGrad(() => energy.energy(new Tensor(pts, [cnt, 2])));
    if (e.size !== cnt) throw new ShapeError(`gridLogZ: energy returned shape [${e.shape}] for ${cnt} points`);
    for (let r = 0; r < cnt; r++) {
      const v = -e.data[r] / T;
      if (Number.isNaN(v)) throw new InvalidArgumentError(`gridLogZ: energy is NaN at (${pts[2 * r]}, ${pts[2 * r + 1]})`);
      logs[start + r] = v;
    }
  }
  // Trapezoid weights (½ on edges, ¼ at corners), summed stably in log space.
  let mx = -Infinity;
  let bmax = -Infinity;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const v = logs[i * m + j];
      if (v > mx) mx = v;
      if ((i === 0 || i === m - 1 || j === 0 || j === m - 1) && v > bmax) bmax = v;
    }
  }
  if (!Number.isFinite(mx)) throw new InvalidArgumentError('gridLogZ: exp(−E/T) is zero or infinite on the whole grid; check the box and the energy');
  let s = 0;
  for (let i = 0; i < m; i++) {
    const wi = i === 0 || i === m - 1 ? 0.5 : 1;
    for (let j = 0; j < m; j++) {
      const wj = j === 0 || j === m - 1 ? 0.5 : 1;
      s += wi * wj * Math.exp(logs[i * m + j] - mx);
    }
  }
  return { logZ: mx + Math.log(s * hx * hy), boundary: bmax, max: mx };
}

/**
 * `log Z = log ∫ exp(−E(x)/T) dx` for a 2-D energy by the trapezoid rule on a `points × points` grid (float64
 * points; the energy is evaluated in batches without autodiff). For smooth densities that vanish at the box edge
 * the trapezoid rule converges faster than any power of the spacing, so the difference to the half-resolution grid
 * is a conservative error estimate. The box is given or taken from samples (range ± `padding`·range).
 * @example gridLogZ(gmm08(2), { box: [[-12, 12], [-12, 12]] }).logZ // ≈ log 2π
 */
export function gridLogZ(energy: Energy, opts: GridLogZOptions = {}): GridLogZResult {
  const ev = eventShape(energy);
  if (ev.length !== 1 || ev[0] !== 2) throw new ShapeError(`gridLogZ: needs a 2-D energy (dim 2), got dim [${ev}]`);
  const points = opts.points ?? 512;
  if (!Number.isInteger(points) || points < 8 || points % 2 !== 0) throw new InvalidArgumentError(`gridLogZ: points must be an even integer ≥ 8, got ${points}`);
  const T = opts.temperature ?? 1;
  if (!(T > 0)) throw new InvalidArgumentError(`gridLogZ: temperature must be > 0, got ${T}`);
  let box: Box2;
  if (opts.box) box = opts.box;
  else if (opts.samples) {
    const s = opts.samples;
    if (s.ndim !== 2 || s.shape[1] !== 2 || s.shape[0] < 2) throw new ShapeError(`gridLogZ: samples must be [n ≥ 2, 2], got [${s.shape}]`);
    const lo = [Infinity, Infinity];
    const hi = [-Infinity, -Infinity];
    for (let i = 0; i < s.shape[0]; i++) {
      for (let k = 0; k < 2; k++) {
        const v = s.data[2 * i + k];
        if (!Number.isFinite(v)) throw new InvalidArgumentError(`gridLogZ: sample ${i} coordinate ${k} is not finite`);
        lo[k] = Math.min(lo[k], v);
        hi[k] = Math.max(hi[k], v);
      }
    }
    const pad = opts.padding ?? 0.5;
    box = [0, 1].map((k) => {
      const w = Math.max(hi[k] - lo[k], 1e-6);
      return [lo[k] - pad * w, hi[k] + pad * w] as const;
    }) as unknown as Box2;
  } else throw new InvalidArgumentError('gridLogZ: give a box or samples to derive one');
  for (const [a, b] of box) if (!(a < b) || !Number.isFinite(a) || !Number.isFinite(b)) throw new InvalidArgumentError(`gridLogZ: invalid box [${box.map((r) => `[${r}]`).join(', ')}]`);
  const batch = opts.batch ?? 16384;
  if (!Number.isInteger(batch) || batch < 1) throw new InvalidArgumentError(`gridLogZ: batch must be a positive integer, got ${batch}`);
  const dtype = opts.dtype ?? 'float64';
  let fine: ReturnType<typeof logSumOnGrid>;
  try {
    fine = logSumOnGrid(energy, box, points, T, batch, dtype);
  } catch (e) {
    if (e instanceof DTypeError) throw new DTypeError(`gridLogZ: ${e.message} — pass { dtype: '${dtype === 'float64' ? 'float32' : 'float64'}' } to match the energy`);
    throw e;
  }
  const coarse = logSumOnGrid(energy, box, points / 2, T, batch, dtype);
  return {
    logZ: fine.logZ,
    errorEstimate: Math.abs(fine.logZ - coarse.logZ),
    box,
    boundaryRatio: Math.exp(fine.boundary - fine.max),
    points,
  };
}
