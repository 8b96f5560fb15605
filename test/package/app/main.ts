// A user's web page: imports the installed package by its name, as any app would (test/package/browser.test.ts
// builds this with Vite against the packed tarball and runs it in headless Chromium). docs/recipes/web-page.md shows it.
import { key, normal, mala, sample, mul, sum, square, backendInfo, io, type Energy, type Tensor } from 'ebm-ts';

// Standard 2-D Gaussian: E(x) = ½‖x‖², so the samples should have mean 0 and variance 1 in each coordinate.
const E: Energy = { dim: 2, energy: (x: Tensor) => mul(sum(square(x), 1), 0.5) };
const run = sample(mala(E, { stepSize: 0.8 }), { key: key(2), init: normal(key(1), [64, 2]), steps: 500, burnIn: 100 });
const xs = run.samples.data;                          // [400, 64, 2] flattened
let m0 = 0, m1 = 0, v0 = 0, v1 = 0;
const n = xs.length / 2;
for (let i = 0; i < n; i++) { m0 += xs[2 * i]; m1 += xs[2 * i + 1]; }
m0 /= n; m1 /= n;
for (let i = 0; i < n; i++) { v0 += (xs[2 * i] - m0) ** 2; v1 += (xs[2 * i + 1] - m1) ** 2; }
const acceptance = run.infos.reduce((a, info) => a + info.acceptanceProb.reduce((s, p) => s + p, 0) / info.acceptanceProb.length, 0) / run.infos.length;

// File functions exist in the main entry but need Node: in a browser they reject with an error that says so
// (loaders wrap it in their DataError naming the file).
let fileError = 'none';
try { await io.loadCsv('x.csv'); } catch (e) { fileError = e instanceof io.DataError || e instanceof io.NodeOnlyError ? (e as Error).message : `unexpected ${String(e)}`; }

const result = { backend: backendInfo().backend, samples: run.samples.shape, mean: [m0, m1], variance: [v0 / (n - 1), v1 / (n - 1)], acceptance, fileError };
console.log('ebm-ts result ' + JSON.stringify(result));
document.getElementById('out')!.textContent = JSON.stringify(result, null, 1);
