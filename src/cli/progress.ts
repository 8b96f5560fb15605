/** A progress bar on stderr, drawn only when stderr is a terminal and `--quiet` is off. */
import type { CliIO } from './context.js';

/** A progress reporter; a no-op when hidden. */
export interface Progress {
  /** Sets the number of completed units (of `total`) and an optional status text (e.g. `loss 0.12`). */
  update(done: number, status?: string): void;
  /** Clears the bar line. */
  done(): void;
}

/**
 * Makes a progress bar for `total` units labelled `label`. It redraws at most every 100 ms as
 * `label [#####.....]  42% 420/1000 ETA 3s status` on one stderr line, and only when `io.stderrIsTTY && !quiet`
 * (so pipes, CI logs and tests see nothing).
 */
export function progressBar(io: CliIO, label: string, total: number, quiet = false): Progress {
  if (quiet || !io.stderrIsTTY || total <= 0) return { update() {}, done() {} };
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
