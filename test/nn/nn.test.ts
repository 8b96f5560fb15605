import { describe, expect, it } from 'vitest';
import {
  ACTIVATIONS, activationFn, applyConv2d, applyConvNet, applyLinear, applyMLP, convNetShapes, initConv2d, initConvNet,
  initLinear, initMLP, initWeight, mlpSizes, paramCount, type ConvNetConfig,
} from '../../src/nn/index.js';
import { key, normal, split } from '../../src/random/index.js';
import { Tensor, tensor, matmul, add, relu, sum, square, valueAndGrad, conv2d, allFinite } from '../../src/tensor/index.js';

function moments(t: Tensor): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (const v of t.data) {
    s += v;
    s2 += v * v;
  }
  const mean = s / t.size;
  return { mean, variance: s2 / t.size - mean * mean };
}

describe('initialisers', () => {
  const n = 400 * 300;
  it('kaiming: N(0, 2/fanIn) within 5 Monte Carlo standard errors', () => {
    const w = initWeight(key(1), [400, 300], 400, 300, 'kaiming');
    const { mean, variance } = moments(w);
    const v = 2 / 400;
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(v / n));
    expect(Math.abs(variance - v)).toBeLessThan(5 * v * Math.sqrt(2 / n)); // Var(s²) ≈ 2σ⁴/n
  });

  it('lecun: N(0, 1/fanIn)', () => {
    const { variance } = moments(initWeight(key(2), [400, 300], 400, 300, 'lecun'));
    const v = 1 / 400;
    expect(Math.abs(variance - v)).toBeLessThan(5 * v * Math.sqrt(2 / n));
  });

  it('xavier: U(−a, a), a = √(6/(fanIn+fanOut)), variance a²/3', () => {
    const w = initWeight(key(3), [400, 300], 400, 300, 'xavier', 'float64');
    const a = Math.sqrt(6 / 700);
    expect(Math.max(...w.data.map(Math.abs))).toBeLessThanOrEqual(a);
    const { variance } = moments(w);
    expect(Math.abs(variance - (a * a) / 3)).toBeLessThan(5 * a * a * Math.sqrt(4 / 45 / n)); // Var(u²) = 4a⁴/45
    expect(w.dtype).toBe('float64');
  });

  it('is a pure function of the key', () => {
    expect(initWeight(key(4), [3, 3], 3, 3, 'kaiming').toArray()).toEqual(initWeight(key(4), [3, 3], 3, 3, 'kaiming').toArray());
    expect(initWeight(key(4), [3, 3], 3, 3, 'kaiming').toArray()).not.toEqual(initWeight(key(5), [3, 3], 3, 3, 'kaiming').toArray());
  });
});

describe('linear', () => {
  it('initLinear shapes, zero bias, applyLinear = x·w + b', () => {
    const p = initLinear(key(0), 3, 2);
    expect(p.w.shape).toEqual([3, 2]);
    expect(p.b!.toArray()).toEqual([0, 0]);
    expect(initLinear(key(0), 3, 2, { bias: false }).b).toBeUndefined();
    const q = { w: tensor([[1, 2], [3, 4], [5, 6]]), b: tensor([0.5, -1]) };
    expect(applyLinear(q, tensor([[1, 0, -1]])).toNested()).toEqual([[-3.5, -5]]);
    expect(() => applyLinear(q, tensor([[1, 0]]))).toThrow(/does not end in 3 features/);
    expect(() => initLinear(key(0), 0, 2)).toThrow(/inFeatures/);
  });
});

describe('MLP', () => {
  it('flat names l{i}.w / l{i}.b with chained shapes; paramCount', () => {
    const p = initMLP(key(0), [2, 64, 64, 1], { activation: 'silu' });
    expect(Object.keys(p)).toEqual(['l0.w', 'l0.b', 'l1.w', 'l1.b', 'l2.w', 'l2.b']);
    expect(p['l1.w'].shape).toEqual([64, 64]);
    expect(p['l2.b'].shape).toEqual([1]);
    expect(mlpSizes(p)).toEqual([2, 64, 64, 1]);
    expect(paramCount(p)).toBe(2 * 64 + 64 + 64 * 64 + 64 + 64 + 1);
    expect(paramCount(initMLP(key(0), { sizes: [2, 64, 1], activation: 'tanh' }))).toBe(257);
  });

  it('applyMLP matches a hand computation (ReLU between layers, none after the last)', () => {
    const p = { 'l0.w': tensor([[1, -1], [2, 0]]), 'l0.b': tensor([0, 1]), 'l1.w': tensor([[1], [-2]]), 'l1.b': tensor([0.5]) };
    const x = tensor([[1, 1], [-1, 0]]);
    const manual = add(matmul(relu(add(matmul(x, p['l0.w']), p['l0.b'])), p['l1.w']), p['l1.b']);
    expect(applyMLP(p, x, 'relu').toArray()).toEqual(manual.toArray());
    // h = relu([3, 0]) = [3, 0] → 3 + 0.5; h = relu([-1, 2]) = [0, 2] → −4 + 0.5
    expect(applyMLP(p, x, { sizes: [2, 2, 1], activation: 'relu' }).toArray()).toEqual([3.5, -3.5]);
  });

  it('every activation is differentiable through the MLP and gives finite, non-zero gradients', () => {
    const x = normal(key(9), [16, 3]);
    for (const act of ACTIVATIONS) {
      const p = initMLP(key(1), [3, 8, 1], { activation: act });
      const [v, g] = valueAndGrad((q: typeof p) => sum(square(applyMLP(q, x, act))))(p);
      expect(Number.isFinite(v.item())).toBe(true);
      for (const k of Object.keys(g)) {
        expect(allFinite(g[k])).toBe(true);
        expect(g[k].data.some((e) => e !== 0)).toBe(true);
      }
    }
  });

  it('names the problem on bad input', () => {
    const p = initMLP(key(0), [2, 4, 1]);
    expect(() => applyMLP(p, tensor([[1, 2, 3]]), 'silu')).toThrow(/3 features but layer l0 expects 2/);
    expect(() => initMLP(key(0), [2])).toThrow(/at least/);
    expect(() => initMLP(key(0), [2, 1.5])).toThrow(/positive integers/);
    expect(() => activationFn('gelu' as never)).toThrow(/unknown activation 'gelu'/);
    expect(() => mlpSizes({ 'l0.w': tensor([[1]]), 'l1.w': tensor([[1, 2], [3, 4]]) })).toThrow(/'l1.w' has shape \[2, 2\]/);
  });
});

describe('conv', () => {
  it('initConv2d shapes and applyConv2d = conv2d', () => {
    const p = initConv2d(key(0), 3, 5, 3);
    expect(p.w.shape).toEqual([5, 3, 3, 3]);
    expect(p.b!.shape).toEqual([5]);
    const x = normal(key(1), [2, 3, 28, 28]);
    const y = applyConv2d(p, x, { stride: 2, padding: 1 });
    expect(y.shape).toEqual([2, 5, 14, 14]);
    expect(y.toArray()).toEqual(conv2d(x, p.w, p.b, { stride: 2, padding: 1 }).toArray());
    expect(() => applyConv2d(p, normal(key(1), [2, 4, 8, 8]))).toThrow(/not \[N, 3, H, W\]/);
  });

  const mnistCfg: ConvNetConfig = { inChannels: 1, height: 28, width: 28, channels: [8, 16, 16], hidden: 32, out: 10, activation: 'silu' };
  const smallCfg: ConvNetConfig = { inChannels: 1, height: 8, width: 8, channels: [8, 16], hidden: [], out: 1, activation: 'relu' };

  it('convNet geometry: 28 → 14 → 7 → 4 and 8 → 4 → 2', () => {
    expect(convNetShapes(mnistCfg)).toEqual({ spatial: [[14, 14], [7, 7], [4, 4]], flat: 16 * 16 });
    expect(convNetShapes(smallCfg)).toEqual({ spatial: [[4, 4], [2, 2]], flat: 16 * 4 });
  });

  it('convNet names, output shapes, flat and 4-D input agree, gradients reach every parameter', () => {
    const p = initConvNet(key(0), mnistCfg);
    expect(Object.keys(p)).toEqual(['conv0.w', 'conv0.b', 'conv1.w', 'conv1.b', 'conv2.w', 'conv2.b', 'fc0.w', 'fc0.b', 'fc1.w', 'fc1.b']);
    expect(p['fc0.w'].shape).toEqual([256, 32]);
    const x = normal(key(1), [3, 784]);
    const y = applyConvNet(p, x, mnistCfg);
    expect(y.shape).toEqual([3, 10]);
    expect(applyConvNet(p, new Tensor(x.data, [3, 1, 28, 28]), mnistCfg).toArray()).toEqual(y.toArray());

    const q = initConvNet(key(2), smallCfg);
    expect(Object.keys(q)).toEqual(['conv0.w', 'conv0.b', 'conv1.w', 'conv1.b', 'fc0.w', 'fc0.b']);
    const xs = normal(key(3), [4, 64]);
    const [, g] = valueAndGrad((pp: typeof q) => sum(square(applyConvNet(pp, xs, smallCfg))))(q);
    for (const k of Object.keys(g)) {
      expect(allFinite(g[k])).toBe(true);
      expect(g[k].data.some((e) => e !== 0)).toBe(true);
    }
    expect(() => applyConvNet(q, normal(key(3), [4, 63]), smallCfg)).toThrow(/neither \[N, 64\] nor \[N, 1, 8, 8\]/);
    expect(() => initConvNet(key(0), { ...smallCfg, channels: [] })).toThrow(/at least one/);
  });

  it('is deterministic given the key and independent across layers', () => {
    const [k1, k2] = split(key(5), 2);
    expect(initConvNet(k1, smallCfg)['conv1.w'].toArray()).toEqual(initConvNet(k1, smallCfg)['conv1.w'].toArray());
    expect(initConvNet(k1, smallCfg)['conv1.w'].toArray()).not.toEqual(initConvNet(k2, smallCfg)['conv1.w'].toArray());
  });
});
