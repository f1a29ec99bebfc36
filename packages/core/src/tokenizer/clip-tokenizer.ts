import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BYTE_TO_UNICODE, UNICODE_TO_BYTE, toByteSymbols } from './bytes-to-unicode';
import { htmlUnescape } from './html-entities';

/**
 * CLIP's byte-level BPE tokenizer, matching OpenAI's `SimpleTokenizer` (clip/simple_tokenizer.py)
 * id for id, and Hugging Face `CLIPTokenizer` (the slow one, which also unescapes HTML).
 *
 * Not reproduced: `ftfy.fix_text` (no TypeScript port). For ordinary text it only applies
 * Unicode NFC, which is done here; mojibake repair, curly-quote and ligature fixing,
 * full-width folding and control-character removal are not, so text that needs those fixes
 * can get other ids than OpenAI's.
 */

export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';
const WORD_END = '</w>';

/** The characters Python's `str.isspace()` / `re`'s `\s` accept (what OpenAI's cleaning collapses). */
const PY_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'gu');
const EDGE_WHITESPACE = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'gu');

/**
 * OpenAI's pre-tokenisation pattern (case-insensitive as in the reference). `\s` is spelled out
 * as Python's whitespace set because JavaScript's `\s` differs (it includes U+FEFF).
 */
const PRETOKEN = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${PY_WHITESPACE}\\p{L}\\p{N}]+`,
  'giu',
);

/**
 * OpenAI's caption cleaning: (ftfy → here only NFC), `html.unescape` twice, strip,
 * whitespace runs → one space, strip, lowercase.
 */
export function cleanCaption(text: string): string {
  let t = text.normalize('NFC');
  t = htmlUnescape(htmlUnescape(t));
  t = t.replace(EDGE_WHITESPACE, '');
  t = t.replace(WHITESPACE_RUN, ' ').replace(EDGE_WHITESPACE, '');
  return t.toLowerCase();
}

/** Where a tokenizer's tables came from. */
export type TokenizerSource =
  | { kind: 'files'; vocabPath: string; mergesPath: string }
  | { kind: 'tokenizer.json'; path: string }
  | { kind: 'bundled'; reason: string };

export interface EncodeForModelOptions {
  /** Number of positions of the text tower (default 77). */
  contextLength?: number;
  /** 'none' (default): no padding; 'eos': pad with EOS (Hugging Face); 'zero': pad with 0 (OpenAI `clip.tokenize`). */
  padding?: 'none' | 'eos' | 'zero';
  /** Cut a caption that does not fit to [BOS] + first contextLength−2 ids + [EOS] instead of throwing. */
  truncate?: boolean;
}

export interface ModelInput {
  ids: number[];
  /** Number of ids with BOS/EOS, before padding. */
  length: number;
  truncated: boolean;
}

interface Tables {
  encoder: Map<string, number>;
  decoder: string[];
  mergeRanks: Map<string, number>;
}

const CACHE_LIMIT = 100_000;
const utf8Lenient = new TextDecoder('utf-8');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Folder of the bundled standard CLIP vocab.json + merges.txt. */
export function bundledDir(): string {
  return fileURLToPath(new URL('../../assets/clip-vocab/', import.meta.url));
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

function parseJson(file: string, what: string): unknown {
  const text = readText(file, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function vocabFromObject(obj: unknown, where: string): Map<string, number> {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new Error(`${where}: expected an object mapping token strings to ids`);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(obj as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new Error(`${where}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; expected a non-negative integer`);
    }
    vocab.set(token, id);
  }
  return vocab;
}

function mergesFromText(text: string, where: string): Array<[string, string]> {
  const lines = text.split(/\r?\n/);
  const merges: Array<[string, string]> = [];
  lines.forEach((line, i) => {
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new Error(`${where} line ${i + 1}: expected two symbols separated by one space, got ${JSON.stringify(line)}`);
    }
    merges.push([parts[0], parts[1]]);
  });
  return merges;
}

function mergesFromJson(list: unknown, where: string): Array<[string, string]> {
  if (!Array.isArray(list)) throw new Error(`${where}: model.merges must be an array`);
  return list.map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return [parts[0], parts[1]];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      return [m[0], m[1]];
    }
    throw new Error(`${where}: model.merges[${i}] is ${JSON.stringify(m)}; expected "a b" or ["a", "b"]`);
  });
}

function buildTables(encoder: Map<string, number>, merges: Array<[string, string]>, where: string): Tables {
  const decoder: string[] = [];
  for (const [token, id] of encoder) {
    if (decoder[id] !== undefined) {
      throw new Error(`${where}: id ${id} is used by both ${JSON.stringify(decoder[id])} and ${JSON.stringify(token)}`);
    }
    decoder[id] = token;
  }
  for (const special of [START_OF_TEXT, END_OF_TEXT]) {
    if (!encoder.has(special)) throw new Error(`${where}: the vocabulary has no ${special} token`);
  }
  // Every text must be encodable: all 256 byte symbols, alone and as word ends.
  for (const sym of BYTE_TO_UNICODE) {
    for (const piece of [sym, sym + WORD_END]) {
      if (!encoder.has(piece)) {
        throw new Error(`${where}: the vocabulary lacks the byte symbol ${JSON.stringify(piece)}; not a CLIP byte-level vocabulary`);
      }
    }
  }
  const mergeRanks = new Map<string, number>();
  merges.forEach(([a, b], rank) => {
    if (!encoder.has(a + b)) {
      throw new Error(`${where}: merge #${rank + 1} "${a} ${b}" makes ${JSON.stringify(a + b)}, which is not in the vocabulary`);
    }
    const key = a + ' ' + b;
    // The first (best) rank wins if a pair is listed twice.
    if (!mergeRanks.has(key)) mergeRanks.set(key, rank);
  });
  return { encoder, decoder, mergeRanks };
}

let standardTables: Tables | undefined;

function loadStandardTables(): Tables {
  if (!standardTables) {
    const dir = bundledDir();
    standardTables = loadFileTables(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'));
  }
  return standardTables;
}

function loadFileTables(vocabPath: string, mergesPath: string): Tables {
  const vocab = vocabFromObject(parseJson(vocabPath, 'vocabulary'), vocabPath);
  const merges = mergesFromText(readText(mergesPath, 'merges file'), mergesPath);
  return buildTables(vocab, merges, `${vocabPath} + ${mergesPath}`);
}

function loadTokenizerJsonTables(file: string): Tables {
  const json = parseJson(file, 'tokenizer.json') as { model?: Record<string, unknown>; added_tokens?: unknown };
  const model = json?.model;
  if (!model || typeof model !== 'object') throw new Error(`${file}: no "model" object`);
  if (model.type !== undefined && model.type !== 'BPE') {
    throw new Error(`${file}: model.type is ${JSON.stringify(model.type)}; expected "BPE" (CLIP)`);
  }
  const suffix = model.end_of_word_suffix;
  if (suffix !== undefined && suffix !== null && suffix !== WORD_END) {
    throw new Error(`${file}: model.end_of_word_suffix is ${JSON.stringify(suffix)}; a CLIP tokenizer uses "</w>"`);
  }
  const vocab = vocabFromObject(model.vocab, `${file} model.vocab`);
  // BOS/EOS may live only in added_tokens.
  if (Array.isArray(json.added_tokens)) {
    for (const t of json.added_tokens as Array<{ id?: unknown; content?: unknown }>) {
      if (typeof t?.content === 'string' && typeof t.id === 'number' && !vocab.has(t.content)) {
        vocab.set(t.content, t.id);
      }
    }
  }
  const merges = mergesFromJson(model.merges, file);
  return buildTables(vocab, merges, file);
}

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  /** Largest id + 1. */
  readonly vocabSize: number;
  readonly source: TokenizerSource;
  private readonly tables: Tables;
  private readonly specialIds: Set<number>;
  private readonly cache = new Map<string, string[]>();

  private constructor(tables: Tables, source: TokenizerSource) {
    this.tables = tables;
    this.source = source;
    this.bosId = tables.encoder.get(START_OF_TEXT)!;
    this.eosId = tables.encoder.get(END_OF_TEXT)!;
    this.vocabSize = tables.decoder.length;
    this.specialIds = new Set([this.bosId, this.eosId]);
  }

  /** From a `vocab.json` (token → id) and a `merges.txt` (`#version` line, then one "a b" per line). */
  static fromFiles(vocabPath: string, mergesPath: string): ClipTokenizer {
    return new ClipTokenizer(loadFileTables(vocabPath, mergesPath), { kind: 'files', vocabPath, mergesPath });
  }

  /** From a Hugging Face `tokenizer.json` (its `model.vocab` and `model.merges`). */
  static fromTokenizerJson(file: string): ClipTokenizer {
    return new ClipTokenizer(loadTokenizerJsonTables(file), { kind: 'tokenizer.json', path: file });
  }

  /**
   * The tokenizer of a model folder: `vocab.json` + `merges.txt`, else `tokenizer.json`,
   * else the bundled standard CLIP vocabulary (`source.kind === 'bundled'` says so).
   */
  static fromModelDir(dir: string): ClipTokenizer {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new Error(`model folder ${dir} does not exist or is not a folder`);
    }
    const vocabPath = path.join(dir, 'vocab.json');
    const mergesPath = path.join(dir, 'merges.txt');
    const jsonPath = path.join(dir, 'tokenizer.json');
    const hasVocab = existsSync(vocabPath);
    const hasMerges = existsSync(mergesPath);
    if (hasVocab && hasMerges) return ClipTokenizer.fromFiles(vocabPath, mergesPath);
    if (existsSync(jsonPath)) return ClipTokenizer.fromTokenizerJson(jsonPath);
    if (hasVocab || hasMerges) {
      throw new Error(
        `model folder ${dir} has ${hasVocab ? 'vocab.json but no merges.txt' : 'merges.txt but no vocab.json'} (and no tokenizer.json); a CLIP tokenizer needs both`,
      );
    }
    return new ClipTokenizer(loadStandardTables(), {
      kind: 'bundled',
      reason: `${dir} has no vocab.json + merges.txt or tokenizer.json; using the bundled standard CLIP vocabulary (49,408 ids)`,
    });
  }

  /** OpenAI's CLIP vocabulary (49,408 ids, BOS 49406, EOS 49407), bundled with this package. */
  static standard(): ClipTokenizer {
    return new ClipTokenizer(loadStandardTables(), { kind: 'bundled', reason: 'standard CLIP vocabulary requested' });
  }

  /** BPE pieces of the cleaned caption (byte-level strings, `</w>` on word ends). */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const m of cleanCaption(text).matchAll(PRETOKEN)) {
      for (const piece of this.bpe(m[0])) out.push(piece);
    }
    return out;
  }

  /** Token ids of a caption, without BOS/EOS. */
  encode(text: string): number[] {
    return this.tokenize(text).map((piece) => {
      const id = this.tables.encoder.get(piece);
      // Unreachable for validated tables (merge results and byte symbols are checked at load).
      if (id === undefined) throw new Error(`BPE piece ${JSON.stringify(piece)} is not in the vocabulary`);
      return id;
    });
  }

  /**
   * [BOS] + ids + [EOS], checked against the context length and optionally padded.
   * Throws when the caption does not fit, unless `truncate` is set.
   */
  encodeForModel(text: string, opts: EncodeForModelOptions = {}): ModelInput {
    const contextLength = opts.contextLength ?? 77;
    const padding = opts.padding ?? 'none';
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new Error(`contextLength must be an integer ≥ 2 (room for BOS and EOS), got ${contextLength}`);
    }
    if (padding !== 'none' && padding !== 'eos' && padding !== 'zero') {
      throw new Error(`padding must be 'none', 'eos' or 'zero', got ${JSON.stringify(padding)}`);
    }
    let body = this.encode(text);
    const room = contextLength - 2;
    let truncated = false;
    if (body.length > room) {
      if (!opts.truncate) {
        const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
        throw new Error(
          `caption has ${body.length} tokens; the model's context is ${contextLength} (${room} + BOS/EOS); pass truncate to cut it (caption: ${JSON.stringify(shown)})`,
        );
      }
      body = body.slice(0, room);
      truncated = true;
    }
    const ids = [this.bosId, ...body, this.eosId];
    const length = ids.length;
    if (padding !== 'none') {
      const pad = padding === 'eos' ? this.eosId : 0;
      while (ids.length < contextLength) ids.push(pad);
    }
    return { ids, length, truncated };
  }

  /**
   * Text of ids: BOS/EOS dropped, `</w>` → space, byte symbols back to UTF-8 (invalid
   * sequences become U+FFFD, as Python's errors='replace'). Leading/trailing space is trimmed.
   */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const token = this.token(id, 'decode');
      if (this.specialIds.has(id)) continue;
      const wordEnd = token.endsWith(WORD_END);
      this.pushBytes(wordEnd ? token.slice(0, -WORD_END.length) : token, bytes, id);
      if (wordEnd) bytes.push(0x20);
    }
    return utf8Lenient.decode(new Uint8Array(bytes)).trim();
  }

  /**
   * One display string per id: the BPE piece without `</w>`, as readable UTF-8 when the piece
   * holds whole characters, otherwise its byte-level symbols (e.g. half of a CJK character).
   * BOS/EOS are shown as `<|startoftext|>` / `<|endoftext|>`.
   */
  tokenStrings(ids: readonly number[]): string[] {
    return ids.map((id) => {
      const token = this.token(id, 'tokenStrings');
      if (this.specialIds.has(id)) return token;
      const body = token.endsWith(WORD_END) ? token.slice(0, -WORD_END.length) : token;
      const bytes: number[] = [];
      this.pushBytes(body, bytes, id);
      try {
        return utf8Strict.decode(new Uint8Array(bytes));
      } catch {
        return body;
      }
    });
  }

  private token(id: number, what: string): string {
    const token = Number.isInteger(id) ? this.tables.decoder[id] : undefined;
    if (token === undefined) {
      throw new Error(`${what}: id ${id} is not in the vocabulary (ids 0..${this.vocabSize - 1})`);
    }
    return token;
  }

  private pushBytes(symbols: string, out: number[], id: number): void {
    for (const ch of symbols) {
      const b = UNICODE_TO_BYTE.get(ch);
      if (b === undefined) throw new Error(`token id ${id} (${JSON.stringify(symbols)}) has ${JSON.stringify(ch)}, not a byte symbol`);
      out.push(b);
    }
  }

  /** BPE of one pre-token (a match of PRETOKEN), cached per pre-token. */
  private bpe(pretoken: string): string[] {
    const hit = this.cache.get(pretoken);
    if (hit) return hit;
    let pieces: string[];
    if (pretoken === START_OF_TEXT || pretoken === END_OF_TEXT) {
      pieces = [pretoken];
    } else {
      pieces = this.mergeWord(toByteSymbols(pretoken));
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(pretoken, pieces);
    return pieces;
  }

  /**
   * Repeatedly merge the adjacent pair with the lowest merge rank (every non-overlapping
   * occurrence, left to right) until no listed pair remains. The last symbol carries `</w>`.
   */
  private mergeWord(symbols: string): string[] {
    let word = Array.from(symbols);
    word[word.length - 1] += WORD_END;
    const ranks = this.tables.mergeRanks;
    while (word.length > 1) {
      let best = Infinity;
      let bestA = '';
      let bestB = '';
      for (let i = 0; i + 1 < word.length; i++) {
        const r = ranks.get(word[i] + ' ' + word[i + 1]);
        if (r !== undefined && r < best) {
          best = r;
          bestA = word[i];
          bestB = word[i + 1];
        }
      }
      if (best === Infinity) break;
      const next: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === bestA && word[i + 1] === bestB) {
          next.push(bestA + bestB);
          i++;
        } else {
          next.push(word[i]);
        }
      }
      word = next;
    }
    return word;
  }
}
