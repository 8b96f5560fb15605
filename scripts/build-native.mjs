#!/usr/bin/env node
// Builds the optional native backend (build/Release/ebm_native.node) with node-gyp. Runs at `npm install`.
// - Detects OpenBLAS (cblas.h + libopenblas.so); when found the addon's GEMM calls cblas_sgemm/cblas_dgemm.
// - Never fails the install: on error it prints one warning line and exits 0 (the pure-TS backend is used).
// - Writes build/native-build.json ({ ok, blas, ... }) so the loader and `ebm doctor` can report the outcome.
// Environment: EBM_SKIP_NATIVE=1 skips the build; EBM_NO_BLAS=1 builds without OpenBLAS; EBM_MARCH overrides
// -march (default "native").
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

function build(blas) {
  const [cmd, ...pre] = findNodeGyp();
  const args = [...pre, 'rebuild', '--release'];
  // Use the headers installed next to this node binary (no download needed when they are there).
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include/node/node_api.h')) && existsSync(path.join(prefix, 'include/node/common.gypi'))) {
    args.push(`--nodedir=${prefix}`);
  }
  const env = { ...process.env, EBM_BLAS: blas ? '1' : '0' };
  if (blas) { env.EBM_BLAS_INCLUDE = blas.include; env.EBM_BLAS_LIBDIR = blas.libdir; }
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const log = `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}\n`;
  const ok = r.status === 0 && existsSync(path.join(buildDir, 'Release/ebm_native.node'));
  let tail = '';
  if (!ok) {
    const lines = `${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
    tail = (lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? `exit code ${r.status}`).slice(0, 200);
  }
  return { ok, log, tail, command: `${path.basename(cmd)} ${args.join(' ')}` };
}

function main() {
  if (process.env.EBM_SKIP_NATIVE === '1') {
    writeReport({ ok: false, blas: false, error: 'skipped (EBM_SKIP_NATIVE=1)' });
    return;
  }
  const blas = process.env.EBM_NO_BLAS === '1' ? null : findOpenBlas();
  let res = build(blas);
  let logs = res.log;
  let usedBlas = blas;
  if (!res.ok && blas) {
    // Retry with the bundled kernel only: a broken BLAS install must not cost the whole addon.
    const retry = build(null);
    logs += '\n--- retry without OpenBLAS ---\n' + retry.log;
    if (retry.ok) { res = retry; usedBlas = null; } else res = { ...retry, tail: res.tail || retry.tail };
  }
  try { mkdirSync(buildDir, { recursive: true }); writeFileSync(logFile, logs); } catch { /* best effort */ }
  if (res.ok) {
    writeReport({ ok: true, blas: !!usedBlas, blasInclude: usedBlas?.include, blasLibdir: usedBlas?.libdir, command: res.command });
    console.log(`ebm-ts: native backend built (OpenBLAS: ${usedBlas ? 'yes' : 'no'})`);
  } else {
    writeReport({ ok: false, blas: false, error: res.tail, command: res.command, log: logFile });
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
