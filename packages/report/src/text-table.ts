/** A compact plain-text table of a summary for the terminal (the bench prints it after a run). */
import { arrow, fmt } from './format';
import type { Summary } from '@ceb/results';

/**
 * Rows = method · side · point, columns = metric outputs (with ↑/↓) then runtime (ms),
 * cells = "mean ± half-width of the 95% CI"; "—" where there is no value.
 */
export function formatSummaryTable(summary: Summary): string {
  const keys: string[] = [];
  for (const r of summary.rows) if (!keys.includes(r.key)) keys.push(r.key);
  const hib = new Map(summary.rows.map((r) => [r.key, r.higherIsBetter]));
  const ids: { method: string; side: string; point: string }[] = [];
  const idOf = (r: { method: string; side: string; point: string }): string => JSON.stringify([r.method, r.side, r.point]);
  const seen = new Set<string>();
  for (const r of [...summary.rows, ...summary.runtime]) {
    if (!seen.has(idOf(r))) {
      seen.add(idOf(r));
      ids.push({ method: r.method, side: r.side, point: r.point });
    }
  }
  const pm = (m: number, lo: number, hi: number, n: number): string =>
    n > 0 && Number.isFinite(m) ? `${fmt(m)} ± ${fmt((hi - lo) / 2)}` : '—';
  const header = ['method', 'side', 'point', ...keys.map((k) => `${k} ${arrow(hib.get(k))}`.trim()), 'ms/pair ↓'];
  const body = ids.map((id) => [
    id.method,
    id.side,
    id.point,
    ...keys.map((k) => {
      const r = summary.rows.find((x) => idOf(x) === idOf(id) && x.key === k);
      return r ? pm(r.mean, r.lo, r.hi, r.n) : '';
    }),
    (() => {
      const r = summary.runtime.find((x) => idOf(x) === idOf(id));
      return r ? pm(r.mean, r.lo, r.hi, r.n) : '';
    })(),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]): string => cells.map((s, c) => (c < 3 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ').trimEnd();
  const title = `${summary.runId ? `${summary.runId}: ` : ''}${summary.samples} sample(s)${summary.failures !== undefined ? `, ${summary.failures} failure(s)` : ''}; mean ± half-width of the 95% bootstrap CI`;
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
