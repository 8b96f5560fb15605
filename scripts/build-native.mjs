#!/usr/bin/env node
// Builds the optional native backend (build/Release/ebm_native.node) with node-gyp. Runs at `npm install`.
// - Detects OpenBLAS (cblas.h + libopenblas.so); when found the addon's GEMM calls cblas_sgemm/cblas_dgemm.
// - Never fails the install: on error it prints one warning line and exits 0 (the pure-TS backend is used).
// - Writes build/native-build.json ({ ok, blas, ... }) so the loader and `ebm doctor` can report the outcome.
// - npm hides install-script output, so the outcome is also reported at run time: the library warns once when it
//   falls back to the pure-TS backend, with the reason recorded here, and `ebm doctor` prints it.
// Environment (documented in README "Install and use as a library"): EBM_SKIP_NATIVE=1 skips the build;
// EBM_NO_BLAS=1 builds without OpenBLAS; EBM_MARCH sets -march. The default is the x86-64 ISA level of the building
// CPU: `x86-64-v4` (AVX-512 F/BW/CD/DQ/VL) where it has those, else `x86-64-v3` (AVX2+FMA, CPUs since 2013/2015) when
// it has AVX2 and FMA, else `x86-64-v2`; `armv8-a` on arm64. The AVX-512 level matters for the conv kernels (measured
// on an AMD EPYC with AVX-512, one thread, CPU time: the bench conv net's training-step convolutions 64 → 50 ms).
// An addon built on an AVX-512 machine and copied to an older CPU fails with SIGILL: build it where it runs, or set
// EBM_MARCH=x86-64-v3 for a portable build. EBM_MARCH=native additionally tunes for the building CPU.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(root, 'build');
const reportFile = path.join(buildDir, 'native-build.json');
const logFile = path.join(buildDir, 'native-build.log');

function writeReport(report) {
  try {
    mkdirSync(buildDir, { recursive: true });
    writeFileSync(reportFile, JSON.stringify({ ...report, date: new Date().toISOString() }, null, 2) + '\n');
  } catch {
    // Reporting is best effort.
  }
}

/** Finds OpenBLAS: returns { include, libdir } or null. */
function findOpenBlas() {
  const multiarch = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', ppc64: 'powerpc64le-linux-gnu' }[process.arch];
  const incDirs = [
    multiarch && `/usr/include/${multiarch}`, '/usr/include/openblas', '/usr/include', '/usr/local/include',
    '/usr/local/include/openblas', '/opt/homebrew/opt/openblas/include', '/usr/local/opt/openblas/include',
  ].filter(Boolean);
  const libDirs = [
    multiarch && `/usr/lib/${multiarch}`, multiarch && `/usr/lib/${multiarch}/openblas-pthread`, '/usr/lib64',
    '/usr/lib64/openblas', '/usr/lib', '/usr/local/lib', '/opt/homebrew/opt/openblas/lib', '/usr/local/opt/openblas/lib',
  ].filter(Boolean);
  let include = null;
  for (const d of incDirs) {
    const h = path.join(d, 'cblas.h');
    if (!existsSync(h)) continue;
    // Only OpenBLAS's cblas.h (netlib's lacks the openblas_* declarations, and must not pair with -lopenblas).
    let text = '';
    try { text = readFileSync(h, 'utf8'); } catch { continue; }
    if (/openblas/i.test(text) || existsSync(path.join(d, 'openblas_config.h'))) { include = d; break; }
  }
  if (!include) return null;
  const libNames = process.platform === 'darwin' ? ['libopenblas.dylib'] : ['libopenblas.so'];
  for (const d of libDirs) {
    if (libNames.some((n) => existsSync(path.join(d, n)))) return { include, libdir: d };
  }
  return null;
}

/** The -march value: EBM_MARCH, else a portable baseline for this architecture (see the header). */
function chooseMarch() {
  const env = process.env.EBM_MARCH?.trim();
  if (env) return { march: env, why: 'EBM_MARCH' };
  if (process.arch === 'x64') {
    let flags = new Set();
    try {
      const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
      flags = new Set((line ?? '').split(/\s+/));
    } catch { /* not Linux: assume the AVX2 baseline only if the compiler is told so by EBM_MARCH */ }
    const v3 = ['avx2', 'fma', 'bmi2', 'movbe'].every((f) => flags.has(f));
    const v4 = v3 && ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'].every((f) => flags.has(f));
    return { march: v4 ? 'x86-64-v4' : v3 ? 'x86-64-v3' : 'x86-64-v2', why: 'ISA level of the building CPU' };
  }
  if (process.arch === 'arm64') return { march: 'armv8-a', why: 'portable default' };
  return { march: 'native', why: `no portable baseline known for ${process.arch}` };
}

/** The node-gyp CLI to run: npm's bundled copy when possible. Returns [command, ...args]. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return [process.execPath, c];
  return [process.platform === 'win32' ? 'npx.cmd' : 'npx', '--yes', 'node-gyp'];
}

function build(blas, march) {
  const [cmd, ...pre] = findNodeGyp();
  const args = [...pre, 'rebuild', '--release'];
  // Use the headers installed next to this node binary (no download needed when they are there).
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include/node/node_api.h')) && existsSync(path.join(prefix, 'include/node/common.gypi'))) {
    args.push(`--nodedir=${prefix}`);
  }
  const env = { ...process.env, EBM_BLAS: blas ? '1' : '0', EBM_MARCH: march };
  if (blas) { env.EBM_BLAS_INCLUDE = blas.include; env.EBM_BLAS_LIBDIR = blas.libdir; }
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const log = `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}\n`;
  const ok = r.status === 0 && existsSync(path.join(buildDir, 'Release/ebm_native.node'));
  let tail = '';
  if (!ok) {
    const lines = `${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
    // The most telling line: a compiler error, else node-gyp's own reason (missing Python, make, headers …).
    const pick = lines.find((l) => /\berror:/.test(l)) ?? lines.find((l) => /gyp ERR! (stack Error|find Python|configure error)/.test(l))
      ?? lines.find((l) => /error/i.test(l) && !/not ok|gyp ERR! (cwd|node -v|node-gyp -v|command|System)/.test(l));
    tail = (pick ?? lines[lines.length - 1] ?? `exit code ${r.status}`).slice(0, 240);
  }
  return { ok, log, tail, command: `${path.basename(cmd)} ${args.join(' ')}` };
}

function main() {
  if (process.env.EBM_SKIP_NATIVE === '1') {
    writeReport({ ok: false, blas: false, error: 'skipped (EBM_SKIP_NATIVE=1)' });
    return;
  }
  const blas = process.env.EBM_NO_BLAS === '1' ? null : findOpenBlas();
  let { march, why } = chooseMarch();
  let res = build(blas, march);
  let logs = res.log;
  let usedBlas = blas;
  if (!res.ok && /^x86-64-v[234]$/.test(march) && /march/.test(res.tail)) {
    // Compilers before GCC 11 / Clang 12 do not know the x86-64-vN levels: the equivalent CPU names do.
    const old = { 'x86-64-v2': 'nehalem', 'x86-64-v3': 'haswell', 'x86-64-v4': 'skylake-avx512' }[march];
    logs += `\n--- retry with -march=${old} ---\n`;
    march = old;
    res = build(blas, march);
    logs += res.log;
  }
  if (!res.ok && blas) {
    // Retry with the bundled kernel only: a broken BLAS install must not cost the whole addon.
    const retry = build(null, march);
    logs += '\n--- retry without OpenBLAS ---\n' + retry.log;
    if (retry.ok) { res = retry; usedBlas = null; } else res = { ...retry, tail: res.tail || retry.tail };
  }
  try { mkdirSync(buildDir, { recursive: true }); writeFileSync(logFile, logs); } catch { /* best effort */ }
  if (res.ok) {
    writeReport({ ok: true, blas: !!usedBlas, march, marchReason: why, blasInclude: usedBlas?.include, blasLibdir: usedBlas?.libdir, command: res.command });
    console.log(`ebm-ts: native backend built (-march=${march}, OpenBLAS: ${usedBlas ? 'yes' : 'no'})`);
  } else {
    writeReport({ ok: false, blas: false, march, error: res.tail, command: res.command, log: logFile });
    console.warn(`ebm-ts: warning: native backend not built (${res.tail}); using the pure-TypeScript backend. See ${path.relative(process.cwd(), logFile) || logFile}`);
  }
}

try {
  main();
} catch (e) {
  writeReport({ ok: false, blas: false, error: String(e) });
  console.warn(`ebm-ts: warning: native backend not built (${String(e).slice(0, 200)}); using the pure-TypeScript backend`);
}
process.exit(0);
