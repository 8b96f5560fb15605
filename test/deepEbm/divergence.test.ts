import { describe, it, expect } from 'vitest';
import { key, split } from '../../src/random/index.js';
import { getToy } from '../../src/data/toy.js';
import { ula } from '../../src/samplers/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { contrastiveDivergence } from '../../src/losses/contrastiveDivergence.js';
import {
  DivergenceGuard, TrainingDivergedError, parseArch, initDeepEbm, deepEbmEnergy, standardization, trainDeepEbm, trainDeepEbmAsync,
  type DeepEbmConfig, type DeepEbmResumeState,
} from '../../src/models/deepEbm/index.js';
import { cosineDecay } from '../../src/optim/index.js';
import { encodeCheckpoint, decodeCheckpoint, type StateTree } from '../../src/io/checkpoint.js';

const healthy = { loss: 0.1, gap: 0.1, ePos: 0.5, eNeg: 0.4, gradNorm: 1, samplerDivergent: 0 };

describe('DivergenceGuard', () => {
  it('flags NaN/∞, sampler divergences, absolute and relative explosions', () => {
    const g = new DivergenceGuard({ warmup: 5, gapFactor: 10, gradFactor: 10, maxAbsGap: 1e3 });
    expect(g.check({ ...healthy, loss: NaN })).toMatch(/loss is NaN/);
    expect(g.check({ ...healthy, gradNorm: Infinity })).toMatch(/gradNorm is Infinity/);
    expect(g.check({ ...healthy, samplerDivergent: 3 })).toMatch(/sampler flagged 3/);
    expect(g.check({ ...healthy, gap: 2e3 })).toMatch(/exceeds 1000/);
    // relative tests only after warm-up
    expect(g.check({ ...healthy, gap: 50 })).toBeNull();
    for (let i = 0; i < 5; i++) g.accept(healthy);
    expect(g.check({ ...healthy, gap: 50 })).toMatch(/exploded/);
    expect(g.check({ ...healthy, gradNorm: 20 })).toMatch(/gradient norm .* exploded/);
    expect(g.check(healthy)).toBeNull();
  });

  it('validates its options', () => {
    expect(() => new DivergenceGuard({ lrDecay: 0 })).toThrow(/lrDecay/);
    expect(() => new DivergenceGuard({ maxRollbacks: -1 })).toThrow(/maxRollbacks/);
  });
});

function setup() {
  const toy = getToy('8gaussians');
  const [kd, ki] = split(key(5), 2);
  const data = toy.sample(kd, 2000);
  const { shift, scale } = standardization(data);
  const cfg: DeepEbmConfig = { arch: parseArch('mlp:2-16-16-1'), activation: 'silu', shift, scale, confine: 1e-3 };
  const params = initDeepEbm(ki, cfg);
  const cd = contrastiveDivergence({
    energy: (p: Record<string, Tensor>) => deepEbmEnergy(p, cfg),
    sampler: (E) => ula(E, { stepSize: 1e-3 }),
    steps: 5,
    negatives: 'buffer',
    bufferSize: 500,
    reinit: 0.05,
    reinitFrom: { kind: 'uniform', low: -3, high: 3 },
  });
  return { data, params, cd };
}

describe('trainDeepEbm divergence handling', () => {
  it('detects an injected divergence (huge learning rate), rolls back, lowers the rate, changes the stream and recovers', () => {
    const { data, params, cd } = setup();
    const events: unknown[] = [];
    const res = trainDeepEbm({
      params, loss: cd, data, steps: 80, batchSize: 64, key: key(9), lr: 2e-3,
      guard: { snapshotEvery: 10, maxRollbacks: 3 },
      // A transient fault: ×5000 learning rate for steps 40–42 on the first random stream only.
      lrMultiplier: (t, stream) => (stream === 0 && t >= 40 && t <= 42 ? 5000 : 1),
      onRollback: (e) => events.push(e),
    });
    expect(res.events.length).toBeGreaterThanOrEqual(1);
    const ev = res.events[0];
    expect(ev.step).toBeGreaterThanOrEqual(41); // seen on the first loss computed with the corrupted parameters
    expect(ev.step).toBeLessThanOrEqual(44);
    expect(ev.rolledBackTo).toBeLessThan(40); // a snapshot taken before the fault
    expect(ev.rolledBackTo).toBeGreaterThanOrEqual(30);
    expect(ev.lrScale).toBe(0.5);
    expect(ev.stream).toBe(1);
    expect(ev.reason.length).toBeGreaterThan(5);
    expect(events).toEqual(res.events);
    expect(res.lrScale).toBe(0.5 ** res.events.length);
    // Recovery: training reached the end with finite parameters and sane energies.
    const last = res.history[res.history.length - 1];
    expect(last.step).toBe(80);
    expect(Number.isFinite(last.loss)).toBe(true);
    expect(Math.abs(last.gap)).toBeLessThan(5);
    expect(Math.abs(last.ePos)).toBeLessThan(50);
    for (const t of Object.values(res.params)) for (const v of t.data) expect(Number.isFinite(v)).toBe(true);

    // Without the guard, the same fault is not recovered: either training stops on a NaN or the energies explode.
    let exploded = false;
    try {
      const bad = trainDeepEbm({
        params, loss: cd, data, steps: 50, batchSize: 64, key: key(9), lr: 2e-3, guard: false,
        lrMultiplier: (t, stream) => (stream === 0 && t >= 40 && t <= 42 ? 5000 : 1), logEvery: 1,
      });
      const after = bad.history.filter((r) => r.step > 43);
      exploded = after.some((r) => Math.abs(r.gap) > 50 || Math.abs(r.ePos) > 100);
    } catch (e) {
      exploded = e instanceof TrainingDivergedError;
    }
    expect(exploded).toBe(true);
  });

  it('stops with a clear message after the allowed number of rollbacks', () => {
    const { data, params, cd } = setup();
    let err: unknown;
    try {
      trainDeepEbm({
        params, loss: cd, data, steps: 60, batchSize: 64, key: key(9), lr: 2e-3,
        guard: { snapshotEvery: 10, maxRollbacks: 2, lrDecay: 0.9 },
        lrMultiplier: (t) => (t >= 20 ? 1e5 : 1), // a persistent fault
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const e = err as TrainingDivergedError;
    expect(e.events.length).toBe(2);
    expect(e.message).toMatch(/after 2 rollback\(s\)/);
    expect(e.message).toMatch(/lower the learning rate/);
  });

  it('resumes exactly from a checkpointed state taken after a rollback (EMA, cosine lr, through the checkpoint codec)', () => {
    const { data, params, cd } = setup();
    const opts = {
      params, loss: cd, data, steps: 80, batchSize: 64, key: key(9), lr: cosineDecay(2e-3, 80, 0.05), emaDecay: 0.9,
      guard: { snapshotEvery: 10, maxRollbacks: 3 },
      lrMultiplier: (t: number, stream: number) => (stream === 0 && t >= 40 && t <= 42 ? 5000 : 1),
    };
    const full = trainDeepEbm(opts);
    expect(full.events.length).toBeGreaterThanOrEqual(1);
    expect(full.events.every((e) => e.step < 60)).toBe(true);
    let saved: Uint8Array | null = null;
    trainDeepEbm({
      ...opts, steps: 80, checkpointEvery: 60,
      onCheckpoint: (st) => { if (st.step === 60) saved = encodeCheckpoint({ kind: 'deep-ebm', step: st.step, key: key(9), state: st as unknown as StateTree, meta: {} }); },
    });
    expect(saved).not.toBeNull();
    const ck = decodeCheckpoint(saved!);
    const st = ck.state as unknown as DeepEbmResumeState<Record<string, Tensor>>;
    expect(st.step).toBe(60);
    expect(st.stream).toBe(full.events.length);
    expect(st.events.length).toBe(full.events.length);
    const resumed = trainDeepEbm({ ...opts, resume: st });
    for (const k of Object.keys(full.params)) {
      expect(Array.from(resumed.params[k].data)).toEqual(Array.from(full.params[k].data));
      expect(Array.from(resumed.emaParams![k].data)).toEqual(Array.from(full.emaParams![k].data));
    }
    expect(resumed.events.length).toBe(full.events.length);
    expect(() => trainDeepEbm({ ...opts, emaDecay: undefined, resume: st })).toThrow(/has parameter EMA but emaDecay is not set/);
  });

  it('a run resumed at an unaligned step rolls back to the same snapshots as the uninterrupted run', () => {
    const { data, params, cd } = setup();
    const opts = {
      params, loss: cd, data, steps: 90, batchSize: 64, key: key(9), lr: 2e-3,
      guard: { snapshotEvery: 10, maxRollbacks: 3 },
      // A fault after the resume point (55) and after the first snapshot that follows it (60).
      lrMultiplier: (t: number, stream: number) => (stream === 0 && t >= 68 && t <= 70 ? 5000 : 1),
    };
    const full = trainDeepEbm(opts);
    expect(full.events.length).toBeGreaterThanOrEqual(1);
    expect(full.events[0].rolledBackTo).toBe(60);
    let st: DeepEbmResumeState<Record<string, Tensor>> | null = null;
    trainDeepEbm({ ...opts, steps: 55, checkpointEvery: 55, onCheckpoint: (s) => { st = s; } });
    expect(st!.step).toBe(55);
    const resumed = trainDeepEbm({ ...opts, resume: st! });
    expect(resumed.events.map((e) => [e.step, e.rolledBackTo])).toEqual(full.events.map((e) => [e.step, e.rolledBackTo]));
    for (const k of Object.keys(full.params)) expect(Array.from(resumed.params[k].data)).toEqual(Array.from(full.params[k].data));
  });

  it('trainDeepEbmAsync: bit-identical to trainDeepEbm; stopped by an AbortSignal after a step, it resumes to the same result', async () => {
    const { data, params, cd } = setup();
    const opts = {
      params, loss: cd, data, steps: 90, batchSize: 64, key: key(9), lr: 2e-3,
      guard: { snapshotEvery: 10, maxRollbacks: 3 },
      lrMultiplier: (t: number, stream: number) => (stream === 0 && t >= 68 && t <= 70 ? 5000 : 1),
    };
    const full = trainDeepEbm(opts);
    expect(full.events.length).toBeGreaterThanOrEqual(1);
    const same = await trainDeepEbmAsync(opts, { yieldMs: 0 });
    expect(same.stopped).toBeUndefined();
    for (const k of Object.keys(full.params)) expect(Array.from(same.params[k].data)).toEqual(Array.from(full.params[k].data));
    expect(same.history).toEqual(full.history.map((r) => ({ ...r, time: expect.any(Number) })));
    const ac = new AbortController();
    const saved: number[] = [];
    const stopped = await trainDeepEbmAsync({
      ...opts, checkpointEvery: 50, onCheckpoint: (st) => saved.push(st.step), onStep: (t) => { if (t === 55) ac.abort(); },
    }, { signal: ac.signal, yieldMs: 0 });
    expect(stopped.stopped?.step).toBe(55);
    expect(stopped.checkpointed).toBe(false);
    expect(saved).toEqual([50]); // no checkpoint past the stop: the caller decides
    const resumed = trainDeepEbm({ ...opts, resume: stopped.stopped! });
    expect(resumed.events.map((e) => [e.step, e.rolledBackTo])).toEqual(full.events.map((e) => [e.step, e.rolledBackTo]));
    for (const k of Object.keys(full.params)) expect(Array.from(resumed.params[k].data)).toEqual(Array.from(full.params[k].data));
  });

  // States are values: the rollback must bring back exactly what was held at the snapshot step — in particular the
  // Adam moments of that step, not the (possibly exploded) moments of later updates that once shared their buffers.
  it.each([
    ['a huge gradient step (×5000 learning rate at steps 40–42)', (t: number, s: number) => (s === 0 && t >= 40 && t <= 42 ? 5000 : 1)],
    ['a NaN update at step 37', (t: number, s: number) => (s === 0 && t === 37 ? NaN : 1)],
  ])('a rollback after %s restores bit for bit the state it snapshotted', (_what, lrMultiplier) => {
    const { data, params, cd } = setup();
    const opts = {
      params, loss: cd, data, steps: 60, batchSize: 64, key: key(9), lr: 2e-3, emaDecay: 0.9, clipNorm: 100,
      guard: { snapshotEvery: 10, maxRollbacks: 3 }, lrMultiplier,
    };
    // Every state the run passes through, frozen at that moment (encoded bytes, so later changes would show).
    const seen = new Map<number, Uint8Array>();
    const freeze = (st: DeepEbmResumeState<Record<string, Tensor>>): Uint8Array => encodeCheckpoint({
      kind: 'deep-ebm', step: st.step, key: key(9), meta: {},
      state: { step: st.step, params: st.params, ema: st.ema, optState: st.optState, cd: st.cd, guard: st.guard } as unknown as StateTree,
    });
    const restored: { step: number; bytes: Uint8Array; stream: number; lrScale: number }[] = [];
    const res = trainDeepEbm({
      ...opts, checkpointEvery: 1,
      onCheckpoint: (st) => { if (st.stream === 0) seen.set(st.step, freeze(st)); },
      onRollback: (ev, st) => { restored.push({ step: st.step, bytes: freeze(st), stream: st.stream, lrScale: st.lrScale }); expect(st.step).toBe(ev.rolledBackTo); },
    });
    expect(res.events.length).toBeGreaterThanOrEqual(1);
    const first = restored[0];
    expect(first.step).toBe(30);
    expect(first.stream).toBe(1);
    expect(first.lrScale).toBe(0.5);
    // Parameters, EMA, optimiser count and moments, replay buffer, CD step, guard statistics: identical bytes.
    expect(Buffer.from(first.bytes).equals(Buffer.from(seen.get(30)!))).toBe(true);
    const ck = decodeCheckpoint(first.bytes).state as unknown as { optState: unknown[] };
    expect(JSON.stringify(ck.optState).length).toBeGreaterThan(10);
    // The restored state is usable as a value: resuming from the step-30 state on the new stream reproduces the run.
    const st30 = decodeCheckpoint(seen.get(30)!).state as unknown as DeepEbmResumeState<Record<string, Tensor>>;
    const again = trainDeepEbm({ ...opts, lrMultiplier: () => 1, resume: { ...st30, lrScale: 0.5, stream: 1, events: [res.events[0]] } });
    if (res.events.length === 1) {
      for (const k of Object.keys(res.params)) expect(Array.from(again.params[k].data)).toEqual(Array.from(res.params[k].data));
      expect(Array.from(again.state.buffer!.data)).toEqual(Array.from(res.state.buffer!.data));
    }
  });
});
