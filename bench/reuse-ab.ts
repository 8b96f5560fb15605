/**
 * Buffer reuse A/B (issue 14's memory plan): CPU milliseconds per iteration of the U-Net score-network training step
 * (bench/unet-score.ts) and the conv-energy workloads (bench/conv-energy.ts) without and with `withBufferReuse`,
 * interleaved in one process at 1 native thread (each round: [base,] off, on; each a median of 3 blocks ≥ 0.3 s and
 * ≥ 2 iterations). `--base DIR` adds the same workloads from another checkout (e.g. `git archive <commit> | tar -x -C DIR`
 * with node_modules linked and build/ copied), loaded as a separate module graph in the same process: the "before".
 * CPU time of a 1-thread run is the steadier figure on a loaded machine.
 * Usage: npx tsx bench/reuse-ab.ts [rounds=3] [--only unet,train,langevin,forward] [--base DIR]
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { calibratedIterations } from './timing.js';
import { setNativeThreads } from '../src/tensor/native.js';
import { initBackend } from '../src/tensor/select.js';
import { convWorkloads } from './conv-energy.js';
import { unetTrainWorkload } from './unet-score.js';

const argv = process.argv.slice(2);
const valueOf = (flag: string): string | undefined => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined; };
const flagValues = new Set([argv.indexOf('--only') + 1, argv.indexOf('--base') + 1].filter((i) => i > 0));
const ROUNDS = Number(argv.find((a, i) => !a.startsWith('--') && !flagValues.has(i)) ?? 3);
const NAMES = (valueOf('--only') ?? 'unet,train,langevin,forward').split(',');
const BASE = valueOf('--base');

initBackend();
setNativeThreads(1);

type Workloads = Record<string, () => void>;

function timeMs(fn: () => void): { wall: number; cpu: number } {
  const iters = Math.max(2, calibratedIterations(fn, 0.3));
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < 3; r++) {
    const s = performance.now();
    const c = process.cpuUsage();
    for (let i = 0; i < iters; i++) fn();
    ms.push((performance.now() - s) / iters);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000 / iters);
  }
  const med = (v: number[]) => v.slice().sort((a, b) => a - b)[1];
  return { wall: med(ms), cpu: med(cpu) };
}

const make = (reuseBuffers: boolean): Workloads => {
  const c = convWorkloads({ reuseBuffers });
  const u = unetTrainWorkload({ reuseBuffers });
  return { ...c, unet: () => { u(); } };
};

async function loadBase(dir: string): Promise<Workloads> {
  const url = (p: string) => pathToFileURL(path.resolve(dir, p)).href;
  const sel = await import(url('src/tensor/select.ts')) as { initBackend(): unknown };
  const nat = await import(url('src/tensor/native.ts')) as { setNativeThreads(n: number): void };
  const conv = await import(url('bench/conv-energy.ts')) as { convWorkloads(): Workloads };
  const unet = await import(url('bench/unet-score.ts')) as { unetTrainWorkload(): () => number };
  sel.initBackend();
  nat.setNativeThreads(1);
  const u = unet.unetTrainWorkload();
  return { ...conv.convWorkloads(), unet: () => { u(); } };
}

const variants: [string, Workloads][] = [];
if (BASE) variants.push(['base', await loadBase(BASE)]);
variants.push(['off', make(false)], ['on', make(true)]);
for (let r = 0; r < ROUNDS; r++) {
  const parts: string[] = [];
  for (const n of NAMES) {
    const t = variants.map(([v, w]) => [v, timeMs(w[n])] as const);
    const on = t[t.length - 1][1].cpu;
    parts.push(`${n} ` + t.map(([v, x]) => `${v} ${x.cpu.toFixed(1)} cpu / ${x.wall.toFixed(1)} wall`).join(', ') +
      ` (cpu ×${(t[0][1].cpu / on).toFixed(2)} ${t[0][0]}/on)`);
  }
  console.log(`round ${r + 1} ${new Date().toISOString().slice(11, 19)} UTC (load ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')}): ${parts.join('; ')}`);
}
