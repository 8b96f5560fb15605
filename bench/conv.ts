/**
 * `npm run bench:conv`: the 3-layer conv energy of bench/conv-energy.ts and the MNIST U-Net score-network training
 * step of bench/unet-score.ts against their PyTorch mirrors (bench/torch_conv_bench.py), alternating runs: each round
 * times ebm-ts, then PyTorch with 1 thread, then PyTorch with 2 threads (OMP_WAIT_POLICY=PASSIVE). Per round the ratio
 * is PyTorch's better time / ebm-ts time; the medians and every round are printed and written to bench/RESULTS.md
 * between the `conv` markers (only when every workload ran).
 * Each ebm-ts iteration runs in a buffer-reuse scope (`withBufferReuse`, as the library's training steps do);
 * `--no-reuse` allocates every intermediate fresh.
 * Usage: npx tsx bench/conv.ts [rounds=3] [--only forward,langevin,train,unet] [--no-write] [--no-reuse]
 */
import { calibratedIterations } from './timing.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setNativeThreads } from '../src/tensor/native.js';
import { backendInfo, initBackend } from '../src/tensor/select.js';
import { convWorkloads } from './conv-energy.js';
import { UNET_BATCH, unetTrainWorkload } from './unet-score.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flagAt = argv.indexOf('--only');
const ROUNDS = Number(argv.find((a, i) => !a.startsWith('--') && i !== flagAt + 1) ?? 3);
const REPS = 3;
const BLOCK_S = 0.5;
const ALL = ['forward', 'langevin', 'train', 'unet'] as const;
type Name = (typeof ALL)[number];
const NAMES: readonly Name[] = flagAt >= 0 ? (argv[flagAt + 1] ?? '').split(',').map((n) => {
  if (!(ALL as readonly string[]).includes(n)) throw new Error(`--only: unknown workload '${n}' (${ALL.join(', ')})`);
  return n as Name;
}) : ALL;
const WRITE = NAMES.length === ALL.length && !argv.includes('--no-write');
/** `--no-reuse`: every intermediate allocated fresh (the workloads otherwise run in buffer-reuse scopes, as the library's training steps do). */
const REUSE = !argv.includes('--no-reuse');

initBackend();

/**
 * Median per-iteration wall and process-CPU milliseconds over REPS blocks of ≥ BLOCK_S seconds after a 0.3 s warm-up.
 * CPU time of a 1-thread run is the steadier figure on a loaded machine (time spent descheduled does not count).
 */
function timeMs(fn: () => void): { wall: number; cpu: number } {
  const iters = calibratedIterations(fn, BLOCK_S);
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const s = performance.now();
    const c = process.cpuUsage();
    for (let i = 0; i < iters; i++) fn();
    ms.push((performance.now() - s) / iters);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000 / iters);
  }
  return { wall: med(ms), cpu: med(cpu) };
}

function torchRun(threads: 1 | 2): Record<Name, { wall: number; cpu: number }> | null {
  const env = { ...process.env, ...(threads === 2 ? { OMP_WAIT_POLICY: 'PASSIVE' } : {}) };
  try {
    const out = execFileSync('/usr/bin/python3', [path.join(root, 'bench/torch_conv_bench.py'), '--threads', String(threads), '--reps', String(REPS), '--block-s', String(BLOCK_S), '--only', NAMES.join(',')], { env, encoding: 'utf8' });
    const j = JSON.parse(out.trim().split('\n').pop()!) as { results: Record<Name, { ms_median: number; cpu_ms_median: number }> };
    const r = {} as Record<Name, { wall: number; cpu: number }>;
    for (const n of NAMES) r[n] = { wall: j.results[n].ms_median, cpu: j.results[n].cpu_ms_median };
    return r;
  } catch (e) {
    console.log(`PyTorch mirror failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
    return null;
  }
}

function loadavg(): string {
  return os.loadavg().map((v) => v.toFixed(1)).join(' / ');
}

const med = (v: number[]) => { const s = v.slice().sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const unetStep = unetTrainWorkload({ reuseBuffers: REUSE });
const w: Record<Name, () => void> = { ...convWorkloads({ reuseBuffers: REUSE }), unet: () => { unetStep(); } };
const series = () => ({ forward: [], langevin: [], train: [], unet: [] }) as Record<Name, number[]>;
const ours = series();
const theirs = series();
const oursCpu = series();
const theirsCpu = series();
const loads: string[] = [];
for (let r = 0; r < ROUNDS; r++) {
  loads.push(loadavg());
  // Like PyTorch, ebm-ts runs with 1 and with 2 threads and keeps its better wall time: on a loaded machine a
  // fork-join over 2 threads waits for whichever thread was descheduled.
  for (const n of NAMES) {
    setNativeThreads(1);
    const t1 = timeMs(w[n]);
    setNativeThreads(2);
    ours[n].push(Math.min(t1.wall, timeMs(w[n]).wall));
    oursCpu[n].push(t1.cpu);
  }
  const t1 = torchRun(1);
  const t2 = torchRun(2);
  for (const n of NAMES) {
    theirs[n].push(Math.min(t1?.[n].wall ?? Infinity, t2?.[n].wall ?? Infinity));
    theirsCpu[n].push(t1?.[n].cpu ?? NaN);
  }
  console.log(`round ${r + 1}: ebm-ts ${NAMES.map((n) => ours[n][r].toFixed(1)).join(' / ')} ms; PyTorch ${NAMES.map((n) => theirs[n][r].toFixed(1)).join(' / ')} ms (load ${loads[r]})`);
}

const info = backendInfo();
const label: Record<Name, string> = {
  forward: 'forward (energy of the batch, no grad)',
  langevin: 'Langevin step (forward + input gradient + update)',
  train: 'training step (64 + 64 images, ∇θ, Adam)',
  unet: `U-Net score network: training step (VP-SDE DSM, batch ${UNET_BATCH}, ∇θ, Adam, EMA)`,
};
const lines: string[] = [];
lines.push(`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ` +
  `Node ${process.version}; ebm-ts backend \`${info.backend}\` (${info.simd ?? 'no SIMD info'}), best of 1 and 2 threads per round; PyTorch best of 1 thread and 2 threads ` +
  `(OMP_WAIT_POLICY=PASSIVE) per round. ${ROUNDS} alternating rounds (ebm-ts 1 and 2 threads, PyTorch 1 thread, PyTorch 2 threads), each a median of ${REPS} blocks ≥ ${BLOCK_S} s; ebm-ts buffer reuse ${REUSE ? 'on (withBufferReuse per iteration)' : 'off'}. ` +
  `**The machine was shared with other sessions and heavily loaded** (1-min load average at the start of each round: ${loads.join('; ')} on ${os.cpus().length} cores), so absolute times are inflated and noisy; the ratios come from interleaved runs.`);
lines.push('');
lines.push('Conv energy: 3×3 convs 1→32 (stride 1) → 64 (stride 2) → 64 (stride 2), padding 1, SiLU, linear 64·7·7 → 1; batch 64×1×28×28 float32 (bench/conv-energy.ts, bench/torch_conv_bench.py). ' +
  'U-Net: the score network of `ebm train score --sde vp --arch unet` on 28×28 images (src/diffusion/scoreNets.ts, base 16, time embedding 32: 3×3 convs 1→16, 16→32 stride 2, 32→32 stride 2, ' +
  'nearest 2× upsampling with skip concatenations 64→32 and 48→16, each block SiLU(conv + per-channel projection of the embedding), output conv 16→1), one `scoreSdeTrainStep` ' +
  `(mixed log-σ/uniform times, preconditioned score, σ²-weighted DSM, Adam 1e-3, EMA 0.999) on ${UNET_BATCH} images (bench/unet-score.ts; the PyTorch mirror re-implements the same step).`);
lines.push('');
lines.push('| workload | ebm-ts ms (median; all rounds) | PyTorch ms (median; all rounds) | ratio PyTorch/ebm-ts (median; all rounds) |');
lines.push('|---|---|---|---|');
for (const n of NAMES) {
  const ratios = ours[n].map((o, i) => theirs[n][i] / o);
  lines.push(`| ${label[n]} | ${med(ours[n]).toFixed(1)}; ${ours[n].map((v) => v.toFixed(1)).join(', ')} | ${med(theirs[n]).toFixed(1)}; ${theirs[n].map((v) => v.toFixed(1)).join(', ')} | **${med(ratios).toFixed(2)}**; ${ratios.map((v) => v.toFixed(2)).join(', ')} |`);
}
lines.push('');
lines.push('Process CPU time per iteration, both with 1 thread (time spent descheduled does not count, so this is the steadier comparison on a loaded machine; cache and memory-bandwidth contention still do):');
lines.push('');
lines.push('| workload | ebm-ts CPU ms (median; all rounds) | PyTorch CPU ms (median; all rounds) | ratio (median; all rounds) |');
lines.push('|---|---|---|---|');
for (const n of NAMES) {
  const ratios = oursCpu[n].map((o, i) => theirsCpu[n][i] / o);
  lines.push(`| ${label[n]} | ${med(oursCpu[n]).toFixed(1)}; ${oursCpu[n].map((v) => v.toFixed(1)).join(', ')} | ${med(theirsCpu[n]).toFixed(1)}; ${theirsCpu[n].map((v) => v.toFixed(1)).join(', ')} | **${med(ratios).toFixed(2)}**; ${ratios.map((v) => v.toFixed(2)).join(', ')} |`);
}
const table = lines.join('\n');
console.log('\n' + table);

if (!WRITE) {
  console.log('\nnot written to bench/RESULTS.md (a subset of the workloads, or --no-write)');
  process.exit(0);
}
const resultsPath = path.join(root, 'bench/RESULTS.md');
const start = '<!-- conv:start -->';
const end = '<!-- conv:end -->';
let doc = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark results\n\n';
const section = `${start}\n## Conv energy and U-Net score network: ebm-ts vs PyTorch-CPU (\`npx tsx bench/conv.ts\`)\n\n${table}\n${end}`;
doc = doc.includes(start) ? doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), section) : `${doc.trimEnd()}\n\n${section}\n`;
writeFileSync(resultsPath, doc);
console.log(`\nwrote ${path.relative(process.cwd(), resultsPath)}`);
