import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '@ceb/core';
import { allCaptions } from '@ceb/datasets';
import { buildSmallVocab, byteSymbolsInVocabOrder, writeSmallVocab } from '../src/vocab';
import { CLIP_FIXTURE_DIR } from './helpers';

const words = [...new Set(allCaptions().flatMap((c) => c.split(' ')))];

describe('small CLIP vocabulary', () => {
  it('orders the 256 byte symbols as CLIP does (the clip-tiny fixture vocabulary, exported by HF)', () => {
    const fixture = JSON.parse(readFileSync(join(CLIP_FIXTURE_DIR, 'vocab.json'), 'utf8')) as Record<string, number>;
    const order = byteSymbolsInVocabOrder();
    expect(order).toHaveLength(256);
    order.forEach((sym, i) => {
      expect(fixture[sym]).toBe(i);
      expect(fixture[sym + '</w>']).toBe(256 + i);
    });
  });

  it('tokenizes every caption exactly as the full CLIP vocabulary does (whole words but cyan), BOS/EOS the top ids', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vocab-'));
    const v = buildSmallVocab(words);
    writeSmallVocab(dir, v);
    const small = ClipTokenizer.fromModelDir(dir);
    const standard = ClipTokenizer.standard();
    expect(small.source.kind).toBe('files');
    const size = Object.keys(v.vocab).length;
    expect(small.bosId).toBe(size - 2);
    expect(small.eosId).toBe(size - 1);
    for (const caption of allCaptions()) {
      const pieces = small.tokenize(caption);
      expect(pieces).toEqual(standard.tokenize(caption));
      // Whole words, except "cyan", which CLIP's own merges split into "cy" + "an</w>".
      const expected = caption.split(' ').flatMap((w) => (w === 'cyan' ? ['cy', 'an</w>'] : [`${w}</w>`]));
      expect(pieces).toEqual(expected);
      const { ids } = small.encodeForModel(caption);
      expect(ids[0]).toBe(small.bosId);
      expect(ids[ids.length - 1]).toBe(small.eosId);
    }
    // Only merges the captions use: far fewer than the 48,894 of CLIP.
    expect(v.merges.length).toBeLessThan(100);
  });
});
