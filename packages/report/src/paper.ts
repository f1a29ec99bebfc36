/**
 * The paper-style table of one side, as data: methods as rows (each at its selected point),
 * headline metric outputs as columns, each cell its mean, CI and significance marks. The HTML
 * overview, the Markdown and LaTeX exports and the terminal table all print this one table.
 */
import { splitKey, type RuntimeRow, type SummaryRow } from '@ceb/results';
import type { Side } from '@ceb/types';
import { methodTitle } from './format';
import { directionOf, familyOf, headlineOf, markOf, rowOf, runtimeOf, type Mark, type ReportModel } from './model';

export interface PaperColumn {
  key: string;
  metric: string;
  output: string;
  higherIsBetter: boolean | null;
  /** The metric's protocol (run.json `mode`). */
  mode?: string;
  unit?: string;
}

export interface PaperCell {
  row?: SummaryRow;
  mark: Mark;
}

export interface PaperRow {
  method: string;
  point: string;
  title: string;
  /** How many points the method has on this side (the row shows its selected one). */
  points: number;
  cells: PaperCell[];
  runtime?: RuntimeRow;
}

export interface PaperTable {
  side: Side;
  columns: PaperColumn[];
  rows: PaperRow[];
  /** Per column, the mean per-sample chance level the records carry (undefined when none). */
  chance: (number | undefined)[];
  /** Samples with a record on this side. */
  samples: number;
}

/** Per output key, the mean over samples of the per-sample chance level (one value per sample). */
function chanceLevels(m: ReportModel, side: Side, keys: string[]): (number | undefined)[] {
  return keys.map((k) => {
    const perSample = new Map<string, number>();
    for (const r of m.run.records) {
      const v = r.side === side ? r.chance?.[k] : undefined;
      if (typeof v === 'number' && Number.isFinite(v) && !perSample.has(r.sampleId)) perSample.set(r.sampleId, v);
    }
    return perSample.size ? [...perSample.values()].reduce((a, b) => a + b, 0) / perSample.size : undefined;
  });
}

export function paperTable(m: ReportModel, side: Side, keys: string[] = headlineOf(m, side)): PaperTable {
  const columns = keys.map((key) => {
    const { metric, output } = splitKey(key);
    const info = m.metrics.get(metric);
    return { key, metric, output, higherIsBetter: directionOf(m, key), ...(info?.mode ? { mode: info.mode } : {}), ...(info?.units?.[output] ? { unit: info.units[output] } : {}) };
  });
  const families = keys.map((k) => familyOf(m, side, k));
  const rows = m.selected[side].map(({ method, point }) => ({
    method,
    point,
    title: methodTitle(method, point),
    points: m.points[side].get(method)?.length ?? 1,
    cells: keys.map((k, j) => ({ row: rowOf(m, method, side, point, k), mark: markOf(families[j], method, point) })),
    runtime: runtimeOf(m, method, side, point),
  }));
  const samples = new Set(m.run.records.filter((r) => r.side === side).map((r) => r.sampleId)).size;
  return { side, columns, rows, chance: chanceLevels(m, side, keys), samples };
}

/** The metrics of a table's columns in order, each with how many columns it spans. */
export function metricGroups(t: PaperTable): { metric: string; mode?: string; span: number }[] {
  const out: { metric: string; mode?: string; span: number }[] = [];
  for (const c of t.columns) {
    const last = out.at(-1);
    if (last && last.metric === c.metric) last.span++;
    else out.push({ metric: c.metric, ...(c.mode ? { mode: c.mode } : {}), span: 1 });
  }
  return out;
}

/** The sentence every export puts under its tables: how to read the marks. */
export function marksLegend(alpha: number, style: { best: string; tied: string; chance: string }): string {
  return `${style.best}: best mean in the column; ${style.tied}: not significantly different from the best (paired test on the samples both have — Wilcoxon signed-rank, or exact McNemar for 0/1 outcomes — Holm-corrected over the column, α = ${alpha}); ${style.chance}: not significantly different from the chance level.`;
}
