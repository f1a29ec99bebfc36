// Progress with ETA: a cli-progress bar on a terminal, a line every few seconds otherwise
// (CI logs, child processes).
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  tick(units: number, label: string): void;
  stop(): void;
}

export function createProgress(enabled: boolean, total: number, log: (s: string) => void): Progress {
  if (!enabled || total === 0) return { tick: () => {}, stop: () => {} };
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: 'bench {bar} {percentage}% | {value}/{total} | ETA {eta_formatted} | {label}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
    bar.start(total, 0, { label: '' });
    return { tick: (n, label) => bar.increment(n, { label }), stop: () => bar.stop() };
  }
  let done = 0;
  let last = 0;
  const t0 = Date.now();
  return {
    tick(n, label) {
      done += n;
      const now = Date.now();
      if (now - last > 5000 || done === total) {
        last = now;
        const eta = done ? ((now - t0) / done) * (total - done) : 0;
        log(`  ${done}/${total} (${Math.round((100 * done) / total)}%), ETA ${Math.round(eta / 1000)} s — ${label}`);
      }
    },
    stop() {},
  };
}
