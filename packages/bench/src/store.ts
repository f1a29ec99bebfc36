// The results store of one run (or shard) folder: JSON Lines appended and flushed record by
// record, so a killed run loses at most the record in flight, and `--resume` skips identities
// already written. Format: docs/results-format.md.
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetMetricRecord, ErrorRecord, ResultRecord } from '@ceb/report';

// The record types are the report's: one definition of the format (docs/results-format.md).
export type { DatasetMetricRecord, ErrorRecord, ResultRecord } from '@ceb/report';

export const FILES = {
  run: 'run.json',
  config: 'config.resolved.yaml',
  results: 'results.jsonl',
  datasetMetrics: 'dataset-metrics.jsonl',
  errors: 'errors.jsonl',
  summary: 'summary.json',
  gallery: 'gallery',
} as const;

export const resultIdentity = (r: { sampleId: string; method: string; side: string; point: string }) => `${r.sampleId}\u0000${r.method}\u0000${r.side}\u0000${r.point}`;
export const datasetIdentity = (r: { metric: string; method: string; side: string; point: string }) => `${r.metric}\u0000${r.method}\u0000${r.side}\u0000${r.point}`;

/**
 * Reads a JSON Lines file. A last line without its newline is a record cut by a kill: with
 * `repair` it is removed from the file (so appends start on a clean line), otherwise skipped.
 */
export function readJsonl<T>(file: string, opts: { repair?: boolean } = {}): T[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length && opts.repair) truncateSync(file, Buffer.byteLength(text.slice(0, end)));
  return text
    .slice(0, end)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as T;
      } catch {
        throw new Error(`${file}: line ${i + 1} is not valid JSON`);
      }
    });
}

/** NaN / ±Infinity are not JSON: an undefined value is recorded as null. */
function jsonLine(obj: unknown): string {
  return JSON.stringify(obj, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n';
}

export class RunStore {
  private readonly doneResults = new Set<string>();
  private readonly doneDataset = new Set<string>();
  readonly resumedResults: number;

  constructor(
    readonly dir: string,
    opts: { resume: boolean },
  ) {
    mkdirSync(dir, { recursive: true });
    const resultsFile = join(dir, FILES.results);
    if (!opts.resume && existsSync(resultsFile) && readFileSync(resultsFile, 'utf8').trim() !== '') {
      throw new Error(`${dir} already holds results; pass --resume to continue that run, or --out another folder`);
    }
    for (const r of readJsonl<ResultRecord>(resultsFile, { repair: true })) this.doneResults.add(resultIdentity(r));
    for (const r of readJsonl<DatasetMetricRecord>(join(dir, FILES.datasetMetrics), { repair: true })) this.doneDataset.add(datasetIdentity(r));
    readJsonl(join(dir, FILES.errors), { repair: true });
    this.resumedResults = this.doneResults.size;
  }

  hasResult(r: { sampleId: string; method: string; side: string; point: string }): boolean {
    return this.doneResults.has(resultIdentity(r));
  }

  hasDatasetMetric(r: { metric: string; method: string; side: string; point: string }): boolean {
    return this.doneDataset.has(datasetIdentity(r));
  }

  // appendFileSync opens, writes and closes: the line is in the file before the next record starts.
  appendResult(r: ResultRecord): void {
    appendFileSync(join(this.dir, FILES.results), jsonLine(r));
    this.doneResults.add(resultIdentity(r));
  }

  appendDatasetMetric(r: DatasetMetricRecord): void {
    appendFileSync(join(this.dir, FILES.datasetMetrics), jsonLine(r));
    this.doneDataset.add(datasetIdentity(r));
  }

  appendError(e: ErrorRecord): void {
    appendFileSync(join(this.dir, FILES.errors), jsonLine(e));
  }

  errorCount(): number {
    return readJsonl(join(this.dir, FILES.errors)).length;
  }

  writeJson(name: string, obj: unknown): void {
    writeFileSync(join(this.dir, name), JSON.stringify(obj, null, 2) + '\n');
  }

  writeText(name: string, text: string): void {
    writeFileSync(join(this.dir, name), text);
  }
}
