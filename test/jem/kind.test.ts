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
  jemConfig, initJemTrainState, jemTrainStep, packJemData, jemToFile, jemFromFile, jemModelPredict, type JemTrainState,
} from '../../src/models/jem/index.js';

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
