/**
 * PNG output for samples, densities and loss curves (via pngjs), and greyscale PNG input.
 * Images are drawn on an RGB canvas; non-finite values are never hidden: NaN pixels are drawn magenta.
 */
import type { PNG } from 'pngjs';
import { createRequire } from './nodeBuiltins.js';
import { inflateSync } from './nodeBuiltins.js';
import { ShapeError, Tensor } from '../tensor/tensor.js';
import { DataError, ioErrorDetail } from './errors.js';
import { checkBudget } from './limits.js';
import { InvalidArgumentError } from '../errors.js';

let pngjsCtor: typeof PNG | undefined;
/** pngjs, required lazily under Node only (it uses Node streams and zlib, so it stays out of browser bundles). */
function pngjs(): typeof PNG {
  pngjsCtor ??= (createRequire(import.meta.url)('pngjs') as { PNG: typeof PNG }).PNG;
  return pngjsCtor;
}

/** An RGB colour, each channel 0–255. */
export type RGB = readonly [number, number, number];

/** Colour used for NaN pixels and heatmap cells. */
export const NAN_COLOR: RGB = [255, 0, 255];

/** An RGBA canvas backed by a pngjs PNG. */
class Canvas {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
    fill: RGB,
  ) {
    if (!(width >= 1 && height >= 1)) throw new ShapeError(`PNG: image size ${width}×${height} must be at least 1×1`);
    this.png = new (pngjs())({ width, height });
    const d = this.png.data;
    for (let i = 0; i < d.length; i += 4) {
      d[i] = fill[0];
      d[i + 1] = fill[1];
      d[i + 2] = fill[2];
      d[i + 3] = 255;
    }
  }
  set(x: number, y: number, c: RGB): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.png.data[o] = c[0];
    this.png.data[o + 1] = c[1];
    this.png.data[o + 2] = c[2];
  }
  rect(x0: number, y0: number, w: number, h: number, c: RGB): void {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) this.set(x, y, c);
  }
  disc(cx: number, cy: number, r: number, c: RGB): void {
    for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) if (x * x + y * y <= r * r + r) this.set(cx + x, cy + y, c);
  }
  /** Bresenham line, `thick` pixels wide (square brush). */
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, thick = 1): void {
    x0 = Math.round(x0);
    y0 = Math.round(y0);
    x1 = Math.round(x1);
    y1 = Math.round(y1);
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    const lo = -Math.floor((thick - 1) / 2);
    for (let guard = 0; guard <= dx - dy + 1; guard++) {
      for (let a = lo; a < lo + thick; a++) for (let b = lo; b < lo + thick; b++) this.set(x0 + a, y0 + b, c);
      if (x0 === x1 && y0 === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }
  encode(): Uint8Array {
    return new Uint8Array(pngjs().sync.write(this.png, { colorType: 2 }));
  }
}

/** Options for {@link imageGridPng}. */
export interface ImageGridOptions {
  /** Grid rows (default `ceil(n / cols)`). */
  rows?: number;
  /** Grid columns (default `ceil(sqrt(n))`, or `ceil(n / rows)` when `rows` is given). */
  cols?: number;
  /** Pixels of padding between and around images (default 1). */
  pad?: number;
  /** Nearest-neighbour upscaling factor, a positive integer (default 1). */
  scale?: number;
  /**
   * `'clip01'` (default): values are clipped to [0, 1]. `'minmax'`: `(v − min)/(max − min)` with min/max over all
   * finite values of all images (a constant batch maps to 0.5).
   */
  normalize?: 'minmax' | 'clip01';
  /** Image height and width, needed for `[n, h·w]` input that is not square. */
  height?: number;
  width?: number;
  /** Colour of the padding (default mid grey [128, 128, 128]). */
  padColor?: RGB;
}

/**
 * Tiles images into one PNG grid.
 * @param images `[n, h·w]` (square unless `height`/`width` are given), `[n, h, w]`, or `[n, c, h, w]` with c = 1
 *   (grey) or 3 (RGB). Values are mapped to 0–255 after normalisation; NaN/±inf pixels are drawn magenta.
 * @returns the PNG file bytes, of size `(cols·w·scale + (cols+1)·pad) × (rows·h·scale + (rows+1)·pad)`.
 * @example writeFileSync('samples.png', imageGridPng(samples, { scale: 2 })) // samples: [64, 784]
 */
export function imageGridPng(images: Tensor, opts: ImageGridOptions = {}): Uint8Array {
  const s = images.shape;
  let n: number, c: number, h: number, w: number;
  if (s.length === 2) {
    n = s[0];
    c = 1;
    if (opts.height !== undefined || opts.width !== undefined) {
      h = opts.height ?? s[1] / (opts.width as number);
      w = opts.width ?? s[1] / h;
    } else {
      h = w = Math.round(Math.sqrt(s[1]));
    }
    if (!Number.isInteger(h) || !Number.isInteger(w) || h * w !== s[1]) {
      throw new ShapeError(`imageGridPng: cannot view [${s.join(', ')}] as n images of h×w; give height and width`);
    }
  } else if (s.length === 3) [n, h, w, c] = [s[0], s[1], s[2], 1];
  else if (s.length === 4) [n, c, h, w] = [s[0], s[1], s[2], s[3]];
  else throw new ShapeError(`imageGridPng: expected [n, h*w], [n, h, w] or [n, c, h, w], got [${s.join(', ')}]`);
  if (c !== 1 && c !== 3) throw new ShapeError(`imageGridPng: ${c} channels; expected 1 or 3 in [n, c, h, w] = [${s.join(', ')}]`);
  if (n < 1 || h < 1 || w < 1) throw new ShapeError(`imageGridPng: no pixels to draw in [${s.join(', ')}]`);
  const pad = opts.pad ?? 1;
  const scale = opts.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new InvalidArgumentError(`imageGridPng: scale must be a positive integer, got ${scale}`);
  if (!Number.isInteger(pad) || pad < 0) throw new InvalidArgumentError(`imageGridPng: pad must be a non-negative integer, got ${pad}`);
  const cols = opts.cols ?? (opts.rows ? Math.ceil(n / opts.rows) : Math.ceil(Math.sqrt(n)));
  const rows = opts.rows ?? Math.ceil(n / cols);
  if (rows * cols < n) throw new InvalidArgumentError(`imageGridPng: a ${rows}×${cols} grid cannot hold ${n} images`);
  const d = images.data;
  let lo = 0;
  let span = 1;
  if ((opts.normalize ?? 'clip01') === 'minmax') {
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (Number.isFinite(v)) {
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
    }
    if (mn === Infinity) [mn, mx] = [0, 1];
    lo = mn;
    span = mx - mn;
  }
  const canvas = new Canvas(cols * w * scale + (cols + 1) * pad, rows * h * scale + (rows + 1) * pad, opts.padColor ?? [128, 128, 128]);
  const toByte = (v: number): number => {
    const t = span > 0 ? (v - lo) / span : 0.5;
    return Math.round(255 * (t < 0 ? 0 : t > 1 ? 1 : t));
  };
  const px: [number, number, number] = [0, 0, 0];
  for (let k = 0; k < n; k++) {
    const gx = pad + (k % cols) * (w * scale + pad);
    const gy = pad + Math.floor(k / cols) * (h * scale + pad);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let bad = false;
        for (let ch = 0; ch < 3; ch++) {
          const v = d[k * c * h * w + (c === 3 ? ch : 0) * h * w + i * w + j];
          if (!Number.isFinite(v)) bad = true;
          px[ch] = toByte(v);
        }
        canvas.rect(gx + j * scale, gy + i * scale, scale, scale, bad ? NAN_COLOR : px);
      }
    }
  }
  return canvas.encode();
}

/** A compact piecewise-linear colormap: 9 evenly spaced stops. */
const COLORMAPS: Record<'viridis' | 'magma', RGB[]> = {
  viridis: [
    [68, 1, 84],
    [71, 44, 122],
    [59, 81, 139],
    [44, 113, 142],
    [33, 144, 141],
    [39, 173, 129],
    [92, 200, 99],
    [170, 220, 50],
    [253, 231, 37],
  ],
  magma: [
    [0, 0, 4],
    [28, 16, 68],
    [79, 18, 123],
    [129, 37, 129],
    [181, 54, 122],
    [229, 80, 100],
    [251, 135, 97],
    [254, 194, 135],
    [252, 253, 191],
  ],
};

/**
 * Maps `t ∈ [0, 1]` (clipped) to a colour by linear interpolation between the 9 stops of the colormap
 * (viridis or magma, sampled from matplotlib's tables at t = 0, 1/8, …, 1).
 */
export function colormap(t: number, name: 'viridis' | 'magma' = 'viridis'): RGB {
  const stops = COLORMAPS[name];
  const u = (t < 0 ? 0 : t > 1 ? 1 : t) * (stops.length - 1);
  const i = Math.min(Math.floor(u), stops.length - 2);
  const f = u - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

/** A set of 2-D points to overlay on a heatmap. */
export interface PointSet {
  /** Coordinates: a `[n, 2]` Tensor, `[[x, y], …]`, or a flat `[x0, y0, x1, y1, …]`. */
  x: Tensor | readonly (readonly number[])[] | ArrayLike<number>;
  /** Dot colour (default white). */
  color?: RGB;
  /** Dot radius in output pixels (default 2). Each dot gets a 1-pixel black outline. */
  radius?: number;
}

/** Options for {@link heatmapPng}. */
export interface HeatmapOptions {
  /** `[xmin, xmax, ymin, ymax]` covered by the grid; needed to place `points` (default `[0, nx, 0, ny]`). */
  extent?: readonly [number, number, number, number];
  /** Colormap (default viridis). */
  colormap?: 'viridis' | 'magma';
  /** Pixels per cell, a positive integer (default 1). */
  scale?: number;
  /** Value mapped to the bottom/top of the colormap (default: min/max of the finite values). */
  vmin?: number;
  vmax?: number;
  /** Shape `[ny, nx]` when `values` is a plain typed array (default square). */
  shape?: readonly [number, number];
  /** Points drawn as dots on top, mapped through `extent`; points outside it or with non-finite coordinates are skipped. */
  points?: PointSet | readonly PointSet[];
}

function pointPairs(p: PointSet['x']): [number, number][] {
  const out: [number, number][] = [];
  if (p instanceof Tensor) {
    if (p.ndim !== 2 || p.shape[1] !== 2) throw new ShapeError(`heatmapPng: points must be [n, 2], got [${p.shape.join(', ')}]`);
    for (let i = 0; i < p.shape[0]; i++) out.push([p.data[2 * i], p.data[2 * i + 1]]);
  } else if (Array.isArray(p) && p.length > 0 && Array.isArray(p[0])) {
    for (const q of p as readonly (readonly number[])[]) {
      if (q.length !== 2) throw new ShapeError(`heatmapPng: each point must be [x, y], got length ${q.length}`);
      out.push([q[0], q[1]]);
    }
  } else {
    const a = p as ArrayLike<number>;
    if (a.length % 2 !== 0) throw new ShapeError(`heatmapPng: flat point list has odd length ${a.length}`);
    for (let i = 0; i < a.length; i += 2) out.push([a[i], a[i + 1]]);
  }
  return out;
}

/**
 * Renders a grid of values (e.g. a density or energy on a 2-D mesh) as a coloured heatmap, optionally with points.
 *
 * Row 0 of `values` is the top of the image (= `ymax`), column 0 the left (= `xmin`); cell `[i, j]` covers
 * `x ∈ [xmin + j·Δx, xmin + (j+1)·Δx]`, `y ∈ [ymax − (i+1)·Δy, ymax − i·Δy]` with `Δx = (xmax−xmin)/nx`,
 * `Δy = (ymax−ymin)/ny`. Colour = colormap((v − vmin)/(vmax − vmin)); NaN cells are magenta, ±inf clip to the ends.
 * A point (x, y) lands at pixel `((x−xmin)/(xmax−xmin)·nx·scale, (ymax−y)/(ymax−ymin)·ny·scale)`.
 * @param values `[ny, nx]` Tensor, or a Float64Array/Float32Array with `opts.shape`.
 * @example heatmapPng(density, { extent: [-3, 3, -3, 3], scale: 4, points: { x: samples, color: [255, 0, 0] } })
 */
export function heatmapPng(values: Tensor | Float64Array | Float32Array, opts: HeatmapOptions = {}): Uint8Array {
  let ny: number, nx: number;
  let d: ArrayLike<number>;
  if (values instanceof Tensor) {
    if (values.ndim !== 2) throw new ShapeError(`heatmapPng: values must be [ny, nx], got [${values.shape.join(', ')}]`);
    [ny, nx] = values.shape as [number, number];
    d = values.data;
  } else {
    d = values;
    if (opts.shape) [ny, nx] = opts.shape;
    else {
      ny = nx = Math.round(Math.sqrt(values.length));
    }
    if (ny * nx !== values.length) throw new ShapeError(`heatmapPng: ${values.length} values do not fill a ${ny}×${nx} grid; give opts.shape`);
  }
  if (ny < 1 || nx < 1) throw new ShapeError('heatmapPng: empty grid');
  const scale = opts.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new InvalidArgumentError(`heatmapPng: scale must be a positive integer, got ${scale}`);
  let vmin = opts.vmin;
  let vmax = opts.vmax;
  if (vmin === undefined || vmax === undefined) {
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (Number.isFinite(v)) {
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
    }
    if (mn === Infinity) [mn, mx] = [0, 1];
    vmin ??= mn;
    vmax ??= mx;
  }
  const cmap = opts.colormap ?? 'viridis';
  const canvas = new Canvas(nx * scale, ny * scale, [0, 0, 0]);
  const span = vmax - vmin;
  for (let i = 0; i < ny; i++) {
    for (let j = 0; j < nx; j++) {
      const v = d[i * nx + j];
      const col = Number.isNaN(v) ? NAN_COLOR : colormap(span > 0 ? (v - vmin) / span : v > vmin ? 1 : v < vmin ? 0 : 0.5, cmap);
      canvas.rect(j * scale, i * scale, scale, scale, col);
    }
  }
  if (opts.points) {
    const [xmin, xmax, ymin, ymax] = opts.extent ?? [0, nx, 0, ny];
    if (!(xmax > xmin) || !(ymax > ymin)) throw new InvalidArgumentError(`heatmapPng: extent [${opts.extent}] must have xmax > xmin and ymax > ymin`);
    const W = nx * scale;
    const H = ny * scale;
    const sets = Array.isArray(opts.points) ? (opts.points as readonly PointSet[]) : [opts.points as PointSet];
    for (const set of sets) {
      const r = set.radius ?? 2;
      const color = set.color ?? [255, 255, 255];
      const pts = pointPairs(set.x);
      for (const [x, y] of pts) {
        if (!Number.isFinite(x) || !Number.isFinite(y) || x < xmin || x > xmax || y < ymin || y > ymax) continue;
        const px = Math.min(W - 1, Math.floor(((x - xmin) / (xmax - xmin)) * W));
        const py = Math.min(H - 1, Math.floor(((ymax - y) / (ymax - ymin)) * H));
        canvas.disc(px, py, r + 1, [0, 0, 0]);
      }
      for (const [x, y] of pts) {
        if (!Number.isFinite(x) || !Number.isFinite(y) || x < xmin || x > xmax || y < ymin || y > ymax) continue;
        const px = Math.min(W - 1, Math.floor(((x - xmin) / (xmax - xmin)) * W));
        const py = Math.min(H - 1, Math.floor(((ymax - y) / (ymax - ymin)) * H));
        canvas.disc(px, py, r, color);
      }
    }
  }
  return canvas.encode();
}

/** One curve of a {@link linePlotPng}. */
export interface LineSeries {
  /** y values. */
  y: Tensor | ArrayLike<number>;
  /** x values (default 0, 1, 2, …). */
  x?: Tensor | ArrayLike<number>;
  /** Line colour (default from a 6-colour palette). */
  color?: RGB;
}

/** Options for {@link linePlotPng}. */
export interface LinePlotOptions {
  /** Image size in pixels (default 640 × 400). */
  width?: number;
  height?: number;
  /** Plot log10(y) (non-positive values become gaps marked like NaN). Default false. */
  logY?: boolean;
  /** Line thickness in pixels (default 2). */
  thickness?: number;
  /** y-axis range (default: min/max of the finite values, padded by 5 %). */
  ylim?: readonly [number, number];
}

const PALETTE: RGB[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
];

/** About `k` round tick values (1, 2 or 5 × 10^m steps) covering [lo, hi]. */
function niceTicks(lo: number, hi: number, k = 5): number[] {
  const raw = (hi - lo) / k;
  if (!(raw > 0) || !Number.isFinite(raw)) return [];
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(t);
  return out;
}

function toArr(v: Tensor | ArrayLike<number>): ArrayLike<number> {
  return v instanceof Tensor ? v.data : v;
}

/**
 * Draws one or more curves (e.g. a loss curve) with simple axes and light grid lines at round values; no text.
 * Non-finite points (and non-positive ones with `logY`) break the line and are marked by a red tick under the x axis
 * at their x position, so divergence is visible.
 * @param series a single y array/Tensor, or a list of {@link LineSeries}.
 * @example writeFileSync('loss.png', linePlotPng(losses, { logY: true }))
 */
export function linePlotPng(series: Tensor | ArrayLike<number> | readonly LineSeries[], opts: LinePlotOptions = {}): Uint8Array {
  const list: LineSeries[] =
    Array.isArray(series) && (series.length === 0 || typeof series[0] === 'object') ? (series as LineSeries[]) : [{ y: series as Tensor | ArrayLike<number> }];
  const W = opts.width ?? 640;
  const H = opts.height ?? 400;
  const thick = opts.thickness ?? 2;
  const ml = 30;
  const mr = 15;
  const mt = 15;
  const mb = 30;
  const tf = (v: number): number => (opts.logY ? (v > 0 ? Math.log10(v) : NaN) : v);
  const curves = list.map((s, k) => {
    const y = toArr(s.y);
    const x = s.x === undefined ? null : toArr(s.x);
    if (x && x.length !== y.length) throw new ShapeError(`linePlotPng: series ${k} has ${x.length} x values but ${y.length} y values`);
    const xs = new Float64Array(y.length);
    const ys = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++) {
      xs[i] = x ? x[i] : i;
      ys[i] = tf(y[i]);
    }
    return { xs, ys, color: s.color ?? PALETTE[k % PALETTE.length] };
  });
  let xmin = Infinity;
  let xmax = -Infinity;
  let ymin = Infinity;
  let ymax = -Infinity;
  for (const c of curves) {
    for (let i = 0; i < c.xs.length; i++) {
      if (Number.isFinite(c.xs[i])) {
        xmin = Math.min(xmin, c.xs[i]);
        xmax = Math.max(xmax, c.xs[i]);
      }
      if (Number.isFinite(c.ys[i])) {
        ymin = Math.min(ymin, c.ys[i]);
        ymax = Math.max(ymax, c.ys[i]);
      }
    }
  }
  if (xmin === Infinity) [xmin, xmax] = [0, 1];
  if (ymin === Infinity) [ymin, ymax] = [0, 1];
  if (opts.ylim) [ymin, ymax] = opts.logY ? [tf(opts.ylim[0]), tf(opts.ylim[1])] : [opts.ylim[0], opts.ylim[1]];
  else {
    const padY = (ymax - ymin) * 0.05 || Math.abs(ymax) * 0.05 || 1;
    ymin -= padY;
    ymax += padY;
  }
  if (xmax === xmin) [xmin, xmax] = [xmin - 0.5, xmax + 0.5];
  const canvas = new Canvas(W, H, [255, 255, 255]);
  const pw = W - ml - mr;
  const ph = H - mt - mb;
  const sx = (x: number): number => ml + ((x - xmin) / (xmax - xmin)) * pw;
  const sy = (y: number): number => mt + ((ymax - y) / (ymax - ymin)) * ph;
  const grid: RGB = [225, 225, 225];
  const axis: RGB = [0, 0, 0];
  for (const t of niceTicks(xmin, xmax)) {
    const px = Math.round(sx(t));
    canvas.line(px, mt, px, mt + ph, grid);
    canvas.line(px, mt + ph, px, mt + ph + 5, axis);
  }
  for (const t of niceTicks(ymin, ymax)) {
    const py = Math.round(sy(t));
    canvas.line(ml, py, ml + pw, py, grid);
    canvas.line(ml - 5, py, ml, py, axis);
  }
  canvas.line(ml, mt, ml, mt + ph, axis);
  canvas.line(ml, mt + ph, ml + pw, mt + ph, axis);
  for (const c of curves) {
    let prev: [number, number] | null = null;
    for (let i = 0; i < c.xs.length; i++) {
      const x = c.xs[i];
      const y = c.ys[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        if (Number.isFinite(x)) canvas.rect(Math.round(sx(x)) - 1, mt + ph + 8, 3, 10, [220, 0, 0]);
        prev = null;
        continue;
      }
      const p: [number, number] = [sx(x), sy(Math.min(Math.max(y, ymin - (ymax - ymin)), ymax + (ymax - ymin)))];
      if (prev) canvas.line(prev[0], prev[1], p[0], p[1], c.color, thick);
      else canvas.rect(Math.round(p[0]), Math.round(p[1]), 1, 1, c.color);
      prev = p;
    }
  }
  // keep curves from spilling over the margins
  canvas.rect(0, 0, W, mt, [255, 255, 255]);
  canvas.rect(ml + pw + 1, 0, mr, H, [255, 255, 255]);
  return canvas.encode();
}

/** Channels per PNG colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Bytes per pixel planned for a decoded image: RGBA decode, float32 copy and the model's work on it. */
export const PNG_BYTES_PER_PIXEL = 64;

/**
 * Validates a PNG's structure before decoding: signature, IHDR first with a known colour type and bit depth, chunk
 * lengths inside the file, the pixel count within the memory budget ({@link checkBudget}, from the header alone), and
 * the IDAT stream inflating to exactly the size the header implies. Throws a {@link DataError} naming `file`: garbage
 * image data is refused, never decoded as black.
 */
export function checkPngData(bytes: Uint8Array, file = 'png'): void {
  const fail = (m: string): never => {
    throw new DataError(`not a valid PNG (${m})`, { file });
  };
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 + 25 || sig.some((b, i) => bytes[i] !== b)) fail('bad signature or too short');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (at: number): string => String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  if (dv.getUint32(8) !== 13 || type(12) !== 'IHDR') fail('IHDR is not the first chunk');
  const width = dv.getUint32(16);
  const height = dv.getUint32(20);
  const depth = bytes[24];
  const colour = bytes[25];
  const interlace = bytes[28];
  const ch = PNG_CHANNELS[colour];
  if (ch === undefined) fail(`unknown colour type ${colour}`);
  if (![1, 2, 4, 8, 16].includes(depth)) fail(`bad bit depth ${depth}`);
  if (width < 1 || height < 1) fail(`image size ${width}×${height}`);
  checkBudget(width * height * PNG_BYTES_PER_PIXEL, `a ${width}×${height} image`, { file });
  const idat: Uint8Array[] = [];
  let at = 8;
  let ended = false;
  while (at + 12 <= bytes.length) {
    const len = dv.getUint32(at);
    const t = type(at + 4);
    if (at + 12 + len > bytes.length) fail(`chunk ${JSON.stringify(t)} runs past the end of the file`);
    if (t === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + len));
    at += 12 + len;
    if (t === 'IEND') {
      ended = true;
      break;
    }
  }
  if (!ended) fail('no IEND chunk: truncated');
  if (idat.length === 0) fail('no image data (IDAT)');
  const rowBytes = Math.ceil((width * ch * depth) / 8);
  const expected = interlace === 0 ? height * (1 + rowBytes) : undefined;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: (expected ?? height * (1 + rowBytes) * 2) + 1 });
  } catch (e) {
    return fail(`image data does not inflate: ${ioErrorDetail(e)}`);
  }
  if (expected !== undefined && raw.length !== expected) fail(`image data holds ${raw.length} bytes but a ${width}×${height} image needs ${expected}`);
  if (expected !== undefined) {
    for (let r = 0; r < height; r++) {
      const f = raw[r * (1 + rowBytes)];
      if (f > 4) fail(`row ${r + 1} has an unknown filter type ${f}: garbage image data`);
    }
  }
}

/**
 * Decodes a PNG into a greyscale `[h, w]` float32 Tensor with values in [0, 1]:
 * `g = (0.299·R + 0.587·G + 0.114·B)/255` (exactly `v/255` for grey pixels), composited over white by alpha
 * (`g·α + (1 − α)`). 16-bit images are scaled to 8 bits first.
 * @throws DataError when the bytes are not a valid PNG.
 */
export function decodePng(bytes: Uint8Array, file = 'png'): Tensor {
  checkPngData(bytes, file);
  let png: PNG;
  try {
    png = pngjs().sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new DataError(`not a valid PNG (${(e as Error).message})`, { file });
  }
  const { width, height, data } = png;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const r = data[4 * i];
    const g = data[4 * i + 1];
    const b = data[4 * i + 2];
    const a = data[4 * i + 3] / 255;
    const grey = r === g && g === b ? r / 255 : (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    out[i] = a === 1 ? grey : grey * a + (1 - a);
  }
  return new Tensor(out, [height, width]);
}
