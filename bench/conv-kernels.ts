/**
 * Per-kernel CPU time of the conv layers of the bench net (bench/conv-energy.ts), one thread: forward (kind 0), input
 * gradient (kind 1) and filter gradient (kind 2) of each layer, with the GFLOP/s each reaches, and the sum over one
 * training step (2 × every kernel except layer 1's input gradient, which the step never needs). Shows whether the
 * conv kernels or the rest of the step bound it (see the "what changed" note under the conv table in RESULTS.md).
 * Usage: npx tsx bench/conv-kernels.ts
 */
import { backendInfo, initBackend } from '../src/tensor/select.js';
import { setNativeThreads } from '../src/tensor/native.js';
import type { Conv2dKind } from '../src/tensor/imageTypes.js';

const be = initBackend();
setNativeThreads(1);
const info = backendInfo();
console.log(`backend ${info.backend} (${info.simd ?? 'no SIMD info'}), 1 thread`);
if (!be.image) {
  console.log('this backend has no image kernels');
  process.exit(0);
}
const image = be.image;
const layers = [
  { name: 'L1 1→32 s1', n: 64, c: 1, h: 28, w: 28, o: 32, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
  { name: 'L2 32→64 s2', n: 64, c: 32, h: 28, w: 28, o: 64, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
  { name: 'L3 64→64 s2', n: 64, c: 64, h: 14, w: 14, o: 64, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
];
const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
let step = 0;
for (const l of layers) {
  const oh = Math.floor((l.h + 2 * l.ph - l.kh) / l.sh) + 1;
  const ow = Math.floor((l.w + 2 * l.pw - l.kw) / l.sw) + 1;
  const g = { ...l, oh, ow };
  const x = fill(l.n * l.c * l.h * l.w), w = fill(l.o * l.c * l.kh * l.kw), b = fill(l.o), y = fill(l.n * l.o * oh * ow);
  const runs: [Conv2dKind, Float32Array, Float32Array, Float32Array | null, Float32Array][] = [
    [0, x, w, b, new Float32Array(y.length)],
    [1, y, w, null, new Float32Array(x.length)],
    [2, x, y, null, new Float32Array(w.length)],
  ];
  const flops = 2 * l.n * l.o * l.c * l.kh * l.kw * oh * ow;
  for (const [kind, a, bb, bias, out] of runs) {
    image.conv2d(kind, g, a, bb, bias, out);
    const reps = 10;
    const c0 = process.cpuUsage();
    for (let r = 0; r < reps; r++) image.conv2d(kind, g, a, bb, bias, out);
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000 / reps;
    if (!(kind === 1 && l.c === 1)) step += 2 * ms;
    console.log(`${l.name} kind ${kind}: ${ms.toFixed(2)} ms CPU, ${(flops / ms / 1e6).toFixed(1)} GFLOP/s`);
  }
}
console.log(`conv kernels of one training step: ${step.toFixed(1)} ms CPU`);
