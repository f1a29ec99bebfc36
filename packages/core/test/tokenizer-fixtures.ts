import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, from this file's location (packages/core/test/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures');

export interface TokenizerCase {
  text: string;
  tokens: string[];
  ids: number[];
  input_ids: number[];
  fits_context: boolean;
  input_ids_77_pad_eos?: number[];
  input_ids_77_pad_zero?: number[];
}

export interface TokenizerCases {
  bos_token_id: number;
  eos_token_id: number;
  context_length: number;
  cases: TokenizerCase[];
}

/** `TOKENIZER_CASES` (relative to the repo root) or the shared fixture; its vocabulary sits beside it. */
export const CASES_PATH = path.resolve(REPO_ROOT, process.env.TOKENIZER_CASES ?? '../shared/fixtures/tokenizer/cases.json');
export const CASES_DIR = path.dirname(CASES_PATH);

export function loadCases(): TokenizerCases {
  return JSON.parse(readFileSync(CASES_PATH, 'utf8')) as TokenizerCases;
}
