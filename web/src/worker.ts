/**
 * The playground's compute worker: runs samplers, energy training and the RBM with the library's pure-TypeScript
 * backend, off the main thread; where the browser offers a WebGPU device, the Train tab's DSM/SSM training steps and
 * its model-sample chains run on it. A cooperative loop (`tick`) works for ~40 ms, posts what changed, then yields so
 * that control messages (stop, slider changes) are handled promptly.
 */
import { Tensor, noGrad, gatherRows } from 'ebm-ts/tensor';
import { initBackend } from 'ebm-ts/backend';
import { key as makeKey, foldIn, split, normal, uniformArray, randintArray, type Key } from 'ebm-ts/random';
import { gaussHermiteSmoothed, type Energy } from 'ebm-ts/energy';
import { ula, mala, hmc, annealedLangevin, geometricSigmas, gridSample, type BaseInfo, type SamplingAlgorithm } from 'ebm-ts/samplers';
import { essMultiChain } from 'ebm-ts/eval';
import { adam, type OptState, type GradientTransformation } from 'ebm-ts/optim';
import { contrastiveDivergence, type CDLoss, type CDState } from 'ebm-ts/losses';
import { cdStep, initRbmCdState, gibbsSample, initRbmForData, type RBMParams, type RbmCdState as RbmCDState } from 'ebm-ts/rbm';
import { getToy } from 'ebm-ts/toy';
import type { MLPParams } from 'ebm-ts/nn';
import { makeTarget, type Target, type Bounds } from './targets.js';
import {
  makeMlpEnergyConfig as makeConfig, initMlpEnergy as initParams, standardize, unstandardize, type MlpEnergyModel,
} from 'ebm-ts/mlpEnergy';
import {
  mlpEnergyTrainStep, mlpEnergyCdTrainStep, sampleMlpEnergy, mlpEnergyTrainStepGpu, mlpEnergyGpuUnsupported,
  type MlpEnergyTrainState, type MlpEnergyStepInfo,
} from 'ebm-ts/mlpEnergy';
import { GpuKernels, gpuMlpUnsupported, uploadMlpEnergy, disposeMlpEnergy, mlpLangevinGpu, mlpLangevinChainGpu } from 'ebm-ts/gpu';
import { dataEnergy, zEnergy, exportModel, importModel } from './mlpModel.js';
import { digitGlyphs } from './digits.js';
import type { FromWorker, ToWorker, SamplerParams, TrainParams, RbmParams, Tab } from './protocol.js';
import { createModes, isModeTab, handleMode, showMode, tickMode, modeBusy, stopMode, type ModeEnv } from './modes.js';

declare const __EBM_VERSION__: string;

const ctx = self as unknown as { postMessage(m: FromWorker, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
const post = (m: FromWorker, transfer: Transferable[] = []): void => ctx.postMessage(m, transfer);

const backend = initBackend('js');
const ROOT = makeKey(20240607);
const HEAT_RES = 96;
const MODEL_RES = 64;
const BUDGET_MS = 40;

let tab: Tab = 'sample';
let target: Target = makeTarget('energy:gmm');
let targetId = 'energy:gmm';
let counter = 0;
/** A fresh key for each use: the run key folded with a counter (explicit keys, reproducible per session). */
const nextKey = (): Key => foldIn(ROOT, ++counter);

// ---------------------------------------------------------------------------------------------------------------
// Energy grids.

/** Energies on a `res × res` grid of cell centres over `b`, row 0 at the top (`y = ymax`). */
function energyGrid(e: Energy, b: Bounds, res: number): Float32Array {
  const [x0, x1, y0, y1] = b;
  const pts = new Float32Array(res * res * 2);
  for (let i = 0; i < res; i++) {
    const y = y1 - ((i + 0.5) * (y1 - y0)) / res;
    for (let j = 0; j < res; j++) {
      pts[2 * (i * res + j)] = x0 + ((j + 0.5) * (x1 - x0)) / res;
      pts[2 * (i * res + j) + 1] = y;
    }
  }
  const en = noGrad(() => e.energy(new Tensor(pts, [res * res, 2])));
  return Float32Array.from(en.data);
}

function postTargetHeatmap(): void {
  const energy = energyGrid(target.energy, target.bounds, HEAT_RES);
  post({ type: 'heatmap', source: 'target', res: HEAT_RES, bounds: [...target.bounds] as [number, number, number, number], energy, temperature: sampler.params.temperature }, [energy.buffer]);
}

// ---------------------------------------------------------------------------------------------------------------
// Samplers.

interface SamplerRun {
  params: SamplerParams;
  alg: SamplingAlgorithm<unknown, BaseInfo> | null;
  state: unknown;
  running: boolean;
  steps: number;
  divergent: number;
  /** Recent acceptance probabilities (mean over chains), newest last. */
  acc: number[];
  /** Per chain: the last `ESS_WINDOW` values of x₁. */
  trace: Float64Array[];
  filled: number;
  sigma: number | null;
  msPerStep: number;
  key: Key;
}

const ESS_WINDOW = 300;
const sampler: SamplerRun = {
  params: { kind: 'mala', stepSize: 0.1, temperature: 1, stepsPerFrame: 5, chains: 64 },
  alg: null, state: null, running: false, steps: 0, divergent: 0, acc: [], trace: [], filled: 0, sigma: null, msPerStep: 0, key: ROOT,
};

function buildAlg(p: SamplerParams): SamplingAlgorithm<unknown, BaseInfo> {
  const E = target.energy;
  const T = p.temperature;
  switch (p.kind) {
    case 'ula': return ula(E, { stepSize: p.stepSize, temperature: T }) as SamplingAlgorithm<unknown, BaseInfo>;
    case 'mala': return mala(E, { stepSize: p.stepSize, temperature: T }) as SamplingAlgorithm<unknown, BaseInfo>;
    case 'hmc': return hmc(E, { stepSize: p.stepSize, leapfrogSteps: 10, temperature: T }) as SamplingAlgorithm<unknown, BaseInfo>;
    case 'annealed': {
      const b = target.bounds;
      const sigmas = geometricSigmas(0.25 * Math.max(b[1] - b[0], b[3] - b[2]), 0.05, 10);
      const family = target.smoothed ?? ((s: number) => gaussHermiteSmoothed(E, s));
      const sL = sigmas[sigmas.length - 1];
      return annealedLangevin(family, { sigmas, stepsPerLevel: 40, stepSize: p.stepSize * sL * sL, temperature: T }) as SamplingAlgorithm<unknown, BaseInfo>;
    }
    default: throw new Error(`unknown sampler "${String(p.kind)}"`);
  }
}

/** Chain starts: uniform on the central 80% of the box; rows with a non-finite energy are redrawn from the target. */
function initialPositions(n: number): Tensor {
  const [x0, x1, y0, y1] = target.bounds;
  const u = uniformArray(nextKey(), 2 * n, 'float32');
  const pts = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    pts[2 * i] = x0 + (x1 - x0) * (0.1 + 0.8 * u[2 * i]);
    pts[2 * i + 1] = y0 + (y1 - y0) * (0.1 + 0.8 * u[2 * i + 1]);
  }
  const e = noGrad(() => target.energy.energy(new Tensor(pts.slice(), [n, 2])));
  let bad = false;
  for (let i = 0; i < n; i++) if (!Number.isFinite(e.data[i])) bad = true;
  if (bad) {
    const s = target.sample ? target.sample(nextKey(), n) : gridSample(target.energy, target.bounds, nextKey(), n);
    for (let i = 0; i < n; i++) if (!Number.isFinite(e.data[i])) pts.set(s.data.subarray(2 * i, 2 * i + 2), 2 * i);
  }
  return new Tensor(pts, [n, 2]);
}

function resetSampler(): void {
  const p = sampler.params;
  sampler.alg = buildAlg(p);
  sampler.state = sampler.alg.init(initialPositions(p.chains));
  sampler.steps = 0;
  sampler.divergent = 0;
  sampler.acc = [];
  sampler.trace = Array.from({ length: p.chains }, () => new Float64Array(ESS_WINDOW));
  sampler.filled = 0;
  sampler.sigma = null;
  sampler.key = nextKey();
  postSamplerPoints();
  postSamplerStats();
}

/** Rebuilds the kernel for new slider values, keeping the chains where they are (chains count changes restart). */
function updateSampler(p: SamplerParams): void {
  const old = sampler.params;
  sampler.params = p;
  if (!sampler.alg || p.chains !== old.chains || p.kind !== old.kind) return resetSampler();
  if (p.stepSize !== old.stepSize || p.temperature !== old.temperature) {
    const pos = sampler.alg.observe(sampler.state);
    sampler.alg = buildAlg(p);
    const prevStep = (sampler.state as { step?: number }).step;
    sampler.state = sampler.alg.init(pos);
    if (prevStep !== undefined) sampler.state = { ...(sampler.state as object), step: prevStep };
    sampler.acc = [];
  }
  if (p.temperature !== old.temperature) postTargetHeatmap();
}

function runSampler(): void {
  const alg = sampler.alg!;
  const t0 = performance.now();
  let done = 0;
  while (done < sampler.params.stepsPerFrame && performance.now() - t0 < 4 * BUDGET_MS) {
    const [next, info] = alg.step(foldIn(sampler.key, sampler.steps), sampler.state);
    sampler.state = next;
    sampler.steps++;
    done++;
    let dv = 0;
    for (const d of info.divergent) dv += d;
    sampler.divergent += dv;
    const ap = (info as { acceptanceProb?: Float64Array }).acceptanceProb;
    if (ap) {
      let s = 0;
      for (const a of ap) s += a;
      sampler.acc.push(s / ap.length);
      if (sampler.acc.length > 100) sampler.acc.shift();
    }
    const sg = (info as { sigma?: number }).sigma;
    sampler.sigma = sg ?? null;
    const pos = alg.observe(next).data;
    const slot = sampler.filled % ESS_WINDOW;
    for (let c = 0; c < sampler.trace.length; c++) sampler.trace[c][slot] = pos[2 * c];
    sampler.filled++;
  }
  sampler.msPerStep = (performance.now() - t0) / Math.max(done, 1);
  postSamplerPoints();
  postSamplerStats();
}

function postSamplerPoints(): void {
  if (!sampler.alg) return;
  const pts = Float32Array.from(sampler.alg.observe(sampler.state).data);
  post({ type: 'points', layer: 'chains', pts }, [pts.buffer]);
}

function samplerEss(): number | null {
  const n = Math.min(sampler.filled, ESS_WINDOW);
  if (n < 20) return null;
  const start = sampler.filled > ESS_WINDOW ? sampler.filled % ESS_WINDOW : 0;
  const chains = sampler.trace.map((tr) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = tr[(start + i) % ESS_WINDOW];
    return out;
  });
  try {
    const v = essMultiChain(chains);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null; // constant chains (e.g. every proposal rejected): ESS undefined
  }
}

function postSamplerStats(): void {
  const acc = sampler.acc.length ? sampler.acc.reduce((a, b) => a + b, 0) / sampler.acc.length : null;
  post({
    type: 'samplerStats', running: sampler.running, steps: sampler.steps, acceptance: sampler.params.kind === 'mala' || sampler.params.kind === 'hmc' ? acc : null,
    ess: samplerEss(), essWindow: Math.min(sampler.filled, ESS_WINDOW), divergent: sampler.divergent, sigma: sampler.sigma, msPerStep: sampler.msPerStep,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Training an MLP energy.

interface TrainRun {
  params: TrainParams;
  running: boolean;
  model: MlpEnergyModel | null;
  /** Training data `[N, 2]` (data space) and standardised. */
  data: Tensor | null;
  dataZ: Tensor | null;
  dataFor: string;
  opt: GradientTransformation<OptState[]>;
  optState: OptState[] | null;
  cd: CDLoss<MLPParams> | null;
  cdState: CDState | null;
  /** Persistent Langevin chains on the model (standardised), for the sample overlay of DSM/SSM. */
  chains: Tensor | null;
  step: number;
  pending: number[];
  lastHeat: number;
  /** Milliseconds between model views (grows when drawing is slow). */
  viewGap: number;
  msPerStep: number;
  info: string;
  /** A burst of GPU training steps is in flight (one step at a time; the loop waits for it rather than queue). */
  gpuBusy: boolean;
  /** The GPU step function of the current model, loss and lr (SSM's is traced and compiled once per function). */
  gpuStep: { model: MlpEnergyModel; loss: string; lr: number; run: GpuTrainStep } | null;
}

type GpuTrainStep = (s: MlpEnergyTrainState, batch: Tensor, key: Key) => Promise<readonly [MlpEnergyTrainState, MlpEnergyStepInfo]>;

const train: TrainRun = {
  params: { loss: 'dsm', lr: 1e-2, batch: 128, hidden: [32, 32], sigma: 0.1, cdSteps: 10, cdStepSize: 0.01 },
  running: false, model: null, data: null, dataZ: null, dataFor: '', opt: adam(1e-2, { clipNorm: 10 }), optState: null,
  cd: null, cdState: null, chains: null, step: 0, pending: [], lastHeat: 0, viewGap: 400, msPerStep: 0, info: '',
  gpuBusy: false, gpuStep: null,
};

function trainingData(): Tensor {
  if (train.data && train.dataFor === targetId) return train.data;
  const k = nextKey();
  train.data = target.sample ? target.sample(k, 2000) : gridSample(target.energy, target.bounds, k, 2000);
  train.dataFor = targetId;
  const pts = Float32Array.from(train.data.data);
  post({ type: 'points', layer: 'data', pts }, [pts.buffer]);
  return train.data;
}

function ensureModel(): MlpEnergyModel {
  const data = trainingData();
  if (!train.model) {
    const p = train.params;
    const cfg = makeConfig(data, { hidden: p.hidden, loss: p.loss === 'ssm' ? 'ssm' : 'dsm', sigma: p.sigma, bounds: [...target.bounds] as [number, number, number, number] });
    train.model = { cfg, params: initParams(nextKey(), cfg), provenance: { data: targetId, seed: counter, source: 'ebm-ts playground' } };
    train.optState = null;
    train.step = 0;
  }
  const m = train.model;
  if (!train.optState) train.optState = train.opt.init(m.params) as OptState[];
  train.dataZ = standardize(m.cfg, data);
  if (train.params.loss === 'cd' && !train.cd) {
    const zb = 3;
    train.cd = contrastiveDivergence<MLPParams>({
      energy: (p) => zEnergy(p, m.cfg),
      sampler: (E) => ula(E, { stepSize: train.params.cdStepSize, maxGradNorm: 100 }),
      steps: train.params.cdSteps,
      negatives: 'buffer', bufferSize: 2000, reinit: 0.05, reinitFrom: { kind: 'uniform', low: -zb, high: zb }, alpha: 0.1,
    });
    train.cdState = train.cd.initState(nextKey(), m.params, train.dataZ);
  }
  if (!train.chains) train.chains = normal(nextKey(), [300, 2]);
  return m;
}

function resetTraining(): void {
  train.model = null;
  train.optState = null;
  train.cd = null;
  train.cdState = null;
  train.chains = null;
  train.step = 0;
  train.pending = [];
  train.info = '';
  gpu.trainCheck = null; // the next model's first GPU step is checked against the CPU step again
  post({ type: 'trainStats', running: train.running, step: 0, losses: [], lossName: lossName(), msPerStep: 0, info: 'reset' });
  post({ type: 'modelInfo', text: 'No model yet: press Train.' });
  postTargetHeatmap();
}

function lossName(): string {
  return train.params.loss === 'cd' ? 'CD loss (E⁺ − E⁻ + α·reg)' : train.params.loss === 'dsm' ? 'DSM loss (½‖σ∇E(z̃) − ε‖²)' : 'SSM loss';
}

/** The next step's mini-batch (standardised) and loss key: the same draws on the CPU and the GPU path. */
function stepInputs(): { batch: Tensor; kl: Key } {
  const N = train.dataZ!.shape[0];
  const [kb, kl] = split(foldIn(nextKey(), train.step), 2);
  return { batch: gatherRows(train.dataZ!, randintArray(kb, 0, N, Math.min(train.params.batch, N))), kl };
}

function trainStep(m: MlpEnergyModel): number {
  const p = train.params;
  const { batch, kl } = stepInputs();
  let lv: number;
  if (p.loss === 'cd') {
    const step = mlpEnergyCdTrainStep(train.cd!, { lr: p.lr, clipNorm: 10 });
    const [next, info] = step({ step: train.step, params: m.params, opt: train.optState!, cd: train.cdState! }, batch, kl);
    m.params = next.params;
    train.optState = next.opt;
    train.cdState = next.cd;
    train.step = next.step;
    lv = info.loss;
  } else {
    // The library's training step of the mlp-energy kind (the one `ebm train mlp-energy` runs), same loss convention.
    const step = mlpEnergyTrainStep({ ...m.cfg, loss: p.loss }, { lr: p.lr, clipNorm: 10 });
    const [next, info] = step({ step: train.step, params: m.params, opt: train.optState! }, batch, kl);
    m.params = next.params;
    train.optState = next.opt;
    train.step = next.step;
    lv = info.loss;
  }
  m.provenance = { ...m.provenance, steps: train.step, objective: p.loss };
  return lv;
}

// ---------------------------------------------------------------------------------------------------------------
// WebGPU: the Train tab's model-sample chains (ULA on the MLP energy) run on the browser's GPU when it offers one.

interface GpuRunState {
  /** The device's kernels, or null (CPU). */
  kernels: GpuKernels | null;
  /** `WebGPU (adapter …)` or `CPU (reason)`, shown in the header. */
  label: string;
  /** A chain run is in flight (views wait for it rather than queue). */
  busy: boolean;
  /** Chain runs finished on the GPU. */
  views: number;
  /** Max |x_GPU − x_CPU| of the self-check on the first model (the same key, 10 steps, 32 chains), once run. */
  check: number | null;
  /** Milliseconds the last chain run took on the device (views are spaced so that they take under ~1/3 of it). */
  viewMs: number;
  /** Training steps run on the GPU. */
  trainSteps: number;
  /** Max |θ_GPU − θ_CPU| after the first GPU training step and the CPU step from the same state, batch and key. */
  trainCheck: number | null;
}

const gpu: GpuRunState = { kernels: null, label: 'CPU (looking for WebGPU…)', busy: false, views: 0, check: null, viewMs: 0, trainSteps: 0, trainCheck: null };

/** Why the Train tab's training steps run on the CPU although a device exists, or null when they run on the GPU. */
function gpuTrainUnsupported(): string | null {
  if (train.params.loss === 'cd') return 'CD has no WebGPU step; DSM and SSM train on the GPU';
  return train.model ? mlpEnergyGpuUnsupported({ ...train.model.cfg, loss: train.params.loss }) : null;
}

/** Where the training steps run: the device's label, or `CPU (reason)`. */
function trainingLabel(): string {
  if (!gpu.kernels) return gpu.label;
  const why = gpuTrainUnsupported();
  return why ? `CPU (${why})` : gpu.label;
}

function postGpu(): void {
  post({
    type: 'gpu', label: gpu.label, webgpu: gpu.kernels !== null, views: gpu.views, check: gpu.check,
    training: trainingLabel(), trainSteps: gpu.trainSteps, trainCheck: gpu.trainCheck,
  });
}

/** Asks the browser for a WebGPU device (never throws): the label says which backend the chains use and why. */
async function startGpu(): Promise<void> {
  try {
    const k = await GpuKernels.create();
    if (k instanceof GpuKernels) {
      gpu.kernels = k;
      const a = k.info.adapter;
      const name = a ? [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unnamed' : 'unnamed';
      gpu.label = `WebGPU (adapter ${name}${k.info.software ? ', software: correct, not fast' : ''})`;
    } else {
      gpu.label = `CPU (${k.reason ?? 'no WebGPU device'})`;
    }
  } catch (e) {
    gpu.label = `CPU (WebGPU failed: ${e instanceof Error ? e.message : String(e)})`;
  }
  postGpu();
}

/** Falls back to the CPU for good (chains and training) after a GPU failure, saying what failed and why. */
function dropGpu(e: unknown, what = 'chain'): void {
  if (!gpu.kernels) return; // already dropped (a chain run and a training step may both fail)
  gpu.kernels = null;
  train.gpuStep = null;
  gpu.label = `CPU (WebGPU ${what} failed: ${e instanceof Error ? e.message : String(e)})`;
  postGpu();
}

/**
 * Four ULA steps of the persistent chains on the GPU (`mlpLangevinGpu`, noise from GPU Philox normals of one key),
 * then the points are posted. The parameters are a snapshot (values): training goes on while the device works. On the
 * first run it also checks the GPU chain against the library's CPU `sampleMlpEnergy` with the same key.
 */
async function gpuModelView(k: GpuKernels, m: MlpEnergyModel): Promise<void> {
  const params = m.params, cfg = m.cfg, z0 = train.chains!, stepKey = nextKey(), checkKey = nextKey();
  gpu.busy = true;
  try {
    if (gpu.check === null) {
      const opts = { steps: 10, stepSize: 0.01 };
      const xg = unstandardize(cfg, await mlpLangevinChainGpu(k, params, cfg.activation, cfg.confine, checkKey, 32, opts));
      const xc = sampleMlpEnergy(params, cfg, checkKey, 32, opts);
      let d = 0;
      for (let i = 0; i < xc.size; i++) d = Math.max(d, Math.abs(xg.data[i] - xc.data[i]));
      gpu.check = d;
    }
    if (!gpu.kernels) return; // dropped after a training-step failure while the check ran
    const tv = performance.now();
    const net = uploadMlpEnergy(k, params, cfg.activation, cfg.confine);
    let z: Tensor;
    try {
      z = await mlpLangevinGpu(k, net, z0, { steps: 4, stepSize: 0.01, key: stepKey });
    } finally {
      disposeMlpEnergy(net);
    }
    // A diverged chain restarts from N(0, I) rather than draw NaNs (the CPU view clips gradients instead).
    if (!z.data.every(Number.isFinite)) z = normal(nextKey(), z0.shape);
    if (train.chains === z0) train.chains = z;
    gpu.views++;
    gpu.viewMs = performance.now() - tv;
    const pts = Float32Array.from(unstandardize(cfg, z).data);
    post({ type: 'points', layer: 'model', pts }, [pts.buffer]);
    postGpu();
  } catch (e) {
    dropGpu(e);
  } finally {
    gpu.busy = false;
  }
}

function postModelView(m: MlpEnergyModel): void {
  const b = (m.cfg.bounds ?? target.bounds) as [number, number, number, number];
  const energy = energyGrid(dataEnergy(m), b, MODEL_RES);
  post({ type: 'heatmap', source: 'model', res: MODEL_RES, bounds: [...b] as [number, number, number, number], energy, temperature: 1 }, [energy.buffer]);
  let zs: Tensor;
  if (train.params.loss === 'cd' && train.cdState?.buffer) {
    zs = gatherRows(train.cdState.buffer, Int32Array.from({ length: Math.min(300, train.cdState.buffer.shape[0]) }, (_, i) => i));
  } else if (gpu.kernels && !gpuMlpUnsupported(m.cfg.activation, m.params)) {
    // On WebGPU the chains' points are posted when the device is done (a view already in flight is not repeated).
    if (!gpu.busy) void gpuModelView(gpu.kernels, m);
    return;
  } else {
    // A few ULA steps of persistent chains on the current model: z ← z − η∇E(z) + √(2η)ξ.
    const alg = ula(zEnergy(m.params, m.cfg), { stepSize: 0.01, maxGradNorm: 100 });
    let st = alg.init(train.chains!);
    for (let s = 0; s < 4; s++) st = alg.step(nextKey(), st)[0];
    train.chains = st.position;
    zs = st.position;
  }
  const pts = Float32Array.from(unstandardize(m.cfg, zs).data);
  post({ type: 'points', layer: 'model', pts }, [pts.buffer]);
}

function describe(m: MlpEnergyModel): string {
  const c = m.cfg;
  return `mlp-energy ${[c.dim, ...c.hidden, 1].join('-')} (${c.activation}), ${train.step} steps, trained on ${String(m.provenance.data ?? '?')}` +
    (m.provenance.objective ? ` with ${String(m.provenance.objective).toUpperCase()}` : '');
}

function runTraining(): void {
  if (train.gpuBusy) return; // a burst of GPU steps is in flight: it posts its own stats
  const m = ensureModel();
  if (gpu.kernels && gpuTrainUnsupported() === null) {
    train.gpuBusy = true;
    void gpuTrainBurst(gpu.kernels, m).finally(() => { train.gpuBusy = false; });
    return;
  }
  const t0 = performance.now();
  let done = 0;
  while (performance.now() - t0 < BUDGET_MS || done === 0) {
    train.pending.push(trainStep(m));
    done++;
  }
  afterSteps(m, t0, done);
}

/** The GPU step function of the model's config with the current loss and lr, made once per (model, loss, lr). */
function gpuStepFor(k: GpuKernels, m: MlpEnergyModel): GpuTrainStep {
  const { loss, lr } = train.params;
  const c = train.gpuStep;
  if (c && c.model === m && c.loss === loss && c.lr === lr) return c.run;
  const run = mlpEnergyTrainStepGpu(k, { ...m.cfg, loss: loss === 'ssm' ? 'ssm' : 'dsm' }, { lr, clipNorm: 10 });
  train.gpuStep = { model: m, loss, lr, run };
  return run;
}

function maxAbsDiff(a: Record<string, Tensor>, b: Record<string, Tensor>): number {
  let d = 0;
  for (const name of Object.keys(a)) {
    const x = a[name].data, y = b[name].data;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  }
  return d;
}

/**
 * DSM/SSM training steps on the GPU (the library's `mlpEnergyTrainStepGpu`: loss and parameter gradient on the
 * device, Adam on the host), one in flight at a time, for about one frame budget; the same batches and keys as the
 * CPU path, so the same run within float32 rounding. The first GPU step is also run by the CPU step from the same
 * state, batch and key (again after a reset), and max |Δθ| is reported. A reset, a loaded model or a stop while a
 * step is in flight ends the burst (a finished step of a replaced model is dropped). A diverged loss stops training as
 * on the CPU; any other failure moves training and chains to the CPU for good, with the reason.
 */
async function gpuTrainBurst(k: GpuKernels, m: MlpEnergyModel): Promise<void> {
  const t0 = performance.now();
  let done = 0;
  try {
    while (train.running && tab === 'train' && train.model === m && gpu.kernels === k && (done === 0 || performance.now() - t0 < BUDGET_MS)) {
      const p = train.params;
      const run = gpuStepFor(k, m);
      const { batch, kl } = stepInputs();
      const s0: MlpEnergyTrainState = { step: train.step, params: m.params, opt: train.optState! };
      const [next, info] = await run(s0, batch, kl);
      if (train.model !== m || train.optState !== s0.opt) break; // reset or replaced while the device worked
      if (gpu.trainCheck === null) {
        const [cpu] = mlpEnergyTrainStep({ ...m.cfg, loss: p.loss === 'ssm' ? 'ssm' : 'dsm' }, { lr: p.lr, clipNorm: 10 })(s0, batch, kl);
        gpu.trainCheck = maxAbsDiff(next.params, cpu.params);
      }
      m.params = next.params;
      train.optState = next.opt;
      train.step = next.step;
      m.provenance = { ...m.provenance, steps: train.step, objective: p.loss };
      train.pending.push(info.loss);
      gpu.trainSteps++;
      done++;
    }
  } catch (e) {
    if ((e as { code?: unknown }).code === 'TRAINING_DIVERGED') {
      train.running = false;
      fail(e);
    } else {
      dropGpu(e, 'training step');
    }
  }
  postGpu();
  if (done > 0 && train.model === m) afterSteps(m, t0, done);
  else postTrainStats();
}

/** After a burst of training steps: the time per step, now and then the model view, and the new losses. */
function afterSteps(m: MlpEnergyModel, t0: number, done: number): void {
  train.msPerStep = (performance.now() - t0) / done;
  const now = performance.now();
  if (now - train.lastHeat > train.viewGap) {
    train.lastHeat = now;
    postModelView(m);
    // Keep drawing under ~1/3 of the time: the next view waits at least twice as long as this one took.
    // A GPU chain run shares the device with the training steps: count its time too.
    train.viewGap = Math.max(400, 2 * (performance.now() - now), gpu.kernels ? 2 * gpu.viewMs : 0);
    post({ type: 'modelInfo', text: describe(m) });
  }
  postTrainStats();
}

function postTrainStats(): void {
  const losses = train.pending;
  train.pending = [];
  post({ type: 'trainStats', running: train.running, step: train.step, losses, lossName: lossName(), msPerStep: train.msPerStep, info: train.info });
}

// ---------------------------------------------------------------------------------------------------------------
// RBM on 8×8 images.

interface RbmRun {
  params: RbmParams;
  running: boolean;
  rbm: RBMParams | null;
  state: RbmCDState;
  data: Tensor | null;
  fantasy: Tensor | null;
  step: number;
  recon: number[];
}

const rbm: RbmRun = {
  params: { data: 'digits', hidden: 64, lr: 0.05, sweeps: 5 },
  running: false, rbm: null, state: initRbmCdState(), data: null, fantasy: null, step: 0, recon: [],
};

function ensureRbm(): RBMParams {
  if (rbm.rbm) return rbm.rbm;
  const k = nextKey();
  rbm.data = rbm.params.data === 'digits' ? digitGlyphs(k, 2000).x : getToy('bars-and-stripes:8').sample(k, 2000);
  const nv = 64;
  // The library's data-dependent start (`ebm train rbm`'s): logit visible biases of the data means, W ~ N(0, 0.01²).
  rbm.rbm = initRbmForData(nextKey(), rbm.data, { visible: 'bernoulli', categories: 1, nVisible: nv, nHidden: rbm.params.hidden });
  rbm.state = initRbmCdState();
  const u = uniformArray(nextKey(), 64 * nv, 'float32');
  for (let i = 0; i < u.length; i++) u[i] = u[i] < 0.5 ? 1 : 0;
  rbm.fantasy = new Tensor(u, [64, nv]);
  rbm.step = 0;
  rbm.recon = [];
  return rbm.rbm;
}

function runRbm(): void {
  let p = ensureRbm();
  const data = rbm.data!;
  const t0 = performance.now();
  let mean: Tensor | null = null;
  while (performance.now() - t0 < BUDGET_MS) {
    const idx = randintArray(nextKey(), 0, data.shape[0], 32);
    const r = cdStep(p, gatherRows(data, idx), nextKey(), rbm.state, { lr: rbm.params.lr, k: 1, persistent: true, momentum: 0.5, reconstruction: true });
    p = r.params;
    rbm.state = r.state;
    rbm.step++;
    if (r.metrics.reconstructionError !== undefined) rbm.recon.push(r.metrics.reconstructionError);
    const g = gibbsSample(p, rbm.fantasy!, nextKey(), 1);
    rbm.fantasy = g.v;
    mean = g.vMean;
  }
  rbm.rbm = p;
  if (rbm.params.sweeps > 1) {
    const g = gibbsSample(p, rbm.fantasy!, nextKey(), rbm.params.sweeps - 1);
    rbm.fantasy = g.v;
    mean = g.vMean;
  }
  postRbm(mean ?? rbm.fantasy!);
}

function postRbm(particles: Tensor): void {
  const part = Float32Array.from(particles.data);
  const dat = Float32Array.from(rbm.data ? rbm.data.data.subarray(0, 64 * 64) : new Float32Array(64 * 64));
  const recon = rbm.recon;
  rbm.recon = [];
  post({ type: 'rbmFrame', running: rbm.running, step: rbm.step, particles: part, data: dat, n: 64, recon }, [part.buffer, dat.buffer]);
}

// ---------------------------------------------------------------------------------------------------------------
// Messages and the loop.

const modes = createModes();
const modeEnv: ModeEnv = { post, nextKey, target: () => target, trainingData, energyGrid };

function fail(e: unknown): void {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}

function handle(msg: ToWorker): void {
  switch (msg.type) {
    case 'target':
      target = makeTarget(msg.id);
      targetId = msg.id;
      postTargetHeatmap();
      resetSampler();
      if (!train.running) {
        // New data for the next training run; a trained model stays until Reset.
        train.data = null;
        if (tab === 'train') trainingData();
      }
      if (!modes.running.ebm) modes.ebm = null;
      if (!modes.running.sde) modes.sde = null;
      if (tab === 'ebm' || tab === 'sde') showMode(modeEnv, modes, tab);
      break;
    case 'tab':
      tab = msg.tab;
      if (tab === 'sample') { postTargetHeatmap(); postSamplerPoints(); }
      if (tab === 'train') {
        trainingData();
        if (train.model) { postModelView(train.model); post({ type: 'modelInfo', text: describe(train.model) }); } else postTargetHeatmap();
      }
      if (tab === 'rbm') { ensureRbm(); postRbm(rbm.fantasy!); }
      if (isModeTab(tab)) { postTargetHeatmap(); showMode(modeEnv, modes, tab); }
      break;
    case 'mode':
      handleMode(modeEnv, modes, msg.mode, msg.cmd, msg.params);
      break;
    case 'sampler':
      if (msg.cmd === 'params' || msg.cmd === 'start') updateSampler(msg.params);
      if (msg.cmd === 'start') sampler.running = true;
      if (msg.cmd === 'stop') sampler.running = false;
      if (msg.cmd === 'reset') { sampler.params = msg.params; resetSampler(); }
      postSamplerStats();
      break;
    case 'train': {
      const old = train.params;
      train.params = msg.params;
      if (msg.params.lr !== old.lr) train.opt = adam(msg.params.lr, { clipNorm: 10 });
      if (msg.params.loss !== old.loss || msg.params.cdSteps !== old.cdSteps || msg.params.cdStepSize !== old.cdStepSize) { train.cd = null; train.cdState = null; }
      if (msg.cmd === 'start') train.running = true;
      // A GPU step in flight posts the stats when it lands (so `running: false` comes after the last step's loss).
      if (msg.cmd === 'stop') { train.running = false; if (!train.gpuBusy) postTrainStats(); }
      if (msg.cmd === 'reset') resetTraining();
      if (msg.params.loss !== old.loss || msg.cmd === 'reset') postGpu(); // where training runs may have changed
      break;
    }
    case 'rbm': {
      const old = rbm.params;
      rbm.params = msg.params;
      if (msg.cmd === 'reset' || msg.params.data !== old.data || msg.params.hidden !== old.hidden) { rbm.rbm = null; ensureRbm(); postRbm(rbm.fantasy!); }
      if (msg.cmd === 'start') rbm.running = true;
      if (msg.cmd === 'stop') { rbm.running = false; postRbm(rbm.fantasy!); }
      break;
    }
    case 'export': {
      if (!train.model) throw new Error('nothing to export yet: train a model (or load one) first');
      const bytes = exportModel(train.model, __EBM_VERSION__);
      const name = `mlp-energy-${String(train.model.provenance.data ?? 'model').replace(/[^a-z0-9]+/gi, '-')}-${train.step}.safetensors`;
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      post({ type: 'exported', name, bytes: buf }, [buf]);
      break;
    }
    case 'load': {
      const m = importModel(new Uint8Array(msg.bytes), msg.name);
      train.model = m;
      train.running = false;
      train.optState = null;
      train.cd = null;
      train.cdState = null;
      train.chains = null;
      train.step = typeof m.provenance.steps === 'number' ? m.provenance.steps : 0;
      train.info = `loaded ${msg.name}`;
      ensureModel();
      postModelView(m);
      post({ type: 'modelInfo', text: `${describe(m)} — loaded from ${msg.name}` });
      postTrainStats();
      postGpu();
      break;
    }
    default:
      throw new Error(`unknown message ${JSON.stringify(msg)}`);
  }
}

ctx.onmessage = (e) => {
  try {
    handle(e.data);
  } catch (err) {
    fail(err);
  }
};

function tick(): void {
  try {
    if (tab === 'sample' && sampler.running && sampler.alg) runSampler();
    else if (tab === 'train' && train.running) runTraining();
    else if (tab === 'rbm' && rbm.running) runRbm();
    else if (isModeTab(tab) && modeBusy(modes, tab)) tickMode(modeEnv, modes, tab);
  } catch (err) {
    if (isModeTab(tab)) stopMode(modes, tab);
    if (tab === 'sample') sampler.running = false;
    if (tab === 'train') train.running = false;
    if (tab === 'rbm') rbm.running = false;
    fail(err);
    if (tab === 'sample') postSamplerStats();
    if (tab === 'train') postTrainStats();
  }
  const busy = (tab === 'sample' && sampler.running) || (tab === 'train' && train.running) || (tab === 'rbm' && rbm.running) || (isModeTab(tab) && modeBusy(modes, tab));
  setTimeout(tick, busy ? (train.gpuBusy ? 4 : 0) : 30);
}

post({ type: 'ready', backend: backend.name });
postGpu();
void startGpu();
postTargetHeatmap();
resetSampler();
tick();
