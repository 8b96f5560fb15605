/**
 * The worker side of the playground's three "what the seed is about" tabs, each a thin adapter over the library:
 *
 * - **CD** — a deep EBM (`models/deepEbm`) trained by contrastive divergence with Langevin negatives from a replay
 *   buffer or from parallel-tempering chains (`losses/contrastiveDivergence`), run by the CLI's trainer
 *   (`trainDeepEbm`, divergence guard included) in short resumed chunks; the negatives are drawn on the heat map and
 *   the figures are those `ebm train ebm` / `ebm eval` print (loss, energy gap, grad norm, rollbacks, log Z, avgLogLik).
 * - **Score SDE** — the `score-sde` kind (`models/scoreSde`) on a VP SDE, trained by its pure `scoreSdeTrainStep`
 *   (continuous DSM, uniform times), then the reverse-time Euler–Maruyama sampler (`scoreSdeSampler`) animated from the prior to the data, with its MMD to
 *   fresh data at the end.
 * - **JEM** — `models/jem` on the playground's 8×8 digit glyphs, trained by `trainJemModel` in resumed chunks;
 *   class-conditional SGLD samples (one row per class) and the figures of `ebm eval` (accuracy, ECE, NLL).
 *
 * A run is always "the same run" as the CLI's: the chunks resume the trainer's state, so stopping and restarting does
 * not change the result.
 */
import { Tensor, noGrad, gatherRows } from 'ebm-ts/tensor';
import { foldIn, split, randintArray, type Key } from 'ebm-ts/random';
import type { Energy } from 'ebm-ts/energy';
import { ula, geometricTemperatures } from 'ebm-ts/samplers';
import { contrastiveDivergence, type CDLoss } from 'ebm-ts/losses';
import { gridLogZ } from 'ebm-ts/eval';
import { mmd } from 'ebm-ts/eval';
import {
  parseArch, initDeepEbm, deepEbmEnergy, deepEbmEnergies, standardization, trainDeepEbm, type DeepEbmConfig, type DeepEbmResumeState,
} from 'ebm-ts/deepEbm';
import type { DiffusionState } from 'ebm-ts/diffusion';
import { makeScoreSdeConfig, sdeOf, netShape, toModelSpace, toDataSpace, type ScoreArch, type ScoreSdeConfig } from 'ebm-ts/scoreSde';
import { initScoreSdeState, scoreSdeTrainStep, type ScoreSdeTrainState } from 'ebm-ts/scoreSde';
import { scoreSdeSampler } from 'ebm-ts/scoreSde';
import {
  jemConfig, jemStandardization, trainJemModel, sampleJemModel, evaluateJemModel, type JemConfig,
} from 'ebm-ts/jem';
import type { MLPParams } from 'ebm-ts/nn';
import type { SamplingAlgorithm } from 'ebm-ts/samplers';
import type { DiffusionInfo } from 'ebm-ts/diffusion';
import { digitGlyphs } from './digits.js';
import type { Bounds, Target } from './targets.js';
import type { FromWorker, ModeParams, ModeTab } from './protocol.js';

/** What the worker lends the modes. */
export interface ModeEnv {
  post(m: FromWorker, transfer?: Transferable[]): void;
  nextKey(): Key;
  target(): Target;
  /** Training data `[2000, 2]` of the current 2-D target (posted as the `data` layer). */
  trainingData(): Tensor;
  energyGrid(e: Energy, b: Bounds, res: number): Float32Array;
}

const BUDGET_MS = 60;
const RES = 64;
const fmt = (v: number): string => (Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString()) : String(v));

// ---------------------------------------------------------------------------------------------------------------
// CD: deep EBM with Langevin negatives (replay buffer or parallel tempering).

interface EbmRun {
  cfg: DeepEbmConfig;
  loss: CDLoss<Record<string, Tensor>>;
  data: Tensor;
  heldOut: Tensor;
  key: Key;
  params0: Record<string, Tensor>;
  state: DeepEbmResumeState<Record<string, Tensor>> | null;
  chunk: number;
  last: { loss: number; gap: number; gradNorm: number } | null;
  rollbacks: number;
  negatives: ModeParams['negatives'];
  mcmcSteps: number;
  chains: number;
  lastView: number;
  figures: [string, string][];
}

/** The CLI flags of a CD run (shown next to the figures). */
function ebmCli(r: EbmRun, steps: number): string {
  const t = r.negatives === 'tempered';
  return `ebm train ebm --data <target> --arch mlp:2-64-64-1 --negatives ${r.negatives}${t ? ` --sampler mala --t-max 10 --temps 6 --chains ${r.chains} --step-size 4e-3` : ' --step-size 1e-3'} --mcmc-steps ${r.mcmcSteps} --confine 1e-2 --batch 128 --lr 2e-3 --steps ${steps}`;
}

function newEbm(env: ModeEnv, p: ModeParams): EbmRun {
  const data = env.trainingData();
  const tg = env.target();
  const heldOut = tg.sample ? tg.sample(env.nextKey(), 1000) : data;
  const std = standardization(data);
  const cfg: DeepEbmConfig = { arch: parseArch('mlp:2-64-64-1'), activation: 'silu', shift: std.shift, scale: std.scale, confine: 1e-2 };
  const [x0, x1, y0, y1] = tg.bounds;
  const tempered = p.negatives === 'tempered';
  const chains = 128;
  const loss = contrastiveDivergence<Record<string, Tensor>>({
    energy: (q) => deepEbmEnergy(q, cfg),
    sampler: (E) => ula(E, { stepSize: 1e-3 }),
    steps: p.mcmcSteps,
    negatives: p.negatives,
    ...(tempered ? { tempering: { temperatures: geometricTemperatures(10, 6), stepSize: 4e-3, local: 'mala' as const }, chains } : {}),
    bufferSize: 2000,
    reinit: tempered ? 0 : 0.05,
    reinitFrom: { kind: 'uniform', low: [x0, y0], high: [x1, y1] },
  });
  const key = env.nextKey();
  return {
    cfg, loss, data, heldOut, key, params0: initDeepEbm(foldIn(key, 1), cfg), state: null, chunk: 1, last: null, rollbacks: 0,
    negatives: p.negatives, mcmcSteps: p.mcmcSteps, chains, lastView: 0, figures: [],
  };
}

/** The next chunk of training steps (1…50): grown or shrunk so that one chunk takes about BUDGET_MS per frame. */
function nextChunk(chunk: number, ms: number): number {
  return Math.max(1, Math.min(50, Math.round(chunk * (ms > BUDGET_MS ? 0.7 : 1.3)) || 1));
}

function runEbm(env: ModeEnv, r: EbmRun): number[] {
  const from = r.state?.step ?? 0;
  const losses: number[] = [];
  const t0 = performance.now();
  const res = trainDeepEbm({
    params: r.params0, loss: r.loss, data: r.data, steps: from + r.chunk, batchSize: 128, key: foldIn(r.key, 2), lr: 2e-3,
    guard: { maxRollbacks: 5 }, logEvery: 1,
    ...(r.state ? { resume: r.state } : {}),
    checkpointEvery: 1_000_000,
    onCheckpoint: (s) => { r.state = s; },
    onLog: (rec) => { if (rec.step > from) losses.push(rec.loss); r.last = { loss: rec.loss, gap: rec.gap, gradNorm: rec.gradNorm }; },
  });
  r.rollbacks = res.events.length;
  r.chunk = nextChunk(r.chunk, performance.now() - t0);
  return losses;
}

function viewEbm(env: ModeEnv, r: EbmRun): void {
  const params = r.state?.params ?? r.params0;
  const tg = env.target();
  const E = deepEbmEnergy(params, r.cfg);
  const energy = env.energyGrid(E, tg.bounds, RES);
  env.post({ type: 'heatmap', source: 'model', res: RES, bounds: [...tg.bounds] as [number, number, number, number], energy, temperature: 1 }, [energy.buffer]);
  const buf = r.state?.cd.buffer;
  if (buf) {
    // The negatives: the T = 1 chains (tempered: rows 0…C−1) or the first rows of the replay buffer.
    const m = Math.min(r.negatives === 'tempered' ? r.chains : 300, buf.shape[0]);
    const pts = Float32Array.from(buf.data.subarray(0, 2 * m));
    env.post({ type: 'points', layer: 'model', pts }, [pts.buffer]);
  }
  // `ebm eval` on held-out data: log Z by grid quadrature on the target's box, avgLogLik = −mean E − log Z.
  const [x0, x1, y0, y1] = tg.bounds;
  const z = gridLogZ(E, { box: [[x0, x1], [y0, y1]], points: 128 });
  const e = deepEbmEnergies(params, r.cfg, r.heldOut);
  let s = 0;
  for (const v of e) s += v;
  const step = r.state?.step ?? 0;
  r.figures = [
    ['step', String(step)], ['loss', fmt(r.last?.loss ?? NaN)], ['energy gap', fmt(r.last?.gap ?? NaN)], ['grad norm', fmt(r.last?.gradNorm ?? NaN)],
    ['rollbacks', String(r.rollbacks)], ['logZ', fmt(z.logZ)], ['avgLogLik', fmt(-s / e.length - z.logZ)],
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Score SDE: continuous DSM on a VP SDE, then the reverse-time sampler animated.

interface SdeRun {
  cfg: ScoreSdeConfig;
  /** Training rows in model space (standardised by the config). */
  data: Tensor;
  state: ScoreSdeTrainState;
  key: Key;
  sampling: { alg: SamplingAlgorithm<DiffusionState, DiffusionInfo>; state: DiffusionState; key: Key } | null;
  lastLoss: number;
  mmd: number | null;
  figures: [string, string][];
}

// `ebm train score --sde vp --arch mlp:64,64 --t-sampling uniform --lr 2e-3`: the library's config, step and sampler.
const SDE_LR = 2e-3;
const SDE_STEPS = 200;
const SDE_ARCH: ScoreArch = { kind: 'mlp', hidden: [64, 64], embedDim: 16, activation: 'silu' };

function newSde(env: ModeEnv): SdeRun {
  const raw = env.trainingData();
  const cfg = makeScoreSdeConfig(raw, { sde: 'vp', arch: SDE_ARCH, tSampling: 'uniform' });
  return {
    cfg, data: toModelSpace(cfg, raw), state: initScoreSdeState(cfg, env.nextKey(), { lr: SDE_LR }), key: env.nextKey(),
    sampling: null, lastLoss: NaN, mmd: null, figures: [],
  };
}

function runSdeTraining(r: SdeRun): number[] {
  const losses: number[] = [];
  const step = scoreSdeTrainStep(r.cfg, { lr: SDE_LR });
  const t0 = performance.now();
  while (performance.now() - t0 < BUDGET_MS || !losses.length) {
    const [kb, kl] = split(foldIn(r.key, r.state.step + 1), 2);
    const batch = gatherRows(r.data, randintArray(kb, 0, r.data.shape[0], 128));
    const [next, info] = step(r.state, batch, kl);
    r.state = next;
    r.lastLoss = info.loss;
    losses.push(info.loss);
  }
  return losses;
}

function startSdeSampling(env: ModeEnv, r: SdeRun): void {
  const alg = scoreSdeSampler(r.state.params, r.cfg, { sampler: 'em', steps: SDE_STEPS });
  r.sampling = { alg, state: alg.init(sdeOf(r.cfg).priorSample(env.nextKey(), netShape(r.cfg, 500), 'float32')), key: env.nextKey() };
  r.mmd = null;
}

/** A few reverse-time steps; returns true when the sampler reached t = eps. */
function runSdeSampling(r: SdeRun): boolean {
  const s = r.sampling!;
  const t0 = performance.now();
  let k = 0;
  while (!s.state.done && (k < 2 || performance.now() - t0 < 25)) {
    s.state = s.alg.step(foldIn(s.key, s.state.step), s.state)[0];
    k++;
  }
  if (s.state.done && r.mmd === null) {
    // Like `ebm eval` on samples: squared MMD to fresh training rows (standardised units, bandwidths 0.1…2).
    r.mmd = mmd(s.state.position, new Tensor(r.data.data.slice(0, 1000), [500, 2]), [0.1, 0.2, 0.5, 1, 2]);
  }
  return s.state.done;
}

function viewSde(env: ModeEnv, r: SdeRun): void {
  if (r.sampling) {
    const pts = Float32Array.from(toDataSpace(r.cfg, r.sampling.state.position).data);
    env.post({ type: 'points', layer: 'model', pts }, [pts.buffer]);
  }
  const t = r.sampling ? r.sampling.state.t : null;
  r.figures = [
    ['step', String(r.state.step)], ['loss (DSM, λ = σ²)', fmt(r.lastLoss)],
    ['sampler', r.sampling ? `euler-maruyama ${r.sampling.state.step}/${SDE_STEPS}` : '—'], ['t', t === null ? '—' : t.toFixed(3)],
    ['MMD² to data', r.mmd === null ? '—' : fmt(r.mmd)],
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// JEM on the 8×8 digit glyphs.

interface JemRun {
  cfg: JemConfig;
  x: Tensor;
  y: Int32Array;
  testX: Tensor;
  testY: Int32Array;
  key: Key;
  state: DeepEbmResumeState<MLPParams> | null;
  chunk: number;
  last: { loss: number; ce: number; acc: number } | null;
  rollbacks: number;
  figures: [string, string][];
}

function newJem(env: ModeEnv): JemRun {
  const tr = digitGlyphs(env.nextKey(), 2000), te = digitGlyphs(env.nextKey(), 500);
  const std = jemStandardization(tr.x, true);
  const cfg = jemConfig({
    dim: 64, classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], hidden: [64], shift: std.shift, scale: std.scale, imageShape: [8, 8],
    sgld: { box: std.box }, bufferSize: 1000,
  });
  return { cfg, x: tr.x, y: tr.labels, testX: te.x, testY: te.labels, key: env.nextKey(), state: null, chunk: 1, last: null, rollbacks: 0, figures: [] };
}

const JEM_TOTAL = 100_000;

function runJem(r: JemRun): number[] {
  const from = r.state?.step ?? 0;
  const losses: number[] = [];
  const t0 = performance.now();
  const res = trainJemModel({
    cfg: r.cfg, x: r.x, y: r.y, steps: from + r.chunk, batchSize: 64, key: r.key, lr: 2e-3, warmup: 20, logEvery: 1,
    ...(r.state ? { resume: r.state } : {}),
    checkpointEvery: 1_000_000,
    onCheckpoint: (s) => { r.state = s; },
    onLog: (rec) => { if (rec.step > from) losses.push(rec.loss); r.last = { loss: rec.loss, ce: rec.ce, acc: rec.acc }; },
  });
  r.rollbacks = res.events.length;
  r.chunk = nextChunk(r.chunk, performance.now() - t0);
  if (from + r.chunk > JEM_TOTAL) r.chunk = Math.max(1, JEM_TOTAL - from);
  return losses;
}

function viewJem(env: ModeEnv, r: JemRun, perClass: number, sgldSteps: number): void {
  const params = r.state?.params;
  if (!params) return;
  const k = env.nextKey();
  const n = perClass * 10;
  const out = new Float32Array(n * 64);
  for (let c = 0; c < 10; c++) {
    const x = sampleJemModel(params, r.cfg, { key: foldIn(k, c), n: perClass, steps: sgldSteps, classIndex: c });
    out.set(Float32Array.from(x.data, (v) => Math.min(1, Math.max(0, v))), c * perClass * 64);
  }
  env.post({ type: 'jemFrame', samples: out, perClass }, [out.buffer]);
  const ev = noGrad(() => evaluateJemModel(params, r.cfg, r.testX, r.testY));
  r.figures = [
    ['step', String(r.state?.step ?? 0)], ['loss', fmt(r.last?.loss ?? NaN)], ['batch accuracy', fmt(r.last?.acc ?? NaN)],
    ['accuracy', fmt(ev.accuracy)], ['ece', fmt(ev.ece)], ['nll', fmt(ev.nll)], ['avgLogPx', fmt(ev.avgLogPx)], ['rollbacks', String(r.rollbacks)],
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The modes' shared run loop.

/** State of the three modes (one run each, kept while switching tabs). */
export interface Modes {
  params: ModeParams;
  running: Record<ModeTab, boolean>;
  ebm: EbmRun | null;
  sde: SdeRun | null;
  jem: JemRun | null;
  lastView: Record<ModeTab, number>;
}

/** Fresh mode state. */
export function createModes(): Modes {
  return {
    params: { negatives: 'buffer', mcmcSteps: 20, jemPerClass: 8, jemSgldSteps: 40 },
    running: { ebm: false, sde: false, jem: false }, ebm: null, sde: null, jem: null, lastView: { ebm: 0, sde: 0, jem: 0 },
  };
}

/** True for the tabs handled here. */
export function isModeTab(tab: string): tab is ModeTab {
  return tab === 'ebm' || tab === 'sde' || tab === 'jem';
}

function cliLine(m: Modes, mode: ModeTab): string {
  if (mode === 'ebm') return m.ebm ? ebmCli(m.ebm, m.ebm.state?.step ?? 0) : '';
  if (mode === 'sde') return `ebm train score --data <target> --sde vp --arch mlp:64,64 --t-sampling uniform --steps ${m.sde?.state.step ?? 0} --lr 2e-3 && ebm sample model.safetensors --sampler em --steps ${SDE_STEPS}`;
  return `ebm train jem --data digits --hidden 64 --sgld-steps 10 --buffer 1000 --lr 2e-3 --warmup 20 --steps ${m.jem?.state?.step ?? 0} && ebm sample jem.safetensors --class k --steps ${m.params.jemSgldSteps}`;
}

function postStats(env: ModeEnv, m: Modes, mode: ModeTab, losses: number[], info = ''): void {
  const r = m[mode];
  const step = mode === 'sde' ? m.sde?.state.step ?? 0 : (r as EbmRun | JemRun | null)?.state?.step ?? 0;
  const sampling = mode === 'sde' && !!m.sde?.sampling && !m.sde.sampling.state.done;
  env.post({ type: 'modeStats', mode, running: m.running[mode] || sampling, step, losses, figures: r?.figures ?? [], cli: cliLine(m, mode), info });
}

/** Creates the run of a mode on first use (and shows it). */
function ensure(env: ModeEnv, m: Modes, mode: ModeTab): void {
  if (mode === 'ebm' && !m.ebm) m.ebm = newEbm(env, m.params);
  if (mode === 'sde' && !m.sde) m.sde = newSde(env);
  if (mode === 'jem' && !m.jem) m.jem = newJem(env);
}

/** Shows a mode's current state (on tab switch). */
export function showMode(env: ModeEnv, m: Modes, mode: ModeTab): void {
  if (mode !== 'jem') env.trainingData();
  if (mode === 'ebm' && m.ebm) viewEbm(env, m.ebm);
  if (mode === 'sde' && m.sde) viewSde(env, m.sde);
  if (mode === 'jem' && m.jem) viewJem(env, m.jem, m.params.jemPerClass, m.params.jemSgldSteps);
  postStats(env, m, mode, []);
}

/** Handles a control message of a mode. */
export function handleMode(env: ModeEnv, m: Modes, mode: ModeTab, cmd: 'start' | 'stop' | 'reset' | 'params' | 'sample', p: ModeParams): void {
  const old = m.params;
  m.params = p;
  // New negatives or chain length: a new CD run (the loss and its state depend on them).
  if (mode === 'ebm' && m.ebm && (p.negatives !== old.negatives || p.mcmcSteps !== old.mcmcSteps) && !m.running.ebm) m.ebm = null;
  if (cmd === 'reset') {
    m.running[mode] = false;
    m[mode] = null;
    postStats(env, m, mode, [], 'reset');
    return;
  }
  if (cmd === 'start') { ensure(env, m, mode); m.running[mode] = true; }
  if (cmd === 'stop') {
    m.running[mode] = false;
    showMode(env, m, mode);
    return;
  }
  if (cmd === 'sample' && mode === 'sde') {
    ensure(env, m, 'sde');
    m.running.sde = false;
    startSdeSampling(env, m.sde!);
  }
  postStats(env, m, mode, []);
}

/** True while a mode has work to do. */
export function modeBusy(m: Modes, mode: ModeTab): boolean {
  return m.running[mode] || (mode === 'sde' && !!m.sde?.sampling && !m.sde.sampling.state.done);
}

/** One cooperative slice of work of a mode, then the views and figures (views at most every 700 ms). */
export function tickMode(env: ModeEnv, m: Modes, mode: ModeTab): void {
  let losses: number[] = [];
  const now = performance.now();
  let forceView = false;
  if (mode === 'ebm' && m.running.ebm) losses = runEbm(env, m.ebm!);
  if (mode === 'jem' && m.running.jem) losses = runJem(m.jem!);
  if (mode === 'sde') {
    if (m.running.sde) losses = runSdeTraining(m.sde!);
    else if (m.sde?.sampling && !m.sde.sampling.state.done) forceView = runSdeSampling(m.sde) || true;
  }
  if (forceView || now - m.lastView[mode] > (mode === 'jem' ? 1500 : 700)) {
    m.lastView[mode] = now;
    if (mode === 'ebm' && m.ebm) viewEbm(env, m.ebm);
    if (mode === 'sde' && m.sde) viewSde(env, m.sde);
    if (mode === 'jem' && m.jem) viewJem(env, m.jem, m.params.jemPerClass, m.params.jemSgldSteps);
  }
  postStats(env, m, mode, losses);
}

/** Stops a mode after an error. */
export function stopMode(m: Modes, mode: ModeTab): void {
  m.running[mode] = false;
  if (mode === 'sde' && m.sde) m.sde.sampling = null;
}
