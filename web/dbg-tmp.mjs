import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, extname } from 'node:path';
const DIST = '/work/main/web/dist';
const server = createServer((req, res) => { let f = join(DIST, new URL(req.url, 'http://x').pathname); if (f.endsWith('/')) f += 'index.html'; if (!existsSync(f)) { res.writeHead(404).end(); return; } res.writeHead(200, { 'content-type': extname(f) === '.js' ? 'text/javascript' : extname(f) === '.css' ? 'text/css' : 'text/html' }); res.end(readFileSync(f)); });
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1320, height: 860 } });
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
await page.waitForFunction(() => window.__ebm?.ready);
const mode = process.argv[2];
const logs = async () => console.log(JSON.stringify(await page.evaluate(() => ({ s: window.__ebm.sampler, e: window.__ebm.errors, st: document.getElementById('status').textContent }))));
if (mode === 'sample') {
  await page.selectOption('#target', process.argv[3] ?? 'energy:gmm');
  if (process.argv[4]) { await page.selectOption('#sampler', process.argv[4]); }
  await page.click('#sample-start');
  for (let i = 0; i < 3; i++) { await page.waitForTimeout(2000); await logs(); }
} else if (mode === 'rbm') {
  await page.click('#tab-rbm'); await page.click('#rbm-start'); await page.waitForTimeout(12000);
  console.log(await page.evaluate(() => JSON.stringify(window.__ebm.rbm)));
} else if (mode === 'cd') {
  await page.selectOption('#target', process.argv[3] ?? 'toy:moons');
  await page.click('#tab-train'); await page.selectOption('#loss', 'cd'); await page.click('#train-start'); await page.waitForTimeout(15000);
  console.log(await page.evaluate(() => JSON.stringify({ t: window.__ebm.train, e: window.__ebm.errors, ms: document.getElementById('t-ms').textContent })));
}
await page.screenshot({ path: `/tmp/shot-${mode}.png` });
await browser.close(); server.close();
