/**
 * Progress on stderr unless `--quiet`: a redrawn bar when stderr is a terminal, else (pipes, CI logs) one plain line
 * every few seconds.
 */
import type { CliIO } from './context.js';

/** A progress reporter; a no-op when hidden. */
export interface Progress {
  /** Sets the number of completed units (of `total`) and an optional status text (e.g. `loss 0.12`). */
  update(done: number, status?: string): void;
  /** Clears the bar line. */
  done(): void;
}

/**
 * Seconds between plain progress lines when stderr is not a terminal: `EBM_PROGRESS_SECONDS` (default 5; 0 turns
 * them off, as the test setup does so that captured stderr stays deterministic).
 */
export function progressLineSeconds(): number {
  const v = Number(process.env.EBM_PROGRESS_SECONDS ?? 5);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * Makes a progress reporter for `total` units labelled `label`. On a terminal it redraws at most every 100 ms as
 * `label [#####.....]  42% 420/1000 ETA 3s status` on one stderr line. When stderr is not a terminal it writes one
 * line `label 420/1000 (42%) ETA 3s status` every few seconds (none for runs shorter than
 * that; see {@link progressLineSeconds}), never a bar. Nothing with `quiet`.
 */
export function progressBar(io: CliIO, label: string, total: number, quiet = false): Progress {
  if (quiet || total <= 0) return { update() {}, done() {} };
  if (!io.stderrIsTTY) return progressLines(io, label, total);
  const t0 = performance.now();
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, status) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const frac = Math.min(1, done / total);
      const width = 24;
      const fill = Math.round(frac * width);
      const el = (now - t0) / 1000;
      const eta = done > 0 ? (el * (total - done)) / done : NaN;
      const etaStr = Number.isFinite(eta) ? ` ETA ${eta < 60 ? eta.toFixed(0) + 's' : (eta / 60).toFixed(1) + 'm'}` : '';
      io.stderr(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total}${etaStr}${status ? ' ' + status : ''}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) io.stderr('\r\x1b[K');
      drawn = false;
    },
  };
}

/** ETA text: ` ETA 3s` / ` ETA 2.5m`, or empty before the first unit. */
function etaText(elapsedS: number, done: number, total: number): string {
  const eta = done > 0 ? (elapsedS * (total - done)) / done : NaN;
  return Number.isFinite(eta) ? ` ETA ${eta < 60 ? eta.toFixed(0) + 's' : (eta / 60).toFixed(1) + 'm'}` : '';
}

/** Plain progress lines for a non-terminal stderr (see {@link progressBar}). */
function progressLines(io: CliIO, label: string, total: number): Progress {
  const every = progressLineSeconds();
  if (every === 0) return { update() {}, done() {} };
  const t0 = performance.now();
  let last = t0;
  return {
    update(done, status) {
      const now = performance.now();
      if (now - last < every * 1000) return;
      last = now;
      const pct = ((100 * Math.min(1, done / total))).toFixed(0);
      io.stderr(`${label} ${done}/${total} (${pct}%)${etaText((now - t0) / 1000, done, total)}${status ? ' ' + status : ''}\n`);
    },
    done() {},
  };
}
