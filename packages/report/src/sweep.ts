/**
 * Sweep views: for each swept method, side and metric output, a heat map over two swept
 * options (facets for a third, and any further ones joined into the facet), the best point
 * outlined thick and the points not significantly different from it outlined thin, the value
 * in each cell and the CI on hover. Options with one value on a side get no axis.
 */
import type { TopLevelSpec } from 'vega-lite';
import { splitKey } from '@ceb/results';
import type { Side } from '@ceb/types';
import { chartFigure, renderChart } from './charts';
import { arrow, esc, human } from './format';
import { directionOf, familyOf, headlineOf, keysOf, markOf, rowOf, thresholdFamilies, type ReportModel } from './model';

/** A swept method's points on one side with the options that vary among them (as records carry them). */
export interface SweepGrid {
  method: string;
  side: Side;
  points: { point: string; options: Record<string, unknown> }[];
  /** Options with more than one value, in the order the options are listed. */
  varying: string[];
  /** Per varying option, its values in order (numbers ascending). */
  values: Map<string, unknown[]>;
}

const sortValues = (vs: unknown[]): unknown[] => [...vs].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));

export function sweepGrids(m: ReportModel, side: Side): SweepGrid[] {
  const out: SweepGrid[] = [];
  for (const [method, pts] of m.points[side]) {
    if (pts.length < 2) continue;
    const points = pts.map((point) => ({ point, options: m.run.records.find((r) => r.method === method && r.side === side && r.point === point)?.options ?? {} }));
    const names = [...new Set(points.flatMap((p) => Object.keys(p.options)))];
    const varying = names.filter((n) => new Set(points.map((p) => JSON.stringify(p.options[n]))).size > 1);
    const values = new Map(varying.map((n) => [n, sortValues([...new Map(points.map((p) => [JSON.stringify(p.options[n]), p.options[n]])).values()])]));
    if (varying.length) out.push({ method, side, points, varying, values });
  }
  return out;
}

const label = (v: unknown): string => (typeof v === 'number' ? human(v) : v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/** The heat map of one output over a grid. */
export function heatmapSpec(m: ReportModel, g: SweepGrid, key: string): TopLevelSpec | undefined {
  const hib = directionOf(m, key);
  const fam = familyOf(m, g.side, key, g.method);
  const [xo, yo, ...rest] = g.varying;
  const values = g.points.flatMap(({ point, options }) => {
    const r = rowOf(m, g.method, g.side, point, key);
    if (!r || r.n === 0) return [];
    const mk = markOf(fam, g.method, point);
    return [{ x: label(options[xo]), y: yo ? label(options[yo]) : '', facet: rest.map((o) => `${o} ${label(options[o])}`).join(', '), mean: r.mean, lo: r.lo, hi: r.hi, n: r.n, point, text: human(r.mean), outline: mk.best ? 'best' : mk.tied ? 'not significantly different' : 'worse' }];
  });
  if (!values.length) return undefined;
  const x = { field: 'x', type: 'ordinal', title: xo, sort: (g.values.get(xo) ?? []).map(label), axis: { labelAngle: 0 } };
  // A one-option sweep is one row: no y axis at all.
  const y = yo ? { y: { field: 'y', type: 'ordinal', title: yo, sort: (g.values.get(yo) ?? []).map(label) } } : {};
  // Darker = better, whichever the direction.
  const color = { field: 'mean', type: 'quantitative', title: `${splitKey(key).output} ${arrow(hib)}`, scale: { scheme: 'greens', reverse: hib === false }, legend: { orient: 'right', gradientLength: 80, format: '~r' } };
  const tooltip = [{ field: 'point' }, { field: 'mean', format: '.4g' }, { field: 'lo', title: 'CI low', format: '.4g' }, { field: 'hi', title: 'CI high', format: '.4g' }, { field: 'n' }, { field: 'outline', title: 'vs the best point' }];
  const cols = g.values.get(xo)?.length ?? 1;
  const rowsN = yo ? (g.values.get(yo)?.length ?? 1) : 1;
  const inner = {
    width: 46 * cols,
    height: 30 * rowsN,
    layer: [
      { mark: { type: 'rect' }, encoding: { x, ...y, color, tooltip } },
      { mark: { type: 'text', fontSize: 10 }, encoding: { x, ...y, text: { field: 'text' }, color: { condition: { test: 'datum.dark', value: 'white' }, value: 'black' } } },
      { transform: [{ filter: "datum.outline === 'best'" }], mark: { type: 'rect', fillOpacity: 0, stroke: '#111', strokeWidth: 3 }, encoding: { x, ...y } },
      { transform: [{ filter: "datum.outline === 'not significantly different'" }], mark: { type: 'rect', fillOpacity: 0, stroke: '#111', strokeWidth: 1.2, strokeDash: [3, 2] }, encoding: { x, ...y } },
    ],
  };
  const lo = Math.min(...values.map((v) => v.mean));
  const hi = Math.max(...values.map((v) => v.mean));
  const dark = (v: number) => (hi > lo ? (hib === false ? (hi - v) / (hi - lo) : (v - lo) / (hi - lo)) > 0.6 : false);
  const data = { values: values.map((v) => ({ ...v, dark: dark(v.mean) })) };
  const faceted = rest.length > 0;
  return (faceted ? { data, facet: { column: { field: 'facet', type: 'nominal', title: null } }, spec: inner } : { data, ...inner }) as unknown as TopLevelSpec;
}

/** The sweep section: per swept method and side, heat maps of the headline outputs, the others behind a disclosure. */
export async function sweepSection(m: ReportModel): Promise<string> {
  let html = '';
  for (const side of m.sides) {
    const thresholds = new Set(thresholdFamilies(keysOf(m, side)).flatMap((f) => f.keys.map((k) => k.key)));
    const headline = headlineOf(m, side);
    const others = keysOf(m, side).filter((k) => !headline.includes(k) && !thresholds.has(k));
    for (const g of sweepGrids(m, side)) {
      const figs = async (keys: string[]) => {
        const out: string[] = [];
        for (const key of keys) {
          const spec = heatmapSpec(m, g, key);
          if (!spec) continue;
          const { metric, output } = splitKey(key);
          out.push(chartFigure('sweep-heatmap', `${metric} · ${output} ${arrow(directionOf(m, key))}`, '', await renderChart(spec)));
        }
        return out.join('');
      };
      const fixed = g.varying.length > 2 ? `; facets: ${g.varying.slice(2).join(', ')}` : '';
      const rest = others.length ? `<details class="more"><summary>${others.length} more output(s)</summary><div class="charts">${await figs(others)}</div></details>` : '';
      html += `<h3>${esc(g.method)}, ${side} side: ${g.points.length} points over ${g.varying.map(esc).join(' × ')}</h3>
<p class="note">Mean per point (darker = better); thick outline: best point by mean; thin dashed outline: not significantly different from it (paired test over the samples, Holm across the ${g.points.length} points, α = ${m.summary.comparisons?.[0]?.alpha ?? 0.05})${fixed}; hover a cell for its 95% CI.</p>
<div class="charts">${await figs(headline)}</div>${rest}`;
    }
  }
  return html;
}
