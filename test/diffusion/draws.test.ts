/**
 * continuousDSM takes its random draws (times `t`, noise `z`) passed in, so a loss value can be reproduced from
 * outside: with the key's own draws it is bit-identical to drawing them, and with explicit draws it matches the
 * formula `J = (1/n) Σᵢ ½‖σ(tᵢ)s(x_t, tᵢ) + zᵢ‖²` computed here by hand (a linear score `s = −x·θ`).
 */
import { describe, expect, it } from 'vitest';
import { continuousDSM, vpSDE, perturb } from '../../src/diffusion/index.js';
import { key, split, uniformArray, normal } from '../../src/random/index.js';
import { ShapeError, Tensor, mul, tensor } from '../../src/tensor/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

const sde = vpSDE();
const model = { score: (theta: Tensor, x: Tensor) => mul(x, mul(theta, -1)) };

describe('continuousDSM draws passed in', () => {
  const x = normal(key(5), [6, 3], { dtype: 'float64' });
  const theta = tensor([0.7], [], 'float64');
  const loss = continuousDSM(sde, model);

  it('the key’s own draws give the same value, bit for bit', () => {
    for (const seed of [0, 1, 2]) {
      const k = key(seed);
      const [kt, kz] = split(k, 2);
      const u = uniformArray(kt, 6, 'float64');
      const t = Array.from(u, (v) => 1e-3 + (sde.T - 1e-3) * v);
      const { z } = perturb(sde, x, t, kz);
      expect(loss(theta, x, k, { t, z }).loss.item()).toBe(loss(theta, x, k).loss.item());
    }
  });

  it('explicit draws: the value of the formula', () => {
    const t = [0.1, 0.2, 0.3, 0.5, 0.8, 1.0];
    const z = normal(key(9), [6, 3], { dtype: 'float64' });
    let want = 0;
    for (let i = 0; i < 6; i++) {
      const m = sde.meanCoef(t[i]), s = sde.std(t[i]);
      for (let j = 0; j < 3; j++) {
        const xt = m * x.data[i * 3 + j] + s * z.data[i * 3 + j];
        want += 0.5 * (s * (-0.7 * xt) + z.data[i * 3 + j]) ** 2 / 6;
      }
    }
    // Any key: every draw is given.
    expect(loss(theta, x, key(123), { t, z }).loss.item()).toBeCloseTo(want, 12);
  });

  it('refuses draws of the wrong size or range', () => {
    expect(() => loss(theta, x, key(0), { t: [0.5] })).toThrow(InvalidArgumentError);
    expect(() => loss(theta, x, key(0), { t: [0.5, 0.5, 0.5, 0.5, 0.5, 2] })).toThrow(InvalidArgumentError);
    expect(() => loss(theta, x, key(0), { z: normal(key(1), [6, 2], { dtype: 'float64' }) })).toThrow(ShapeError);
  });
});
