/**
 * The published comparison (run.json `comparison`, from a config's `compare:`): each published
 * value beside this run's mean and 95% CI of the same metric output, in the same units, and in
 * words where the run's setting differs from the published one.
 */
import type { MethodPoint, PublishedComparison, Run, Summary, SummaryRow } from '@ceb/results';
import type { Side } from '@ceb/types';
import { esc, fmt, fmtCI, fmtPm } from './format';

export interface ComparedCell {
  column: string;
  published: number | undefined;
  /** This run's summary row for the column's metric output, at the matched point. */
  measured?: SummaryRow;
  unit: string;
}

export interface ComparedRow {
  published: string;
  method?: string;
  /** Why there is no measured value: the harness lacks the method, or the run did not include it. */
  missing?: 'not in this harness' | 'not in this run';
  /** The sweep point compared, and how its options differ from the published row's. */
  point?: string;
  optionNote?: string;
  note?: string;
  cells: ComparedCell[];
}

/** The run's point of a method whose options agree with the published ones; else its first point, with the differences. */
function matchPoint(points: MethodPoint[], wanted: Record<string, unknown>): { point: string; note?: string } {
  const agrees = (o: Record<string, unknown>) => Object.entries(wanted).every(([k, v]) => o[k] === v);
  const hit = points.find((p) => agrees(p.options ?? {}));
  if (hit) return { point: hit.key };
  const first = points[0];
  const diff = Object.entries(wanted)
    .filter(([k, v]) => first.options?.[k] !== v)
    .map(([k, v]) => `${k} ${JSON.stringify(first.options?.[k])} here, ${JSON.stringify(v)} published`);
  return { point: first.key, note: `options differ: ${diff.join('; ')}` };
}

export function compareWithPublished(run: Run, summary: Summary): ComparedRow[] {
  const c = run.info.comparison;
  if (!c) return [];
  const methods = new Map((run.info.methods ?? []).map((m) => [m.name, m]));
  return c.rows.map((r) => {
    const base = { published: r.published, ...(r.method ? { method: r.method } : {}), ...(r.note ? { note: r.note } : {}) };
    const m = r.method ? methods.get(r.method) : undefined;
    const missing = !r.implemented ? ('not in this harness' as const) : !m ? ('not in this run' as const) : undefined;
    // A side override gives a side points of its own: each column is matched on its side's.
    const matchOn = (side: Side | undefined) => (m ? matchPoint((side && m.pointsBySide?.[side]) || m.points, r.options ?? {}) : undefined);
    const match = matchOn(m?.sides[0]);
    const cells = c.columns.map((col) => {
      const at = matchOn(col.side);
      const measured =
        at && col.metric ? summary.rows.find((x) => x.method === r.method && x.side === col.side && x.point === at.point && x.key === `${col.metric}.${col.output}` && x.n > 0) : undefined;
      return { column: col.key, published: r.values[col.key], unit: col.unit, ...(measured ? { measured } : {}) };
    });
    return { ...base, ...(missing ? { missing } : {}), ...(match ? { point: match.point, ...(match.note ? { optionNote: match.note } : {}) } : {}), cells };
  });
}

const header = (c: PublishedComparison): string => `${c.title} — ${c.dataset} (${c.source.repository} ${c.source.file}${c.source.lines ? `:${c.source.lines}` : ''} @ ${c.source.commit.slice(0, 7)})`;

/** The report's section. */
export function comparisonSection(run: Run, summary: Summary): string {
  const c = run.info.comparison;
  if (!c) return '';
  const rows = compareWithPublished(run, summary);
  const head = `<tr><th>published row</th><th>harness method</th>${c.columns.map((col) => `<th title="${esc(col.note ?? col.unit)}">${esc(col.published)}<div class="note">${esc(col.unit)}</div></th>`).join('')}</tr>`;
  const body = rows.map((r) => {
    const who = r.missing ? `<span class="muted">${esc(r.missing)}</span>` : `${esc(r.method)}${r.point && r.point !== 'default' ? `<div class="note">${esc(r.point)}</div>` : ''}${r.optionNote ? `<div class="warn">${esc(r.optionNote)}</div>` : ''}`;
    const cells = r.cells.map((cell) => {
      const pub = `<span class="published" title="published">${fmt(cell.published)}</span>`;
      const got = cell.measured ? `<div class="measured" title="this run, n = ${cell.measured.n}">${fmtCI(cell.measured.mean, cell.measured.lo, cell.measured.hi)}</div>` : '';
      return `<td class="num" data-published="${esc(r.published)}" data-column="${esc(cell.column)}">${pub}${got}</td>`;
    });
    return `<tr><th scope="row" class="rowhead">${esc(r.published)}${r.note ? `<div class="note">${esc(r.note)}</div>` : ''}</th><td>${who}</td>${cells.join('')}</tr>`;
  });
  return `<section id="published"><h2>Published comparison</h2>
<p>${esc(header(c))}. Model: ${esc(c.model)}; protocol: <b>${esc(c.protocol)}</b>. Each cell: the <b>published</b> value, then this run's mean [95% CI] of the same metric output in the same unit.</p>
<div class="scroll"><table class="results published-table"><thead>${head}</thead><tbody>${body.join('')}</tbody></table></div>
<p class="note">Where this run differs from the published setting:</p><ul class="differences">${c.differences.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>
${c.columns.filter((col) => !col.metric && col.note).map((col) => `<p class="note">${esc(col.published)}: ${esc(col.note!)}</p>`).join('')}
</section>`;
}

/** The terminal's comparison table (printed at the end of `pnpm bench`). */
export function formatComparison(run: Run, summary: Summary): string {
  const c = run.info.comparison;
  if (!c) return '';
  const cols = c.columns.filter((col) => col.metric);
  const lines = [`published comparison: ${header(c)}; published / this run (mean ± CI half-width)`];
  const header2 = ['row', ...cols.map((col) => `${col.side} ${col.metric}.${col.output}`)];
  const body = compareWithPublished(run, summary).map((r) => [
    `${r.published}${r.missing ? ` (${r.missing})` : r.method ? ` → ${r.method}` : ''}`,
    ...r.cells
      .filter((cell) => cols.some((col) => col.key === cell.column))
      .map((cell) => `${fmt(cell.published)} / ${cell.measured ? fmtPm(cell.measured.mean, cell.measured.lo, cell.measured.hi) : '—'}`),
  ]);
  const widths = header2.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  lines.push(line(header2), ...body.map(line), ...c.differences.map((d) => `  differs — ${d}`));
  return lines.join('\n');
}
