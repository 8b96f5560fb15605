/**
 * CPU time of an MLP energy's input gradient and of its DSM parameter gradient (a gradient of a gradient), eager on
 * the CPU backend: `npx tsx bench/tape-overhead.ts [js|native]`. Used to check that the tape's op attributes and the op
 * tracer's hooks (src/tensor/trace.ts) cost the eager path nothing measurable: run it on the commits before and after.
 * Prints the best and the median of 5 repetitions, in CPU µs per call (process.cpuUsage, so other jobs on a shared
 * machine inflate it less than wall time would).
 */
import { initBackend } from '../src/tensor/select.js';
import { valueAndGrad, sum, type Tensor } from '../src/tensor/index.js';
import { key } from '../src/random/index.js';
import { normal } from '../src/random/sample.js';
import { initMlpEnergy, energyZ, type MlpEnergyConfig } from '../src/models/mlpEnergy/model.js';
import { mlpEnergyLoss } from '../src/models/mlpEnergy/train.js';
import type { MLPParams } from '../src/nn/mlp.js';

initBackend((process.argv[2] ?? 'auto') as 'js' | 'native' | 'auto');
const cfg = { dim: 32, hidden: [128, 128], activation: 'silu', confine: 0.1, sigma: 0.1, loss: 'dsm', shift: [], scale: [] } as unknown as MlpEnergyConfig;
const p = initMlpEnergy(key(0), cfg);
const z = normal(key(1), [128, 32]);
const loss = mlpEnergyLoss(cfg);
const inputGrad = (): unknown => valueAndGrad((zz: Tensor) => sum(energyZ(p, cfg, zz)))(z);
const dsmGrad = (): unknown => valueAndGrad((pp: MLPParams) => loss(pp, z, key(2)).loss)(p);
for (const [name, f, n] of [['input gradient', inputGrad, 400], ['DSM parameter gradient', dsmGrad, 150]] as const) {
  for (let i = 0; i < 20; i++) f();
  const reps: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) f();
    const t = process.cpuUsage(t0);
    reps.push((t.user + t.system) / n);
  }
  reps.sort((a, b) => a - b);
  console.log(`${name}: best ${reps[0].toFixed(1)} µs, median ${reps[2].toFixed(1)} µs of CPU per call`);
}
