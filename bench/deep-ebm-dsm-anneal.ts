/**
 * Experiment (issue 13): denoising score matching with a noise-level schedule — σ annealed geometrically from
 * `σ_z,start` to the default `σ_z` over the first `frac` of the steps, then held — on the DSM defaults otherwise
 * (features, confining term, steps, lr), to see whether large-σ phases fix the relative weights of separated modes.
 *
 * Usage: `npx tsx bench/deep-ebm-dsm-anneal.ts --mixtures 106,7 [--start 0.5] [--frac 0.75]`. One JSON line per run.
 */
import { key, split, foldIn } from '../src/random/index.js';
import { Tensor, valueAndGrad, gatherRows } from '../src/tensor/index.js';
import { adam, applyUpdates, type OptState } from '../src/optim/index.js';
import { denoisingScoreMatching } from '../src/losses/scoreMatching.js';
import { epochBatchIndices } from '../src/data/batches.js';
import { initDeepEbm, deepEbmEnergy } from '../src/models/deepEbm/index.js';
import { deepEbmSettings, deepEbmSetup } from '../src/models/deepEbm/defaults.js';
import { evaluate2d } from '../src/eval/harness2d.js';
import { initBackend } from '../src/tensor/select.js';
import { mixtureData } from './deep-ebm-defaults.js';
import { paddedBox2d } from './box2d.js';

initBackend();
const args = process.argv.slice(2);
const arg = (k: string): string | undefined => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const mixtures = (arg('--mixtures') ?? '106').split(',').map(Number);
const start = Number(arg('--start') ?? 0.5), frac = Number(arg('--frac') ?? 0.75);


for (const m of mixtures) {
  const { g, train, test } = mixtureData(m);
  const s = deepEbmSettings(train, { loss: 'dsm' });
  const sigmaEnd = s.sigma, sigmaStart = (start / 0.05) * s.sigma; // start is in σ_z units (default σ_z 0.05)
  const { cfg, lr } = deepEbmSetup({ ...s, negatives: 'buffer' }, key(0), [0], [1]);
  const model = { energy: (p: Record<string, Tensor>, z: Tensor) => deepEbmEnergy(p, cfg).energy(z) };
  const [kInit, kTrain, kData] = split(key(0), 3);
  const opt = adam(lr);
  let params = initDeepEbm(kInit, cfg);
  let st: OptState = opt.init(params);
  const batchIdx = epochBatchIndices(kData, train.shape[0], s.batch);
  const t0 = performance.now();
  const T1 = Math.round(frac * s.steps);
  for (let t = 1; t <= s.steps; t++) {
    const sigma = t >= T1 ? sigmaEnd : sigmaStart * (sigmaEnd / sigmaStart) ** ((t - 1) / T1);
    const loss = denoisingScoreMatching(model, { sigma });
    const xb = gatherRows(train, batchIdx(t));
    const [l, gr] = valueAndGrad((p: Record<string, Tensor>) => loss(p, xb, foldIn(kTrain, t)).loss)(params);
    if (!Number.isFinite(l.item())) throw new Error(`loss ${l.item()} at step ${t}`);
    const [u, next]: [Record<string, Tensor>, OptState[]] = opt.update(gr, st as OptState[], params);
    params = applyUpdates(params, u);
    st = next;
  }
  const seconds = (performance.now() - t0) / 1000;
  const [bl, bh] = paddedBox2d(train, 0.35);
  const rep = evaluate2d({ energy: deepEbmEnergy(params, cfg), test, trueLogDensity: (x) => { const e = g.energy(x); const z = g.logZ(); return Float64Array.from(e.data, (v) => -v - z); }, box: [[bl[0], bh[0]], [bl[1], bh[1]]], points: 512 });
  console.log(JSON.stringify({ mixture: m, start, frac, gap: +rep.nllGap.toFixed(4), se: +rep.nllGapStdErr.toFixed(4), edge: rep.boundaryRatio, seconds: +seconds.toFixed(1) }));
}
