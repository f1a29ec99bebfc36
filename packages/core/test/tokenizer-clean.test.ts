import { describe, expect, it } from 'vitest';
import { BYTE_TO_UNICODE, cleanCaption, htmlUnescape, UNICODE_TO_BYTE } from '../src/tokenizer';

// Expected values worked out from Python 3.11's html.unescape rules (and checked there).
describe('htmlUnescape (Python html.unescape)', () => {
  it.each([
    ['&amp;', '&'],
    ['&amp', '&'], // legacy name without ';'
    ['&ampxyz', '&xyz'], // longest known prefix, rest kept
    ['&notit;', '¬it;'],
    ['&notin;', '∉'],
    ['&eacute', 'é'],
    ['&Eacute;', 'É'],
    ['&LT', '<'],
    ['&copy2', '©2'],
    ['&unknown;', '&unknown;'],
    ['& amp;', '& amp;'],
    ['&#39;', "'"],
    ['&#x27;', "'"],
    ['&#X41', 'A'],
    ['&#65abc', 'Aabc'],
    ['&#x1F600;', '😀'],
    ['&#128;', '€'], // Windows-1252 remapping of C1 references
    ['&#x81;', '\x81'],
    ['&#0;', '\ufffd'],
    ['&#13;', '\r'],
    ['&#1;', ''], // invalid code points vanish
    ['&#x7f;', ''],
    ['&#xfdd0;', ''],
    ['&#x10FFFF;', ''],
    ['&#xD800;', '\ufffd'],
    ['&#x110000;', '\ufffd'],
    ['&#99999999999999999999;', '\ufffd'],
    ['&#x;', '&#x;'],
    ['&#38;amp;', '&amp;'], // one pass only
    ['a &lt;b&gt; c', 'a <b> c'],
  ])('%j → %j', (input, expected) => {
    expect(htmlUnescape(input)).toBe(expected);
  });
});

describe('cleanCaption (OpenAI basic_clean + whitespace_clean + lower)', () => {
  it.each([
    ['  Tom &amp;amp; JERRY\t\n ', 'tom & jerry'], // unescaped twice, stripped, lowercased
    ['a\u00a0b\u2003c\x1cd\u3000e\x85f', 'a b c d e f'], // Python's whitespace set, incl. \x1c and \x85
    ['tabs\tand\nnew\n\nlines   and    runs', 'tabs and new lines and runs'],
    ['e\u0301cole', '\u00e9cole'], // NFC (what ftfy does to ordinary text)
    ['&nbsp;x&nbsp;', 'x'], // the unescaped no-break spaces are stripped
    ['ΣΑΣ', 'σας'], // final sigma, as Python's str.lower
    ['', ''],
    ['   ', ''],
  ])('%j → %j', (input, expected) => {
    expect(cleanCaption(input)).toBe(expected);
  });
});

describe('byte-level alphabet', () => {
  it('maps printable Latin-1 to itself and the rest to U+0100.. in byte order', () => {
    expect(BYTE_TO_UNICODE[0x41]).toBe('A');
    expect(BYTE_TO_UNICODE[0x00]).toBe('\u0100');
    expect(BYTE_TO_UNICODE[0x0a]).toBe('Ċ');
    expect(BYTE_TO_UNICODE[0x20]).toBe('Ġ');
    expect(BYTE_TO_UNICODE[0x7f]).toBe('\u0121');
    expect(BYTE_TO_UNICODE[0xad]).toBe('Ń');
    expect(BYTE_TO_UNICODE[0xff]).toBe('ÿ');
    expect(new Set(BYTE_TO_UNICODE).size).toBe(256);
    for (let b = 0; b < 256; b++) expect(UNICODE_TO_BYTE.get(BYTE_TO_UNICODE[b])).toBe(b);
  });
});
