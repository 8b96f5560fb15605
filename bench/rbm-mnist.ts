/**
 * RBM benchmark on binarised MNIST: trains 500-hidden Bernoulli RBMs with CD-1, CD-3, CD-25 and PCD, estimates
 * log Z by AIS with the Salakhutdinov & Murray (2008) protocol (base-rate start from the smoothed training marginals,
 * 14 501 βs, 100 runs), and reports average train/test log-likelihood, pseudo-log-likelihood, reconstruction error
 * and timings. Writes a markdown section into bench/RESULTS.md between `<!-- rbm-mnist:start -->` and
 * `<!-- rbm-mnist:end -->`; also measures CD-1 steps/s at 784×500, batch 100, float32.
 *
 * Usage: `npx tsx bench/rbm-mnist.ts [--epochs N] [--quick] [--binarize stochastic|threshold] [--methods cd1,pcd]
 *        [--seed S] [--no-write]`
 * `--quick`: a smoke test (2 000 train / 500 test rows, 50 hidden, 1 epoch, 500 βs, 20 runs).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, backendInfo } from '../src/tensor/select.js';
import { Tensor } from '../src/tensor/tensor.js';
import { foldIn, key, split, uniformArray } from '../src/random/index.js';
import { loadMnist } from '../src/data/mnist.js';
import { BernoulliRBM, cdStep, createRBM, initCDState } from '../src/models/rbm/index.js';
import { aisLogZ, salakhutdinovBetas } from '../src/eval/ais.js';
import { averageLogLikelihood, pseudoLogLikelihood, reconstructionError } from '../src/eval/rbmMetrics.js';

interface Args { epochs: number; quick: boolean; binarize: 'stochastic' | 'threshold'; methods: string[]; seed: number; write: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { epochs: 15, quick: false, binarize: 'stochastic', methods: ['cd1', 'cd3', 'cd25', 'pcd'], seed: 0, write: true };
  let epochsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${f} needs a value`);
      return v;
    };
    if (f === '--quick') a.quick = true;
    else if (f === '--no-write') a.write = false;
    else if (f === '--epochs') { a.epochs = Number(val()); epochsGiven = true; if (!Number.isInteger(a.epochs) || a.epochs < 1) throw new Error(`--epochs must be a positive integer`); }
    else if (f === '--binarize') { const b = val(); if (b !== 'stochastic' && b !== 'threshold') throw new Error(`--binarize must be stochastic or threshold, got ${b}`); a.binarize = b; }
    else if (f === '--methods') a.methods = val().split(',').map((s) => s.trim().toLowerCase());
    else if (f === '--seed') a.seed = Number(val());
    else throw new Error(`unknown flag ${f}`);
  }
  for (const m of a.methods) if (!/^(cd\d+|pcd\d*)$/.test(m)) throw new Error(`--methods: '${m}' is not cdK or pcd[K]`);
  if (a.quick && !epochsGiven) a.epochs = 1;
  return a;
}

/** CD-1 steps per second at 784×500, batch 100, float32 (weight update with momentum 0.5). */
function measureStepsPerSecond(seconds: number): number {
  const p = createRBM({ nVisible: 784, nHidden: 500, key: key(1) });
  const u = uniformArray(key(2), 100 * 784);
  const x = new Float32Array(u.length);
  for (let i = 0; i < x.length; i++) x[i] = u[i] < 0.13 ? 1 : 0;
  const X = new Tensor(x, [100, 784]);
  let st = initCDState();
  ({ state: st } = cdStep(p, X, key(3), st, { learningRate: 0.01, momentum: 0.5, inPlace: true }));
  let n = 0;
  const t0 = performance.now();
  while (n < 3 || performance.now() - t0 < seconds * 1000) {
    ({ state: st } = cdStep(p, X, foldIn(key(4), n), st, { learningRate: 0.01, momentum: 0.5, inPlace: true }));
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

function fmt(x: number, d = 2): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  initBackend();
  const info = backendInfo();
  const root = key(args.seed);
  const [kTrainBin, kTestBin, kModels, kAis, kPll] = split(root, 5);
  const nTrain = args.quick ? 2000 : 60000, nTest = args.quick ? 500 : 10000;
  const nHidden = args.quick ? 50 : 500;
  const betas = args.quick ? salakhutdinovBetas(500) : salakhutdinovBetas();
  const runs = args.quick ? 20 : 100;
  const binOpts = (k: typeof root) => (args.binarize === 'stochastic' ? { binarize: 'stochastic' as const, key: k } : { binarize: 'threshold' as const, threshold: 0.5 });
  const train = loadMnist('train', { ...binOpts(kTrainBin), limit: nTrain }).x;
  const test = loadMnist('test', { ...binOpts(kTestBin), limit: nTest }).x;
  console.log(`backend ${info.backend}${info.blas ? ` (BLAS${info.blasLibrary ? `: ${info.blasLibrary}` : ''})` : ''}; train ${train.shape[0]}, test ${test.shape[0]}, ${nHidden} hidden, ${args.epochs} epochs`);
  const sps = measureStepsPerSecond(args.quick ? 1 : 3);
  console.log(`CD-1 784×500 batch 100 float32: ${fmt(sps, 1)} steps/s`);

  const rows: string[] = [];
  args.methods.forEach((m, mi) => {
    const persistent = m.startsWith('pcd');
    const k = persistent ? Number(m.slice(3) || 1) : Number(m.slice(2));
    const label = persistent ? (k === 1 ? 'PCD' : `PCD-${k}`) : `CD-${k}`;
    const rbm = new BernoulliRBM({ nHidden, key: foldIn(kModels, mi) });
    const t0 = performance.now();
    rbm.fit(train, {
      epochs: args.epochs, batchSize: 100, k, persistent,
      learningRate: persistent ? { kind: 'linear', initial: 0.05, final: 0, epochs: args.epochs } : 0.05,
      momentum: { initial: 0.5, final: 0.9, switchEpoch: Math.min(5, Math.max(1, Math.floor(args.epochs / 3))) },
      weightDecay: 2e-4,
      onEpoch: (e, inf) => console.log(`  ${label} epoch ${e + 1}/${args.epochs}: recon ${inf.reconstructionError !== undefined ? fmt(inf.reconstructionError, 4) : '–'}, mean h ${fmt(inf.meanHidden, 3)}`),
    });
    const trainSec = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const ais = aisLogZ(rbm.params!, foldIn(kAis, mi), { betas, runs, data: train });
    const aisSec = (performance.now() - t1) / 1000;
    const proto = { binarisation: args.binarize, logZMethod: 'ais' as const, betas: betas.length, runs, seed: args.seed };
    const llTest = averageLogLikelihood(rbm.params!, test, ais.logZ, proto);
    const llTrain = averageLogLikelihood(rbm.params!, train.shape[0] > 10000 ? new Tensor(train.data.subarray(0, 10000 * 784), [10000, 784]) : train, ais.logZ, proto);
    const pll = pseudoLogLikelihood(rbm.params!, test, { mode: 'sklearn', key: foldIn(kPll, mi) });
    const rec = reconstructionError(rbm.params!, test);
    console.log(`${label}: log Z ${fmt(ais.logZ)} ± ${fmt(ais.logZStd, 3)} (ESS ${fmt(ais.ess, 1)}), test LL ${fmt(llTest.mean)}, train LL ${fmt(llTrain.mean)}, PLL(sklearn) ${fmt(pll.mean)}, recon ${fmt(rec, 4)}; train ${fmt(trainSec, 1)} s, AIS ${fmt(aisSec, 1)} s`);
    rows.push(`| ${label} | ${fmt(llTest.mean)} ± ${fmt(llTest.stderr)} | ${fmt(llTrain.mean)} | ${fmt(ais.logZ)} ± ${fmt(ais.logZStd, 3)} | ${fmt(ais.ess, 1)} | ${fmt(pll.mean)} | ${fmt(rec, 4)} | ${fmt(trainSec, 1)} | ${fmt(aisSec, 1)} |`);
  });

  const section = [
    '<!-- rbm-mnist:start -->',
    `### RBM on binarised MNIST${args.quick ? ' (QUICK smoke test — not a result)' : ''}`,
    '',
    `Generated by \`npx tsx bench/rbm-mnist.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\` on ${new Date().toISOString().slice(0, 10)}. ` +
      `Backend: ${info.backend}${info.blas ? ' + BLAS' : ''}${info.threads ? `, ${info.threads} threads` : ''}. ` +
      `Data: ${train.shape[0]} train / ${test.shape[0]} test rows, ${args.binarize} binarisation (seed ${args.seed}). ` +
      `Model: ${nHidden} hidden units, ${args.epochs} epochs, batch 100, lr 0.05 (PCD: linear decay to 0), momentum 0.5 → 0.9, weight decay 2e-4. ` +
      `AIS: base-rate start (training marginals, pseudo-count 1), ${betas.length} βs (Salakhutdinov & Murray schedule${args.quick ? ', shortened' : ''}), ${runs} runs; ` +
      'log Ẑ ± delta-method σ. Train LL on the first 10 000 training rows. PLL: scikit-learn convention (one random bit flip × 784).',
    '',
    `CD-1 step (784×500, batch 100, float32): **${fmt(sps, 1)} steps/s**.`,
    '',
    '| method | test LL (nats) | train LL | log Ẑ (AIS) | ESS | PLL (sklearn) | recon. MSE | train s | AIS s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '<!-- rbm-mnist:end -->',
  ].join('\n');
  console.log('\n' + section);
  if (args.write) {
    const path = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
    const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
    const re = /<!-- rbm-mnist:start -->[\s\S]*?<!-- rbm-mnist:end -->/;
    const next = re.test(old) ? old.replace(re, section) : `${old.replace(/\s*$/, '')}\n\n${section}\n`;
    writeFileSync(path, next);
    console.log(`wrote ${path}`);
  }
}

main();
