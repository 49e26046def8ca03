/**
 * Hugging Face tokenizers runs a Split pre-tokenizer's regex with Oniguruma; JavaScript's RegExp
 * differs in a few places that matter for tokenizer patterns, so the pattern from tokenizer.json is
 * translated before it is compiled:
 * - `\s` in Oniguruma (Unicode) is \t\n\v\f\r, U+0085 and the Z categories; JavaScript's `\s`
 *   lacks U+0085 and adds U+FEFF. Both change how Qwen2's pattern splits text that holds them.
 * - `\d` and `\w` are Unicode-wide in Oniguruma, ASCII in JavaScript.
 * - `(?i:...)` (scoped case-insensitivity) is missing before ES2025: each letter inside becomes a
 *   class of its case variants, including the two non-ASCII letters that fold to ASCII ones
 *   (ſ U+017F folds to s, the Kelvin sign U+212A to k), so `(?i:'s)` still matches "'ſ" as HF does.
 * Anything else Oniguruma-only (possessive quantifiers, atomic groups, \A, \z, \b...) is refused.
 */

const SPACE = '\\t\\n\\v\\f\\r\\x85\\p{Zs}\\p{Zl}\\p{Zp}';
const DIGIT = '\\p{Nd}';
const WORD = '\\p{L}\\p{M}\\p{Nd}\\p{Pc}';
const CLASS_ESCAPES: Record<string, string> = { s: SPACE, d: DIGIT, w: WORD };
const FOLDS_TO: Record<string, string> = { s: '\u017f', k: '\u212a' };

/** Thrown with what is wrong; the caller names the file. */
export class PatternError extends Error {}

/** A case-insensitive letter as a class: 's' -> '[sSſ]'. */
function caseVariants(letter: string): string {
  const lower = letter.toLowerCase();
  return `[${lower}${lower.toUpperCase()}${FOLDS_TO[lower] ?? ''}]`;
}

/** `\s`, `\S`, `\d`... as JavaScript: a bare class body inside [...], a bracketed class outside. */
function classEscape(letter: string, inClass: boolean): string {
  const body = CLASS_ESCAPES[letter.toLowerCase()];
  const negated = letter !== letter.toLowerCase();
  if (!inClass) return negated ? `[^${body}]` : `[${body}]`;
  if (negated) throw new PatternError(`\\${letter} inside a character class is not supported`);
  return body;
}

/** Translates an Oniguruma pattern into a global, Unicode-mode JavaScript RegExp. */
export function onigToRegExp(source: string): RegExp {
  let out = '';
  let inClass = false;
  let ignoreCase = 0; // how many (?i:...) groups enclose the current position
  const groupIsCaseless: boolean[] = [];
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) throw new PatternError('the pattern ends with a lone backslash');
      i++;
      if ('sSdDwW'.includes(next)) out += classEscape(next, inClass);
      else if ('AzZGbBhHRXK'.includes(next)) throw new PatternError(`\\${next} has no JavaScript equivalent`);
      else if ((next === 'p' || next === 'P') && source[i + 1] === '{') {
        const close = source.indexOf('}', i);
        if (close < 0) throw new PatternError(`unterminated \\${next}{`);
        out += source.slice(i - 1, close + 1);
        i = close;
      } else if (next === 'x' || next === 'u') {
        // Copy the hex digits whole, so (?i:...) cannot turn \xAB into \x[aA][bB].
        const hex = (next === 'u' ? /^[0-9A-Fa-f]{4}/ : /^(\{[0-9A-Fa-f]+\}|[0-9A-Fa-f]{1,2})/).exec(
          source.slice(i + 1),
        )?.[0];
        if (hex === undefined) throw new PatternError(`malformed \\${next} escape`);
        out += hex.startsWith('{') ? `\\u${hex}` : `\\${next}${hex.padStart(next === 'x' ? 2 : 4, '0')}`;
        i += hex.length;
      } else out += ch + next;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      else if (ignoreCase > 0 && /[A-Za-z]/.test(ch))
        throw new PatternError('letters in a class inside (?i:...) are not supported');
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (source[i + 1] === '^') out += source[++i];
      continue;
    }
    if (ch === '(') {
      if (source.startsWith('(?i:', i)) {
        groupIsCaseless.push(true);
        ignoreCase++;
        out += '(?:';
        i += 3;
        continue;
      }
      const lookahead = source.slice(i + 1, i + 4);
      if (lookahead[0] === '?' && !/^\?(?::|=|!|<=|<!|<[A-Za-z])/.test(lookahead)) {
        throw new PatternError(`group '(${lookahead}...' has no JavaScript equivalent`);
      }
      groupIsCaseless.push(false);
      out += ch;
      continue;
    }
    if (ch === ')') {
      if (groupIsCaseless.pop() === true) ignoreCase--;
      out += ch;
      continue;
    }
    if ((ch === '+' || ch === '*' || ch === '?' || ch === '}') && source[i + 1] === '+') {
      throw new PatternError('possessive quantifiers have no JavaScript equivalent');
    }
    out += ignoreCase > 0 && /[A-Za-z]/.test(ch) ? caseVariants(ch) : ch;
  }
  try {
    return new RegExp(out, 'gu');
  } catch (error) {
    throw new PatternError(`translated to /${out}/u, which JavaScript rejects: ${(error as Error).message}`);
  }
}
