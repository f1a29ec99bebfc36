/** A compact plain-text table of a summary for the terminal (the bench prints it after a run). */
import type { FamilyRow, RunSummary, Summary } from '@ceb/results';
import { arrow, fmtPm, pointLabel } from './format';

type Id = { method: string; side: string; point: string };
const idOf = (r: Id): string => JSON.stringify([r.method, r.side, r.point]);

/** The rows to print: each method at its selected point per side when the summary has them, else every row. */
function rowIds(summary: RunSummary): Id[] {
  if (summary.selected?.length) return summary.selected.map(({ method, side, point }) => ({ method, side, point }));
  const seen = new Map<string, Id>();
  for (const r of [...summary.rows, ...summary.runtime]) if (!seen.has(idOf(r))) seen.set(idOf(r), { method: r.method, side: r.side, point: r.point });
  return [...seen.values()];
}

/** The marks of one cell: * best, ~ not significantly different from the best, ° not significantly different from chance. */
function marks(summary: RunSummary, id: Id, key: string): string {
  const f = summary.comparisons?.find((x) => x.family === 'methods' && x.side === id.side && x.key === key);
  const r: FamilyRow | undefined = f?.rows.find((x) => x.method === id.method && x.point === id.point);
  if (!r) return '';
  return `${r.best ? '*' : r.tiedWithBest ? '~' : ''}${r.vsChance && !r.vsChance.significant ? '°' : ''}`;
}

/**
 * Rows = method · side · point, columns = metric outputs (with ↑/↓) then runtime (ms), cells =
 * "mean ± half-width of the 95% CI" with the significance marks; "—" where there is no value.
 */
export function formatSummaryTable(summary: Summary | RunSummary): string {
  const s = summary as RunSummary;
  const keys: string[] = [];
  for (const r of s.rows) if (!keys.includes(r.key)) keys.push(r.key);
  const hib = new Map(s.rows.map((r) => [r.key, r.higherIsBetter]));
  const ids = rowIds(s);
  const pm = (m: number, lo: number, hi: number, n: number): string => (n > 0 && Number.isFinite(m) ? fmtPm(m, lo, hi) : '—');
  const header = ['method', 'side', 'point', ...keys.map((k) => `${k} ${arrow(hib.get(k))}`.trim()), 'ms/pair ↓'];
  const body = ids.map((id) => [
    id.method,
    id.side,
    pointLabel(id.point),
    ...keys.map((k) => {
      const r = s.rows.find((x) => idOf(x) === idOf(id) && x.key === k);
      return r ? `${pm(r.mean, r.lo, r.hi, r.n)}${marks(s, id, k).padEnd(2)}` : '';
    }),
    (() => {
      const r = s.runtime.find((x) => idOf(x) === idOf(id));
      return r ? pm(r.mean, r.lo, r.hi, r.n) : '';
    })(),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]): string => cells.map((x, c) => (c < 3 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ').trimEnd();
  const title = `${s.runId ? `${s.runId}: ` : ''}${s.samples} sample(s)${s.failures !== undefined ? `, ${s.failures} failure(s)` : ''}; mean ± half-width of the 95% bootstrap CI`;
  const out = [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  if (s.comparisons?.length) {
    const alpha = s.comparisons[0].alpha;
    out.push(`* best mean · ~ not significantly different from the best (paired Wilcoxon / exact McNemar, Holm, α = ${alpha}) · ° not significantly different from chance`);
    for (const p of s.selected?.filter((x) => x.points > 1) ?? []) out.push(`${p.method} (${p.side}): shown at ${pointLabel(p.point)}, the best of its ${p.points} points by average rank; every point in the report`);
  }
  return out.join('\n');
}
