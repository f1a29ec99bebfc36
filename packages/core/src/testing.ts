// For the project's tests (import from '@ceb/core/testing'): where the golden fixtures are,
// and the comparison every parity test uses. The model folder comes from CLIP_FIXTURE_DIR and
// the tokenizer cases from TOKENIZER_CASES, so any folder exported the same way checks the same.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** The repository root, from this file's location (packages/core/src/). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
/** ../shared/fixtures beside the repository (CI lays it there too). */
export const SHARED_FIXTURES = resolve(REPO_ROOT, '../shared/fixtures');
// Relative paths in the variables are taken from where `pnpm test` was run (pnpm's INIT_CWD).
const fromEnv = (value: string | undefined, fallback: string) => (value ? resolve(process.env.INIT_CWD ?? REPO_ROOT, value) : fallback);
export const CLIP_FIXTURE_DIR = fromEnv(process.env.CLIP_FIXTURE_DIR, resolve(SHARED_FIXTURES, 'clip-tiny'));
export const TOKENIZER_CASES = fromEnv(process.env.TOKENIZER_CASES, resolve(SHARED_FIXTURES, 'tokenizer/cases.json'));

/** Largest absolute difference between two equally long arrays (NaN counts as infinite). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
