// The end of a run: read the folder with its shards, compute the summary once — means, CIs,
// the paired comparisons and ranks (summary.json, the terminal table with its significance
// marks and the report all show it) — render report.html.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { countFailures, FILES, readRuns, summarize } from '@ceb/results';
import { formatComparison, formatSummaryTable, writeReport } from '@ceb/report';
import type { BenchConfig } from './config/schema';

export async function finishRun(dir: string, cfg: Pick<BenchConfig, 'seed' | 'gallery'>, opts: { report: boolean; log: (s: string) => void }): Promise<string> {
  const run = readRuns([dir]);
  const failures = countFailures(run.errors);
  const summary = summarize(run.records, run.info.metrics, { seed: cfg.seed, runId: run.info.runId, failures: failures.total, methods: run.info.methods });
  const file = {
    ...summary,
    dataset: run.datasetMetrics.map((d) => ({ metric: d.metric, method: d.method, side: d.side, point: d.point, values: d.values, n: d.n })),
  };
  writeFileSync(join(dir, FILES.summary), JSON.stringify(file, null, 2) + '\n');
  opts.log('');
  // The terminal gets each metric's headline outputs; every output is in summary.json and the report.
  const headline = new Map((run.info.metrics ?? []).map((m) => [m.name, m.headline]));
  opts.log(formatSummaryTable({ ...summary, rows: summary.rows.filter((r) => headline.get(r.metric)?.includes(r.output) ?? true) }));
  const comparison = formatComparison(run, summary);
  if (comparison) opts.log(`\n${comparison}`);
  // What the reader tolerated (a cut last line, duplicates across shards) is said here too, not only in the report.
  for (const w of run.warnings) opts.log(`warning: ${w}`);
  const listed = failures.records + failures.warnings > 0 ? ` (listed in ${FILES.errors})` : '';
  opts.log(`${run.records.length} records, ${failures.total} failures${failures.warnings ? ` and ${failures.warnings} warnings` : ''}${listed}, summary: ${relative(process.cwd(), join(dir, FILES.summary))}`);
  if (opts.report) {
    const html = await writeReport([dir], { seed: cfg.seed, galleryLimit: cfg.gallery.samples, out: join(dir, FILES.report), run, summary });
    opts.log(`report: ${relative(process.cwd(), html)}`);
    return html;
  }
  opts.log(`render the report with: pnpm report ${relative(process.cwd(), dir)}`);
  return dir;
}
