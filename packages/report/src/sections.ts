/**
 * The report's sections that are not tables or charts: the header (what ran, where, with
 * what), the metric legend, the methods' notes, and the failures.
 */
import { countFailures } from '@ceb/results';
import { arrow, esc } from './format';
import type { ReportModel } from './model';

type Ctx = ReportModel;

export function metricLegend(ctx: Ctx): string {
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
export const noteOf = (ctx: Ctx, method: string): string | undefined => ctx.run.info.methods?.find((m) => m.name === method)?.note;
export const methodNote = (ctx: Ctx, method: string): string => {
  const note = noteOf(ctx, method);
  return note ? `<p class="note method-note">${esc(method)}: ${esc(note)}.</p>` : '';
};


export function header(ctx: Ctx, now: Date): string {
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


export function failures(ctx: Ctx): string {
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

