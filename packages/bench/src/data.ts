// The data set of a run: loaded with the datasets package, limited with a seed, split.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateSyntheticSet,
  loadConceptualCaptions,
  loadFlickr8k,
  loadMsCxr,
  loadTinyImageNet,
  sample as seededSample,
  split,
  SYNTHETIC_MANIFEST_FILE,
  SYNTHETIC_MSCXR_FILE,
  type Sample,
  type SampleError,
  type VerifyImages,
} from '@ceb/datasets';
import type { BenchConfig } from './config/schema';

export interface LoadedSet {
  name: string;
  kind: BenchConfig['dataset']['kind'];
  path: string;
  /** The samples the pair metrics run on, in a fixed order (shards take every n-th). */
  samples: Sample[];
  /** Rows that could not become samples (file, row, reason). */
  errors: SampleError[];
  split: string;
}

/** The data set kinds whose samples carry ground-truth boxes (what `needs: { boxes }` metrics score against). */
const KINDS_WITH_BOXES: readonly BenchConfig['dataset']['kind'][] = ['mscxr', 'synthetic', 'tiny-imagenet'];

export function datasetHasBoxes(kind: BenchConfig['dataset']['kind']): boolean {
  return KINDS_WITH_BOXES.includes(kind);
}

/** How a data set is read: `verifyImages` as the loaders take it; `generate: false` never writes a synthetic set. */
export interface LoadDatasetOptions {
  verifyImages?: VerifyImages;
  generate?: boolean;
}

/** The count and seed a synthetic set folder was generated with (its manifest), if readable. */
function generatedWith(dir: string): { count: number; seed: number } | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, SYNTHETIC_MANIFEST_FILE), 'utf8')) as { count?: unknown; seed?: unknown };
    return typeof m.count === 'number' && typeof m.seed === 'number' ? { count: m.count, seed: m.seed } : undefined;
  } catch {
    return undefined;
  }
}

/** The synthetic set's CSV, generated first when the folder lacks the set this config asks for. */
async function syntheticCsv(d: Extract<BenchConfig['dataset'], { kind: 'synthetic' }>, log: (s: string) => void, generate = true): Promise<string> {
  const path = join(d.dir, SYNTHETIC_MSCXR_FILE);
  const have = existsSync(path);
  const was = generatedWith(d.dir);
  if (!have || was?.count !== d.count || was?.seed !== d.seed) {
    if (!generate) throw new SyntheticNotGenerated(`${d.dir} does not hold the synthetic set this config asks for (${d.count} images, seed ${d.seed}); a run generates it`);
    // A set generated earlier with another count or seed is not the set this config asks for.
    const why = have ? ` (it held ${was ? `${was.count} images, seed ${was.seed}` : 'an unreadable manifest'})` : '';
    log(`generating the synthetic set (${d.count} images, seed ${d.seed}) in ${d.dir}${why}`);
    await generateSyntheticSet({ outDir: d.dir, count: d.count, seed: d.seed, layouts: ['mscxr'] });
  }
  return path;
}

/** The data set's samples and unusable rows, by kind, and the file they were read from. */
async function readSamples(d: BenchConfig['dataset'], log: (s: string) => void, o: LoadDatasetOptions): Promise<{ samples: Sample[]; errors: SampleError[]; path: string }> {
  const verifyImages = o.verifyImages;
  switch (d.kind) {
    case 'synthetic': {
      const path = await syntheticCsv(d, log, o.generate);
      return { ...(await loadMsCxr({ csv: path, imageRoot: d.dir, verifyImages })), path };
    }
    case 'mscxr':
      return { ...(await loadMsCxr({ csv: d.csv, imageRoot: d.imageRoot, verifyImages })), path: d.csv };
    case 'cc':
      // The CC loader samples `limit` rows itself while streaming the 3.3M-row file.
      return { ...(await loadConceptualCaptions({ tsv: d.tsv, cacheDir: d.cacheDir, localRoot: d.localRoot, limit: d.limit, seed: d.sampleSeed, verifyImages })), path: d.tsv };
    case 'tiny-imagenet':
      return { ...(await loadTinyImageNet({ root: d.root, perClass: d.perClass, caption: d.caption, verifyImages })), path: d.root };
    case 'flickr8k':
      return { ...(await loadFlickr8k({ root: d.root, split: d.flickrSplit, verifyImages })), path: d.root };
  }
}

/** A synthetic set that is not generated yet (and the caller asked not to generate it). */
export class SyntheticNotGenerated extends Error {
  override name = 'SyntheticNotGenerated';
}

export async function loadDataset(cfg: BenchConfig, log: (s: string) => void = () => {}, opts: LoadDatasetOptions = {}): Promise<LoadedSet> {
  const d = cfg.dataset;
  const loaded = await readSamples(d, log, opts);
  const path = loaded.path;
  let samples = loaded.samples;
  if (d.limit && d.kind !== 'cc' && samples.length > d.limit) {
    const keep = new Set(seededSample(samples, d.limit, d.sampleSeed).map((s) => s.id));
    samples = samples.filter((s) => keep.has(s.id)); // keep file order
  }
  const s = d.split;
  let splitName = 'all';
  if (s.use !== 'all') {
    const parts = split(samples, { seed: s.seed, trainFraction: s.trainFraction, by: s.by });
    samples = s.use === 'train' ? parts.train : parts.test;
    splitName = `${s.use} (${Math.round(s.trainFraction * 100)}/${Math.round((1 - s.trainFraction) * 100)} by ${s.by}, seed ${s.seed})`;
  }
  return { name: d.name ?? d.kind, kind: d.kind, path, samples, errors: loaded.errors, split: splitName };
}
