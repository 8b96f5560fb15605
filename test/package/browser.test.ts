/**
 * The package as a browser user gets it (issue 15): `npm pack`s the project, installs the tarball into a fresh app
 * (test/package/app: index.html + main.ts importing `ebm-ts` by name), bundles it with Vite — asserting that the
 * build log has no Node-built-in warnings ("externalized for browser compatibility") — and runs MALA in Debian's
 * headless Chromium, checking the printed moments. The same install (no addon: scripts are skipped) checks the Node
 * side a user sees without the addon: one fallback warning with the reason and `npm rebuild ebm-ts`, and
 * `npx ebm doctor` working from the project.
 *
 * Needs a built `dist/` (`npm run build`; `npm test` builds first). The install is `--prefer-offline` from the npm
 * cache (the registry is used only for a package missing there) with `--ignore-scripts` (no addon build: a browser
 * never loads it). The Chromium part is skipped, with a message, when /usr/bin/chromium is absent.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const APP = join(ROOT, 'test/package/app');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`test/package/browser.test.ts: skipped — ${CHROMIUM} not found (apt-get install -y chromium)`);

/** Packs the project into `dir` (no lifecycle scripts: dist/ must be built) and returns the tarball's path. */
export function packInto(dir: string): string {
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  const [{ filename }] = JSON.parse(out) as { filename: string }[];
  return join(dir, filename);
}

function serveStatic(dir: string): Promise<Server> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };
  const server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(dir) || !existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ebm-ts-app-'));
  const tarball = packInto(tmp);
  writeFileSync(join(tmp, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  copyFileSync(join(APP, 'index.html'), join(tmp, 'index.html'));
  copyFileSync(join(APP, 'main.ts'), join(tmp, 'main.ts'));
  execFileSync('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: tmp, encoding: 'utf8' });
}, 90_000);
afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

describe('the installed tarball under Node, without the addon (installed with --ignore-scripts)', () => {
  it('warns once, with the reason and `npm rebuild ebm-ts`, and runs on the js backend', () => {
    const code = "const m = await import('ebm-ts'); m.initBackend(); m.key(0); console.log(m.backendInfo().backend);";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: tmp, encoding: 'utf8', env: { ...process.env, EBM_BACKEND: '' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('js');
    const warnings = r.stderr.split('\n').filter((l) => l.includes('EBM_NATIVE_UNAVAILABLE'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/addon not built: .*ebm_native\.node is missing.*run "npm rebuild ebm-ts"/);
    const quiet = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: tmp, encoding: 'utf8', env: { ...process.env, EBM_BACKEND: 'js' } });
    expect(quiet.stderr).not.toMatch(/EBM_NATIVE_UNAVAILABLE/);
  });

  it('`npx ebm doctor` runs from the project and prints the remedy that works there', () => {
    const r = spawnSync(join(tmp, 'node_modules/.bin/ebm'), ['doctor', '--seconds', '0.02', '--json'], { cwd: tmp, encoding: 'utf8', env: { ...process.env, EBM_BACKEND: '' } });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { backend: string; nativeAvailable: boolean; nativeError: string };
    expect(o.backend).toBe('js');
    expect(o.nativeAvailable).toBe(false);
    expect(o.nativeError).toContain('npm rebuild ebm-ts');
  });
});

describe('the installed tarball in a browser TypeScript project', () => {
  it('type-checks strictly without @types/node and with skipLibCheck off', () => {
    writeFileSync(join(tmp, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], strict: true, types: [],
        skipLibCheck: false, noEmit: true,
      },
      include: ['main.ts'],
    }));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: tmp, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 60_000);
});

describe.skipIf(!haveChromium)('the packed tarball in a fresh Vite app, in headless Chromium', () => {
  let buildLog = '';

  beforeAll(async () => {
    // Vite runs in a child process so that the whole build log (rolldown's plugin warnings print straight to the
    // console) can be asserted on.
    const vite = join(ROOT, 'node_modules/vite/dist/node/index.js');
    writeFileSync(join(tmp, 'build.mjs'), `import { build } from ${JSON.stringify(vite)};\n` +
      `await build({ root: process.cwd(), configFile: false, logLevel: 'info', build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 4000 } });\n`);
    const r = spawnSync(process.execPath, ['build.mjs'], { cwd: tmp, encoding: 'utf8' });
    buildLog = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0) throw new Error(`vite build failed:\n${buildLog}`);
  }, 90_000);

  it('bundles with no Node-built-in warnings', () => {
    expect(buildLog).toMatch(/built in/);
    const bad = buildLog.split('\n').filter((l) => /externali[sz]ed for browser|node:|\bwarn/i.test(l));
    expect(bad, buildLog).toEqual([]);
    // Only the page and its bundle: no assets pulled in through `new URL(…, import.meta.url)` (package.json, .node …).
    const assets = readdirSync(join(tmp, 'dist/assets'));
    expect(assets.filter((f) => !/^index-[\w-]+\.js$/.test(f)), assets.join(', ')).toEqual([]);
  });

  it('runs MALA in Chromium: moments of the standard 2-D Gaussian', async () => {
    const server = await serveStatic(join(tmp, 'dist'));
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const printed = new Promise<string>((ok) => page.on('console', (m) => { if (m.text().startsWith('ebm-ts result ')) ok(m.text()); }));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const line = await Promise.race([printed, new Promise<string>((_, no) => setTimeout(() => no(new Error(`no result; page errors: ${errors.join('; ')}`)), 30_000))]);
      const r = JSON.parse(line.slice('ebm-ts result '.length)) as { backend: string; samples: number[]; mean: number[]; variance: number[]; acceptance: number; fileError: string };
      expect(errors).toEqual([]);
      expect(r.backend).toBe('js');
      expect(r.samples).toEqual([400, 64, 2]);
      // 25 600 draws; MALA at step 0.8 has autocorrelation well below 0.9, so the MCSE of the mean is < 0.05 and
      // of the variance < 0.08: tolerances 0.1 and 0.15 are about 2 MCSE.
      for (const m of r.mean) expect(Math.abs(m)).toBeLessThan(0.1);
      for (const v of r.variance) expect(Math.abs(v - 1)).toBeLessThan(0.15);
      expect(r.acceptance).toBeGreaterThan(0.5);
      expect(r.fileError).toContain('needs Node.js');
    } finally {
      await browser.close();
      server.close();
    }
  }, 60_000);
});
