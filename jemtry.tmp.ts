import { key, split, normalArray, uniformArray } from './src/random/index.js';
import { Tensor } from './src/tensor/index.js';
import { initMLP } from './src/nn/index.js';
import { ula } from './src/samplers/index.js';
import { mlpClassifier, trainJem, jemPredict, jemEnergy, sampleJem } from './src/models/jem/index.js';
import { accuracy } from './src/eval/classification.js';
import { noGrad } from './src/tensor/index.js';
const C = [[0.5,0.5],[-0.5,0.5],[0,-0.5]];
function blobs(k: any, n: number) { const z = normalArray(k, n*2, 'float64'); const x = new Float32Array(n*2); const y = new Int32Array(n);
 for (let i=0;i<n;i++){ const c=i%3; y[i]=c; x[2*i]=C[c][0]+0.12*z[2*i]; x[2*i+1]=C[c][1]+0.12*z[2*i+1]; } return { x: new Tensor(x,[n,2]), y }; }
const tr = blobs(key(1), 600), te = blobs(key(2), 600);
const f = mlpClassifier('silu');
const t0 = performance.now();
const res = trainJem({ classifier: f, params: initMLP(key(0), [2, 32, 32, 3]), x: tr.x, y: tr.y, numClasses: 3, trainSteps: +process.argv[2]||300, batchSize: 32, key: key(3), steps: 10, bufferSize: 500,
  sampler: (E) => ula(E, { stepSize: 0.005 }), lr: 3e-3, weights: {px: 1, pxy: 0.5}, alpha: 0.01,
  logEvery: 50, onLog: (r) => console.log(r.step, r.loss.toFixed(3), r.gap.toFixed(3), r.ce.toFixed(3), r.acc, r.condGap.toFixed(3)) });
console.log('time', (performance.now()-t0)/1000, 'events', res.events.length);
const p = jemPredict(f, res.params, te.x); console.log('acc', accuracy(p, te.y));
const s = sampleJem(f, res.params, 2, { key: key(9), n: 300, steps: 200, sampler: (E) => ula(E, { stepSize: 0.005 }) });
const noise = new Tensor(Float32Array.from(uniformArray(key(10), 600, 'float64'), v=>2*v-1), [300,2]);
const E = jemEnergy(f, res.params, 2);
const m = (t: Tensor) => { const e = noGrad(()=>E.energy(t)); let a=0; for (const v of e.data) a+=v; return a/e.size; };
console.log('E samples', m(s), 'E noise', m(noise), 'E data', m(te.x));
const sc = sampleJem(f, res.params, 2, { key: key(11), n: 300, steps: 200, labels: Int32Array.from({length:300},(_, i)=>i%3), sampler: (E) => ula(E, { stepSize: 0.005 }) });
console.log('cond acc', accuracy(jemPredict(f, res.params, sc), Int32Array.from({length:300},(_, i)=>i%3)));
