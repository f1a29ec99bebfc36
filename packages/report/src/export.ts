/**
 * Tables for a paper: the overview table of each side as LaTeX (booktabs; methods as rows,
 * metrics as columns with ↑/↓, mean ± CI half-width, best in bold, not significantly
 * different from the best underlined, a caption naming model, data, samples and protocol) and
 * as Markdown (GFM), and every summary row as CSV with its CI, n and p-values.
 */
import type { Side } from '@ceb/types';
import { arrow, fmt, fmtPm, methodTitle } from './format';
import { familyOf, keysOf, markOf, rowOf, type ReportModel } from './model';
import { marksLegend, metricGroups, paperTable, type PaperCell, type PaperTable } from './paper';

/** What the caption says about the run: model, data, samples per side and the protocols. */
function runFacts(m: ReportModel, t: PaperTable): string {
  const d = m.run.info.dataset;
  const data = [d?.name ?? d?.kind ?? 'data set', d?.kind && d.kind !== d.name ? `(${d.kind})` : '', d?.split ? `split ${d.split}` : ''].filter(Boolean).join(' ');
  const protocols = metricGroups(t).map((g) => (g.mode ? `${g.metric}: ${g.mode} protocol` : g.metric)).join('; ');
  const swept = t.rows.filter((r) => r.points > 1).map((r) => `${methodTitle(r.method, r.point)}: best of its ${r.points} points by average rank`);
  return `${t.side === 'image' ? 'Image' : 'Text'} side. Model ${m.run.info.model?.path ?? '?'}; data ${data}; ${t.samples} samples. Mean ± half-width of the 95% percentile-bootstrap CI over samples. Metrics: ${protocols}.${swept.length ? ` ${swept.join('; ')}.` : ''}`;
}

// ---------------------------------------------------------------- LaTeX

const LATEX_CHARS: Record<string, string> = {
  '\\': '\\textbackslash{}', '&': '\\&', '%': '\\%', $: '\\$', '#': '\\#', _: '\\_', '{': '\\{', '}': '\\}', '~': '\\textasciitilde{}', '^': '\\textasciicircum{}',
  '−': '$-$', '±': '$\\pm$', '×': '$\\times$', 'σ': '$\\sigma$', 'β': '$\\beta$', '≠': '$\\neq$', '↑': '$\\uparrow$', '↓': '$\\downarrow$', '≥': '$\\geq$', '≤': '$\\leq$',
  '°': '$^\\circ$', '—': '---', '–': '--', '…': '\\ldots{}', '·': '$\\cdot$', 'Δ': '$\\Delta$', 'χ': '$\\chi$', '²': '$^2$', '“': '``', '”': "''", '‘': '`', '’': "'", 'α': '$\\alpha$', '≈': '$\\approx$',
};

/** Text for pdflatex: special characters escaped, known symbols as math, other non-ASCII reduced to ASCII (else "?"). */
export function latexText(s: string): string {
  return [...s]
    .map((c) => {
      if (LATEX_CHARS[c]) return LATEX_CHARS[c];
      if (c.charCodeAt(0) < 128) return c;
      const ascii = c.normalize('NFKD').replace(/[^\x20-\x7e]/g, '');
      return ascii ? latexText(ascii) : '?';
    })
    .join('');
}

function latexCell(c: PaperCell): string {
  const r = c.row;
  if (!r || r.n === 0) return '--';
  let v = latexText(fmtPm(r.mean, r.lo, r.hi));
  if (c.mark.best) v = `\\textbf{${v}}`;
  else if (c.mark.tied) v = `\\underline{${v}}`;
  return c.mark.atChance ? `${v}$^\\circ$` : v;
}

function latexTable(m: ReportModel, t: PaperTable): string {
  const groups = metricGroups(t);
  let col = 2;
  const rules = groups.map((g) => {
    const r = `\\cmidrule(lr){${col}-${col + g.span - 1}}`;
    col += g.span;
    return r;
  });
  const head1 = ['', ...groups.map((g) => `\\multicolumn{${g.span}}{c}{${latexText(g.metric)}}`)].join(' & ');
  const head2 = ['method', ...t.columns.map((c) => latexText(`${c.output} ${arrow(c.higherIsBetter)}`))].join(' & ');
  const body = t.rows.map((r) => [latexText(methodTitle(r.method, r.point)), ...r.cells.map(latexCell)].join(' & ') + ' \\\\');
  const chance = t.chance.some((c) => c !== undefined) ? [`\\midrule`, `\\textit{chance} & ${t.chance.map((c) => (c === undefined ? '' : latexText(fmt(c)))).join(' & ')} \\\\`] : [];
  const caption = `${runFacts(m, t)} ${marksLegend(m.summary.comparisons?.[0]?.alpha ?? 0.05, { best: 'Bold', tied: 'underlined', chance: '°' })}`;
  return [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${latexText(caption)}}`,
    `\\label{tab:ceb-${t.side}}`,
    '\\resizebox{\\textwidth}{!}{%',
    `\\begin{tabular}{l${'r'.repeat(t.columns.length)}}`,
    '\\toprule',
    `${head1} \\\\`,
    rules.join(' '),
    `${head2} \\\\`,
    '\\midrule',
    ...body,
    ...chance,
    '\\bottomrule',
    '\\end{tabular}}',
    '\\end{table}',
  ].join('\n');
}

/** A standalone LaTeX document with one table per side (each `table` can be pasted into a paper as is). */
export function renderLatex(m: ReportModel): string {
  const tables = m.sides.map((side) => latexTable(m, paperTable(m, side)));
  return [
    `% ${latexText(`Tables of run ${m.run.info.runId}, written by pnpm report --format latex. Needs booktabs and graphicx.`)}`,
    '\\documentclass{article}',
    '\\usepackage{booktabs}',
    '\\usepackage{graphicx}',
    '\\usepackage[margin=2cm]{geometry}',
    '\\begin{document}',
    ...tables,
    '\\end{document}',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- Markdown

const mdText = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/([*_`<>[\]])/g, '\\$1');

function mdCell(c: PaperCell): string {
  const r = c.row;
  if (!r || r.n === 0) return '—';
  let v = fmtPm(r.mean, r.lo, r.hi);
  if (c.mark.best) v = `**${v}**`;
  else if (c.mark.tied) v = `<ins>${v}</ins>`;
  return c.mark.atChance ? `${v}°` : v;
}

function markdownTable(m: ReportModel, t: PaperTable): string {
  const head = ['method', ...t.columns.map((c) => mdText(`${c.metric} ${c.output} ${arrow(c.higherIsBetter)}`))];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of t.rows) lines.push(`| ${[mdText(methodTitle(r.method, r.point)), ...r.cells.map(mdCell)].join(' | ')} |`);
  // The chance levels go under the table, so that the table has one row per method.
  const chance = t.chance.flatMap((c, j) => (c === undefined ? [] : [`${t.columns[j].output} ${fmt(c)}`]));
  return [`### ${t.side} side`, '', mdText(runFacts(m, t)), '', ...lines, ...(chance.length ? ['', `*Chance (a map that knows nothing): ${mdText(chance.join(', '))}.*`] : [])].join('\n');
}

/** The overview tables as GitHub-flavoured Markdown, with the legend of the marks. */
export function renderMarkdown(m: ReportModel): string {
  const legend = marksLegend(m.summary.comparisons?.[0]?.alpha ?? 0.05, { best: '**bold**', tied: '<ins>underlined</ins>', chance: '°' });
  return [`## ${mdText(m.run.info.runId)}`, '', ...m.sides.flatMap((side) => [markdownTable(m, paperTable(m, side)), '']), legend, ''].join('\n');
}

// ---------------------------------------------------------------- CSV

/** RFC 4180: quoted when it holds a comma, a quote or a line break. */
const csvField = (v: unknown): string => {
  const s = v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v)) ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

const CSV_HEADER = [
  'method', 'side', 'point', 'metric', 'output', 'higher_is_better', 'mean', 'ci_low', 'ci_high', 'n', 'selected_point',
  'is_best_method', 'diff_to_best_method', 'diff_low', 'diff_high', 'test', 'p_value', 'p_holm', 'tied_with_best_method',
  'is_best_point', 'p_vs_best_point_holm', 'chance', 'p_chance_holm',
];

function csvRows(m: ReportModel, side: Side): unknown[][] {
  const out: unknown[][] = [];
  for (const [method, pts] of m.points[side]) {
    const selected = m.selected[side].find((s) => s.method === method)?.point;
    for (const point of pts) {
      for (const key of keysOf(m, side)) {
        const r = rowOf(m, method, side, point, key);
        if (!r) continue;
        const mk = markOf(familyOf(m, side, key), method, point).row;
        const sw = markOf(familyOf(m, side, key, method), method, point).row;
        const t = mk?.vsBest;
        out.push([
          method, side, point, r.metric, r.output, r.higherIsBetter, r.mean, r.lo, r.hi, r.n, point === selected,
          mk?.best, t?.diff, t?.lo, t?.hi, t?.test, t?.pValue, t?.pHolm, mk ? mk.tiedWithBest : undefined,
          sw?.best, sw?.vsBest?.pHolm, mk?.vsChance?.chance, mk?.vsChance?.pHolm,
        ]);
      }
    }
  }
  return out;
}

/** One row per method × side × point × metric output: mean, CI, n, and the p-values of the comparisons it is in. */
export function renderCsv(m: ReportModel): string {
  return [CSV_HEADER, ...m.sides.flatMap((side) => csvRows(m, side))].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
