/**
 * Shared by the GPU check scripts (test/gpu/check*.ts, run in a child process by test/gpu/_checkSuite.ts because
 * Dawn's threads and Vitest's worker pool do not mix): the SwiftShader environment, the check list, the report type
 * and the elementwise comparison.
 */
import { existsSync, mkdirSync } from 'node:fs';

/** One named check of a script: `detail` is '' when it passed, else what differed. */
export interface GpuCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** The JSON line a check script prints last. */
export interface GpuCheckReport {
  available: boolean;
  reason?: string;
  adapter?: { description: string };
  checks: GpuCheck[];
}

/**
 * Points Dawn at Debian Chromium's SwiftShader Vulkan driver (unless `env` names a driver) and sets XDG_RUNTIME_DIR, in
 * `env` (default: this process's environment; the CLI tests pass a copy for their child processes).
 */
export function useSwiftShader(env: Record<string, string | undefined> = process.env): void {
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (!env.VK_ICD_FILENAMES && existsSync(swiftshader)) env.VK_ICD_FILENAMES = swiftshader;
  if (!env.XDG_RUNTIME_DIR) {
    env.XDG_RUNTIME_DIR = '/tmp/ebm-ts-xdg';
    mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  }
}

/** The check list of a script and the function that appends to it (`detail` '' = passed). */
export function checkList(): { checks: GpuCheck[]; check: (name: string, detail: string) => void } {
  const checks: GpuCheck[] = [];
  return { checks, check: (name, detail) => { checks.push({ name, ok: detail === '', detail }); } };
}

function compare(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, sameNonFinite: boolean): string {
  if (got.length !== want.length) return `length ${got.length} ≠ ${want.length}`;
  let worst = -1, worstErr = 0;
  for (let i = 0; i < want.length; i++) {
    if (sameNonFinite && (got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) continue;
    const err = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (!(err <= 0) && (worst < 0 || err > worstErr)) { worst = i; worstErr = err; }
  }
  return worst < 0 ? '' : `index ${worst}: got ${got[worst]}, want ${want[worst]}`;
}

/** '' when |got − want| ≤ atol + rtol·|want| everywhere (equal values, incl. ±∞, and NaN against NaN pass), else the worst index and values. */
export function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): string {
  return compare(got, want, rtol, atol, true);
}

/** As {@link close}, but any non-finite value fails (for results that must be finite). */
export function closeFinite(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): string {
  return compare(got, want, rtol, atol, false);
}
