import { Rng } from '@ceb/random';
import type { Sample } from './types';

export type SplitBy = 'patient' | 'image' | 'column';

export interface SplitOptions {
  seed: number;
  /** Fraction of samples in train; default 0.8. */
  trainFraction?: number;
  /**
   * 'patient': no patient on both sides (MS-CXR); 'image': no image on both sides (several
   * phrases of one image stay together); 'column': the file's own split column, where
   * `val` goes to train (ROAR needs two sides only).
   */
  by: SplitBy;
}

export interface Split {
  train: Sample[];
  test: Sample[];
}

/** The key that must not straddle the split. */
function groupKey(s: Sample, by: 'patient' | 'image'): string {
  if (by === 'image') return s.imagePath;
  if (!s.patientId) {
    throw new Error(`split by patient: sample ${s.id} (${s.source.file}:${s.source.row}) has no patient id`);
  }
  return s.patientId;
}

/**
 * Seeded grouped split. Groups are sorted by key (so the input order does not matter),
 * shuffled with mulberry32(seed), and taken into train until the train size is as close
 * as it can get to trainFraction × N: it misses the target by at most half a group.
 * Samples keep their input order on each side.
 */
export function split(samples: readonly Sample[], options: SplitOptions): Split {
  const fraction = options.trainFraction ?? 0.8;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`split: trainFraction must be in (0, 1), got ${fraction}`);
  if (options.by === 'column') {
    const train: Sample[] = [];
    const test: Sample[] = [];
    for (const s of samples) {
      if (!s.split) {
        throw new Error(
          `split by column: sample ${s.id} (${s.source.file}:${s.source.row}) has no split value; ` +
            `the file needs a "split" column (MS-CXR v1.1.0)`,
        );
      }
      (s.split === 'test' ? test : train).push(s);
    }
    return { train, test };
  }
  const by = options.by;
  if (by !== 'patient' && by !== 'image') throw new Error(`split: "by" must be patient, image or column, got ${by}`);

  const sizes = new Map<string, number>();
  for (const s of samples) {
    const k = groupKey(s, by);
    sizes.set(k, (sizes.get(k) ?? 0) + 1);
  }
  const keys = [...sizes.keys()].sort();
  new Rng(options.seed).shuffleInPlace(keys);

  const target = fraction * samples.length;
  const trainKeys = new Set<string>();
  let count = 0;
  for (const k of keys) {
    const size = sizes.get(k)!;
    // Stop before the group that would take train further from the target than it is now.
    if (Math.abs(count + size - target) > Math.abs(count - target)) break;
    trainKeys.add(k);
    count += size;
  }
  const train: Sample[] = [];
  const test: Sample[] = [];
  for (const s of samples) (trainKeys.has(groupKey(s, by)) ? train : test).push(s);
  return { train, test };
}
