/**
 * Benchmark: the deep-EBM defaults (src/models/deepEbm/defaults.ts) on random 2-D Gaussian mixtures that were never
 * used for tuning. For each mixture seed: 10 000 training and 5 000 test points, a run with library defaults only
 * (`deepEbmSettings` + `deepEbmSetup` + `trainDeepEbm`, exactly what `ebm train ebm --data train.csv` runs), test NLL
 * with grid log Z next to the true NLL.
 *
 * Usage: `npx tsx bench/deep-ebm-defaults.ts [--mixtures 101,102] [--seeds 0] [--loss cd|dsm] [--steps N]
 *   [--set 'key=value;…']` (overrides of DeepEbmSettings fields for tuning; numbers or JSON). Prints one JSON line per run.
 */
import { key, split, foldIn } from '../src/random/index.js';
import { gaussianMixture } from '../src/energy/gmm.js';
import { randomGaussianMixtureParams } from '../src/data/randomMixture.js';
import { initDeepEbm, deepEbmEnergy, trainDeepEbm } from '../src/models/deepEbm/index.js';
import { deepEbmSettings, deepEbmSetup, type DeepEbmSettings } from '../src/models/deepEbm/defaults.js';
import { trainDeepEbmDsm } from '../src/models/deepEbm/dsm.js';
import { evaluate2d } from '../src/eval/harness2d.js';
import { Tensor } from '../src/tensor/index.js';
import { initBackend } from '../src/tensor/select.js';
import { paddedBox2d } from './box2d.js';

initBackend();
const args = process.argv.slice(2);
const arg = (k: string): string | undefined => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const mixtures = (arg('--mixtures') ?? '101').split(',').map(Number);
const seeds = (arg('--seeds') ?? '0').split(',').map(Number);
const loss = (arg('--loss') ?? 'cd') as 'cd' | 'dsm';
const over: Record<string, unknown> = {};
for (const kv of (arg('--set') ?? '').split(';').filter(Boolean)) { const i = kv.indexOf('='); over[kv.slice(0, i)] = JSON.parse(kv.slice(i + 1)); }
if (arg('--steps')) over.steps = Number(arg('--steps'));

export function mixtureData(m: number, nTrain = 10000, nTest = 5000) {
  const g = gaussianMixture(randomGaussianMixtureParams(key(m)));
  const [kTr, kTe] = split(foldIn(key(m), 1), 2);
  return { g, train: g.sample!(kTr, nTrain, 'float32'), test: g.sample!(kTe, nTest, 'float32') };
}


if (process.argv[1]?.endsWith("deep-ebm-defaults.ts")) for (const m of mixtures) for (const seed of seeds) {
  const { g, train, test } = mixtureData(m);
  // sigmaZ override: standardised units (× rms of the data's scale).
  const rms = Math.sqrt(deepEbmSettings(train).scale.reduce((a, v) => a + v * v, 0) / 2);
  const o2: Record<string, unknown> = { ...over };
  if (typeof over.sigmaZ === 'number') { o2.sigma = over.sigmaZ * rms; delete o2.sigmaZ; }
  const s: DeepEbmSettings = deepEbmSettings(train, { loss, ...(o2 as Partial<DeepEbmSettings>) });
  const [low, high] = paddedBox2d(train, 0.1);
  const [kInit, kRun] = split(key(seed), 3);
  const t0 = performance.now(), c0 = process.cpuUsage();
  let params: Record<string, Tensor>, cfg;
  if (s.loss === 'cd') {
    const su = deepEbmSetup(s, key(seed), low, high);
    cfg = su.cfg;
    const res = trainDeepEbm({ params: initDeepEbm(kInit, cfg), loss: su.cd, data: train, steps: s.steps, batchSize: s.batch, key: kRun, lr: su.lr, ...(s.ema !== null ? { emaDecay: s.ema } : {}), logEvery: 500,
      onLog: (r) => console.error(`m${m} s${seed} step ${r.step} gap ${r.gap.toFixed(3)} ${r.time.toFixed(0)}s`) });
    params = res.emaParams ?? res.params;
  } else {
    const r = trainDeepEbmDsm(train, s, key(seed));
    cfg = r.cfg; params = r.params;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1e6;
  // Two quadrature boxes: the data box widened by 35 % per side (the first protocol, 512² points), and by 150 % per side
  // (1024² points), which holds the mass of the score-matching models' tails (their edge ratio at 35 % is 1e-2…5e-2,
  // so the small box misses mass and flatters the gap).
  const trueLogDensity = (x: Tensor) => { const e = g.energy(x); const z = g.logZ(); return Float64Array.from(e.data, (v) => -v - z); };
  const evalBox = (pad: number, points: number) => {
    const [bl, bh] = paddedBox2d(train, pad);
    return evaluate2d({ energy: deepEbmEnergy(params, cfg), test, trueLogDensity, box: [[bl[0], bh[0]], [bl[1], bh[1]]], points });
  };
  const rep = evalBox(0.35, 512), wide = evalBox(1.5, 1024);
  console.log(JSON.stringify({ mixture: m, seed, loss: s.loss, steps: s.steps, over, trueNll: +rep.trueNll.toFixed(4), modelNll: +rep.modelNll.toFixed(4), gap: +rep.nllGap.toFixed(4), se: +rep.nllGapStdErr.toFixed(4), logZErr: rep.logZError, edge: rep.boundaryRatio,
    gapWide: +wide.nllGap.toFixed(4), seWide: +wide.nllGapStdErr.toFixed(4), edgeWide: wide.boundaryRatio, logZErrWide: wide.logZError, seconds: +seconds.toFixed(1), cpu: +cpu.toFixed(1) }));
}
