/**
 * The playground page: controls, heat-map and chart rendering, and the bridge to the compute worker. Nothing heavy
 * runs here; the page only draws what the worker posts. Test hooks live on `window.__ebm` (see {@link EbmHooks}).
 */
import { TARGET_MENU, makeTarget } from './targets.js';
import type { FromWorker, HeatmapMsg, SamplerParams, TrainParams, RbmParams, Tab, ToWorker, SamplerKind, LossKind, ModeTab } from './protocol.js';
import { emptyModeHooks, modeParams, onJemFrame, onModeStats, wireModes, type ModeHook, type ModesUiEnv } from './modesUi.js';

/** State exposed for the end-to-end test and for debugging in the console. */
export interface EbmHooks {
  ready: boolean;
  backend: string;
  /** Where the Train tab's model-sample chains run: label `WebGPU (adapter …)` or `CPU (reason)`, chain runs on the GPU, self-check max |x_GPU − x_CPU|. */
  gpu: { label: string; webgpu: boolean; views: number; check: number | null; training: string; trainSteps: number; trainCheck: number | null };
  /** The last point set of each layer (data, model samples, …): number of points and whether all are finite. */
  points: Record<string, { n: number; finite: boolean }>;
  tab: Tab;
  /** Every training loss received, in order (cleared on model reset). */
  lossHistory: number[];
  /** FNV-1a hash of the heat-map pixels (changes when the drawn energy changes). */
  heatmapHash: string;
  heatmapSource: 'target' | 'model' | '';
  heatmapUpdates: number;
  sampler: { steps: number; acceptance: number | null; ess: number | null; running: boolean };
  train: { step: number; running: boolean };
  rbm: { step: number; running: boolean };
  errors: string[];
  lastExport: { name: string; size: number } | null;
  /** The CD, Score SDE and JEM tabs: step, running, losses received, the CLI figures shown, JEM sample frames. */
  modes: Record<ModeTab, ModeHook>;
  /** Loads a model file from bytes, as the file picker does (for tests). */
  loadModel(name: string, bytes: ArrayBuffer): void;
}

declare global {
  interface Window { __ebm: EbmHooks }
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing element #${id}`);
  return el as T;
};

const hooks: EbmHooks = {
  ready: false, backend: '', gpu: { label: '', webgpu: false, views: 0, check: null, training: '', trainSteps: 0, trainCheck: null }, points: {}, tab: 'sample', lossHistory: [], heatmapHash: '', heatmapSource: '', heatmapUpdates: 0,
  sampler: { steps: 0, acceptance: null, ess: null, running: false }, train: { step: 0, running: false }, rbm: { step: 0, running: false },
  errors: [], lastExport: null, modes: emptyModeHooks(),
  loadModel: (name, bytes) => send({ type: 'load', name, bytes }, [bytes]),
};
window.__ebm = hooks;

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
function send(m: ToWorker, transfer: Transferable[] = []): void {
  worker.postMessage(m, transfer);
}

// ---------------------------------------------------------------------------------------------------------------
// Colour map and heat map.

/** Viridis, sampled at 9 stops (linear interpolation between them). */
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];
function viridis(t: number): [number, number, number] {
  const x = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS.length - 2);
  const f = x - i;
  const a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/** Energies above `min + RANGE` (nats) share the darkest colour. */
const RANGE = 12;
const PLOT = { x: 44, y: 10, w: 480, h: 480 };

let heat: HeatmapMsg | null = null;
const heatLayer = document.createElement('canvas');
const points: Record<'chains' | 'data' | 'model', Float32Array | null> = { chains: null, data: null, model: null };

function fnv1a(bytes: Uint8ClampedArray): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function renderHeatLayer(m: HeatmapMsg): void {
  const { res, energy, temperature } = m;
  heatLayer.width = res;
  heatLayer.height = res;
  const c = heatLayer.getContext('2d')!;
  const img = c.createImageData(res, res);
  let min = Infinity;
  for (const v of energy) if (Number.isFinite(v) && v / temperature < min) min = v / temperature;
  for (let i = 0; i < energy.length; i++) {
    const e = energy[i] / temperature;
    const t = Number.isFinite(e) ? (e - min) / RANGE : e < 0 ? 0 : 1;
    const [r, g, b] = viridis(1 - t);
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  c.putImageData(img, 0, 0);
  hooks.heatmapHash = fnv1a(img.data);
  hooks.heatmapSource = m.source;
  hooks.heatmapUpdates++;
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((s) => s * mag).find((s) => span / s <= n) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.abs(v) < 1e-12 ? 0 : v);
  return out;
}

function drawPlot(): void {
  const cv = $<HTMLCanvasElement>('plot');
  const c = cv.getContext('2d')!;
  c.clearRect(0, 0, cv.width, cv.height);
  c.fillStyle = '#fff';
  c.fillRect(0, 0, cv.width, cv.height);
  if (!heat) return;
  const [x0, x1, y0, y1] = heat.bounds;
  c.imageSmoothingEnabled = true;
  c.drawImage(heatLayer, PLOT.x, PLOT.y, PLOT.w, PLOT.h);
  const px = (x: number) => PLOT.x + ((x - x0) / (x1 - x0)) * PLOT.w;
  const py = (y: number) => PLOT.y + ((y1 - y) / (y1 - y0)) * PLOT.h;
  const dots = (pts: Float32Array | null, fill: string, stroke: string, r: number): void => {
    if (!pts) return;
    c.fillStyle = fill;
    c.strokeStyle = stroke;
    c.lineWidth = 0.8;
    for (let i = 0; i + 1 < pts.length; i += 2) {
      const X = px(pts[i]), Y = py(pts[i + 1]);
      if (X < PLOT.x || X > PLOT.x + PLOT.w || Y < PLOT.y || Y > PLOT.y + PLOT.h) continue;
      c.beginPath();
      c.arc(X, Y, r, 0, 2 * Math.PI);
      c.fill();
      if (stroke !== 'none') c.stroke();
    }
  };
  c.save();
  c.beginPath();
  c.rect(PLOT.x, PLOT.y, PLOT.w, PLOT.h);
  c.clip();
  if (hooks.tab === 'train' || hooks.tab === 'ebm' || hooks.tab === 'sde') {
    dots(points.data, 'rgba(255,255,255,0.55)', 'none', 1.4);
    dots(points.model, '#ff5a3c', 'rgba(255,255,255,0.9)', 2.4);
  } else {
    dots(points.chains, '#ff5a3c', 'rgba(255,255,255,0.9)', 3);
  }
  c.restore();
  // Frame and ticks.
  c.strokeStyle = '#98a2b3';
  c.lineWidth = 1;
  c.strokeRect(PLOT.x + 0.5, PLOT.y + 0.5, PLOT.w - 1, PLOT.h - 1);
  c.fillStyle = '#475467';
  c.font = '11px system-ui, sans-serif';
  c.textAlign = 'center';
  c.textBaseline = 'top';
  for (const t of niceTicks(x0, x1)) {
    const X = px(t);
    c.fillRect(X, PLOT.y + PLOT.h, 1, 4);
    c.fillText(String(+t.toFixed(2)), X, PLOT.y + PLOT.h + 6);
  }
  c.textAlign = 'right';
  c.textBaseline = 'middle';
  for (const t of niceTicks(y0, y1)) {
    const Y = py(t);
    c.fillRect(PLOT.x - 4, Y, 4, 1);
    c.fillText(String(+t.toFixed(2)), PLOT.x - 7, Y);
  }
  c.textAlign = 'center';
  c.textBaseline = 'alphabetic';
  c.font = 'italic 12px system-ui, sans-serif';
  c.fillText('x₁', PLOT.x + PLOT.w / 2, cv.height - 2);
  c.save();
  c.translate(11, PLOT.y + PLOT.h / 2);
  c.rotate(-Math.PI / 2);
  c.fillText('x₂', 0, 0);
  c.restore();
}

function drawColorbar(): void {
  const cv = $<HTMLCanvasElement>('colorbar');
  const c = cv.getContext('2d')!;
  c.clearRect(0, 0, cv.width, cv.height);
  const bx = 8, bw = 16, by = PLOT.y, bh = PLOT.h;
  for (let i = 0; i < bh; i++) {
    const [r, g, b] = viridis(1 - i / (bh - 1));
    c.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
    c.fillRect(bx, by + i, bw, 1);
  }
  c.strokeStyle = '#98a2b3';
  c.strokeRect(bx + 0.5, by + 0.5, bw - 1, bh - 1);
  c.fillStyle = '#475467';
  c.font = '11px system-ui, sans-serif';
  c.textBaseline = 'middle';
  for (let v = 0; v <= RANGE; v += 2) {
    const y = by + (v / RANGE) * (bh - 1);
    c.fillRect(bx + bw, y, 4, 1);
    c.fillText(v === RANGE ? `≥${v}` : String(v), bx + bw + 6, y);
  }
  c.save();
  c.translate(cv.width - 10, by + bh / 2);
  c.rotate(-Math.PI / 2);
  c.textAlign = 'center';
  c.font = '12px system-ui, sans-serif';
  const T = heat?.temperature ?? 1;
  c.fillText(heat?.source === 'model' ? 'model energy E(x) − min E  (nats)' : `${T === 1 ? 'E(x)' : 'E(x)/T'} − min  (nats)`, 0, 0);
  c.restore();
}

function drawLegend(): void {
  const lg = $('legend');
  const item = (color: string, text: string) => `<span><span class="dot" style="background:${color}"></span>${text}</span>`;
  const bright = 'rgb(253,231,37)', dark = 'rgb(68,1,84)';
  const energyItems = item(bright, 'low energy (likely)') + item(dark, 'high energy');
  lg.innerHTML = hooks.tab === 'ebm' ? item('#ffffff', 'training data') + item('#ff5a3c', 'CD negatives (Langevin chains)') + energyItems
    : hooks.tab === 'sde' ? item('#ffffff', 'training data') + item('#ff5a3c', 'reverse-SDE particles') + item(bright, 'target: low energy') + item(dark, 'high energy')
    : hooks.tab === 'train'
    ? item('#ffffff', 'training data') + item('#ff5a3c', 'model samples') + energyItems
    : item('#ff5a3c', 'sampler chains (current state)') + energyItems;
}

function redraw(): void {
  drawPlot();
  drawColorbar();
}

// ---------------------------------------------------------------------------------------------------------------
// Line charts.

/** Exponential moving average with bias correction: `mₜ = (1−a)mₜ₋₁ + a·xₜ`, `m₀ = 0`, reported as `mₜ/(1 − (1−a)ᵗ)`. */
function ema(xs: readonly number[], a = 0.05): number[] {
  const out: number[] = [];
  let m = 0;
  let w = 1;
  for (const x of xs) {
    m = (1 - a) * m + a * x;
    w *= 1 - a;
    out.push(m / (1 - w));
  }
  return out;
}

function drawChart(id: string, raw: readonly number[], title: string): void {
  const cv = $<HTMLCanvasElement>(id);
  const c = cv.getContext('2d')!;
  const W = cv.width, H = cv.height;
  const P = { l: 52, r: 10, t: 20, b: 22 };
  c.fillStyle = '#fff';
  c.fillRect(0, 0, W, H);
  c.fillStyle = '#344054';
  c.font = '12px system-ui, sans-serif';
  c.textBaseline = 'top';
  c.textAlign = 'left';
  c.fillText(title, 4, 3);
  c.strokeStyle = '#d0d5dd';
  c.strokeRect(P.l + 0.5, P.t + 0.5, W - P.l - P.r - 1, H - P.t - P.b - 1);
  if (raw.length < 2) return;
  const sm = ema(raw);
  const sorted = [...raw].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(p * (sorted.length - 1))))];
  let lo = Math.min(q(0.02), ...sm), hi = Math.max(q(0.98), ...sm);
  if (!(hi > lo)) { hi = lo + 1; }
  const pad = 0.05 * (hi - lo);
  lo -= pad; hi += pad;
  const X = (i: number) => P.l + (i / (raw.length - 1)) * (W - P.l - P.r);
  const Y = (v: number) => P.t + ((hi - Math.min(Math.max(v, lo), hi)) / (hi - lo)) * (H - P.t - P.b);
  const line = (xs: readonly number[], color: string, width: number) => {
    c.strokeStyle = color;
    c.lineWidth = width;
    c.beginPath();
    xs.forEach((v, i) => (i ? c.lineTo(X(i), Y(v)) : c.moveTo(X(i), Y(v))));
    c.stroke();
  };
  line(raw, 'rgba(152,162,179,0.55)', 1);
  line(sm, '#3b5bdb', 2);
  c.fillStyle = '#475467';
  c.font = '10.5px system-ui, sans-serif';
  c.textBaseline = 'middle';
  c.textAlign = 'right';
  for (const t of niceTicks(lo, hi, 4)) c.fillText(String(+t.toPrecision(3)), P.l - 5, Y(t));
  c.textAlign = 'left';
  c.textBaseline = 'top';
  c.fillText('0', P.l, H - P.b + 4);
  c.textAlign = 'right';
  c.fillText(`${raw.length} steps`, W - P.r, H - P.b + 4);
  c.textAlign = 'right';
  c.fillStyle = '#3b5bdb';
  c.fillText('— moving average', W - P.r, 4);
  c.fillStyle = 'rgb(152,162,179)';
  c.fillText('— per step   ', W - P.r - c.measureText('— moving average').width, 4);
}

// ---------------------------------------------------------------------------------------------------------------
// RBM image grids.

function drawGrid(id: string, imgs: Float32Array, n: number): void {
  const cv = $<HTMLCanvasElement>(id);
  const c = cv.getContext('2d')!;
  const cols = Math.ceil(Math.sqrt(n));
  const cell = Math.floor(cv.width / cols);
  const px = Math.floor((cell - 2) / 8);
  c.fillStyle = '#1d2330';
  c.fillRect(0, 0, cv.width, cv.height);
  for (let s = 0; s < n; s++) {
    const ox = (s % cols) * cell + 1, oy = Math.floor(s / cols) * cell + 1;
    for (let i = 0; i < 64; i++) {
      const v = Math.round(255 * imgs[s * 64 + i]);
      c.fillStyle = `rgb(${v},${v},${v})`;
      c.fillRect(ox + (i % 8) * px, oy + Math.floor(i / 8) * px, px, px);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Controls.

const num = (id: string): number => Number($<HTMLInputElement>(id).value);

function samplerParams(): SamplerParams {
  return {
    kind: $<HTMLSelectElement>('sampler').value as SamplerKind,
    stepSize: +(10 ** num('stepSize')).toPrecision(3),
    temperature: num('temperature'),
    stepsPerFrame: num('steps'),
    chains: num('chains'),
  };
}
function trainParams(): TrainParams {
  return {
    loss: $<HTMLSelectElement>('loss').value as LossKind,
    lr: +(10 ** num('lr')).toPrecision(3),
    batch: num('batch'),
    hidden: [num('hidden'), num('hidden')],
    sigma: num('sigma'),
    cdSteps: num('cdSteps'),
    cdStepSize: 0.01,
  };
}
function rbmParams(): RbmParams {
  return { data: $<HTMLSelectElement>('rbm-data-kind').value as 'digits' | 'bars', hidden: num('rbm-hidden'), lr: num('rbm-lr'), sweeps: num('rbm-sweeps') };
}

function showOutputs(): void {
  const sp = samplerParams(), tp = trainParams(), rp = rbmParams();
  const set = (id: string, v: string) => { $(`${id}-out`).textContent = v; };
  set('stepSize', String(sp.stepSize));
  set('temperature', sp.temperature.toFixed(1));
  set('steps', String(sp.stepsPerFrame));
  set('chains', String(sp.chains));
  set('lr', tp.lr.toExponential(1));
  set('batch', String(tp.batch));
  set('sigma', tp.sigma.toFixed(2));
  set('cdSteps', String(tp.cdSteps));
  set('hidden', `${tp.hidden[0]} × 2`);
  set('rbm-hidden', String(rp.hidden));
  set('rbm-lr', rp.lr.toFixed(3));
  set('rbm-sweeps', String(rp.sweeps));
  $('sigma').parentElement!.hidden = tp.loss !== 'dsm';
  $('cdSteps').parentElement!.hidden = tp.loss !== 'cd';
  $('stepSize').previousElementSibling!.textContent = sp.kind === 'hmc' ? 'Leapfrog step ε' : sp.kind === 'annealed' ? 'Step η (αᵢ = η·σᵢ²)' : 'Step size η';
}

function setStatus(text: string, running: boolean): void {
  const s = $('status');
  s.textContent = text;
  s.className = `badge ${running ? 'run' : 'ok'}`;
}

function showError(msg: string): void {
  hooks.errors.push(msg);
  const e = $('error');
  e.textContent = msg;
  e.hidden = false;
}

function setTab(tab: Tab): void {
  if (tab !== hooks.tab) heat = null;
  hooks.tab = tab;
  document.querySelectorAll<HTMLButtonElement>('.tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === tab));
  document.querySelectorAll<HTMLElement>('.panel').forEach((p) => { p.hidden = p.dataset.panel !== tab; });
  $('stage-2d').hidden = tab === 'rbm' || tab === 'jem';
  $('stage-rbm').hidden = tab !== 'rbm';
  $('stage-jem').hidden = tab !== 'jem';
  $('target-row').hidden = tab === 'rbm' || tab === 'jem';
  $('target-desc').hidden = tab === 'rbm' || tab === 'jem';
  if (tab === 'ebm' || tab === 'sde') points.model = null;
  drawLegend();
  send({ type: 'tab', tab });
}

function setTarget(id: string): void {
  $('target-desc').textContent = makeTarget(id).description;
  points.chains = null;
  send({ type: 'target', id });
}

function wire(): void {
  const sel = $<HTMLSelectElement>('target');
  for (const t of TARGET_MENU) {
    const o = document.createElement('option');
    o.value = t.id;
    o.textContent = t.label;
    sel.append(o);
  }
  sel.value = 'energy:gmm';
  $('target-desc').textContent = makeTarget(sel.value).description;
  sel.addEventListener('change', () => setTarget(sel.value));
  document.querySelectorAll<HTMLButtonElement>('.tabs button').forEach((b) => b.addEventListener('click', () => setTab(b.dataset.tab as Tab)));

  for (const id of ['sampler', 'stepSize', 'temperature', 'steps', 'chains']) {
    $(id).addEventListener('input', () => { showOutputs(); send({ type: 'sampler', cmd: 'params', params: samplerParams() }); });
  }
  $('sampler').addEventListener('change', () => {
    // Sensible default step per sampler.
    const k = $<HTMLSelectElement>('sampler').value;
    $<HTMLInputElement>('stepSize').value = String(k === 'hmc' ? -0.7 : k === 'annealed' ? -1.3 : k === 'ula' ? -1.5 : -1);
    showOutputs();
    send({ type: 'sampler', cmd: 'params', params: samplerParams() });
  });
  $('sample-start').addEventListener('click', () => {
    const run = !hooks.sampler.running;
    send({ type: 'sampler', cmd: run ? 'start' : 'stop', params: samplerParams() });
  });
  $('sample-reset').addEventListener('click', () => send({ type: 'sampler', cmd: 'reset', params: samplerParams() }));

  for (const id of ['loss', 'lr', 'batch', 'sigma', 'cdSteps', 'hidden']) {
    $(id).addEventListener('input', () => { showOutputs(); send({ type: 'train', cmd: 'params', params: trainParams() }); });
  }
  $('train-start').addEventListener('click', () => send({ type: 'train', cmd: hooks.train.running ? 'stop' : 'start', params: trainParams() }));
  $('train-reset').addEventListener('click', () => { hooks.lossHistory = []; points.model = null; heat = null; send({ type: 'train', cmd: 'reset', params: trainParams() }); });
  $('export').addEventListener('click', () => send({ type: 'export' }));
  $<HTMLInputElement>('load').addEventListener('change', async (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (!f) return;
    const bytes = await f.arrayBuffer();
    send({ type: 'load', name: f.name, bytes }, [bytes]);
    (ev.target as HTMLInputElement).value = '';
  });

  for (const id of ['rbm-data-kind', 'rbm-hidden', 'rbm-lr', 'rbm-sweeps']) {
    $(id).addEventListener('change', () => { showOutputs(); send({ type: 'rbm', cmd: 'params', params: rbmParams() }); });
    $(id).addEventListener('input', showOutputs);
  }
  $('rbm-start').addEventListener('click', () => send({ type: 'rbm', cmd: hooks.rbm.running ? 'stop' : 'start', params: rbmParams() }));
  $('rbm-reset').addEventListener('click', () => { reconHistory = []; send({ type: 'rbm', cmd: 'reset', params: rbmParams() }); });
  showOutputs();
  drawLegend();
  redraw();
  drawChart('loss-chart', [], 'Training loss');
  drawChart('recon-chart', [], 'Reconstruction error');
  wireModes(modesUi);
}

const modesUi: ModesUiEnv = { send: (m) => send(m), drawChart, setStatus, currentTab: () => hooks.tab, hooks: hooks.modes };

let reconHistory: number[] = [];
let lossTitle = 'Training loss';
let pending = false;
function scheduleRedraw(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; redraw(); });
}

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'ready':
      hooks.ready = true;
      hooks.backend = m.backend;
      $('backend').textContent = `backend: ${m.backend} (pure TypeScript)`;
      send({ type: 'sampler', cmd: 'params', params: samplerParams() });
      send({ type: 'train', cmd: 'params', params: trainParams() });
      send({ type: 'rbm', cmd: 'params', params: rbmParams() });
      send({ type: 'mode', mode: 'ebm', cmd: 'params', params: modeParams() });
      break;
    case 'gpu':
      hooks.gpu = { label: m.label, webgpu: m.webgpu, views: m.views, check: m.check, training: m.training, trainSteps: m.trainSteps, trainCheck: m.trainCheck };
      // e.g. "Training: WebGPU (adapter …) · chains: WebGPU"; the chains' reason is repeated only when it differs.
      $('gpu').textContent = `Training: ${m.training} · chains: ${m.training === m.label ? (m.webgpu ? 'WebGPU' : 'CPU') : m.label}`;
      $('gpu').title = [`Training steps: ${m.training}`, `Model-sample chains: ${m.label}`,
        ...(m.trainCheck === null ? [] : [`GPU vs CPU training-step self-check: max |Δθ| = ${m.trainCheck.toExponential(2)}`]),
        ...(m.check === null ? [] : [`GPU vs CPU chain self-check: max |Δx| = ${m.check.toExponential(2)}`])].join('\n');
      break;
    case 'heatmap':
      // Sample tab: the target. Train tab: the model, or the target until a model exists.
      if (m.source === 'model' && hooks.tab !== 'train' && hooks.tab !== 'ebm') break;
      if (m.source === 'target' && (hooks.tab === 'train' || hooks.tab === 'ebm') && heat?.source === 'model') break;
      heat = m;
      renderHeatLayer(m);
      scheduleRedraw();
      break;
    case 'points':
      points[m.layer] = m.pts;
      hooks.points[m.layer] = { n: m.pts.length / 2, finite: m.pts.every(Number.isFinite) };
      scheduleRedraw();
      break;
    case 'samplerStats': {
      hooks.sampler = { steps: m.steps, acceptance: m.acceptance, ess: m.ess, running: m.running };
      $('s-steps').textContent = String(m.steps);
      $('s-acc').textContent = m.acceptance === null ? '—' : m.acceptance.toFixed(3);
      $('s-ess').textContent = m.ess === null ? '—' : `${m.ess.toFixed(0)} / ${m.essWindow * samplerParams().chains}`;
      $('s-div').textContent = String(m.divergent);
      $('sample-start').textContent = m.running ? 'Stop' : 'Start';
      if (hooks.tab === 'sample') setStatus(m.running ? `sampling · ${m.msPerStep.toFixed(1)} ms/step${m.sigma !== null ? ` · σ = ${m.sigma.toFixed(3)}` : ''}` : 'idle', m.running);
      break;
    }
    case 'trainStats': {
      if (m.info === 'reset') hooks.lossHistory = [];
      hooks.lossHistory.push(...m.losses);
      hooks.train = { step: m.step, running: m.running };
      lossTitle = m.lossName;
      $('t-step').textContent = String(m.step);
      const sm = ema(hooks.lossHistory);
      $('t-loss').textContent = sm.length ? sm[sm.length - 1].toPrecision(4) : '—';
      $('t-ms').textContent = m.msPerStep ? m.msPerStep.toFixed(1) : '—';
      $('train-start').textContent = m.running ? 'Stop' : hooks.lossHistory.length ? 'Resume' : 'Train';
      drawChart('loss-chart', hooks.lossHistory, lossTitle);
      if (hooks.tab === 'train') setStatus(m.running ? `training · step ${m.step}` : 'idle', m.running);
      break;
    }
    case 'rbmFrame':
      hooks.rbm = { step: m.step, running: m.running };
      reconHistory.push(...m.recon);
      drawGrid('rbm-data', m.data, m.n);
      drawGrid('rbm-fantasy', m.particles, m.n);
      $('r-step').textContent = String(m.step);
      $('r-recon').textContent = reconHistory.length ? ema(reconHistory)[reconHistory.length - 1].toFixed(4) : '—';
      $('rbm-start').textContent = m.running ? 'Stop' : m.step ? 'Resume' : 'Train RBM';
      drawChart('recon-chart', reconHistory, 'Reconstruction error (mean squared, per pixel)');
      if (hooks.tab === 'rbm') setStatus(m.running ? `RBM · update ${m.step}` : 'idle', m.running);
      break;
    case 'exported': {
      hooks.lastExport = { name: m.name, size: m.bytes.byteLength };
      const url = URL.createObjectURL(new Blob([m.bytes], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = m.name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      break;
    }
    case 'modelInfo':
      $('model-info').textContent = m.text;
      break;
    case 'modeStats':
      onModeStats(modesUi, m);
      break;
    case 'jemFrame':
      onJemFrame(modesUi, m);
      break;
    case 'error':
      showError(m.message);
      break;
  }
};
worker.onerror = (e) => showError(`worker error: ${e.message}`);

wire();
