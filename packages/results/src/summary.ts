/**
 * The summary of a run: mean and seeded 95% percentile-bootstrap CI per method × side × point ×
 * metric output, and the runtime; what summary.json holds and the report shows.
 */
import { meanCI } from '@ceb/stats';
import type { ErrorRecord, MetricInfo, ResultRecord, RuntimeRow, Summary, SummaryRow } from './types';

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
}

function splitKey(key: string): { metric: string; output: string } {
  const i = key.indexOf('.');
  return i < 0 ? { metric: key, output: '' } : { metric: key.slice(0, i), output: key.slice(i + 1) };
}

/** Group key of (method, side, point). */
const groupKey = (r: { method: string; side: string; point: string }): string => JSON.stringify([r.method, r.side, r.point]);

/**
 * Mean and percentile-bootstrap CI per method x side x point x metric output, and per
 * method x side x point for the runtime. Values enter in sampleId order, so the numbers do not
 * depend on record order (one folder and its shards give the same summary). Pure.
 */
export function summarize(records: ResultRecord[], metricsInfo: MetricInfo[] | undefined, opts: SummarizeOptions): Summary {
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
  return {
    ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
    samples: new Set(records.map((r) => r.sampleId)).size,
    ...(opts.failures !== undefined ? { failures: opts.failures } : {}),
    rows,
    runtime,
  };
}
