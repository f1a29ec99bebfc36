/**
 * report.html: one self-contained file (inline CSS, inline SVG charts, PNGs as data URIs, no
 * script, no network) that answers "which method explains best, by which metric, at which
 * setting, at what cost".
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { barSpec, chartFigure, lineSpec, renderSvg, type BarDatum, type LineDatum } from './charts';
import { countFailures, FILES, readRuns, summarize, type MetricInfo, type Run, type RuntimeRow, type Summary, type SummaryRow } from '@ceb/results';
import { SIDES, type Side } from '@ceb/types';
import { arrow, esc, fmt, fmtCI, pointLabel } from './format';
import { renderGallery } from './gallery';
import { comparisonSection } from './published';

export interface RenderOptions {
  /** Samples in the gallery (default 4). */
  galleryLimit?: number;
  /** Bootstrap seed (default: the run's seed, else 0). */
  seed?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** The report's date (default now). */
  now?: Date;
  /** The run's summary when the caller has computed it already (the bench has); else computed here. */
  summary?: Summary;
}

/** Everything the sections share, worked out once. */
interface Ctx {
  run: Run;
  summary: Summary;
  metrics: Map<string, MetricInfo>;
  methods: string[];
  /** method -> sweep points in declared order */
  points: Map<string, string[]>;
  /** method -> the point shown in the main table */
  main: Map<string, string>;
  sides: Side[];
}

function buildCtx(run: Run, opts: RenderOptions): Ctx {
  const seed = opts.seed ?? run.info.seed ?? 0;
  const summary = opts.summary ?? summarize(run.records, run.info.metrics, { seed, resamples: opts.resamples, runId: run.info.runId });
  const metrics = new Map((run.info.metrics ?? []).map((m) => [m.name, m]));
  const methods: string[] = [];
  const points = new Map<string, string[]>();
  const add = (m: string, p?: string): void => {
    if (!methods.includes(m)) methods.push(m);
    const ps = points.get(m) ?? [];
    if (p !== undefined && !ps.includes(p)) ps.push(p);
    points.set(m, ps);
  };
  for (const m of run.info.methods ?? []) for (const p of m.points ?? [{ key: 'default' }]) add(m.name, p.key);
  for (const r of run.records) add(r.method, r.point);
  const withData = new Set(run.records.map((r) => `${r.method}\u0000${r.point}`));
  const main = new Map<string, string>();
  for (const m of methods) {
    const ps = (points.get(m) ?? []).filter((p) => withData.has(`${m}\u0000${p}`));
    main.set(m, ps.includes('default') ? 'default' : (ps[0] ?? points.get(m)?.[0] ?? 'default'));
  }
  const sides = SIDES.filter((s) => run.records.some((r) => r.side === s));
  return { run, summary, metrics, methods, points, main, sides };
}

/** Metric-output keys of one side, in run.json's metric and output order, then any others. */
function keysOf(ctx: Ctx, side: Side): string[] {
  const present = new Set(ctx.summary.rows.filter((r) => r.side === side).map((r) => r.key));
  const ordered: string[] = [];
  for (const m of ctx.metrics.values()) for (const o of Object.keys(m.outputs ?? {})) if (present.has(`${m.name}.${o}`)) ordered.push(`${m.name}.${o}`);
  for (const k of present) if (!ordered.includes(k)) ordered.push(k);
  return ordered;
}

function rowOf(ctx: Ctx, method: string, side: Side, point: string, key: string): SummaryRow | undefined {
  return ctx.summary.rows.find((r) => r.method === method && r.side === side && r.point === point && r.key === key);
}
function runtimeOf(ctx: Ctx, method: string, side: Side, point: string): RuntimeRow | undefined {
  return ctx.summary.runtime.find((r) => r.method === method && r.side === side && r.point === point);
}

/**
 * Indices of the best values (ties: all of them); none when the direction is unknown or fewer
 * than two rows have a value (nothing to compare).
 */
function bestOf(values: (number | undefined)[], higherIsBetter: boolean | null): Set<number> {
  const out = new Set<number>();
  if (higherIsBetter === null) return out;
  if (values.filter((v) => v !== undefined && Number.isFinite(v)).length < 2) return out;
  let best = higherIsBetter ? -Infinity : Infinity;
  values.forEach((v) => {
    if (v !== undefined && Number.isFinite(v) && (higherIsBetter ? v > best : v < best)) best = v;
  });
  values.forEach((v, i) => {
    if (v === best) out.add(i);
  });
  return out;
}

function metricNote(m: MetricInfo | undefined): string {
  if (!m) return '';
  const bits: string[] = [];
  if (m.mode) bits.push(`mode: ${m.mode}`);
  if (m.substrate) bits.push(`substrate: ${m.substrate}`);
  return bits.join(' · ');
}

function cell(row: SummaryRow | RuntimeRow | undefined, attrs: string, best: boolean, samples: number): string {
  if (!row || row.n === 0) return `<td ${attrs} class="num na">—</td>`;
  const nNote = row.n < samples ? ` <span class="n">n=${row.n}</span>` : '';
  return `<td ${attrs} class="num${best ? ' best' : ''}" title="n = ${row.n}"><span class="mean">${fmt(row.mean)}</span> <span class="ci">[${fmt(row.lo)}, ${fmt(row.hi)}]</span>${nNote}${best ? ' <span class="star" aria-label="best in column">★</span>' : ''}</td>`;
}

/**
 * The chance row: per output, the mean over samples of what a map that knows nothing scores
 * (records carry it per sample, e.g. localisation), so a control can be read against it.
 */
function chanceRow(ctx: Ctx, groups: { side: Side; keys: string[] }[]): string | undefined {
  let any = false;
  let tr = `<tr class="chance"><th scope="row" class="rowhead">chance<div class="note">a map that knows nothing</div></th>`;
  for (const g of groups) {
    for (const k of g.keys) {
      const perSample = new Map<string, number>();
      for (const r of ctx.run.records) {
        const v = r.side === g.side ? r.chance?.[k] : undefined;
        if (typeof v === 'number' && !perSample.has(r.sampleId)) perSample.set(r.sampleId, v);
      }
      if (perSample.size === 0) {
        tr += '<td class="num na"></td>';
        continue;
      }
      any = true;
      const mean = [...perSample.values()].reduce((a, b) => a + b, 0) / perSample.size;
      tr += `<td class="num" data-side="${g.side}" data-key="${esc(k)}" data-chance="1" title="mean over ${perSample.size} samples">${fmt(mean)}</td>`;
    }
    tr += '<td class="num na"></td>';
  }
  return any ? `${tr}</tr>` : undefined;
}

/**
 * Methods x metric outputs (grouped by side), mean [95% CI], at each method's main point;
 * best per column marked; direction, mode and substrate in the header; runtime last.
 */
function mainTable(ctx: Ctx, rowsFor: { method: string; point: string }[], id: string): string {
  const groups = ctx.sides.map((side) => ({ side, keys: keysOf(ctx, side) }));
  const samplesOf = (method: string, side: Side, point: string): number =>
    new Set(ctx.run.records.filter((r) => r.method === method && r.side === side && r.point === point).map((r) => r.sampleId)).size;
  let h1 = '<tr><th rowspan="3" class="rowhead">method</th>';
  let h2 = '<tr>';
  let h3 = '<tr>';
  for (const g of groups) {
    h1 += `<th colspan="${g.keys.length + 1}" class="side">${esc(g.side)} side</th>`;
    const byMetric: { metric: string; outputs: string[] }[] = [];
    for (const k of g.keys) {
      const i = k.indexOf('.');
      const metric = i < 0 ? k : k.slice(0, i);
      const last = byMetric.at(-1);
      if (last && last.metric === metric) last.outputs.push(k);
      else byMetric.push({ metric, outputs: [k] });
    }
    for (const bm of byMetric) {
      const note = metricNote(ctx.metrics.get(bm.metric));
      h2 += `<th colspan="${bm.outputs.length}" class="metric">${esc(bm.metric)}${note ? `<div class="note">${esc(note)}</div>` : ''}</th>`;
      for (const k of bm.outputs) {
        const r = ctx.summary.rows.find((x) => x.key === k);
        const hib = r?.higherIsBetter ?? null;
        const out = k.slice(bm.metric.length + 1) || k;
        h3 += `<th class="output" title="${hib === null ? 'direction not declared' : hib ? 'higher is better' : 'lower is better'}">${esc(out)} <span class="arrow">${arrow(hib)}</span></th>`;
      }
    }
    h2 += `<th rowspan="2" class="metric">runtime<div class="note">ms per pair</div><span class="arrow">↓</span></th>`;
  }
  h1 += '</tr>';
  h2 += '</tr>';
  h3 += '</tr>';

  const body: string[] = rowsFor.map(({ method, point }) => {
    let tr = `<tr><th scope="row" class="rowhead">${esc(method)}${point !== 'default' ? `<div class="note">${esc(pointLabel(point))}</div>` : ''}</th>`;
    for (const g of groups) {
      const samples = samplesOf(method, g.side, point);
      for (const k of g.keys) {
        const col = rowsFor.map((x) => rowOf(ctx, x.method, g.side, x.point, k));
        const hib = col.find((c) => c)?.higherIsBetter ?? null;
        const best = bestOf(col.map((c) => (c && c.n > 0 ? c.mean : undefined)), hib);
        const idx = rowsFor.findIndex((x) => x.method === method && x.point === point);
        tr += cell(rowOf(ctx, method, g.side, point, k), `data-method="${esc(method)}" data-point="${esc(point)}" data-side="${g.side}" data-key="${esc(k)}"`, best.has(idx), samples);
      }
      const rcol = rowsFor.map((x) => runtimeOf(ctx, x.method, g.side, x.point));
      const rbest = bestOf(rcol.map((c) => (c && c.n > 0 ? c.mean : undefined)), false);
      const idx = rowsFor.findIndex((x) => x.method === method && x.point === point);
      tr += cell(runtimeOf(ctx, method, g.side, point), `data-method="${esc(method)}" data-point="${esc(point)}" data-side="${g.side}" data-key="runtime.ms"`, rbest.has(idx), samples);
    }
    return `${tr}</tr>`;
  });
  const chance = chanceRow(ctx, groups);
  if (chance) body.push(chance);
  return `<div class="scroll"><table class="results" id="${id}"><thead>${h1}${h2}${h3}</thead><tbody>${body.join('')}</tbody></table></div>`;
}

function metricLegend(ctx: Ctx): string {
  const used = new Set(ctx.summary.rows.map((r) => r.metric));
  for (const d of ctx.run.datasetMetrics) used.add(d.metric);
  const items = [...ctx.metrics.values()]
    .filter((m) => used.has(m.name))
    .map((m) => {
      const outs = Object.entries(m.outputs ?? {})
        .map(([o, hib]) => `${esc(o)} ${arrow(hib)}`)
        .join(', ');
      const params = m.params && Object.keys(m.params).length ? `; params <code>${esc(JSON.stringify(m.params))}</code>` : '';
      return `<li><b>${esc(m.name)}</b> (${esc(m.kind ?? 'pair')}): ${outs}${m.mode ? `; mode <b>${esc(m.mode)}</b>` : ''}${m.substrate ? `; substrate: ${esc(m.substrate)}` : ''}${params}</li>`;
    });
  return items.length ? `<ul class="legend">${items.join('')}</ul>` : '';
}

/** What a method declares a reader must know beside its numbers (run.json methods[].note). */
const noteOf = (ctx: Ctx, method: string): string | undefined => ctx.run.info.methods?.find((m) => m.name === method)?.note;
const methodNote = (ctx: Ctx, method: string): string => {
  const note = noteOf(ctx, method);
  return note ? `<p class="note method-note">${esc(method)}: ${esc(note)}.</p>` : '';
};

function header(ctx: Ctx, now: Date): string {
  const { info } = ctx.run;
  const f = countFailures(ctx.run.errors);
  const dl: [string, string][] = [];
  const m = info.model;
  if (m) {
    const v = m.vision ?? {};
    const t = m.text ?? {};
    const geom = [
      v.imageSize !== undefined ? `vision ${v.imageSize}px, patch ${v.patchSize ?? '?'}, width ${v.hiddenSize ?? '?'}, ${v.numLayers ?? '?'} layers` : '',
      t.numLayers !== undefined ? `text width ${t.hiddenSize ?? '?'}, ${t.numLayers} layers` : '',
    ]
      .filter(Boolean)
      .join('; ');
    const quirks = Array.isArray(m.quirks) && m.quirks.length ? `<div class="warn">run with parity quirks: ${esc(m.quirks.join('; '))}</div>` : '';
    dl.push(['model', `${esc(m.path ?? '?')}${m.layout ? ` (${esc(m.layout)} layout)` : ''}${geom ? `<div class="muted">${esc(geom)}</div>` : ''}${quirks}`]);
  }
  const d = info.dataset;
  if (d) dl.push(['data set', `${esc(d.name ?? '?')}${d.kind ? ` (${esc(d.kind)})` : ''}, split <b>${esc(d.split ?? '?')}</b>${d.path ? `<div class="muted">${esc(d.path)}</div>` : ''}`]);
  const samples = ctx.summary.samples;
  dl.push(['samples', `${samples} with results${d?.samples !== undefined ? ` (of ${esc(d.samples)} in the plan)` : ''}`]);
  dl.push([
    'failures',
    f.records === 0
      ? '0'
      : `<b>${f.total}</b> (${f.samples} distinct failed sample${f.samples === 1 ? '' : 's'} + ${f.other} error${f.other === 1 ? '' : 's'} not tied to a sample; ${f.records} error record${f.records === 1 ? '' : 's'}) — <a href="#failures">details</a>`,
  ]);
  const b = info.backend;
  const recBackends = [...new Set(ctx.run.records.map((r) => r.backend).filter((x): x is string => !!x))];
  dl.push(['backend', `${esc(b?.name ?? recBackends.join(', ') ?? '?')}${b?.requested ? ` (requested ${esc(b.requested)})` : ''}${recBackends.length > 1 ? ` — records from several backends: ${esc(recBackends.join(', '))}` : ''}`]);
  const hw = info.hardware;
  if (hw) {
    dl.push([
      'hardware',
      esc(
        [hw.cpu, hw.cores !== undefined ? `${hw.cores} cores` : '', hw.memGiB !== undefined ? `${hw.memGiB} GiB` : '', hw.gpu ? `GPU ${hw.gpu}` : '', hw.platform, hw.node ? `Node ${hw.node}` : '']
          .filter(Boolean)
          .join(' · '),
      ),
    ]);
  }
  dl.push(['seed', esc(info.seed ?? '—')]);
  dl.push(['version', esc(info.version ?? '—')]);
  dl.push(['started', esc(info.startedAt ?? '—')]);
  dl.push(['finished', info.finishedAt ? esc(info.finishedAt) : '<b class="warn">still running (no finishedAt)</b>']);
  if (ctx.run.dirs.length > 1 || (info.shard && info.shard.count > 1)) dl.push(['shards', `${ctx.run.dirs.length} folder(s) merged${ctx.run.duplicates ? `, ${ctx.run.duplicates} duplicate record(s) dropped` : ''}`]);
  dl.push(['report written', esc(now.toISOString())]);
  if (info.configPath) dl.push(['config file', esc(info.configPath)]);
  const config = ctx.run.configYaml ?? (info.config !== undefined ? JSON.stringify(info.config, null, 2) : undefined);
  return `<header><h1>CLIP explanation benchmark — ${esc(info.runId)}</h1>
<dl class="meta">${dl.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>
${config !== undefined ? `<details><summary>resolved config</summary><pre>${esc(config)}</pre></details>` : ''}
${ctx.run.warnings.length ? `<details class="warnings"><summary>${ctx.run.warnings.length} reader warning(s)</summary><ul>${ctx.run.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></details>` : ''}
</header>`;
}

/** Option values of one method's points, from run.json or else from the records. */
function optionsOf(ctx: Ctx, method: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const p of ctx.run.info.methods?.find((m) => m.name === method)?.points ?? []) out.set(p.key, p.options ?? {});
  for (const r of ctx.run.records) if (r.method === method && !out.has(r.point) && r.options) out.set(r.point, r.options);
  return out;
}

/** Sweep section: every point in a table, and line charts of each metric against each numeric option that varies. */
async function sweeps(ctx: Ctx): Promise<{ html: string; charts: number }> {
  let html = '';
  let charts = 0;
  for (const method of ctx.methods) {
    const pts = (ctx.points.get(method) ?? []).filter((p) => ctx.run.records.some((r) => r.method === method && r.point === p));
    if (pts.length < 2) continue;
    html += `<h3>${esc(method)}: ${pts.length} sweep points</h3>`;
    html += methodNote(ctx, method);
    html += mainTable(ctx, pts.map((p) => ({ method, point: p })), `sweep-${esc(method)}`);
    const opts = optionsOf(ctx, method);
    const names = [...new Set([...opts.values()].flatMap((o) => Object.keys(o)))];
    const varying = names.filter((n) => {
      const vals = pts.map((p) => opts.get(p)?.[n]);
      return vals.every((v) => typeof v === 'number') && new Set(vals).size > 1;
    });
    const nonNumericVarying = names.filter((n) => !varying.includes(n) && new Set(pts.map((p) => JSON.stringify(opts.get(p)?.[n]))).size > 1);
    for (const opt of varying) {
      for (const side of ctx.sides) {
        const keys = keysOf(ctx, side).filter((k) => pts.some((p) => rowOf(ctx, method, side, p, k)));
        if (keys.length === 0) continue;
        const series = (p: string): string => {
          const o = opts.get(p) ?? {};
          const rest = [...varying.filter((v) => v !== opt), ...nonNumericVarying].map((v) => `${v}=${JSON.stringify(o[v])}`);
          return rest.length ? rest.join(', ') : method;
        };
        const data: (LineDatum & { key: string })[] = [];
        for (const k of keys) {
          for (const p of pts) {
            const r = rowOf(ctx, method, side, p, k);
            if (r && r.n > 0) data.push({ key: `${k} ${arrow(r.higherIsBetter)}`, x: opts.get(p)?.[opt] as number, y: r.mean, lo: r.lo, hi: r.hi, series: series(p) });
          }
        }
        const xs = data.map((d) => d.x);
        const log = xs.every((x) => x > 0) && Math.max(...xs) / Math.min(...xs) >= 20;
        const base = lineSpec(opt, 'mean (95% CI)', data, { points: true, xScale: log ? 'log' : 'linear' }) as unknown as Record<string, unknown>;
        const spec = {
          data: base.data,
          facet: { field: 'key', type: 'nominal', title: null, sort: null },
          columns: 3,
          spec: { width: 220, height: 140, layer: base.layer },
          resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
        };
        const others = varying.length + nonNumericVarying.length > 1 ? 'one line per setting of the other swept options' : 'the other options fixed';
        const sub = `mean and 95% CI per sweep point; ${others}${log ? '; log scale' : ''}${noteOf(ctx, method)?.includes(opt) ? ` · ${noteOf(ctx, method)}` : ''}`;
        html += chartFigure('sweep-chart', `${method} (${side}): metrics against ${opt}`, sub, await renderSvg(spec as never));
        charts++;
      }
    }
  }
  return { html, charts };
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

/** The rows the charts compare: each method at its main point. */
const mainRows = (ctx: Ctx): { method: string; point: string }[] => ctx.methods.map((m) => ({ method: m, point: ctx.main.get(m) ?? 'default' }));
const label = (m: string, p: string): string => (p === 'default' ? m : `${m} (${pointLabel(p)})`);
const direction = (hib: boolean | null | undefined): string => (hib === true ? 'higher is better' : hib === false ? 'lower is better' : 'direction not declared');

/** One bar chart per metric output and side: each method's mean with its CI. */
async function barCharts(ctx: Ctx): Promise<string[]> {
  const out: string[] = [];
  for (const side of ctx.sides) {
    for (const k of keysOf(ctx, side)) {
      const data: BarDatum[] = [];
      let hib: boolean | null = null;
      let metric = '';
      for (const { method, point } of mainRows(ctx)) {
        const r = rowOf(ctx, method, side, point, k);
        if (r && r.n > 0) {
          data.push({ label: label(method, point), mean: r.mean, lo: r.lo, hi: r.hi, n: r.n });
          hib = r.higherIsBetter;
          metric = r.metric;
        }
      }
      if (data.length === 0) continue;
      const note = metricNote(ctx.metrics.get(metric));
      out.push(chartFigure('bar-chart', `${k} ${arrow(hib)} (${side})`, `${direction(hib)}${note ? ` · ${note}` : ''} · mean, 95% CI`, await renderSvg(barSpec(k, data))));
    }
  }
  return out;
}

/** The mean curve per method of every curve a metric declares as a score (internal curves are never drawn). */
async function curveCharts(ctx: Ctx): Promise<string[]> {
  const out: string[] = [];
  for (const side of ctx.sides) {
    for (const metric of ctx.metrics.values()) {
      for (const [name, spec] of Object.entries(metric.curves ?? {})) {
        if (spec.kind !== 'score') continue;
        const k = `${metric.name}.${name}`;
        const data: LineDatum[] = [];
        for (const { method, point } of mainRows(ctx)) {
          const cs = ctx.run.records.filter((r) => r.method === method && r.point === point && r.side === side && r.curves?.[k]).map((r) => r.curves![k]);
          if (cs.length === 0) continue;
          const mc = meanCurve(cs);
          mc.x.forEach((x, i) => data.push({ x, y: mc.y[i], series: `${label(method, point)} (n=${cs.length})` }));
        }
        if (data.length === 0) continue;
        const units = side === 'image' ? 'pixels' : 'tokens';
        const x = spec.x.replace('{units}', units);
        out.push(chartFigure('curve-chart', `${k} (${side})`, `mean score curve over samples · ${direction(spec.higherIsBetter)}`, await renderSvg(lineSpec(x, spec.y, data))));
      }
    }
  }
  return out;
}

/** The table of dataset-level values (one evaluation over the split: no CI over samples). */
function datasetTable(ctx: Ctx): string {
  const dm = ctx.run.datasetMetrics;
  const keys = [...new Set(dm.flatMap((d) => Object.keys(d.values)))];
  const hibOf = (k: string): boolean | null => {
    const i = k.indexOf('.');
    const v = ctx.metrics.get(k.slice(0, i))?.outputs?.[k.slice(i + 1)];
    return typeof v === 'boolean' ? v : null;
  };
  const rows = dm.map((d) => `<tr><th scope="row">${esc(d.method)}</th><td>${esc(d.side)}</td><td>${esc(pointLabel(d.point))}</td>${keys.map((k) => `<td class="num">${k in d.values ? fmt(d.values[k]) : ''}</td>`).join('')}<td class="num">${esc(d.n ?? '—')}</td></tr>`);
  return `<div class="scroll"><table class="results dataset"><thead><tr><th>method</th><th>side</th><th>point</th>${keys.map((k) => `<th>${esc(k)} <span class="arrow">${arrow(hibOf(k))}</span></th>`).join('')}<th>n</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>
<p class="note">Dataset-level metrics are one evaluation over the split (n = images evaluated), so they carry no confidence interval over samples.</p>`;
}

/** One chart per dataset metric and side, with the axes and baseline the metric declares. */
async function datasetCharts(ctx: Ctx): Promise<string[]> {
  const groups = new Map<string, Run['datasetMetrics']>();
  for (const d of ctx.run.datasetMetrics) {
    if (!d.curve) continue;
    const g = `${d.metric}\u0000${d.side}`;
    groups.set(g, [...(groups.get(g) ?? []), d]);
  }
  const out: string[] = [];
  for (const [g, recs] of groups) {
    const [metric, side] = g.split('\u0000');
    const spec = ctx.metrics.get(metric)?.curve;
    const baselineName = spec?.baseline ?? 'baseline';
    const data: LineDatum[] = [];
    for (const d of recs) d.curve!.x.forEach((x, i) => data.push({ x, y: d.curve!.y[i], series: label(d.method, d.point) }));
    const baselines = recs.filter((d) => d.curve!.baseline);
    const same = baselines.every((d) => JSON.stringify([d.curve!.x, d.curve!.baseline]) === JSON.stringify([baselines[0].curve!.x, baselines[0].curve!.baseline]));
    for (const d of same ? baselines.slice(0, 1) : baselines) {
      d.curve!.x.forEach((x, i) => data.push({ x, y: d.curve!.baseline![i], series: same ? `${baselineName} baseline` : `${baselineName} baseline (${label(d.method, d.point)})`, dashed: true }));
    }
    out.push(chartFigure('dataset-chart', `${metric} (${side})`, spec?.note ?? '', await renderSvg(lineSpec(spec?.x ?? 'x', spec?.y ?? 'y', data, { points: true }))));
  }
  return out;
}

/** Wall time of one explanation per method and side. */
async function runtimeChart(ctx: Ctx): Promise<string> {
  const rdata: BarDatum[] = [];
  for (const { method, point } of mainRows(ctx)) {
    for (const side of ctx.sides) {
      const r = runtimeOf(ctx, method, side, point);
      if (r && r.n > 0) rdata.push({ label: `${side}: ${label(method, point)}`, mean: r.mean, lo: r.lo, hi: r.hi, n: r.n });
    }
  }
  if (!rdata.length) return '';
  const b = ctx.run.info.backend?.name ?? '?';
  const hw = ctx.run.info.hardware;
  return chartFigure('runtime-chart', 'runtime per pair ↓', `wall time of one explanation, ms · backend ${b}${hw?.cpu ? ` · ${hw.cpu}` : ''}${hw?.gpu ? ` · ${hw.gpu}` : ''} · mean, 95% CI`, await renderSvg(barSpec('ms per pair', rdata)));
}

async function charts(ctx: Ctx): Promise<{ bars: string; curves: string; dataset: string; runtime: string }> {
  const dataset = ctx.run.datasetMetrics.length ? datasetTable(ctx) + (await datasetCharts(ctx)).join('') : '';
  return { bars: (await barCharts(ctx)).join(''), curves: (await curveCharts(ctx)).join(''), dataset, runtime: await runtimeChart(ctx) };
}

function failures(ctx: Ctx): string {
  const errs = ctx.run.errors;
  if (errs.length === 0) return '<p>No failures.</p>';
  const byStage = new Map<string, number>();
  for (const e of errs) byStage.set(e.stage, (byStage.get(e.stage) ?? 0) + 1);
  const f = countFailures(errs);
  const where = (e: (typeof errs)[number]): string => [e.file, e.row !== undefined ? `row ${e.row}` : '', e.column !== undefined ? `column ${e.column}` : ''].filter(Boolean).join(', ');
  const what = (e: (typeof errs)[number]): string => [e.method, e.side, e.point && e.point !== 'default' ? e.point : '', e.metric].filter(Boolean).join(' · ');
  return `<p>${f.records} error record(s): ${[...byStage].map(([s, n]) => `${esc(s)} ${n}`).join(', ')}. The header counts ${f.total}: ${f.samples} distinct failed sample(s) + ${f.other} error(s) not tied to a sample.</p>
<div class="scroll"><table class="failures"><thead><tr><th>stage</th><th>sample</th><th>where</th><th>method · side · point · metric</th><th>reason</th></tr></thead><tbody>${errs
    .map((e) => `<tr><td>${esc(e.stage)}</td><td>${esc(e.sampleId ?? '')}</td><td>${esc(where(e))}</td><td>${esc(what(e))}</td><td class="reason">${esc(e.reason)}</td></tr>`)
    .join('')}</tbody></table></div>`;
}

const CSS = `
:root{--fg:#1b1b1b;--muted:#666;--line:#d8d8d8;--best:#e6f4ea}
*{box-sizing:border-box}
tr.chance td,tr.chance th{font-style:italic;color:var(--muted);border-top:2px solid var(--line)}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);margin:0 auto;padding:16px 24px;max-width:1400px}
h1{font-size:20px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0 0 8px}dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
.muted,.note{color:var(--muted);font-size:12px}.warn{color:#a40000}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid var(--line);padding:3px 7px;vertical-align:top}
thead th{background:#f6f6f6;font-weight:600;text-align:center}th.rowhead{text-align:left;white-space:nowrap}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}td.na{color:#aaa;text-align:center}
td.best{background:var(--best);font-weight:600}.star{color:#1a7f37}.ci{color:#555;font-weight:400}.n{color:#a15c00;font-size:11px}
.arrow{font-weight:700}.metric .note{font-weight:400}
.scroll{overflow-x:auto}
.charts{display:flex;flex-wrap:wrap;gap:14px}figure.chart{margin:0;border:1px solid #eee;padding:6px;max-width:100%}figure.chart figcaption{font-size:13px;max-width:420px;margin-bottom:4px}figure.chart svg{display:block;max-width:100%;height:auto}
table.gallery td{text-align:center}table.gallery figure{margin:0}.gimg{width:160px;height:auto;image-rendering:pixelated;display:block;margin:0 auto}
table.gallery figcaption{max-width:190px;margin:4px auto 0;font-size:12px;line-height:1.7}.tok{padding:1px 2px;border-radius:2px}
.gsample{max-width:180px;font-weight:400;text-align:left}.gsample .caption{font-style:italic}.nomap{width:160px;height:60px;color:#aaa}
td.reason{white-space:pre-wrap;max-width:640px}code,pre{font-size:12px}pre{background:#f7f7f7;padding:8px;overflow:auto;max-height:420px}
ul.legend{font-size:12px;margin:4px 0;padding-left:18px}
@media print{body{max-width:none;padding:0}.scroll{overflow:visible}details{display:block}figure.chart,tr{break-inside:avoid}h2{break-after:avoid}}
`;

/** The whole report as one HTML string (no script, no external resource). */
export async function renderReport(run: Run, opts: RenderOptions = {}): Promise<string> {
  const ctx = buildCtx(run, opts);
  const now = opts.now ?? new Date();
  const notes = ctx.methods.map((m) => methodNote(ctx, m)).join('');
  const ch = await charts(ctx);
  const sw = await sweeps(ctx);
  const columns = ctx.methods.map((m) => ({ method: m, point: ctx.main.get(m) ?? 'default' }));
  const gallery = await renderGallery(run.gallery, columns, opts.galleryLimit ?? 4);
  const multi = ctx.methods.filter((m) => (ctx.points.get(m) ?? []).filter((p) => run.records.some((r) => r.method === m && r.point === p)).length > 1);
  const body = `
${header(ctx, now)}
<main>
<section id="summary"><h2>Methods × metrics</h2>
<p class="note">Each cell: mean over samples [95% percentile-bootstrap CI, seed ${esc(opts.seed ?? run.info.seed ?? 0)}]; ★ and green = best in the column (ties all marked; only where two or more rows have a value); ↑ higher is better, ↓ lower is better.${multi.length ? ` ${esc(multi.join(', '))}: ${multi.length === 1 ? 'its' : 'their'} first sweep point here, all points under “Sweeps”.` : ''}</p>
${ctx.summary.rows.length ? mainTable(ctx, columns, 'main-table') : '<p class="warn">No result records yet.</p>'}
${metricLegend(ctx)}
${notes}
</section>
${comparisonSection(run, ctx.summary)}
<section id="charts"><h2>Metrics across methods</h2><div class="charts">${ch.bars}</div></section>
${sw.html ? `<section id="sweeps"><h2>Sweeps</h2>${sw.html}</section>` : ''}
${ch.curves ? `<section id="curves"><h2>Curves</h2><div class="charts">${ch.curves}</div></section>` : ''}
${ch.dataset ? `<section id="dataset"><h2>Dataset-level metrics</h2>${ch.dataset.replace(/(<figure[\s\S]*<\/figure>)/, '<div class="charts">$1</div>')}</section>` : ''}
${ch.runtime ? `<section id="runtime"><h2>Runtime</h2><div class="charts">${ch.runtime}</div></section>` : ''}
<section id="gallery"><h2>Gallery</h2>
<p class="note">Heat maps (jet, blended at 50%) over the model input${run.gallery.some((g) => g.boxes.length) ? '; white/black outlines: ground-truth boxes' : ''}; caption tokens shaded by each method's text scores (orange, opacity = score).</p>
${gallery}</section>
<section id="failures"><h2>Failures</h2>${failures(ctx)}</section>
</main>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`Report — ${run.info.runId}`)}</title>
<style>${CSS}</style></head>
<body>${body}</body></html>
`;
}

/**
 * Read one run folder or several shards and write report.html: by default into the folder
 * given, or, for several folders that share a parent (shards), into that parent.
 */
export async function writeReport(dirs: string[], opts: RenderOptions & { out?: string; run?: Run } = {}): Promise<string> {
  const run = opts.run ?? readRuns(dirs);
  const html = await renderReport(run, opts);
  let out = opts.out;
  if (!out) {
    const abs = dirs.map((d) => resolve(d));
    const parents = new Set(abs.map((d) => dirname(d)));
    out = abs.length > 1 && parents.size === 1 ? join([...parents][0], FILES.report) : join(abs[0], FILES.report);
  }
  writeFileSync(out, html);
  return out;
}
