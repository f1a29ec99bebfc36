// The results store of one run (or shard) folder: JSON Lines appended and flushed record by
// record, so a killed run loses at most the record in flight, and `--resume` skips identities
// already written. Format: docs/results-format.md.
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl, recordIdentity, type DatasetMetricRecord, type ErrorRecord, type ResultRecord } from '@ceb/report';

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

export const datasetIdentity = (r: { metric: string; method: string; side: string; point: string }) => `${r.metric}\u0000${r.method}\u0000${r.side}\u0000${r.point}`;

/**
 * A last line without its newline is a record cut by a kill: it is removed, so the next
 * append starts on a clean line and the record is made again (never twice).
 */
function dropUnfinishedTail(file: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, end)));
}

/** Reads a JSON Lines file of the run (the report's reader: a bad line is named by file and line). */
export function readRecords<T>(file: string): T[] {
  return readJsonl(file) as T[];
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
    for (const f of [FILES.results, FILES.datasetMetrics, FILES.errors]) dropUnfinishedTail(join(dir, f));
    for (const r of readRecords<ResultRecord>(resultsFile)) this.doneResults.add(recordIdentity(r));
    for (const r of readRecords<DatasetMetricRecord>(join(dir, FILES.datasetMetrics))) this.doneDataset.add(datasetIdentity(r));
    this.resumedResults = this.doneResults.size;
  }

  hasResult(r: { sampleId: string; method: string; side: string; point: string }): boolean {
    return this.doneResults.has(recordIdentity(r));
  }

  hasDatasetMetric(r: { metric: string; method: string; side: string; point: string }): boolean {
    return this.doneDataset.has(datasetIdentity(r));
  }

  // appendFileSync opens, writes and closes: the line is in the file before the next record starts.
  appendResult(r: ResultRecord): void {
    appendFileSync(join(this.dir, FILES.results), jsonLine(r));
    this.doneResults.add(recordIdentity(r));
  }

  appendDatasetMetric(r: DatasetMetricRecord): void {
    appendFileSync(join(this.dir, FILES.datasetMetrics), jsonLine(r));
    this.doneDataset.add(datasetIdentity(r));
  }

  appendError(e: ErrorRecord): void {
    appendFileSync(join(this.dir, FILES.errors), jsonLine(e));
  }

  errorCount(): number {
    return readRecords(join(this.dir, FILES.errors)).length;
  }

  writeJson(name: string, obj: unknown): void {
    writeFileSync(join(this.dir, name), JSON.stringify(obj, null, 2) + '\n');
  }

  writeText(name: string, text: string): void {
    writeFileSync(join(this.dir, name), text);
  }
}
