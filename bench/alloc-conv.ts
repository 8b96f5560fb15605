/**
 * Typed-array allocations per iteration of the conv-energy workloads (bench/conv-energy.ts): the baseline figure for
 * the memory plan of issue 14. Counts every `new Float32Array(n)` / `new Float64Array(n)` by wrapping the global
 * constructors before the library loads; the U-Net score-network step (bench/unet-score.ts) too. Each workload runs
 * without and with buffer reuse (`withBufferReuse`; a pool hit constructs no array). Usage: npx tsx bench/alloc-conv.ts
 */
const counts = { n: 0, bytes: 0 };
for (const name of ['Float32Array', 'Float64Array'] as const) {
  const Orig = globalThis[name];
  const Wrapped = new Proxy(Orig, {
    construct(target, args, nt) {
      const r = Reflect.construct(target, args, nt) as Float32Array;
      if (typeof args[0] === 'number') { counts.n++; counts.bytes += r.byteLength; }
      return r;
    },
  });
  (globalThis as Record<string, unknown>)[name] = Wrapped;
}
const { initBackend } = await import('../src/tensor/select.js');
const { convWorkloads } = await import('./conv-energy.js');
const { unetTrainWorkload } = await import('./unet-score.js');
initBackend();
const report = (name: string, f: () => unknown, reps: number): void => {
  for (let i = 0; i < 2; i++) f();
  counts.n = 0; counts.bytes = 0;
  for (let i = 0; i < reps; i++) f();
  console.log(`${name}: ${(counts.n / reps).toFixed(0)} typed arrays, ${(counts.bytes / reps / 2 ** 20).toFixed(1)} MiB per iteration`);
};
for (const reuseBuffers of [false, true]) {
  const tag = reuseBuffers ? 'buffer reuse' : 'no reuse';
  const w = convWorkloads({ reuseBuffers });
  for (const name of ['forward', 'langevin', 'train'] as const) report(`conv ${name} (${tag})`, w[name], 5);
  report(`unet train (${tag})`, unetTrainWorkload({ reuseBuffers }), 3);
}
