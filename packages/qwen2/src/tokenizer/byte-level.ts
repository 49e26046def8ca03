/**
 * GPT-2's byte-level alphabet: every byte 0..255 stands for one printable Unicode character, so
 * BPE works on strings without ever seeing a space or a control character. Printable Latin-1 bytes
 * stand for themselves; the other 68 (controls, space, 0x7F..0xA0, 0xAD) take U+0100 onwards in
 * byte order — which is why a space reads 'Ġ' (U+0120) and a newline 'Ċ' (U+010A).
 */
function buildByteToChar(): string[] {
  const chars: string[] = new Array(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    chars[byte] = String.fromCharCode(printable ? byte : next++);
  }
  return chars;
}

/** BYTE_TO_CHAR[b]: the one-character string byte b is written as. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** The inverse of BYTE_TO_CHAR, indexed by char code (all 256 lie below U+0144); -1 elsewhere. */
const CHAR_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(0x144).fill(-1);
  BYTE_TO_CHAR.forEach((char, byte) => (table[char.charCodeAt(0)] = byte));
  return table;
})();

/** The byte-level string of `text`'s UTF-8 bytes. Lone surrogates count as U+FFFD, as TextEncoder does. */
export function toByteLevel(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      out += BYTE_TO_CHAR[code];
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const low = text.charCodeAt(i + 1);
      if (code <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else {
        code = 0xfffd;
      }
    }
    if (code < 0x800) {
      out += BYTE_TO_CHAR[0xc0 | (code >> 6)] + BYTE_TO_CHAR[0x80 | (code & 0x3f)];
    } else if (code < 0x10000) {
      out +=
        BYTE_TO_CHAR[0xe0 | (code >> 12)] +
        BYTE_TO_CHAR[0x80 | ((code >> 6) & 0x3f)] +
        BYTE_TO_CHAR[0x80 | (code & 0x3f)];
    } else {
      out +=
        BYTE_TO_CHAR[0xf0 | (code >> 18)] +
        BYTE_TO_CHAR[0x80 | ((code >> 12) & 0x3f)] +
        BYTE_TO_CHAR[0x80 | ((code >> 6) & 0x3f)] +
        BYTE_TO_CHAR[0x80 | (code & 0x3f)];
    }
  }
  return out;
}

/**
 * The bytes a token stands for. As Hugging Face's ByteLevel decoder does, a token holding any
 * character outside the byte-level alphabet (an added token such as "<|im start|>" with a space)
 * stands for its own UTF-8 bytes instead.
 */
export function tokenBytes(token: string): Uint8Array {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const byte = code < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[code] : -1;
    if (byte < 0) return new TextEncoder().encode(token);
    bytes[i] = byte;
  }
  return bytes;
}
