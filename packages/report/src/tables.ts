/**
 * The report's HTML tables: the paper-style overview table of a side (sticky method column,
 * significance marks), every output at every point (mean [CI]), and the paired comparisons
 * behind the marks.
 */
import { splitKey, type FamilyRow, type PairedTest, type SummaryRow } from '@ceb/results';
import type { Side } from '@ceb/types';
import { arrow, esc, fmt, fmtPm, methodTitle, pointTitle } from './format';
import { keysOf, markLevel, rowOf, runtimeOf, type Mark, type ReportModel } from './model';
import { metricGroups, type PaperCell, type PaperTable } from './paper';

const TESTS: Record<string, string> = { wilcoxon: 'Wilcoxon signed-rank (Pratt)', mcnemar: 'exact McNemar', 'poisson-binomial': 'exact Poisson-binomial' };

const pText = (p: number): string => (p < 1e-4 ? p.toExponential(1) : p < 0.001 ? p.toFixed(4) : p.toFixed(3));

function testLine(t: PairedTest, against: string): string {
  return `vs ${against}: Δ ${fmt(t.diff)} [${fmt(t.lo)}, ${fmt(t.hi)}] over ${t.n} samples; ${TESTS[t.test] ?? t.test} p = ${pText(t.pValue)}, Holm ${pText(t.pHolm)}${t.significant ? '' : ' (not significant)'}`;
}

/** The hover text of a cell: its CI and n, and the tests behind its marks. */
export function cellTitle(row: SummaryRow | undefined, mark: Mark): string {
  if (!row || row.n === 0) return 'no value';
  const lines = [`mean ${fmt(row.mean)} [95% CI ${fmt(row.lo)}, ${fmt(row.hi)}], n = ${row.n}`];
  const best = mark.family?.rows.find((r) => r.best);
  if (mark.best) lines.push('best mean in the column');
  else if (mark.row?.vsBest && best) lines.push(testLine(mark.row.vsBest, methodTitle(best.method, best.point)));
  if (mark.row?.vsChance) lines.push(testLine(mark.row.vsChance, `chance ${fmt(mark.row.vsChance.chance)}`));
  return lines.join('\n');
}

function paperCell(c: PaperCell, key: string): string {
  const r = c.row;
  if (!r || r.n === 0) return `<td class="num na" data-key="${esc(key)}">—</td>`;
  let v = esc(fmtPm(r.mean, r.lo, r.hi));
  if (c.mark.best) v = `<b>${v}</b>`;
  else if (c.mark.tied) v = `<u>${v}</u>`;
  const chance = c.mark.atChance ? '<sup class="chance-mark" title="not significantly different from chance">°</sup>' : '';
  return `<td class="num ${markLevel(c.mark)}" data-key="${esc(key)}" data-mark="${markLevel(c.mark)}"${c.mark.atChance ? ' data-at-chance="1"' : ''} title="${esc(cellTitle(r, c.mark))}">${v}${chance}</td>`;
}

/** The overview table of one side: methods × headline outputs, runtime last. */
export function paperTableHtml(t: PaperTable): string {
  const groups = metricGroups(t);
  const h1 = `<tr><th rowspan="2" class="rowhead">method</th>${groups.map((g) => `<th colspan="${g.span}" class="metric">${esc(g.metric)}${g.mode ? `<div class="note">${esc(g.mode)} protocol</div>` : ''}</th>`).join('')}<th rowspan="2" class="metric">runtime<div class="note">ms per pair</div></th></tr>`;
  const h2 = `<tr>${t.columns.map((c) => `<th class="output" title="${esc(c.key)}${c.unit ? ` (${esc(c.unit)})` : ''}">${esc(c.output)} <span class="arrow">${arrow(c.higherIsBetter)}</span></th>`).join('')}</tr>`;
  const body = t.rows.map((r) => {
    const pt = r.point !== 'default' ? `<div class="note">${esc(pointTitle(r.point))}${r.points > 1 ? ` · best of ${r.points} points` : ''}</div>` : '';
    const rt = r.runtime && r.runtime.n > 0 ? `<td class="num runtime" title="mean ${fmt(r.runtime.mean)} [${fmt(r.runtime.lo)}, ${fmt(r.runtime.hi)}], n = ${r.runtime.n}">${esc(fmtPm(r.runtime.mean, r.runtime.lo, r.runtime.hi))}</td>` : '<td class="num na">—</td>';
    return `<tr data-method="${esc(r.method)}" data-point="${esc(r.point)}"><th scope="row" class="rowhead">${esc(r.method)}${pt}</th>${r.cells.map((c, j) => paperCell(c, t.columns[j].key)).join('')}${rt}</tr>`;
  });
  if (t.chance.some((c) => c !== undefined)) {
    body.push(`<tr class="chance"><th scope="row" class="rowhead">chance<div class="note">a map that knows nothing</div></th>${t.chance.map((c, j) => (c === undefined ? '<td class="num na"></td>' : `<td class="num" data-key="${esc(t.columns[j].key)}" data-chance="1">${esc(fmt(c))}</td>`)).join('')}<td class="num na"></td></tr>`);
  }
  return `<div class="scroll"><table class="results paper" id="paper-${t.side}"><thead>${h1}${h2}</thead><tbody>${body.join('')}</tbody></table></div>`;
}

/** Every output of one side at every point of every method: mean [95% CI] (n where fewer samples had a value). */
export function fullTableHtml(m: ReportModel, side: Side): string {
  const keys = keysOf(m, side);
  const samples = new Set(m.run.records.filter((r) => r.side === side).map((r) => r.sampleId)).size;
  const cell = (r: SummaryRow | undefined, attrs: string) =>
    !r || r.n === 0 ? `<td ${attrs} class="num na">—</td>` : `<td ${attrs} class="num"><span class="mean">${fmt(r.mean)}</span> <span class="ci">[${fmt(r.lo)}, ${fmt(r.hi)}]</span>${r.n < samples ? ` <span class="n">n=${r.n}</span>` : ''}</td>`;
  const head = `<tr><th class="rowhead">method</th>${keys.map((k) => `<th class="output">${esc(k)} <span class="arrow">${arrow(m.summary.rows.find((r) => r.key === k)?.higherIsBetter)}</span></th>`).join('')}<th class="output">ms per pair <span class="arrow">↓</span></th></tr>`;
  const body = [...m.points[side]].flatMap(([method, pts]) =>
    pts.map((point) => {
      const attrs = (k: string) => `data-method="${esc(method)}" data-point="${esc(point)}" data-side="${side}" data-key="${esc(k)}"`;
      return `<tr><th scope="row" class="rowhead">${esc(methodTitle(method, point))}</th>${keys.map((k) => cell(rowOf(m, method, side, point, k), attrs(k))).join('')}${cell(runtimeOf(m, method, side, point) as SummaryRow | undefined, attrs('runtime.ms'))}</tr>`;
    }),
  );
  return `<div class="scroll"><table class="results full" id="full-${side}"><thead>${head}</thead><tbody>${body.join('')}</tbody></table></div>`;
}

function comparisonRow(r: FamilyRow, key: string): string {
  const t = r.vsBest;
  const c = r.vsChance;
  const verdict = r.best ? '<b>best</b>' : r.tiedWithBest ? '<u>not significantly different</u>' : t ? 'worse' : 'not tested (no common samples)';
  return `<tr><th scope="row" class="rowhead">${esc(methodTitle(r.method, r.point))}</th><td>${esc(key)}</td><td class="num">${fmt(r.mean)}</td><td class="num">${t ? `${fmt(t.diff)} [${fmt(t.lo)}, ${fmt(t.hi)}]` : ''}</td><td class="num">${t?.n ?? ''}</td><td>${t ? esc(TESTS[t.test] ?? t.test) : ''}</td><td class="num">${t ? pText(t.pValue) : ''}</td><td class="num">${t ? pText(t.pHolm) : ''}</td><td>${verdict}</td><td class="num">${c ? `${fmt(c.chance)}: ${pText(c.pHolm)}` : ''}</td></tr>`;
}

/** The comparisons behind the marks of one side: per output, every method against the best (and chance). */
export function comparisonsHtml(m: ReportModel, side: Side): string {
  const fams = (m.summary.comparisons ?? []).filter((f) => f.side === side && f.family === 'methods');
  if (!fams.length) return '';
  const head = '<tr><th>method</th><th>output</th><th>mean</th><th>Δ to best [95% CI]</th><th>pairs</th><th>test</th><th>p</th><th>p (Holm)</th><th>verdict</th><th>chance: p (Holm)</th></tr>';
  const body = fams.flatMap((f) => f.rows.map((r) => comparisonRow(r, `${splitKey(f.key).metric} · ${splitKey(f.key).output} ${arrow(f.higherIsBetter)}`)));
  return `<div class="scroll"><table class="results comparisons" id="comparisons-${side}"><thead>${head}</thead><tbody>${body.join('')}</tbody></table></div>`;
}
