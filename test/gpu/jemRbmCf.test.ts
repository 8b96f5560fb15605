/**
 * The GPU lowerings of the jem and rbm-cf kinds against their CPU versions (test/gpu/checkJemRbmCf.ts, run in a child
 * process: Dawn's threads and Vitest's worker pool do not mix). Skips, saying why, where this machine has no WebGPU
 * adapter (CI has SwiftShader).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'checkJemRbmCf.ts')], { cwd: root, encoding: 'utf8', timeout: 300_000 });
const line = run.stdout.trim().split('\n').pop() ?? '';
let report: { available: boolean; reason?: string; adapter?: { description: string }; checks: { name: string; ok: boolean; detail: string }[] };
try {
  report = JSON.parse(line);
} catch {
  throw new Error(`checkJemRbmCf.ts printed no report (exit ${run.status}, signal ${run.signal}): ${run.stderr.slice(-2000)}`);
}
if (!report.available) console.warn(`test/gpu/jemRbmCf: skipped — ${report.reason}`);

describe.skipIf(!report.available)(`jem and rbm-cf on WebGPU match the CPU (${report.adapter?.description ?? 'no adapter'})`, () => {
  it('ran to the end and exited cleanly', () => {
    expect(run.status).toBe(0);
    expect(report.checks.length).toBeGreaterThanOrEqual(11);
  });
  for (const c of report.checks) {
    it(c.name, () => {
      expect(c.detail).toBe('');
      expect(c.ok).toBe(true);
    });
  }
});
