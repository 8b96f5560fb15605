import { describe, it, expect } from 'vitest';
import { key } from '../../src/random/index.js';
import { Tensor } from '../../src/tensor/index.js';
import { initFourierFeatures } from '../../src/nn/index.js';
import {
  checkDeepEbmConfig, deepEbmEnergy, deepEbmNoiseEnergy, initDeepEbm, parseArch, deepEbmSettings, deepEbmSetup, DEEP_EBM_DEFAULTS,
  type DeepEbmConfig,
} from '../../src/models/deepEbm/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('noise-conditional deep-EBM energy E(x, σ)', () => {
  const cfg: DeepEbmConfig = {
    arch: parseArch('mlp:2-16-1'), activation: 'silu', shift: [1, -1], scale: [2, 0.5], confine: 0.3,
    fourier: initFourierFeatures(key(2), 2, 4, 0.5), noise: { sigmaMin: 0.1, sigmaMax: 1 },
  };
  const params = initDeepEbm(key(1), cfg);
  const x = new Tensor(Float32Array.from([0, 0, 1, -1, 2.5, 0.3]), [3, 2]);
  const ls = (s: number): Tensor => new Tensor(new Float32Array(3).fill(Math.log(s)), [3]);

  it('reads log σ as one more network input; the model energy is E(x, σ_min)', () => {
    expect(params['l0.w'].shape).toEqual([2 * 4 + 1, 16]);
    const atMin = deepEbmNoiseEnergy(params, cfg)(x, ls(0.1));
    expect(Array.from(deepEbmEnergy(params, cfg).energy(x).data)).toEqual(Array.from(atMin.data));
    const atMax = deepEbmNoiseEnergy(params, cfg)(x, ls(1));
    expect(Array.from(atMax.data)).not.toEqual(Array.from(atMin.data));
  });

  it('checkDeepEbmConfig accepts it and refuses bad levels or a conv net; a config without noise has no σ input', () => {
    expect(checkDeepEbmConfig(JSON.parse(JSON.stringify(cfg))).noise).toEqual({ sigmaMin: 0.1, sigmaMax: 1 });
    expect(() => checkDeepEbmConfig({ ...cfg, noise: { sigmaMin: 1, sigmaMax: 1 } })).toThrow(InvalidArgumentError);
    expect(() => checkDeepEbmConfig({ ...cfg, noise: { sigmaMin: 0, sigmaMax: 1 } })).toThrow(InvalidArgumentError);
    expect(() => checkDeepEbmConfig({ ...cfg, fourier: null, arch: parseArch('conv:1x4x4:2'), shift: [0], scale: [1] })).toThrow(InvalidArgumentError);
    const plain = { ...cfg, noise: null };
    expect(initDeepEbm(key(1), plain)['l0.w'].shape).toEqual([8, 16]);
    expect(() => deepEbmNoiseEnergy(initDeepEbm(key(1), plain), plain)).toThrow(InvalidArgumentError);
  });

  it('the dsm defaults on 2-D vectors build a noise-conditional config; sigmaMax: null and CD do not', () => {
    const data = new Tensor(Float32Array.from({ length: 200 }, (_, i) => Math.sin(i * 1.7) * 3 + (i % 2)), [100, 2]);
    const s = deepEbmSettings(data, { loss: 'dsm' });
    const rms = Math.sqrt((s.scale[0] ** 2 + s.scale[1] ** 2) / 2);
    expect(s.sigmaMax).toBeCloseTo(DEEP_EBM_DEFAULTS.sigmaMaxZ * rms, 12);
    expect([s.steps, s.batch, s.lr]).toEqual([DEEP_EBM_DEFAULTS.dsmSteps, DEEP_EBM_DEFAULTS.dsmBatch, DEEP_EBM_DEFAULTS.dsmLr]);
    expect(deepEbmSetup(s, key(0), [0], [1]).cfg.noise).toEqual({ sigmaMin: s.sigma, sigmaMax: s.sigmaMax });
    const single = deepEbmSettings(data, { loss: 'dsm', sigmaMax: null });
    expect([single.steps, single.batch, single.lr]).toEqual([DEEP_EBM_DEFAULTS.scoreMatchingSteps, DEEP_EBM_DEFAULTS.batch, DEEP_EBM_DEFAULTS.lr]);
    expect(deepEbmSetup(single, key(0), [0], [1]).cfg.noise).toBeUndefined();
    expect(deepEbmSettings(data).sigmaMax).toBeNull();
  });
});
