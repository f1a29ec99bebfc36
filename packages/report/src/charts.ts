/**
 * vega-lite charts rendered to SVG strings in Node (renderer 'none': no canvas, no DOM), so the
 * report carries them inline and reads without any script or network. Each figure also
 * carries its compiled vega spec, which the inlined vega runtime (interactive.ts) renders live
 * on first hover, for tooltips.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { esc as escText } from './format';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 11, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 400 },
  header: { labelFontSize: 11 },
};

/** A chart as the page carries it: the static SVG and the vega spec it was rendered from. */
export interface RenderedChart {
  svg: string;
  vega: unknown;
}

let charts = 0;

/** Ids inside an SVG (gradients, clip paths) made unique in the page: every view numbers its own from 0. */
function uniqueIds(svg: string): string {
  const prefix = `c${++charts}-`;
  return svg.replace(/(\bid="|url\(#|href="#)([^")]+)/g, (_, lead: string, id: string) => `${lead}${prefix}${id}`);
}

export async function renderChart(spec: TopLevelSpec): Promise<RenderedChart> {
  const compiled = vl.compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    // The schema URL is for editors; the page needs no address at all.
    const { $schema: _schema, ...live } = compiled;
    return { svg: uniqueIds(await view.toSVG()), vega: live };
  } finally {
    view.finalize();
  }
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  return (await renderChart(spec)).svg;
}

/** JSON safe inside a <script> element: no "</script>", no "<!--", no line separators JavaScript reads as breaks. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export interface BarDatum {
  label: string;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * A chart in the page: the title and subtitle as HTML (they wrap, and vega's text-width estimate
 * without a canvas is generous, which would pad the SVG), the SVG below.
 */
export function chartFigure(cls: string, title: string, subtitle: string, chart: RenderedChart): string {
  const live = `<script type="application/json" class="vega-spec">${scriptJson(chart.vega)}</script>`;
  return `<figure class="chart ${cls}" data-vega="1"><figcaption><b>${escText(title)}</b>${subtitle ? `<div class="note">${escText(subtitle)}</div>` : ''}</figcaption>${chart.svg}${live}</figure>`;
}

/** Bars of the mean with 95% CI whiskers, one bar per label. */
export function barSpec(yTitle: string, data: BarDatum[]): TopLevelSpec {
  const values = data.filter((d) => Number.isFinite(d.mean));
  const x = { field: 'label', type: 'nominal' as const, title: null, sort: null, axis: { labelAngle: -30, labelLimit: 400 } };
  return {
    width: Math.max(140, 46 * values.length),
    height: 170,
    data: { values },
    layer: [
      {
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', title: yTitle, axis: { format: '~r' } },
          tooltip: [{ field: 'label' }, { field: 'mean', format: '.4g' }, { field: 'lo', format: '.4g' }, { field: 'hi', format: '.4g' }, { field: 'n' }],
        },
      },
      {
        mark: { type: 'rule', color: '#222', strokeWidth: 1.5 },
        encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
      {
        mark: { type: 'tick', color: '#222', thickness: 1.5, size: 10 },
        encoding: { x, y: { field: 'lo', type: 'quantitative' } },
      },
      {
        mark: { type: 'tick', color: '#222', thickness: 1.5, size: 10 },
        encoding: { x, y: { field: 'hi', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

export interface LineDatum {
  x: number;
  y: number;
  series: string;
  lo?: number;
  hi?: number;
  /** A CI shown on hover only (no band). */
  ciLo?: number;
  ciHi?: number;
  dashed?: boolean;
}

/**
 * Lines of y against x, one per series; a CI band where lo/hi are given; series with
 * `dashed` (the random baseline) drawn dashed.
 */
export function lineSpec(
  xTitle: string,
  yTitle: string,
  data: LineDatum[],
  opts: { points?: boolean; xScale?: 'linear' | 'log'; tooltip?: boolean } = {},
): TopLevelSpec {
  const values = data.filter((d) => Number.isFinite(d.y) && Number.isFinite(d.x)).map((d) => ({ ...d, dashed: d.dashed ? 'dashed' : 'solid' }));
  // An integer x (blocks randomised) gets integer ticks; more than ten series (every method
  // of a run) would repeat the default palette's ten colours, so they get twenty.
  const integerX = values.length > 0 && values.every((d) => Number.isInteger(d.x));
  const x = { field: 'x', type: 'quantitative' as const, title: xTitle, scale: { type: opts.xScale ?? 'linear', zero: false }, axis: { format: '~r', ...(integerX ? { tickMinStep: 1 } : {}) } };
  const seriesCount = new Set(values.map((d) => d.series)).size;
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: null, legend: { symbolOpacity: 1 }, ...(seriesCount > 10 ? { scale: { scheme: 'tableau20' } } : {}) };
  const layers: unknown[] = [];
  if (values.some((d) => d.lo !== undefined && Number.isFinite(d.lo))) {
    layers.push({
      transform: [{ filter: 'isValid(datum.lo) && isValid(datum.hi)' }],
      mark: { type: 'area', opacity: 0.15 },
      encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color },
    });
  }
  layers.push({
    mark: { type: 'line', point: opts.points ?? false, strokeWidth: 2 },
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative', title: yTitle, scale: { zero: false }, axis: { format: '~r' } },
      color,
      strokeDash: {
        field: 'dashed',
        type: 'nominal',
        scale: { domain: ['solid', 'dashed'], range: [[1, 0], [6, 4]] },
        legend: null,
      },
      detail: { field: 'series' },
    },
  });
  if (opts.tooltip) {
    // Invisible hit targets over the points, carrying the values (and a CI kept out of the band as ciLo / ciHi).
    const ci = values.some((d) => d.ciLo !== undefined) ? ['ciLo', 'ciHi'] : values.some((d) => d.lo !== undefined) ? ['lo', 'hi'] : [];
    layers.push({
      mark: { type: 'point', size: 120, opacity: 0 },
      encoding: { x, y: { field: 'y', type: 'quantitative' }, tooltip: [{ field: 'series', title: 'method' }, { field: 'x', title: xTitle }, { field: 'y', title: yTitle, format: '.4g' }, ...ci.map((f, i) => ({ field: f, title: i ? 'CI high' : 'CI low', format: '.4g' }))] },
    });
  }
  return {
    width: 300,
    height: 180,
    data: { values },
    layer: layers,
  } as TopLevelSpec;
}
