// The writer of one run (or shard) folder: JSON Lines appended and flushed record by record,
// so a killed run loses at most the record in flight, and `--resume` skips identities already
// written. Maps and gallery files go where the layout says. Format: docs/results-format.md.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Side } from '@ceb/types';
import { datasetIdentity, recordIdentity } from './identity';
import { appendJsonl, dropUnfinishedTail, readJsonl } from './jsonl';
import { FILES, galleryFolder, galleryMapFile, keptMapFile } from './layout';
import { encodeNpy } from './npy';
import type { DatasetMetricRecord, ErrorRecord, GalleryMap, ResultRecord } from './types';

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
    for (const r of readJsonl(resultsFile) as ResultRecord[]) this.doneResults.add(recordIdentity(r));
    for (const r of readJsonl(join(dir, FILES.datasetMetrics)) as DatasetMetricRecord[]) this.doneDataset.add(datasetIdentity(r));
    this.resumedResults = this.doneResults.size;
  }

  hasResult(r: { sampleId: string; method: string; side: string; point: string }): boolean {
    return this.doneResults.has(recordIdentity(r));
  }

  hasDatasetMetric(r: { metric: string; method: string; side: string; point: string }): boolean {
    return this.doneDataset.has(datasetIdentity(r));
  }

  appendResult(r: ResultRecord): void {
    appendJsonl(join(this.dir, FILES.results), r);
    this.doneResults.add(recordIdentity(r));
  }

  appendDatasetMetric(r: DatasetMetricRecord): void {
    appendJsonl(join(this.dir, FILES.datasetMetrics), r);
    this.doneDataset.add(datasetIdentity(r));
  }

  appendError(e: ErrorRecord): void {
    appendJsonl(join(this.dir, FILES.errors), e);
  }

  errorCount(): number {
    return readJsonl(join(this.dir, FILES.errors)).length;
  }

  writeRunInfo(info: unknown): void {
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

  /** Writes one map of a gallery sample; returns its entry for sample.json. */
  writeGalleryMap(sampleId: string, method: string, point: string, side: Side, scores: Float32Array, shape: number[]): GalleryMap {
    const dir = galleryFolder(this.dir, sampleId);
    mkdirSync(dir, { recursive: true });
    const file = galleryMapFile(method, point, side);
    writeFileSync(join(dir, file), side === 'image' ? encodeNpy(scores, shape) : JSON.stringify({ scores: Array.from(scores) }));
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
