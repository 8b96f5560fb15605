/**
 * Sample-quality scores of the MNIST image models (issue 14, image result 4): a Fréchet distance (FID-style) and an
 * inception-style score, both in the feature / probability space of a conv MNIST classifier that ships with this
 * bench — the plain conv classifier written by
 *
 *   ebm train jem --data mnist:train --conv 32,64,64 --hidden 128 --steps 8000 --batch 64 --lr 1e-3 --warmup 1000 \
 *     --lr-decay cosine --sgld-steps 10 --seed 0 --px 0 --out CLASSIFIER
 *
 * (98.99 % test accuracy; retrained by this script with that command, through `dist/cli/main.js`, when the file is
 * missing — about 5 min on 2 shared cores).
 *
 * Protocol: features = the classifier's penultimate activations (`jemModelFeatures`: the 128 silu units before the
 * last dense layer), probabilities = its softmax. The reference statistics are those of the first `--ref` MNIST
 * training images; every scored set has `--n` images:
 *   - MNIST test (real): the first N test images (the reference row: what real, unseen digits score);
 *   - Gaussian noise (the floor): i.i.d. pixels N(m, s²) with the training pixels' mean m and std s, clipped to [0, 1];
 *   - conv EBM, replay buffer: the first N rows of the buffer stored in the `ebm train ebm` model file;
 *   - conv EBM, fresh chains: `ebm sample EBM --n N --steps STEPS --seed SEED` (ULA from uniform noise);
 *   - JEM, class-conditional: N/10 per class, `ebm sample JEM --class k --n N/10 --steps JEM_STEPS --seed SEED`.
 * FD = ‖μa − μb‖² + Tr(Σa + Σb − 2(Σa^{1/2} Σb Σa^{1/2})^{1/2}) (`eval.frechetDistance`), IS = exp(E KL(p(y|x) ‖ p(y)))
 * (`eval.inceptionScore`, one split). With `--write` the table replaces the section between
 * `<!-- samplequality:start -->` and `<!-- samplequality:end -->` of bench/RESULTS.md.
 *
 *   npx tsx bench/sampleQuality.ts --classifier plain.safetensors [--ebm ebm.safetensors] [--jem jem.safetensors]
 *     [--n 1000] [--ref 10000] [--steps 200] [--jem-steps 200] [--seed 0] [--write]
 *
 * Samples written by any command can be scored too: `--npy "NAME=FILE.npy"` (repeatable; rows of 784 values in [0, 1],
 * e.g. `ebm sample MODEL --n 1000 --out FILE.npy`), with `--how "…"` per file in the same order. `--data fashion-mnist`
 * takes the real, reference and noise rows from Fashion-MNIST instead (the features stay those of the MNIST
 * classifier: a fixed feature map, so FD still compares two distributions, but it is not a Fashion-trained FID; the
 * inception-style score is then not meaningful and is left out). `--section NAME` writes the table between
 * `<!-- samplequality:NAME:start -->` and `<!-- samplequality:NAME:end -->` instead.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../src/tensor/index.js';
import { initBackend, backendInfo } from '../src/tensor/select.js';
import { key, foldIn, normalArray } from '../src/random/index.js';
import { loadModel } from '../src/io/model.js';
import { loadMnist, loadFashionMnist } from '../src/data/mnist.js';
import { loadNpy } from '../src/io/npy.js';
import { jemFromFile, jemModelFeatures, jemModelPredict, sampleJemModel } from '../src/models/jem/index.js';
import { checkDeepEbmConfig } from '../src/models/deepEbm/index.js';
import { sampleDeepEbmFromNoise, type DeepEbmFileConfig } from '../src/models/deepEbm/kind.js';
import { frechetDistance, gaussianStats, gaussianFrechetDistance, inceptionScore } from '../src/eval/sampleQuality.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const CLASSIFIER = arg('classifier', '');
const EBM = arg('ebm', '');
const JEM = arg('jem', '');
const N = Number(arg('n', '1000'));
const REF = Number(arg('ref', '10000'));
const STEPS = Number(arg('steps', '200'));
const JEM_STEPS = Number(arg('jem-steps', '200'));
const SEED = Number(arg('seed', '0'));
const DATA = arg('data', 'mnist');
const SECTION = arg('section', '');
/** Every value of a repeatable option, in order. */
function args(name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < process.argv.length; i++) if (process.argv[i] === `--${name}`) out.push(process.argv[i + 1]);
  return out;
}
const NPY = args('npy');
const HOW = args('how');
if (DATA !== 'mnist' && DATA !== 'fashion-mnist') throw new Error(`--data must be mnist or fashion-mnist, got ${DATA}`);
if (!CLASSIFIER) throw new Error('usage: npx tsx bench/sampleQuality.ts --classifier plain.safetensors [--ebm E] [--jem J] [--write]');

/** The command that trains the feature classifier (the `--px 0` twin of the conv JEM, bench/RESULTS.md "jemconv"). */
export const CLASSIFIER_ARGS = [
  'train', 'jem', '--data', 'mnist:train', '--conv', '32,64,64', '--hidden', '128', '--steps', '8000', '--batch', '64', '--lr', '1e-3',
  '--warmup', '1000', '--lr-decay', 'cosine', '--sgld-steps', '10', '--seed', '0', '--px', '0',
];

async function main(): Promise<void> {
  initBackend();
  const bi = backendInfo();
  const t0 = performance.now();
  if (!existsSync(CLASSIFIER)) {
    console.log(`${CLASSIFIER} missing: training it (ebm ${CLASSIFIER_ARGS.join(' ')} --out ${CLASSIFIER})`);
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...CLASSIFIER_ARGS, '--out', CLASSIFIER], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`training the classifier failed (exit ${r.status})`);
  }
  const cl = jemFromFile(await loadModel(CLASSIFIER), CLASSIFIER);
  const feats = (x: Tensor): Tensor => jemModelFeatures(cl.params, cl.cfg, x);
  const probs = (x: Tensor): Tensor => jemModelPredict(cl.params, cl.cfg, x);

  const load = DATA === 'mnist' ? loadMnist : loadFashionMnist;
  const label = DATA === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
  const train = load('train', { limit: REF });
  const test = load('test', { limit: N });
  const D = train.x.shape[1];
  const ref = gaussianStats(feats(train.x));
  let m = 0, s2 = 0;
  for (const v of train.x.data) m += v;
  m /= train.x.size;
  for (const v of train.x.data) s2 += (v - m) ** 2;
  const sd = Math.sqrt(s2 / train.x.size);
  const noise = new Tensor(Float32Array.from(normalArray(foldIn(key(SEED), 1), N * D, 'float32'), (v) => Math.min(1, Math.max(0, m + sd * v))), [N, D]);

  const sets: { name: string; how: string; x: Tensor; seconds?: number }[] = [
    { name: `${label} test (real)`, how: `first ${N} test images`, x: test.x },
    { name: 'Gaussian noise (floor)', how: `N(${m.toFixed(3)}, ${sd.toFixed(3)}²) per pixel, clipped to [0, 1]`, x: noise },
  ];
  if (EBM) {
    const file = await loadModel(EBM);
    const cfg = checkDeepEbmConfig(file.config) as DeepEbmFileConfig;
    const { buffer, ...params } = file.tensors;
    if (!buffer || buffer.shape[0] < N) throw new Error(`${EBM}: needs a stored replay buffer of ≥ ${N} rows`);
    sets.push({ name: 'conv EBM, replay buffer', how: `first ${N} rows of the buffer in the model file`, x: new Tensor(buffer.data.slice(0, N * D), [N, D]) });
    const t = performance.now();
    const fresh = sampleDeepEbmFromNoise(params, cfg, key(SEED), N, STEPS);
    sets.push({ name: 'conv EBM, fresh chains', how: `\`ebm sample EBM --n ${N} --steps ${STEPS} --seed ${SEED}\``, x: fresh, seconds: (performance.now() - t) / 1000 });
  }
  if (JEM) {
    const jem = jemFromFile(await loadModel(JEM), JEM);
    const per = Math.floor(N / jem.cfg.numClasses);
    const all = new Float32Array(per * jem.cfg.numClasses * D);
    const t = performance.now();
    for (let k = 0; k < jem.cfg.numClasses; k++) {
      const x = sampleJemModel(jem.params, jem.cfg, { key: key(SEED), n: per, steps: JEM_STEPS, classIndex: k });
      all.set(x.data, k * per * D);
    }
    sets.push({ name: 'conv JEM, class-conditional', how: `\`ebm sample JEM --class k --n ${per} --steps ${JEM_STEPS} --seed ${SEED}\`, k = 0…${jem.cfg.numClasses - 1}`, x: new Tensor(all, [per * jem.cfg.numClasses, D]), seconds: (performance.now() - t) / 1000 });
  }
  for (let i = 0; i < NPY.length; i++) {
    const eq = NPY[i].indexOf('=');
    if (eq < 1) throw new Error(`--npy wants NAME=FILE.npy, got ${NPY[i]}`);
    const file = NPY[i].slice(eq + 1);
    const t = await loadNpy(file, { dtype: 'float32' });
    const x = new Tensor(t.data, [t.shape[0], t.size / t.shape[0]]);
    if (x.shape[1] !== D) throw new Error(`${file}: rows of ${x.shape[1]} values, want ${D}`);
    sets.push({ name: NPY[i].slice(0, eq), how: HOW[i] ?? file, x });
  }
  const rows: string[] = [];
  for (const s of sets) {
    const f = feats(s.x);
    const fd = gaussianFrechetDistance(gaussianStats(f), ref);
    const p = probs(s.x);
    const is = inceptionScore(p);
    const K = p.shape[1];
    const counts = new Array(K).fill(0);
    let conf = 0;
    for (let i = 0; i < p.shape[0]; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (p.data[i * K + k] > p.data[i * K + best]) best = k;
      counts[best]++;
      conf += p.data[i * K + best];
    }
    const line = `| ${s.name} | ${s.x.shape[0]} | ${fd.toFixed(2)} | ${DATA === 'mnist' ? is.toFixed(2) : '—'} | ${((100 * conf) / p.shape[0]).toFixed(1)} | ${counts.join(' ')} | ${s.how}${s.seconds ? ` (${s.seconds.toFixed(0)} s)` : ''} |`;
    console.log(line);
    rows.push(line);
  }
  // Sanity row: FD between two halves of the real test images (the sampling noise floor of FD at this size).
  const half = Math.floor(N / 2);
  const fTest = feats(test.x);
  const fdHalves = frechetDistance(new Tensor(fTest.data.slice(0, half * fTest.shape[1]), [half, fTest.shape[1]]), new Tensor(fTest.data.slice(half * fTest.shape[1]), [N - half, fTest.shape[1]]));
  const seconds = (performance.now() - t0) / 1000;
  const section = [
    `<!-- samplequality${SECTION ? `:${SECTION}` : ''}:start -->`,
    `### Sample quality of the ${label} image models (FD${DATA === 'mnist' ? ' and inception-style score' : ''} in a conv MNIST classifier\'s feature space)`,
    '',
    `Scored by \`npx tsx bench/sampleQuality.ts --classifier CLASSIFIER${EBM ? ' --ebm EBM' : ''}${JEM ? ' --jem JEM' : ''}${NPY.map((v) => ` --npy "${v.slice(0, v.indexOf('='))}=FILE"`).join('')}${DATA !== 'mnist' ? ` --data ${DATA}` : ''}${SECTION ? ` --section ${SECTION}` : ''} --n ${N} --ref ${REF} --steps ${STEPS} --jem-steps ${JEM_STEPS} --seed ${SEED}\` ` +
      `on ${new Date().toISOString().slice(0, 10)} (${seconds.toFixed(0)} s; backend ${bi.backend}${bi.threads ? `, ${bi.threads} threads` : ''}). ` +
      `Classifier: the plain conv net \`${String(cl.cfg.conv ? `conv 1x28x28:${cl.cfg.conv.join(',')}:${cl.cfg.hidden.join(',')} → ${cl.cfg.numClasses}` : 'mlp')}\` (98.99 % MNIST test accuracy), retrained by the script when missing with \`ebm ${CLASSIFIER_ARGS.join(' ')} --out CLASSIFIER\`. ` +
      `Features: its ${fTest.shape[1]} penultimate (silu) activations; FD against the Gaussian fit of the first ${REF} ${label} training images${DATA === 'mnist' ? '' : ' (a fixed MNIST-trained feature map, so not a Fashion-trained FID; no inception-style score)'}; IS = exp(E KL(p(y|x) ‖ p(y))) of its softmax, one split (10 = balanced and confident, 1 = one class or no confidence). ` +
      `FD between the two halves of the ${N} test images (${half} vs ${N - half}): ${fdHalves.toFixed(2)} (the sampling noise at this size).`,
    '',
    '| set | n | FD ↓ | IS ↑ | mean max p(y\\|x) % | predicted classes 0…9 | how drawn |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    `<!-- samplequality${SECTION ? `:${SECTION}` : ''}:end -->`,
  ].join('\n');
  console.log('\n' + section);
  if (flag('write')) {
    const path = join(ROOT, 'bench', 'RESULTS.md');
    const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
    const tag = `samplequality${SECTION ? `:${SECTION}` : ''}`;
    const re = new RegExp(`<!-- ${tag}:start -->[\\s\\S]*?<!-- ${tag}:end -->`);
    const next = re.test(old) ? old.replace(re, section) : `${old.replace(/\s*$/, '')}\n\n${section}\n`;
    writeFileSync(path, next);
    console.log(`wrote ${path}`);
  }
}

await main();
