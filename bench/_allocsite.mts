const counts = new Map<string, { n: number; bytes: number }>();
let on = false;
for (const name of ['Float32Array', 'Float64Array'] as const) {
  const Orig = globalThis[name];
  const Wrapped = new Proxy(Orig, {
    construct(target, args, nt) {
      const r = Reflect.construct(target, args, nt) as Float32Array;
      if (on && typeof args[0] === 'number') {
        const st = (new Error().stack ?? '').split('\n').slice(2, 5).map((l) => l.trim().replace(/^at /, '').replace(/\(.*\/src\//, '(').replace(/\)$/, '')).join(' < ');
        const c = counts.get(st) ?? { n: 0, bytes: 0 }; c.n++; c.bytes += r.byteLength; counts.set(st, c);
      }
      return r;
    },
  });
  (globalThis as Record<string, unknown>)[name] = Wrapped;
}
const { initBackend } = await import('/work/wt/mempool/src/tensor/select.js');
const { unetTrainWorkload } = await import('/work/wt/mempool/bench/unet-score.js');
initBackend();
const w = unetTrainWorkload();
w(); w();
on = true; w(); on = false;
const rows = [...counts.entries()].sort((a, b) => b[1].bytes - a[1].bytes);
let tot = 0, n = 0; for (const [, c] of rows) { tot += c.bytes; n += c.n; }
console.log(`total ${n} arrays ${(tot / 2 ** 20).toFixed(1)} MiB`);
for (const [k, c] of rows.slice(0, 40)) console.log(`${(c.bytes / 2 ** 20).toFixed(1).padStart(6)} MiB ${String(c.n).padStart(4)}  ${k}`);
