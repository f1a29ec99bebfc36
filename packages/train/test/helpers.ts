import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const SHARED_FIXTURES = resolve(REPO_ROOT, '../shared/fixtures');
export const CLIP_FIXTURE_DIR = process.env.CLIP_FIXTURE_DIR
  ? resolve(process.env.CLIP_FIXTURE_DIR)
  : resolve(SHARED_FIXTURES, 'clip-tiny');
export const SHIPPED_MODEL_DIR = resolve(REPO_ROOT, 'models/synth-clip');
