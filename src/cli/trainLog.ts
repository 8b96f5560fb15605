/** The training log: JSON lines `{"step":…,"loss":…,"energyGap":…,"gradNorm":…,"lr":…,"time":…}`, one per logged step. */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/atomic.js';
import type { LogRecord } from './trainLoop.js';
import type { GuardEvent } from '../models/deepEbm/index.js';

/** An open training log. */
export interface TrainLog {
  /** Appends one record as a JSON line (non-finite numbers are written as `null`). */
  write(rec: LogRecord): void;
}

/**
 * Opens a training log at `path`. A fresh run (`resumeStep` undefined) starts an empty file; a resumed run keeps the
 * records with `step ≤ resumeStep` from the existing file (dropping those of the steps being redone) so the finished
 * log reads like an uninterrupted run's. The rewrite is atomic.
 */
export function openTrainLog(path: string, resumeStep?: number): TrainLog {
  let keep = '';
  if (resumeStep !== undefined && existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const r = JSON.parse(line) as { step?: unknown };
        if (typeof r.step === 'number' && r.step <= resumeStep) keep += line + '\n';
      } catch {
        // a line torn by a kill: drop it
      }
    }
  }
  writeFileAtomicSync(path, keep);
  return {
    write(rec) {
      appendFileSync(path, JSON.stringify(rec, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
    },
  };
}

/** How often a training command logs: about 100 records per run, at least every step and at most every 100 steps. */
export function logInterval(steps: number): number {
  return Math.max(1, Math.min(100, Math.floor(steps / 100) || 1));
}


/**
 * The `onRollback` callback of the guarded trainers (deep EBM, JEM): writes one `warning: rollback at step …` line
 * per rollback to `stderr` and appends the line to `lines` (the command prints them again in its summary).
 */
export function rollbackReporter(lines: string[], stderr: (s: string) => void): (e: GuardEvent) => void {
  return (e) => {
    const line = `rollback at step ${e.step}: ${e.reason}; back to step ${e.rolledBackTo}, learning rate ×${e.lrScale}, random stream ${e.stream}`;
    lines.push(line);
    stderr(`warning: ${line}\n`);
  };
}
