/**
 * JEM on MNIST vs the same MLP trained as a plain classifier (same batches, optimiser, steps): test accuracy,
 * expected calibration error, NLL, and out-of-distribution AUROC against Fashion-MNIST (if Debian's
 * `dataset-fashion-mnist` is installed) and noise, for the scores log p(x), max p(y|x) and ‖∇ₓ log p(x)‖.
 * Writes a markdown section between `<!-- jem:start -->` and `<!-- jem:end -->` of bench/RESULTS.md with `--write`.
 *
 *   npx tsx bench/jem.ts [--train 10000] [--test 2000] [--epochs 20] [--batch 64] [--sgld 10] [--hidden 256,256]
 *                        [--lr 1e-3] [--lr-jem <lr>] [--warmup 1000] [--decay cosine|none] [--px 0.1] [--buffer 5000] [--reinit 0.05]
 *                        [--alpha 0.01] [--sgld-step 1] [--sgld-noise 0.01] [--seed 0] [--samples bench/jem-samples.png] [--write]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../src/tensor/index.js';
import { initBackend, backendInfo } from '../src/tensor/select.js';
import { key, foldIn, uniformArray, normalArray } from '../src/random/index.js';
import { initMLP, type MLPParams } from '../src/nn/index.js';
import { loadMnist, loadFashionMnist, FASHION_MNIST_DIR } from '../src/data/mnist.js';
import { mlpClassifier, trainJem, jemPredict, jemScores, jemAnomalyScore, sampleJem, jemEnergy, type JemScoreName } from '../src/models/jem/index.js';
import { accuracy, expectedCalibrationError, negLogLik } from '../src/eval/classification.js';
import { auroc, inOutLabels } from '../src/eval/detection.js';
import { imageGridPng } from '../src/io/png.js';
import { noGrad } from '../src/tensor/index.js';
import { ula } from '../src/samplers/index.js';
import { linearWarmup, warmupCosine, cosineDecay, type Schedule } from '../src/optim/index.js';
import { reliabilityBins } from '../src/eval/classification.js';
import type { NegativeSampler } from '../src/losses/contrastiveDivergence.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const NTRAIN = Number(arg('train', '10000'));
const NTEST = Number(arg('test', '2000'));
const EPOCHS = Number(arg('epochs', '20'));
const BATCH = Number(arg('batch', '64'));
const SGLD = Number(arg('sgld', '10'));
const HIDDEN = arg('hidden', '256,256').split(',').map(Number);
const LR = Number(arg('lr', '1e-3'));
const SEED = Number(arg('seed', '0'));
const SAMPLES = arg('samples', '');
const ALPHA = Number(arg('alpha', '0.01'));
const GSTEP = Number(arg('sgld-step', '1'));
const NOISE = Number(arg('sgld-noise', '0.01'));
/** JEM-only learning rate (default: the same as `--lr`). */
const LR_JEM = Number(arg('lr-jem', String(LR)));
/** Linear warm-up steps from 0 (both models; 0 = none). */
const WARMUP = Number(arg('warmup', '1000'));
/** Learning-rate decay after warm-up (both models): 'none' or 'cosine' (to 0 at the last step). */
const DECAY = arg('decay', 'cosine');
/** Weight of the log p(x) term. */
const PX = Number(arg('px', '0.1'));
const BUFFER = Number(arg('buffer', '5000'));
const REINIT = Number(arg('reinit', '0.05'));
if (DECAY !== 'none' && DECAY !== 'cosine') throw new RangeError(`--decay must be 'none' or 'cosine', got ${DECAY}`);

/** Pixels p ∈ [0, 1] → 2p − 1 ∈ [−1, 1] (JEM's scaling; SGLD restarts are uniform on [−1, 1]). */
function toSym(x: Tensor): Tensor {
  return new Tensor(Float32Array.from(x.data, (v) => 2 * v - 1), x.shape);
}

const fmt = (v: number, d = 4): string => (Number.isFinite(v) ? v.toFixed(d) : String(v));

function main(): void {
  initBackend();
  const bi = backendInfo();
  const tr = loadMnist('train', { limit: NTRAIN });
  const te = loadMnist('test', { limit: NTEST });
  const xTr = toSym(tr.x), xTe = toSym(te.x);
  const D = 784, K = 10;
  const haveFashion = existsSync(FASHION_MNIST_DIR);
  const ood: { name: string; x: Tensor }[] = [];
  if (haveFashion) ood.push({ name: 'Fashion-MNIST test', x: toSym(loadFashionMnist('test', { limit: NTEST }).x) });
  const u = uniformArray(foldIn(key(SEED), 77), NTEST * D, 'float64');
  ood.push({ name: 'uniform noise U[−1,1]', x: new Tensor(Float32Array.from(u, (v) => 2 * v - 1), [NTEST, D]) });
  const z = normalArray(foldIn(key(SEED), 78), NTEST * D, 'float64');
  // Gaussian noise matched to the MNIST pixel mean and std (in [−1, 1] units), clipped to [−1, 1].
  let m = 0, s2 = 0;
  for (const v of xTr.data) { m += v; s2 += v * v; }
  m /= xTr.size; const sd = Math.sqrt(s2 / xTr.size - m * m);
  ood.push({ name: `Gaussian noise N(${m.toFixed(2)}, ${sd.toFixed(2)}²), clipped`, x: new Tensor(Float32Array.from(z, (v) => Math.max(-1, Math.min(1, m + sd * v))), [NTEST, D]) });

  const f = mlpClassifier('silu');
  // JEM's SGLD, x ← clamp(x − α∇E + s·ξ, −1, 1): the box keeps chains in the pixel range.
  const sgld: NegativeSampler = (E) => ula(E, { gradStep: GSTEP, noiseScale: NOISE, box: [-1, 1] });
  const steps = Math.round((EPOCHS * NTRAIN) / BATCH);
  const sizes = [D, ...HIDDEN, K];
  const p0 = initMLP(key(SEED), sizes, { activation: 'silu' });
  // Learning-rate schedule (same shape for both models): optional linear warm-up, then constant or cosine to 0.
  const sched = (peak: number): number | Schedule => {
    if (DECAY === 'cosine') return WARMUP > 0 ? warmupCosine(0, peak, WARMUP, steps) : cosineDecay(peak, steps);
    return WARMUP > 0 ? linearWarmup(peak, WARMUP) : peak;
  };
  const common = { classifier: f, params: p0, x: xTr, y: tr.y, numClasses: K, trainSteps: steps, batchSize: BATCH, key: foldIn(key(SEED), 1), clipNorm: 10, logEvery: 100 };
  const runs: { name: string; params: MLPParams; seconds: number; rollbacks: number }[] = [];
  for (const [name, extra] of [
    ['plain classifier', { lr: sched(LR), weights: { clf: 1, px: 0, pxy: 0 } }],
    ['JEM', { lr: sched(LR_JEM), weights: { clf: 1, px: PX, pxy: 0 }, steps: SGLD, sampler: sgld, bufferSize: BUFFER, reinit: REINIT, dataNoise: 0.03, alpha: ALPHA }],
  ] as const) {
    const t0 = performance.now();
    const res = trainJem({ ...common, ...extra, onLog: (r) => console.log(`[${name}] step ${r.step}/${steps} loss ${fmt(r.loss)} ce ${fmt(r.ce)} acc ${fmt(r.acc, 3)} gap ${fmt(r.gap)} E+ ${fmt(r.ePos, 2)} E- ${fmt(r.eNeg, 2)} ${fmt(r.time, 0)}s`) });
    runs.push({ name, params: res.params, seconds: (performance.now() - t0) / 1000, rollbacks: res.events.length });
  }

  const SCORES: JemScoreName[] = ['logPx', 'maxProb', 'gradNorm'];
  const label: Record<JemScoreName, string> = { logPx: 'log p(x)', maxProb: 'max p(y\\|x)', gradNorm: '‖∇ₓ log p(x)‖' };
  const rows: string[] = [];
  const oodRows: string[] = [];
  for (const r of runs) {
    const probs = jemPredict(f, r.params, xTe);
    const acc = accuracy(probs, te.y), ece = expectedCalibrationError(probs, te.y, 15), nll = negLogLik(probs, te.y);
    // Mean confidence vs accuracy says whether the miscalibration is over- (conf > acc) or under-confidence.
    const bins = reliabilityBins(probs, te.y, 15);
    let conf = 0;
    for (const b of bins) if (b.count) conf += b.count * b.confidence;
    conf /= te.y.length;
    rows.push(`| ${r.name} | ${fmt(100 * acc, 2)} | ${fmt(100 * ece, 2)} | ${fmt(100 * conf, 2)} | ${fmt(nll)} | ${fmt(r.seconds, 0)} | ${r.rollbacks} |`);
    console.log(r.name, { acc, ece, nll, meanConf: conf });
    console.log(bins.filter((b) => b.count).map((b) => `  (${fmt(b.lo, 2)},${fmt(b.hi, 2)}] n=${b.count} conf ${fmt(b.confidence, 3)} acc ${fmt(b.accuracy, 3)}`).join('\n'));
    const sIn = jemScores(f, r.params, xTe);
    for (const o of ood) {
      const sOut = jemScores(f, r.params, o.x);
      const cells = SCORES.map((k) => {
        const { scores, labels } = inOutLabels(jemAnomalyScore(sIn, k), jemAnomalyScore(sOut, k));
        return fmt(auroc(scores, labels), 3);
      });
      oodRows.push(`| ${r.name} | ${o.name} | ${cells.join(' | ')} |`);
    }
  }

  // Samples of the JEM: unconditional energy vs noise, class-conditional accuracy of the classifier on its samples.
  const jem = runs[1].params;
  const nS = 100;
  const labels = Int32Array.from({ length: nS }, (_, i) => i % 10);
  const xs = sampleJem(f, jem, D, { key: foldIn(key(SEED), 9), n: nS, steps: 200, labels, sampler: sgld });
  const condAcc = accuracy(jemPredict(f, jem, xs), labels);
  const xu = sampleJem(f, jem, D, { key: foldIn(key(SEED), 10), n: nS, steps: 200, sampler: sgld });
  const E = jemEnergy(f, jem, D);
  const meanE = (x: Tensor): number => noGrad(() => { const e = E.energy(x); let a = 0; for (const v of e.data) a += v; return a / e.size; });
  const eSamp = meanE(xu), eNoise = meanE(new Tensor(ood[ood.length - 2].x.data.slice(0, nS * D), [nS, D])), eData = meanE(new Tensor(xTe.data.slice(0, nS * D), [nS, D]));
  if (SAMPLES) {
    writeFileSync(SAMPLES, imageGridPng(new Tensor(Float32Array.from(xs.data, (v) => (v + 1) / 2), [nS, D]), { scale: 1 }));
    console.log(`wrote ${SAMPLES}`);
  }

  const section = [
    '<!-- jem:start -->',
    '### JEM on MNIST vs the same MLP as a plain classifier',
    '',
    `Generated by \`npx tsx bench/jem.ts --train ${NTRAIN} --test ${NTEST} --epochs ${EPOCHS} --batch ${BATCH} --sgld ${SGLD} --sgld-step ${GSTEP} --sgld-noise ${NOISE} --alpha ${ALPHA} --hidden ${HIDDEN.join(',')} --lr ${LR} --lr-jem ${LR_JEM} --warmup ${WARMUP} --decay ${DECAY} --px ${PX} --buffer ${BUFFER} --reinit ${REINIT} --seed ${SEED}\` on ${new Date().toISOString().slice(0, 10)}. ` +
      `Backend ${bi.backend}${bi.blas ? " + BLAS" : ""}${bi.threads ? `, ${bi.threads} threads` : ''}. Data: first ${NTRAIN} MNIST training images, first ${NTEST} test images, pixels scaled to [−1, 1]. ` +
      `Network: MLP ${sizes.join('-')} (SiLU); both runs start from the same initial weights and see the same ${steps} mini-batches (${EPOCHS} epochs, batch ${BATCH}), Adam lr ${LR} (plain) / ${LR_JEM} (JEM)${WARMUP > 0 ? `, linear warm-up over ${WARMUP} steps` : ''}${DECAY === 'cosine' ? ', cosine decay to 0 at the last step' : ', constant after warm-up'}, gradient clip 10. ` +
      `JEM: loss = CE + ${PX}·[E(x⁺) − E(x⁻)], E(x) = −logsumexp f(x); negatives by ${SGLD} SGLD steps (x ← clamp(x − ${GSTEP}·∇E + ${NOISE}·ξ, −1, 1)) from a ${BUFFER}-sample replay buffer, ${fmt(100 * REINIT, 0)} % restarts from U[−1, 1], data noise 0.03, energy regulariser α = ${ALPHA}·(E⁺² + E⁻²), divergence guard on.`,
    '',
    '| model | test accuracy % | ECE % (15 bins) | mean confidence % | NLL | train s | rollbacks |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `OOD detection: AUROC with the out-of-distribution set as positives (${NTEST} MNIST test images vs ${NTEST} OOD rows); anomaly scores −log p̃(x), −max p(y\\|x), ‖∇ₓ log p(x)‖ (higher = more OOD). 0.5 = chance; a value below 0.5 means the score separates the sets with the opposite sign (AUROC of the negated score = 1 − value).${haveFashion ? '' : ' Fashion-MNIST was not installed for this run.'}`,
    '',
    `| model | OOD set | ${SCORES.map((k) => label[k]).join(' | ')} |`,
    '|---|---|---|---|---|',
    ...oodRows,
    '',
    `JEM samples (200 steps of the same SGLD from U[−1, 1]): mean energy of unconditional samples ${fmt(eSamp, 2)} vs test data ${fmt(eData, 2)} vs uniform noise ${fmt(eNoise, 2)}; ` +
      `the classifier assigns ${fmt(100 * condAcc, 0)} % of 100 class-conditional samples (10 per class) to the class they were drawn for.`,
    '<!-- jem:end -->',
  ].join('\n');
  console.log('\n' + section);
  if (flag('write')) {
    const path = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
    const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
    const re = /<!-- jem:start -->[\s\S]*?<!-- jem:end -->/;
    const next = re.test(old) ? old.replace(re, section) : `${old.replace(/\s*$/, '')}\n\n${section}\n`;
    writeFileSync(path, next);
    console.log(`wrote ${path}`);
  }
}

main();
