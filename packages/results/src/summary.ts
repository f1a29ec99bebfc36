/**
 * The summary of a run: mean and seeded 95% percentile-bootstrap CI per method × side × point ×
 * metric output, and the runtime; what summary.json holds and the report shows.
 */
import { meanCI } from '@ceb/stats';
import { SIDES, type Side } from '@ceb/types';
import { ALPHA, compareFamily, SampleValues, type ComparisonFamily, type Contender } from './compare';
import { splitKey } from './identity';
import { rankMethods, selectPoints, type SelectedPoint, type SideRanking } from './ranks';
import type { ErrorRecord, MethodInfo, MetricInfo, ResultRecord, RuntimeRow, Summary, SummaryRow } from './types';

/**
 * Failures as every summary counts them: distinct failed samples + errors not tied to a sample.
 * Warnings (a record kept, e.g. a duplicated row kept once) are counted apart, never as failures.
 */
export function countFailures(all: ErrorRecord[]): { total: number; samples: number; other: number; records: number; warnings: number } {
  const errors = all.filter((e) => e.severity !== 'warning');
  const hasSample = (e: ErrorRecord) => typeof e.sampleId === 'string' && e.sampleId !== '';
  const ids = new Set(errors.filter(hasSample).map((e) => e.sampleId));
  const other = errors.filter((e) => !hasSample(e)).length;
  return { total: ids.size + other, samples: ids.size, other, records: errors.length, warnings: all.length - errors.length };
}

export interface SummarizeOptions {
  seed: number;
  resamples?: number;
  level?: number;
  runId?: string;
  failures?: number;
  /** run.json's methods: their order, and the order of their points (records add the rest). */
  methods?: MethodInfo[];
  /** Paired comparisons and ranks (default true). */
  compare?: boolean;
  alpha?: number;
}

/** summary.json: the means and CIs, and what answers "is the difference real?" (docs/report.md). */
export interface RunSummary extends Summary {
  /** Per method and side, the point that stands for it (its best average rank among its points). */
  selected?: SelectedPoint[];
  /** Per side and output: each method at its selected point ('methods'), and each swept method's points ('sweep'). */
  comparisons?: ComparisonFamily[];
  /** Per side: average ranks across the headline outputs, Friedman, Nemenyi's CD. */
  ranks?: SideRanking[];
}

/** Group key of (method, side, point). */
const groupKey = (r: { method: string; side: string; point: string }): string => JSON.stringify([r.method, r.side, r.point]);

/**
 * Mean and percentile-bootstrap CI per method x side x point x metric output, and per
 * method x side x point for the runtime. Values enter in sampleId order, so the numbers do not
 * depend on record order (one folder and its shards give the same summary). Pure.
 */
export function summarize(records: ResultRecord[], metricsInfo: MetricInfo[] | undefined, opts: SummarizeOptions): RunSummary {
  const ci = { seed: opts.seed, resamples: opts.resamples ?? 2000, level: opts.level ?? 0.95 };
  const info = new Map((metricsInfo ?? []).map((m) => [m.name, m]));
  const groups = new Map<string, ResultRecord[]>();
  for (const r of records) {
    const k = groupKey(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const rows: SummaryRow[] = [];
  const runtime: RuntimeRow[] = [];
  for (const recs of groups.values()) {
    recs.sort((a, b) => (a.sampleId < b.sampleId ? -1 : a.sampleId > b.sampleId ? 1 : 0));
    const { method, side, point } = recs[0];
    const keys: string[] = [];
    for (const r of recs) for (const k of Object.keys(r.values)) if (!keys.includes(k)) keys.push(k);
    for (const key of keys) {
      const vals = recs.map((r) => r.values[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      const s = meanCI(vals, ci);
      const { metric, output } = splitKey(key);
      const m = info.get(metric);
      const hib = m?.outputs?.[output];
      rows.push({
        method,
        side,
        point,
        key,
        metric,
        output,
        mean: s.mean,
        lo: s.lo,
        hi: s.hi,
        n: s.n,
        higherIsBetter: typeof hib === 'boolean' ? hib : null,
        ...(m?.substrate !== undefined ? { substrate: m.substrate } : {}),
        ...(m?.mode !== undefined ? { mode: m.mode } : {}),
      });
    }
    const ms = recs.map((r) => r.ms).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (ms.length > 0) runtime.push({ method, side, point, ...meanCI(ms, ci) });
  }
  const summary: Summary = {
    ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
    samples: new Set(records.map((r) => r.sampleId)).size,
    ...(opts.failures !== undefined ? { failures: opts.failures } : {}),
    rows,
    runtime,
  };
  return opts.compare === false ? summary : { ...summary, ...comparisons(records, metricsInfo, summary, opts) };
}

/**
 * Methods and their points per side, in run.json's order, then in the order records first show
 * them (records taken in sampleId order, so shards merged in any order give the same answer).
 */
export function pointsBySide(records: readonly ResultRecord[], methods: readonly MethodInfo[] | undefined, side: Side): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const withData = new Set(records.filter((r) => r.side === side).map((r) => groupKey(r)));
  const add = (method: string, point: string) => {
    if (!withData.has(groupKey({ method, side, point }))) return;
    const ps = out.get(method) ?? [];
    if (!ps.includes(point)) ps.push(point);
    out.set(method, ps);
  };
  for (const m of methods ?? []) for (const p of m.points ?? []) add(m.name, p.key);
  const bySample = [...records].sort((a, b) => (a.sampleId < b.sampleId ? -1 : a.sampleId > b.sampleId ? 1 : 0));
  for (const r of bySample) if (r.side === side) add(r.method, r.point);
  // Methods run.json lists keep their place even when records add points out of order.
  const order = [...(methods ?? []).map((m) => m.name), ...[...out.keys()]];
  return new Map([...new Set(order)].filter((m) => out.has(m)).map((m) => [m, out.get(m)!]));
}

/** Selected points, the 'methods' and 'sweep' comparison families, and the ranks, per side. */
function comparisons(records: ResultRecord[], metrics: MetricInfo[] | undefined, summary: Summary, opts: SummarizeOptions): Required<Pick<RunSummary, 'selected' | 'comparisons' | 'ranks'>> {
  const data = new SampleValues(records);
  const index = new Map(summary.rows.map((r) => [JSON.stringify([r.method, r.side, r.point, r.key]), r]));
  const compareOpts = { seed: opts.seed, resamples: opts.resamples ?? 2000, alpha: opts.alpha ?? ALPHA };
  const selected: SelectedPoint[] = [];
  const families: ComparisonFamily[] = [];
  const ranks: SideRanking[] = [];
  for (const side of SIDES) {
    const points = pointsBySide(records, opts.methods, side);
    if (points.size === 0) continue;
    const sel = selectPoints(summary.rows, metrics, side, points);
    selected.push(...sel);
    const keys = [...new Set(summary.rows.filter((r) => r.side === side).map((r) => r.key))];
    const family = (spec: { family: 'methods' | 'sweep'; method?: string; contenders: Contender[] }) => {
      for (const key of keys) {
        const row = (c: Contender) => index.get(JSON.stringify([c.method, side, c.point, key]));
        const f = compareFamily(data, metrics, row, { ...spec, side, key }, compareOpts);
        if (f) families.push(f);
      }
    };
    family({ family: 'methods', contenders: sel.map(({ method, point }) => ({ method, point })) });
    for (const [method, pts] of points) if (pts.length > 1) family({ family: 'sweep', method, contenders: pts.map((point) => ({ method, point })) });
    ranks.push(rankMethods(summary.rows, metrics, side, sel.map(({ method, point }) => ({ method, point })), compareOpts.alpha));
  }
  return { selected, comparisons: families, ranks };
}
