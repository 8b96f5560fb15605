/**
 * Conv JEM on MNIST vs the same conv net trained as a plain classifier (issue 14, image result 3): evaluates two
 * model files written by `ebm train jem --conv …` (the JEM and the `--px 0` run, same seed: same initial weights and
 * the same mini-batches) on the full MNIST test set — accuracy, expected calibration error (15 bins), NLL, mean
 * confidence — and the out-of-distribution AUROC against the Fashion-MNIST test set for the three JEM scores
 * log p(x), max p(y|x) and ‖∇ₓ log p(x)‖, and writes the JEM's class-conditional sample grid (one row per class,
 * row k = `ebm sample JEM --class k --n COLS --steps STEPS --seed SEED`). Everything it computes is a library call
 * (`models/jem`, `eval`); with `--write` it replaces the section between `<!-- jemconv:start -->` and
 * `<!-- jemconv:end -->` of bench/RESULTS.md.
 *
 *   npx tsx bench/jemConv.ts --jem jem.safetensors --plain plain.safetensors [--test 10000] [--steps 200] [--cols 10]
 *                            [--seed 0] [--samples docs/images/jem-conv-mnist.png] [--write]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../src/tensor/index.js';
import { initBackend, backendInfo } from '../src/tensor/select.js';
import { key } from '../src/random/index.js';
import { loadModel } from '../src/io/model.js';
import { imageGridPng } from '../src/io/png.js';
import { loadMnist, loadFashionMnist } from '../src/data/mnist.js';
import {
  jemFromFile, jemModelPredict, jemModelScores, sampleJemModel, describeJemNet, type JemConfig,
} from '../src/models/jem/index.js';
import type { MLPParams } from '../src/nn/index.js';
import { accuracy, expectedCalibrationError, negLogLik, reliabilityBins } from '../src/eval/classification.js';
import { auroc, inOutLabels } from '../src/eval/detection.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const fmt = (v: number, d = 4): string => (Number.isFinite(v) ? v.toFixed(d) : String(v));

const JEM = arg('jem', '');
const PLAIN = arg('plain', '');
const NTEST = Number(arg('test', '10000'));
const STEPS = Number(arg('steps', '200'));
const COLS = Number(arg('cols', '10'));
const SEED = Number(arg('seed', '0'));
const SAMPLES = arg('samples', '');
if (!JEM || !PLAIN) throw new Error('usage: npx tsx bench/jemConv.ts --jem JEM.safetensors --plain PLAIN.safetensors [--write]');

async function open(path: string): Promise<{ params: MLPParams; cfg: JemConfig; provenance: Record<string, unknown> }> {
  const file = await loadModel(path);
  return { ...jemFromFile(file, path), provenance: file.provenance };
}

async function main(): Promise<void> {
  initBackend();
  const bi = backendInfo();
  const t0 = performance.now();
  const te = loadMnist('test', { limit: NTEST });
  const fa = loadFashionMnist('test', { limit: NTEST });
  const models = [{ name: 'plain classifier (`--px 0`)', ...(await open(PLAIN)) }, { name: 'JEM', ...(await open(JEM)) }];
  const rows: string[] = [];
  const oodRows: string[] = [];
  for (const m of models) {
    const probs = jemModelPredict(m.params, m.cfg, te.x);
    const acc = accuracy(probs, te.y), ece = expectedCalibrationError(probs, te.y, 15), nll = negLogLik(probs, te.y);
    let conf = 0;
    for (const b of reliabilityBins(probs, te.y, 15)) if (b.count) conf += b.count * b.confidence;
    conf /= te.y.length;
    const errors = Math.round((1 - acc) * te.y.length);
    rows.push(`| ${m.name} | ${fmt(100 * acc, 2)} (${errors} errors) | ${fmt(100 * ece, 2)} | ${fmt(100 * conf, 2)} | ${fmt(nll)} |`);
    console.log(m.name, { acc, ece, nll, meanConf: conf });
    // Anomaly scores (higher = more OOD): −log p̃(x), −max p(y|x), ‖∇ₓ log p(x)‖; Fashion-MNIST rows are the positives.
    const sIn = jemModelScores(m.params, m.cfg, te.x);
    const sOut = jemModelScores(m.params, m.cfg, fa.x);
    const cells = ([['logPx', -1], ['maxProb', -1], ['gradNorm', 1]] as const).map(([k, sign]) => {
      const { scores, labels } = inOutLabels(sIn[k].map((v) => sign * v), sOut[k].map((v) => sign * v));
      return fmt(auroc(scores, labels), 3);
    });
    oodRows.push(`| ${m.name} | ${cells.join(' | ')} |`);
  }
  const jem = models[1];
  const grid: Tensor[] = [];
  let condHits = 0;
  for (let k = 0; k < jem.cfg.numClasses; k++) {
    const xs = sampleJemModel(jem.params, jem.cfg, { key: key(SEED), n: COLS, steps: STEPS, classIndex: k });
    const p = jemModelPredict(jem.params, jem.cfg, xs);
    condHits += accuracy(p, new Int32Array(COLS).fill(k)) * COLS;
    grid.push(xs);
  }
  const D = jem.cfg.dim;
  const all = new Float32Array(grid.length * COLS * D);
  grid.forEach((g, i) => all.set(g.data as Float32Array, i * COLS * D));
  if (SAMPLES) {
    writeFileSync(SAMPLES, imageGridPng(new Tensor(all, [grid.length * COLS, D]), { cols: COLS, scale: 1 }));
    console.log(`wrote ${SAMPLES}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const pv = jem.provenance;
  const section = [
    '<!-- jemconv:start -->',
    '### Conv JEM on MNIST vs the same conv net as a plain classifier',
    '',
    `Models: \`${describeJemNet(jem.cfg)}\` (${jem.cfg.activation}), trained by \`ebm train jem\` (commands below) on the 60 000 MNIST training images for ${String(pv.steps)} steps of batch ${String(pv.batch)}, seed ${String(pv.seed)}; the plain classifier is the same command with \`--px 0\` (same initial weights, same mini-batches, same lr schedule). ` +
      `JEM: loss = CE + ${jem.cfg.weights.px}·[E(x⁺) − E(x⁻)] + α(E⁺² + E⁻²), α = ${jem.cfg.alpha}, negatives by ${jem.cfg.sgld.steps} SGLD steps (z ← clamp(z − ${jem.cfg.sgld.gradStep}·∇E + ${jem.cfg.sgld.noise}·ξ, −1, 1)) from a ${jem.cfg.bufferSize}-sample replay buffer, ${fmt(100 * jem.cfg.reinit, 0)} % restarts, data noise ${jem.cfg.dataNoise}. ` +
      `Evaluated by \`npx tsx bench/jemConv.ts --jem … --plain … --test ${NTEST} --steps ${STEPS} --cols ${COLS} --seed ${SEED}\` on ${new Date().toISOString().slice(0, 10)} (${fmt(seconds, 0)} s; backend ${bi.backend}${bi.threads ? `, ${bi.threads} threads` : ''}) on the ${NTEST === 10000 ? 'full 10 000-image' : `first ${NTEST} images of the`} MNIST test set.`,
    '',
    '| model | test accuracy % | ECE % (15 bins) | mean confidence % | NLL |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `OOD detection vs the Fashion-MNIST test set (${NTEST} MNIST test images vs ${NTEST} Fashion-MNIST test images, Fashion as positives), AUROC of the anomaly scores −log p̃(x), −max p(y\\|x) and ‖∇ₓ log p(x)‖ (0.5 = chance; below 0.5 the score separates with the opposite sign):`,
    '',
    '| model | log p(x) | max p(y\\|x) | ‖∇ₓ log p(x)‖ |',
    '|---|---|---|---|',
    ...oodRows,
    '',
    `Class-conditional samples (${SAMPLES ? `\`${SAMPLES}\`` : 'not written'}): row k is \`ebm sample JEM --class k --n ${COLS} --steps ${STEPS} --seed ${SEED}\`, SGLD on p(x|y=k) ∝ exp f(x)[k] from U[−1, 1]; ` +
      `the JEM's own classifier assigns ${fmt((100 * condHits) / (COLS * jem.cfg.numClasses), 0)} % of them to the class they were drawn for.`,
    '<!-- jemconv:end -->',
  ].join('\n');
  console.log('\n' + section);
  if (flag('write')) {
    const path = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
    const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
    const re = /<!-- jemconv:start -->[\s\S]*?<!-- jemconv:end -->/;
    const next = re.test(old) ? old.replace(re, section) : `${old.replace(/\s*$/, '')}\n\n${section}\n`;
    writeFileSync(path, next);
    console.log(`wrote ${path}`);
  }
}

await main();
