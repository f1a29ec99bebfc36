// Fixture folder for the weight-reader tests (CLIP_FIXTURE_DIR overrides, as for the parity tests).
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
export const CLIP_DIR = process.env.CLIP_FIXTURE_DIR
  ? resolve(process.env.CLIP_FIXTURE_DIR)
  : resolve(REPO_ROOT, '../shared/fixtures/clip-tiny');
