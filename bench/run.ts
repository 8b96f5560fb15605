/**
 * `npm run bench`: ebm-ts and PyTorch-CPU side by side, in one run, on the engine's reference workloads.
 * Prints each row as a ratio (PyTorch time / ebm-ts time, > 1 means ebm-ts is faster) and writes the table into
 * bench/RESULTS.md between the `engine` markers, with the date and the machine.
 *
 * Methodology (the same as ../shared/anchors/torch_ebm_bench.py): warm up 0.3 s, calibrate the iterations for a
 * ≥ 0.5 s block, time 5 blocks, report the median rate. PyTorch runs twice (1 thread, and 2 threads with
 * OMP_WAIT_POLICY=PASSIVE) and its best rate per row is the anchor, as the anchors' README asks.
 */
import { calibratedIterations } from './timing.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo, initBackend, measureGemmGflops } from '../src/tensor/select.js';
import { cd1Workload, dsmWorkload, langevinWorkload, ssmWorkload } from './engine-workloads.js';
import { convWorkloads } from './conv-energy.js';
import { UNET_BATCH, unetTrainWorkload } from './unet-score.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const anchors = process.env.EBM_ANCHORS ?? path.resolve(root, '../shared/anchors');
const REPS = 5;
const BLOCK_S = 0.5;

initBackend();

interface Rate { median: number; min: number; max: number }

function bench(fn: () => void): Rate {
  const iters = calibratedIterations(fn, BLOCK_S);
  const rates: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const s = performance.now();
    for (let i = 0; i < iters; i++) fn();
    rates.push(iters / ((performance.now() - s) / 1000));
  }
  rates.sort((a, b) => a - b);
  return { median: rates[Math.floor(REPS / 2)], min: rates[0], max: rates[REPS - 1] };
}

// ---------------------------------------------------------------------------------------------------------------
// Anchors

const PY = '/usr/bin/python3';

function torchAnchor(): Record<string, number> | null {
  const script = path.join(anchors, 'torch_ebm_bench.py');
  if (!existsSync(script)) {
    console.log(`PyTorch anchor skipped: ${script} not found (set EBM_ANCHORS)`);
    return null;
  }
  try {
    execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    console.log('PyTorch anchor skipped: python3-torch is not installed (apt-get install -y python3-torch)');
    return null;
  }
  const best: Record<string, number> = {};
  const runs: [string, NodeJS.ProcessEnv][] = [
    ['1', { ...process.env }],
    ['2', { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' }],
  ];
  for (const [threads, env] of runs) {
    const out = execFileSync(PY, [script, '--threads', threads], { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 24 });
    const j = JSON.parse(out.trim().split('\n').pop()!);
    for (const [name, r] of Object.entries(j.results as Record<string, { per_s_median?: number }>)) {
      if (typeof r?.per_s_median === 'number') best[name] = Math.max(best[name] ?? 0, r.per_s_median);
    }
  }
  return best;
}

/** PyTorch mirror of the conv-energy and U-Net rows (bench/torch_conv_bench.py): best iterations/s of 1 and 2 threads. */
function torchConvAnchor(): Record<string, number> | null {
  const best: Record<string, number> = {};
  try {
    for (const [threads, env] of [['1', { ...process.env }], ['2', { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' }]] as const) {
      const out = execFileSync(PY, [path.join(root, 'bench/torch_conv_bench.py'), '--threads', threads], { cwd: root, env, encoding: 'utf8' });
      const j = JSON.parse(out.trim().split('\n').pop()!) as { results: Record<string, { ms_median: number }> };
      for (const [name, r] of Object.entries(j.results)) best[name] = Math.max(best[name] ?? 0, 1000 / r.ms_median);
    }
  } catch {
    console.log('PyTorch conv mirror skipped (python3-torch unavailable or the script failed)');
    return null;
  }
  return best;
}

function numpyGemm(shapes: [number, number, number][]): number[] | null {
  const prog = `
import numpy as np, time, json, sys
out=[]
for m,k,n in json.loads(sys.argv[1]):
    a=np.random.rand(m,k).astype(np.float32); b=np.random.rand(k,n).astype(np.float32); c=np.empty((m,n),np.float32)
    for _ in range(3): np.matmul(a,b,out=c)
    t=time.perf_counter(); it=0
    while time.perf_counter()-t<0.1: np.matmul(a,b,out=c); it+=1
    iters=max(1,int(0.5/((time.perf_counter()-t)/it))); rates=[]
    for _ in range(5):
        s=time.perf_counter()
        for _ in range(iters): np.matmul(a,b,out=c)
        rates.append(iters/(time.perf_counter()-s))
    rates.sort(); out.append(rates[2]*2*m*k*n/1e9)
print(json.dumps(out))`;
  try {
    return JSON.parse(execFileSync(PY, ['-c', prog, JSON.stringify(shapes)], { encoding: 'utf8' }).trim());
  } catch {
    console.log('numpy GEMM anchor skipped: numpy unavailable');
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------

const info = backendInfo();
console.log(`ebm-ts backend: ${info.backend}${info.blas ? ` (BLAS: ${info.blasLibrary ?? 'yes'})` : ' (bundled GEMM)'}`);
const gemmShapes: [number, number, number][] = [[100, 784, 500], [256, 784, 500], [1024, 1024, 1024]];
const ours = gemmShapes.map(([m, k, n]) => measureGemmGflops(m, n, k, 'float32', 1.5));
const np = numpyGemm(gemmShapes);
const torch = torchAnchor();

const rows: { name: string; ebm: number; torch: number | null; unit: string; note?: string }[] = [];
const cd1 = bench(cd1Workload().step);
rows.push({ name: 'RBM CD-1 step 784×500, batch 100', ebm: cd1.median, torch: torch?.cd1_rbm_784x500_b100_steps ?? null, unit: 'steps/s' });
const lang = bench(langevinWorkload().step);
rows.push({ name: 'Langevin, MLP 784-256-256-1 SiLU, batch 128, 60-step chain', ebm: lang.median, torch: torch?.langevin_mlp784_256_256_1_b128_60steps ?? null, unit: 'chains/s' });
const dsmW = dsmWorkload();
const dsm = bench(dsmW.step);
rows.push({ name: 'DSM train step, 2-128-128-2, batch 512 (Adam)', ebm: dsm.median, torch: torch?.dsm_mlp2_128_128_2_b512_steps ?? null, unit: 'steps/s', note: `final loss ${dsmW.loss!().toFixed(3)}` });
const ssmW = ssmWorkload();
const ssm = bench(ssmW.step);
rows.push({ name: 'SSM train step, 2-128-128-1, batch 512 (double backward, Adam)', ebm: ssm.median, torch: torch?.ssm_energy_mlp2_128_128_1_b512_steps ?? null, unit: 'steps/s', note: `final loss ${ssmW.loss!().toFixed(3)}` });

const conv = convWorkloads();
const torchConv = torch ? torchConvAnchor() : null;
const convLabel = 'conv energy 1→32→64→64 (3×3, strides 1/2/2) on 64×1×28×28';
rows.push({ name: `${convLabel}: forward`, ebm: bench(conv.forward).median, torch: torchConv?.forward ?? null, unit: 'batches/s' });
rows.push({ name: `${convLabel}: Langevin step (forward + ∇ₓ)`, ebm: bench(conv.langevin).median, torch: torchConv?.langevin ?? null, unit: 'steps/s' });
rows.push({ name: `${convLabel}: training step (64 + 64 images, Adam)`, ebm: bench(conv.train).median, torch: torchConv?.train ?? null, unit: 'steps/s' });
const unetStep = unetTrainWorkload();
rows.push({ name: `U-Net score network (\`ebm train score --arch unet\`, 28×28): VP-SDE DSM training step, batch ${UNET_BATCH} (Adam, EMA)`, ebm: bench(() => { unetStep(); }).median, torch: torchConv?.unet ?? null, unit: 'steps/s' });

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const lines: string[] = [];
const date = new Date().toISOString().slice(0, 10);
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
lines.push(`Run ${date} on ${cpu}, ${os.cpus().length} cores, Node ${process.version}; ebm-ts backend \`${info.backend}\`` +
  `${info.blas ? ` with ${info.blasLibrary ?? 'BLAS'}` : ' with its bundled GEMM'}${info.threads ? `, ${info.threads} threads` : ''}; ` +
  `OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}. PyTorch: best of 1 thread and 2 threads with OMP_WAIT_POLICY=PASSIVE.`);
lines.push('');
lines.push('| workload | ebm-ts | PyTorch-CPU | ratio (PyTorch time / ebm-ts time) |');
lines.push('|---|---|---|---|');
for (const r of rows) {
  const ratio = r.torch ? (r.ebm / r.torch).toFixed(2) : 'n/a';
  lines.push(`| ${r.name} | ${fmt(r.ebm)} ${r.unit} | ${r.torch ? `${fmt(r.torch)} ${r.unit}` : 'not run'} | ${ratio}${r.note ? ` (${r.note})` : ''} |`);
}
lines.push('');
lines.push('| GEMM float32 (m×k×n) | ebm-ts GFLOP/s | numpy GFLOP/s | ratio |');
lines.push('|---|---|---|---|');
gemmShapes.forEach(([m, k, n], i) => {
  const r = np ? (ours[i] / np[i]).toFixed(2) : 'n/a';
  lines.push(`| ${m}×${k}×${n} | ${ours[i].toFixed(1)} | ${np ? np[i].toFixed(1) : 'not run'} | ${r} |`);
});
if (torch?.mm_256x784x500) lines.push(`\nPyTorch torch.mm 256×784×500: ${(torch.mm_256x784x500 * 2 * 256 * 784 * 500 / 1e9).toFixed(1)} GFLOP/s.`);
const table = lines.join('\n');
console.log('\n' + table);

const resultsPath = path.join(root, 'bench/RESULTS.md');
const start = '<!-- engine:start -->';
const end = '<!-- engine:end -->';
let doc = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark results\n\n';
const section = `${start}\n## Engine: ebm-ts vs PyTorch-CPU (\`npm run bench\`)\n\n${table}\n${end}`;
doc = doc.includes(start) ? doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), section) : `${doc.trimEnd()}\n\n${section}\n`;
if (process.argv.includes('--no-write')) console.log('\n--no-write: bench/RESULTS.md left as it is');
else {
  writeFileSync(resultsPath, doc);
  console.log(`\nwrote ${path.relative(process.cwd(), resultsPath)}`);
}
