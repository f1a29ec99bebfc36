/**
 * The GPT-2 / CLIP byte-level alphabet: every byte 0..255 gets one printable Unicode
 * character, so BPE can work on strings without whitespace or control characters.
 * Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other
 * 68 bytes get U+0100, U+0101, ... in byte order.
 */
function buildByteToUnicode(): string[] {
  const table: string[] = new Array(256);
  const isPrintable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = isPrintable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + next++);
  }
  return table;
}

/** byte value → its one-character symbol. */
export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

/** one-character symbol → byte value. */
export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(
  BYTE_TO_UNICODE.map((ch, b) => [ch, b] as [string, number]),
);

const utf8 = new TextEncoder();

/** UTF-8 bytes of `text`, each mapped to its byte symbol. */
export function toByteSymbols(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += BYTE_TO_UNICODE[b];
  return out;
}
