import { describe, it, expect } from 'vitest';
import {
  MLP_ENERGY_KIND, checkMlpEnergyConfig, makeMlpEnergyConfig, mlpEnergyLayout, mlpEnergySizes, initMlpEnergy, energyZ,
  standardize, unstandardize, energyOf, encodeMlpEnergyModel, decodeMlpEnergyModel, type MlpEnergyConfig, type ModelCodec,
  type MlpEnergyModel,
} from '../../src/models/mlpEnergy/model.js';
import { encodeModel, checkTensorLayout, MODEL_FORMAT } from '../../src/io/model.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { DataError } from '../../src/io/errors.js';
import { Tensor, tensor, grad, sum } from '../../src/tensor/index.js';
import { key } from '../../src/random/index.js';

const codec: ModelCodec = { format: MODEL_FORMAT, encodeModel, decodeSafetensors, checkTensorLayout };

const baseCfg = (): MlpEnergyConfig => ({
  dim: 2, hidden: [2], activation: 'tanh', shift: [1, -1], scale: [2, 0.5], confine: 0.5, loss: 'dsm', sigma: 0.1,
  bounds: [-3, 3, -3, 3],
});

/** The hand-computed net: W0 = [[1, 0], [0, −1]], b0 = [0, 2], W1 = [[2], [5]], b1 = [0.5]. */
const tinyParams = () => ({
  'l0.w': new Tensor(Float32Array.from([1, 0, 0, -1]), [2, 2]),
  'l0.b': new Tensor(Float32Array.from([0, 2]), [2]),
  'l1.w': new Tensor(Float32Array.from([2, 5]), [2, 1]),
  'l1.b': new Tensor(Float32Array.from([0.5]), [1]),
});

describe('checkMlpEnergyConfig', () => {
  it('accepts a valid config and returns it', () => {
    const c = baseCfg();
    expect(checkMlpEnergyConfig({ ...c }, 'f')).toEqual(c);
    expect(checkMlpEnergyConfig({ ...c, bounds: null }, 'f').bounds).toBeNull();
  });
  const cases: [string, Record<string, unknown>][] = [
    ['dim', { dim: 0 }], ['dim', { dim: 2.5 }], ['hidden', { hidden: [4, -1] }], ['hidden', { hidden: 'x' }],
    ['activation', { activation: 'gelu' }], ['shift', { shift: [0] }], ['shift', { shift: [0, NaN] }],
    ['scale', { scale: [1, 0] }], ['scale', { scale: [1, 1, 1] }], ['confine', { confine: -1 }],
    ['loss', { loss: 'cd' }], ['sigma', { sigma: 0 }], ['bounds', { bounds: [0, 1, 2] }], ['bounds', { bounds: [0, 1, 2, Infinity] }],
  ];
  for (const [field, patch] of cases) {
    it(`names the bad field "${field}" for ${JSON.stringify(patch)}`, () => {
      const f = () => checkMlpEnergyConfig({ ...baseCfg(), ...patch }, 'm.safetensors');
      expect(f).toThrow(DataError);
      expect(f).toThrow(`m.safetensors: mlp-energy config field "${field}" is missing or invalid`);
    });
  }
  it('reports a missing field', () => {
    const c: Record<string, unknown> = { ...baseCfg() };
    delete c.sigma;
    expect(() => checkMlpEnergyConfig(c, 'g')).toThrow('g: mlp-energy config field "sigma" is missing or invalid');
  });
});

describe('makeMlpEnergyConfig', () => {
  it('standardises by column mean and population sd, widens the 2-D box by 10%', () => {
    const x = tensor([[0, 0], [2, 4], [4, 8]]);
    const c = makeMlpEnergyConfig(x, { hidden: [8], loss: 'ssm' });
    expect(c.shift).toEqual([2, 4]);
    expect(c.scale).toEqual([Math.fround(Math.sqrt(8 / 3)), Math.fround(Math.sqrt(32 / 3))]);
    expect(c.bounds).toEqual([-0.4, 4.4, -0.8, 8.8]);
    expect(c).toMatchObject({ dim: 2, hidden: [8], activation: 'silu', confine: 0.01, loss: 'ssm', sigma: 0.1 });
    expect(makeMlpEnergyConfig(x, { hidden: [8], loss: 'dsm', bounds: [-1, 1, -2, 2] }).bounds).toEqual([-1, 1, -2, 2]);
    expect(makeMlpEnergyConfig(tensor([[0, 0, 0], [1, 2, 3]]), { hidden: [8], loss: 'dsm' }).bounds).toBeNull();
  });
  it('refuses constant columns and too few rows, at the given location', () => {
    expect(() => makeMlpEnergyConfig(tensor([[1, 5], [2, 5]]), { hidden: [4], loss: 'dsm' }, { flag: 'data' }))
      .toThrow('--data: column 2 is constant (5): an energy model cannot be fitted');
    expect(() => makeMlpEnergyConfig(tensor([[1, 5]]), { hidden: [4], loss: 'dsm' })).toThrow(/at least 2 rows/);
  });
});

describe('layout', () => {
  it('is l{i}.w [in, out], l{i}.b [out] float32 over [d, …hidden, 1], matching initMlpEnergy', () => {
    const cfg = { ...baseCfg(), dim: 3, hidden: [4, 5], shift: [0, 0, 0], scale: [1, 1, 1], bounds: null };
    expect(mlpEnergySizes(cfg)).toEqual([3, 4, 5, 1]);
    const lay = mlpEnergyLayout(cfg);
    expect(lay).toEqual({
      'l0.w': { shape: [3, 4], dtype: 'float32' }, 'l0.b': { shape: [4], dtype: 'float32' },
      'l1.w': { shape: [4, 5], dtype: 'float32' }, 'l1.b': { shape: [5], dtype: 'float32' },
      'l2.w': { shape: [5, 1], dtype: 'float32' }, 'l2.b': { shape: [1], dtype: 'float32' },
    });
    expect(() => checkTensorLayout(initMlpEnergy(key(3), cfg), lay, 'init')).not.toThrow();
  });
});

describe('energy', () => {
  it('matches a hand computation: standardise, tanh MLP, confinement ½c‖z‖²', () => {
    const cfg = baseCfg();
    // Row 1: z = ((3−1)/2, (0+1)/0.5) = (1, 2); hidden = tanh(zW0 + b0) = tanh(1, 0); out = 2·tanh 1 + 0.5; conf = ¼·5.
    // Row 2: z = (0, 0); hidden = tanh(0, 2); out = 5·tanh 2 + 0.5; conf = 0.
    const x = tensor([[3, 0], [1, -1]]);
    const e = energyOf(tinyParams(), cfg, x);
    expect(e).toBeInstanceOf(Float64Array);
    expect(e[0]).toBeCloseTo(2 * Math.tanh(1) + 0.5 + 1.25, 5);
    expect(e[1]).toBeCloseTo(5 * Math.tanh(2) + 0.5, 5);
    const e0 = energyOf(tinyParams(), { ...cfg, confine: 0 }, x);
    expect(e[0] - e0[0]).toBeCloseTo(1.25, 5);
    expect(e[1] - e0[1]).toBeCloseTo(0, 6);
  });
  it('energyZ is differentiable in z: ∇E = W0·(1−h²)∘W1 + c·z', () => {
    const cfg = baseCfg();
    const g = grad((z: Tensor) => sum(energyZ(tinyParams(), cfg, z)))(tensor([[1, 2]]));
    const t1 = Math.tanh(1);
    // dE/dz1 = 1·(1−tanh²1)·2 + 0.5·1; dE/dz2 = −1·(1−0)·5 + 0.5·2.
    expect(g.data[0]).toBeCloseTo(2 * (1 - t1 * t1) + 0.5, 5);
    expect(g.data[1]).toBeCloseTo(-5 + 1, 5);
  });
  it('standardize/unstandardize invert each other and check the shape', () => {
    const cfg = baseCfg();
    const x = tensor([[3, 0], [-1, 2]]);
    expect(Array.from(standardize(cfg, x).data)).toEqual([1, 2, -1, 6]);
    expect(Array.from(unstandardize(cfg, standardize(cfg, x)).data)).toEqual([3, 0, -1, 2]);
    expect(() => standardize(cfg, tensor([[1, 2, 3]]))).toThrow(/takes \[n, 2\]/);
  });
});

describe('model file encode/decode', () => {
  const model = (): MlpEnergyModel => ({ cfg: baseCfg(), params: tinyParams(), provenance: { data: 'toy:moons', seed: 4 } });

  it('round-trips config, parameters (bit for bit) and provenance, in the format of encodeModel', () => {
    const m = model();
    const bytes = encodeMlpEnergyModel(codec, m, '9.9.9');
    expect(Array.from(bytes)).toEqual(Array.from(encodeModel({ kind: 'mlp-energy', version: '9.9.9', config: m.cfg, provenance: m.provenance, tensors: m.params })));
    const { metadata } = decodeSafetensors(bytes);
    expect(metadata).toMatchObject({ format: 'ebm-ts', kind: MLP_ENERGY_KIND, version: '9.9.9', config: JSON.stringify(m.cfg) });
    const back = decodeMlpEnergyModel(codec, bytes, 'm.safetensors', { dim: 2 });
    expect(back.cfg).toEqual(m.cfg);
    expect(back.provenance).toEqual({ ...m.provenance, ebmTsVersion: '9.9.9' });
    for (const [name, t] of Object.entries(m.params)) {
      expect(back.params[name].shape).toEqual(t.shape);
      expect(Array.from(back.params[name].data)).toEqual(Array.from(t.data));
    }
  });

  it('refuses wrong format, kind, dimension, config, layout and non-finite parameters, naming the file', () => {
    const m = model();
    const dec = (b: Uint8Array, o = {}) => () => decodeMlpEnergyModel(codec, b, 'bad.safetensors', o);
    expect(dec(encodeSafetensors(m.params, { kind: 'mlp-energy' }))).toThrow('bad.safetensors: not an ebm-ts model file (metadata format is missing)');
    expect(dec(encodeModel({ kind: 'rbm-bernoulli', config: m.cfg, provenance: {}, tensors: m.params })))
      .toThrow('bad.safetensors: model kind is "rbm-bernoulli" but mlp-energy is needed');
    const cfg3 = { ...m.cfg, dim: 3, shift: [0, 0, 0], scale: [1, 1, 1], bounds: null };
    const p3 = initMlpEnergy(key(1), cfg3);
    expect(dec(encodeMlpEnergyModel(codec, { ...m, cfg: cfg3, params: p3 }), { dim: 2 })).toThrow('only 2-D models can be used here, this one has dim 3');
    expect(dec(encodeMlpEnergyModel(codec, { ...m, cfg: cfg3, params: p3 }))).not.toThrow();
    expect(dec(encodeMlpEnergyModel(codec, { ...m, cfg: { ...m.cfg, sigma: -1 } }))).toThrow('config field "sigma"');
    expect(dec(encodeMlpEnergyModel(codec, { ...m, cfg: { ...m.cfg, hidden: [3] } }))).toThrow(/tensor "l0.w" has shape \[2, 2\]/);
    const nan = tinyParams();
    nan['l1.w'].data[1] = NaN;
    expect(dec(encodeMlpEnergyModel(codec, { ...m, params: nan }))).toThrow('bad.safetensors: tensor "l1.w" has a non-finite value at index 1');
    expect(dec(encodeSafetensors(m.params, { format: 'ebm-ts', kind: 'mlp-energy', config: '[1]' }))).toThrow('metadata "config" is not a JSON object');
  });
});
