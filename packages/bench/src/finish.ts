// The end of a run: merge the folder with its shards, write summary.json, print the compact
// table, render report.html.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { countFailures, formatSummaryTable, readRuns, summarize, writeReport } from '@ceb/report';
import type { BenchConfig } from './config/schema';
import { FILES } from './store';

export async function finishRun(dir: string, cfg: Pick<BenchConfig, 'seed' | 'gallery'>, opts: { report: boolean; log: (s: string) => void }): Promise<string> {
  const run = readRuns([dir]);
  const failures = countFailures(run.errors);
  const summary = {
    ...summarize(run.records, run.info.metrics, { seed: cfg.seed, runId: run.info.runId, failures: failures.total }),
    dataset: run.datasetMetrics.map((d) => ({ metric: d.metric, method: d.method, side: d.side, point: d.point, values: d.values, n: d.n })),
  };
  writeFileSync(join(dir, FILES.summary), JSON.stringify(summary, null, 2) + '\n');
  opts.log('');
  // The terminal gets the headline outputs; every IoU threshold is in summary.json and the report.
  opts.log(formatSummaryTable({ ...summary, rows: summary.rows.filter((r) => !/\.iou@/.test(r.key)) }));
  opts.log(`${run.records.length} records, ${failures.total} failures (errors.jsonl), summary: ${relative(process.cwd(), join(dir, FILES.summary))}`);
  if (opts.report) {
    const html = await writeReport([dir], { seed: cfg.seed, galleryLimit: cfg.gallery.samples, out: join(dir, 'report.html') });
    opts.log(`report: ${relative(process.cwd(), html)}`);
    return html;
  }
  opts.log(`render the report with: pnpm report ${relative(process.cwd(), dir)}`);
  return dir;
}
