import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer, cleanCaption } from '../src/tokenizer';
import { CASES_DIR, CASES_PATH, loadCases } from './tokenizer-fixtures';

const data = loadCases();
const tok = ClipTokenizer.fromFiles(path.join(CASES_DIR, 'vocab.json'), path.join(CASES_DIR, 'merges.txt'));
const ctx = data.context_length;

describe(`CLIP tokenizer against ${CASES_PATH}`, () => {
  it('reads BOS/EOS from the vocabulary', () => {
    expect(tok.bosId).toBe(data.bos_token_id);
    expect(tok.eosId).toBe(data.eos_token_id);
    expect(data.cases.length).toBeGreaterThan(0);
  });

  describe.each(data.cases.map((c, i) => [i, JSON.stringify(c.text).slice(0, 50), c] as const))('case %i %s', (_i, _name, c) => {
    it('tokens, ids and input_ids', () => {
      expect(tok.tokenize(c.text)).toEqual(c.tokens);
      expect(tok.encode(c.text)).toEqual(c.ids);
      if (c.fits_context) {
        const r = tok.encodeForModel(c.text, { contextLength: ctx });
        expect(r.ids).toEqual(c.input_ids);
        expect(r.length).toBe(c.input_ids.length);
        expect(r.truncated).toBe(false);
      }
    });

    if (c.input_ids_77_pad_eos || c.input_ids_77_pad_zero) {
      it('padded / truncated forms', () => {
        const opts = { contextLength: ctx, truncate: !c.fits_context };
        if (c.input_ids_77_pad_eos) {
          expect(tok.encodeForModel(c.text, { ...opts, padding: 'eos' }).ids).toEqual(c.input_ids_77_pad_eos);
        }
        if (c.input_ids_77_pad_zero) {
          expect(tok.encodeForModel(c.text, { ...opts, padding: 'zero' }).ids).toEqual(c.input_ids_77_pad_zero);
        }
      });
    }

    if (!c.fits_context) {
      it('does not fit: throws by default, truncates to [BOS] + first ctx-2 ids + [EOS] on request', () => {
        expect(() => tok.encodeForModel(c.text, { contextLength: ctx })).toThrow(
          `caption has ${c.ids.length} tokens; the model's context is ${ctx} (${ctx - 2} + BOS/EOS); pass truncate to cut it`,
        );
        const r = tok.encodeForModel(c.text, { contextLength: ctx, truncate: true });
        expect(r.ids).toEqual([data.bos_token_id, ...c.ids.slice(0, ctx - 2), data.eos_token_id]);
        expect(r.length).toBe(ctx);
        expect(r.truncated).toBe(true);
      });
    }

    if (!c.text.includes('<|')) {
      it('decode of the reference ids gives the caption back (up to where spaces fall)', () => {
        const squash = (s: string) => s.replace(/\s+/g, '');
        const decoded = tok.decode(c.ids);
        // The cleaned caption (hand-checked in tokenizer-clean.test.ts); only whitespace may differ.
        const expected = squash(cleanCaption(c.text));
        expect(squash(decoded)).toBe(expected);
        expect(squash(tok.decode(tok.encode(c.text)))).toBe(expected);
      });
    }
  });
});
