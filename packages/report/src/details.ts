/**
 * The detail charts (collapsed under the overview): a bar chart per metric output and side
 * (threshold families are the overview's one chart), the mean score curves of every curve a
 * metric declares as a score (internal curves are never drawn), the dataset-level metrics and
 * the runtime. Each method at its selected point.
 */
import { splitKey, type Run } from '@ceb/results';
import type { Side } from '@ceb/types';
import { barSpec, chartFigure, lineSpec, renderChart, type BarDatum, type LineDatum } from './charts';
import { arrow, esc, fmt, methodTitle, pointLabel } from './format';
import { directionOf, keysOf, rowOf, runtimeOf, thresholdFamilies, type ReportModel } from './model';

const direction = (hib: boolean | null | undefined): string => (hib === true ? 'higher is better' : hib === false ? 'lower is better' : 'direction not declared');

function metricNote(m: ReportModel, metric: string): string {
  const info = m.metrics.get(metric);
  return [info?.mode ? `mode: ${info.mode}` : '', info?.substrate ? `substrate: ${info.substrate}` : ''].filter(Boolean).join(' · ');
}

/** One bar chart per metric output and side (outputs of a threshold family left to its one chart). */
export async function barCharts(m: ReportModel): Promise<string[]> {
  const out: string[] = [];
  for (const side of m.sides) {
    const keys = keysOf(m, side);
    const inFamily = new Set(thresholdFamilies(keys).flatMap((f) => f.keys.map((k) => k.key)));
    for (const k of keys.filter((x) => !inFamily.has(x))) {
      const data: BarDatum[] = [];
      for (const { method, point } of m.selected[side]) {
        const r = rowOf(m, method, side, point, k);
        if (r && r.n > 0) data.push({ label: methodTitle(method, point), mean: r.mean, lo: r.lo, hi: r.hi, n: r.n });
      }
      if (data.length === 0) continue;
      const hib = directionOf(m, k);
      const { metric, output } = splitKey(k);
      const note = metricNote(m, metric);
      out.push(chartFigure('bar-chart', `${metric} · ${output} ${arrow(hib)} (${side})`, `${direction(hib)}${note ? ` · ${note}` : ''} · mean, 95% CI`, await renderChart(barSpec(output, data))));
    }
  }
  return out;
}

/** Mean of each method's curves on a common grid of fractions 0..1 (each curve's points spread evenly on [0, 1]). */
export function meanCurve(curves: number[][], grid = 51): { x: number[]; y: number[] } {
  const x = Array.from({ length: grid }, (_, i) => i / (grid - 1));
  const y = x.map(() => 0);
  let used = 0;
  for (const c of curves) {
    if (c.length < 2 || !c.every(Number.isFinite)) continue;
    used++;
    for (let i = 0; i < grid; i++) {
      const f = x[i] * (c.length - 1);
      const k = Math.min(Math.floor(f), c.length - 2);
      const u = f - k;
      y[i] += c[k] * (1 - u) + c[k + 1] * u;
    }
  }
  return { x, y: used ? y.map((v) => v / used) : y.map(() => NaN) };
}

/** The mean curve per method of every curve a metric declares as a score; 'internal' curves are bookkeeping and never drawn. */
export async function curveCharts(m: ReportModel): Promise<string[]> {
  const out: string[] = [];
  for (const side of m.sides) {
    for (const metric of m.metrics.values()) {
      for (const [name, spec] of Object.entries(metric.curves ?? {})) {
        if (spec.kind !== 'score') continue;
        const k = `${metric.name}.${name}`;
        const data: LineDatum[] = [];
        for (const { method, point } of m.selected[side]) {
          const cs = m.run.records.filter((r) => r.method === method && r.point === point && r.side === side && r.curves?.[k]).map((r) => r.curves![k]);
          if (cs.length === 0) continue;
          const mc = meanCurve(cs);
          mc.x.forEach((x, i) => data.push({ x, y: mc.y[i], series: `${methodTitle(method, point)} (n=${cs.length})` }));
        }
        if (data.length === 0) continue;
        const x = spec.x.replace('{units}', side === 'image' ? 'pixels' : 'tokens');
        out.push(chartFigure('curve-chart', `${metric.name} · ${name} curve (${side})`, `mean score curve over samples · ${direction(spec.higherIsBetter)}`, await renderChart(lineSpec(x, spec.y, data))));
      }
    }
  }
  return out;
}

/** The table of dataset-level values (one evaluation over the split: no CI over samples). */
export function datasetTable(m: ReportModel): string {
  const dm = m.run.datasetMetrics;
  const keys = [...new Set(dm.flatMap((d) => Object.keys(d.values)))];
  const rows = dm.map((d) => `<tr><th scope="row">${esc(d.method)}</th><td>${esc(d.side)}</td><td>${esc(pointLabel(d.point))}</td>${keys.map((k) => `<td class="num">${k in d.values ? fmt(d.values[k]) : ''}</td>`).join('')}<td class="num">${esc(d.n ?? '—')}</td></tr>`);
  return `<div class="scroll"><table class="results dataset"><thead><tr><th>method</th><th>side</th><th>point</th>${keys.map((k) => `<th>${esc(k)} <span class="arrow">${arrow(directionOf(m, k))}</span></th>`).join('')}<th>n</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>
<p class="note">Dataset-level metrics are one evaluation over the split (n = images evaluated), so they carry no confidence interval over samples.</p>`;
}

/** One chart per dataset metric and side, with the axes and baseline the metric declares. */
export async function datasetCharts(m: ReportModel): Promise<string[]> {
  const groups = new Map<string, Run['datasetMetrics']>();
  for (const d of m.run.datasetMetrics) {
    if (!d.curve) continue;
    const g = `${d.metric}\u0000${d.side}`;
    groups.set(g, [...(groups.get(g) ?? []), d]);
  }
  const out: string[] = [];
  for (const [g, recs] of groups) {
    const [metric, side] = g.split('\u0000');
    const spec = m.metrics.get(metric)?.curve;
    const baselineName = spec?.baseline ?? 'baseline';
    const data: LineDatum[] = [];
    for (const d of recs) d.curve!.x.forEach((x, i) => data.push({ x, y: d.curve!.y[i], series: methodTitle(d.method, d.point) }));
    const baselines = recs.filter((d) => d.curve!.baseline);
    const same = baselines.every((d) => JSON.stringify([d.curve!.x, d.curve!.baseline]) === JSON.stringify([baselines[0].curve!.x, baselines[0].curve!.baseline]));
    for (const d of same ? baselines.slice(0, 1) : baselines) {
      d.curve!.x.forEach((x, i) => data.push({ x, y: d.curve!.baseline![i], series: same ? `${baselineName} baseline` : `${baselineName} baseline (${methodTitle(d.method, d.point)})`, dashed: true }));
    }
    out.push(chartFigure('dataset-chart', `${metric} (${side})`, spec?.note ?? '', await renderChart(lineSpec(spec?.x ?? 'x', spec?.y ?? 'y', data, { points: true }))));
  }
  return out;
}

/** Wall time of one explanation per method and side. */
export async function runtimeChart(m: ReportModel): Promise<string> {
  const rdata: BarDatum[] = [];
  for (const side of m.sides as Side[]) {
    for (const { method, point } of m.selected[side]) {
      const r = runtimeOf(m, method, side, point);
      if (r && r.n > 0) rdata.push({ label: `${side}: ${methodTitle(method, point)}`, mean: r.mean, lo: r.lo, hi: r.hi, n: r.n });
    }
  }
  if (!rdata.length) return '';
  const b = m.run.info.backend?.name ?? '?';
  const hw = m.run.info.hardware;
  return chartFigure('runtime-chart', 'runtime per pair ↓', `wall time of one explanation, ms · backend ${b}${hw?.cpu ? ` · ${hw.cpu}` : ''}${hw?.gpu ? ` · ${hw.gpu}` : ''} · mean, 95% CI`, await renderChart(barSpec('ms per pair', rdata)));
}
