/** The Vitest side of the GPU check scripts: runs one in a child process and turns its JSON report into tests. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GpuCheckReport } from './_checkScript.js';

/**
 * Runs `test/gpu/<script>` in a child process and registers one test per check of its report (and one that it ran
 * to the end with more than `minChecks − 1` checks); skips, saying why, where the machine has no WebGPU adapter.
 */
export function gpuCheckSuite(script: string, title: string, o: { minChecks: number; timeoutMs: number }): void {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(here, '../..');
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, script)], { cwd: root, encoding: 'utf8', timeout: o.timeoutMs });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  let report: GpuCheckReport;
  try {
    report = JSON.parse(line);
  } catch {
    throw new Error(`${script} printed no report (exit ${run.status}, signal ${run.signal}): ${run.stderr.slice(-2000)}`);
  }
  if (!report.available) console.warn(`test/gpu/${script}: skipped — ${report.reason}`);
  describe.skipIf(!report.available)(`${title} (${report.adapter?.description ?? 'no adapter'})`, () => {
    it('ran to the end and exited cleanly', () => {
      expect(run.status).toBe(0);
      expect(report.checks.length).toBeGreaterThanOrEqual(o.minChecks);
    });
    for (const c of report.checks) {
      it(c.name, () => {
        expect(c.detail).toBe('');
        expect(c.ok).toBe(true);
      });
    }
  });
}
