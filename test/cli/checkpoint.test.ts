import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tensor, Tensor } from '../../src/tensor/index.js';
import { key, split } from '../../src/random/index.js';
import { adam } from '../../src/optim/index.js';
import { encodeCheckpoint, decodeCheckpoint, checkResumeMeta, saveCheckpoint, loadCheckpoint } from '../../src/io/checkpoint.js';
import { encodeModel, loadModel, saveModel } from '../../src/io/model.js';
import { DataError } from '../../src/io/errors.js';
import { tempDir } from './helpers.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('checkpoint files', () => {
  it('round-trip a state tree bit-exactly: params, Adam state, numbers (incl. NaN), strings, key', async () => {
    const params = { w: tensor([[0.1, -2.5e-8], [3, 1 / 3]]), b: tensor([1e-30, -0], [2], 'float64') };
    const opt = adam(1e-3);
    const st = opt.init(params);
    const [, st2] = opt.update({ w: tensor([[1, 2], [3, 4]]), b: tensor([5, 6], [2], 'float64') }, st, params);
    const k = split(key(42), 3)[2];
    const state = { params, opt: st2 as never, misc: [1.5, NaN, -Infinity, 'x', true, null] } as const;
    const dir = tempDir();
    const p = join(dir, 'c.safetensors');
    await saveCheckpoint(p, { kind: 'test', step: 123, key: k, state: state as never, meta: { lr: 0.001 } });
    const ck = await loadCheckpoint(p, { kind: 'test' });
    expect(ck.step).toBe(123);
    expect(ck.key.k).toEqual(k.k);
    expect(ck.meta).toEqual({ lr: 0.001 });
    const s = ck.state as { params: { w: Tensor; b: Tensor }; opt: unknown; misc: unknown[] };
    expect(s.params.w.dtype).toBe('float32');
    expect(s.params.b.dtype).toBe('float64');
    expect(Buffer.from(s.params.w.data.buffer).equals(Buffer.from(params.w.data.buffer))).toBe(true);
    expect(Object.is(s.params.b.data[1], -0)).toBe(true);
    expect(s.misc.slice(0, 2)).toEqual([1.5, NaN]);
    expect(s.misc.slice(2)).toEqual([-Infinity, 'x', true, null]);
    // Optimiser state: identical structure and values, so the next update is identical.
    const g = { w: tensor([[0.5, 0.5], [0.5, 0.5]]), b: tensor([1, 1], [2], 'float64') };
    const [u1] = opt.update(g, st2, params);
    const [u2] = opt.update(g, s.opt as never, params);
    expect(Array.from(u2.w.data)).toEqual(Array.from(u1.w.data));
    expect(Array.from(u2.b.data)).toEqual(Array.from(u1.b.data));
  });

  it('refuses another kind, a damaged file and changed settings', async () => {
    const dir = tempDir();
    const p = join(dir, 'c.safetensors');
    await saveCheckpoint(p, { kind: 'a', step: 1, key: key(0), state: { x: tensor([1]) }, meta: {} });
    await expect(loadCheckpoint(p, { kind: 'b' })).rejects.toThrow(/checkpoint is for "a" training/);
    const bytes = readFileSync(p);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 2), 'x')).toThrow(DataError);
    expect(() => checkResumeMeta({ lr: 1, seed: 0 }, { lr: 2, seed: 0 }, 'c')).toThrow(/setting "lr" was 1 in the checkpoint but is 2 now/);
    expect(() => checkResumeMeta({ lr: 1 }, { lr: 1 }, 'c')).not.toThrow();
    expect(() => encodeCheckpoint({ kind: 'a', step: -1, key: key(0), state: null, meta: {} })).toThrow(InvalidArgumentError);
  });
});

describe('model files', () => {
  const tensors = { 'l0.w': tensor([[1, 2, 3], [4, 5, 6]]), 'l0.b': tensor([0.5, -0.25, 1e-7]) };

  it('store kind, config and provenance in the metadata and check the layout on load', async () => {
    const dir = tempDir();
    const p = join(dir, 'm.safetensors');
    await saveModel(p, { kind: 'demo-kind', config: { hidden: [3] }, provenance: { data: 'toy:moons', seed: 3, steps: 10 }, tensors });
    const m = await loadModel(p, { kind: 'demo-kind', layout: { 'l0.w': { shape: [2, 3], dtype: 'float32' }, 'l0.b': { shape: [3], dtype: 'float32' } } });
    expect(m.config).toEqual({ hidden: [3] });
    expect(m.provenance).toMatchObject({ data: 'toy:moons', seed: 3, steps: 10, ebmTsVersion: m.version });
    await expect(loadModel(p, { kind: 'other' })).rejects.toThrow(/model kind is "demo-kind" but other is needed/);
    await expect(loadModel(p, { layout: { 'l0.w': { shape: [3, 2], dtype: 'float32' }, 'l0.b': { shape: [3], dtype: 'float32' } } })).rejects.toThrow(/tensor "l0.w" has shape \[2, 3\] but the model's config needs \[3, 2\]/);
    await expect(loadModel(p, { layout: { 'l0.w': { shape: [2, 3], dtype: 'float64' }, 'l0.b': { shape: [3], dtype: 'float32' } } })).rejects.toThrow(/dtype float32 but float64/);
    await expect(loadModel(p, { layout: { 'l0.w': { shape: [2, 3], dtype: 'float32' } } })).rejects.toThrow(/unexpected tensor "l0.b"/);
  });

  function writeModelFile(): string {
    const p = join(tempDir(), 'm.safetensors');
    writeFileSync(p, encodeModel({ kind: 'demo-kind', config: { hidden: [3] }, provenance: { seed: 1 }, tensors }));
    return p;
  }
  const expected = JSON.stringify(Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, values: Array.from(t.data) }])));
  const check = String.raw`
import json, struct, sys
import numpy as np
path, expected = sys.argv[1], json.loads(sys.argv[2])
def check(arrs, who):
    assert sorted(arrs) == sorted(expected), (who, sorted(arrs))
    for k, e in expected.items():
        a = arrs[k]
        assert list(a.shape) == e["shape"], (who, k, a.shape)
        assert a.dtype == np.float32, (who, k, a.dtype)
        assert np.array_equal(a.ravel(), np.array(e["values"], dtype=np.float32)), (who, k)
`;

  it('is read by an independent Python/numpy reader of the safetensors layout', (ctx) => {
    const p = writeModelFile();
    const script = check + String.raw`
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
assert (8 + n) % 8 == 0
hdr = json.loads(raw[8:8 + n])
meta = hdr.pop("__metadata__")
assert meta["format"] == "ebm-ts" and meta["kind"] == "demo-kind", meta
json.loads(meta["config"]); json.loads(meta["provenance"])
check({k: np.frombuffer(raw[8 + n + v["data_offsets"][0]: 8 + n + v["data_offsets"][1]], dtype="<f4").reshape(v["shape"]) for k, v in hdr.items()}, "numpy")
print("OK")
`;
    const r = spawnSync('python3', ['-c', script, p, expected], { encoding: 'utf8' });
    if (r.error || /No module named 'numpy'/.test(r.stderr)) {
      ctx.skip(`skipped: python3 with numpy is not available (${r.error?.message ?? 'no numpy'})`);
      return;
    }
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('OK');
  });

  it("is read by Python's safetensors library (skipped where it is not installed)", (ctx) => {
    const probe = spawnSync('python3', ['-c', 'import numpy, safetensors.numpy'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      ctx.skip('skipped: python3 with the safetensors package is not installed (pip install safetensors numpy)');
      return;
    }
    const p = writeModelFile();
    const script = check + String.raw`
from safetensors.numpy import load_file
from safetensors import safe_open
check(load_file(path), "safetensors")
with safe_open(path, framework="np") as f:
    assert f.metadata()["kind"] == "demo-kind"
print("OK")
`;
    const r = spawnSync('python3', ['-c', script, p, expected], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('OK');
  });
});

describe('checkCheckpointParams', () => {
  it('accepts parameters that fit the layout and names the first missing, misshapen or wrongly typed one', async () => {
    const { checkCheckpointParams } = await import('../../src/io/checkpoint.js');
    const { zeros } = await import('../../src/tensor/index.js');
    const layout = { 'l0.w': { shape: [2, 3], dtype: 'float32' as const }, 'l0.b': { shape: [3], dtype: 'float32' as const } };
    expect(() => checkCheckpointParams({ 'l0.w': zeros([2, 3]), 'l0.b': zeros([3]) }, layout)).not.toThrow();
    expect(() => checkCheckpointParams({ 'l0.w': zeros([2, 3]) }, layout)).toThrow(/"l0\.b" is missing/);
    expect(() => checkCheckpointParams({ 'l0.w': zeros([3, 2]), 'l0.b': zeros([3]) }, layout)).toThrow(/"l0\.w"/);
    expect(() => checkCheckpointParams({ 'l0.w': zeros([2, 3], 'float64'), 'l0.b': zeros([3]) }, layout)).toThrow(/"l0\.w"/);
    expect(() => checkCheckpointParams(undefined, layout)).toThrow(/"l0\.w"/);
  });
});
