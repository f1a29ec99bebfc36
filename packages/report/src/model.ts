/**
 * What every part of the report (HTML, Markdown, LaTeX, CSV) reads, worked out once: the run,
 * its summary with the paired comparisons and ranks, the methods and their points per side,
 * and each method's selected point.
 */
import { headlineKeys, pointsBySide, splitKey, summarize, type ComparisonFamily, type FamilyRow, type MetricInfo, type Run, type RunSummary, type RuntimeRow, type SideRanking, type Summary, type SummaryRow } from '@ceb/results';
import { SIDES, type Side } from '@ceb/types';

export interface ModelOptions {
  /** Bootstrap seed (default: the run's seed, else 0). */
  seed?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** The run's summary when the caller has computed it already (the bench has); else computed here. */
  summary?: Summary;
}

export interface ReportModel {
  run: Run;
  summary: RunSummary;
  seed: number;
  metrics: Map<string, MetricInfo>;
  /** Methods in run.json's order, then any the records add. */
  methods: string[];
  sides: Side[];
  /** Per side: method -> its points with records, in order. */
  points: Record<Side, Map<string, string[]>>;
  /** Per side: the methods in order, each at its selected point. */
  selected: Record<Side, { method: string; point: string }[]>;
}

/** Reuse a summary that carries comparisons; otherwise compute it (with them). */
function fullSummary(run: Run, opts: ModelOptions, seed: number): RunSummary {
  const given = opts.summary as RunSummary | undefined;
  if (given?.comparisons && given.ranks && given.selected) return given;
  const s = summarize(run.records, run.info.metrics, { seed, resamples: opts.resamples, runId: run.info.runId, methods: run.info.methods });
  return given ? { ...given, selected: s.selected, comparisons: s.comparisons, ranks: s.ranks } : s;
}

export function buildModel(run: Run, opts: ModelOptions = {}): ReportModel {
  const seed = opts.seed ?? run.info.seed ?? 0;
  const summary = fullSummary(run, opts, seed);
  const metrics = new Map((run.info.metrics ?? []).map((m) => [m.name, m]));
  const methods = [...new Set([...(run.info.methods ?? []).map((m) => m.name), ...run.records.map((r) => r.method)])];
  const sides = SIDES.filter((s) => run.records.some((r) => r.side === s));
  const points = { image: pointsBySide(run.records, run.info.methods, 'image'), text: pointsBySide(run.records, run.info.methods, 'text') };
  const selected = { image: [], text: [] } as ReportModel['selected'];
  for (const side of SIDES) {
    for (const m of methods) {
      const s = summary.selected?.find((x) => x.side === side && x.method === m);
      const p = s?.point ?? points[side].get(m)?.[0];
      if (p !== undefined) selected[side].push({ method: m, point: p });
    }
  }
  return { run, summary, seed, metrics, methods, sides, points, selected };
}

/** Metric-output keys of one side, in run.json's metric and output order, then any others. */
export function keysOf(m: ReportModel, side: Side): string[] {
  const present = new Set(m.summary.rows.filter((r) => r.side === side).map((r) => r.key));
  const ordered: string[] = [];
  for (const info of m.metrics.values()) for (const o of Object.keys(info.outputs ?? {})) if (present.has(`${info.name}.${o}`)) ordered.push(`${info.name}.${o}`);
  for (const k of present) if (!ordered.includes(k)) ordered.push(k);
  return ordered;
}

/** The outputs the compact tables and charts show on a side (each metric's headline outputs). */
export function headlineOf(m: ReportModel, side: Side): string[] {
  return headlineKeys([...m.metrics.values()], new Set(keysOf(m, side)));
}

export function rowOf(m: ReportModel, method: string, side: Side, point: string, key: string): SummaryRow | undefined {
  return m.summary.rows.find((r) => r.method === method && r.side === side && r.point === point && r.key === key);
}

export function runtimeOf(m: ReportModel, method: string, side: Side, point: string): RuntimeRow | undefined {
  return m.summary.runtime.find((r) => r.method === method && r.side === side && r.point === point);
}

export function familyOf(m: ReportModel, side: Side, key: string, method?: string): ComparisonFamily | undefined {
  return m.summary.comparisons?.find((f) => f.side === side && f.key === key && (method === undefined ? f.family === 'methods' : f.family === 'sweep' && f.method === method));
}

export function rankingOf(m: ReportModel, side: Side): SideRanking | undefined {
  return m.summary.ranks?.find((r) => r.side === side);
}

/** What a cell shows beside its number: best, not significantly different from the best, or neither; and the chance test. */
export interface Mark {
  best: boolean;
  tied: boolean;
  /** Tested against its chance level and not significantly different from it. */
  atChance: boolean;
  row?: FamilyRow;
  family?: ComparisonFamily;
}

export function markOf(f: ComparisonFamily | undefined, method: string, point: string): Mark {
  const row = f?.rows.find((r) => r.method === method && r.point === point);
  return { best: !!row?.best, tied: !!row && !row.best && row.tiedWithBest, atChance: !!row?.vsChance && !row.vsChance.significant, row, family: f };
}

/** Where a cell stands against the column's best: the table's class and the overview's colour. */
export type MarkLevel = 'best' | 'tied' | 'worse' | 'untested';

export function markLevel(mark: Mark): MarkLevel {
  return mark.best ? 'best' : mark.tied ? 'tied' : mark.row?.vsBest ? 'worse' : 'untested';
}

/** The direction of an output, as run.json declares it. */
export function directionOf(m: ReportModel, key: string): boolean | null {
  const { metric, output } = splitKey(key);
  const v = m.metrics.get(metric)?.outputs?.[output];
  return typeof v === 'boolean' ? v : null;
}

/**
 * Outputs of one metric that are one quantity at several thresholds (`iou@0.1` … `iou@0.9`):
 * 3 or more keys `<metric>.<name>@<number>`; each family is drawn as one chart.
 */
export function thresholdFamilies(keys: string[]): { metric: string; name: string; keys: { key: string; t: number }[] }[] {
  const groups = new Map<string, { metric: string; name: string; keys: { key: string; t: number }[] }>();
  for (const key of keys) {
    const m = /^([^.]+)\.(.+)@(-?\d*\.?\d+)$/.exec(key);
    if (!m) continue;
    const id = `${m[1]}.${m[2]}`;
    const g = groups.get(id) ?? { metric: m[1], name: m[2], keys: [] };
    g.keys.push({ key, t: Number(m[3]) });
    groups.set(id, g);
  }
  return [...groups.values()].filter((g) => g.keys.length >= 3).map((g) => ({ ...g, keys: g.keys.sort((a, b) => a.t - b.t) }));
}
