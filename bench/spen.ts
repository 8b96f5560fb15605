/**
 * SPEN benchmark: structured-prediction energy networks against independent logistic classifiers with the same
 * feature network, on the exclusive-groups chain task (`src/data/multilabel.ts`), with the Bayes references
 * (thresholded exact marginals; exact joint MAP). Writes a table into bench/RESULTS.md between `<!-- spen:start -->`
 * and `<!-- spen:end -->`.
 *
 * Usage: `npx tsx bench/spen.ts [--train N] [--test N] [--seed S] [--no-write]`
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { foldIn, key } from '../src/random/index.js';
import { initBackend } from '../src/tensor/select.js';
import type { Tensor } from '../src/tensor/index.js';
import { multilabelChainTask } from '../src/data/multilabel.js';
import { multilabelMetrics, predictIndependent, spenPredict, trainIndependent, trainSpen, type MultilabelScores } from '../src/structured/index.js';

interface Args { train: number; test: number; seed: number; write: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { train: 1000, test: 5000, seed: 0, write: true };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    const int = (): number => { const v = Number(argv[++i]); if (!Number.isInteger(v) || v < 1) throw new Error(`${f} must be a positive integer`); return v; };
    if (f === '--train') a.train = int();
    else if (f === '--test') a.test = int();
    else if (f === '--seed') a.seed = Number(argv[++i]);
    else if (f === '--no-write') a.write = false;
    else throw new Error(`unknown flag ${f}`);
  }
  return a;
}

function seOf(rowF1: Float64Array): number {
  const n = rowF1.length;
  let m = 0;
  for (const v of rowF1) m += v;
  m /= n;
  let s = 0;
  for (const v of rowF1) s += (v - m) ** 2;
  return Math.sqrt(s / (n - 1) / n);
}

function run(): void {
  initBackend();
  const a = parseArgs(process.argv.slice(2));
  const k = key(a.seed);
  const task = multilabelChainTask(foldIn(k, 0));
  const tr = task.sample(foldIn(k, 1), a.train);
  const te = task.sample(foldIn(k, 2), a.test);
  const rows: { name: string; m: MultilabelScores; secs: number }[] = [];
  const add = (name: string, pred: Tensor, secs: number): void => {
    const m = multilabelMetrics(pred, te.y);
    rows.push({ name, m, secs });
    console.log(`${name.padEnd(58)} F1 ${m.f1.toFixed(3)}  Hamming ${m.hamming.toFixed(4)}  exact ${m.subsetAccuracy.toFixed(3)}  (${secs.toFixed(1)} s)`);
  };
  add('Bayes: exact marginals, threshold ½ (Hamming-optimal)', task.marginals(te.x), 0);
  add('Bayes: exact joint MAP (Viterbi)', task.mapLabels(te.x), 0);
  const time = <T>(f: () => T): [T, number] => { const t0 = performance.now(); const r = f(); return [r, (performance.now() - t0) / 1000]; };
  const common = { hidden: [32], epochs: 30, lr: 0.01 } as const;
  const [base, tb] = time(() => trainIndependent(foldIn(k, 3), tr.x, tr.y, common));
  add('independent logistic (BCE), threshold ½', predictIndependent(base.params, te.x), tb);
  const [baseF1, tf] = time(() => trainIndependent(foldIn(k, 3), tr.x, tr.y, { ...common, loss: 'f1' }));
  add('independent logistic, soft-F1 loss (ablation)', predictIndependent(baseF1.params, te.x), tf);
  const [ssvm, ts] = time(() => trainSpen(foldIn(k, 4), tr.x, tr.y, {
    method: 'ssvm', hidden: [32], features: base.params, epochs: 60, lr: 0.01, inference: { method: 'mirror', steps: 30, stepSize: 1 },
  }));
  add('SPEN, SSVM (loss-augmented inference)', spenPredict(ssvm, te.x).labels, tb + ts);
  const unrolledInf = { method: 'mirror', steps: 10, stepSize: 1, entropy: 1 } as const;
  const [ub, tub] = time(() => trainSpen(foldIn(k, 4), tr.x, tr.y, { method: 'unrolled', loss: 'bce', hidden: [32], features: base.params, epochs: 20, lr: 0.01, inference: unrolledInf }));
  add('SPEN, unrolled end-to-end, BCE loss', spenPredict(ub, te.x).labels, tb + tub);
  const [uf, tuf] = time(() => trainSpen(foldIn(k, 4), tr.x, tr.y, { method: 'unrolled', loss: 'f1', hidden: [32], features: base.params, epochs: 20, lr: 0.01, inference: unrolledInf }));
  add('SPEN, unrolled end-to-end, soft-F1 loss', spenPredict(uf, te.x).labels, tb + tuf);

  const body = [
    '<!-- spen:start -->',
    '### Structured-prediction energy networks on a multi-label task (`npx tsx bench/spen.ts`)',
    '',
    `Run ${new Date().toISOString().slice(0, 10)}, seed ${a.seed}. Data: \`multilabelChainTask\` — ${task.description}; exactly one label per group is on, group classes coupled along a chain. ${a.train} training rows, ${a.test} test rows. All learned models share the feature network [10, 32, 24] (SiLU); SPENs add the global label energy c₂ᵀ softplus(C₁ᵀy + d₁) + d₂ (M = 16) and start from the trained BCE network. Adam lr 0.01, batch 100, weight decay 1e-4; independent: 30 epochs. SSVM: relaxed-Hamming margin, 60 epochs, inference = entropic mirror descent, 30 steps, η = 1, τ = 0. Unrolled: 20 epochs through 10 mirror-descent steps (η = 1, τ = 1). Prediction: the same inference from y = ½, threshold ½. Training seconds for SPENs include the pre-training. F1 is example-level (± standard error over test rows); exact = subset accuracy.`,
    '',
    '| method | example F1 | Hamming loss | exact match | train s |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.m.f1.toFixed(3)} ± ${seOf(r.m.rowF1).toFixed(3)} | ${r.m.hamming.toFixed(4)} | ${r.m.subsetAccuracy.toFixed(3)} | ${r.secs.toFixed(1)} |`),
    '',
    'Reading: thresholded marginals are Hamming-optimal, so no method can beat the independent baseline on Hamming loss in the large-data limit; structure pays on example F1 (a group whose posterior is spread has no marginal ≥ ½, so independent classifiers predict nothing there) and on exact match. The soft-F1 ablation shows how much of the unrolled SPEN\'s F1 gain comes from training for F1 rather than from the label energy.',
    '<!-- spen:end -->',
  ].join('\n');
  if (!a.write) { console.log(body); return; }
  const path = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const re = /<!-- spen:start -->[\s\S]*?<!-- spen:end -->/;
  writeFileSync(path, re.test(old) ? old.replace(re, body) : `${old.replace(/\n*$/, '\n')}\n${body}\n`);
  console.log(`wrote ${path}`);
}

run();
