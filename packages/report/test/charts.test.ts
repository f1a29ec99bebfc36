// Line charts read as a co-author reads them: one colour per series, integer ticks for an integer axis.
import { describe, expect, it } from 'vitest';
import { lineSpec, renderSvg, type LineDatum } from '../src/charts';

/** The stroke colour of every line the SVG draws (vega puts each series in a group of its own). */
function lineColours(svg: string): string[] {
  return [...svg.matchAll(/<g class="mark-line role-mark[^>]*>([\s\S]*?)<\/g>/g)].map((m) => /stroke="(#[0-9a-f]{6})"/.exec(m[1])?.[1] ?? '');
}

/** The x axis's tick labels. */
function xTickLabels(svg: string): string[] {
  const axis = svg.slice(svg.indexOf('X-axis titled'));
  const labels = axis.slice(axis.indexOf('role-axis-label'), axis.indexOf('role-axis-domain'));
  return [...labels.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

const series = (n: number, xs: number[]): LineDatum[] => Array.from({ length: n }, (_, s) => xs.map((x) => ({ x, y: s + x, series: `method ${s}` }))).flat();

describe('line charts', () => {
  it('give each of 18 series its own colour (the default palette has 10)', async () => {
    const colours = lineColours(await renderSvg(lineSpec('threshold', 'mean iou', series(18, [0.1, 0.5, 0.9]))));
    expect(colours).toHaveLength(18);
    expect(new Set(colours).size).toBe(18);
  });

  it('label an integer x (blocks randomised 1–2) with integers only, a fractional x with its fractions', async () => {
    const integer = xTickLabels(await renderSvg(lineSpec('blocks randomised', 'rank correlation', series(3, [1, 2]))));
    expect(integer).toEqual(['1', '2']);
    const fractional = xTickLabels(await renderSvg(lineSpec('fraction removed', 'accuracy', series(3, [0.1, 0.5, 0.9]))));
    expect(fractional.some((t) => t.includes('.'))).toBe(true);
  });
});
