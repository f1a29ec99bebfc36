import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../src/tokenizer';
import { CASES_DIR, FIXTURES, REPO_ROOT, loadCases } from './tokenizer-fixtures';

const data = loadCases();
const caseVocabText = readFileSync(path.join(CASES_DIR, 'vocab.json'), 'utf8');
const caseMergesText = readFileSync(path.join(CASES_DIR, 'merges.txt'), 'utf8');
const tmpRoot = mkdtempSync(path.join(tmpdir(), 'ceb-tokenizer-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string>): string {
  const dir = path.join(tmpRoot, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

describe('standard (bundled) vocabulary', () => {
  const std = ClipTokenizer.standard();
  it('has 49,408 ids with BOS 49406 / EOS 49407', () => {
    expect(std.vocabSize).toBe(49408);
    expect(std.bosId).toBe(49406);
    expect(std.eosId).toBe(49407);
    expect(std.source.kind).toBe('bundled');
  });
  it('gives the externally published ids', () => {
    expect(std.encodeForModel('a photo of a cat').ids).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(std.encode('Hello, World! 123')).toEqual([3306, 267, 1002, 256, 272, 273, 274]);
  });
  it('decodes byte symbols that are not printable (id 188 = byte 0, OpenAI vocabulary order)', () => {
    // ids 0..187 are the printable Latin-1 bytes ('!'.. first), 188.. the others from byte 0.
    expect(std.decode([188, 257])).toBe('\u0000"');
  });
  it('round-trips simple captions exactly and shows readable pieces', () => {
    expect(std.decode(std.encode('A  photo of a CAT'))).toBe('a photo of a cat');
    expect(std.decode(std.encode('Hello, World!'))).toBe('hello , world !');
    const ids = std.encodeForModel('日本語 café').ids;
    // 日 and 本 are whole pieces; 語 (e8 aa 9e) is split into two byte pieces.
    expect(std.tokenStrings(ids)).toEqual(['<|startoftext|>', '日', '本', 'èª', 'ŀ', 'café', '<|endoftext|>']);
  });
});

describe('small CLIP vocabulary of the clip-tiny fixture', () => {
  const dir = path.resolve(REPO_ROOT, process.env.CLIP_FIXTURE_DIR ?? path.relative(REPO_ROOT, path.join(FIXTURES, 'clip-tiny')));
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
    text_config: { vocab_size: number; bos_token_id: number; eos_token_id: number };
  };
  const tiny = ClipTokenizer.fromModelDir(dir);
  const realVocab = JSON.parse(readFileSync(path.join(FIXTURES, 'tokenizer/vocab.json'), 'utf8')) as Record<string, number>;

  it('reads BOS/EOS from its vocabulary', () => {
    expect(tiny.bosId).toBe(config.text_config.bos_token_id);
    expect(tiny.eosId).toBe(config.text_config.eos_token_id);
    expect(tiny.vocabSize).toBeLessThanOrEqual(config.text_config.vocab_size);
  });

  it.each(data.cases.map((c) => [JSON.stringify(c.text).slice(0, 40), c.text]))('%s: ids fit the model, same bytes as the full vocabulary', (_n, text) => {
    const ids = tiny.encodeForModel(text, { truncate: true, padding: 'eos' }).ids;
    expect(ids[0]).toBe(config.text_config.bos_token_id);
    for (const id of ids) expect(id).toBeLessThan(config.text_config.vocab_size);
    // A cut merge list splits words into more pieces, but the pieces spell the same bytes ...
    expect(tiny.decode(tiny.encode(text))).toBe(ClipTokenizer.standard().decode(ClipTokenizer.standard().encode(text)));
    // ... and every piece keeps its id from the real vocabulary.
    const pieces = tiny.tokenize(text);
    tiny.encode(text).forEach((id, i) => {
      if (realVocab[pieces[i]] !== undefined && id !== tiny.eosId && id !== tiny.bosId) expect(id).toBe(realVocab[pieces[i]]);
    });
  });
});

describe('tokenizer.json-only model folder', () => {
  const vocab = JSON.parse(caseVocabText) as Record<string, number>;
  const merges = caseMergesText.split('\n').filter((l, i) => l !== '' && !(i === 0 && l.startsWith('#')));
  const half = Math.floor(merges.length / 2);
  // HF writes merges as "a b" strings (older) or ["a", "b"] pairs (newer); mix both.
  const mixedMerges = merges.map((m, i) => (i < half ? m : m.split(' ')));

  it('with specials in model.vocab gives the reference ids', () => {
    const dir = folder('hf-json', {
      'tokenizer.json': JSON.stringify({ model: { type: 'BPE', vocab, merges: mixedMerges, end_of_word_suffix: '</w>' } }),
    });
    const t = ClipTokenizer.fromModelDir(dir);
    expect(t.source).toEqual({ kind: 'tokenizer.json', path: path.join(dir, 'tokenizer.json') });
    expect([t.bosId, t.eosId]).toEqual([data.bos_token_id, data.eos_token_id]);
    for (const c of data.cases) expect(t.encode(c.text)).toEqual(c.ids);
  });

  it('with specials only in added_tokens gives the reference ids', () => {
    const { ['<|startoftext|>']: bos, ['<|endoftext|>']: eos, ...rest } = vocab;
    const dir = folder('hf-json-added', {
      'tokenizer.json': JSON.stringify({
        added_tokens: [{ id: bos, content: '<|startoftext|>' }, { id: eos, content: '<|endoftext|>' }],
        model: { type: 'BPE', vocab: rest, merges },
      }),
    });
    const t = ClipTokenizer.fromModelDir(dir);
    for (const c of data.cases) expect(t.encodeForModel(c.text, { truncate: true }).ids.slice(0, c.input_ids.length)).toEqual(
      c.fits_context ? c.input_ids : [data.bos_token_id, ...c.ids.slice(0, data.context_length - 2), data.eos_token_id],
    );
  });

  it('rejects a malformed merge entry, naming it', () => {
    const dir = folder('hf-json-bad', { 'tokenizer.json': JSON.stringify({ model: { type: 'BPE', vocab, merges: ['i n', ['t']] } }) });
    expect(() => ClipTokenizer.fromModelDir(dir)).toThrow(/model\.merges\[1\]/);
  });
});

describe('fallbacks and errors', () => {
  it('a folder without tokenizer files falls back to the bundled vocabulary and says so', () => {
    const dir = folder('empty', {});
    const t = ClipTokenizer.fromModelDir(dir);
    expect(t.source.kind).toBe('bundled');
    expect(t.source.kind === 'bundled' && t.source.reason).toContain(dir);
    expect(t.encode('a photo of a cat')).toEqual([320, 1125, 539, 320, 2368]);
  });
  it('a missing folder, or half a tokenizer, is an error', () => {
    expect(() => ClipTokenizer.fromModelDir(path.join(tmpRoot, 'nope'))).toThrow(/does not exist/);
    const dir = folder('vocab-only', { 'vocab.json': caseVocabText });
    expect(() => ClipTokenizer.fromModelDir(dir)).toThrow(/vocab\.json but no merges\.txt/);
  });
  it('names the bad line of merges.txt', () => {
    const dir = folder('bad-merges', { 'vocab.json': caseVocabText, 'merges.txt': '#version: 0.2\ni n\nthree parts here\n' });
    expect(() => ClipTokenizer.fromModelDir(dir)).toThrow(/merges\.txt line 3/);
  });
  it('rejects a merge whose result is not in the vocabulary', () => {
    const dir = folder('unknown-merge', { 'vocab.json': caseVocabText, 'merges.txt': '#version: 0.2\n\u0100 \u0100\n' });
    expect(() => ClipTokenizer.fromModelDir(dir)).toThrow('makes "ĀĀ", which is not in the vocabulary');
  });
  it('rejects a vocabulary without <|endoftext|> or with a non-integer id', () => {
    const vocab = JSON.parse(caseVocabText) as Record<string, number>;
    delete vocab['<|endoftext|>'];
    const dir = folder('no-eos', { 'vocab.json': JSON.stringify(vocab), 'merges.txt': caseMergesText });
    expect(() => ClipTokenizer.fromModelDir(dir)).toThrow(/no <\|endoftext\|> token/);
    const dir2 = folder('bad-id', { 'vocab.json': '{"a": "x"}', 'merges.txt': '' });
    expect(() => ClipTokenizer.fromModelDir(dir2)).toThrow(/token "a" has id "x"/);
    const dir3 = folder('bad-json', { 'vocab.json': '{', 'merges.txt': '' });
    expect(() => ClipTokenizer.fromModelDir(dir3)).toThrow(/not valid JSON/);
  });
  it('rejects unknown ids in decode and a context without room for BOS/EOS', () => {
    const t = ClipTokenizer.standard();
    expect(() => t.decode([320, 50000])).toThrow(/id 50000 is not in the vocabulary/);
    expect(() => t.encodeForModel('a', { contextLength: 1 })).toThrow(/contextLength/);
    // exactly full: 3 ids + BOS/EOS in a context of 5
    expect(t.encodeForModel('a b c', { contextLength: 5 })).toEqual({ ids: [49406, 320, 321, 322, 49407], length: 5, truncated: false });
    expect(() => t.encodeForModel('a b c d', { contextLength: 5 })).toThrow('caption has 4 tokens; the model\'s context is 5 (3 + BOS/EOS)');
  });
});
