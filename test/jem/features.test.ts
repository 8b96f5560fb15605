import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/index.js';
import { key, normalArray } from '../../src/random/index.js';
import { linear } from '../../src/tensor/ops/linalg.js';
import { applyConvNet, convNetFeatures } from '../../src/nn/index.js';
import { initJem, jemConfig, jemConvNet, jemModelFeatures, jemModelPredict, standardizeJem } from '../../src/models/jem/index.js';

/** softmax rows of logits (float64). */
function softmax(l: Tensor): Float64Array {
  const [n, K] = l.shape;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, l.data[i * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += (out[i * K + k] = Math.exp(l.data[i * K + k] - m));
    for (let k = 0; k < K; k++) out[i * K + k] /= s;
  }
  return out;
}

describe('penultimate features (convNetFeatures, jemModelFeatures)', () => {
  it.each([
    ['conv', jemConfig({ dim: 64, classes: [0, 1, 2], conv: [4, 8], hidden: [16, 12], imageShape: [8, 8], shift: [0.5], scale: [0.5] })],
    ['mlp', jemConfig({ dim: 5, classes: [0, 1, 2], hidden: [7, 6] })],
  ] as const)('%s: the last dense layer applied to the features gives the classifier’s probabilities', (kind, cfg) => {
    const p = initJem(key(3), cfg);
    const n = 11; // not a multiple of the block size below
    const x = new Tensor(Float32Array.from(normalArray(key(4), n * cfg.dim, 'float32'), (v) => 0.5 + 0.3 * v), [n, cfg.dim]);
    const f = jemModelFeatures(p, cfg, x, 4);
    expect(f.shape).toEqual([n, kind === 'conv' ? 12 : 6]);
    const last = kind === 'conv' ? ['fc2.w', 'fc2.b'] : ['l2.w', 'l2.b'];
    const probs = softmax(linear(f, p[last[0]], p[last[1]]));
    const want = jemModelPredict(p, cfg, x);
    for (let i = 0; i < probs.length; i++) expect(probs[i]).toBeCloseTo(want.data[i], 5);
    if (kind === 'conv') {
      const net = jemConvNet(cfg)!;
      const z = standardizeJem(cfg, x);
      const logits = applyConvNet(p, z, net);
      const again = linear(convNetFeatures(p, z, net), p['fc2.w'], p['fc2.b']);
      for (let i = 0; i < logits.size; i++) expect(again.data[i]).toBeCloseTo(logits.data[i], 5);
    }
  });
});
