/**
 * The JEM model kind (`models/jem/kind.ts`): config validation, the codec round trip, and that `jemTrainStep` is
 * pure (the input state is unchanged bit for bit, and the same state and key give the same next state).
 */
import { describe, expect, it } from 'vitest';
import { Tensor, treeLeaves } from '../../src/tensor/index.js';
import { key, normalArray } from '../../src/random/index.js';
import { cloneOptState, optimStateToTensors } from '../../src/optim/index.js';
import { encodeModel } from '../../src/io/model.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import {
  jemConfig, initJemTrainState, jemTrainStep, packJemData, jemToFile, jemFromFile, jemModelPredict, jemModelScores, initJem,
  jemClassifier, jemConvNet, describeJemNet, trainJemModel, standardizeJem, type JemTrainState,
} from '../../src/models/jem/index.js';
import { applyConvNet } from '../../src/nn/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

const bytes = (ts: Tensor[]): string[] => ts.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex'));
const stateBytes = (s: JemTrainState): string[] => bytes([
  ...treeLeaves(s.params), ...Object.values(optimStateToTensors(s.opt)), ...(s.chains.buffer ? [s.chains.buffer] : []),
]);

describe('JEM kind', () => {
  const cfg = jemConfig({ dim: 3, classes: [0, 1], hidden: [8], bufferSize: 64, sgld: { box: [-3, 3] } });
  const x = new Tensor(Float32Array.from(normalArray(key(1), 60, 'float64')), [20, 3]);
  const y = Int32Array.from({ length: 20 }, (_, i) => i % 2);
  const data = packJemData(cfg, x, y);

  it('validates its config (RangeError naming the field)', () => {
    expect(() => jemConfig({ dim: 3, classes: [0] })).toThrow(/classes/);
    expect(() => jemConfig({ dim: 3, classes: [0, 0] })).toThrow(/distinct/);
    expect(() => jemConfig({ dim: 3, classes: [0, 1], hidden: [0] })).toThrow(/hidden/);
    expect(() => jemConfig({ dim: 3, classes: [0, 1], shift: [0, 0] })).toThrow(/shift/);
    expect(() => jemConfig({ dim: 3, classes: [0, 1], weights: { clf: 0, px: 0 } })).toThrow(/weights/);
    expect(cfg.numClasses).toBe(2);
  });

  it('trainStep is pure: the old state is unchanged and the step is deterministic given the key', () => {
    const s0 = initJemTrainState(key(0), cfg, data);
    const before = stateBytes(s0);
    const optCopy = cloneOptState(s0.opt);
    const [s1, info] = jemTrainStep(cfg, s0, data, key(5));
    const [s1b] = jemTrainStep(cfg, s0, data, key(5));
    expect(stateBytes(s0)).toEqual(before);
    expect(bytes(Object.values(optimStateToTensors(s0.opt)))).toEqual(bytes(Object.values(optimStateToTensors(optCopy))));
    expect(stateBytes(s1)).toEqual(stateBytes(s1b));
    expect(s1.step).toBe(1);
    expect(stateBytes(s1)).not.toEqual(before);
    expect(Number.isFinite(info.loss) && Number.isFinite(info.ce)).toBe(true);
    const [s2] = jemTrainStep(cfg, s1, data, key(6));
    expect(s2.step).toBe(2);
  });

  it('the file codec round-trips config and parameters', () => {
    const s = initJemTrainState(key(0), cfg, data);
    const st = decodeSafetensors(encodeModel(jemToFile(s.params, cfg, { seed: 0 })));
    expect(st.metadata.kind).toBe('jem');
    const back = jemFromFile({ config: JSON.parse(st.metadata.config), tensors: st.tensors }, 'm');
    expect(back.cfg).toEqual(cfg);
    expect(Array.from(jemModelPredict(back.params, back.cfg, x).data)).toEqual(Array.from(jemModelPredict(s.params, cfg, x).data));
    const { 'l0.w': _drop, ...fewer } = st.tensors;
    expect(() => jemFromFile({ config: JSON.parse(st.metadata.config), tensors: fewer }, 'm')).toThrow(/missing/);
  });
});

describe('JEM kind with a conv-net classifier (conv)', () => {
  // 8×8 images in [0, 1]: class 0 bright on the left half, class 1 on the right half (plus noise)
  const n = 40;
  const u = normalArray(key(3), n * 64, 'float64');
  const x = new Tensor(Float32Array.from({ length: n * 64 }, (_, i) => {
    const r = Math.floor(i / 64), col = i % 8;
    const on = (r % 2 === 0) === (col < 4);
    return Math.min(1, Math.max(0, (on ? 0.8 : 0.1) + 0.1 * u[i]));
  }), [n, 64]);
  const y = Int32Array.from({ length: n }, (_, i) => i % 2);
  const cfg = jemConfig({ dim: 64, classes: [0, 1], conv: [4, 8], hidden: [16], imageShape: [8, 8], shift: [0.5], scale: [0.5], bufferSize: 64, sgld: { steps: 3 } });

  it('validates conv and reads a config without it (older files) as an MLP', () => {
    expect(() => jemConfig({ dim: 64, classes: [0, 1], conv: [4] })).toThrow(/imageShape/);
    expect(() => jemConfig({ dim: 64, classes: [0, 1], conv: [0], imageShape: [8, 8] })).toThrow(InvalidArgumentError);
    expect(() => jemConfig({ dim: 64, classes: [0, 1], conv: [], imageShape: [8, 8] })).toThrow(/conv/);
    expect(jemConfig({ dim: 64, classes: [0, 1], imageShape: [8, 8] }).conv).toBeNull();
    expect(jemConvNet(jemConfig({ dim: 64, classes: [0, 1] }))).toBeNull();
    expect(describeJemNet(cfg)).toBe('conv 1x8x8:4,8:16 → 2');
  });

  it('initialises conv{i}/fc{j} parameters and its classifier is the 3×3 stride-2 conv net on the images', () => {
    const p = initJem(key(0), cfg);
    expect(Object.keys(p).sort()).toEqual(['conv0.b', 'conv0.w', 'conv1.b', 'conv1.w', 'fc0.b', 'fc0.w', 'fc1.b', 'fc1.w']);
    expect(p['conv0.w'].shape).toEqual([4, 1, 3, 3]);
    expect(p['fc0.w'].shape).toEqual([8 * 2 * 2, 16]); // 8×8 → 4×4 → 2×2
    const z = standardizeJem(cfg, x);
    const direct = applyConvNet(p, z, { inChannels: 1, height: 8, width: 8, channels: [4, 8], hidden: [16], out: 2, activation: cfg.activation, kernel: 3, stride: 2, padding: 1 });
    expect(Array.from(jemClassifier(cfg)(p, z).data)).toEqual(Array.from(direct.data));
  });

  it('trainStep is pure with a conv net, and the codec round-trips it (scores include ‖∇ₓ log p‖)', () => {
    const data = packJemData(cfg, x, y);
    const s0 = initJemTrainState(key(0), cfg, data);
    const before = stateBytes(s0);
    const [s1] = jemTrainStep(cfg, s0, data, key(5));
    const [s1b] = jemTrainStep(cfg, s0, data, key(5));
    expect(stateBytes(s0)).toEqual(before);
    expect(stateBytes(s1)).toEqual(stateBytes(s1b));
    const st = decodeSafetensors(encodeModel(jemToFile(s1.params, cfg, { seed: 0 })));
    const back = jemFromFile({ config: JSON.parse(st.metadata.config), tensors: st.tensors }, 'm');
    expect(back.cfg).toEqual(cfg);
    expect(Array.from(jemModelPredict(back.params, back.cfg, x).data)).toEqual(Array.from(jemModelPredict(s1.params, cfg, x).data));
    const sc = jemModelScores(back.params, back.cfg, x);
    expect(sc.gradNorm.length).toBe(n);
    expect(sc.gradNorm.every((g) => Number.isFinite(g) && g > 0)).toBe(true);
    const { 'conv1.w': _drop, ...fewer } = st.tensors;
    expect(() => jemFromFile({ config: JSON.parse(st.metadata.config), tensors: fewer }, 'm')).toThrow(/missing/);
  });

  it('trains to separate the two classes; decay cosine warms up to lr and ends near 0', () => {
    const lrs: number[] = [];
    const res = trainJemModel({ cfg, x, y, steps: 60, batchSize: 20, key: key(2), lr: 3e-3, warmup: 5, decay: 'cosine', logEvery: 1, onLog: (r) => lrs.push(r.lr) });
    expect(Math.max(...lrs)).toBeCloseTo(3e-3, 6);
    expect(lrs[lrs.length - 1]).toBeLessThan(3e-3 * 0.01);
    const p = jemModelPredict(res.params, cfg, x);
    let hits = 0;
    for (let i = 0; i < n; i++) if ((p.data[i * 2 + 1] > 0.5 ? 1 : 0) === y[i]) hits++;
    expect(hits / n).toBeGreaterThan(0.9); // chance 0.5; the halves differ by 0.7 in mean brightness
    expect(() => trainJemModel({ cfg, x, y, steps: 2, batchSize: 4, key: key(2), decay: 'linear' as 'cosine' })).toThrow(InvalidArgumentError);
  });
});
