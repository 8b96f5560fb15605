/**
 * `npx tsx bench/engine-cpu.ts [rounds=3] [--no-write]`: the engine rows of `npm run bench` (RBM CD-1, the MLP Langevin
 * chain, the DSM and SSM training steps: bench/engine-workloads.ts) against their PyTorch mirror
 * (bench/torch_engine_cpu.py), both with **one thread**, in **process CPU time** per iteration — the steady comparison
 * on a shared, loaded machine, where wall time mostly measures how long a process waited for a core. Rounds alternate
 * (ebm-ts, then PyTorch); each figure is the median of 3 blocks ≥ 0.5 s after a 0.3 s warm-up. Prints the medians and
 * every round, and writes them to bench/RESULTS.md between the `engine-cpu` markers unless `--no-write`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setNativeThreads } from '../src/tensor/native.js';
import { backendInfo, initBackend } from '../src/tensor/select.js';
import { calibratedIterations } from './timing.js';
import { cd1Workload, dsmWorkload, langevinWorkload, ssmWorkload, type EngineWorkload } from './engine-workloads.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const ROUNDS = Number(argv.find((a) => !a.startsWith('--')) ?? 3);
const REPS = 3;
const BLOCK_S = 0.5;
const NAMES = ['cd1', 'langevin', 'dsm', 'ssm'] as const;
type Name = (typeof NAMES)[number];

initBackend();
setNativeThreads(1);

const med = (v: number[]) => { const s = v.slice().sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

/** Median process-CPU milliseconds per call over REPS blocks of ≥ BLOCK_S seconds after a 0.3 s warm-up. */
function cpuMs(fn: () => void): number {
  const iters = calibratedIterations(fn, BLOCK_S);
  const cpu: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const c = process.cpuUsage();
    for (let i = 0; i < iters; i++) fn();
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000 / iters);
  }
  return med(cpu);
}

function torchRound(): Record<Name, number> | null {
  try {
    const out = execFileSync('/usr/bin/python3', [path.join(root, 'bench/torch_engine_cpu.py'), '--reps', String(REPS), '--block-s', String(BLOCK_S)], { cwd: root, encoding: 'utf8' });
    return (JSON.parse(out.trim().split('\n').pop()!) as { cpu_ms: Record<Name, number> }).cpu_ms;
  } catch (e) {
    console.log(`PyTorch mirror failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
    return null;
  }
}

const work: Record<Name, EngineWorkload> = { cd1: cd1Workload(), langevin: langevinWorkload(), dsm: dsmWorkload(), ssm: ssmWorkload() };
const ours: Record<Name, number[]> = { cd1: [], langevin: [], dsm: [], ssm: [] };
const theirs: Record<Name, number[]> = { cd1: [], langevin: [], dsm: [], ssm: [] };
const loads: string[] = [];
for (let r = 0; r < ROUNDS; r++) {
  loads.push(os.loadavg().map((v) => v.toFixed(1)).join(' / '));
  for (const n of NAMES) ours[n].push(cpuMs(work[n].step));
  const t = torchRound();
  for (const n of NAMES) theirs[n].push(t?.[n] ?? NaN);
  console.log(`round ${r + 1}: ebm-ts ${NAMES.map((n) => ours[n][r].toFixed(2)).join(' / ')} ms CPU; PyTorch ${NAMES.map((n) => theirs[n][r].toFixed(2)).join(' / ')} ms CPU (load ${loads[r]})`);
}

const label: Record<Name, string> = {
  cd1: 'RBM CD-1 step 784×500, batch 100',
  langevin: 'Langevin, MLP 784-256-256-1 SiLU, batch 128, 60-step chain',
  dsm: 'DSM train step, 2-128-128-2, batch 512 (Adam)',
  ssm: 'SSM train step, 2-128-128-1, batch 512 (double backward, Adam)',
};
const info = backendInfo();
const lines: string[] = [];
lines.push(`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}; ` +
  `ebm-ts backend \`${info.backend}\`${info.simd ? ` (${info.simd})` : ''}, 1 thread, buffer reuse as the library runs; PyTorch 1 thread. ${ROUNDS} alternating rounds, each a median of ${REPS} blocks ≥ ${BLOCK_S} s ` +
  `(1-min load average at the start of each round: ${loads.join('; ')}).`);
lines.push('');
lines.push('| workload | ebm-ts CPU ms (median; all rounds) | PyTorch CPU ms (median; all rounds) | ratio PyTorch/ebm-ts (median; all rounds) |');
lines.push('|---|---|---|---|');
for (const n of NAMES) {
  const ratios = ours[n].map((o, i) => theirs[n][i] / o);
  const f = (v: number[]) => `${med(v).toFixed(2)}; ${v.map((x) => x.toFixed(2)).join(', ')}`;
  lines.push(`| ${label[n]} | ${f(ours[n])} | ${f(theirs[n])} | **${med(ratios).toFixed(2)}**; ${ratios.map((v) => v.toFixed(2)).join(', ')} |`);
}
const table = lines.join('\n');
console.log('\n' + table);
if (argv.includes('--no-write')) process.exit(0);
const resultsPath = path.join(root, 'bench/RESULTS.md');
const start = '<!-- engine-cpu:start -->';
const end = '<!-- engine-cpu:end -->';
let doc = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark results\n\n';
const section = `${start}\n### Engine rows in process CPU time, 1 thread (\`npx tsx bench/engine-cpu.ts\`)\n\n${table}\n${end}`;
if (doc.includes(start)) doc = doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), section);
else doc = doc.replace('<!-- engine:end -->', `<!-- engine:end -->\n\n${section}`);
writeFileSync(resultsPath, doc);
console.log(`\nwrote ${path.relative(process.cwd(), resultsPath)}`);
