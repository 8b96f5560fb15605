/**
 * Training batches of 8-bit images are uniformly dequantised (`k/255 ↦ −1 + 2(k + u)/256`), the map the dequantised
 * likelihood applies to test images; other data and `dequantize: false` train on the rows as they are.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, reshape } from '../../src/tensor/index.js';
import { key, foldIn } from '../../src/random/index.js';
import {
  makeScoreSdeConfig, checkScoreSdeConfig, dequantizeBatch, toModelSpace, initScoreSdeState, scoreSdeTrainStep, netShape,
} from '../../src/models/scoreSde/index.js';

/** 40 rows of 784 8-bit levels k/255 covering 0 … 255 (0 and 255 at both ends). */
function levels(): Tensor {
  const a = new Float32Array(40 * 784);
  for (let i = 0; i < a.length; i++) a[i] = ((i * 37) % 256) / 255;
  return new Tensor(a, [40, 784]);
}
const arch = { kind: 'mlp' as const, hidden: [4], embedDim: 4, activation: 'silu' as const };

describe('score-sde: dequantised training batches of 8-bit images', () => {
  it('is on by default for 8-bit images, off for other data, and round-trips the file check', () => {
    const cfg = makeScoreSdeConfig(levels(), { sde: 'vp', arch, imageShape: [28, 28] });
    expect(cfg.bins).toBe(256);
    expect(cfg.dequantize).toBe(true);
    expect(makeScoreSdeConfig(levels(), { sde: 'vp', arch, imageShape: [28, 28], dequantize: false }).dequantize).toBe(false);
    const vec = new Tensor(new Float32Array([0.1, 2, -1.3, 0.4, 2.2, 0.9]), [3, 2]);
    expect(makeScoreSdeConfig(vec, { sde: 'vp', arch }).dequantize).toBeUndefined();
    expect(checkScoreSdeConfig(JSON.parse(JSON.stringify(cfg)), 'm.safetensors').dequantize).toBe(true);
    // An older file without the field still loads (training then used the levels); a bad value is named.
    const { dequantize: _, ...old } = JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
    expect(checkScoreSdeConfig(old, 'm.safetensors').dequantize).toBeUndefined();
    expect(() => checkScoreSdeConfig({ ...old, dequantize: 'yes' }, 'm.safetensors')).toThrow(/dequantize/);
    expect(() => checkScoreSdeConfig({ ...old, bins: null, dequantize: true }, 'm.safetensors')).toThrow(/dequantize/);
    // Image configs carry the input clip; older files without it load (and run unclipped); a bad value is named.
    expect(cfg.inputClip).toBe(5);
    expect(checkScoreSdeConfig({ ...old, inputClip: undefined }, 'm.safetensors').inputClip).toBeUndefined();
    expect(() => checkScoreSdeConfig({ ...old, inputClip: -1 }, 'm.safetensors')).toThrow(/inputClip/);
  });

  it('maps each level k into its own bin [−1 + 2k/256, −1 + 2(k+1)/256) with uniform offsets', () => {
    const x = levels();
    const cfg = makeScoreSdeConfig(x, { sde: 'vp', arch, imageShape: [28, 28] });
    const z = toModelSpace(cfg, x);
    const y = dequantizeBatch(cfg, z, key(3));
    expect(y.shape).toEqual(z.shape);
    let s = 0, s2 = 0;
    for (let i = 0; i < y.size; i++) {
      const k = Math.round(x.data[i] * 255);
      const u = ((y.data[i] + 1) * 256) / 2 - k; // the offset in its bin, in [0, 1)
      expect(u).toBeGreaterThanOrEqual(-1e-4);
      expect(u).toBeLessThan(1 + 1e-4);
      s += u;
      s2 += u * u;
    }
    const n = y.size, m = s / n, v = s2 / n - m * m;
    // U(0, 1): mean ½ ± 4 standard errors (√(1/12)/√n), variance 1/12 within 5 %.
    expect(Math.abs(m - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(v - 1 / 12)).toBeLessThan(0.05 / 12);
    // A key gives its own offsets; the same key the same ones.
    expect(Array.from(dequantizeBatch(cfg, z, key(3)).data)).toEqual(Array.from(y.data));
    expect(dequantizeBatch(cfg, z, key(4)).data[0]).not.toBe(y.data[0]);
  });

  it('the training step sees dequantised rows: the loss differs from a step on the levels, and is reproducible', () => {
    const x = levels();
    const on = makeScoreSdeConfig(x, { sde: 'vp', arch, imageShape: [28, 28] });
    const off = makeScoreSdeConfig(x, { sde: 'vp', arch, imageShape: [28, 28], dequantize: false });
    const batch = reshape(toModelSpace(on, x), netShape(on, 40));
    const s0 = initScoreSdeState(on, key(0), { lr: 1e-3 });
    const k = foldIn(key(1), 1);
    const [, a] = scoreSdeTrainStep(on, { lr: 1e-3 })(s0, batch, k);
    const [, a2] = scoreSdeTrainStep(on, { lr: 1e-3 })(s0, batch, k);
    const [, b] = scoreSdeTrainStep(off, { lr: 1e-3 })(s0, batch, k);
    expect(a.loss).toBe(a2.loss);
    expect(a.loss).not.toBe(b.loss);
    expect(() => dequantizeBatch(makeScoreSdeConfig(new Tensor(new Float32Array([0.1, 2, -1.3, 0.4]), [2, 2]), { sde: 'vp', arch }), batch, k)).toThrow(/bins/);
  });
});

describe('score-sde: the network input of image models is clipped to ±IMAGE_INPUT_CLIP', () => {
  it('a far-off pixel changes the score only through the Gaussian baseline −c_in²·z beyond the clip; a config without the clip reaches the net', async () => {
    const { scoreFn, sdeOf, IMAGE_INPUT_CLIP } = await import('../../src/models/scoreSde/index.js');
    const { tensor } = await import('../../src/tensor/index.js');
    const cfg = makeScoreSdeConfig(levels(), { sde: 'vp', arch, imageShape: [28, 28] });
    const sde = sdeOf(cfg);
    const p = initScoreSdeState(cfg, key(0), { lr: 1e-3 }).params;
    const s = scoreFn(cfg, sde);
    const t = 0.6;
    const cin2 = 1 / (sde.meanCoef(t) ** 2 * 0.25 + sde.std(t) ** 2);
    const edge = IMAGE_INPUT_CLIP / Math.sqrt(cin2) + 1e-3; // just beyond the clip, in z units
    const z = toModelSpace(cfg, levels()).data.slice(0, 784);
    const at = (v: number) => { const a = Float32Array.from(z); a[300] = v; return s(p, new Tensor(a, [1, 784]), tensor([t], [1], 'float32')); };
    const a = at(edge), b = at(1e3);
    for (let j = 0; j < 784; j++) {
      const want = j === 300 ? a.data[j] - cin2 * (Math.fround(1e3) - Math.fround(edge)) : a.data[j];
      expect(Math.abs(b.data[j] - want)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want)));
    }
    // An older image config (no inputClip field) is not clipped: the far-off value reaches the network.
    const { inputClip: _c, ...oldCfg } = cfg;
    const so = scoreFn(oldCfg, sde);
    const atOld = (v: number) => { const a = Float32Array.from(z); a[300] = v; return so(p, new Tensor(a, [1, 784]), tensor([t], [1], 'float32')); };
    expect(atOld(1e3).data[299]).not.toBeCloseTo(b.data[299], 4);
    // Vectors are not clipped: the same far-off value reaches the network.
    const vcfg = makeScoreSdeConfig(new Tensor(new Float32Array([0.1, 2, -1.3, 0.4, 2.2, 0.9]), [3, 2]), { sde: 'vp', arch });
    const vp = initScoreSdeState(vcfg, key(0), { lr: 1e-3 }).params;
    const vs = scoreFn(vcfg, sde);
    const u = (v: number) => vs(vp, new Tensor(Float32Array.from([v, 0]), [1, 2]), tensor([t], [1], 'float32')).data[1];
    expect(u(50)).not.toBeCloseTo(u(60), 6);
  });
});
