import { afterAll, describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { createBufferPool, withBufferReuse } from '../../src/tensor/bufferPool.js';
import { InvalidTypeError, InvalidArgumentError } from '../../src/errors.js';
import { backendsUnderTest, restore } from './backends.js';

afterAll(restore);

function det(shape: number[], seed: number, dtype: T.DType): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = -1 + 2 * (((i + 1) * 0.6180339887498949 * seed + 0.3) % 1);
  return new T.Tensor(d, shape);
}

type Params = { w1: T.Tensor; b1: T.Tensor; w2: T.Tensor; w3: T.Tensor; lw: T.Tensor; lb: T.Tensor };

function initParams(dtype: T.DType): Params {
  return {
    w1: T.mul(det([4, 1, 3, 3], 3, dtype), 0.5), b1: det([4], 5, dtype), w2: T.mul(det([4, 4, 3, 3], 7, dtype), 0.3),
    w3: T.mul(det([1, 8, 3, 3], 11, dtype), 0.3), lw: det([3, 4], 13, dtype), lb: det([4], 17, dtype),
  };
}

/** A small U-Net-like energy: stride-2 conv, upsampling, concatenation (and fused), a per-image bias, SiLU, a reduction. */
function energy(p: Params, x: T.Tensor, e: T.Tensor): T.Tensor {
  const h1 = T.silu(T.conv2d(x, p.w1, T.linear(e, p.lw, p.lb), { padding: 1 })); // [N, 4, 8, 8]
  const h2 = T.silu(T.conv2d(h1, p.w2, p.b1, { stride: 2, padding: 1 })); // [N, 4, 4, 4]
  const u = T.concat([T.upsampleNearest2d(h2, 2), h1], 1); // [N, 8, 8, 8]
  const v = T.upsampleConcat2d(T.tanh(h2), h1, 2); // the fused form, [N, 8, 8, 8]
  const y = T.add(T.conv2d(u, p.w3, undefined, { padding: 1 }), T.conv2d(v, p.w3, undefined, { padding: 1 })); // [N, 1, 8, 8]
  return T.mul(T.sum(T.square(T.sub(y, x))), 0.5);
}

/**
 * One training step of a score-matching-like loss with a second-order gradient (∇θ of ‖∇ₓE‖² + E), SGD update:
 * returns a new parameter record and the loss; never mutates its inputs.
 */
function step(p: Params, x: T.Tensor, e: T.Tensor): { params: Params; loss: number } {
  const [lv, g] = T.valueAndGrad((q: Params) => {
    const gx = T.grad((xx: T.Tensor) => energy(q, xx, e))(x);
    return T.add(T.mul(T.sum(T.square(gx)), 0.1), energy(q, x, e));
  })(p);
  const params = T.treeMap(p, (t, i) => T.sub(t, T.mul(T.treeLeaves(g)[i], 1e-3))) as Params;
  return { params: T.treeMap(params, (t) => T.detach(t)) as Params, loss: lv.item() };
}

function copyOf(t: T.Tensor): number[] {
  return Array.from(t.data);
}

describe('withBufferReuse', () => {
  for (const b of backendsUnderTest()) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${b.name} ${dtype}: steps with a poisoned pool match steps without a pool bit for bit, inputs and earlier states untouched`, () => {
        b.use();
        const x = det([3, 1, 8, 8], 19, dtype);
        const e = det([3, 3], 23, dtype);
        const xBefore = copyOf(x);
        // Reference: three steps without a pool.
        let pr = initParams(dtype);
        const ref: { params: Params; loss: number }[] = [];
        for (let i = 0; i < 3; i++) {
          const r = step(pr, x, e);
          ref.push(r);
          pr = r.params;
        }
        // With a pool that fills every uninitialised buffer it hands out with NaN (a kernel that reads its output
        // before writing it, or counts on zeros, gives NaN or a different value).
        const pool = createBufferPool({ poison: true, minBytes: 0 });
        let p = initParams(dtype);
        const p0 = p;
        const p0Before = T.treeLeaves(p0).map(copyOf);
        const states: { params: Params; loss: number }[] = [];
        const snapshots: number[][][] = [];
        for (let i = 0; i < 3; i++) {
          const r = withBufferReuse(pool, () => step(p, x, e));
          states.push(r);
          snapshots.push(T.treeLeaves(r.params).map(copyOf));
          p = r.params;
        }
        const s = pool.stats();
        expect(s.hits).toBeGreaterThan(0);
        expect(s.recycled).toBeGreaterThan(0);
        expect(s.keptAll).toBe(0);
        for (let i = 0; i < 3; i++) {
          expect(states[i].loss).toBe(ref[i].loss);
          const got = T.treeLeaves(states[i].params);
          const want = T.treeLeaves(ref[i].params);
          for (let j = 0; j < got.length; j++) expect(copyOf(got[j])).toEqual(copyOf(want[j]));
          // States returned by earlier scopes were not overwritten by later ones (no recycled buffer aliases them).
          const now = T.treeLeaves(states[i].params).map(copyOf);
          expect(now).toEqual(snapshots[i]);
        }
        expect(copyOf(x)).toEqual(xBefore);
        expect(T.treeLeaves(p0).map(copyOf)).toEqual(p0Before);
      });
    }
  }

  it('keeps buffers reachable from the result (reshapes and views share data) and recycles the rest', () => {
    const pool = createBufferPool({ minBytes: 0 });
    const x = det([64, 64], 3, 'float32');
    const r = withBufferReuse(pool, () => {
      const a = T.exp(x); // dead
      const b = T.add(a, 1); // returned through a reshape
      const c = T.mul(b, 2); // returned through a typed-array view inside a record
      return { flat: T.reshape(b, [4096]), view: c.data.subarray(10, 20), n: 3 };
    });
    expect(pool.stats().recycled).toBe(1); // only exp(x)
    const keep = copyOf(r.flat);
    const keepView = Array.from(r.view);
    // Later scopes with the same sizes must not hand out the returned buffers.
    for (let i = 0; i < 3; i++) withBufferReuse(pool, () => T.sum(T.mul(T.neg(x), T.exp(x))).item());
    expect(copyOf(r.flat)).toEqual(keep);
    expect(Array.from(r.view)).toEqual(keepView);
    expect(copyOf(x)).toEqual(copyOf(det([64, 64], 3, 'float32')));
  });

  it('recycles nothing when the result may hide references (graph nodes, functions, promises) or fn throws', () => {
    const pool = createBufferPool({ minBytes: 0 });
    const x = det([32, 32], 5, 'float64');
    const traced = withBufferReuse(pool, () => {
      let y: T.Tensor | null = null;
      T.valueAndGrad((v: T.Tensor) => {
        y = T.tanh(T.exp(v)); // carries a node whose backward closure holds exp(v)
        return T.sum(y);
      }, { createGraph: true })(x);
      return y!;
    });
    expect(traced.node).not.toBeNull();
    expect(pool.stats().recycled).toBe(0);
    expect(pool.stats().keptAll).toBe(1);
    const fnRes = withBufferReuse(pool, () => {
      const t = T.exp(x);
      return () => t;
    });
    expect(pool.stats().recycled).toBe(0);
    const before = copyOf(fnRes());
    void withBufferReuse(pool, () => Promise.resolve(T.exp(x)));
    expect(pool.stats().keptAll).toBe(3);
    expect(() => withBufferReuse(pool, () => {
      T.exp(x);
      throw new Error('boom');
    })).toThrow('boom');
    expect(pool.stats().recycled).toBe(0);
    withBufferReuse(pool, () => T.sum(T.exp(T.neg(x))).item());
    expect(copyOf(fnRes())).toEqual(before);
  });

  it('is bounded: dead buffers beyond maxBytes are dropped', () => {
    const pool = createBufferPool({ maxBytes: 3 * 4096 * 8, minBytes: 0 });
    const x = det([4096], 7, 'float64');
    withBufferReuse(pool, () => T.sum(T.exp(T.sin(T.cos(T.tanh(T.neg(x)))))).item());
    const s = pool.stats();
    expect(s.bytesHeld).toBeLessThanOrEqual(pool.maxBytes);
    expect(s.buffersHeld).toBe(3);
    expect(s.dropped).toBe(2);
    pool.clear();
    expect(pool.stats().bytesHeld).toBe(0);
  });

  it('nests: an inner scope\'s result stays valid in the outer scope', () => {
    const pool = createBufferPool({ minBytes: 0 });
    const x = det([50, 50], 9, 'float32');
    const want = copyOf(T.mul(T.exp(x), 3));
    const out = withBufferReuse(pool, () => {
      const inner = withBufferReuse(pool, () => T.exp(T.neg(T.neg(x))));
      // Allocations after the inner scope may reuse its dead buffers, but not `inner`.
      const junk = T.sin(T.cos(x));
      void junk;
      return T.mul(inner, 3);
    });
    expect(copyOf(out)).toEqual(want);
  });

  it('small arrays below minBytes are not pooled; bad arguments are named errors', () => {
    const pool = createBufferPool();
    withBufferReuse(pool, () => T.exp(T.tensor([1, 2, 3])));
    expect(pool.stats().misses + pool.stats().hits).toBe(0);
    expect(() => withBufferReuse({} as never, () => 1)).toThrow(InvalidTypeError);
    expect(() => createBufferPool({ maxBytes: -1 })).toThrow(InvalidArgumentError);
  });
});
