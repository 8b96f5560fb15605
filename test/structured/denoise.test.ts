import { describe, expect, it } from 'vitest';
import { key } from '../../src/random/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { denoiseBinaryImage, flipNoise, pixelErrorRate, shapesImage } from '../../src/structured/index.js';

describe('Ising denoising', () => {
  const clean = shapesImage(64, 64);
  const p = 0.1;
  const noisy = flipNoise(clean, p, key(11));
  const noisyErr = pixelErrorRate(noisy, clean);

  it('the noise flips about p of the pixels', () => {
    const se = Math.sqrt((p * (1 - p)) / clean.size);
    expect(Math.abs(noisyErr - p)).toBeLessThan(4 * se);
  });

  for (const method of ['icm', 'meanfield', 'gibbs'] as const) {
    it(`${method} cuts the pixel error to under 30 % of the noisy input's`, () => {
      const r = denoiseBinaryImage(noisy, { method, flipProbability: p, key: key(2), ...(method === 'gibbs' ? { sweeps: 60 } : {}) });
      const err = pixelErrorRate(r.image, clean);
      expect(err).toBeLessThan(0.3 * noisyErr);
      expect(r.energy).toBeLessThan(r.inputEnergy);
    });
  }

  it('rejects non-image input', () => {
    expect(() => denoiseBinaryImage(new Tensor(new Float32Array(4), [4]))).toThrow(/2-d/);
    expect(() => denoiseBinaryImage(new Tensor(Float32Array.from([0, 2, 0, 1]), [2, 2]))).toThrow(/row 0, column 1/);
  });
});
