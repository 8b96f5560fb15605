/**
 * Typed-array allocations per iteration of the conv-energy workloads (bench/conv-energy.ts): the baseline figure for
 * the memory plan of issue 14. Counts every `new Float32Array(n)` / `new Float64Array(n)` by wrapping the global
 * constructors before the library loads. Usage: npx tsx bench/alloc-conv.ts
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
initBackend();
const w = convWorkloads();
for (const name of ['forward', 'langevin', 'train'] as const) {
  for (let i = 0; i < 2; i++) w[name]();
  counts.n = 0; counts.bytes = 0;
  const reps = 5;
  for (let i = 0; i < reps; i++) w[name]();
  console.log(`${name}: ${(counts.n / reps).toFixed(0)} typed arrays, ${(counts.bytes / reps / 2 ** 20).toFixed(1)} MiB per iteration`);
}
