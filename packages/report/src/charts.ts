/**
 * vega-lite charts rendered to SVG strings in Node (renderer 'none': no canvas, no DOM), so the
 * report carries them inline and opens without any script or network.
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

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
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
export function chartFigure(cls: string, title: string, subtitle: string, svg: string): string {
  return `<figure class="chart ${cls}"><figcaption><b>${escText(title)}</b>${subtitle ? `<div class="note">${escText(subtitle)}</div>` : ''}</figcaption>${svg}</figure>`;
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
          y: { field: 'mean', type: 'quantitative', title: yTitle },
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
  opts: { points?: boolean; xScale?: 'linear' | 'log' } = {},
): TopLevelSpec {
  const values = data.filter((d) => Number.isFinite(d.y) && Number.isFinite(d.x)).map((d) => ({ ...d, dashed: d.dashed ? 'dashed' : 'solid' }));
  const x = { field: 'x', type: 'quantitative' as const, title: xTitle, scale: { type: opts.xScale ?? 'linear', zero: false } };
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: null };
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
      y: { field: 'y', type: 'quantitative', title: yTitle, scale: { zero: false } },
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
  return {
    width: 300,
    height: 180,
    data: { values },
    layer: layers,
  } as TopLevelSpec;
}
