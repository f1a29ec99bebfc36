/**
 * report.html: one self-contained file (inline CSS, inline SVG charts, PNGs as data URIs, no
 * network) that answers "which method explains best, by which metric, at which setting, is
 * the difference real, at what cost". The overview comes first (paper-style tables with
 * significance marks, one chart of every method × output, the critical-difference diagrams),
 * then the sweeps, the published comparison, the collapsed details, the gallery and the
 * failures. vega's runtime is inlined for tooltips; without JavaScript the SVG stays.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FILES, readRuns, type Run } from '@ceb/results';
import type { Side } from '@ceb/types';
import { chartFigure, renderChart } from './charts';
import { barCharts, curveCharts, datasetCharts, datasetTable, runtimeChart } from './details';
import { renderCsv, renderLatex, renderMarkdown } from './export';
import { esc } from './format';
import { renderGallery } from './gallery';
import { interactiveScripts } from './interactive';
import { buildModel, headlineOf, keysOf, type ModelOptions, type ReportModel } from './model';
import { cdFigure, dotSpec, hasChanceTests, thresholdCharts } from './overview';
import { marksLegend, paperTable } from './paper';
import { comparisonSection } from './published';
import { failures, header, methodNote, metricLegend } from './sections';
import { sweepSection } from './sweep';
import { comparisonsHtml, fullTableHtml, paperTableHtml } from './tables';
import { CSS } from './style';

export interface RenderOptions extends ModelOptions {
  /** Samples in the gallery (default 4). */
  galleryLimit?: number;
  /** The report's date (default now). */
  now?: Date;
  /** Leave vega's runtime out (no tooltips; the page then has no script). */
  interactive?: boolean;
}

const sideTitle = (s: Side): string => (s === 'image' ? 'Image side' : 'Text side');

/** One side of the overview: the paper table, the dot + CI chart, the threshold charts, the CD diagram. */
async function overviewSide(m: ReportModel, side: Side): Promise<string> {
  const t = paperTable(m, side);
  const dots = t.rows.length && t.columns.length ? chartFigure('overview-chart', `Every method × headline output (${side} side)`, 'dot: mean; line: 95% CI; colour: the significance marks of the table', await renderChart(dotSpec(t))) : '';
  const thresholds = (await thresholdCharts(m, side, keysOf(m, side))).join('');
  const chance = hasChanceTests(m, side, headlineOf(m, side)) ? ' The chance row is what a map that knows nothing scores on these samples.' : '';
  return `<h3 id="overview-${side}">${sideTitle(side)}</h3>
${paperTableHtml(t)}<p class="note">${t.samples} samples; hover a cell for its 95% CI, the paired test and its p-value.${chance}</p>
<div class="charts">${dots}${thresholds}</div>
<div class="charts">${await cdFigure(m, side)}</div>`;
}

async function overview(m: ReportModel): Promise<string> {
  if (!m.summary.rows.length) return '<section id="overview"><h2>Overview</h2><p class="warn">No result records yet.</p></section>';
  const alpha = m.summary.comparisons?.[0]?.alpha ?? 0.05;
  const swept = (m.summary.selected ?? []).filter((s) => s.points > 1);
  const sides: string[] = [];
  for (const side of m.sides) sides.push(await overviewSide(m, side));
  return `<section id="overview"><h2>Overview</h2>
<p class="note legend-marks">Each cell: mean ± half-width of the 95% percentile-bootstrap CI over samples (seed ${esc(m.seed)}); ↑ higher is better, ↓ lower is better. ${esc(marksLegend(alpha, { best: 'Bold', tied: 'underlined', chance: '°' }))}${swept.length ? ` A swept method is shown at its best point by average rank over the headline outputs among its own points (every point under “Sweeps”).` : ''}</p>
${sides.join('\n')}
${metricLegend(m)}
${m.methods.map((x) => methodNote(m, x)).join('')}
</section>`;
}

/** Everything below the overview that a reader opens on demand. */
async function details(m: ReportModel): Promise<string> {
  const charts = [...(await barCharts(m)), ...(await curveCharts(m))];
  const dataset = m.run.datasetMetrics.length ? `<h3>Dataset-level metrics</h3>${datasetTable(m)}<div class="charts grid">${(await datasetCharts(m)).join('')}</div>` : '';
  const runtime = await runtimeChart(m);
  const full = m.sides.map((side) => `<h3>${sideTitle(side)}</h3>${fullTableHtml(m, side)}`).join('');
  const comparisons = m.sides.map((side) => `<h3>${sideTitle(side)}</h3>${comparisonsHtml(m, side)}`).join('');
  return `<section id="details"><h2>Details</h2>
<details class="detail-charts"><summary>Detail charts: every output, the score curves, runtime (${charts.length + (runtime ? 1 : 0)} charts)</summary><div class="charts grid">${charts.join('')}${runtime}</div></details>
${dataset ? `<details class="dataset" open><summary>Dataset-level metrics (ROAR, sanity)</summary>${dataset}</details>` : ''}
<details class="full-tables"><summary>Every output at every sweep point: mean [95% CI]</summary>${full}</details>
<details class="comparisons"><summary>The paired comparisons behind the marks</summary>${comparisons}</details>
</section>`;
}

const GALLERY_NOTE =
  "Token colours are scaled over the caption's tokens for display only (min–max of the method's raw values where the run kept them — M2IB: capacity in nats — else of its scores); hover a token for its values. The metrics read the methods' scores unchanged.";

/** The whole report as one HTML string (no external resource). */
export async function renderReport(run: Run, opts: RenderOptions = {}): Promise<string> {
  return renderHtml(buildModel(run, opts), opts);
}

/** The page of a report model already built (writeReports builds one for every format). */
async function renderHtml(m: ReportModel, opts: RenderOptions): Promise<string> {
  const run = m.run;
  const now = opts.now ?? new Date();
  const textPoint = new Map(m.selected.text.map((s) => [s.method, s.point]));
  const columns = m.methods.map((method) => ({ method, point: m.selected.image.find((s) => s.method === method)?.point ?? textPoint.get(method) ?? 'default', textPoint: textPoint.get(method) }));
  const gallery = await renderGallery(run.gallery, columns, opts.galleryLimit ?? 4);
  const sweeps = await sweepSection(m);
  const body = `
${header(m, now)}
<main>
${await overview(m)}
${sweeps ? `<section id="sweeps"><h2>Sweeps</h2>${sweeps}</section>` : ''}
${comparisonSection(run, m.summary)}
${await details(m)}
<section id="gallery"><h2>Gallery</h2>
<p class="note">Heat maps (jet, blended at 50%) over the model input${run.gallery.some((g) => g.boxes.length) ? '; white/black outlines: ground-truth boxes' : ''}; each method at its selected point. ${GALLERY_NOTE}</p>
${gallery}</section>
<section id="failures"><h2>Failures</h2>${failures(m)}</section>
</main>`;
  // Without the runtime the specs would be dead weight: the page is then its SVGs alone, with no script.
  const page = opts.interactive === false ? body.replace(/<script type="application\/json" class="vega-spec">[^<]*<\/script>/g, '') : `${body}\n${interactiveScripts()}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`Report — ${run.info.runId}`)}</title>
<style>${CSS}</style></head>
<body>${page}
</body></html>
`;
}

export type ReportFormat = 'html' | 'markdown' | 'latex' | 'csv';
export const REPORT_FORMATS: readonly ReportFormat[] = ['html', 'markdown', 'latex', 'csv'];
const EXTENSION: Record<ReportFormat, string> = { html: '.html', markdown: '.md', latex: '.tex', csv: '.csv' };

/** "html,latex" → the formats, each checked; an unknown one is an error that lists the known ones. */
export function parseFormats(text: string): ReportFormat[] {
  const out = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const f of out) if (!REPORT_FORMATS.includes(f as ReportFormat)) throw new Error(`--format: unknown format "${f}"; expected a comma-separated list of ${REPORT_FORMATS.join(', ')}`);
  if (!out.length) throw new Error(`--format: no format given; expected a comma-separated list of ${REPORT_FORMATS.join(', ')}`);
  return [...new Set(out)] as ReportFormat[];
}

/**
 * Read one run folder or several shards and write the report in each format asked for (html by
 * default): by default into the folder given, or, for several folders that share a parent
 * (shards), into that parent; report.html's siblings are report.md, report.tex, report.csv.
 * Returns the files written, in the order of `formats`.
 */
export async function writeReports(dirs: string[], opts: RenderOptions & { out?: string; run?: Run; formats?: readonly ReportFormat[] } = {}): Promise<string[]> {
  const run = opts.run ?? readRuns(dirs);
  let out = opts.out;
  if (!out) {
    const abs = dirs.map((d) => resolve(d));
    const parents = new Set(abs.map((d) => dirname(d)));
    out = abs.length > 1 && parents.size === 1 ? join([...parents][0], FILES.report) : join(abs[0], FILES.report);
  }
  const base = out.replace(/\.html?$/i, '');
  const written: string[] = [];
  const model = buildModel(run, opts);
  for (const f of opts.formats ?? ['html']) {
    const file = f === 'html' ? out : base + EXTENSION[f];
    const text = f === 'html' ? await renderHtml(model, opts) : f === 'markdown' ? renderMarkdown(model) : f === 'latex' ? renderLatex(model) : renderCsv(model);
    writeFileSync(file, text);
    written.push(file);
  }
  return written;
}

/** report.html only (see writeReports). */
export async function writeReport(dirs: string[], opts: RenderOptions & { out?: string; run?: Run } = {}): Promise<string> {
  return (await writeReports(dirs, { ...opts, formats: ['html'] }))[0];
}
