/**
 * Profiling harness for the engine's training-step workloads (DSM / SSM / Langevin / CD-1 / the MNIST U-Net score step), one per process:
 * `node --cpu-prof --import tsx bench/profile-steps.ts dsm [iters]`. Prints the per-step wall time (noisy on a shared
 * machine; compare CPU profiles and relative numbers instead) and the number of tensors allocated per step. The DSM,
 * SSM, Langevin and CD-1 steps are those of `npm run bench` (bench/engine-workloads.ts).
 */
import { initBackend, backendInfo } from '../src/tensor/select.js';
import * as T from '../src/tensor/index.js';
import { unetTrainWorkload } from './unet-score.js';
import { cd1Workload, dsmWorkload, langevinWorkload, ssmWorkload, type EngineWorkload } from './engine-workloads.js';

initBackend();
const which = process.argv[2] ?? 'dsm';
const iters = Number(process.argv[3] ?? 200);

/** The engine rows of `npm run bench` (bench/engine-workloads.ts, buffer reuse as the library runs) and the U-Net step. */
const fromWorkload = (w: () => EngineWorkload) => (): (() => number) => {
  const { step, loss } = w();
  return () => { step(); return loss?.() ?? 0; };
};
const makers: Record<string, () => () => number> = {
  dsm: fromWorkload(dsmWorkload), ssm: fromWorkload(ssmWorkload), langevin: fromWorkload(langevinWorkload), cd1: fromWorkload(cd1Workload), unet: unetTrainWorkload,
};
const step = makers[which]?.();
if (!step) throw new Error(`unknown workload '${which}' (dsm | ssm | langevin | cd1 | unet)`);
const info = backendInfo();
for (let i = 0; i < Math.min(which === 'unet' ? 3 : 20, iters); i++) step();
const id0 = new T.Tensor(new Float32Array(1), [1]).id;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let last = 0;
for (let i = 0; i < iters; i++) last = step();
const ms = (performance.now() - t0) / iters;
const cpu = process.cpuUsage(cpu0);
const id1 = new T.Tensor(new Float32Array(1), [1]).id;
console.log(JSON.stringify({
  workload: which, backend: info.backend, blas: info.blas, iters, msPerStep: +ms.toFixed(3),
  cpuMsPerStep: +((cpu.user + cpu.system) / 1000 / iters).toFixed(3), tensorsPerStep: Math.round((id1 - id0) / iters), last,
}));
