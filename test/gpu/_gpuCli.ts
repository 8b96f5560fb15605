/**
 * Shared by the CLI tests on the WebGPU backend: `ebm` runs as child processes with SwiftShader in their environment
 * (Dawn's threads and Vitest's worker pool do not mix), `ebm doctor --json`'s adapter report, and readers of the files
 * the runs write.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { cliNodeArgs, ROOT } from '../cli/helpers.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { useSwiftShader } from './_checkScript.js';

/** A finished child run of `ebm`. */
export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `ebm doctor --json`'s GPU report. */
export interface DoctorGpu {
  available: boolean;
  adapter: string | null;
  software: boolean;
  reason: string | null;
}

/**
 * The child-process runner of one test file (each run limited to `timeoutMs`; `extra` adds environment variables such
 * as `EBM_BACKEND`), the doctor run and its GPU report (warning, with `label`, when there is no adapter).
 */
export function gpuCli(label: string, timeoutMs: number): { child: (args: string[], extra?: Record<string, string>) => ChildRun; doctor: ChildRun; gpu: DoctorGpu } {
  const env: Record<string, string | undefined> = { ...process.env };
  useSwiftShader(env);
  const child = (args: string[], extra: Record<string, string> = {}): ChildRun => {
    const r = spawnSync(process.execPath, cliNodeArgs(...args), { cwd: ROOT, env: { ...env, ...extra }, encoding: 'utf8', timeout: timeoutMs });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const doctor = child(['doctor', '--json', '--seconds', '0.05']);
  const gpu = (JSON.parse(doctor.stdout) as { gpu: DoctorGpu }).gpu;
  if (!gpu.available) console.warn(`${label}: GPU runs skipped — ${gpu.reason}`);
  return { child, doctor, gpu };
}

/** The values of a samples CSV written by `ebm sample` (header dropped), row-major. */
export function readCsv(file: string): number[] {
  return readFileSync(file, 'utf8').trim().split('\n').slice(1).flatMap((l) => l.split(',').map(Number));
}

/** The tensors of a model file, as float32 arrays by name. */
export function modelTensors(file: string): Record<string, Float32Array> {
  const t = decodeSafetensors(readFileSync(file), file).tensors;
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)]));
}

/** Largest |a − b| over two models' parameters, after expecting the same tensor names. */
export function maxParamDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  let worst = 0;
  for (const k of Object.keys(a)) for (let i = 0; i < a[k].length; i++) worst = Math.max(worst, Math.abs(a[k][i] - b[k][i]));
  return worst;
}
