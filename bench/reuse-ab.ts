/**
 * Buffer reuse A/B (issue 14's memory plan): CPU milliseconds per iteration of the U-Net score-network training step
 * (bench/unet-score.ts) and the conv-energy workloads (bench/conv-energy.ts) without and with `withBufferReuse`,
 * interleaved in one process at 1 native thread (each round: off, then on, each a median of 3 blocks ≥ 0.5 s). CPU time
 * of a 1-thread run is the steadier figure on a loaded machine; wall time is printed beside it.
 * Usage: npx tsx bench/reuse-ab.ts [rounds=3] [--only unet,train,langevin,forward]
 */
import os from 'node:os';
import { calibratedIterations } from './timing.js';
import { setNativeThreads } from '../src/tensor/native.js';
import { initBackend } from '../src/tensor/select.js';
import { convWorkloads } from './conv-energy.js';
import { unetTrainWorkload } from './unet-score.js';

const argv = process.argv.slice(2);
const flagAt = argv.indexOf('--only');
const ROUNDS = Number(argv.find((a, i) => !a.startsWith('--') && i !== flagAt + 1) ?? 3);
const NAMES = flagAt >= 0 ? (argv[flagAt + 1] ?? '').split(',') : ['unet', 'train', 'langevin', 'forward'];

initBackend();
setNativeThreads(1);

function timeMs(fn: () => void): { wall: number; cpu: number } {
  const iters = calibratedIterations(fn, 0.5);
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

const make = (reuseBuffers: boolean): Record<string, () => void> => {
  const c = convWorkloads({ reuseBuffers });
  const u = unetTrainWorkload({ reuseBuffers });
  return { ...c, unet: () => { u(); } };
};
const off = make(false);
const on = make(true);
for (let r = 0; r < ROUNDS; r++) {
  const parts: string[] = [];
  for (const n of NAMES) {
    const a = timeMs(off[n]);
    const b = timeMs(on[n]);
    parts.push(`${n} off ${a.cpu.toFixed(1)} cpu / ${a.wall.toFixed(1)} wall, on ${b.cpu.toFixed(1)} / ${b.wall.toFixed(1)} (cpu ×${(a.cpu / b.cpu).toFixed(2)})`);
  }
  console.log(`round ${r + 1} (load ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')}): ${parts.join('; ')}`);
}
