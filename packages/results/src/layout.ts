// The run folder's layout: every file and folder name of a run, in one place. The bench writes
// through these names and the report reads through them; neither spells a file name itself.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Side } from '@ceb/types';

export const FILES = {
  run: 'run.json',
  config: 'config.resolved.yaml',
  results: 'results.jsonl',
  datasetMetrics: 'dataset-metrics.jsonl',
  errors: 'errors.jsonl',
  summary: 'summary.json',
  report: 'report.html',
  gallery: 'gallery',
  /** Image maps a shard keeps for the merge step's dataset metrics (removed once they ran). */
  keptMaps: 'roar-maps',
  sampleMeta: 'sample.json',
  galleryInput: 'input.png',
  /** The writer's lock: pid, host, start and last refresh of the one process writing the folder. */
  lock: 'run.lock',
} as const;

export interface Shard {
  index: number;
  count: number;
}

/** The whole run as one shard. */
export const WHOLE_RUN: Shard = { index: 0, count: 1 };

const SHARD_FOLDER = /^shard-(\d+)-of-(\d+)$/;

/** A shard's folder inside its run folder: shard-<i>-of-<n>. */
export function shardFolder(runDir: string, shard: Shard): string {
  return join(runDir, `shard-${shard.index}-of-${shard.count}`);
}

/** A file or folder name made safe (letters, digits, . _ -), at most 80 characters. */
export function slug(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

/** A sample's gallery folder. */
export function galleryFolder(runDir: string, sampleId: string): string {
  return join(runDir, FILES.gallery, slug(sampleId));
}

/** The file of one map in a gallery folder: <method>@<point>.<side>.npy (image) or .json (text). */
export function galleryMapFile(method: string, point: string, side: Side): string {
  return `${method}@${point}.${side}.${side === 'image' ? 'npy' : 'json'}`;
}

/** Where a shard keeps one image map for the merge step: roar-maps/<method@point>/<sample>.npy. */
export function keptMapFile(dir: string, method: string, point: string, sampleId: string): string {
  return join(dir, FILES.keptMaps, slug(`${method}@${point}`), `${slug(sampleId)}.npy`);
}

/**
 * A run folder expands to itself (when it has run.json) and the shard folders inside it
 * (shard-<i>-of-<n>/ with a run.json): a --workers run keeps its merge-step files in the
 * folder and its records in the shards; a Slurm array leaves only the shards.
 */
export function expandRunDirs(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const abs = resolve(d);
    const shards =
      existsSync(abs) && statSync(abs).isDirectory()
        ? readdirSync(abs)
            .filter((n) => SHARD_FOLDER.test(n) && existsSync(join(abs, n, FILES.run)))
            .sort((a, b) => Number(SHARD_FOLDER.exec(a)![1]) - Number(SHARD_FOLDER.exec(b)![1]))
            .map((n) => join(abs, n))
        : [];
    // A folder with neither is passed on, for the reader to say what is missing.
    if (existsSync(join(abs, FILES.run)) || shards.length === 0) out.push(abs);
    out.push(...shards);
  }
  return out;
}
