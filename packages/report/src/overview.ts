/**
 * The overview's charts, one side at a time: every method × headline output as dot + CI small
 * multiples coloured by the significance marks, each threshold family (IoU at 0.1 … 0.9) as
 * one curve per method, and the critical-difference diagram of the average ranks.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SideRanking } from '@ceb/results';
import { chartFigure, lineSpec, renderChart, type LineDatum } from './charts';
import { arrow, fmt, methodTitle } from './format';
import { familyOf, markLevel, rowOf, thresholdFamilies, type MarkLevel, type ReportModel } from './model';
import type { PaperTable } from './paper';

const MARK_LABELS: Record<MarkLevel, string> = { best: 'best', tied: 'not significantly different', worse: 'worse', untested: 'not tested' };
const MARKS = { domain: Object.values(MARK_LABELS), range: ['#1a7f37', '#74c476', '#a0a0a0', '#555555'] };

/** Dot = mean, line = 95% CI, per method (rows) and output (small multiples, own x scale each). */
export function dotSpec(t: PaperTable): TopLevelSpec {
  const values: Record<string, unknown>[] = [];
  t.columns.forEach((c, j) => {
    for (const r of t.rows) {
      const cell = r.cells[j];
      if (!cell.row || cell.row.n === 0) continue;
      const mark = MARK_LABELS[markLevel(cell.mark)];
      values.push({ output: `${c.metric} · ${c.output} ${arrow(c.higherIsBetter)}`, method: r.title, mean: cell.row.mean, lo: cell.row.lo, hi: cell.row.hi, n: cell.row.n, mark });
    }
  });
  const y = { field: 'method', type: 'nominal', title: null, sort: t.rows.map((r) => r.title), axis: { labelLimit: 320 } };
  const color = { field: 'mark', type: 'nominal', title: 'vs the best', scale: MARKS, legend: { orient: 'top' } };
  return {
    data: { values },
    facet: { field: 'output', type: 'nominal', title: null, sort: t.columns.map((c) => `${c.metric} · ${c.output} ${arrow(c.higherIsBetter)}`), header: { labelExpr: "split(datum.label, ' · ')", labelLimit: 300 } },
    columns: 4,
    spec: {
      width: 150,
      height: 13 * t.rows.length,
      layer: [
        { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { field: 'lo', type: 'quantitative', title: null, scale: { zero: false }, axis: { tickCount: 4, format: '~r' } }, x2: { field: 'hi' }, color } },
        {
          mark: { type: 'point', filled: true, size: 45 },
          encoding: { y, x: { field: 'mean', type: 'quantitative' }, color, tooltip: [{ field: 'method' }, { field: 'output' }, { field: 'mean', format: '.4g' }, { field: 'lo', title: 'CI low', format: '.4g' }, { field: 'hi', title: 'CI high', format: '.4g' }, { field: 'n' }, { field: 'mark', title: 'vs the best' }] },
        },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  } as unknown as TopLevelSpec;
}

/** One chart per threshold family of the side: mean (95% CI) against the threshold, one line per method. */
export async function thresholdCharts(m: ReportModel, side: 'image' | 'text', keys: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const fam of thresholdFamilies(keys)) {
    const data: LineDatum[] = [];
    for (const { method, point } of m.selected[side]) {
      for (const { key, t } of fam.keys) {
        const r = rowOf(m, method, side, point, key);
        if (r && r.n > 0) data.push({ x: t, y: r.mean, lo: r.lo, hi: r.hi, series: methodTitle(method, point) });
      }
    }
    if (!data.length) continue;
    // Bands of many methods hide each other: then the CI is on hover only.
    const bands = m.selected[side].length <= 4;
    const spec = lineSpec('threshold', `mean ${fam.name}`, bands ? data : data.map(({ lo, hi, ...d }) => ({ ...d, ciLo: lo, ciHi: hi })), { points: true, tooltip: true }) as unknown as Record<string, unknown>;
    const chart = await renderChart({ ...spec, width: 380, height: 240 } as TopLevelSpec);
    out.push(chartFigure('threshold-chart', `${fam.metric} · ${fam.name} against the threshold (${side})`, `one line per method at its selected point; ${bands ? 'band: 95% CI' : '95% CI on hover'}; ${fam.keys.length} thresholds (outputs ${fam.name}@…)`, chart));
  }
  return out;
}

/** Groups of methods (sorted by rank) whose average ranks differ by less than the CD: Demšar's cliques. */
export function cliques(ranks: number[], cd: number): [number, number][] {
  const out: [number, number][] = [];
  let reach = -1;
  for (let i = 0; i < ranks.length; i++) {
    let j = i;
    while (j + 1 < ranks.length && ranks[j + 1] - ranks[i] < cd) j++;
    if (j > i && j > reach) out.push([i, j]);
    reach = Math.max(reach, j);
  }
  return out;
}

/**
 * Demšar's critical-difference diagram: the rank axis on top, each method hanging from its
 * average rank to its label (best half on the left), thick bars joining methods whose ranks
 * differ by less than the CD, the CD drawn above the axis.
 */
export function cdSpec(r: SideRanking): TopLevelSpec {
  const sorted = [...r.contenders].sort((a, b) => a.averageRank - b.averageRank);
  const k = sorted.length;
  const cd = r.cd ?? 0;
  const groups = cliques(sorted.map((c) => c.averageRank), cd);
  const top = 0.7 + 0.3 * groups.length;
  const half = Math.ceil(k / 2);
  const pad = Math.max(0.6, 0.3 * (k - 1));
  const rows = sorted.map((c, i) => {
    const left = i < half;
    const y = top + (left ? i : k - 1 - i) * 1;
    return { x: c.averageRank, y, y0: 0, lx: left ? 1 - pad * 0.15 : k + pad * 0.15, label: `${methodTitle(c.method, c.point)} ${fmt(c.averageRank)}`, left, method: c.method, point: c.point, rank: c.averageRank };
  });
  const X = { type: 'quantitative', scale: { domain: [1 - pad, k + pad] }, axis: null };
  const Y = { type: 'quantitative', scale: { domain: [-1.2, top + half], reverse: true }, axis: null };
  const ticks = Array.from({ length: k }, (_, i) => ({ x: i + 1 }));
  const layer = [
    { data: { values: [{ x: 1, x2: k }] }, mark: { type: 'rule', color: '#222' }, encoding: { x: { field: 'x', ...X }, x2: { field: 'x2' }, y: { datum: 0, ...Y } } },
    { data: { values: ticks }, mark: { type: 'tick', orient: 'vertical', color: '#222', size: 8 }, encoding: { x: { field: 'x', ...X }, y: { datum: 0, ...Y } } },
    { data: { values: ticks }, mark: { type: 'text', dy: -10, fontSize: 11 }, encoding: { x: { field: 'x', ...X }, y: { datum: 0, ...Y }, text: { field: 'x' } } },
    { data: { values: [{ x: 1, x2: 1 + cd }] }, mark: { type: 'rule', strokeWidth: 2, color: '#a40000' }, encoding: { x: { field: 'x', ...X }, x2: { field: 'x2' }, y: { datum: -0.9, ...Y } } },
    { data: { values: [{ x: 1 + cd / 2, t: `CD = ${fmt(cd)}` }] }, mark: { type: 'text', dy: -8, color: '#a40000', fontSize: 11 }, encoding: { x: { field: 'x', ...X }, y: { datum: -0.9, ...Y }, text: { field: 't' } } },
    { data: { values: rows }, mark: { type: 'rule', color: '#555' }, encoding: { x: { field: 'x', ...X }, y: { field: 'y0', ...Y }, y2: { field: 'y' } } },
    { data: { values: rows }, mark: { type: 'rule', color: '#555' }, encoding: { x: { field: 'x', ...X }, x2: { field: 'lx' }, y: { field: 'y', ...Y } } },
    {
      data: { values: rows },
      mark: { type: 'point', filled: true, size: 36, color: '#222' },
      encoding: { x: { field: 'x', ...X }, y: { datum: 0, ...Y }, tooltip: [{ field: 'method' }, { field: 'point' }, { field: 'rank', title: 'average rank', format: '.3f' }] },
    },
    ...[true, false].map((left) => ({
      data: { values: rows.filter((d) => d.left === left) },
      mark: { type: 'text', align: left ? 'right' : 'left', dx: left ? -4 : 4, fontSize: 11 },
      encoding: { x: { field: 'lx', ...X }, y: { field: 'y', ...Y }, text: { field: 'label' } },
    })),
    {
      data: { values: groups.map(([i, j], g) => ({ x: sorted[i].averageRank - 0.04, x2: sorted[j].averageRank + 0.04, y: 0.45 + 0.3 * g, members: sorted.slice(i, j + 1).map((c) => c.method).join(', ') })) },
      mark: { type: 'rule', strokeWidth: 4, color: '#222' },
      encoding: { x: { field: 'x', ...X }, x2: { field: 'x2' }, y: { field: 'y', ...Y }, tooltip: [{ field: 'members', title: 'not significantly different' }] },
    },
  ];
  return { width: 640, height: Math.round(22 * (top + half + 1.2)), layer, config: { view: { stroke: null } } } as unknown as TopLevelSpec;
}

/** The CD diagram's figure with the Friedman test and the blocks in words. */
export async function cdFigure(m: ReportModel, side: 'image' | 'text'): Promise<string> {
  const r = m.summary.ranks?.find((x) => x.side === side);
  if (!r || !r.friedman || r.cd === undefined) return r?.note ? `<p class="note">No critical-difference diagram for the ${side} side: ${r.note}.</p>` : '';
  const f = r.friedman;
  const id = f.imanDavenport;
  const swept = m.summary.selected?.filter((s) => s.side === side && s.points > 1) ?? [];
  const sub = `Friedman χ²(${f.df}) = ${fmt(f.chi2)}, p = ${fmt(f.pValue)}; Iman–Davenport F(${id.df1}, ${id.df2}) = ${Number.isFinite(id.F) ? fmt(id.F) : '∞'}, p = ${fmt(id.pValue)}; Nemenyi CD = ${fmt(r.cd)} at α = ${r.alpha} (${r.contenders.length} methods, ${r.blocks.length} outputs). Bars join methods whose average ranks differ by less than the CD.`;
  const blocks = r.blocks.map((b) => `${b.key} ${arrow(b.higherIsBetter)}`).join(', ');
  const dropped = r.dropped.length ? ` Left out: ${r.dropped.map((d) => `${d.key} (${d.reason})`).join('; ')}.` : '';
  const points = swept.length ? ` Swept methods at their best point by average rank among their own points: ${swept.map((s) => `${methodTitle(s.method, s.point)} of ${s.points}`).join('; ')}.` : '';
  const chart = await renderChart(cdSpec(r));
  return `${chartFigure('cd-chart', `Average ranks across metrics (${side} side)`, sub, chart)}<p class="note cd-blocks">Blocks (each output ranked by its direction, 1 = best): ${blocks}.${dropped}${points}</p>`;
}

/** Whether any method on the side has a chance-level test (for the legend). */
export const hasChanceTests = (m: ReportModel, side: 'image' | 'text', keys: string[]): boolean => keys.some((k) => familyOf(m, side, k)?.rows.some((r) => r.vsChance));
