/**
 * Pre-tokenization: the text between added tokens is cut into pieces by regex, and BPE runs on each
 * piece alone. HF's Split with behavior "Isolated" keeps every match as a piece and every stretch
 * between matches as a piece too (Qwen2's pattern matches every character, so there are none).
 */

/** Qwen2's Split pattern, as Qwen's tokenizer.json writes it (Oniguruma syntax). */
export const QWEN2_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** `text` as a Unicode-mode regex that matches it literally (no identity escapes u-mode rejects, such as \-). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Appends to `out` the pieces of `text` split by `regex` (global, Unicode): matches and the gaps. */
export function splitIsolated(text: string, regex: RegExp, out: string[]): void {
  let last = 0;
  regex.lastIndex = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    const start = match.index;
    const end = start + match[0].length;
    if (end === start) {
      // An empty match cuts nothing; step over one code point so exec moves on.
      regex.lastIndex = start + ((text.codePointAt(start) ?? 0) > 0xffff ? 2 : 1);
      continue;
    }
    if (start > last) out.push(text.slice(last, start));
    out.push(match[0]);
    last = end;
  }
  if (last < text.length) out.push(text.slice(last));
}

/** Runs each split in turn over every piece of the previous one. */
export function preTokenize(text: string, splits: readonly RegExp[]): string[] {
  let pieces = [text];
  for (const regex of splits) {
    const next: string[] = [];
    for (const piece of pieces) splitIsolated(piece, regex, next);
    pieces = next;
  }
  return pieces;
}
