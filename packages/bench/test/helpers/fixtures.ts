// Where the golden fixtures live. Parity tests take the model folder from CLIP_FIXTURE_DIR
// and the tokenizer cases from TOKENIZER_CASES, so any folder exported the same way checks the same.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
export const SHARED_FIXTURES = resolve(REPO_ROOT, '../shared/fixtures');
export const CLIP_FIXTURE_DIR = process.env.CLIP_FIXTURE_DIR
  ? resolve(process.env.CLIP_FIXTURE_DIR)
  : resolve(SHARED_FIXTURES, 'clip-tiny');

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
