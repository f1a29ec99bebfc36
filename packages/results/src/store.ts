// The writer of one run (or shard) folder: JSON Lines appended and flushed record by record,
// so a killed run loses at most the record in flight, and `--resume` skips identities already
// written. One writer per folder (lock.ts). Maps and gallery files go where the layout says.
// Format: docs/results-format.md.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Side } from '@ceb/types';
import { datasetIdentity, recordIdentity } from './identity';
import { appendJsonl, dropUnfinishedTail, readJsonl } from './jsonl';
import { FILES, galleryFolder, galleryMapFile, keptMapFile } from './layout';
import { RunLock } from './lock';
import { encodeNpy } from './npy';
import { rawTokenValues } from './raw-tokens';
import { countFailures } from './summary';
import type { DatasetMetricRecord, ErrorRecord, GalleryMap, ResultRecord, RunInfo } from './types';

export interface RunStoreOptions {
  /** Continue the run the folder holds (skip what it has); without it the folder must hold no run. */
  resume: boolean;
  /** Take the folder's lock even from a live holder (--force-unlock). */
  forceUnlock?: boolean;
  /** Where take-overs and repaired files are reported. */
  log?: (line: string) => void;
}

/** An error's identity: the same failure recorded again (a resumed run retrying it) is kept once. */
const errorIdentity = (e: ErrorRecord): string =>
  JSON.stringify([e.stage, e.sampleId, e.file, e.row, e.column, e.method, e.side, e.point, e.metric, e.reason, e.severity]);

/** mkdir with the reason in words (a file in the way, no permission) instead of a bare EEXIST / EACCES. */
function makeFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way (the path or one of its parents is not a folder)'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EROFS' ? 'the file system is read-only'
      : (e as Error).message;
    throw new Error(`cannot create the run folder ${dir}: ${why}`, { cause: e });
  }
  if (!statSync(dir).isDirectory()) throw new Error(`cannot use ${dir} as a run folder: it is a file`);
}

/** Makes the run folder and takes its lock: what a command holds for its whole length (the store shares it). */
export function lockRunFolder(dir: string, opts: { forceUnlock?: boolean; log?: (line: string) => void } = {}): RunLock {
  makeFolder(dir);
  return RunLock.acquire(dir, { force: opts.forceUnlock, log: opts.log });
}

export class RunStore {
  private readonly doneResults = new Set<string>();
  private readonly doneDataset = new Set<string>();
  private readonly doneErrors = new Set<string>();
  private readonly lock: RunLock;
  readonly resumedResults: number;
  /** run.json of the run this folder already held (resume), if any. */
  readonly previousRunInfo?: RunInfo & Record<string, unknown>;

  constructor(
    readonly dir: string,
    opts: RunStoreOptions,
  ) {
    this.lock = lockRunFolder(dir, opts);
    try {
      this.previousRunInfo = this.open(opts);
    } catch (e) {
      this.lock.release();
      throw e;
    }
    this.resumedResults = this.doneResults.size;
  }

  /** Checks the folder may be written as asked, repairs cut last lines, reads what is done. */
  private open(opts: RunStoreOptions): (RunInfo & Record<string, unknown>) | undefined {
    const { dir } = this;
    const resultsFile = join(dir, FILES.results);
    const runFile = join(dir, FILES.run);
    const holdsResults = existsSync(resultsFile) && readFileSync(resultsFile, 'utf8').trim() !== '';
    if (!opts.resume && (holdsResults || existsSync(runFile))) {
      throw new Error(`${dir} already holds ${holdsResults ? 'results' : 'a run (run.json)'}; pass --resume to continue that run, or --out another folder`);
    }
    for (const f of [FILES.results, FILES.datasetMetrics, FILES.errors]) {
      const file = join(dir, f);
      const before = existsSync(file) ? statSync(file).size : 0;
      dropUnfinishedTail(file);
      if (existsSync(file) && statSync(file).size !== before) opts.log?.(`${file}: removed a last line cut short by a kill (that record is made again)`);
    }
    for (const r of readJsonl(resultsFile) as ResultRecord[]) this.doneResults.add(recordIdentity(r));
    for (const r of readJsonl(join(dir, FILES.datasetMetrics)) as DatasetMetricRecord[]) this.doneDataset.add(datasetIdentity(r));
    for (const e of readJsonl(join(dir, FILES.errors)) as ErrorRecord[]) this.doneErrors.add(errorIdentity(e));
    if (!existsSync(runFile)) return undefined;
    try {
      return JSON.parse(readFileSync(runFile, 'utf8'));
    } catch (e) {
      throw new Error(`${runFile}: not valid JSON (${(e as Error).message}); cannot tell which run this folder holds`, { cause: e });
    }
  }

  /** Gives the folder's lock up; the store must not be written after. */
  close(): void {
    this.lock.release();
  }

  hasResult(r: { sampleId: string; method: string; side: string; point: string }): boolean {
    return this.doneResults.has(recordIdentity(r));
  }

  hasDatasetMetric(r: { metric: string; method: string; side: string; point: string }): boolean {
    return this.doneDataset.has(datasetIdentity(r));
  }

  appendResult(r: ResultRecord): void {
    this.lock.check();
    appendJsonl(join(this.dir, FILES.results), r);
    this.doneResults.add(recordIdentity(r));
  }

  appendDatasetMetric(r: DatasetMetricRecord): void {
    this.lock.check();
    appendJsonl(join(this.dir, FILES.datasetMetrics), r);
    this.doneDataset.add(datasetIdentity(r));
  }

  /** Appends an error unless the same one is already recorded (a resumed run meeting it again). */
  appendError(e: ErrorRecord): void {
    const id = errorIdentity(e);
    if (this.doneErrors.has(id)) return;
    this.lock.check();
    appendJsonl(join(this.dir, FILES.errors), e);
    this.doneErrors.add(id);
  }

  /** The folder's failures and warnings, counted as the summary and the report count them. */
  failures(): ReturnType<typeof countFailures> {
    return countFailures(readJsonl(join(this.dir, FILES.errors)) as ErrorRecord[]);
  }

  writeRunInfo(info: unknown): void {
    this.lock.check();
    writeFileSync(join(this.dir, FILES.run), JSON.stringify(info, null, 2) + '\n');
  }

  writeConfig(yaml: string): void {
    writeFileSync(join(this.dir, FILES.config), yaml);
  }

  /** Keeps an image map for the merge step's dataset metrics. */
  keepMap(method: string, point: string, sampleId: string, map: Float32Array, shape: number[]): void {
    const file = keptMapFile(this.dir, method, point, sampleId);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, encodeNpy(map, shape));
  }

  /**
   * Writes one map of a gallery sample; returns its entry for sample.json. A text map keeps the
   * method's raw per-token values beside its scores when its extras hold them (rawTokenValues).
   */
  writeGalleryMap(sampleId: string, method: string, point: string, side: Side, scores: Float32Array, shape: number[], extra?: Record<string, unknown>): GalleryMap {
    const dir = galleryFolder(this.dir, sampleId);
    mkdirSync(dir, { recursive: true });
    const file = galleryMapFile(method, point, side);
    const raw = side === 'text' ? rawTokenValues(extra, scores.length) : undefined;
    const text = () => JSON.stringify({ scores: Array.from(scores), ...(raw ? { raw: raw.values, rawWhat: raw.what, ...(raw.unit ? { rawUnit: raw.unit } : {}) } : {}) });
    writeFileSync(join(dir, file), side === 'image' ? encodeNpy(scores, shape) : text());
    return { method, point, side, file };
  }

  /** Writes a gallery sample's input image and sample.json, adding `maps` to those an earlier (resumed) run wrote. */
  writeGallerySample(meta: { sampleId: string; caption: string; tokens: string[]; boxes: unknown[] }, inputPng: Buffer, maps: GalleryMap[]): void {
    const dir = galleryFolder(this.dir, meta.sampleId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, FILES.galleryInput), inputPng);
    const metaFile = join(dir, FILES.sampleMeta);
    let previous: { maps?: GalleryMap[] } = {};
    try {
      previous = JSON.parse(readFileSync(metaFile, 'utf8'));
    } catch {
      /* first time for this sample */
    }
    writeFileSync(metaFile, JSON.stringify({ ...meta, image: FILES.galleryInput, maps: [...(previous.maps ?? []), ...maps] }, null, 2));
  }
}

/** Removes the maps shards kept for the merge step (they are only needed until the dataset metrics ran). */
export function removeKeptMaps(dirs: string[]): void {
  for (const d of dirs) rmSync(join(d, FILES.keptMaps), { recursive: true, force: true });
}
