import { decodeHTML } from 'entities';

/**
 * HTML character-reference decoding with the exact behaviour of Python's `html.unescape`
 * (which OpenAI's CLIP tokenizer runs twice on every caption).
 *
 * One pass over the text with Python's pattern: `&` followed by a decimal reference, a hex
 * reference, or up to 32 name characters, each with an optional `;`. Named references go to
 * the `entities` package, whose legacy decoding (names such as `&amp` or `&eacute` without a
 * semicolon, longest-prefix match as in `&notit;` → `¬it;`) agrees with Python's; numeric
 * references are decoded here because Python drops some code points that `entities` keeps.
 */
const REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Python's `html._invalid_charrefs`: NUL, CR and the Windows-1252 C1 remapping. */
const INVALID_CHARREFS: ReadonlyMap<number, string> = new Map([
  [0x00, '\ufffd'], [0x0d, '\r'],
  [0x80, '\u20ac'], [0x81, '\x81'], [0x82, '\u201a'], [0x83, '\u0192'], [0x84, '\u201e'],
  [0x85, '\u2026'], [0x86, '\u2020'], [0x87, '\u2021'], [0x88, '\u02c6'], [0x89, '\u2030'],
  [0x8a, '\u0160'], [0x8b, '\u2039'], [0x8c, '\u0152'], [0x8d, '\x8d'], [0x8e, '\u017d'],
  [0x8f, '\x8f'], [0x90, '\x90'], [0x91, '\u2018'], [0x92, '\u2019'], [0x93, '\u201c'],
  [0x94, '\u201d'], [0x95, '\u2022'], [0x96, '\u2013'], [0x97, '\u2014'], [0x98, '\u02dc'],
  [0x99, '\u2122'], [0x9a, '\u0161'], [0x9b, '\u203a'], [0x9c, '\u0153'], [0x9d, '\x9d'],
  [0x9e, '\u017e'], [0x9f, '\u0178'],
]);

/** Python's `html._invalid_codepoints`: references to these decode to nothing. */
function isInvalidCodePoint(cp: number): boolean {
  if ((cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f)) return true;
  if (cp >= 0x7f && cp <= 0x9f) return true;
  if (cp >= 0xfdd0 && cp <= 0xfdef) return true;
  // U+xFFFE and U+xFFFF of every plane
  return (cp & 0xfffe) === 0xfffe && cp <= 0x10ffff;
}

function decodeNumeric(ref: string): string {
  const hex = ref[1] === 'x' || ref[1] === 'X';
  const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
  // Very long digit strings overflow to a huge float or Infinity, which is still > 0x10FFFF.
  const cp = hex ? parseInt(digits, 16) : parseInt(digits, 10);
  const mapped = INVALID_CHARREFS.get(cp);
  if (mapped !== undefined) return mapped;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return '\ufffd';
  if (isInvalidCodePoint(cp)) return '';
  return String.fromCodePoint(cp);
}

/** `html.unescape(text)` of Python 3.11. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (whole: string, ref: string) =>
    ref[0] === '#' ? decodeNumeric(ref) : decodeHTML(whole),
  );
}
