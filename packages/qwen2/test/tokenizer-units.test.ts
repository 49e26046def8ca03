/**
 * The tokenizer's parts on small inputs: the byte-level alphabet, the Oniguruma-to-JS regex
 * translation, BPE merging against a plain reference, added-token matching, streaming decode.
 * Parity with Hugging Face on the real vocabulary is in tokenizer-parity.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Bpe } from '../src/tokenizer/bpe.js';
import { BYTE_TO_CHAR, toByteLevel, tokenBytes } from '../src/tokenizer/byte-level.js';
import { Tokenizer, TokenizerError } from '../src/tokenizer/index.js';
import { onigToRegExp, PatternError } from '../src/tokenizer/onig-regex.js';
import { preTokenize, QWEN2_SPLIT_PATTERN } from '../src/tokenizer/pretokenize.js';

/** A tokenizer.json with the 256 byte symbols (ids 0..255), `merges` after them, and `added` after those. */
function tinyTokenizerJson(merges: [string, string][], added: { content: string; special?: boolean }[] = []): string {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((char, byte) => (vocab[char] = byte));
  for (const [left, right] of merges) vocab[left + right] ??= Object.keys(vocab).length;
  const size = Object.keys(vocab).length;
  return JSON.stringify({
    version: '1.0',
    added_tokens: added.map(({ content, special = true }, i) => ({
      id: size + i,
      content,
      special,
      normalized: false,
      lstrip: false,
      rstrip: false,
      single_word: false,
    })),
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  });
}

const tiny = (merges: [string, string][] = [], added: { content: string; special?: boolean }[] = []): Tokenizer =>
  Tokenizer.fromFiles({ 'tokenizer.json': tinyTokenizerJson(merges, added) });

describe('byte-level alphabet', () => {
  it('gives each byte its own printable character, GPT-2 style', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR.every((char) => char.length === 1 && /\S/u.test(char))).toBe(true);
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x61]).toBe('a');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń');
  });

  it('maps text to UTF-8 bytes and back', () => {
    expect(toByteLevel('é')).toBe('Ã©');
    expect(toByteLevel(' 😀')).toBe('ĠðŁĺĢ');
    // A lone surrogate counts as U+FFFD, as TextEncoder has it.
    expect(toByteLevel('a\ud83d')).toBe(toByteLevel('a\ufffd'));
    const all = Uint8Array.from({ length: 256 }, (_, byte) => byte);
    expect(tokenBytes(BYTE_TO_CHAR.join(''))).toEqual(all);
    // A token with characters outside the alphabet (an added token) stands for its own UTF-8.
    expect(tokenBytes('<|im start|>')).toEqual(new TextEncoder().encode('<|im start|>'));
  });
});

describe('Oniguruma pattern translation', () => {
  const split = (text: string): string[] => preTokenize(text, [onigToRegExp(QWEN2_SPLIT_PATTERN)]);

  it("expands Qwen2's (?i:...) and spells \\s the way Oniguruma reads it", () => {
    const space = '\\t\\n\\v\\f\\r\\x85\\p{Zs}\\p{Zl}\\p{Zp}';
    expect(onigToRegExp(QWEN2_SPLIT_PATTERN).source).toBe(
      "(?:'[sSſ]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?" +
        `[^${space}\\p{L}\\p{N}]+[\\r\\n]*|[${space}]*[\\r\\n]+|[${space}]+(?![^${space}])|[${space}]+`,
    );
  });

  it('splits as HF tokenizers does (outputs taken from tokenizers 0.23)', () => {
    expect(split("DON'T We'LL")).toEqual(['DON', "'T", ' We', "'LL"]);
    expect(split("'ſa")).toEqual(["'ſ", 'a']);
    expect(split('1\ufeff\ufeff.')).toEqual(['1', '\ufeff\ufeff.']);
    expect(split('1\x85\x85.')).toEqual(['1', '\x85', '\x85', '.']);
    expect(split('a  b\n\n  c')).toEqual(['a', ' ', ' b', '\n\n', ' ', ' c']);
    expect(split('x2024')).toEqual(['x', '2', '0', '2', '4']);
  });

  it('translates \\d, \\w and hex escapes, and keeps lookarounds', () => {
    expect(onigToRegExp('\\d+').test('٣')).toBe(true);
    expect(onigToRegExp('(?i:\\x41b)').source).toBe('(?:\\x41[bB])');
    expect(onigToRegExp('\\x{1F600}').test('😀')).toBe(true);
    expect(onigToRegExp('a(?=b)(?<!c)').source).toBe('a(?=b)(?<!c)');
  });

  it.each([
    ['a++', /possessive/],
    ['\\bword', /\\b has no JavaScript equivalent/],
    ['(?>atomic)', /group '\(\?>a\.\.\.' has no JavaScript equivalent/],
    ['(?i)abc', /group '\(\?i\)\.\.\.' has no JavaScript equivalent/],
    ['[^\\S]', /\\S inside a character class/],
    ['(?i:[a-z])', /letters in a class inside \(\?i:\.\.\.\)/],
    ['(unclosed', /JavaScript rejects/],
  ])('refuses %s', (pattern, message) => {
    expect(() => onigToRegExp(pattern)).toThrow(PatternError);
    expect(() => onigToRegExp(pattern)).toThrow(message);
  });
});

/** BPE the slow, obvious way: find the lowest-ranked adjacent pair (leftmost on ties), merge, repeat. */
function referenceBpe(word: string, merges: [string, string][]): string[] {
  const rank = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const symbols = [...word];
  while (true) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const r = rank.get(`${symbols[i]} ${symbols[i + 1]}`) ?? Infinity;
      if (r < bestRank) [best, bestRank] = [i, r];
    }
    if (best < 0) return symbols;
    symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
  }
}

describe('BPE', () => {
  function bpeOf(merges: [string, string][], ignoreMerges = false): { bpe: Bpe; vocab: Map<string, number> } {
    const vocab = new Map(BYTE_TO_CHAR.map((char, byte) => [char, byte]));
    for (const [a, b] of merges) if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
    return { bpe: new Bpe(vocab, merges, ignoreMerges), vocab };
  }
  const tokensOf = (ids: readonly number[], vocab: Map<string, number>): string[] => {
    const byId = new Map([...vocab].map(([token, id]) => [id, token]));
    return ids.map((id) => byId.get(id) as string);
  };

  it('merges the leftmost pair first when ranks tie', () => {
    const { bpe, vocab } = bpeOf([['a', 'a']]);
    expect(tokensOf(bpe.encode('aaa'), vocab)).toEqual(['aa', 'a']);
    expect(tokensOf(bpe.encode('aaaaa'), vocab)).toEqual(['aa', 'aa', 'a']);
  });

  it('agrees with the reference on random words over random merges, long words included', () => {
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const tokens = ['a', 'b', 'c', 'd'];
    const merges: [string, string][] = [];
    const seen = new Set<string>();
    while (merges.length < 120) {
      const [a, b] = [tokens[random(tokens.length)], tokens[random(tokens.length)]];
      if (seen.has(`${a} ${b}`) || (a + b).length > 12) continue;
      seen.add(`${a} ${b}`);
      merges.push([a, b]);
      if (!tokens.includes(a + b)) tokens.push(a + b);
    }
    const { bpe, vocab } = bpeOf(merges);
    for (let trial = 0; trial < 300; trial++) {
      const length = trial < 295 ? 1 + random(40) : 1000;
      const word = Array.from({ length }, () => 'abcd'[random(4)]).join('');
      expect(tokensOf(bpe.encode(word), vocab)).toEqual(referenceBpe(word, merges));
    }
  });

  it('takes a whole word from the vocabulary with ignore_merges', () => {
    const merges: [string, string][] = [
      ['a', 'b'],
      ['b', 'c'],
      ['a', 'bc'],
    ];
    expect(tokensOf(bpeOf(merges).bpe.encode('abc'), bpeOf(merges).vocab)).toEqual(['ab', 'c']);
    expect(tokensOf(bpeOf(merges, true).bpe.encode('abc'), bpeOf(merges).vocab)).toEqual(['abc']);
  });
});

describe('Tokenizer on a small vocabulary', () => {
  const merges: [string, string][] = [
    ['Ġ', 't'],
    ['h', 'e'],
    ['Ġt', 'he'],
    ['l', 'l'],
    ['he', 'll'],
    ['hell', 'o'],
  ];

  it('encodes with merges, and encodes nothing as nothing', () => {
    const tokenizer = tiny(merges);
    expect(tokenizer.encode('hello the').map((id) => tokenizer.idToToken(id))).toEqual(['hello', 'Ġthe']);
    expect(tokenizer.encode('')).toEqual([]);
    expect(tokenizer.decode([])).toBe('');
    expect(tokenizer.vocabSize).toBe(256 + merges.length);
    expect(tokenizer.tokenToId('Ġthe')).toBe(258);
    expect(tokenizer.tokenToId('nope')).toBeUndefined();
    expect(tokenizer.idToToken(-1)).toBeUndefined();
    expect(tokenizer.idToToken(1.5)).toBeUndefined();
  });

  it('matches added tokens leftmost-longest, and as text when special tokens are not allowed', () => {
    const tokenizer = tiny([], [{ content: '<|x|>' }, { content: '<|x|>y' }, { content: '[plain]', special: false }]);
    const [x, xy, plain] = [256, 257, 258];
    expect(tokenizer.encode('a<|x|>y<|x|>')).toEqual([0x61, xy, x]);
    // Special tokens become text; a non-special added token is still matched.
    const asText = tokenizer.encode('<|x|>[plain]', { allowSpecial: false });
    expect(asText.slice(-1)).toEqual([plain]);
    expect(tokenizer.decode(asText)).toBe('<|x|>[plain]');
    expect(tokenizer.decode([x, 0x61, plain], { skipSpecial: true })).toBe('a[plain]');
  });

  it('matches added tokens holding regex syntax literally', () => {
    const contents = ['<fim-pre>', 'a.b', '(x|y)*', '[\\d]', '{1,2}', '$^', 'a/b'];
    const tokenizer = tiny(
      [],
      contents.map((content) => ({ content })),
    );
    expect(tokenizer.encode(contents.join(''))).toEqual(contents.map((_, i) => 256 + i));
    expect(tokenizer.encode('axb')).toEqual([0x61, 0x78, 0x62]);
  });

  it('normalizes to NFC and keeps a leading BOM', () => {
    const tokenizer = tiny();
    expect(tokenizer.decode(tokenizer.encode('cafe\u0301'))).toBe('caf\u00e9');
    expect(tokenizer.decode(tokenizer.encode('\ufeffx'))).toBe('\ufeffx');
    expect(tokenizer.encode('a\ud83d')).toEqual(tokenizer.encode('a\ufffd'));
  });

  it('builds from a spec made in code, checked like files', () => {
    const vocab = new Map(BYTE_TO_CHAR.map((char, byte) => [char, byte]));
    const spec = { vocab, merges: [], ignoreMerges: false, addedTokens: [], normalization: [], splits: [] };
    expect(Tokenizer.fromSpec(spec).encode('hi')).toEqual([0x68, 0x69]);
    expect(() => Tokenizer.fromSpec({ ...spec, merges: [['h', 'x!'] as const] })).toThrow(TokenizerError);
  });
});

describe('stream decoding', () => {
  const tokenizer = tiny([], [{ content: '<|end|>' }]);
  const end = 256;

  it('holds back the bytes of a character until it is complete', () => {
    const ids = tokenizer.encode('😀é');
    expect(ids).toHaveLength(6);
    const stream = tokenizer.createStreamDecoder();
    expect(ids.map((id) => stream.push(id))).toEqual(['', '', '', '😀', '', 'é']);
    expect(stream.flush()).toBe('');
  });

  it('turns bytes that cannot complete into U+FFFD where decode() does', () => {
    const stream = tokenizer.createStreamDecoder();
    // 0xF0 0x9F then 'A': the broken sequence is one U+FFFD, then A.
    expect([0xf0, 0x9f, 0x41].map((id) => stream.push(id)).join('')).toBe(tokenizer.decode([0xf0, 0x9f, 0x41]));
    expect(stream.push(0xf0)).toBe('');
    expect(stream.flush()).toBe('\ufffd');
    // After flush the decoder starts a fresh stream.
    expect(stream.push(0x41)).toBe('A');
  });

  it('skips special tokens when asked, and keeps a leading BOM', () => {
    const ids = [...tokenizer.encode('\ufeffhi'), end];
    const keep = tokenizer.createStreamDecoder();
    const skip = tokenizer.createStreamDecoder({ skipSpecial: true });
    expect(ids.map((id) => keep.push(id)).join('') + keep.flush()).toBe('\ufeffhi<|end|>');
    expect(ids.map((id) => skip.push(id)).join('') + skip.flush()).toBe('\ufeffhi');
  });

  it('throws a TokenizerError for an unknown id', () => {
    expect(() => tokenizer.createStreamDecoder().push(end + 1)).toThrow(TokenizerError);
  });
});
