/**
 * Experiment (issue 13): noise-conditional denoising score matching for the deep-EBM `--loss dsm` defaults. The
 * energy `E(x, σ)` reads the noise level as one extra input `u = 2·log(σ/σ_min)/log(σ_max/σ_min) − 1` next to the
 * Fourier features; training draws each row's σ (standardised units) at σ_min with probability `pmin`, else
 * log-uniformly in [σ_min, σ_max], with the σ²-weighted DSM loss `½‖σ s(x̃, σ) + ε‖²`; the model's density is
 * `exp(−E(x, σ_min))`. Output scale: `none` (E = f), `inv` (E = f·σ_min/σ). `--pde w` adds the heat-equation term
 * `w·mean((τR)²)`, `R = ∂τE − ½(ΔE − ‖∇E‖²)`, on the first `--pde-rows k` rows of the batch (exact 2-D Laplacian).
 * Prints the model's mass per true component (`q`, grid, true responsibilities) next to the true weights (`w`) and the
 * gap of the oracle `p ∗ N(0, σ_min²)`. The experiments that led to `noiseConditionalDenoisingScoreMatching` (the
 * library version, which the defaults use; bench/RESULTS.md "Deep-EBM defaults", wave 3).
 *
 * Usage: `npx tsx bench/deep-ebm-dsm-multinoise.ts --mixtures 106,7 [--smin 0.05] [--smax 1] [--pmin 0.5]
 *   [--scale none|inv] [--pde 1] [--pde-rows 256] [--steps 2000] [--batch 256] [--lr 2e-3] [--confine 0.3] [--ff 0.5]
 *   [--seed 0]`. One JSON line per run.
 */
import { key, split, foldIn, normal, uniformArray } from '../src/random/index.js';
import { Tensor, valueAndGrad, gatherRows, add, mul, sub, square, sum, reshape, concat, grad, noGrad, vjp, sliceAxis } from '../src/tensor/index.js';
import { adam, applyUpdates, cosineDecay, type OptState } from '../src/optim/index.js';
import { epochBatchIndices } from '../src/data/batches.js';
import { applyMLP, fourierFeatureFn, initFourierFeatures, initMLP } from '../src/nn/index.js';
import { deepEbmSettings } from '../src/models/deepEbm/defaults.js';
import { evaluate2d } from '../src/eval/harness2d.js';
import { initBackend } from '../src/tensor/select.js';
import { mixtureData } from './deep-ebm-defaults.js';
import { gaussianMixture, type GaussianMixtureEnergy } from '../src/energy/gmm.js';

/** Model mass per true component (grid, responsibilities of the true mixture) next to the true weights. */
export function modeMasses(E: Energy, g: GaussianMixtureEnergy, bx: [[number, number], [number, number]], N = 300): { w: number[]; q: number[] } {
  const K = g.weights.length;
  const pts = new Float32Array(2 * N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
    pts[2 * (i * N + j)] = bx[0][0] + ((i + 0.5) / N) * (bx[0][1] - bx[0][0]);
    pts[2 * (i * N + j) + 1] = bx[1][0] + ((j + 0.5) / N) * (bx[1][1] - bx[1][0]);
  }
  const X = new Tensor(pts, [N * N, 2]);
  const e = E.energy(X).data;
  let mn = Infinity; for (const v of e) mn = Math.min(mn, v);
  const comps = Array.from({ length: K }, (_, k) => gaussianMixture({ means: [Array.from(g.means[k])], covs: [[[g.covs[k][0], g.covs[k][1]], [g.covs[k][2], g.covs[k][3]]]] }).energy(X).data);
  const q = new Array(K).fill(0); let tot = 0;
  for (let i = 0; i < N * N; i++) {
    const qi = Math.exp(-(e[i] - mn)); tot += qi;
    let mx = -Infinity; const l = comps.map((c, k) => { const v = Math.log(g.weights[k]) - c[i]; mx = Math.max(mx, v); return v; });
    let z = 0; for (const v of l) z += Math.exp(v - mx);
    for (let k = 0; k < K; k++) q[k] += qi * Math.exp(l[k] - mx) / z;
  }
  return { w: Array.from(g.weights, (v) => +v.toFixed(3)), q: q.map((v) => +(v / tot).toFixed(3)) };
}
import type { Energy } from '../src/energy/index.js';
import { paddedBox2d } from './box2d.js';

initBackend();
const args = process.argv.slice(2);
const arg = (k: string): string | undefined => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const mixtures = (arg('--mixtures') ?? '106').split(',').map(Number);
const sMin = Number(arg('--smin') ?? 0.05), sMax = Number(arg('--smax') ?? 1), pmin = Number(arg('--pmin') ?? 0.5);
const scaleMode = arg('--scale') ?? 'none';
const stepsArg = arg('--steps'), lrArg = arg('--lr'), confArg = arg('--confine'), seed = Number(arg('--seed') ?? 0);
const batchArg = arg('--batch'), ffArg = arg('--ff');
const pde = Number(arg('--pde') ?? 0);
const pdeRowsArg = arg('--pde-rows');


for (const m of mixtures) {
  const { g, train, test } = mixtureData(m);
  const s = deepEbmSettings(train, { loss: 'dsm' });
  const steps = stepsArg ? Number(stepsArg) : s.steps;
  const lr0 = lrArg ? Number(lrArg) : s.lr;
  const confine = confArg ? Number(confArg) : s.confine;
  const B = batchArg ? Number(batchArg) : s.batch;
  const pdeRows = pdeRowsArg ? Number(pdeRowsArg) : B;
  const rms = Math.sqrt((s.scale[0] ** 2 + s.scale[1] ** 2) / 2);
  const ffScale = ffArg ? Number(ffArg) : s.fourier!.scale;
  const ff = initFourierFeatures(foldIn(key(seed), 0xf0), 2, s.fourier!.features, ffScale);
  const phi = fourierFeatureFn(ff, 2);
  const shift = new Tensor(Float32Array.from(s.shift), [2]);
  const inv = new Tensor(Float32Array.from(s.scale, (v) => 1 / v), [2]);
  const L = Math.log(sMax / sMin);
  /** E(x, log σ_z [n] as a tensor) in data units. */
  const energyT = (p: Record<string, Tensor>, x: Tensor, ls: Tensor): Tensor => {
    const n = x.shape[0];
    const z = mul(sub(x, shift), inv);
    const u = add(mul(ls, 2 / L), -(2 * Math.log(sMin)) / L - 1);
    const h = concat([phi(z), reshape(u, [n, 1])], 1);
    const f = reshape(applyMLP(p, h, 'silu'), [n]);
    return add(f, mul(sum(square(z), 1), 0.5 * confine));
  };
  const energy = (p: Record<string, Tensor>, x: Tensor, sz: Float32Array): Tensor => energyT(p, x, new Tensor(Float32Array.from(sz, Math.log), [x.shape[0]]));
  const [kInit, kTrain, kData] = split(key(seed), 3);
  const p0 = initMLP(kInit, [2 * ff.features + 1, 128, 128, 1], { activation: 'silu' });
  p0['l2.w'] = new Tensor(p0['l2.w'].data.map((v) => v * 0.1) as Float32Array, p0['l2.w'].shape);
  const opt = adam(cosineDecay(lr0, steps, 0.05));
  let params = p0;
  let st: OptState = opt.init(params);
  const batchIdx = epochBatchIndices(kData, train.shape[0], B);
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let t = 1; t <= steps; t++) {
    const xb = gatherRows(train, batchIdx(t));
    const k = foldIn(kTrain, t);
    const [kU, kS, kE] = split(k, 3);
    const pick = uniformArray(kU, B), r = uniformArray(kS, B);
    const sz = new Float32Array(B), sd = new Float32Array(2 * B);
    for (let i = 0; i < B; i++) { sz[i] = pick[i] < pmin ? sMin : sMin * Math.exp(L * r[i]); sd[2 * i] = sd[2 * i + 1] = sz[i] * rms; }
    const sigD = new Tensor(sd, [B, 2]);
    const eps = normal(kE, [B, 2]);
    const xt = add(xb, mul(eps, sigD));
    const [l, gr] = valueAndGrad((p: Record<string, Tensor>) => {
      const score = mul(grad((y: Tensor) => sum(energy(p, y, sz)))(xt), -1);
      const dsm = mul(sum(square(add(mul(score, sigD), eps))), 0.5 / B);
      if (!(pde > 0)) return dsm;
      // Heat-equation residual on the first k rows, doubled: rows i and k+i are the same noisy point; probes e₀ (first
      // half) and e₁ (second) give H₀₀ and H₁₁.
      const k = pdeRows;
      const xk = sliceAxis(xt, 0, 0, k), szk = sz.subarray(0, k);
      const x2 = concat([xk, xk], 0);
      const ls2 = new Tensor(Float32Array.from([...szk, ...szk], (v) => Math.log(v * rms)), [2 * k]);
      const probe = new Float32Array(4 * k);
      for (let i = 0; i < k; i++) { probe[2 * i] = 1; probe[2 * (k + i) + 1] = 1; }
      const pr = new Tensor(probe, [2 * k, 2]);
      const inner = (y: Tensor) => grad((t: { x: Tensor; s: Tensor }) => sum(energyT(p, t.x, sub(t.s, Math.log(rms)))))({ x: y, s: ls2 });
      let gs: Tensor | null = null;
      const [gx, pull] = vjp((y: Tensor) => { const g2 = inner(y); gs = g2.s; return g2.x; }, x2);
      const hdiag = sum(mul(pull(pr), pr), 1); // [2k]
      const lap = add(sliceAxis(hdiag, 0, 0, k), sliceAxis(hdiag, 0, k, 2 * k));
      const g1 = sliceAxis(gx, 0, 0, k);
      const tau = new Tensor(Float32Array.from(szk, (v) => (v * rms) ** 2), [k]);
      const gsl = sliceAxis(gs!, 0, 0, k);
      // τR = ½ ∂_{log σ}E − ½τ(ΔE − ‖∇E‖²), data units.
      const tR = sub(mul(gsl, 0.5), mul(mul(sub(lap, sum(square(g1), 1)), tau), 0.5));
      return add(dsm, mul(sum(square(tR)), pde / k));
    })(params);
    if (!Number.isFinite(l.item())) throw new Error(`loss ${l.item()} at step ${t}`);
    const [u, next]: [Record<string, Tensor>, OptState[]] = opt.update(gr, st as OptState[], params);
    params = applyUpdates(params, u);
    st = next;
    if (t % 500 === 0) console.error(`m${m} step ${t} loss ${l.item().toFixed(4)} ${((performance.now() - t0) / 1000).toFixed(0)}s`);
  }
  const seconds = (performance.now() - t0) / 1000, cpu = (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1e6;
  const [bl, bh] = paddedBox2d(train, 0.35);
  const pf = params;
  const E: Energy = { dim: 2, energy: (x: Tensor) => noGrad(() => energy(pf, x.dtype === 'float32' ? x : new Tensor(Float32Array.from(x.data), x.shape), new Float32Array(x.shape[0]).fill(sMin))) };
  const rep = evaluate2d({ energy: E, test, trueLogDensity: (x) => { const e = g.energy(x); const z = g.logZ(); return Float64Array.from(e.data, (v) => -v - z); }, box: [[bl[0], bh[0]], [bl[1], bh[1]]], points: 512 });
  const bxx: [[number, number], [number, number]] = [[bl[0], bh[0]], [bl[1], bh[1]]];
  const mm = modeMasses(E, g, bxx);
  const sm = g.smoothed(sMin * rms);
  const orc = evaluate2d({ energy: { dim: 2, energy: (x: Tensor) => sm.energy(x) }, test, trueLogDensity: (x) => { const e = g.energy(x); const z = g.logZ(); return Float64Array.from(e.data, (v) => -v - z); }, box: bxx, points: 512 });
  console.log(JSON.stringify({ mixture: m, seed, sMin, sMax, pmin, scale: scaleMode, pde, pdeRows, steps, lr: lr0, confine, batch: B, ff: ffScale, gap: +rep.nllGap.toFixed(4), se: +rep.nllGapStdErr.toFixed(4), edge: rep.boundaryRatio, seconds: +seconds.toFixed(1), cpu: +cpu.toFixed(1), oracleGap: +orc.nllGap.toFixed(4), ...mm }));
}
