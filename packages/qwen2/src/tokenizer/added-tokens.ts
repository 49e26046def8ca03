/**
 * Added tokens (<|im_start|> and the like) are cut out of the text before anything else, so they
 * never reach normalization or BPE. This mirrors Hugging Face's AddedVocabulary: tokens with
 * `normalized: false` are matched in the raw text, the text between them is normalized, then tokens
 * with `normalized: true` are matched in that. Matching is leftmost-longest; `lstrip`/`rstrip`
 * swallow the whitespace beside a match, `single_word` drops matches inside a word, and with
 * special tokens disallowed a special token's match is dropped (its text is then ordinary text).
 */
import { escapeRegExp } from './pretokenize.js';

export interface AddedToken {
  readonly id: number;
  readonly content: string;
  /** Skipped by decode({ skipSpecial: true }); left as text by encode({ allowSpecial: false }). */
  readonly special: boolean;
  /** Matched in normalized text rather than raw text. */
  readonly normalized: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly singleWord: boolean;
}

/** A stretch of text: an added token's id, or text still to be tokenized (id -1). */
export interface Segment {
  readonly text: string;
  readonly id: number;
}

// HF tests these with Rust's regex crate: \s is White_Space, \w is the set below.
const SPACE = /^\p{White_Space}$/u;
const WORD = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;

/** The code point just before `index`, as a string ('' at the start). */
function charBefore(text: string, index: number): string {
  if (index === 0) return '';
  const low = text.charCodeAt(index - 1);
  const isPair =
    index >= 2 &&
    low >= 0xdc00 &&
    low <= 0xdfff &&
    text.charCodeAt(index - 2) >= 0xd800 &&
    text.charCodeAt(index - 2) <= 0xdbff;
  return text.slice(isPair ? index - 2 : index - 1, index);
}

/** The code point at `index`, as a string ('' at the end). */
function charAt(text: string, index: number): string {
  const code = text.codePointAt(index);
  return code === undefined ? '' : String.fromCodePoint(code);
}

/** Where the run of whitespace ending at `index` starts. */
function spacesStart(text: string, index: number): number {
  for (let char = charBefore(text, index); char !== '' && SPACE.test(char); char = charBefore(text, index))
    index -= char.length;
  return index;
}

/** Where the run of whitespace starting at `index` ends. */
function spacesEnd(text: string, index: number): number {
  for (let char = charAt(text, index); char !== '' && SPACE.test(char); char = charAt(text, index))
    index += char.length;
  return index;
}

/** Finds one set of added tokens (all raw, or all normalized) in text. */
export class AddedTokenMatcher {
  private readonly byContent = new Map<string, AddedToken>();
  private readonly regex: RegExp | undefined;

  constructor(tokens: readonly AddedToken[], normalize: (text: string) => string = (text) => text) {
    for (const token of tokens) this.byContent.set(normalize(token.content), token);
    // Longest first: among alternatives matching at one position the regex takes the first,
    // which makes it leftmost-longest like HF's Aho-Corasick matcher.
    const contents = [...this.byContent.keys()]
      .filter((content) => content.length > 0)
      .sort((a, b) => b.length - a.length);
    this.regex = contents.length > 0 ? new RegExp(contents.map(escapeRegExp).join('|'), 'gu') : undefined;
  }

  /** Appends to `out` the segments of `text`: matched tokens and the text between them. */
  split(text: string, allowSpecial: boolean, out: Segment[]): void {
    const regex = this.regex;
    if (regex === undefined || text.length === 0) {
      out.push({ text, id: -1 });
      return;
    }
    let last = 0;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
      const token = this.byContent.get(match[0]) as AddedToken;
      let start = match.index;
      let end = start + match[0].length;
      if (token.special && !allowSpecial) continue;
      if (token.singleWord && (WORD.test(charBefore(text, start)) || WORD.test(charAt(text, end)))) continue;
      if (token.lstrip) start = Math.max(last, spacesStart(text, start));
      if (token.rstrip) end = spacesEnd(text, end);
      if (start > last) out.push({ text: text.slice(last, start), id: -1 });
      out.push({ text: text.slice(start, end), id: token.id });
      last = end;
      regex.lastIndex = end;
    }
    if (last < text.length) out.push({ text: text.slice(last), id: -1 });
  }
}
