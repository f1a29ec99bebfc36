// A small CLIP BPE vocabulary for the synthetic captions: the 512 byte-level symbols in the
// standard order, then only the merges the real CLIP merge list applies to the captions'
// words (kept in their original rank order, so each word splits exactly as real CLIP BPE
// would), then <|startoftext|> and <|endoftext|> as the two largest ids (argmax pooling
// then lands on EOS, as in OpenAI's vocabulary).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BYTE_TO_UNICODE, START_OF_TEXT, END_OF_TEXT } from '@ceb/core';

const WORD_END = '</w>';

export function standardMergesPath(): string {
  return fileURLToPath(new URL('../../core/assets/clip-vocab/merges.txt', import.meta.url));
}

function readMerges(file: string): Array<[string, string]> {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const out: Array<[string, string]> = [];
  lines.forEach((line, i) => {
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const [a, b] = line.split(' ');
    out.push([a, b]);
  });
  return out;
}

/** Runs byte-pair merging on one word (already in byte symbols); returns the ranks of the merges used. */
function bpeRanksUsed(word: string, ranks: Map<string, number>): number[] {
  const chars = [...word];
  let parts = [...chars.slice(0, -1), chars[chars.length - 1] + WORD_END];
  const used: number[] = [];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = ranks.get(parts[i] + ' ' + parts[i + 1]);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return used;
    used.push(bestRank);
    const [a, b] = [parts[best], parts[best + 1]];
    // Merge every occurrence of the pair, left to right (as CLIP's bpe does).
    const next: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
        next.push(a + b);
        i++;
      } else next.push(parts[i]);
    }
    parts = next;
  }
}

/**
 * The byte symbols in CLIP's vocabulary order (GPT-2's bytes_to_unicode insertion order):
 * the printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' first, then the other 68 in byte order.
 */
export function byteSymbolsInVocabOrder(): string[] {
  const printable: number[] = [];
  const span = (a: number, b: number) => {
    for (let c = a; c <= b; c++) printable.push(c);
  };
  span(0x21, 0x7e);
  span(0xa1, 0xac);
  span(0xae, 0xff);
  const set = new Set(printable);
  const rest = Array.from({ length: 256 }, (_, b) => b).filter((b) => !set.has(b));
  return [...printable, ...rest].map((b) => BYTE_TO_UNICODE[b]);
}

export interface SmallVocab {
  /** token → id */
  vocab: Record<string, number>;
  /** Merges in rank order. */
  merges: Array<[string, string]>;
}

/** Builds the vocabulary for the given lower-case ASCII words from the standard CLIP merges. */
export function buildSmallVocab(words: readonly string[], mergesFile = standardMergesPath()): SmallVocab {
  const all = readMerges(mergesFile);
  const ranks = new Map<string, number>();
  all.forEach(([a, b], r) => {
    const k = a + ' ' + b;
    if (!ranks.has(k)) ranks.set(k, r);
  });
  const usedRanks = new Set<number>();
  for (const w of words) {
    if (!/^[a-z]+$/.test(w)) throw new Error(`buildSmallVocab: word ${JSON.stringify(w)} is not lower-case ASCII letters`);
    for (const r of bpeRanksUsed(w, ranks)) usedRanks.add(r);
  }
  const merges = [...usedRanks].sort((a, b) => a - b).map((r) => all[r]);
  const vocab: Record<string, number> = {};
  let id = 0;
  const symbols = byteSymbolsInVocabOrder();
  for (const sym of symbols) vocab[sym] = id++;
  for (const sym of symbols) vocab[sym + WORD_END] = id++;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = id++;
  vocab[START_OF_TEXT] = id++;
  vocab[END_OF_TEXT] = id++;
  return { vocab, merges };
}

/** Writes vocab.json and merges.txt (with the `#version` header CLIP's file has). */
export function writeSmallVocab(dir: string, v: SmallVocab): void {
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(v.vocab));
  writeFileSync(join(dir, 'merges.txt'), ['#version: 0.2', ...v.merges.map(([a, b]) => `${a} ${b}`)].join('\n') + '\n');
}
