import { readFileSync } from 'node:fs';
import path from 'node:path';

import { REPO_ROOT, SHARED_FIXTURES, TOKENIZER_CASES } from '../src/testing';

export { REPO_ROOT, SHARED_FIXTURES as FIXTURES };

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

/** `TOKENIZER_CASES` or the shared fixture; its vocabulary sits beside it. */
export const CASES_PATH = TOKENIZER_CASES;
export const CASES_DIR = path.dirname(CASES_PATH);

export function loadCases(): TokenizerCases {
  return JSON.parse(readFileSync(CASES_PATH, 'utf8')) as TokenizerCases;
}
