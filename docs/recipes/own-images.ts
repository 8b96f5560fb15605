// Recipe: train on my own images — a folder of PNGs → an RBM → samples as a PNG grid (docs/recipes/own-images.md).
// Run: npx tsx docs/recipes/own-images.ts my-images/ samples.png
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { key, rbm, Tensor } from 'ebm-ts';
import { decodePng, imageGridPng } from 'ebm-ts/node';

/** Loads every `.png` in `dir` as greyscale [0, 1] (all of one size) into a `[n, h·w]` tensor. */
export async function loadPngFolder(dir: string): Promise<{ x: Tensor; h: number; w: number }> {
  const files = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.png')).sort();
  if (files.length === 0) throw new Error(`no .png files in ${dir}`);
  const images = await Promise.all(files.map(async (f) => decodePng(await readFile(join(dir, f)), f)));   // [h, w] each
  const [h, w] = images[0].shape;
  const data = new Float32Array(images.length * h * w);
  images.forEach((img, i) => {
    if (img.shape[0] !== h || img.shape[1] !== w) throw new Error(`${files[i]} is ${img.shape.join('×')}, expected ${h}×${w}`);
    data.set(img.data, i * h * w);
  });
  return { x: new Tensor(data, [images.length, h * w]), h, w };
}

/** Trains a Bernoulli RBM on the images (grey levels as probabilities) and writes 16 samples as one PNG grid. */
export async function trainOnImages(dir: string, out: string, epochs = 200) {
  const { x, h, w } = await loadPngFolder(dir);
  const model = new rbm.BernoulliRBM({ nHidden: 32, key: 0 }).fit(x, { epochs, batchSize: 5, lr: 0.1, momentum: 0.5, k: 1 });
  const samples = model.sample(key(1), 16, 200);           // [16, h·w], 200 Gibbs sweeps from noise
  await writeFile(out, imageGridPng(samples, { height: h, width: w, cols: 4, scale: 4 }));
  return { n: x.shape[0], h, w, samples };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, out] = process.argv.slice(2);
  const r = await trainOnImages(dir, out ?? 'samples.png');
  console.log(`trained on ${r.n} images of ${r.h}×${r.w}; wrote ${out ?? 'samples.png'}`);
}
