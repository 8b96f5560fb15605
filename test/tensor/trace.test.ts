/**
 * The op tracer's hooks (src/tensor/trace.ts) and the tape's op attributes: what a tracer is told, and that installing
 * one changes no result (the eager path is the same computation with or without it).
 */
import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { withOpTracer, activeTracer, type OpAttrs, type OpTracer, type TracedTensor } from '../../src/tensor/trace.js';
import { key } from '../../src/random/index.js';
import { normal } from '../../src/random/sample.js';
import { initMlpEnergy, energyZ, type MlpEnergyConfig } from '../../src/models/mlpEnergy/model.js';
import { mlpEnergyLoss } from '../../src/models/mlpEnergy/train.js';
import type { MLPParams } from '../../src/nn/mlp.js';

interface Seen { op: string; attrs: OpAttrs | undefined; inputs: number[]; out: number }

function recorder(): { tracer: OpTracer; ops: Seen[]; constants: number[]; aliases: [number, number][] } {
  const ops: Seen[] = [];
  const constants: number[] = [];
  const aliases: [number, number][] = [];
  const tracer: OpTracer = {
    op: (out: TracedTensor, op, inputs, attrs) => { ops.push({ op, attrs, inputs: inputs.map((t) => t.id), out: out.id }); },
    constant: (t) => { constants.push(t.id); },
    alias: (out, of) => { aliases.push([out.id, of.id]); },
  };
  return { tracer, ops, constants, aliases };
}

describe('op tracer', () => {
  it('reports every op with its attributes, whether or not a gradient is recorded', () => {
    const x = T.tensor([[1, -2, 3], [4, 5, -6]]);
    const w = T.tensor([[1, 0], [0, 1], [1, 1]]);
    const r = recorder();
    withOpTracer(r.tracer, () => {
      T.sum(T.matmul(x, w, { transB: false }), 1);
      T.matmul(w, x, { transA: true, transB: true });
      T.affine(x, 2, -1);
      T.pow(x, 3);
      T.clamp(x, -1, 1);
      T.greater(x, 0);
    });
    expect(r.ops.map((o) => o.op)).toEqual(['matmul', 'sum', 'matmul', 'affine', 'pow', 'clamp', 'greater']);
    expect(r.ops[0].attrs).toEqual({ transA: false, transB: false });
    expect(r.ops[1].attrs).toEqual({ axes: [1] });
    expect(r.ops[2].attrs).toEqual({ transA: true, transB: true });
    expect(r.ops[3].attrs).toEqual({ a: 2, b: -1 });
    expect(r.ops[4].attrs).toEqual({ p: 3 });
    expect(r.ops[5].attrs).toEqual({ lo: -1, hi: 1 });
    // The scalar 0 of the comparison is a constant made by full().
    expect(r.constants).toContain(r.ops[6].inputs[1]);
    expect(activeTracer).toBe(null);
  });

  it('keeps the attributes on the autodiff node', () => {
    const [, g] = T.valueAndGrad((x: T.Tensor) => {
      const s = T.sum(T.square(x), [0], true);
      expect(s.node?.op).toBe('sum');
      expect(s.node?.attrs).toEqual({ axes: [0] });
      return T.sum(s);
    })(T.tensor([[1, 2], [3, 4]]));
    expect(g.toNested()).toEqual([[2, 4], [6, 8]]);
  });

  it('reports the ops of a backward pass: the fused activation backward, the gradient leaf as an alias', () => {
    const x = T.tensor([[0.5, -1.5]]);
    const r = recorder();
    withOpTracer(r.tracer, () => T.grad((y: T.Tensor) => T.sum(T.silu(y)))(x));
    const fused = r.ops.find((o) => o.op === 'unaryGrad');
    expect(fused?.attrs).toEqual({ activation: 'silu' });
    // The traced leaf of grad aliases x, and silu reads the leaf.
    const leaf = r.aliases.find(([, of]) => of === x.id);
    expect(leaf).toBeDefined();
    expect(r.ops.find((o) => o.op === 'silu')?.inputs).toEqual([leaf![0]]);
  });

  it('reports the comparisons of a recorded second-order backward (relu)', () => {
    const r = recorder();
    withOpTracer(r.tracer, () => T.grad((y: T.Tensor) => T.sum(T.square(T.grad((u: T.Tensor) => T.sum(T.relu(u)))(y))))(T.tensor([1, -1, 2])));
    expect(r.ops.some((o) => o.op === 'greater')).toBe(true);
  });

  it('restores the previous tracer after a throw', () => {
    const r = recorder();
    expect(() => withOpTracer(r.tracer, () => { throw new Error('inside'); })).toThrow('inside');
    expect(activeTracer).toBe(null);
  });

  it('changes no result: a DSM parameter gradient is bit-identical with and without a tracer', () => {
    const cfg = { dim: 3, hidden: [8, 8], activation: 'tanh', confine: 0.2, sigma: 0.2, loss: 'dsm', shift: [0, 0, 0], scale: [1, 1, 1] } as unknown as MlpEnergyConfig;
    const p = initMlpEnergy(key(0), cfg);
    const z = normal(key(1), [16, 3]);
    const loss = mlpEnergyLoss(cfg);
    const run = (): [T.Tensor, MLPParams] => T.valueAndGrad((q: MLPParams) => loss(q, z, key(2)).loss)(p);
    const plain = run();
    const r = recorder();
    const traced = withOpTracer(r.tracer, run);
    expect(r.ops.length).toBeGreaterThan(30);
    expect(Array.from(traced[0].data)).toEqual(Array.from(plain[0].data));
    for (const k of Object.keys(plain[1])) expect(Array.from(traced[1][k].data)).toEqual(Array.from(plain[1][k].data));
    // And the energy it differentiates records linear with its three inputs.
    const lin = recorder();
    withOpTracer(lin.tracer, () => energyZ(p, cfg, z));
    expect(lin.ops.filter((o) => o.op === 'linear').map((o) => o.inputs.length)).toEqual([3, 3, 3]);
  });
});
